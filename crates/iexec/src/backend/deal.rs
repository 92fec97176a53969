//! The deal: the orders filled into one (or the one a restart finds already made), its final
//! deadline, the claim after it, and the result once completed.

use agora_content::{Cid, ContentStore};
use agora_store::IexecJobRow;
use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::providers::Provider;
use serde_json::{Value, json};

use super::request::u256_of;
use super::{Backend, IexecRequest, invalid, now, write_json};
use crate::bindings::IexecHub;
use crate::task::{self, Claim, TaskStatus};
use crate::tx::call_error;
use crate::{Error, Result};

impl Backend {
    /// The deal of the job's request order: found on chain when the order was already filled
    /// (a restart after `order fill`), else made now.
    pub(super) async fn find_or_fill(&self, req: &IexecRequest<'_>, job: &IexecJobRow) -> Result<B256> {
        let hash = job.request_hash.ok_or_else(|| invalid("no request hash"))?;
        let expected = keccak256([hash.as_slice(), &[0u8; 32]].concat());
        let hub = self.hub();
        let consumed = hub.viewConsumed(hash).call().await.map_err(|e| call_error("viewConsumed", e))?;
        if consumed > U256::ZERO {
            tracing::info!(task_id = req.task_id, "request order already filled: deal {expected}");
            return Ok(expected);
        }
        let requestorder: Value = serde_json::from_str(job.requestorder.as_deref().unwrap_or("null"))?;
        let (_, apporder) = self.ensure_app(req.service_id, req.app).await?;
        let workerpoolorder = self.workerpool_order(req.category).await?;
        let price = u256_of(&apporder["appprice"]).unwrap_or_default()
            + u256_of(&workerpoolorder["workerpoolprice"]).unwrap_or_default();
        let _one = self.requester_lock.lock().await;
        if price > U256::ZERO {
            // The balance is read from the hub (`iexec account show` says the same, 2 s slower).
            let account = hub.viewAccount(self.requester).call().await.map_err(|e| call_error("viewAccount", e))?;
            let stake = account.stake;
            if stake < price {
                let amount = price * U256::from(self.cfg.deposit_tasks.max(1));
                // The CLI signs with the requester's key: no other transaction of that key leaves
                // the node meanwhile.
                let _hold = self.cfg.requester.hold().await;
                self.cli.account_deposit(&self.requester_dir, amount).await?;
                tracing::info!("iExec account of {} topped up with {amount} nRLC", self.requester);
            }
        }
        let orders = json!({ self.iexec_chain_id.to_string(): {
            "apporder": apporder,
            "workerpoolorder": workerpoolorder,
            "requestorder": requestorder,
        }});
        write_json(&self.requester_dir.join("orders.json"), &orders).await?;
        let deal = {
            let _hold = self.cfg.requester.hold().await;
            self.cli.fill(&self.requester_dir).await?
        };
        self.failpoint("iexec-filled");
        if deal != expected {
            return Err(invalid(format!("deal {deal} is not the expected {expected} for request order {hash}")));
        }
        Ok(deal)
    }

    /// A deal's final deadline: its start plus the final-deadline ratio times its category's work
    /// clock (what `iexec deal show` prints as `finalTime`).
    pub(super) async fn final_deadline(&self, deal: B256) -> Result<u64> {
        let hub = self.hub();
        let d = hub.viewDeal(deal).call().await.map_err(|e| call_error("viewDeal", e))?;
        if d.requester == Address::ZERO {
            return Err(invalid(format!("deal {deal} is not on the hub")));
        }
        let category = hub.viewCategory(d.category).call().await.map_err(|e| call_error("viewCategory", e))?;
        let ratio = hub.final_deadline_ratio().call().await.map_err(|e| call_error("final_deadline_ratio", e))?;
        let deadline = d.startTime + ratio * category.workClockTimeRef;
        u64::try_from(deadline).map_err(|_| invalid(format!("deal {deal}: final deadline {deadline} out of range")))
    }

    pub(super) async fn deadline_reached(&self, deadline: u64) -> Result<bool> {
        let block = self.reader.get_block_by_number(BlockNumberOrTag::Latest).await?;
        let chain_now = block.map(|b| b.header.timestamp).unwrap_or_default();
        // The next block's time is at least the wall clock's on a live chain; a claim sent too early
        // only fails its gas estimate and is tried again.
        Ok(chain_now.max(now()) >= deadline)
    }

    /// Claims the task on the hub (initializing it first if no worker did). Returns whether it is
    /// claimed now; `false`: the chain's time has not reached the deadline yet, or it completed.
    pub(super) async fn claim(&self, deal: B256, task: B256, status: TaskStatus) -> Result<bool> {
        let hub = IexecHub::new(self.cfg.hub, self.cfg.requester.provider().clone());
        let _one = self.requester_lock.lock().await;
        match task::claim(&self.cfg.requester, &hub, deal, 0, status).await? {
            Claim::Sent(sent) => match sent.confirm().await {
                Ok(_) => Ok(true),
                Err(Error::Reverted { .. }) => Ok(task::status(&hub, task).await? == TaskStatus::Failed),
                Err(e) => Err(e),
            },
            // Claimed by someone else: the requester is refunded all the same.
            Claim::Final(s) => Ok(s == TaskStatus::Failed),
            Claim::NotYet => Ok(false),
        }
    }

    /// Downloads the result archive with the CLI and stores its deterministic output.
    /// `Ok(Err(reason))`: the archive is not a usable iExec result.
    pub(super) async fn fetch_result(&self, task_id: u64, task: B256, location: &str) -> Result<Result<Cid, String>> {
        // The download needs the requester's wallet: it runs in the requester's directory, into a
        // file named after the task.
        let path = self.cli.task_download(&self.requester_dir, task, &format!("task-{task_id}")).await?;
        let bytes = tokio::fs::read(&path).await?;
        if let Some(cid) = location.strip_prefix("/ipfs/").and_then(|c| c.parse::<Cid>().ok()) {
            let got = agora_content::cid_of(&bytes);
            if got != cid {
                return Ok(Err(format!("the result downloaded for {location} has CID {got}")));
            }
        }
        let output = match tokio::task::spawn_blocking(move || crate::result::read(&bytes)).await? {
            Ok((_, output)) => output,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let _ = tokio::fs::remove_file(&path).await;
        Ok(Ok(self.content.put(output).await?))
    }
}
