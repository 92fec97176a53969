//! The Agora workerpool's progress: the block up to which it has read deals, and each task's stage.

use alloy::primitives::{Address, B256};
use sqlx::Row;

use crate::column::{self, i64_of, parsed, parsed_opt, stored_enum, u64_of};
use crate::{Error, Result, Store};

/// One worker of one workerpool on one chain. `genesis` is the hash of the chain's block 0: a fresh
/// dev chain has the chain id of the last one, never its genesis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerScope {
    /// The chain.
    pub chain_id: u64,
    /// The hash of the chain's block 0.
    pub genesis: B256,
    /// The iExec hub.
    pub hub: Address,
    /// The workerpool.
    pub workerpool: Address,
    /// The worker's address.
    pub worker: Address,
}

impl WorkerScope {
    /// The scope's columns as stored: lower-case hex, in `WHERE` order after the chain id.
    fn keys(&self) -> [String; 4] {
        [column::hex(self.genesis), column::hex(self.hub), column::hex(self.workerpool), column::hex(self.worker)]
    }
}

stored_enum! {
    /// Where a task stands for this worker. Each stage is recorded before the work of the next begins.
    pub enum WorkerStage {
        /// Found in a deal on the pool.
        Seen => "seen",
        /// Initialized on the hub (by this worker or another).
        Initialized => "initialized",
        /// The result archive is in the content store; its CID and digest are recorded.
        Stored => "stored",
        /// `contributeAndFinalize` was sent (its hash in `tx_hash`); it may or may not be mined.
        Contributing => "contributing",
        /// This worker cannot finish the task (`failure_reason`); it waits for the final deadline to claim.
        Failed => "failed",
        /// `claim` was sent.
        Claiming => "claiming",
        /// Final on the hub (`outcome` says how).
        Done => "done",
    }
}

stored_enum! {
    /// How a task that is final on the hub ended for this worker.
    pub enum WorkerOutcome {
        /// Completed with this worker's contribution.
        Completed => "completed",
        /// Completed by other workers' contributions.
        CompletedByAnotherWorker => "completed-by-another-worker",
        /// Claimed by this worker after its final deadline.
        Claimed => "claimed",
        /// Claimed by someone else.
        ClaimedBySomeoneElse => "claimed-by-someone-else",
    }
}

/// A task of a deal, as first recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWorkerTask {
    /// The iExec task id (`keccak256(dealid, idx)`).
    pub task_id: B256,
    /// Its deal.
    pub deal_id: B256,
    /// Its index in the deal.
    pub idx: u64,
}

/// A task of this worker, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerTaskRow {
    /// The iExec task id.
    pub task_id: B256,
    /// Its deal.
    pub deal_id: B256,
    /// Its index in the deal.
    pub idx: u64,
    /// Where it stands.
    pub stage: WorkerStage,
    /// The result archive's CID (a zip of the output and `computed.json`), once stored.
    pub result_cid: Option<String>,
    /// The output file's own CID, once stored.
    pub output_cid: Option<String>,
    /// The result digest contributed (SHA-256 of the output), once stored.
    pub result_digest: Option<B256>,
    /// Why this worker gave the task up, if it did.
    pub failure_reason: Option<String>,
    /// The last transaction sent for it (contribution or claim).
    pub tx_hash: Option<B256>,
    /// How it ended, once done.
    pub outcome: Option<WorkerOutcome>,
    /// When it last changed, unix seconds.
    pub updated_at: u64,
}

/// Fields to set with a stage change; `None` keeps the stored value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerTaskUpdate<'a> {
    /// The result archive's CID.
    pub result_cid: Option<&'a str>,
    /// The output file's CID.
    pub output_cid: Option<&'a str>,
    /// The result digest.
    pub result_digest: Option<B256>,
    /// Why the task was given up.
    pub failure_reason: Option<&'a str>,
    /// The transaction just sent.
    pub tx_hash: Option<B256>,
    /// How the task ended.
    pub outcome: Option<WorkerOutcome>,
}

/// The `WHERE` clause naming a scope (binds `$1`…`$5`); a macro so queries stay literals.
macro_rules! scope {
    () => {
        "chain_id = $1 AND genesis = $2 AND hub = $3 AND workerpool = $4 AND worker = $5"
    };
}

