//! Where a task runs. The scheduler owns a task's settlement on chain; a [`Runner`] owns turning
//! its input into an output: [`LocalRunner`](crate::LocalRunner) on this node's catalogue, the
//! iExec backend through a deal. The scheduler picks the runner whose [`Runner::serves`] accepts
//! the service's [`Runtime`] and records the runner's name with the job, so a restarted node
//! resumes the job on the same runner.

use std::time::Duration;

use agora_content::Cid;
use agora_market::{Runtime, ServiceMetadata};
use alloy::primitives::Address;
use async_trait::async_trait;

/// A runner's own failure (not the task's): the job stays where it is and is retried.
pub type RunnerError = Box<dyn std::error::Error + Send + Sync>;

/// One task handed to a runner.
#[derive(Debug, Clone, Copy)]
pub struct TaskRun<'a> {
    /// The chain the task is on.
    pub chain_id: u64,
    /// The task's id on the market.
    pub task_id: u64,
    /// The service it was bought from.
    pub service_id: u64,
    /// Who listed that service and is paid for the task.
    pub provider: Address,
    /// That service's metadata (its runtime and input form).
    pub service: &'a ServiceMetadata,
    /// The app recorded for the job when it was accepted.
    pub app: &'a str,
    /// The buyer's input, as bought.
    pub input: &'a str,
    /// The service's promised maximum run time.
    pub max_run_time: Duration,
}

/// What a task came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The output is in the content store under this CID.
    Completed {
        /// Where the output is.
        cid: Cid,
    },
    /// The task failed for a reason the buyer should read (it is refunded with it).
    Failed {
        /// The refund's reason.
        reason: String,
    },
}

/// Something that runs compute tasks (see the module documentation).
#[async_trait]
pub trait Runner: Send + Sync {
    /// The name recorded with each job (`local`, `iexec`).
    fn name(&self) -> &'static str;

    /// Whether this runner takes tasks of a service with `runtime`.
    fn serves(&self, runtime: &Runtime) -> bool;

    /// Readies a service before its first task (e.g. deploys its iExec app). Nothing by default.
    async fn prepare(&self, _service_id: u64, _runtime: &Runtime) -> Result<(), RunnerError> {
        Ok(())
    }

    /// Runs a task to its outcome. Called again for the same task after a restart: a runner that
    /// keeps state (a deal) resumes it rather than starting over.
    async fn run(&self, task: TaskRun<'_>) -> Result<Outcome, RunnerError>;
}

/// Decides, before a runner spends anything on it, whether a task's service may be run here at
/// all: e.g. whether its provider has the right to sell the app it names. The compute crate knows
/// no app's rules; the node supplies them.
#[async_trait]
pub trait ServiceGate: Send + Sync {
    /// `Ok(Ok(()))`: run it. `Ok(Err(reason))`: refuse it; the task fails with `reason` and the
    /// buyer is refunded. `Err`: the gate could not decide now (the task is retried).
    async fn admit(&self, task: &TaskRun<'_>) -> Result<Result<(), String>, RunnerError>;
}
