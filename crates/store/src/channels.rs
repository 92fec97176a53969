//! Payment channels: the indexed channel state, the payee's voucher ledger, settlements and job runs.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::apply::{i64_of, u64_of};
use crate::{ChannelRow, ChannelState, Error, JobRun, Result, Store, VoucherRow};

/// A voucher the ledger accepted and must store before acknowledging it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVoucher {
    pub channel_id: String,
    pub cumulative_amount: String,
    pub signature: String,
    /// How many vouchers this one stands for (a group commit stores only the highest of a channel's).
    pub count: u64,
}

const CHANNEL_SELECT: &str = "SELECT c.channel_id, c.payer, c.payee, c.token, c.signer, c.salt, c.deposit, c.expiry, \
     c.state, c.paid_to_payee, c.refunded_to_payer, c.opened_block, c.updated_block, v.cumulative_amount, v.signature, \
     v.vouchers_accepted, v.updated_at FROM channels c LEFT JOIN channel_vouchers v \
     ON v.chain_id = c.chain_id AND v.channel_id = c.channel_id";

fn channel_row(r: &AnyRow) -> Result<ChannelRow> {
    let state: String = r.try_get(8)?;
    let amount: Option<String> = r.try_get(13)?;
    let voucher = match amount {
        Some(cumulative_amount) => Some(VoucherRow {
            cumulative_amount,
            signature: r.try_get(14)?,
            vouchers_accepted: u64_of(r.try_get(15)?),
            updated_at: u64_of(r.try_get(16)?),
        }),
        None => None,
    };
    Ok(ChannelRow {
        channel_id: r.try_get(0)?,
        payer: r.try_get(1)?,
        payee: r.try_get(2)?,
        token: r.try_get(3)?,
        signer: r.try_get(4)?,
        salt: r.try_get(5)?,
        deposit: r.try_get(6)?,
        expiry: u64_of(r.try_get(7)?),
        state: ChannelState::parse(&state)
            .ok_or_else(|| Error::Inconsistent(format!("unknown channel state {state:?}")))?,
        paid_to_payee: r.try_get(9)?,
        refunded_to_payer: r.try_get(10)?,
        opened_block: u64_of(r.try_get(11)?),
        updated_block: u64_of(r.try_get(12)?),
        voucher,
    })
}

/// Which channels to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChannelFilter<'a> {
    pub payer: Option<&'a str>,
    pub payee: Option<&'a str>,
}

impl Store {
    pub async fn channel(&self, chain_id: u64, channel_id: &str) -> Result<Option<ChannelRow>> {
        let row =
            sqlx::query(sqlx::AssertSqlSafe(format!("{CHANNEL_SELECT} WHERE c.chain_id = $1 AND c.channel_id = $2")))
                .bind(i64_of(chain_id)?)
                .bind(channel_id.to_ascii_lowercase())
                .fetch_optional(self.pool())
                .await?;
        row.as_ref().map(channel_row).transpose()
    }

