//! The paying side of a channel: knows the deposit, what has been spent, and signs the next voucher
//! with the channel's signer (the payer's key or a session key).

use alloy::primitives::{B256, U256};
use alloy::signers::local::PrivateKeySigner;

use crate::voucher::VoucherDomain;

/// A voucher ready to hand to the payee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedVoucher {
    /// The channel it pays on.
    pub channel_id: B256,
    /// Everything paid on the channel so far, this voucher included.
    pub cumulative_amount: U256,
    /// The signer's EIP-712 signature, `r || s || v`.
    pub signature: [u8; 65],
}

/// Why a payment could not be signed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PayError {
    /// The deposit does not cover it; top the channel up first.
    #[error("paying {amount} more would spend {total}, above the deposit of {deposit}")]
    OverDeposit {
        /// What was to be paid.
        amount: U256,
        /// The total it would have made.
        total: U256,
        /// The channel's deposit.
        deposit: U256,
    },
    /// The signer failed.
    #[error("signing failed: {0}")]
    Sign(String),
}

/// One channel as its payer sees it; vouchers it signs only ever increase.
pub struct PayerChannel {
    /// The channel.
    pub channel_id: B256,
    deposit: U256,
    spent: U256,
    signer: PrivateKeySigner,
}

impl PayerChannel {
    /// A channel with nothing spent yet, signing with `signer` (the channel's signer).
    pub fn new(channel_id: B256, deposit: U256, signer: PrivateKeySigner) -> Self {
        Self { channel_id, deposit, spent: U256::ZERO, signer }
    }

    /// The deposit as last known.
    pub fn deposit(&self) -> U256 {
        self.deposit
    }

    /// The total of the last voucher signed.
    pub fn spent(&self) -> U256 {
        self.spent
    }

    /// What the deposit still covers.
    pub fn remaining(&self) -> U256 {
        self.deposit - self.spent
    }

    /// After a top-up on chain.
    pub fn set_deposit(&mut self, deposit: U256) {
        self.deposit = deposit.max(self.spent);
    }

    /// Signs a voucher for `amount` more than everything paid so far.
    pub fn pay(&mut self, domain: &VoucherDomain, amount: U256) -> Result<SignedVoucher, PayError> {
        let total = self.spent.saturating_add(amount);
        if total > self.deposit {
            return Err(PayError::OverDeposit { amount, total, deposit: self.deposit });
        }
        let signature = domain.sign(&self.signer, self.channel_id, total).map_err(|e| PayError::Sign(e.to_string()))?;
        self.spent = total;
        Ok(SignedVoucher { channel_id: self.channel_id, cumulative_amount: total, signature })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::Address;

    #[test]
    fn vouchers_are_cumulative_and_bounded_by_the_deposit() {
        let domain = VoucherDomain::new(31337, Address::repeat_byte(3));
        let key = PrivateKeySigner::random();
        let mut ch = PayerChannel::new(B256::repeat_byte(1), U256::from(100), key.clone());
        let a = ch.pay(&domain, U256::from(30)).unwrap();
        let b = ch.pay(&domain, U256::from(30)).unwrap();
        assert_eq!(a.cumulative_amount, U256::from(30));
        assert_eq!(b.cumulative_amount, U256::from(60));
        assert_eq!(domain.recover(b.channel_id, b.cumulative_amount, &b.signature), Ok(key.address()));
        let err = ch.pay(&domain, U256::from(41)).unwrap_err();
        assert_eq!(
            err,
            PayError::OverDeposit { amount: U256::from(41), total: U256::from(101), deposit: U256::from(100) }
        );
        assert_eq!(ch.spent(), U256::from(60), "a refused payment spends nothing");
        ch.set_deposit(U256::from(200));
        assert_eq!(ch.pay(&domain, U256::from(41)).unwrap().cumulative_amount, U256::from(101));
    }
}
