//! The compute scheduler's job records.

use sqlx::Row;

use crate::apply::{i64_of, u64_of};
use crate::{Result, Store};

/// Where a job stands. Each stage is recorded before the work of the next one begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStage {
    /// Seen, not yet started on chain.
    Accepted,
    /// `startTask` is mined (or the task was already running).
    Started,
    /// The output is stored under `result_cid`; `completeTask` may be in flight.
    Executed,
    /// The job failed with `failure_reason`; `failTask` may be in flight.
    Failing,
    /// The task is final on chain (completed or refunded).
    Done,
    /// Not run by this node (its service is not one this node serves).
    Ignored,
}

impl JobStage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Started => "started",
            Self::Executed => "executed",
            Self::Failing => "failing",
            Self::Done => "done",
            Self::Ignored => "ignored",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "accepted" => Self::Accepted,
            "started" => Self::Started,
            "executed" => Self::Executed,
            "failing" => Self::Failing,
            "done" => Self::Done,
            "ignored" => Self::Ignored,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRow {
    pub task_id: u64,
    pub stage: JobStage,
    pub executor: String,
    pub app: String,
    pub result_cid: Option<String>,
    pub failure_reason: Option<String>,
}

impl Store {
    /// Records a job for `task_id` at `stage` (`Accepted`, or `Ignored` for tasks this node does not
    /// run) unless one exists; returns the job as stored.
    pub async fn accept_job(
        &self,
        chain_id: u64,
        task_id: u64,
        stage: JobStage,
        executor: &str,
        app: &str,
        now: u64,
    ) -> Result<JobRow> {
        sqlx::query(
            "INSERT INTO compute_jobs (chain_id, task_id, stage, executor, app, updated_at) \
             VALUES ($1, $2, $6, $3, $4, $5) ON CONFLICT (chain_id, task_id) DO NOTHING",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(task_id)?)
        .bind(executor)
        .bind(app)
        .bind(i64_of(now)?)
        .bind(stage.as_str())
        .execute(self.pool())
        .await?;
        self.job(chain_id, task_id).await?.ok_or_else(|| crate::Error::Inconsistent("job vanished".into()))
    }

    pub async fn job(&self, chain_id: u64, task_id: u64) -> Result<Option<JobRow>> {
        let row = sqlx::query(
            "SELECT task_id, stage, executor, app, result_cid, failure_reason \
             FROM compute_jobs WHERE chain_id = $1 AND task_id = $2",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(task_id)?)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            let stage: String = r.try_get(1)?;
            Ok(JobRow {
                task_id: u64_of(r.try_get(0)?),
                stage: JobStage::parse(&stage)
                    .ok_or_else(|| crate::Error::Inconsistent(format!("unknown job stage {stage:?}")))?,
                executor: r.try_get(2)?,
                app: r.try_get(3)?,
                result_cid: r.try_get(4)?,
                failure_reason: r.try_get(5)?,
            })
        })
        .transpose()
    }

    /// Moves a job to `stage`, setting the given fields (others keep their values).
    pub async fn set_job_stage(
        &self,
        chain_id: u64,
        task_id: u64,
        stage: JobStage,
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

    /// Task ids whose job is not done, oldest first.
    pub async fn open_jobs(&self, chain_id: u64) -> Result<Vec<u64>> {
        let rows =
            sqlx::query("SELECT task_id FROM compute_jobs WHERE chain_id = $1 AND stage NOT IN ('done', 'ignored') ORDER BY task_id")
                .bind(i64_of(chain_id)?)
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(|r| Ok(u64_of(r.try_get(0)?))).collect()
    }

    /// Unfinished tasks (Created or Running) that have no job yet, oldest first.
    pub async fn tasks_without_job(&self, chain_id: u64, limit: u32) -> Result<Vec<u64>> {
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
