//! What a coordinator reports: per round, in words, and at the end.

use std::sync::{Mutex, MutexGuard};

use alloy::primitives::{Address, B256, U256};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use agora_fl::Refusal;

use crate::Result;
use crate::book::TaskMode;
use crate::reference::ReferenceReport;

/// One round, as the task page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundReport {
    /// 1-based.
    pub round: u32,
    /// The new global model's accuracy on the test set.
    pub accuracy: f64,
    /// Its accuracy on the validation split (the Shapley utility's data).
    pub validation_accuracy: f64,
    /// Participants whose updates were aggregated, in join order.
    pub accepted: Vec<Address>,
    /// Each accepted participant's Shapley value this round.
    pub values: Vec<(Address, f64)>,
    /// Updates refused, and why.
    pub refused: Vec<(Address, Refusal)>,
    /// Participants sent the round that were late or went away.
    pub left_out: Vec<Address>,
    /// Mean local training loss per participant that sent an update.
    pub losses: Vec<(Address, f32)>,
    /// Samples each participant that sent an update trained on (its FedAvg weight).
    #[serde(default)]
    pub samples: Vec<(Address, u64)>,
    /// Coalitions evaluated for the Shapley values.
    pub evaluations: usize,
    /// The CID of the round's entry of the contribution record.
    pub record_cid: String,
}

/// What one account is paid: reward-pool amounts (with the Merkle proof to claim them), or shares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payout {
    /// The participant.
    pub account: Address,
    /// Pool token units (reward pool) or shares out of 10¹⁸ (shareholding).
    pub amount: U256,
    /// The proof for `claimReward` (empty for shares).
    pub proof: Vec<B256>,
}

/// How a task ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskResult {
    /// The task.
    pub task: u64,
    /// Its mode.
    pub mode: TaskMode,
    /// The contribution record's CID (posted on chain).
    pub record_cid: String,
    /// The final model's parameters (little-endian f32, agora-fl's flat order) in the content store.
    pub model_cid: String,
    /// The final model's test accuracy.
    pub accuracy: f64,
    /// No measurable contribution from anyone: the weights were equal.
    pub degenerate: bool,
    /// The Merkle root posted (reward pool).
    pub root: Option<B256>,
    /// Non-zero payouts, in the record's order; they sum exactly to the pool or to 10¹⁸ shares.
    pub payouts: Vec<Payout>,
}

/// A progress event, as a live page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Progress {
    /// Waiting for members before the start.
    Waiting {
        /// Members now.
        members: usize,
        /// Members needed.
        needed: usize,
    },
    /// `start` went through.
    Started {
        /// Members at the start.
        members: usize,
    },
    /// A round ended.
    Round(RoundReport),
    /// A line of the task's log.
    Log(String),
    /// Payouts posted.
    Finished(TaskResult),
    /// The centralised reference finished another epoch (it starts after the last round).
    Reference(ReferenceReport),
}

/// Where a coordinator records what it does (the node implements it over its store).
#[async_trait]
pub trait Journal: Send + Sync {
    /// A round ended.
    async fn round(&self, task: u64, report: &RoundReport) -> Result<()>;
    /// A line of the task's log.
    async fn log(&self, task: u64, message: &str) -> Result<()>;
    /// The task ended with these payouts (their proofs are what claimants need).
    async fn result(&self, task: u64, result: &TaskResult) -> Result<()>;
    /// The centralised reference so far (after each of its epochs; the last report is complete).
    async fn reference(&self, task: u64, report: &ReferenceReport) -> Result<()>;
}

/// What a [`MemoryJournal`] holds.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    /// Rounds in order.
    pub rounds: Vec<RoundReport>,
    /// Log lines in order.
    pub logs: Vec<String>,
    /// The result, once there is one.
    pub result: Option<TaskResult>,
    /// The centralised reference's latest report.
    pub reference: Option<ReferenceReport>,
}

/// A [`Journal`] in memory (tests, the in-process demo).
#[derive(Debug, Default)]
pub struct MemoryJournal(Mutex<Recorded>);

impl MemoryJournal {
    /// What was recorded so far.
    pub fn recorded(&self) -> Recorded {
        self.lock().clone()
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Recorded> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
