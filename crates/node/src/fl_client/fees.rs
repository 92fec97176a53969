//! The fee receiver's side of predictions paid by vouchers: forwarding the fees it collected for a
//! task into FederatedMarket (`payPredictionFees`), where they are divided exactly as that many
//! paid requests would be.

use alloy::primitives::{Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Result, ensure};
use serde_json::{Value, json};

use super::{FederatedMarket, FlNode, base64};

impl FlNode {
    /// Asks the node for a prediction of `task` on `pixels` paid by `voucher` (`{channelId,
    /// cumulativeAmount, signature, key}`); the node's answer, or its refusal as an error.
    pub async fn predict_by_voucher(&self, task: u64, pixels: &[u8], voucher: Value) -> Result<Value> {
        let body = json!({ "pixels": base64(pixels), "voucher": voucher });
        let resp = self.api.post(&format!("/api/fl/tasks/{task}/predict"), &body, None).await?;
        Ok(resp.json()?)
    }

    /// Pays `count` prediction fees of `task` (`count × predictionFee`) into FederatedMarket from
    /// `key`, approving the token first when it is an ERC-20; returns the amount and the transaction.
    pub async fn forward_fees(&self, key: &PrivateKeySigner, task: u64, count: u32) -> Result<(U256, B256)> {
        ensure!(count > 0, "nothing to forward for task {task}");
        let sender = self.sender(key).await?;
        let market = FederatedMarket::new(self.market, sender.provider());
        let t = market.getTask(U256::from(task)).call().await?;
        let amount = U256::from(t.predictionFee) * U256::from(count);
        self.approve(&sender, t.token, amount).await?;
        let value = if t.token == Address::ZERO { amount } else { U256::ZERO };
        let receipt = self.send(&sender, market.payPredictionFees(U256::from(task), count).value(value)).await?;
        Ok((amount, receipt.transaction_hash))
    }
}
