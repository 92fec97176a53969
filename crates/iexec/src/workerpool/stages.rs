//! One task moved through its stages, each recorded before the next begins: `Seen` →
//! `Initialized` (whoever came first) → `Stored` (the app ran, the archive is in the content
//! store) → `Contributing` (the transaction's hash recorded) → `Done`; or, when this worker cannot
//! finish it, `Failed` → `Claiming` once the final deadline is past → `Done`. The task is read
//! back from the hub before every step, so a restart at any point repeats nothing.

use std::sync::Arc;

use agora_store::{WorkerOutcome, WorkerStage, WorkerTaskRow, WorkerTaskUpdate};
use alloy::eips::BlockNumberOrTag;
use alloy::primitives::B256;
use alloy::providers::Provider;

use super::{Workerpool, now};
use crate::bindings::IexecHub;
use crate::task::{self, TaskStatus};
use crate::tx::call_error;
use crate::{Error, Result};

/// The hub's view of a task, with the chain's time when it was read.
pub(super) struct TaskView {
    pub(super) task: IexecHub::Task,
    pub(super) status: TaskStatus,
    pub(super) chain_time: u64,
}

/// What one stage led to.
enum Step {
    /// The task is now at this stage.
    To(WorkerStage),
    /// Look at the task again now.
    Again,
    /// Nothing to do until a later round.
    Later,
}

/// What became of a sent transaction.
enum Sent {
    Pending,
    Mined,
    Reverted,
    Lost,
}

impl Workerpool {
    /// Moves one task through its stages until it is done, or until it must wait for a later
    /// round (failed and not claimable yet, another worker's transaction pending).
    pub(super) async fn drive(self: &Arc<Self>, mut row: WorkerTaskRow) -> Result<()> {
        let (task_id, deal_id) = (row.task_id, row.deal_id);
        loop {
            let view = self.view_task(task_id).await?;
            // Final on the hub, whoever got it there.
            if view.status.is_final() {
                return self.finish(&row, task_id, &view).await;
            }
            let step = match row.stage {
                WorkerStage::Seen => self.on_seen(&row, deal_id, &view).await?,
                WorkerStage::Initialized => self.on_initialized(&mut row, deal_id, &view).await?,
                WorkerStage::Stored => self.on_stored(&row, task_id, deal_id, &view).await?,
                WorkerStage::Contributing => self.on_contributing(&row, task_id).await?,
                WorkerStage::Failed => self.on_failed(&row, deal_id, &view).await?,
                WorkerStage::Claiming => self.on_claiming(&row).await?,
                WorkerStage::Done => Step::Later,
            };
            match step {
                Step::To(stage) => row.stage = stage,
                Step::Again => {}
                Step::Later => return Ok(()),
            }
        }
    }

    /// Records how a task that is final on the hub ended for this worker.
    async fn finish(&self, row: &WorkerTaskRow, task_id: B256, view: &TaskView) -> Result<()> {
        let ours = view.task.contributors.contains(&self.cfg.worker.address());
        let outcome = match (view.status, ours, row.stage) {
            (TaskStatus::Completed, true, _) => WorkerOutcome::Completed,
            (TaskStatus::Completed, false, _) => WorkerOutcome::CompletedByAnotherWorker,
            (_, _, WorkerStage::Claiming) => WorkerOutcome::Claimed,
            _ => WorkerOutcome::ClaimedBySomeoneElse,
        };
        self.set(row.task_id, WorkerStage::Done, WorkerTaskUpdate { outcome: Some(outcome), ..Default::default() })
            .await?;
        tracing::info!(
            "iExec task {task_id} {} ({outcome}){}",
            view.status,
            row.result_cid.as_deref().map(|c| format!(" result=/ipfs/{c}")).unwrap_or_default()
        );
        Ok(())
    }

    /// `Seen`: initialized (by this worker unless someone did already).
    async fn on_seen(&self, row: &WorkerTaskRow, deal_id: B256, view: &TaskView) -> Result<Step> {
        if view.status == TaskStatus::Unset {
            let hub = IexecHub::new(self.cfg.hub, self.cfg.worker.provider());
            task::initialize(&self.cfg.worker, &hub, deal_id, row.idx).await?;
        }
        self.set(row.task_id, WorkerStage::Initialized, WorkerTaskUpdate::default()).await?;
        self.failpoint("initialized");
        Ok(Step::To(WorkerStage::Initialized))
    }

    /// `Initialized`: the app run and its result stored, or the task given up.
    async fn on_initialized(&self, row: &mut WorkerTaskRow, deal_id: B256, view: &TaskView) -> Result<Step> {
        if let Some(reason) = self.too_late(view) {
            return self.fail(row.task_id, &reason).await;
        }
        let _slot = self.slots.acquire().await.map_err(|_| Error::Invalid("the task slots are closed".into()))?;
        let result = match self.execute(deal_id, view).await? {
            Ok(result) => result,
            Err(reason) => return self.fail(row.task_id, &reason).await,
        };
        let digest = result.digest;
        let (zip_cid, out_cid) = (result.zip_cid.to_string(), result.output_cid.to_string());
        let update = WorkerTaskUpdate {
            result_cid: Some(&zip_cid),
            output_cid: Some(&out_cid),
            result_digest: Some(digest),
            ..Default::default()
        };
        self.set(row.task_id, WorkerStage::Stored, update).await?;
        row.result_cid = Some(zip_cid);
        row.result_digest = Some(digest);
        self.failpoint("stored");
        Ok(Step::To(WorkerStage::Stored))
    }

