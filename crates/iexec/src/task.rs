//! A PoCo task as both roles see it: its id, its status, and the two transactions anyone may
//! send about it — `initialize` (the first worker, or a requester about to claim) and `claim`
//! (after the final deadline, which refunds the requester). The requester backend and the
//! workerpool both go through these.

use std::fmt;
use std::str::FromStr;

use agora_chain::Sender;
use alloy::primitives::{B256, U256, keccak256};
use alloy::providers::Provider;

use crate::bindings::IexecHub;
use crate::tx::{self, Submitted};
use crate::{Error, Result};

/// A task's status on the hub (`IexecLibCore_v5.TaskStatusEnum`). Its names are PoCo's, which
/// the `iexec` CLI prints as `statusName` (except that the CLI says TIMEOUT by the wall clock
/// where Agora, like PoCo, judges deadlines by chain time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskStatus {
    /// Not initialized yet (the CLI answers "No task found").
    Unset,
    /// Initialized; workers may contribute.
    Active,
    /// Contributions reached consensus; winners reveal.
    Revealing,
    /// Finalized with a result.
    Completed,
    /// Claimed after its final deadline; the requester was refunded.
    Failed,
}

impl TaskStatus {
    /// Every status, in the hub's numbering (index 0 is UNSET … 4 FAILED).
    pub(crate) const ALL: [TaskStatus; 5] =
        [TaskStatus::Unset, TaskStatus::Active, TaskStatus::Revealing, TaskStatus::Completed, TaskStatus::Failed];

    /// PoCo's name: `UNSET`, `ACTIVE`, `REVEALING`, `COMPLETED`, `FAILED`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            TaskStatus::Unset => "UNSET",
            TaskStatus::Active => "ACTIVE",
            TaskStatus::Revealing => "REVEALING",
            TaskStatus::Completed => "COMPLETED",
            TaskStatus::Failed => "FAILED",
        }
    }

    /// Whether nothing can change the task any more.
    pub(crate) fn is_final(self) -> bool {
        matches!(self, TaskStatus::Completed | TaskStatus::Failed)
    }
}

impl TryFrom<u8> for TaskStatus {
    type Error = Error;

    /// The hub's number for a status (0 UNSET … 4 FAILED).
    fn try_from(n: u8) -> Result<Self> {
        TaskStatus::ALL.get(usize::from(n)).copied().ok_or_else(|| Error::Invalid(format!("unknown task status {n}")))
    }
}

impl FromStr for TaskStatus {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        TaskStatus::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| Error::Invalid(format!("unknown task status {s:?}")))
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A task's id: `keccak256(abi.encodePacked(dealid, idx))`, as the hub computes it.
pub fn task_id(deal_id: B256, idx: U256) -> B256 {
    keccak256([deal_id.as_slice(), &idx.to_be_bytes::<32>()].concat())
}

/// The task's status on the hub.
pub(crate) async fn status<P: Provider>(hub: &IexecHub::IexecHubInstance<P>, task: B256) -> Result<TaskStatus> {
    let view = hub.viewTask(task).call().await.map_err(|e| tx::call_error("viewTask", e))?;
    TaskStatus::try_from(view.status)
}

/// Sends `initialize(deal, idx)` with `sender`. A task that someone else initialized meanwhile
/// counts as done.
pub(crate) async fn initialize<P: Provider>(
    sender: &Sender,
    hub: &IexecHub::IexecHubInstance<P>,
    deal: B256,
    idx: u64,
) -> Result<()> {
    let task = task_id(deal, U256::from(idx));
    match tx::send(sender, &format!("initialize({deal}, {idx})"), hub.initialize(deal, U256::from(idx))).await {
        Ok(_) => {
            tracing::info!("iExec task {task} initialized (deal {deal}, index {idx})");
            Ok(())
        }
        Err(e) if status(hub, task).await.is_ok_and(|s| s != TaskStatus::Unset) => {
            tracing::debug!(error = %e, "task {task} was initialized by someone else");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// What a claim came to.
pub(crate) enum Claim {
    /// Sent: record its hash if the claim must survive a crash, then [`Submitted::confirm`] it.
    Sent(Box<Submitted>),
    /// The task is final already (completed, or claimed by someone else).
    Final(TaskStatus),
    /// The hub does not accept it yet (before the final deadline by chain time).
    NotYet,
}

/// Claims task `idx` of `deal`, initializing it first when `known` says nobody did (a task must
/// be initialized to be claimed), with `sender`.
pub(crate) async fn claim<P: Provider>(
    sender: &Sender,
    hub: &IexecHub::IexecHubInstance<P>,
    deal: B256,
    idx: u64,
    known: TaskStatus,
) -> Result<Claim> {
    let task = task_id(deal, U256::from(idx));
    if known == TaskStatus::Unset
        && let Err(e) = initialize(sender, hub, deal, idx).await
    {
        // The claim below decides.
        tracing::debug!(error = %e, "initialize before claim");
    }
    match tx::submit(sender, &format!("claim({task})"), hub.claim(task)).await {
        Ok(sent) => Ok(Claim::Sent(Box::new(sent))),
        Err(e @ Error::Reverted { .. }) => match status(hub, task).await? {
            s if s.is_final() => Ok(Claim::Final(s)),
            _ => {
                tracing::debug!(error = %e, "claim not accepted yet");
                Ok(Claim::NotYet)
            }
        },
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_from_numbers_and_names() {
        for (n, s) in TaskStatus::ALL.into_iter().enumerate() {
            assert_eq!(TaskStatus::try_from(n as u8).expect("known"), s);
            assert_eq!(s.name().parse::<TaskStatus>().expect("known"), s);
            assert_eq!(s.to_string(), s.name());
        }
        assert!(TaskStatus::try_from(5).is_err());
        assert!("TIMEOUT".parse::<TaskStatus>().is_err());
        assert!(TaskStatus::Completed.is_final() && TaskStatus::Failed.is_final());
        assert!(!TaskStatus::Active.is_final());
    }

    #[test]
    fn task_ids_are_the_hubs() {
        // Captured from `iexec deal show` against PoCo 6.1.0: the deal's task 0.
        let deal: B256 = "0x578fa2cd2854d359386101c5decd6624f211cad2e3da6b26ff60b36a13eccbe0".parse().expect("hex");
        let task: B256 = "0x5aea45c0b4d7c34636800c0eadcd2cfc3743f6e6399d19117534d34987e8b2e9".parse().expect("hex");
        assert_eq!(task_id(deal, U256::ZERO), task);
    }
}
