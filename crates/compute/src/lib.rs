//! The compute market's scheduler. For every bought task of a service this node runs, it records a
//! job, starts the task on chain, hands it to the [`Runner`] that serves the service's runtime,
//! and completes the task with the output's CID — or fails it (refunding the buyer) with a short
//! reason. Every step is recorded before the next begins and reconciled against the indexed task,
//! and the contract accepts one settlement per task, so a crash anywhere ends, after a restart, in
//! exactly one completion or refund.
//!
//! Runners: [`LocalRunner`] runs apps of the node's [`Catalogue`](agora_executor::Catalogue); the
//! iExec backend (`agora-iexec`) implements [`Runner`] too and keeps its own record of each deal.
//! Operator transactions go through the operator key's one [`Sender`](agora_chain::Sender).

mod local;
mod runner;
mod scheduler;
mod settings;

pub use local::LocalRunner;
pub use runner::{Outcome, Runner, RunnerError, TaskRun};
pub use scheduler::{Scheduler, SchedulerConfig};
pub use settings::ComputeSettings;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("store: {0}")]
    Store(#[from] agora_store::Error),
    #[error("chain: {0}")]
    Chain(#[from] agora_chain::Error),
    #[error("task {0} is not indexed")]
    UnknownTask(u64),
    /// The runner that took a task failed (not the task itself); the job is retried.
    #[error("task {task_id}: {source}")]
    Runner {
        task_id: u64,
        #[source]
        source: RunnerError,
    },
    /// A job was started on a runner this node no longer has (e.g. iExec switched off): it waits
    /// rather than refund, since the work may still complete there.
    #[error("task {task_id} runs on {runner}, which this node does not run now")]
    RunnerUnavailable { task_id: u64, runner: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
