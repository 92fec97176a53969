//! Deals on the pool: `SchedulerNotice` logs naming it, read from a cursor up to the confirmed
//! head; each deal's tasks are recorded with the cursor's move in one transaction.

use agora_store::NewWorkerTask;
use alloy::primitives::U256;
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;

use super::{Workerpool, now};
use crate::bindings::IexecHub;
use crate::tx::call_error;
use crate::{Error, Result};

impl Workerpool {
    /// Reads `SchedulerNotice` logs for the pool from the cursor up to the confirmed head; returns
    /// the number of deals found.
    pub(super) async fn scan_deals(&self) -> Result<usize> {
        let head = self.read.get_block_number().await?.saturating_sub(self.cfg.confirmations);
        let mut cursor = self.store.iexec_worker_cursor(&self.scope).await?;
        let mut from = match cursor {
            Some(next) => next,
            None => self.cfg.from_block.unwrap_or(head.saturating_sub(10_000)),
        };
        let mut deals = 0;
        while from <= head {
            let to = head.min(from + self.cfg.batch_blocks.max(1) - 1);
            let filter = Filter::new()
                .address(self.cfg.hub)
                .event_signature(IexecHub::SchedulerNotice::SIGNATURE_HASH)
                .topic1(self.pool.into_word())
                .from_block(from)
                .to_block(to);
            let mut tasks = Vec::new();
            for log in self.read.get_logs(&filter).await? {
                let notice = IexecHub::SchedulerNotice::decode_log(&log.inner)
                    .map_err(|e| Error::Invalid(format!("undecodable SchedulerNotice: {e}")))?;
                let deal_id = notice.data.dealid;
                deals += 1;
                let deal = self.hub().viewDeal(deal_id).call().await.map_err(|e| call_error("viewDeal", e))?;
                let first: u64 = deal.botFirst.try_into().unwrap_or(u64::MAX);
                let size: u64 = deal.botSize.try_into().unwrap_or(0);
                tracing::info!(deal = %deal_id, tasks = size, app = %deal.app.pointer, "iExec deal on the pool");
                for idx in first..first.saturating_add(size) {
                    tasks.push(NewWorkerTask { task_id: crate::task::task_id(deal_id, U256::from(idx)), deal_id, idx });
                }
            }
            self.store.iexec_worker_record_deals(&self.scope, cursor, to + 1, &tasks, now()).await?;
            cursor = Some(to + 1);
            from = to + 1;
        }
        Ok(deals)
    }
}
