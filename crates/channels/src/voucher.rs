//! EIP-712 vouchers: `Voucher(bytes32 channelId,uint256 cumulativeAmount)` under the domain
//! `{name: "Agora PaymentChannel", version: "1", chainId, verifyingContract}`.

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{Eip712Domain, SolStruct, SolValue};

alloy::sol! {
    /// The typed data the channel's signer signs.
    #[derive(Debug, PartialEq, Eq)]
    struct Voucher {
        bytes32 channelId;
        uint256 cumulativeAmount;
    }
}

/// The EIP-712 domain's name, as the contract declares it.
pub const DOMAIN_NAME: &str = "Agora PaymentChannel";
/// The EIP-712 domain's version, as the contract declares it.
pub const DOMAIN_VERSION: &str = "1";

pub use agora_chain::signature::SignatureError;

/// The channel's parameters; its id is derived from them exactly as the contract does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelParams {
    /// Who deposits.
    pub payer: Address,
    /// Who may close it with a voucher.
    pub payee: Address,
    /// The deposit's token; `Address::ZERO` for ETH.
    pub token: Address,
    /// Whose signature vouchers carry (the payer or a session key).
    pub signer: Address,
    /// The payer's choice, so one pair can hold several channels.
    pub salt: B256,
}

impl ChannelParams {
    /// `keccak256(abi.encode(payer, payee, token, signer, salt, chainid, contract))`.
    pub fn channel_id(&self, chain_id: u64, contract: Address) -> B256 {
        keccak256(
            (self.payer, self.payee, self.token, self.signer, self.salt, U256::from(chain_id), contract).abi_encode(),
        )
    }
}

/// One deployment's EIP-712 domain, with its separator computed once.
pub struct VoucherDomain {
    /// The chain the contract is on.
    pub chain_id: u64,
    /// The `PaymentChannel` contract.
    pub contract: Address,
    separator: B256,
}

impl VoucherDomain {
    /// The domain of the `PaymentChannel` at `contract` on `chain_id`.
    pub fn new(chain_id: u64, contract: Address) -> Self {
        let domain = Eip712Domain::new(
            Some(DOMAIN_NAME.into()),
            Some(DOMAIN_VERSION.into()),
            Some(U256::from(chain_id)),
            Some(contract),
            None,
        );
        Self { chain_id, contract, separator: domain.separator() }
    }

    /// The digest the signer signs (`hashTypedData` in viem).
    pub fn digest(&self, channel_id: B256, cumulative_amount: U256) -> B256 {
        let voucher = Voucher { channelId: channel_id, cumulativeAmount: cumulative_amount };
        let mut buf = [0u8; 66];
        buf[0] = 0x19;
        buf[1] = 0x01;
        buf[2..34].copy_from_slice(self.separator.as_slice());
        buf[34..].copy_from_slice(voucher.eip712_hash_struct().as_slice());
        keccak256(buf)
    }

    /// Signs a voucher: 65 bytes `r || s || v` with `v` 27 or 28 and a low `s`.
    pub fn sign(
        &self,
        key: &PrivateKeySigner,
        channel_id: B256,
        cumulative_amount: U256,
    ) -> alloy::signers::Result<[u8; 65]> {
        let sig = key.sign_hash_sync(&self.digest(channel_id, cumulative_amount))?;
        Ok(sig.as_bytes())
    }

    /// The address that signed the voucher, or why the signature is unusable. High-s signatures
    /// are rejected, as the contract rejects them.
    pub fn recover(
        &self,
        channel_id: B256,
        cumulative_amount: U256,
        signature: &[u8],
    ) -> Result<Address, SignatureError> {
        agora_chain::signature::recover(self.digest(channel_id, cumulative_amount), signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain() -> VoucherDomain {
        VoucherDomain::new(31337, Address::repeat_byte(0xcc))
    }

    #[test]
    fn a_signed_voucher_recovers_to_its_signer() {
        let key = PrivateKeySigner::random();
        let id = B256::repeat_byte(7);
        let sig = domain().sign(&key, id, U256::from(42)).unwrap();
        assert_eq!(domain().recover(id, U256::from(42), &sig), Ok(key.address()));
        assert_ne!(domain().recover(id, U256::from(43), &sig), Ok(key.address()), "amount is signed");
        let other = VoucherDomain::new(1, Address::repeat_byte(0xcc));
        assert_ne!(other.recover(id, U256::from(42), &sig), Ok(key.address()), "chain id is signed");
    }

    #[test]
    fn digest_matches_alloys_generic_eip712_hash() {
        let d = domain();
        let v = Voucher { channelId: B256::repeat_byte(1), cumulativeAmount: U256::from(5) };
        let generic = v.eip712_signing_hash(&Eip712Domain::new(
            Some(DOMAIN_NAME.into()),
            Some(DOMAIN_VERSION.into()),
            Some(U256::from(31337)),
            Some(Address::repeat_byte(0xcc)),
            None,
        ));
        assert_eq!(d.digest(v.channelId, v.cumulativeAmount), generic);
    }

    #[test]
    fn malleated_and_malformed_signatures_are_refused() {
        let key = PrivateKeySigner::random();
        let id = B256::repeat_byte(9);
        let mut sig = domain().sign(&key, id, U256::from(1)).unwrap();
        // s' = n - s, v flipped: the same point, the malleated twin.
        let n = U256::from_be_bytes(alloy::primitives::hex!(
            "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"
        ));
        let s = U256::from_be_slice(&sig[32..64]);
        sig[32..64].copy_from_slice(&(n - s).to_be_bytes::<32>());
        sig[64] = if sig[64] == 27 { 28 } else { 27 };
        assert_eq!(domain().recover(id, U256::from(1), &sig), Err(SignatureError::HighS));
        assert_eq!(domain().recover(id, U256::from(1), &sig[..64]), Err(SignatureError::Length(64)));
        let mut bad_v = domain().sign(&key, id, U256::from(1)).unwrap();
        bad_v[64] = 29;
        assert_eq!(domain().recover(id, U256::from(1), &bad_v), Err(SignatureError::RecoveryByte(29)));
    }

    #[test]
    fn channel_id_commits_to_every_parameter() {
        let p = ChannelParams {
            payer: Address::repeat_byte(1),
            payee: Address::repeat_byte(2),
            token: Address::ZERO,
            signer: Address::repeat_byte(1),
            salt: B256::ZERO,
        };
        let base = p.channel_id(31337, Address::repeat_byte(9));
        assert_ne!(base, ChannelParams { salt: B256::repeat_byte(1), ..p }.channel_id(31337, Address::repeat_byte(9)));
        assert_ne!(base, p.channel_id(1, Address::repeat_byte(9)));
        assert_ne!(base, p.channel_id(31337, Address::repeat_byte(8)));
    }
}
