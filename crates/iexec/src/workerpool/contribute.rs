//! The two transactions a worker must not lose track of: `contributeAndFinalize` and `claim`.
//! Each one's hash is recorded (stage `Contributing` or `Claiming`) before its receipt is waited
//! for, so a worker killed in between finds it again instead of sending a second one.

use agora_content::Cid;
use agora_store::{WorkerStage, WorkerTaskRow, WorkerTaskUpdate};
use alloy::primitives::{Address, B256, Bytes};

use super::Workerpool;
use super::sign::{authorization_signature, enclave_key, enclave_signature};
use crate::bindings::IexecHub;
use crate::task::{self, Claim, TaskStatus};
use crate::tx::{self, call_error};
use crate::{Error, Result};

impl Workerpool {
    /// Sends `contributeAndFinalize` with the stored result; `None` when another worker got
    /// there first.
    pub(super) async fn contribute(
        &self,
        row: &WorkerTaskRow,
        task_id: B256,
        deal_id: B256,
    ) -> Result<Option<WorkerStage>> {
        let missing = |what: &str| Error::Invalid(format!("task {task_id}: no stored {what}"));
        let cid: Cid = row.result_cid.as_deref().and_then(|c| c.parse().ok()).ok_or_else(|| missing("result CID"))?;
        let digest = row.result_digest.ok_or_else(|| missing("result digest"))?;
        let (enclave, enclave_sign, authorization) = self.signatures(deal_id, task_id, digest).await?;
        let results = crate::result::results_json(&cid);
        let hub = IexecHub::new(self.cfg.hub, self.cfg.worker.provider());
        let call = hub.contributeAndFinalize(
            task_id,
            digest,
            Bytes::from(results.into_bytes()),
            Bytes::new(),
            enclave,
            enclave_sign,
            authorization,
        );
        let sent = match tx::submit(&self.cfg.worker, &format!("contributeAndFinalize({task_id})"), call).await {
            Ok(sent) => sent,
            Err(e) => {
                // Completed by another worker in the meantime: the next round records it.
                let view = self.view_task(task_id).await?;
                if view.status != TaskStatus::Active || !view.task.contributors.is_empty() {
                    return Ok(None);
                }
                return Err(e);
            }
        };
        let tx = sent.tx_hash();
        let update = WorkerTaskUpdate { tx_hash: Some(tx), ..Default::default() };
        self.set(row.task_id, WorkerStage::Contributing, update).await?;
        self.failpoint("contribute-sent");
        match sent.confirm().await {
            Ok(receipt) => tracing::info!(
                gas = receipt.gas_used,
                "iExec task {task_id} contributed and finalized: result=/ipfs/{cid} digest={digest} (tx {tx})"
            ),
            // The next round sees it reverted and goes back to `Stored`.
            Err(Error::Reverted { .. }) => {
                tracing::warn!("contributeAndFinalize for {task_id} reverted on chain (tx {tx})")
            }
            Err(e) => return Err(e),
        }
        Ok(Some(WorkerStage::Contributing))
    }

    /// The enclave's address and signature (TEE-tagged deals only; zero and empty otherwise) and
    /// the owner's authorization for this worker and that enclave.
    async fn signatures(&self, deal_id: B256, task_id: B256, digest: B256) -> Result<(Address, Bytes, Bytes)> {
        let deal = self.hub().viewDeal(deal_id).call().await.map_err(|e| call_error("viewDeal", e))?;
        let worker = self.cfg.worker.address();
        let tee = deal.tag.0[31] & 0x01 == 1;
        let (enclave, enclave_sign) = if tee {
            let key = enclave_key(self.cfg.worker.signer(), task_id)?;
            let sign = enclave_signature(&key, worker, task_id, digest)?;
            (key.address(), sign)
        } else {
            (Address::ZERO, Bytes::new())
        };
        let authorization = authorization_signature(self.cfg.owner.signer(), worker, task_id, enclave)?;
        Ok((enclave, enclave_sign, authorization))
    }

    /// Sends `claim`; `None` when the hub does not accept it (not yet, or the task is final).
    pub(super) async fn claim(
        &self,
        row: &WorkerTaskRow,
        deal_id: B256,
        status: TaskStatus,
    ) -> Result<Option<WorkerStage>> {
        let hub = IexecHub::new(self.cfg.hub, self.cfg.worker.provider());
        let sent = match task::claim(&self.cfg.worker, &hub, deal_id, row.idx, status).await? {
            Claim::Sent(sent) => sent,
            // A final task is recorded as such on the next round.
            Claim::Final(_) | Claim::NotYet => return Ok(None),
        };
        let tx = sent.tx_hash();
        let update = WorkerTaskUpdate { tx_hash: Some(tx), ..Default::default() };
        self.set(row.task_id, WorkerStage::Claiming, update).await?;
        self.failpoint("claim-sent");
        match sent.confirm().await {
            Ok(_) => tracing::info!("iExec task {} claimed: the requester's funds are released (tx {tx})", row.task_id),
            // The next round sees it reverted and claims again.
            Err(Error::Reverted { .. }) => {}
            Err(e) => return Err(e),
        }
        Ok(Some(WorkerStage::Claiming))
    }
}
