//! Predictions paid by vouchers on a payment channel to the node's fee receiver
//! (`fl_voucher_predictions`), the channel's account they share with the assistant
//! (`assistant_accounts`: what the node billed the channel in all), and how many of each task's fees
//! the receiver still has to forward to FederatedMarket (`fl_fee_payments`, indexed). The
//! predictions are the node's own records; the forwards are the chain's.

use alloy::primitives::{Address, B256, U256};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::column::{amount, hex, i64_of, parsed, u64_of};
use crate::{Result, Store};

/// A prediction paid by a voucher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlVoucherPrediction {
    /// The client's idempotency key.
    pub request_key: String,
    /// The task whose model answered.
    pub task_id: u64,
    /// The paying channel.
    pub channel_id: B256,
    /// The channel's payer.
    pub payer: Address,
    /// keccak256 of the input.
    pub input_hash: B256,
    /// The fee's token (`Address::ZERO` for ETH).
    pub token: Address,
    /// The task's prediction fee, charged once.
    pub fee: U256,
    /// The voucher the payment stood on: the channel's billed total once this fee was added.
    pub cumulative: U256,
    /// The model's answer, JSON, returned again to a retried request.
    pub answer: String,
    /// Unix seconds.
    pub created_at: u64,
}

/// One task's fees the fee receiver collected by voucher, against what it forwarded on chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlFeeBalance {
    /// The task.
    pub task_id: u64,
    /// Predictions paid by vouchers and recorded by this node.
    pub recorded: u64,
    /// Their fees in all.
    pub recorded_amount: U256,
    /// Predictions whose fees the receiver forwarded (`PredictionFeesPaid` by it, indexed).
    pub forwarded: u64,
    /// What it forwarded in all.
    pub forwarded_amount: U256,
}

impl FlFeeBalance {
    /// Predictions whose fees are still to be forwarded (zero if the receiver forwarded more).
    pub fn owed(&self) -> u64 {
        self.recorded.saturating_sub(self.forwarded)
    }
}

const SELECT: &str = "SELECT request_key, task_id, channel_id, payer, input_hash, token, fee, cumulative, answer, \
     created_at FROM fl_voucher_predictions";

fn row(r: &AnyRow) -> Result<FlVoucherPrediction> {
    Ok(FlVoucherPrediction {
        request_key: r.try_get(0)?,
        task_id: u64_of(r.try_get(1)?),
        channel_id: parsed(r, 2, "channel id")?,
        payer: parsed(r, 3, "payer")?,
        input_hash: parsed(r, 4, "input hash")?,
        token: parsed(r, 5, "token")?,
        fee: amount(r, 6, "fee")?,
        cumulative: amount(r, 7, "cumulative")?,
        answer: r.try_get(8)?,
        created_at: u64_of(r.try_get(9)?),
    })
}

impl Store {
    /// The prediction recorded under `request_key`, if any.
    pub async fn fl_voucher_prediction(&self, chain_id: u64, request_key: &str) -> Result<Option<FlVoucherPrediction>> {
        let sql = format!("{SELECT} WHERE chain_id = $1 AND request_key = $2");
        let r = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(request_key)
            .fetch_optional(self.pool())
            .await?;
        r.as_ref().map(row).transpose()
    }

    /// A channel's predictions, newest first.
    pub async fn fl_channel_predictions(
        &self,
        chain_id: u64,
        channel_id: B256,
        limit: u32,
    ) -> Result<Vec<FlVoucherPrediction>> {
        let sql =
            format!("{SELECT} WHERE chain_id = $1 AND channel_id = $2 ORDER BY created_at DESC, request_key LIMIT $3");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(hex(channel_id))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(row).collect()
    }

    /// Charges a prediction to its channel: in one transaction, the channel's billed total goes from
    /// `billed_before` to `p.cumulative` (only if it still is `billed_before`: another charge on the
    /// channel in between wins, and this one is not recorded) and the prediction is recorded.
    /// `Ok(false)` when the billed total had moved, or the key was taken meanwhile.
    pub async fn record_fl_voucher_prediction(
        &self,
        chain_id: u64,
        p: &FlVoucherPrediction,
        billed_before: U256,
    ) -> Result<bool> {
        let chain = i64_of(chain_id)?;
        let mut tx = self.begin().await?;
        let moved = if billed_before.is_zero() {
            // The first charge of a channel: no account yet (or one at zero).
            sqlx::query(
                "INSERT INTO assistant_accounts (chain_id, channel_id, billed, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (chain_id, channel_id) DO UPDATE SET billed = excluded.billed, \
                 updated_at = excluded.updated_at WHERE assistant_accounts.billed = '0'",
            )
        } else {
            sqlx::query(
                "UPDATE assistant_accounts SET billed = $3, updated_at = $4 WHERE chain_id = $1 AND channel_id = $2 \
                 AND billed = $5",
            )
        }
        .bind(chain)
        .bind(hex(p.channel_id))
        .bind(p.cumulative.to_string())
        .bind(i64_of(p.created_at)?)
        .bind(billed_before.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved != 1 {
            return Ok(false);
        }
        let inserted = sqlx::query(
            "INSERT INTO fl_voucher_predictions (chain_id, request_key, task_id, channel_id, payer, input_hash, token, \
             fee, cumulative, answer, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (chain_id, request_key) DO NOTHING",
        )
        .bind(chain)
        .bind(&p.request_key)
        .bind(i64_of(p.task_id)?)
        .bind(hex(p.channel_id))
        .bind(hex(p.payer))
        .bind(hex(p.input_hash))
        .bind(hex(p.token))
        .bind(p.fee.to_string())
        .bind(p.cumulative.to_string())
        .bind(&p.answer)
        .bind(i64_of(p.created_at)?)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted != 1 {
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Per task with predictions paid by vouchers: what was recorded against what `receiver`
    /// forwarded on chain, by task id.
    pub async fn fl_fee_balances(&self, chain_id: u64, receiver: Address) -> Result<Vec<FlFeeBalance>> {
        let chain = i64_of(chain_id)?;
        let recorded = sqlx::query(
            "SELECT task_id, fee FROM fl_voucher_predictions WHERE chain_id = $1 ORDER BY task_id, request_key",
        )
        .bind(chain)
        .fetch_all(self.pool())
        .await?;
        let forwarded = sqlx::query(
            "SELECT task_id, prediction_count, amount FROM fl_fee_payments WHERE chain_id = $1 AND payer = $2",
        )
        .bind(chain)
        .bind(hex(receiver))
        .fetch_all(self.pool())
        .await?;
        let mut out: std::collections::BTreeMap<u64, FlFeeBalance> = std::collections::BTreeMap::new();
        let entry = |out: &mut std::collections::BTreeMap<u64, FlFeeBalance>, task_id| {
            *out.entry(task_id).or_insert(FlFeeBalance {
                task_id,
                recorded: 0,
                recorded_amount: U256::ZERO,
                forwarded: 0,
                forwarded_amount: U256::ZERO,
            })
        };
        for r in &recorded {
            let task_id = u64_of(r.try_get(0)?);
            let mut b = entry(&mut out, task_id);
            b.recorded += 1;
            b.recorded_amount += amount(r, 1, "fee")?;
            out.insert(task_id, b);
        }
        for r in &forwarded {
            let task_id = u64_of(r.try_get(0)?);
            let mut b = entry(&mut out, task_id);
            b.forwarded += u64_of(r.try_get(1)?);
            b.forwarded_amount += amount(r, 2, "forwarded amount")?;
            out.insert(task_id, b);
        }
        Ok(out.into_values().collect())
    }
}
