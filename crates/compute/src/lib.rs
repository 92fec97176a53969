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

#![warn(missing_docs)]

mod local;
mod runner;
mod scheduler;
mod settings;

pub use local::LocalRunner;
pub use runner::{Outcome, Runner, RunnerError, ServiceGate, TaskRun};
pub use scheduler::{Scheduler, SchedulerConfig};
pub use settings::ComputeSettings;

#[derive(Debug, thiserror::Error)]
/// Everything that can go wrong in the scheduler (a task's own failure is a refund, not an error).
pub enum Error {
    #[error("store: {0}")]
    /// The database failed.
    Store(#[from] agora_store::Error),
    #[error("chain: {0}")]
    /// The chain refused or could not be reached.
    Chain(#[from] agora_chain::Error),
    #[error("task {0} is not indexed")]
    /// A job names a task the index does not hold.
    UnknownTask(u64),
    /// The runner that took a task failed (not the task itself); the job is retried.
    #[error("task {task_id}: {source}")]
    Runner {
        /// The task the runner was running.
        task_id: u64,
        /// What went wrong.
        #[source]
        source: RunnerError,
    },
    /// A job was started on a runner this node no longer has (e.g. iExec switched off): it waits
    /// rather than refund, since the work may still complete there.
    #[error("task {task_id} runs on {runner}, which this node does not run now")]
    RunnerUnavailable {
        /// The waiting task.
        task_id: u64,
        /// The runner its job names.
        runner: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
