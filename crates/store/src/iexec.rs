//! The iExec backend's records: the app deployed per service and, per ComputeMarket task, the
//! iExec request order, deal, task and status. Every step is written before the next one begins, so
//! a restarted backend resumes where it stopped without making a second deal.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::apply::{i64_of, u64_of};
use crate::{Result, Store};

/// The iExec app serving one service on one hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IexecAppRow {
    pub service_id: u64,
    /// The hub (PoCo diamond) the app is registered with, lower-case hex.
    pub hub: String,
    pub app_name: String,
    /// The app's address in the app registry.
    pub address: String,
    /// The app order its owner signed, as the iexec CLI prints it (JSON); `None` until signed.
    pub apporder: Option<String>,
}

/// The iExec side of one ComputeMarket task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IexecJobRow {
    pub task_id: u64,
    pub hub: String,
    /// The app's address.
    pub app: String,
    /// The signed request order (JSON as the CLI prints it), recorded before it is filled.
    pub requestorder: Option<String>,
    /// Its EIP-712 hash: the deal id follows from it.
    pub request_hash: Option<String>,
    pub deal_id: Option<String>,
    pub iexec_task_id: Option<String>,
    /// The iExec task's final deadline (unix seconds, chain time); claimable from then on.
    pub final_deadline: Option<u64>,
    /// `NEW`, `SIGNED`, then the iExec task's own status: `UNSET`, `ACTIVE`, `REVEALING`,
    /// `COMPLETED`, `FAILED` (claimed).
    pub status: String,
    /// The result's location as the task's results say (`/ipfs/<cid>`), once completed.
    pub result_location: Option<String>,
}

impl IexecJobRow {
    /// A job just taken on: nothing signed yet.
    pub fn new(task_id: u64, hub: &str, app: &str) -> Self {
        Self {
            task_id,
            hub: hub.to_owned(),
            app: app.to_owned(),
            requestorder: None,
            request_hash: None,
            deal_id: None,
            iexec_task_id: None,
            final_deadline: None,
            status: "NEW".into(),
            result_location: None,
        }
    }
}

fn job_of(r: &AnyRow) -> Result<IexecJobRow> {
    Ok(IexecJobRow {
        task_id: u64_of(r.try_get("task_id")?),
        hub: r.try_get("hub")?,
        app: r.try_get("app")?,
        requestorder: r.try_get("requestorder")?,
        request_hash: r.try_get("request_hash")?,
        deal_id: r.try_get("deal_id")?,
        iexec_task_id: r.try_get("iexec_task_id")?,
        final_deadline: r.try_get::<Option<i64>, _>("final_deadline")?.map(u64_of),
        status: r.try_get("status")?,
        result_location: r.try_get("result_location")?,
    })
}

const JOB_COLUMNS: &str = "task_id, hub, app, requestorder, request_hash, deal_id, iexec_task_id, final_deadline, \
                           status, result_location";

impl Store {
    /// The app recorded for `service_id` on `hub`.
    pub async fn iexec_app(&self, chain_id: u64, service_id: u64, hub: &str) -> Result<Option<IexecAppRow>> {
        let row = sqlx::query(
            "SELECT service_id, hub, app_name, address, apporder FROM iexec_apps \
             WHERE chain_id = $1 AND service_id = $2 AND hub = $3",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(service_id)?)
        .bind(hub)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(IexecAppRow {
                service_id: u64_of(r.try_get(0)?),
                hub: r.try_get(1)?,
                app_name: r.try_get(2)?,
                address: r.try_get(3)?,
                apporder: r.try_get(4)?,
            })
        })
        .transpose()
    }

    /// Records (or replaces) the app of a service.
    pub async fn put_iexec_app(&self, chain_id: u64, app: &IexecAppRow, now: u64) -> Result<()> {
        sqlx::query(
            "INSERT INTO iexec_apps (chain_id, service_id, hub, app_name, address, apporder, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (chain_id, service_id, hub) DO UPDATE SET app_name = EXCLUDED.app_name, \
             address = EXCLUDED.address, apporder = EXCLUDED.apporder, updated_at = EXCLUDED.updated_at",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(app.service_id)?)
        .bind(&app.hub)
        .bind(&app.app_name)
        .bind(&app.address)
        .bind(app.apporder.clone())
        .bind(i64_of(now)?)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn iexec_job(&self, chain_id: u64, task_id: u64) -> Result<Option<IexecJobRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} FROM iexec_jobs WHERE chain_id = $1 AND task_id = $2"
        )))
        .bind(i64_of(chain_id)?)
        .bind(i64_of(task_id)?)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(job_of).transpose()
    }

    /// The iExec jobs of the given tasks (those that have one), in no particular order.
    pub async fn iexec_jobs(&self, chain_id: u64, task_ids: &[u64]) -> Result<Vec<IexecJobRow>> {
        if task_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = task_ids.iter().map(|id| i64_of(*id).map(|v| v.to_string())).collect::<Result<_>>()?;
        // The ids are integers we formatted ourselves, so inlining them is safe.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} FROM iexec_jobs WHERE chain_id = $1 AND task_id IN ({})",
            ids.join(", ")
        )))
        .bind(i64_of(chain_id)?)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(job_of).collect()
    }

    /// Records `job` (every field), creating its row if needed.
    pub async fn put_iexec_job(&self, chain_id: u64, job: &IexecJobRow, now: u64) -> Result<()> {
        sqlx::query(
            "INSERT INTO iexec_jobs (chain_id, task_id, hub, app, requestorder, request_hash, deal_id, iexec_task_id, \
             final_deadline, status, result_location, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (chain_id, task_id) DO UPDATE SET hub = EXCLUDED.hub, app = EXCLUDED.app, \
             requestorder = EXCLUDED.requestorder, request_hash = EXCLUDED.request_hash, deal_id = EXCLUDED.deal_id, \
             iexec_task_id = EXCLUDED.iexec_task_id, final_deadline = EXCLUDED.final_deadline, \
             status = EXCLUDED.status, result_location = EXCLUDED.result_location, updated_at = EXCLUDED.updated_at",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(job.task_id)?)
        .bind(&job.hub)
        .bind(&job.app)
        .bind(job.requestorder.clone())
        .bind(job.request_hash.clone())
        .bind(job.deal_id.clone())
        .bind(job.iexec_task_id.clone())
        .bind(job.final_deadline.map(i64_of).transpose()?)
        .bind(&job.status)
        .bind(job.result_location.clone())
        .bind(i64_of(now)?)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
