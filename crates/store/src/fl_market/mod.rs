//! The federated-learning market as indexed from the `FederatedMarket` contract's logs: tasks with
//! their terms and state, members and the data blocks they bought (in chain order, the order the
//! coordinator assigns blocks in), reward claims, model shares, dividends withdrawn and paid
//! predictions. All of it is derived state (a reorg rebuilds it) and changes only through
//! [`apply`], which `crate::apply` calls for [`crate::FlEvent`]s. The coordinator's own records
//! (rounds, logs, results) are `crate::fl_runs`.

mod apply;
mod rows;

use alloy::primitives::{Address, U256};

use crate::column::{self, i64_of, stored_enum};
use crate::{Result, Store};

pub(crate) use apply::{DERIVED_TABLES, apply};
pub use rows::{
    FlAccountAssets, FlClaimRow, FlDividendRow, FlMemberRow, FlPredictionRow, FlPurchaseRow, FlRevenueRow, FlShareRow,
    FlTaskFilter, FlTaskRow,
};

stored_enum! {
    /// How a task's trainers are paid (the contract's `Mode`).
    pub enum FlMode {
        /// From a pool the investor escrowed, by contribution; the investor owns the model.
        RewardPool => "reward_pool",
        /// With shares of the model, by contribution; shareholders earn the prediction fees.
        Shareholding => "shareholding",
    }
}

stored_enum! {
    /// Where a task stands on chain (the contract's `TaskState`, less `None`).
    pub enum FlTaskState {
        /// Recruiting members.
        Open => "open",
        /// Started by the coordinator.
        Training => "training",
        /// Results posted: rewards claimed or shares held, predictions paid.
        Finished => "finished",
        /// Never started (by its start deadline, or withdrawn by the investor); the pool went back.
        Cancelled => "cancelled",
        /// Started but no results by the finish deadline; the pool went back.
        Abandoned => "abandoned",
    }
}

impl Store {
    /// Tasks matching `filter`, newest first.
    pub async fn fl_tasks(&self, chain_id: u64, filter: FlTaskFilter, limit: u32) -> Result<Vec<FlTaskRow>> {
        let sql = format!(
            "{} WHERE t.chain_id = $1 AND ($2 = '' OR t.state = $2) AND ($3 = '' OR t.mode = $3) \
             AND ($4 = '' OR t.investor = $4) AND ($5 = '' OR EXISTS (SELECT 1 FROM fl_members m \
             WHERE m.chain_id = t.chain_id AND m.task_id = t.task_id AND m.account = $5)) \
             AND ($6 = '' OR t.investor = $6 OR EXISTS (SELECT 1 FROM fl_members m \
             WHERE m.chain_id = t.chain_id AND m.task_id = t.task_id AND m.account = $6)) \
             ORDER BY t.task_id DESC LIMIT $7",
            rows::TASK_SELECT
        );
        let key = |a: Option<Address>| a.map(column::hex).unwrap_or_default();
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(filter.state.map(FlTaskState::as_str).unwrap_or_default())
            .bind(filter.mode.map(FlMode::as_str).unwrap_or_default())
            .bind(key(filter.investor))
            .bind(key(filter.member))
            .bind(key(filter.account))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(rows::task_row).collect()
    }

    /// One task.
    pub async fn fl_task(&self, chain_id: u64, task_id: u64) -> Result<Option<FlTaskRow>> {
        let sql = format!("{} WHERE t.chain_id = $1 AND t.task_id = $2", rows::TASK_SELECT);
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(i64_of(task_id)?)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(rows::task_row).transpose()
    }

    /// Everyone who ever joined the task, in the order of their latest join (log position).
    pub async fn fl_members(&self, chain_id: u64, task_id: u64) -> Result<Vec<FlMemberRow>> {
        let sql =
            format!("{} WHERE chain_id = $1 AND task_id = $2 ORDER BY joined_block, joined_log", rows::MEMBER_SELECT);
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(i64_of(task_id)?)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(rows::member_row).collect()
    }

