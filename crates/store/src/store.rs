use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Row};

use crate::apply::{apply_event, i64_of, u64_of};
use crate::stored_event;
use crate::{ApplyOutcome, Batch, BlockRef, Cursor, Error, Result, ServiceRow, TaskRow, TaskStatus, TimelineEntry};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A handle on the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
}

impl Store {
    /// Connects to `url` (`sqlite://path` — created if missing — or `postgres://…`) and runs the
    /// migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        install_default_drivers();
        let is_sqlite = url.starts_with("sqlite:");
        let url = if is_sqlite && !url.contains("mode=") && !url.contains(":memory:") {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}mode=rwc")
        } else {
            url.to_owned()
        };
        let mut options = AnyPoolOptions::new().max_connections(if is_sqlite { 4 } else { 10 });
        if is_sqlite {
            options = options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    sqlx::query("PRAGMA journal_mode = WAL").execute(&mut *conn).await?;
                    sqlx::query("PRAGMA busy_timeout = 10000").execute(&mut *conn).await?;
                    // Every commit reaches the disk before it returns: an acknowledged voucher survives power loss.
                    sqlx::query("PRAGMA synchronous = FULL").execute(&mut *conn).await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(&url).await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The indexer's position on `chain_id`, if it has started there.
    pub async fn cursor(&self, chain_id: u64) -> Result<Option<Cursor>> {
        let row = sqlx::query("SELECT block_number, block_hash FROM indexer_cursor WHERE chain_id = $1")
            .bind(i64_of(chain_id)?)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok(Cursor { block_number: u64_of(r.try_get(0)?), block_hash: r.try_get(1)? })).transpose()
    }

    /// Places the cursor at `start` (the block before the first one to index) unless it already
    /// exists. Returns the cursor in force.
    pub async fn init_cursor(&self, chain_id: u64, start: &BlockRef) -> Result<Cursor> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO indexer_cursor (chain_id, block_number, block_hash) VALUES ($1, $2, $3) \
             ON CONFLICT (chain_id) DO NOTHING",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(start.number)?)
        .bind(&start.hash)
        .execute(&mut *tx)
        .await?;
        insert_block(&mut tx, chain_id, start).await?;
        tx.commit().await?;
        self.cursor(chain_id).await?.ok_or_else(|| Error::Inconsistent("cursor vanished after insert".into()))
    }

    /// Stores a batch of logs, applies each new one to the derived state and moves the cursor, all
    /// in one transaction. Logs already stored are skipped, so applying the same range twice changes
    /// nothing. Fails with [`Error::CursorMoved`] (and writes nothing) if the cursor is no longer at
    /// `batch.expected_cursor`.
    pub async fn apply_batch(&self, batch: &Batch) -> Result<ApplyOutcome> {
        let Some(last) = batch.blocks.last() else {
            return Ok(ApplyOutcome::default());
        };
        let chain = i64_of(batch.chain_id)?;
        let mut tx = self.pool.begin().await?;
        let moved = sqlx::query(
            "UPDATE indexer_cursor SET block_number = $1, block_hash = $2 WHERE chain_id = $3 AND block_number = $4",
        )
        .bind(i64_of(last.number)?)
        .bind(&last.hash)
        .bind(chain)
        .bind(i64_of(batch.expected_cursor)?)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() != 1 {
            tx.rollback().await?;
            let found = self.cursor(batch.chain_id).await?.map(|c| c.block_number);
            return Err(Error::CursorMoved { chain_id: batch.chain_id, expected: batch.expected_cursor, found });
        }
        for block in &batch.blocks {
            insert_block(&mut tx, batch.chain_id, block).await?;
        }
        let mut outcome = ApplyOutcome::default();
        for (i, log) in batch.logs.iter().enumerate() {
            let m = &log.meta;
            let inserted = sqlx::query(
                "INSERT INTO chain_logs (chain_id, block_number, block_hash, block_timestamp, tx_hash, log_index, \
                 address, kind, subject, event) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (chain_id, tx_hash, log_index) DO NOTHING",
            )
            .bind(chain)
            .bind(i64_of(m.block_number)?)
            .bind(&m.block_hash)
            .bind(i64_of(m.block_timestamp)?)
            .bind(&m.tx_hash)
            .bind(i64_of(m.log_index)?)
            .bind(&m.address)
            .bind(log.event.kind())
            .bind(log.event.subject())
            .bind(stored_event::encode(&log.event))
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 0 {
                outcome.duplicates += 1;
                continue;
            }
            apply_event(&mut tx, batch.chain_id, m, &log.event).await?;
            outcome.applied.push(i);
        }
        tx.commit().await?;
        Ok(outcome)
    }

    /// The most recent blocks the indexer stored for `chain_id`, newest first.
    pub async fn recent_blocks(&self, chain_id: u64, limit: u32) -> Result<Vec<BlockRef>> {
        let rows = sqlx::query(
            "SELECT number, hash, parent_hash, timestamp FROM indexed_blocks WHERE chain_id = $1 \
             ORDER BY number DESC LIMIT $2",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(BlockRef {
                    number: u64_of(r.try_get(0)?),
                    hash: r.try_get(1)?,
                    parent_hash: r.try_get(2)?,
                    timestamp: u64_of(r.try_get(3)?),
                })
            })
            .collect()
    }

    /// Undoes everything indexed after `ancestor` (the newest block still on the canonical chain):
    /// drops the later logs and blocks, rebuilds the derived state from the logs that remain and
    /// moves the cursor back, in one transaction. Returns how many logs were dropped.
    pub async fn rollback_to(&self, chain_id: u64, ancestor: &BlockRef) -> Result<u64> {
        let chain = i64_of(chain_id)?;
        let keep = i64_of(ancestor.number)?;
        let mut tx = self.pool.begin().await?;
        let removed = sqlx::query("DELETE FROM chain_logs WHERE chain_id = $1 AND block_number > $2")
            .bind(chain)
            .bind(keep)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM indexed_blocks WHERE chain_id = $1 AND number > $2")
            .bind(chain)
            .bind(keep)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE indexer_cursor SET block_number = $1, block_hash = $2 WHERE chain_id = $3")
            .bind(keep)
            .bind(&ancestor.hash)
            .bind(chain)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM tasks WHERE chain_id = $1").bind(chain).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM services WHERE chain_id = $1").bind(chain).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM channels WHERE chain_id = $1").bind(chain).execute(&mut *tx).await?;
        let rows = sqlx::query(
            "SELECT block_number, block_hash, block_timestamp, tx_hash, log_index, address, event FROM chain_logs \
             WHERE chain_id = $1 ORDER BY block_number, log_index",
        )
        .bind(chain)
        .fetch_all(&mut *tx)
        .await?;
        for r in rows {
            let meta = crate::LogMeta {
                block_number: u64_of(r.try_get(0)?),
                block_hash: r.try_get(1)?,
                block_timestamp: u64_of(r.try_get(2)?),
                tx_hash: r.try_get(3)?,
                log_index: u64_of(r.try_get(4)?),
                address: r.try_get(5)?,
            };
            let event = stored_event::decode(&r.try_get::<String, _>(6)?)?;
            apply_event(&mut tx, chain_id, &meta, &event).await?;
        }
        tx.commit().await?;
        Ok(removed)
    }

    /// Moves the cursor back to `to` without touching stored logs, so the indexer scans the range
    /// after it again (an operator's re-scan). Logs already stored are skipped when they come back.
    pub async fn rewind_cursor(&self, chain_id: u64, to: &BlockRef) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE indexer_cursor SET block_number = $1, block_hash = $2 WHERE chain_id = $3")
            .bind(i64_of(to.number)?)
            .bind(&to.hash)
            .bind(i64_of(chain_id)?)
            .execute(&mut *tx)
            .await?;
        insert_block(&mut tx, chain_id, to).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Forgets everything indexed from `chain_id` (a dev chain that was started afresh).
    pub async fn reset_chain(&self, chain_id: u64) -> Result<()> {
        let chain = i64_of(chain_id)?;
        let mut tx = self.pool.begin().await?;
        for table in [
            "tasks",
            "services",
            "channels",
            "channel_vouchers",
            "channel_settlements",
            "compute_jobs",
            "iexec_jobs",
            "iexec_apps",
            "chain_logs",
            "indexed_blocks",
            "indexer_cursor",
        ] {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE chain_id = $1")))
                .bind(chain)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Number of logs stored for `chain_id`.
    pub async fn log_count(&self, chain_id: u64) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM chain_logs WHERE chain_id = $1")
            .bind(i64_of(chain_id)?)
            .fetch_one(&self.pool)
            .await?;
        Ok(u64_of(n))
    }

    pub async fn services(&self, chain_id: u64) -> Result<Vec<ServiceRow>> {
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(format!("{SERVICE_SELECT} WHERE chain_id = $1 ORDER BY service_id")))
                .bind(i64_of(chain_id)?)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(service_row).collect()
    }

    pub async fn service(&self, chain_id: u64, service_id: u64) -> Result<Option<ServiceRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SERVICE_SELECT} WHERE chain_id = $1 AND service_id = $2")))
            .bind(i64_of(chain_id)?)
            .bind(i64_of(service_id)?)
            .fetch_optional(&self.pool)
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
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(task_row).collect()
    }

    pub async fn task(&self, chain_id: u64, task_id: u64) -> Result<Option<TaskRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{TASK_SELECT} WHERE chain_id = $1 AND task_id = $2")))
            .bind(i64_of(chain_id)?)
            .bind(i64_of(task_id)?)
            .fetch_optional(&self.pool)
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
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(TimelineEntry {
                    kind: r.try_get(0)?,
                    block_number: u64_of(r.try_get(1)?),
                    block_timestamp: u64_of(r.try_get(2)?),
                    tx_hash: r.try_get(3)?,
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

fn service_row(r: &sqlx::any::AnyRow) -> Result<ServiceRow> {
    let metadata_uri: String = r.try_get(5)?;
    Ok(ServiceRow {
        metadata: agora_market::ServiceMetadata::from_uri(&metadata_uri),
        service_id: u64_of(r.try_get(0)?),
        provider: typed(r, 1, "service provider")?,
        token: typed(r, 2, "service token")?,
        price: amount(r, 3, "service price")?,
        max_run_time: u64_of(r.try_get(4)?),
        metadata_uri,
        active: r.try_get::<i64, _>(6)? != 0,
        listed_block: u64_of(r.try_get(7)?),
    })
}

/// Column `i` parsed into its Rust type (an address, a hash): the store writes these as hex, so a
/// value that does not parse is a corrupt row.
fn typed<T: std::str::FromStr>(r: &sqlx::any::AnyRow, i: usize, what: &str) -> Result<T> {
    let text: String = r.try_get(i)?;
    text.parse().map_err(|_| Error::Inconsistent(format!("stored {what} {text:?} does not parse")))
}

/// Column `i`, a decimal amount, as a `U256`.
fn amount(r: &sqlx::any::AnyRow, i: usize, what: &str) -> Result<alloy::primitives::U256> {
    let text: String = r.try_get(i)?;
    alloy::primitives::U256::from_str_radix(&text, 10)
        .map_err(|_| Error::Inconsistent(format!("stored {what} {text:?} is not a decimal amount")))
}

fn task_row(r: &sqlx::any::AnyRow) -> Result<TaskRow> {
    let status: String = r.try_get(7)?;
    Ok(TaskRow {
        task_id: u64_of(r.try_get(0)?),
        user: typed(r, 1, "task user")?,
        service_id: u64_of(r.try_get(2)?),
        amount: amount(r, 3, "task amount")?,
        token: typed(r, 4, "task token")?,
        deadline: r.try_get::<Option<i64>, _>(5)?.map(u64_of),
        input: r.try_get(6)?,
        status: TaskStatus::parse(&status)
            .ok_or_else(|| Error::Inconsistent(format!("unknown task status {status:?}")))?,
        result_hash: r.try_get(8)?,
        failure_reason: r.try_get(9)?,
        created_block: u64_of(r.try_get(10)?),
        created_tx: typed(r, 11, "task transaction")?,
        created_at: u64_of(r.try_get(12)?),
        updated_block: u64_of(r.try_get(13)?),
        updated_at: u64_of(r.try_get(14)?),
    })
}

async fn insert_block(tx: &mut sqlx::Transaction<'_, sqlx::Any>, chain_id: u64, b: &BlockRef) -> Result<()> {
    sqlx::query(
        "INSERT INTO indexed_blocks (chain_id, number, hash, parent_hash, timestamp) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (chain_id, number) DO UPDATE SET hash = excluded.hash, parent_hash = excluded.parent_hash, \
         timestamp = excluded.timestamp",
    )
    .bind(i64_of(chain_id)?)
    .bind(i64_of(b.number)?)
    .bind(&b.hash)
    .bind(&b.parent_hash)
    .bind(i64_of(b.timestamp)?)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
