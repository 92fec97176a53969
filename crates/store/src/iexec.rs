//! The iExec backend's records: the app deployed per service and, per ComputeMarket task, the
//! iExec request order, deal, task and status (table `iexec_jobs`: an "iExec job" is the iExec
//! side of one ComputeMarket task). Every step is written before the next one begins, so a
//! restarted backend resumes where it stopped without making a second deal.

use alloy::primitives::{Address, B256};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::column::{self, i64_of, parsed, parsed_opt, stored_enum, u64_of};
use crate::{Result, Store};

/// The iExec app serving one service on one hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IexecAppRow {
    /// The ComputeMarket service it serves.
    pub service_id: u64,
    /// The hub (PoCo diamond) the app is registered with.
    pub hub: Address,
    /// The app's name in the backend's configuration.
    pub app_name: String,
    /// The app's address in the app registry.
    pub address: Address,
    /// The app order its owner signed, as the iexec CLI prints it (JSON); `None` until signed.
    pub apporder: Option<String>,
}

stored_enum! {
    /// Where the iExec side of a task stands: `New`, `Signed`, then the iExec task's own status
    /// as PoCo names it.
    pub enum IexecJobStatus {
        /// Recorded; no request order signed yet.
        New => "NEW",
        /// The request order is signed and recorded, perhaps filled.
        Signed => "SIGNED",
        /// The deal exists; its task is not initialized yet.
        Unset => "UNSET",
        /// The task is initialized; workers may contribute.
        Active => "ACTIVE",
        /// Contributions reached consensus; winners reveal.
        Revealing => "REVEALING",
        /// Finalized with a result.
        Completed => "COMPLETED",
        /// Claimed after its final deadline; the requester was refunded.
        Failed => "FAILED",
    }
}

/// The iExec side of one ComputeMarket task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IexecJobRow {
    /// The ComputeMarket task.
    pub task_id: u64,
    /// The hub the deal is made on.
    pub hub: Address,
    /// The app's address.
    pub app: Address,
    /// The signed request order (JSON as the CLI prints it), recorded before it is filled.
    pub requestorder: Option<String>,
    /// Its EIP-712 hash: the deal id follows from it.
    pub request_hash: Option<B256>,
    /// The deal, once filled.
    pub deal_id: Option<B256>,
    /// The deal's only task.
    pub iexec_task_id: Option<B256>,
    /// The iExec task's final deadline (unix seconds, chain time); claimable from then on.
    pub final_deadline: Option<u64>,
    /// Where it stands.
    pub status: IexecJobStatus,
    /// The result's location as the task's results say (`/ipfs/<cid>`), once completed.
    pub result_location: Option<String>,
}

impl IexecJobRow {
    /// A job just taken on: nothing signed yet.
    pub fn new(task_id: u64, hub: Address, app: Address) -> Self {
        Self {
            task_id,
            hub,
            app,
            requestorder: None,
            request_hash: None,
            deal_id: None,
            iexec_task_id: None,
            final_deadline: None,
            status: IexecJobStatus::New,
            result_location: None,
        }
    }
}

fn job_of(r: &AnyRow) -> Result<IexecJobRow> {
    Ok(IexecJobRow {
        task_id: u64_of(r.try_get("task_id")?),
        hub: parsed(r, "hub", "iExec hub")?,
        app: parsed(r, "app", "iExec app")?,
        requestorder: r.try_get("requestorder")?,
        request_hash: parsed_opt(r, "request_hash", "iExec request hash")?,
        deal_id: parsed_opt(r, "deal_id", "iExec deal id")?,
        iexec_task_id: parsed_opt(r, "iexec_task_id", "iExec task id")?,
        final_deadline: r.try_get::<Option<i64>, _>("final_deadline")?.map(u64_of),
        status: parsed(r, "status", "iExec job status")?,
        result_location: r.try_get("result_location")?,
    })
}

const JOB_COLUMNS: &str = "task_id, hub, app, requestorder, request_hash, deal_id, iexec_task_id, final_deadline, \
                           status, result_location";

impl Store {
    /// The app recorded for `service_id` on `hub`.
    pub async fn iexec_app(&self, chain_id: u64, service_id: u64, hub: Address) -> Result<Option<IexecAppRow>> {
        let row = sqlx::query(
            "SELECT service_id, hub, app_name, address, apporder FROM iexec_apps \
             WHERE chain_id = $1 AND service_id = $2 AND hub = $3",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(service_id)?)
        .bind(column::hex(hub))
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(IexecAppRow {
                service_id: u64_of(r.try_get(0)?),
                hub: parsed(&r, 1, "iExec hub")?,
                app_name: r.try_get(2)?,
                address: parsed(&r, 3, "iExec app address")?,
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
        .bind(column::hex(app.hub))
        .bind(&app.app_name)
        .bind(column::hex(app.address))
        .bind(app.apporder.clone())
        .bind(i64_of(now)?)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The iExec side of `task_id`, if it has one.
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
        .bind(column::hex(job.hub))
        .bind(column::hex(job.app))
        .bind(job.requestorder.clone())
        .bind(job.request_hash.map(column::hex))
        .bind(job.deal_id.map(column::hex))
        .bind(job.iexec_task_id.map(column::hex))
        .bind(job.final_deadline.map(i64_of).transpose()?)
        .bind(job.status.as_str())
        .bind(job.result_location.clone())
        .bind(i64_of(now)?)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
