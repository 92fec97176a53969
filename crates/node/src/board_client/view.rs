//! A task as the chain holds it (`getTask`, `freeSlots`) with every worker's claim (`getClaim` for
//! each account a `TaskAccepted` log names), for `agora board show`.

use agora_chain::bindings::TaskBoard;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;
use anyhow::Result;
use serde::Serialize;

use super::BoardNode;

/// A task read from the chain. Amounts are decimal strings in the token's smallest unit, addresses
/// lower-case hex, states in snake case: the names the node's API gives them.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskView {
    /// Its id.
    pub id: u64,
    /// Who published it.
    pub publisher: String,
    /// Its community; none when disputes go to the platform arbiter.
    pub community_id: Option<u64>,
    /// The reward's token; the zero address for ETH.
    pub token: String,
    /// What each slot pays.
    pub reward_per_slot: String,
    /// `rewardPerSlot × slots`.
    pub reward: String,
    /// Its slots.
    pub slots: u64,
    /// Slots `accept` can still take.
    pub free_slots: u64,
    /// Slots held by a worker who has not submitted.
    pub working: u64,
    /// Slots with a submission not settled yet.
    pub active: u64,
    /// Slots paid out or refunded.
    pub settled: u64,
    /// Points minted to each approved worker.
    pub points: String,
    /// Unix seconds: first submissions until then.
    pub deadline: u64,
    /// Seconds the publisher has to review a submission.
    pub review_window: u64,
    /// Seconds of silence after which a worker may be removed.
    pub work_timeout: u64,
    /// Revisions a rejected worker may submit.
    pub max_revisions: u64,
    /// Who decides its disputes.
    pub arbiter: String,
    /// `open`, `cancelled` (`none` for an unknown id).
    pub state: &'static str,
    /// Whether anything was ever submitted (it can no longer be cancelled).
    pub submitted: bool,
    /// Its claims, in the order they were taken.
    pub claims: Vec<ClaimView>,
}

/// A worker's claim on one of the task's slots.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimView {
    /// The worker.
    pub worker: String,
    /// `working`, `submitted`, `rejected`, `disputed`, `approved`, `resolved`, `removed`, `closed`.
    pub state: &'static str,
    /// Revisions submitted after rejections.
    pub revisions: u64,
    /// Unix seconds.
    pub accepted_at: u64,
    /// Unix seconds it entered its current state at.
    pub since: u64,
}

/// The contract's `TaskState` by name.
fn task_state(s: u8) -> &'static str {
    match s {
        1 => "open",
        2 => "cancelled",
        _ => "none",
    }
}

/// The contract's `ClaimState` by name.
fn claim_state(s: u8) -> &'static str {
    ["none", "working", "submitted", "rejected", "disputed", "approved", "resolved", "removed", "closed"]
        .get(usize::from(s))
        .copied()
        .unwrap_or("unknown")
}

impl BoardNode {
    /// The task and its claims as the chain holds them now; `TaskNotFound` for an unknown id.
    pub async fn show(&self, task: u64) -> Result<TaskView> {
        let provider = agora_chain::read_provider(&self.rpc_url)?;
        let board = TaskBoard::new(self.board, &provider);
        let id = U256::from(task);
        let t = board.getTask(id).call().await?;
        if t.publisher == Address::ZERO {
            return Err(super::Refused {
                code: "TaskNotFound".into(),
                message: format!("no task {task} on the board"),
            }
            .into());
        }
        let free = board.freeSlots(id).call().await?;
        let filter = Filter::new()
            .address(self.board)
            .event_signature(TaskBoard::TaskAccepted::SIGNATURE_HASH)
            .topic1(B256::from(id))
            .from_block(self.deploy_block);
        let mut claims = Vec::new();
        for log in provider.get_logs(&filter).await? {
            let worker = TaskBoard::TaskAccepted::decode_log(&log.inner)?.data.worker;
            let c = board.getClaim(id, worker).call().await?;
            claims.push(ClaimView {
                worker: format!("{worker:#x}"),
                state: claim_state(c.state),
                revisions: u64::from(c.revisions),
                accepted_at: c.acceptedAt.to::<u64>(),
                since: c.since.to::<u64>(),
            });
        }
        let per_slot = U256::from(t.rewardPerSlot);
        Ok(TaskView {
            id: task,
            publisher: format!("{:#x}", t.publisher),
            community_id: (t.communityId != 0).then_some(t.communityId),
            token: format!("{:#x}", t.token),
            reward_per_slot: per_slot.to_string(),
            reward: (per_slot * U256::from(t.slots)).to_string(),
            slots: u64::from(t.slots),
            free_slots: u64::from(free),
            working: u64::from(t.working),
            active: u64::from(t.active),
            settled: u64::from(t.settled),
            points: U256::from(t.points).to_string(),
            deadline: t.deadline.to::<u64>(),
            review_window: u64::from(t.reviewWindow),
            work_timeout: u64::from(t.workTimeout),
            max_revisions: u64::from(t.maxRevisions),
            arbiter: format!("{:#x}", t.arbiter),
            state: task_state(t.state),
            submitted: t.submitted,
            claims,
        })
    }

    /// What the board owes `account` in `token` (payouts it could not push).
    pub async fn owed(&self, account: Address, token: Address) -> Result<U256> {
        let provider = agora_chain::read_provider(&self.rpc_url)?;
        Ok(TaskBoard::new(self.board, &provider).owed(account, token).call().await?)
    }
}
