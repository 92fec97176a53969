//! What a worker signs besides its transactions: the pool owner's authorization for the worker
//! to contribute to a task, and the "enclave" signature TEE-tagged deals require (see the
//! module docs: a key derived from the worker's, not an attested enclave).

use alloy::primitives::{Address, B256, Bytes, keccak256};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;

use crate::Result;

/// EIP-191 signature of `keccak256(abi.encodePacked(parts…))`, as PoCo's
/// `_verifySignatureOfEthSignedMessage` checks it.
fn personal_sign(signer: &PrivateKeySigner, parts: &[&[u8]]) -> Result<Bytes> {
    let hash = keccak256(parts.concat());
    let sig = signer.sign_message_sync(hash.as_slice())?;
    Ok(Bytes::from(sig.as_bytes().to_vec()))
}

/// The pool owner's authorization for `worker` to contribute to `task_id` with `enclave`.
pub(super) fn authorization_signature(
    owner: &PrivateKeySigner,
    worker: Address,
    task_id: B256,
    enclave: Address,
) -> Result<Bytes> {
    personal_sign(owner, &[worker.as_slice(), task_id.as_slice(), enclave.as_slice()])
}

/// The enclave key of `worker` for `task_id`: derived from the worker's key, so a worker that
/// restarts signs with the same one.
pub(super) fn enclave_key(worker: &PrivateKeySigner, task_id: B256) -> Result<PrivateKeySigner> {
    let mut seed = keccak256([worker.to_bytes().as_slice(), task_id.as_slice(), b"agora-enclave"].concat());
    loop {
        match PrivateKeySigner::from_bytes(&seed) {
            Ok(k) => return Ok(k),
            // Not a valid scalar (probability ~2^-128): hash again.
            Err(_) => seed = keccak256(seed),
        }
    }
}

/// The enclave's signature over `keccak256(resultHash, resultSeal)` for `digest`.
pub(super) fn enclave_signature(
    enclave: &PrivateKeySigner,
    worker: Address,
    task_id: B256,
    digest: B256,
) -> Result<Bytes> {
    let result_hash = keccak256([task_id.as_slice(), digest.as_slice()].concat());
    let result_seal = keccak256([worker.as_slice(), task_id.as_slice(), digest.as_slice()].concat());
    personal_sign(enclave, &[result_hash.as_slice(), result_seal.as_slice()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_recover_to_their_signers() {
        let owner = PrivateKeySigner::random();
        let worker = PrivateKeySigner::random();
        let task = B256::repeat_byte(7);
        let enclave = enclave_key(&worker, task).unwrap();
        assert_eq!(enclave.address(), enclave_key(&worker, task).unwrap().address(), "stable across restarts");
        assert_ne!(enclave.address(), enclave_key(&worker, B256::repeat_byte(8)).unwrap().address());
        let auth = authorization_signature(&owner, worker.address(), task, enclave.address()).unwrap();
        let hash = keccak256([worker.address().as_slice(), task.as_slice(), enclave.address().as_slice()].concat());
        let sig = alloy::primitives::Signature::try_from(auth.as_ref()).unwrap();
        assert_eq!(sig.recover_address_from_msg(hash.as_slice()).unwrap(), owner.address());
    }
}
