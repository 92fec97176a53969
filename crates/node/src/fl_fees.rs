//! The fee receiver's `fl-fee-forward` background job: each pass pays into FederatedMarket, for
//! every task, the fees of the predictions paid to the node's payee by vouchers and not yet
//! forwarded (agora_federated's [`FeeForwarder`], which `agora fl forward-fees` uses too). Run by
//! the payee's [`Jobs`](agora_channels::jobs::Jobs) beside the channel jobs.

use std::sync::Arc;
use std::time::Duration;

use agora_channels::jobs::{BoxFuture, Pass, PeriodicJob};
use agora_federated::fees::{Outcome, reason};
use agora_federated::{FeeForwarder, Recorded};
use agora_store::Store;

/// The job's name in its recorded runs and the admin page.
pub(crate) const JOB: &str = "fl-fee-forward";

/// The job, over the node's store (what was recorded and indexed) and the payee's sender.
pub(crate) struct FeeForwardJob {
    store: Store,
    chain_id: u64,
    forwarder: FeeForwarder,
    every: Duration,
}

impl FeeForwardJob {
    /// The job for the payee `sender` on the FederatedMarket at `market`, every `every_secs`
    /// seconds; `None` when that is 0 (off).
    pub(crate) fn job(
        store: Store,
        chain_id: u64,
        sender: agora_chain::Sender,
        market: alloy::primitives::Address,
        every_secs: u64,
    ) -> Option<Arc<dyn PeriodicJob>> {
        if every_secs == 0 {
            return None;
        }
        let forwarder = FeeForwarder::new(sender, market);
        Some(Arc::new(Self { store, chain_id, forwarder, every: Duration::from_secs(every_secs) }))
    }

    async fn pass(&self) -> agora_store::Result<Pass> {
        let balances = self.store.fl_fee_balances(self.chain_id, self.forwarder.receiver()).await?;
        // A task the indexed figures owe nothing is skipped: the index lags the chain, so it never
        // shows more paid than the contract counts.
        let recorded: Vec<Recorded> =
            balances.iter().filter(|b| b.owed() > 0).map(|b| Recorded { task: b.task_id, count: b.recorded }).collect();
        let mut pass = Pass::default();
        for outcome in self.forwarder.forward_owed(&recorded).await {
            match outcome {
                Outcome::Forwarded(f) => {
                    tracing::info!(task = f.task, count = f.count, amount = %f.amount, tx = %f.tx, "prediction fees forwarded");
                    pass.touched += 1;
                }
                Outcome::AlreadyPaid { .. } => {}
                Outcome::Failed { task, error } => pass.errors.push(format!("task {task}: {}", reason(&error))),
            }
        }
        Ok(pass)
    }
}

impl PeriodicJob for FeeForwardJob {
    fn name(&self) -> &'static str {
        JOB
    }

    fn every(&self) -> Duration {
        self.every
    }

    fn run_once(&self) -> BoxFuture<'_, agora_store::Result<Pass>> {
        Box::pin(self.pass())
    }
}
