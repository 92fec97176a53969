//! Background jobs' runs: each pass of a periodic job the node runs (today the channel auto-settle
//! job) is recorded in the `job_runs` table, for operators to read back. "Job" here means a
//! background job only; the scheduler's per-task records are [`crate::ComputeRecord`]s, and an
//! executor's jobs never reach the store.

use sqlx::Row;

use crate::column::{i64_of, u64_of};
use crate::{Result, Store};

/// One run of a background job (a row of `job_runs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackgroundRun {
    /// Which background job ran (`channel-auto-settle`); with `started_at_ms`, the run's identity.
    pub name: String,
    /// When it started, unix milliseconds.
    pub started_at_ms: u64,
    /// When it finished, unix milliseconds; never before it started.
    pub finished_at_ms: u64,
    /// How many items it acted on: channels for the channel jobs, tasks paid for by
    /// `fl-fee-forward` (the column keeps the channel jobs' name).
    pub channels_touched: u64,
    /// What went wrong, one line each; empty for a clean run.
    pub errors: Vec<String>,
}

impl Store {
    /// Records a run; recording the same run (name and start) again changes nothing.
    pub async fn record_background_run(&self, run: &BackgroundRun) -> Result<()> {
        sqlx::query(
            "INSERT INTO job_runs (job, started_at_ms, finished_at_ms, channels_touched, errors) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (job, started_at_ms) DO NOTHING",
        )
        .bind(&run.name)
        .bind(i64_of(run.started_at_ms)?)
        .bind(i64_of(run.finished_at_ms)?)
        .bind(i64_of(run.channels_touched)?)
        .bind(serde_json::to_string(&run.errors)?)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The most recent runs of every background job, newest first.
    pub async fn background_runs(&self, limit: u32) -> Result<Vec<BackgroundRun>> {
        let rows = sqlx::query(
            "SELECT job, started_at_ms, finished_at_ms, channels_touched, errors FROM job_runs \
             ORDER BY started_at_ms DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(BackgroundRun {
                    name: r.try_get(0)?,
                    started_at_ms: u64_of(r.try_get(1)?),
                    finished_at_ms: u64_of(r.try_get(2)?),
                    channels_touched: u64_of(r.try_get(3)?),
                    errors: serde_json::from_str(&r.try_get::<String, _>(4)?)?,
                })
            })
            .collect()
    }
}
