//! ECDSA signatures over 32-byte digests, as Agora's contracts accept them: 65 bytes `r || s || v`,
//! `v` 27 or 28 (0 or 1 accepted too), and a low `s` — OpenZeppelin's `ECDSA` refuses the high-s
//! twin of a signature, so this does too. One place for every off-chain check of a signature the
//! contracts will see (channel vouchers, data-market ACKs, protocol messages). Recovery goes through
//! libsecp256k1, about three times faster than the pure-Rust curve alloy signs with.

use std::sync::LazyLock;

use alloy::primitives::{Address, B256, U256, keccak256};
use secp256k1::ecdsa::{RecoverableSignature, RecoveryId};
use secp256k1::{Message, Secp256k1, VerifyOnly};

/// Half the secp256k1 group order: a signature with a larger `s` is a malleated copy.
const HALF_ORDER: U256 =
    U256::from_be_bytes(alloy::primitives::hex!("7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0"));

static SECP: LazyLock<Secp256k1<VerifyOnly>> = LazyLock::new(Secp256k1::verification_only);

/// Why a signature cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// Not 65 bytes `r || s || v`.
    #[error("signature must be 65 bytes, got {0}")]
    Length(usize),
    /// `s` in the upper half of the group order: a malleated copy, refused as the contracts do.
    #[error("signature has a high s value (malleated)")]
    HighS,
    /// `v` is none of 0, 1, 27, 28.
    #[error("signature has an invalid recovery byte {0}")]
    RecoveryByte(u8),
    /// No public key recovers from it.
    #[error("signature does not recover to a public key")]
    Unrecoverable,
}

/// The address whose key signed `digest` as it is (no prefix added), or why `signature` is unusable.
pub fn recover(digest: B256, signature: &[u8]) -> Result<Address, SignatureError> {
    let sig: &[u8; 65] = signature.try_into().map_err(|_| SignatureError::Length(signature.len()))?;
    if U256::from_be_slice(&sig[32..64]) > HALF_ORDER {
        return Err(SignatureError::HighS);
    }
    let v = sig[64];
    let id = match v {
        27 | 28 => RecoveryId::try_from(i32::from(v - 27)),
        0 | 1 => RecoveryId::try_from(i32::from(v)),
        _ => return Err(SignatureError::RecoveryByte(v)),
    }
    .map_err(|_| SignatureError::RecoveryByte(v))?;
    let rs = RecoverableSignature::from_compact(&sig[..64], id).map_err(|_| SignatureError::Unrecoverable)?;
    let key = SECP.recover_ecdsa(Message::from_digest(digest.0), &rs).map_err(|_| SignatureError::Unrecoverable)?;
    let uncompressed = key.serialize_uncompressed();
    Ok(Address::from_slice(&keccak256(&uncompressed[1..])[12..]))
}

#[cfg(test)]
mod tests {
    use alloy::signers::SignerSync;
    use alloy::signers::local::PrivateKeySigner;

    use super::*;

    #[test]
    fn a_signature_recovers_to_its_signer_and_malleated_or_malformed_ones_are_refused() {
        let key = PrivateKeySigner::random();
        let digest = keccak256(b"agora");
        let sig = key.sign_hash_sync(&digest).expect("signs").as_bytes();
        assert_eq!(recover(digest, &sig), Ok(key.address()));
        let mut zero_one = sig;
        zero_one[64] -= 27;
        assert_eq!(recover(digest, &zero_one), Ok(key.address()), "v as 0/1");
        assert_ne!(recover(keccak256(b"other"), &sig), Ok(key.address()));

        // The high-s twin: s' = n - s, v flipped.
        let n = HALF_ORDER * U256::from(2) + U256::from(1);
        let mut high = sig;
        high[32..64].copy_from_slice(&(n - U256::from_be_slice(&sig[32..64])).to_be_bytes::<32>());
        high[64] = if sig[64] == 27 { 28 } else { 27 };
        assert_eq!(recover(digest, &high), Err(SignatureError::HighS));
        assert_eq!(recover(digest, &sig[..64]), Err(SignatureError::Length(64)));
        let mut bad_v = sig;
        bad_v[64] = 29;
        assert_eq!(recover(digest, &bad_v), Err(SignatureError::RecoveryByte(29)));
    }
}