    /// `Stored`: contributed, unless others' contributions or the deadline came first.
    async fn on_stored(&self, row: &WorkerTaskRow, task_id: B256, deal_id: B256, view: &TaskView) -> Result<Step> {
        if view.status != TaskStatus::Active || !view.task.contributors.is_empty() {
            // Contributions of a consensus this worker is not part of.
            return self.fail(row.task_id, "other workers' contributions are being revealed").await;
        }
        if let Some(reason) = self.too_late(view) {
            return self.fail(row.task_id, &reason).await;
        }
        Ok(match self.contribute(row, task_id, deal_id).await? {
            Some(stage) => Step::To(stage),
            None => Step::Later,
        })
    }

    /// `Contributing` while the task is still ACTIVE: this worker's transaction is pending,
    /// reverted or lost.
    async fn on_contributing(&self, row: &WorkerTaskRow, task_id: B256) -> Result<Step> {
        match self.pending_state(row.tx_hash).await? {
            Sent::Pending => {
                tokio::time::sleep(self.cfg.poll).await;
                Ok(Step::Again)
            }
            Sent::Reverted => {
                self.set(row.task_id, WorkerStage::Stored, WorkerTaskUpdate::default()).await?;
                Err(Error::Reverted {
                    what: format!("contributeAndFinalize({task_id})"),
                    reason: "the transaction reverted; retrying".into(),
                })
            }
            // Mined since the task was read: read it again.
            Sent::Mined => Ok(Step::Again),
            Sent::Lost => Ok(Step::To(WorkerStage::Stored)),
        }
    }

    /// `Failed`: claimed once the chain's time is past the final deadline.
    async fn on_failed(&self, row: &WorkerTaskRow, deal_id: B256, view: &TaskView) -> Result<Step> {
        if view.chain_time < view.task.finalDeadline.try_into().unwrap_or(u64::MAX) {
            return Ok(Step::Later);
        }
        Ok(match self.claim(row, deal_id, view.status).await? {
            Some(stage) => Step::To(stage),
            None => Step::Later,
        })
    }

    /// `Claiming` while the task is not final: the claim is pending, or is to be sent again.
    async fn on_claiming(&self, row: &WorkerTaskRow) -> Result<Step> {
        match self.pending_state(row.tx_hash).await? {
            Sent::Pending => {
                tokio::time::sleep(self.cfg.poll).await;
                Ok(Step::Again)
            }
            Sent::Mined => Ok(Step::Again),
            Sent::Reverted | Sent::Lost => {
                self.set(row.task_id, WorkerStage::Failed, WorkerTaskUpdate::default()).await?;
                Ok(Step::Later)
            }
        }
    }

    pub(super) async fn view_task(&self, task_id: B256) -> Result<TaskView> {
        let task = self.hub().viewTask(task_id).call().await.map_err(|e| call_error("viewTask", e))?;
        let status = TaskStatus::try_from(task.status)?;
        let latest = self
            .read
            .get_block_by_number(BlockNumberOrTag::Latest)
            .await?
            .map(|b| b.header.timestamp)
            .unwrap_or_default();
        // The next block is stamped no earlier than now, even when the chain has been idle.
        Ok(TaskView { task, status, chain_time: latest.max(now()) })
    }

    pub(super) async fn set(&self, task_id: B256, stage: WorkerStage, update: WorkerTaskUpdate<'_>) -> Result<()> {
        self.store.iexec_worker_set_stage(&self.scope, task_id, stage, &update, now()).await?;
        Ok(())
    }

    /// Why the task can no longer be contributed, if it cannot.
    fn too_late(&self, view: &TaskView) -> Option<String> {
        let deadline: u64 = view.task.contributionDeadline.try_into().unwrap_or(u64::MAX);
        (view.chain_time + 5 >= deadline).then(|| format!("contribution deadline {deadline} passed"))
    }

    async fn fail(&self, task_id: B256, reason: &str) -> Result<Step> {
        tracing::warn!(
            "iExec task {task_id} cannot be finished by this worker: {reason}; it will be claimed after its final deadline"
        );
        self.set(task_id, WorkerStage::Failed, WorkerTaskUpdate { failure_reason: Some(reason), ..Default::default() })
            .await?;
        Ok(Step::To(WorkerStage::Failed))
    }

    /// What became of a transaction this worker recorded as sent.
    async fn pending_state(&self, tx: Option<B256>) -> Result<Sent> {
        let Some(hash) = tx else {
            return Ok(Sent::Lost);
        };
        if let Some(receipt) = self.read.get_transaction_receipt(hash).await? {
            return Ok(if receipt.status() { Sent::Mined } else { Sent::Reverted });
        }
        Ok(if self.read.get_transaction_by_hash(hash).await?.is_some() { Sent::Pending } else { Sent::Lost })
    }
}
