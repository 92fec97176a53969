//! The fee receiver's side of predictions paid by vouchers: forwarding the fees it collected for a
//! task into FederatedMarket (`payPredictionFees`), where they are divided exactly as that many
//! paid requests would be — the same pass as the node's `fl-fee-forward` job.

use agora_federated::fees::{Outcome, reason};
use agora_federated::{FeeForwarder, Forwarded, Recorded};
use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Result, ensure};
use serde_json::{Value, json};

use super::{FlNode, base64, refused};

impl FlNode {
    /// Asks the node for a prediction of `task` on `pixels` paid by `voucher` (`{channelId,
    /// cumulativeAmount, signature, key}`); the node's answer, or its refusal as an error.
    pub async fn predict_by_voucher(&self, task: u64, pixels: &[u8], voucher: Value) -> Result<Value> {
        let body = json!({ "pixels": base64(pixels), "voucher": voucher });
        let resp = self.api.post(&format!("/api/fl/tasks/{task}/predict"), &body, None).await?;
        Ok(resp.json()?)
    }

    /// One pass of the fee receiver's forwarding, as the node's `fl-fee-forward` job runs it
    /// (agora_federated's [`FeeForwarder`]): for each task the node's `/api/fl/fees` says is owed
    /// (only `only` when given), the recorded predictions the contract does not yet count as paid by
    /// `key`, with `payPredictionFees` from `key`, approving the token first when it is an ERC-20.
    /// One line per task that was owed.
    pub async fn forward_fees(&self, key: &PrivateKeySigner, only: Option<u64>) -> Result<Vec<FeeOutcome>> {
        let fees = self.get("/api/fl/fees").await?;
        let receiver = fees["feeReceiver"].as_str().unwrap_or_default();
        ensure!(
            receiver.eq_ignore_ascii_case(&key.address().to_string()),
            NotFeeReceiver { receiver: receiver.to_owned(), key: key.address() }
        );
        let recorded: Vec<Recorded> = fees["tasks"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            // Those the indexed figures owe nothing are skipped (the index never shows more paid
            // than the contract counts).
            .filter(|t| t["owed"].as_u64().is_some_and(|n| n > 0))
            .filter_map(|t| Some(Recorded { task: t["taskId"].as_u64()?, count: t["recorded"].as_u64()? }))
            .filter(|o| only.is_none_or(|task| task == o.task))
            .collect();
        let forwarder = FeeForwarder::new(self.sender(key).await?, self.market);
        let outcomes = forwarder.forward_owed(&recorded).await;
        Ok(outcomes
            .into_iter()
            .map(|o| match o {
                Outcome::Forwarded(f) => FeeOutcome::Forwarded(f),
                Outcome::AlreadyPaid { task } => FeeOutcome::AlreadyPaid(task),
                Outcome::Failed { task, error } => {
                    let why = match error {
                        agora_federated::Error::Chain(e) => refused(e).to_string(),
                        other => reason(&other),
                    };
                    FeeOutcome::Failed(task, why)
                }
            })
            .collect())
    }
}

/// What [`FlNode::forward_fees`] did for one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeeOutcome {
    /// Fees paid in.
    Forwarded(Forwarded),
    /// The task's fees were already paid, in blocks the node had not indexed yet.
    AlreadyPaid(u64),
    /// The task and why its fees could not be paid (the receiver holds too little of the token, a
    /// refusal, the chain).
    Failed(u64, String),
}

/// The key given is not the node's fee receiver.
#[derive(Debug, thiserror::Error)]
#[error("the node's fee receiver is {receiver}, not this key's {key}")]
pub struct NotFeeReceiver {
    /// The node's fee receiver.
    pub receiver: String,
    /// The key's account.
    pub key: Address,
}
