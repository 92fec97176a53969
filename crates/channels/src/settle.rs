//! Auto-settlement: closes every channel this node collects for whose expiry falls within a margin
//! (default 15 minutes) with its highest stored voucher, before the payer could reclaim the deposit.
//! Every run is recorded in the job log. Running twice, or again after a crash, is harmless: a
//! channel already closed is skipped (or refused by the contract, which closes a channel once).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use agora_chain::Sender;
use agora_chain::bindings::PaymentChannel;
use agora_chain::bindings::PaymentChannel::PaymentChannelErrors;
use agora_chain::revert::ContractError;
use agora_store::{BackgroundRun, ChannelRow, Settlement, SettlementOutcome, Store};
use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256};
use alloy::providers::Provider;

/// The background job's name in its recorded runs.
pub const JOB_NAME: &str = "channel-auto-settle";

/// What the auto-settle job closes, and how often it looks.
#[derive(Debug, Clone)]
pub struct SettlerConfig {
    /// The chain the channels are on.
    pub chain_id: u64,
    /// The `PaymentChannel` contract.
    pub contract: Address,
    /// The payee this node collects for (the key the sender signs with).
    pub payee: Address,
    /// Close channels whose expiry is at most this many seconds away.
    pub margin_secs: u64,
    /// Time between runs (the schedule of [`crate::jobs::Jobs`]).
    pub interval: Duration,
}

/// The auto-settle job.
pub struct Settler {
    pub(crate) store: Store,
    sender: Sender,
    pub(crate) cfg: SettlerConfig,
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or_default()
}

/// Records a run of job `name` that started at `started_at_ms` and ends now, and returns it.
pub(crate) async fn record_run(
    store: &Store,
    name: &str,
    started_at_ms: u64,
    channels_touched: u64,
    errors: Vec<String>,
) -> agora_store::Result<BackgroundRun> {
    let run = BackgroundRun {
        name: name.into(),
        started_at_ms,
        finished_at_ms: now_ms().max(started_at_ms),
        channels_touched,
        errors,
    };
    store.record_background_run(&run).await?;
    Ok(run)
}

impl Settler {
    /// `sender` must be the payee key's sender (shared with everything else that signs with it).
    pub fn new(store: Store, sender: Sender, cfg: SettlerConfig) -> Self {
        Self { store, sender, cfg }
    }

    /// One pass: close what is due, record the run.
    pub async fn run_once(&self) -> agora_store::Result<BackgroundRun> {
        let started_at_ms = now_ms();
        let mut errors = Vec::new();
        let mut touched = 0;
        match self.chain_now().await {
            Ok(now) => {
                let due =
                    self.store.channels_expiring(self.cfg.chain_id, self.cfg.payee, now, self.cfg.margin_secs).await?;
                for ch in due {
                    match self.settle(&ch).await {
                        Ok(true) => touched += 1,
                        Ok(false) => {}
                        Err(e) => errors.push(format!("{}: {e}", ch.channel_id)),
                    }
                }
            }
            Err(e) => errors.push(format!("cannot read the chain's time: {e}")),
        }
        record_run(&self.store, JOB_NAME, started_at_ms, touched, errors).await
    }

    /// The chain's clock (the latest block's timestamp), which is what expiry is measured against.
    pub(crate) async fn chain_now(&self) -> Result<u64, agora_chain::Error> {
        let block = self.sender.provider().get_block_by_number(BlockNumberOrTag::Latest).await?;
        Ok(block.map(|b| b.header.timestamp).unwrap_or_default())
    }

    /// Closes one channel with its highest voucher. `Ok(false)`: nothing to do.
    pub(crate) async fn settle(&self, ch: &ChannelRow) -> Result<bool, String> {
        let Some(voucher) = &ch.voucher else { return Ok(false) };
        let chain = self.cfg.chain_id;
        if let Some(Settlement { tx_hash: Some(_), outcome: SettlementOutcome::Closed, .. }) =
            self.store.settlement(chain, ch.channel_id).await.map_err(|e| e.to_string())?
        {
            return Ok(false);
        }
        let amount = voucher.cumulative_amount;
        let contract = PaymentChannel::new(self.cfg.contract, self.sender.provider());
        let store = &self.store;
        let record = |tx_hash: Option<B256>, outcome: SettlementOutcome| async move {
            let attempt = Settlement { cumulative_amount: amount, tx_hash, outcome };
            store.record_settlement(chain, ch.channel_id, &attempt, now_ms() / 1000).await
        };
        record(None, SettlementOutcome::Sending).await.map_err(|e| e.to_string())?;
        // The cheaper compact form for the signer's own ECDSA signature; `close` with the whole
        // signature for a contract signer's (ERC-1271), which the contract asks the signer about.
        let domain = crate::VoucherDomain::new(chain, self.cfg.contract);
        let ecdsa = domain.recover(ch.channel_id, amount, &voucher.signature).is_ok_and(|who| who == ch.signer);
        let sent = match compact(&voucher.signature).filter(|_| ecdsa) {
            Some((r, vs)) => {
                self.sender.send(contract.closeCompact(ch.payer, ch.token, ch.signer, ch.salt, amount, r, vs)).await
            }
            None => {
                let sig = voucher.signature.to_vec().into();
                self.sender.send(contract.close(ch.payer, ch.token, ch.signer, ch.salt, amount, sig)).await
            }
        };
        match sent {
            Ok(receipt) => {
                let tx = receipt.transaction_hash;
                record(Some(tx), SettlementOutcome::Closed).await.map_err(|e| e.to_string())?;
                tracing::info!(channel = %ch.channel_id, amount = %amount, %tx, "channel settled");
                Ok(true)
            }
            Err(agora_chain::Error::Contract(ContractError::Channel(PaymentChannelErrors::ChannelNotOpen(_)))) => {
                record(None, SettlementOutcome::AlreadyFinished).await.map_err(|e| e.to_string())?;
                Ok(false)
            }
            Err(e) => {
                record(None, SettlementOutcome::Failed).await.map_err(|e| e.to_string())?;
                Err(e.to_string())
            }
        }
    }
}

/// EIP-2098 compact form of a 65-byte `r || s || v` signature: `(r, vs)` with `vs` = `s` and the top
/// bit set when `v` is 28.
pub fn compact(sig: &[u8]) -> Option<(B256, B256)> {
    let sig: &[u8; 65] = sig.try_into().ok()?;
    let r = B256::from_slice(&sig[..32]);
    let mut vs = [0u8; 32];
    vs.copy_from_slice(&sig[32..64]);
    match sig[64] {
        27 | 0 => {}
        28 | 1 => vs[0] |= 0x80,
        _ => return None,
    }
    Some((r, B256::from(vs)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::Signature;

    #[test]
    fn compact_form_matches_eip_2098() {
        let key = alloy::signers::local::PrivateKeySigner::random();
        for i in 0..8u8 {
            let sig = alloy::signers::SignerSync::sign_hash_sync(&key, &B256::repeat_byte(i)).expect("sign");
            let bytes = sig.as_bytes();
            let (r, vs) = compact(&bytes).expect("65 bytes");
            let mut expected = [0u8; 64];
            expected[..32].copy_from_slice(r.as_slice());
            expected[32..].copy_from_slice(vs.as_slice());
            assert_eq!(Signature::from_erc2098(&expected), sig);
        }
        assert_eq!(compact(&[0u8; 64]), None);
    }
}
