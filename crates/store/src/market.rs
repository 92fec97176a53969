//! The compute market as indexed: services and tasks (state derived from the market's logs) and a
//! task's timeline (its logs, in chain order).

use alloy::primitives::{Address, B256, U256};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::column::{amount, i64_of, parsed, stored_enum, u64_of};
use crate::{Result, Store};

stored_enum! {
    /// A task's status, as the contract's `TaskStatus`.
    pub enum TaskStatus {
        /// Bought and escrowed; not started.
        Created => "Created",
        /// The operator started it.
        Running => "Running",
        /// Completed with a result; the provider was paid.
        Completed => "Completed",
        /// Refunded to the buyer (failed, expired or reclaimed after its deadline).
        Refunded => "Refunded",
    }
}

/// A service listed on the market.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRow {
    /// The market's id for it.
    pub service_id: u64,
    /// Who is paid for its tasks.
    pub provider: Address,
    /// The payment token; `Address::ZERO` for native ETH.
    pub token: Address,
    /// The price of one task, in the token's smallest unit.
    pub price: U256,
    /// The longest a task may run, seconds: a task's deadline is its purchase plus this.
    pub max_run_time: u64,
    /// Where its metadata lives (often a `data:` URI).
    pub metadata_uri: String,
    /// `metadata_uri` read once, here: `None` when it is not Agora service metadata.
    pub metadata: Option<agora_market::ServiceMetadata>,
    /// False once delisted.
    pub active: bool,
    /// The block it was listed in.
    pub listed_block: u64,
}

/// A task bought on the market.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRow {
    /// The market's id for it.
    pub task_id: u64,
    /// The buyer.
    pub user: Address,
    /// The service bought.
    pub service_id: u64,
    /// What the buyer escrowed, in the token's smallest unit.
    pub amount: U256,
    /// The payment token (the service's at purchase); `Address::ZERO` for ETH.
    pub token: Address,
    /// Unix seconds (chain time) after which the buyer may take a refund; known from `TaskInput`.
    pub deadline: Option<u64>,
    /// The buyer's input as given on chain (text or a CID).
    pub input: Option<String>,
    /// Where it stands on chain.
    pub status: TaskStatus,
    /// The result's reference (a CID) once completed.
    pub result_hash: Option<String>,
    /// Why it failed, when the operator said so.
    pub failure_reason: Option<String>,
    /// The block it was bought in.
    pub created_block: u64,
    /// The purchase's transaction.
    pub created_tx: B256,
    /// The purchase's block time, unix seconds.
    pub created_at: u64,
    /// The block of its latest change.
    pub updated_block: u64,
    /// That block's time, unix seconds.
    pub updated_at: u64,
}

/// One step of a task's history, straight from its logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    /// The event's name, as in the contract (`TaskCreated`, `TaskStarted`, …).
    pub kind: String,
    /// The block that holds the log.
    pub block_number: u64,
    /// That block's time, unix seconds.
    pub block_timestamp: u64,
    /// The transaction that emitted it.
    pub tx_hash: B256,
    /// Its position in the block.
    pub log_index: u64,
}

impl Store {
    /// Every service ever listed on `chain_id`, delisted ones included, by id.
    pub async fn services(&self, chain_id: u64) -> Result<Vec<ServiceRow>> {
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(format!("{SERVICE_SELECT} WHERE chain_id = $1 ORDER BY service_id")))
                .bind(i64_of(chain_id)?)
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(service_row).collect()
    }

    /// One service, listed or delisted.
    pub async fn service(&self, chain_id: u64, service_id: u64) -> Result<Option<ServiceRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SERVICE_SELECT} WHERE chain_id = $1 AND service_id = $2")))
            .bind(i64_of(chain_id)?)
            .bind(i64_of(service_id)?)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(service_row).transpose()
    }

    /// Tasks, newest first, optionally only those bought by `user` (lower-case hex address).
    pub async fn tasks(&self, chain_id: u64, user: Option<&str>, limit: u32) -> Result<Vec<TaskRow>> {
        let query = match user {
            Some(_) => {
                format!("{TASK_SELECT} WHERE chain_id = $1 AND user_address = $3 ORDER BY task_id DESC LIMIT $2")
            }
            None => format!("{TASK_SELECT} WHERE chain_id = $1 ORDER BY task_id DESC LIMIT $2"),
        };
        let mut q = sqlx::query(sqlx::AssertSqlSafe(query)).bind(i64_of(chain_id)?).bind(i64::from(limit));
        if let Some(user) = user {
            q = q.bind(user.to_ascii_lowercase());
        }
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter().map(task_row).collect()
    }

    /// One task.
    pub async fn task(&self, chain_id: u64, task_id: u64) -> Result<Option<TaskRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{TASK_SELECT} WHERE chain_id = $1 AND task_id = $2")))
            .bind(i64_of(chain_id)?)
            .bind(i64_of(task_id)?)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(task_row).transpose()
    }

    /// The task's logs in chain order.
    pub async fn task_timeline(&self, chain_id: u64, task_id: u64) -> Result<Vec<TimelineEntry>> {
        let rows = sqlx::query(
            "SELECT kind, block_number, block_timestamp, tx_hash, log_index FROM chain_logs \
             WHERE chain_id = $1 AND subject = $2 ORDER BY block_number, log_index",
        )
        .bind(i64_of(chain_id)?)
        .bind(format!("task:{task_id}"))
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(TimelineEntry {
                    kind: r.try_get(0)?,
                    block_number: u64_of(r.try_get(1)?),
                    block_timestamp: u64_of(r.try_get(2)?),
                    tx_hash: parsed(&r, 3, "log transaction")?,
                    log_index: u64_of(r.try_get(4)?),
                })
            })
            .collect()
    }
}

const SERVICE_SELECT: &str =
    "SELECT service_id, provider, token, price, max_run_time, metadata_uri, active, listed_block FROM services";
const TASK_SELECT: &str = "SELECT task_id, user_address, service_id, amount, token, deadline, input, status, \
     result_hash, failure_reason, created_block, created_tx, created_at, updated_block, updated_at FROM tasks";

fn service_row(r: &AnyRow) -> Result<ServiceRow> {
    let metadata_uri: String = r.try_get(5)?;
    Ok(ServiceRow {
        metadata: agora_market::ServiceMetadata::from_uri(&metadata_uri),
        service_id: u64_of(r.try_get(0)?),
        provider: parsed(r, 1, "service provider")?,
        token: parsed(r, 2, "service token")?,
        price: amount(r, 3, "service price")?,
        max_run_time: u64_of(r.try_get(4)?),
        metadata_uri,
        active: r.try_get::<i64, _>(6)? != 0,
        listed_block: u64_of(r.try_get(7)?),
    })
}

fn task_row(r: &AnyRow) -> Result<TaskRow> {
    Ok(TaskRow {
        task_id: u64_of(r.try_get(0)?),
        user: parsed(r, 1, "task user")?,
        service_id: u64_of(r.try_get(2)?),
        amount: amount(r, 3, "task amount")?,
        token: parsed(r, 4, "task token")?,
        deadline: r.try_get::<Option<i64>, _>(5)?.map(u64_of),
        input: r.try_get(6)?,
        status: parsed(r, 7, "task status")?,
        result_hash: r.try_get(8)?,
        failure_reason: r.try_get(9)?,
        created_block: u64_of(r.try_get(10)?),
        created_tx: parsed(r, 11, "task transaction")?,
        created_at: u64_of(r.try_get(12)?),
        updated_block: u64_of(r.try_get(13)?),
        updated_at: u64_of(r.try_get(14)?),
    })
}
