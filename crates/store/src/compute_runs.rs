//! The compute scheduler's record of running each task: the table `compute_jobs`, one row per
//! indexed task, read in Rust as a [`ComputeRecord`] at a [`ComputeStage`]. The table keeps its
//! old name (no migration); in Rust "job" is left to background jobs ([`crate::BackgroundRun`],
//! table `job_runs`) and to executors' jobs, which the store never sees. The column `executor`
//! holds the name of the scheduler's runner ([`ComputeRecord::runner`]).

use sqlx::Row;

use crate::column::{i64_of, parsed, stored_enum, u64_of};
use crate::{Error, Result, Store};

stored_enum! {
    /// Where the scheduler stands with a task. Each stage is recorded before the work of the next
    /// one begins.
    pub enum ComputeStage {
        /// Seen, not yet started on chain.
        Accepted => "accepted",
        /// `startTask` is mined (or the task was already running).
        Started => "started",
        /// The output is stored under `result_cid`; `completeTask` may be in flight.
        Executed => "executed",
        /// The run failed with `failure_reason`; `failTask` may be in flight.
        Failing => "failing",
        /// The task is final on chain (completed or refunded).
        Done => "done",
        /// Not run by this node (its service is not one this node serves).
        Ignored => "ignored",
    }
}

/// The scheduler's record of one task (a row of `compute_jobs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputeRecord {
    /// The ComputeMarket task.
    pub task_id: u64,
    /// Where it stands.
    pub stage: ComputeStage,
    /// The name of the runner that took it (`-` when ignored): a restart resumes on the same one.
    pub runner: String,
    /// The app it runs (`-` when ignored).
    pub app: String,
    /// The output's CID, once executed.
    pub result_cid: Option<String>,
    /// Why the run failed, when it did.
    pub failure_reason: Option<String>,
}

impl Store {
    /// Records `task_id` at `stage` (`Accepted`, or `Ignored` for tasks this node does not run)
    /// unless it has a record already; returns the record as stored.
    pub async fn create_compute_record(
        &self,
        chain_id: u64,
        task_id: u64,
        stage: ComputeStage,
        runner: &str,
        app: &str,
        now: u64,
    ) -> Result<ComputeRecord> {
        sqlx::query(
            "INSERT INTO compute_jobs (chain_id, task_id, stage, executor, app, updated_at) \
             VALUES ($1, $2, $6, $3, $4, $5) ON CONFLICT (chain_id, task_id) DO NOTHING",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(task_id)?)
        .bind(runner)
        .bind(app)
        .bind(i64_of(now)?)
        .bind(stage.as_str())
        .execute(self.pool())
        .await?;
        self.compute_record(chain_id, task_id)
            .await?
            .ok_or_else(|| Error::Inconsistent(format!("compute record of task {task_id} vanished")))
    }

    /// The scheduler's record of `task_id`, if it has one.
    pub async fn compute_record(&self, chain_id: u64, task_id: u64) -> Result<Option<ComputeRecord>> {
        let row = sqlx::query(
            "SELECT task_id, stage, executor, app, result_cid, failure_reason \
             FROM compute_jobs WHERE chain_id = $1 AND task_id = $2",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(task_id)?)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(ComputeRecord {
                task_id: u64_of(r.try_get(0)?),
                stage: parsed(&r, 1, "compute stage")?,
                runner: r.try_get(2)?,
                app: r.try_get(3)?,
                result_cid: r.try_get(4)?,
                failure_reason: r.try_get(5)?,
            })
        })
        .transpose()
    }

    /// Moves a task's record to `stage`, setting the given fields (others keep their values).
    pub async fn set_compute_stage(
        &self,
        chain_id: u64,
        task_id: u64,
        stage: ComputeStage,
        result_cid: Option<&str>,
        failure_reason: Option<&str>,
        now: u64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE compute_jobs SET stage = $1, result_cid = COALESCE($2, result_cid), \
             failure_reason = COALESCE($3, failure_reason), updated_at = $4 \
             WHERE chain_id = $5 AND task_id = $6",
        )
        .bind(stage.as_str())
        .bind(result_cid.map(str::to_owned))
        .bind(failure_reason.map(str::to_owned))
        .bind(i64_of(now)?)
        .bind(i64_of(chain_id)?)
        .bind(i64_of(task_id)?)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Task ids whose record is neither done nor ignored, oldest first.
    pub async fn open_compute_records(&self, chain_id: u64) -> Result<Vec<u64>> {
        let rows =
            sqlx::query("SELECT task_id FROM compute_jobs WHERE chain_id = $1 AND stage NOT IN ('done', 'ignored') ORDER BY task_id")
                .bind(i64_of(chain_id)?)
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(|r| Ok(u64_of(r.try_get(0)?))).collect()
    }

    /// Unfinished tasks (Created or Running) that have no compute record yet, oldest first.
    pub async fn tasks_without_compute_record(&self, chain_id: u64, limit: u32) -> Result<Vec<u64>> {
        let rows = sqlx::query(
            "SELECT t.task_id FROM tasks t LEFT JOIN compute_jobs j ON j.chain_id = t.chain_id AND j.task_id = t.task_id \
             WHERE t.chain_id = $1 AND t.status IN ('Created', 'Running') AND j.task_id IS NULL \
             ORDER BY t.task_id LIMIT $2",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok(u64_of(r.try_get(0)?))).collect()
    }
}