    /// The task's block purchases in chain order (block, log index): the order the coordinator
    /// assigns blocks in. `buyer`: only that member's.
    pub async fn fl_purchases(
        &self,
        chain_id: u64,
        task_id: u64,
        buyer: Option<Address>,
    ) -> Result<Vec<FlPurchaseRow>> {
        let sql = format!(
            "{} WHERE chain_id = $1 AND task_id = $2 AND ($3 = '' OR buyer = $3) ORDER BY block_number, log_index",
            rows::PURCHASE_SELECT
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(i64_of(task_id)?)
            .bind(buyer.map(column::hex).unwrap_or_default())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(rows::purchase_row).collect()
    }

    /// The task's shareholders (those holding shares now or once), most shares first.
    pub async fn fl_shares(&self, chain_id: u64, task_id: u64) -> Result<Vec<FlShareRow>> {
        let sql = format!("{} WHERE chain_id = $1 AND task_id = $2 ORDER BY account", rows::SHARE_SELECT);
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(i64_of(task_id)?)
            .fetch_all(self.pool())
            .await?;
        let mut shares = rows.iter().map(rows::share_row).collect::<Result<Vec<_>>>()?;
        shares.sort_by(|a, b| b.shares.cmp(&a.shares).then(a.account.cmp(&b.account)));
        Ok(shares)
    }

    /// The reward claims on the task, in chain order.
    pub async fn fl_claims(&self, chain_id: u64, task_id: u64) -> Result<Vec<FlClaimRow>> {
        let sql =
            format!("{} WHERE chain_id = $1 AND task_id = $2 ORDER BY claimed_block, account", rows::CLAIM_SELECT);
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(i64_of(task_id)?)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(rows::claim_row).collect()
    }

    /// One paid prediction request, once indexed.
    pub async fn fl_prediction(&self, chain_id: u64, request_id: u64) -> Result<Option<FlPredictionRow>> {
        let sql = format!("{} WHERE chain_id = $1 AND request_id = $2", rows::PREDICTION_SELECT);
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(i64_of(request_id)?)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(rows::prediction_row).transpose()
    }

    /// How many predictions were paid for on the task's model, and what they paid in all, as the
    /// chain says: each `requestPrediction`, and each batch of fees a fee receiver forwarded for
    /// predictions paid by vouchers (`payPredictionFees`, counted as its `count` predictions).
    pub async fn fl_prediction_totals(&self, chain_id: u64, task_id: u64) -> Result<(u64, U256)> {
        let rows = sqlx::query(
            "SELECT CAST(1 AS BIGINT), fee FROM fl_predictions WHERE chain_id = $1 AND task_id = $2 UNION ALL \
             SELECT prediction_count, amount FROM fl_fee_payments WHERE chain_id = $1 AND task_id = $2",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(task_id)?)
        .fetch_all(self.pool())
        .await?;
        let (mut count, mut total) = (0u64, U256::ZERO);
        for r in &rows {
            let n: i64 = sqlx::Row::try_get(r, 0)?;
            count += crate::column::u64_of(n);
            let paid: String = sqlx::Row::try_get(r, 1)?;
            total += rows::amount_text(&paid, "prediction fee")?;
        }
        Ok((count, total))
    }

    /// Everything `account` has in the federated-learning market: memberships, shares, reward
    /// claims, dividends withdrawn, predictions it paid for, and its revenue as an investor.
    pub async fn fl_account(&self, chain_id: u64, account: Address) -> Result<FlAccountAssets> {
        let chain = i64_of(chain_id)?;
        let key = column::hex(account);
        let by_account = |select: &str, order: &str| {
            let sql = format!("{select} WHERE chain_id = $1 AND {order}");
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(chain).bind(key.clone())
        };
        let memberships =
            by_account(rows::MEMBER_SELECT, "account = $2 ORDER BY task_id DESC").fetch_all(self.pool()).await?;
        let shares =
            by_account(rows::SHARE_SELECT, "account = $2 ORDER BY task_id DESC").fetch_all(self.pool()).await?;
        let claims =
            by_account(rows::CLAIM_SELECT, "account = $2 ORDER BY task_id DESC").fetch_all(self.pool()).await?;
        let dividends = by_account(rows::DIVIDEND_SELECT, "account = $2 ORDER BY block_number DESC, log_index DESC")
            .fetch_all(self.pool())
            .await?;
        let predictions =
            by_account(rows::PREDICTION_SELECT, "payer = $2 ORDER BY request_id DESC").fetch_all(self.pool()).await?;
        Ok(FlAccountAssets {
            memberships: memberships.iter().map(rows::member_row).collect::<Result<_>>()?,
            shares: shares.iter().map(rows::share_row).collect::<Result<_>>()?,
            claims: claims.iter().map(rows::claim_row).collect::<Result<_>>()?,
            dividends: dividends.iter().map(rows::dividend_row).collect::<Result<_>>()?,
            predictions: predictions.iter().map(rows::prediction_row).collect::<Result<_>>()?,
            revenue: self.fl_investor_revenue(chain, &key).await?,
        })
    }

    /// Per task `investor` created: the block payments it received and, in reward-pool mode, the
    /// prediction fees (in shareholding mode they go to the shareholders).
    async fn fl_investor_revenue(&self, chain: i64, investor: &str) -> Result<Vec<FlRevenueRow>> {
        let rows = sqlx::query(
            "SELECT t.task_id, t.mode, t.block_revenue, p.fee, p.n FROM fl_tasks t LEFT JOIN \
             (SELECT chain_id, task_id, fee, CAST(1 AS BIGINT) AS n FROM fl_predictions UNION ALL \
             SELECT chain_id, task_id, amount, prediction_count FROM fl_fee_payments) p \
             ON p.chain_id = t.chain_id AND p.task_id = t.task_id WHERE t.chain_id = $1 AND t.investor = $2 \
             ORDER BY t.task_id DESC",
        )
        .bind(chain)
        .bind(investor.to_owned())
        .fetch_all(self.pool())
        .await?;
        rows::revenue_rows(&rows)
    }
}
