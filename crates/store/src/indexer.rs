//! The indexer's machinery: its cursor, the blocks it has seen, every log it stored, and the one
//! transaction that stores a batch of logs, applies them to the derived state and moves the
//! cursor. A reorg's rollback rebuilds the derived state from the logs that remain.

use sqlx::Row;

use crate::apply::apply_event;
use crate::column::{i64_of, u64_of};
use crate::{Error, MarketEvent, Result, Store, stored_event};

/// A block as the indexer saw it. Hashes are lower-case `0x` hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRef {
    /// Its height.
    pub number: u64,
    /// Its hash.
    pub hash: String,
    /// Its parent's hash: how the indexer notices a reorg.
    pub parent_hash: String,
    /// Its timestamp, unix seconds.
    pub timestamp: u64,
}

/// Where a log came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogMeta {
    /// The block that holds it.
    pub block_number: u64,
    /// That block's hash, `0x` hex.
    pub block_hash: String,
    /// That block's timestamp, unix seconds.
    pub block_timestamp: u64,
    /// The transaction that emitted it, `0x` hex; with `log_index`, its identity on a chain.
    pub tx_hash: String,
    /// Its position in the block.
    pub log_index: u64,
    /// The contract that emitted it, lower-case `0x` hex.
    pub address: String,
}

/// One decoded log ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedLog {
    /// Where it came from.
    pub meta: LogMeta,
    /// What it says.
    pub event: MarketEvent,
}

/// What the indexer hands the store in one transaction: the logs of blocks
/// `(cursor.number, blocks.last().number]` and the headers it checked them against. The last block
/// becomes the new cursor; the batch only applies if the cursor still stands at `expected_cursor`.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The chain the logs come from.
    pub chain_id: u64,
    /// The block the cursor stood at when the batch was fetched.
    pub expected_cursor: u64,
    /// The headers of the batch's range, oldest first.
    pub blocks: Vec<BlockRef>,
    /// The range's logs, in chain order.
    pub logs: Vec<IndexedLog>,
}

/// What [`Store::apply_batch`] did with a batch's logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyOutcome {
    /// Indices (into `Batch::logs`) of the logs stored and applied for the first time.
    pub applied: Vec<usize>,
    /// Logs that were already stored and were skipped.
    pub duplicates: usize,
}

/// The last block the indexer has fully stored on a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Its height.
    pub block_number: u64,
    /// Its hash, checked against the chain before each step.
    pub block_hash: String,
}

impl Store {
    /// The indexer's position on `chain_id`, if it has started there.
    pub async fn cursor(&self, chain_id: u64) -> Result<Option<Cursor>> {
        let row = sqlx::query("SELECT block_number, block_hash FROM indexer_cursor WHERE chain_id = $1")
            .bind(i64_of(chain_id)?)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| Ok(Cursor { block_number: u64_of(r.try_get(0)?), block_hash: r.try_get(1)? })).transpose()
    }

    /// Places the cursor at `start` (the block before the first one to index) unless it already
    /// exists. Returns the cursor in force.
    pub async fn init_cursor(&self, chain_id: u64, start: &BlockRef) -> Result<Cursor> {
        let mut tx = self.begin().await?;
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
        let mut tx = self.begin().await?;
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
        .fetch_all(self.pool())
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
        let mut tx = self.begin().await?;
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
        let derived = crate::data_market::DERIVED_TABLES.into_iter().chain(crate::fl_market::DERIVED_TABLES);
        for table in derived.chain(crate::board::DERIVED_TABLES) {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE chain_id = $1")))
                .bind(chain)
                .execute(&mut *tx)
                .await?;
        }
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
        let mut tx = self.begin().await?;
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

    /// Number of logs stored for `chain_id`.
    pub async fn log_count(&self, chain_id: u64) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM chain_logs WHERE chain_id = $1")
            .bind(i64_of(chain_id)?)
            .fetch_one(self.pool())
            .await?;
        Ok(u64_of(n))
    }
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