/// The columns of a [`WorkerTaskRow`], in its order.
macro_rules! task_columns {
    () => {
        "SELECT task_id, deal_id, idx, stage, result_cid, output_cid, result_digest, failure_reason, tx_hash, \
         outcome, updated_at FROM iexec_worker_tasks WHERE "
    };
}

impl Store {
    /// The next block this worker has not read deals from, if it has started on this chain.
    pub async fn iexec_worker_cursor(&self, s: &WorkerScope) -> Result<Option<u64>> {
        let [genesis, hub, workerpool, worker] = s.keys();
        let row = sqlx::query(concat!("SELECT next_block FROM iexec_worker_cursor WHERE ", scope!()))
            .bind(i64_of(s.chain_id)?)
            .bind(genesis.clone())
            .bind(hub.clone())
            .bind(workerpool.clone())
            .bind(worker.clone())
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get::<i64, _>(0).map(u64_of)).transpose()?)
    }

    /// Records the tasks of the deals found in blocks up to `next_block - 1` and moves the cursor
    /// there, in one transaction, if the cursor still stands at `expected` (`None`: not started).
    /// Tasks already recorded are left as they are. Fails with [`Error::CursorMoved`] otherwise.
    pub async fn iexec_worker_record_deals(
        &self,
        s: &WorkerScope,
        expected: Option<u64>,
        next_block: u64,
        tasks: &[NewWorkerTask],
        now: u64,
    ) -> Result<()> {
        let [genesis, hub, workerpool, worker] = s.keys();
        let mut tx = self.begin().await?;
        let found: Option<i64> = sqlx::query(concat!("SELECT next_block FROM iexec_worker_cursor WHERE ", scope!()))
            .bind(i64_of(s.chain_id)?)
            .bind(genesis.clone())
            .bind(hub.clone())
            .bind(workerpool.clone())
            .bind(worker.clone())
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        let found = found.map(u64_of);
        if found != expected {
            return Err(Error::CursorMoved { chain_id: s.chain_id, expected: expected.unwrap_or_default(), found });
        }
        for t in tasks {
            sqlx::query(
                "INSERT INTO iexec_worker_tasks (chain_id, genesis, hub, workerpool, worker, task_id, deal_id, idx, \
                 stage, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (chain_id, genesis, hub, workerpool, worker, task_id) DO NOTHING",
            )
            .bind(i64_of(s.chain_id)?)
            .bind(genesis.clone())
            .bind(hub.clone())
            .bind(workerpool.clone())
            .bind(worker.clone())
            .bind(column::hex(t.task_id))
            .bind(column::hex(t.deal_id))
            .bind(i64_of(t.idx)?)
            .bind(WorkerStage::Seen.as_str())
            .bind(i64_of(now)?)
            .execute(&mut *tx)
            .await?;
        }
        let sql = if expected.is_some() {
            concat!("UPDATE iexec_worker_cursor SET next_block = $6 WHERE ", scope!())
        } else {
            "INSERT INTO iexec_worker_cursor (chain_id, genesis, hub, workerpool, worker, next_block) \
             VALUES ($1, $2, $3, $4, $5, $6)"
        };
        sqlx::query(sql)
            .bind(i64_of(s.chain_id)?)
            .bind(genesis.clone())
            .bind(hub.clone())
            .bind(workerpool.clone())
            .bind(worker.clone())
            .bind(i64_of(next_block)?)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// This worker's tasks that are not done, oldest first.
    pub async fn iexec_worker_open_tasks(&self, s: &WorkerScope) -> Result<Vec<WorkerTaskRow>> {
        let q = sqlx::query(concat!(task_columns!(), scope!(), " AND stage <> 'done' ORDER BY updated_at, task_id"));
        rows_of(bind_scope(q, s)?.fetch_all(self.pool()).await?)
    }

    /// Every task of this worker (tests, status).
    pub async fn iexec_worker_tasks(&self, s: &WorkerScope) -> Result<Vec<WorkerTaskRow>> {
        let q = sqlx::query(concat!(task_columns!(), scope!(), " ORDER BY updated_at, task_id"));
        rows_of(bind_scope(q, s)?.fetch_all(self.pool()).await?)
    }

    /// One task of this worker.
    pub async fn iexec_worker_task(&self, s: &WorkerScope, task_id: B256) -> Result<Option<WorkerTaskRow>> {
        let q = sqlx::query(concat!(task_columns!(), scope!(), " AND task_id = $6"));
        Ok(rows_of(bind_scope(q, s)?.bind(column::hex(task_id)).fetch_all(self.pool()).await?)?.into_iter().next())
    }

    /// Moves a task to `stage`, setting the fields `update` gives.
    pub async fn iexec_worker_set_stage(
        &self,
        s: &WorkerScope,
        task_id: B256,
        stage: WorkerStage,
        update: &WorkerTaskUpdate<'_>,
        now: u64,
    ) -> Result<()> {
        let [genesis, hub, workerpool, worker] = s.keys();
        let sql = concat!(
            "UPDATE iexec_worker_tasks SET stage = $6, result_cid = COALESCE($7, result_cid), \
             output_cid = COALESCE($8, output_cid), result_digest = COALESCE($9, result_digest), \
             failure_reason = COALESCE($10, failure_reason), tx_hash = COALESCE($11, tx_hash), \
             outcome = COALESCE($12, outcome), updated_at = $13 WHERE ",
            scope!(),
            " AND task_id = $14"
        );
        let done = sqlx::query(sql)
            .bind(i64_of(s.chain_id)?)
            .bind(genesis.clone())
            .bind(hub.clone())
            .bind(workerpool.clone())
            .bind(worker.clone())
            .bind(stage.as_str())
            .bind(update.result_cid)
            .bind(update.output_cid)
            .bind(update.result_digest.map(column::hex))
            .bind(update.failure_reason)
            .bind(update.tx_hash.map(column::hex))
            .bind(update.outcome.map(WorkerOutcome::as_str))
            .bind(i64_of(now)?)
            .bind(column::hex(task_id))
            .execute(self.pool())
            .await?;
        if done.rows_affected() != 1 {
            return Err(Error::Inconsistent(format!("no workerpool task {task_id} to move to {}", stage.as_str())));
        }
        Ok(())
    }

    /// Forgets what workers did on earlier chains with this chain id (a dev chain started afresh).
    pub async fn iexec_worker_forget_other_chains(&self, chain_id: u64, genesis: B256) -> Result<u64> {
        let mut removed = 0;
        for sql in [
            "DELETE FROM iexec_worker_tasks WHERE chain_id = $1 AND genesis <> $2",
            "DELETE FROM iexec_worker_cursor WHERE chain_id = $1 AND genesis <> $2",
        ] {
            removed += sqlx::query(sql)
                .bind(i64_of(chain_id)?)
                .bind(column::hex(genesis))
                .execute(self.pool())
                .await?
                .rows_affected();
        }
        Ok(removed)
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

fn bind_scope<'q>(q: AnyQuery<'q>, s: &WorkerScope) -> Result<AnyQuery<'q>> {
    let [genesis, hub, workerpool, worker] = s.keys();
    Ok(q.bind(i64_of(s.chain_id)?).bind(genesis).bind(hub).bind(workerpool).bind(worker))
}

fn rows_of(rows: Vec<sqlx::any::AnyRow>) -> Result<Vec<WorkerTaskRow>> {
    rows.into_iter()
        .map(|r| {
            Ok(WorkerTaskRow {
                task_id: parsed(&r, 0, "workerpool task id")?,
                deal_id: parsed(&r, 1, "workerpool deal id")?,
                idx: u64_of(r.try_get(2)?),
                stage: parsed(&r, 3, "workerpool task stage")?,
                result_cid: r.try_get(4)?,
                output_cid: r.try_get(5)?,
                result_digest: parsed_opt(&r, 6, "result digest")?,
                failure_reason: r.try_get(7)?,
                tx_hash: parsed_opt(&r, 8, "workerpool transaction")?,
                outcome: parsed_opt(&r, 9, "workerpool task outcome")?,
                updated_at: u64_of(r.try_get(10)?),
            })
        })
        .collect()
}
