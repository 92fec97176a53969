//! What binds the protocol to the `DataMarket` contract: the order id, the ACK (an EIP-712 voucher
//! the contract settles with), and the signatures themselves (65 bytes `r || s || v`, low `s`).

use alloy::primitives::{Address, B256, U256, eip191_hash_message, keccak256};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{Eip712Domain, SolStruct, SolValue};

use crate::error::{Error, Result};

alloy::sol! {
    /// The buyer's cumulative voucher: `received` bytes of order `orderId` received and verified.
    #[derive(Debug, PartialEq, Eq)]
    struct Ack {
        bytes32 orderId;
        uint64 received;
    }
}

/// The EIP-712 domain's name, as `DataMarket` declares it.
pub const DOMAIN_NAME: &str = "Agora DataMarket";
/// The EIP-712 domain's version, as `DataMarket` declares it.
pub const DOMAIN_VERSION: &str = "1";

pub use agora_chain::signature::{SignatureError, recover};

/// The `DataMarket` deployment a session is about: every order id and every ACK names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarketRef {
    /// The chain id.
    pub chain_id: u64,
    /// The `DataMarket` contract's address.
    pub address: Address,
}

impl MarketRef {
    /// The EIP-712 domain ACKs are signed under.
    pub fn domain(&self) -> Eip712Domain {
        Eip712Domain::new(
            Some(DOMAIN_NAME.into()),
            Some(DOMAIN_VERSION.into()),
            Some(U256::from(self.chain_id)),
            Some(self.address),
            None,
        )
    }

    /// `keccak256(abi.encode(chainId, dataMarket, buyer, seller, uint64 startedFrom, uint256 nonce))`.
    pub fn order_id(&self, buyer: Address, seller: Address, started_from: u64, nonce: U256) -> B256 {
        keccak256((U256::from(self.chain_id), self.address, buyer, seller, started_from, nonce).abi_encode())
    }

    /// The digest an ACK signer signs for `received` bytes of `order_id` (`hashTypedData` in viem).
    pub fn ack_digest(&self, order_id: B256, received: u64) -> B256 {
        Ack { orderId: order_id, received }.eip712_signing_hash(&self.domain())
    }

    /// Signs an ACK.
    pub fn sign_ack(&self, key: &PrivateKeySigner, order_id: B256, received: u64) -> Result<[u8; 65]> {
        sign_hash(key, self.ack_digest(order_id, received))
    }

    /// Who signed an ACK.
    pub fn recover_ack(&self, order_id: B256, received: u64, signature: &[u8]) -> Result<Address, SignatureError> {
        recover(self.ack_digest(order_id, received), signature)
    }
}

/// Signs a 32-byte digest as it is (no prefix): 65 bytes, `v` 27 or 28, low `s`.
pub fn sign_hash(key: &PrivateKeySigner, digest: B256) -> Result<[u8; 65]> {
    key.sign_hash_sync(&digest).map(|s| s.as_bytes()).map_err(|e| Error::Signing(e.to_string()))
}

/// EIP-191 `personal_sign` of a 32-byte digest: the signature over
/// `keccak256("\x19Ethereum Signed Message:\n32" || digest)`, what a wallet's `signMessage` with
/// the digest's raw bytes returns.
pub fn personal_sign(key: &PrivateKeySigner, digest: B256) -> Result<[u8; 65]> {
    sign_hash(key, eip191_hash_message(digest))
}

/// Who `personal_sign`ed `digest`.
pub fn recover_personal(digest: B256, signature: &[u8]) -> Result<Address, SignatureError> {
    recover(eip191_hash_message(digest), signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn market() -> MarketRef {
        MarketRef { chain_id: 31337, address: Address::repeat_byte(0xdd) }
    }

    #[test]
    fn an_ack_recovers_to_its_signer_and_binds_every_field() -> Result<()> {
        let key = PrivateKeySigner::random();
        let id = B256::repeat_byte(7);
        let sig = market().sign_ack(&key, id, 1 << 20)?;
        assert_eq!(market().recover_ack(id, 1 << 20, &sig), Ok(key.address()));
        assert_ne!(market().recover_ack(id, 1 << 21, &sig), Ok(key.address()), "received is signed");
        assert_ne!(market().recover_ack(B256::ZERO, 1 << 20, &sig), Ok(key.address()), "order is signed");
        let other = MarketRef { chain_id: 1, ..market() };
        assert_ne!(other.recover_ack(id, 1 << 20, &sig), Ok(key.address()), "chain id is signed");
        Ok(())
    }

    #[test]
    fn malleated_and_malformed_signatures_are_refused() -> Result<()> {
        let key = PrivateKeySigner::random();
        let digest = B256::repeat_byte(3);
        let mut sig = personal_sign(&key, digest)?;
        assert_eq!(recover_personal(digest, &sig), Ok(key.address()));
        let n = U256::from_be_bytes(alloy::primitives::hex!(
            "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"
        ));
        let s = U256::from_be_slice(&sig[32..64]);
        sig[32..64].copy_from_slice(&(n - s).to_be_bytes::<32>());
        sig[64] = if sig[64] == 27 { 28 } else { 27 };
        assert_eq!(recover_personal(digest, &sig), Err(SignatureError::HighS));
        assert_eq!(recover_personal(digest, &sig[..64]), Err(SignatureError::Length(64)));
        let mut bad_v = personal_sign(&key, digest)?;
        bad_v[64] = 29;
        assert_eq!(recover_personal(digest, &bad_v), Err(SignatureError::RecoveryByte(29)));
        Ok(())
    }

    #[test]
    fn the_order_id_commits_to_every_field() {
        let m = market();
        let (b, s) = (Address::repeat_byte(1), Address::repeat_byte(2));
        let id = m.order_id(b, s, 100, U256::from(5));
        assert_ne!(id, m.order_id(s, b, 100, U256::from(5)));
        assert_ne!(id, m.order_id(b, s, 101, U256::from(5)));
        assert_ne!(id, m.order_id(b, s, 100, U256::from(6)));
        assert_ne!(id, MarketRef { chain_id: 1, ..m }.order_id(b, s, 100, U256::from(5)));
        // abi.encode of six static words, hashed.
        let mut words = Vec::new();
        for w in [U256::from(31337), U256::from_be_slice(Address::repeat_byte(0xdd).as_slice())] {
            words.extend_from_slice(&w.to_be_bytes::<32>());
        }
        for a in [b, s] {
            words.extend_from_slice(&[0u8; 12]);
            words.extend_from_slice(a.as_slice());
        }
        words.extend_from_slice(&U256::from(100).to_be_bytes::<32>());
        words.extend_from_slice(&U256::from(5).to_be_bytes::<32>());
        assert_eq!(id, keccak256(&words));
    }
}