    /// Channels by payer and/or payee (lower-cased here), newest first.
    pub async fn channels(&self, chain_id: u64, filter: ChannelFilter<'_>, limit: u32) -> Result<Vec<ChannelRow>> {
        let sql = format!(
            "{CHANNEL_SELECT} WHERE c.chain_id = $1 AND ($2 = '' OR c.payer = $2) AND ($3 = '' OR c.payee = $3) \
             ORDER BY c.opened_block DESC, c.channel_id LIMIT $4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(filter.payer.unwrap_or_default().to_ascii_lowercase())
            .bind(filter.payee.unwrap_or_default().to_ascii_lowercase())
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(channel_row).collect()
    }

    /// Open channels of `payee` whose expiry falls in `(now, now + margin]`.
    pub async fn channels_expiring(
        &self,
        chain_id: u64,
        payee: &str,
        now: u64,
        margin: u64,
    ) -> Result<Vec<ChannelRow>> {
        let sql = format!(
            "{CHANNEL_SELECT} WHERE c.chain_id = $1 AND c.payee = $2 AND c.state = 'Open' AND c.expiry > $3 \
             AND c.expiry <= $4 ORDER BY c.expiry"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(payee.to_ascii_lowercase())
            .bind(i64_of(now)?)
            .bind(i64_of(now.saturating_add(margin))?)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(channel_row).collect()
    }

    /// Stores accepted vouchers in one transaction (the ledger's group commit): each replaces the
    /// channel's previous highest voucher. The caller has already checked that each amount is higher.
    pub async fn store_vouchers(&self, chain_id: u64, vouchers: &[NewVoucher], now: u64) -> Result<()> {
        let chain = i64_of(chain_id)?;
        let now = i64_of(now)?;
        let mut tx = self.pool().begin().await?;
        for v in vouchers {
            sqlx::query(
                "INSERT INTO channel_vouchers (chain_id, channel_id, cumulative_amount, signature, vouchers_accepted, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (chain_id, channel_id) DO UPDATE SET \
                 cumulative_amount = excluded.cumulative_amount, signature = excluded.signature, \
                 vouchers_accepted = channel_vouchers.vouchers_accepted + excluded.vouchers_accepted, \
                 updated_at = excluded.updated_at",
            )
            .bind(chain)
            .bind(&v.channel_id)
            .bind(&v.cumulative_amount)
            .bind(&v.signature)
            .bind(i64_of(v.count)?)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every stored highest voucher of `chain_id` (the ledger loads these at start).
    pub async fn best_vouchers(&self, chain_id: u64) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query("SELECT channel_id, cumulative_amount FROM channel_vouchers WHERE chain_id = $1")
            .bind(i64_of(chain_id)?)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }

    /// Records a settlement attempt for a channel (one row per channel, updated in place).
    pub async fn record_settlement(
        &self,
        chain_id: u64,
        channel_id: &str,
        cumulative_amount: &str,
        tx_hash: Option<&str>,
        outcome: &str,
        now: u64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO channel_settlements (chain_id, channel_id, cumulative_amount, tx_hash, outcome, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (chain_id, channel_id) DO UPDATE SET \
             cumulative_amount = excluded.cumulative_amount, tx_hash = excluded.tx_hash, outcome = excluded.outcome, \
             updated_at = excluded.updated_at",
        )
        .bind(i64_of(chain_id)?)
        .bind(channel_id)
        .bind(cumulative_amount)
        .bind(tx_hash.map(str::to_owned))
        .bind(outcome)
        .bind(i64_of(now)?)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The last settlement attempt for a channel: (amount, tx hash, outcome).
    pub async fn settlement(
        &self,
        chain_id: u64,
        channel_id: &str,
    ) -> Result<Option<(String, Option<String>, String)>> {
        let row = sqlx::query(
            "SELECT cumulative_amount, tx_hash, outcome FROM channel_settlements WHERE chain_id = $1 AND channel_id = $2",
        )
        .bind(i64_of(chain_id)?)
        .bind(channel_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))).transpose()
    }

    pub async fn record_job_run(&self, run: &JobRun) -> Result<()> {
        sqlx::query(
            "INSERT INTO job_runs (job, started_at_ms, finished_at_ms, channels_touched, errors) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (job, started_at_ms) DO NOTHING",
        )
        .bind(&run.job)
        .bind(i64_of(run.started_at_ms)?)
        .bind(i64_of(run.finished_at_ms)?)
        .bind(i64_of(run.channels_touched)?)
        .bind(serde_json::to_string(&run.errors)?)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The most recent job runs, newest first.
    pub async fn job_runs(&self, limit: u32) -> Result<Vec<JobRun>> {
        let rows = sqlx::query(
            "SELECT job, started_at_ms, finished_at_ms, channels_touched, errors FROM job_runs \
             ORDER BY started_at_ms DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(JobRun {
                    job: r.try_get(0)?,
                    started_at_ms: u64_of(r.try_get(1)?),
                    finished_at_ms: u64_of(r.try_get(2)?),
                    channels_touched: u64_of(r.try_get(3)?),
                    errors: serde_json::from_str(&r.try_get::<String, _>(4)?)?,
                })
            })
            .collect()
    }
}
