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
    /// The CID of the global model after the round (little-endian f32, agora-fl's flat order): with
    /// the rounds' records, what a coordinator restarted later resumes from.
    #[serde(default)]
    pub model_cid: String,
    /// The CID of each update received (accepted or refused), in join order: its bytes are
    /// agora-fl's `Update::to_bytes`, whose SHA-256 the round's record names it by.
    #[serde(default)]
    pub updates: Vec<(Address, String)>,
}

/// What a journal kept of one round, enough to resume the task after it: the round's record and
/// the global model after it, both in the content store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// 1-based.
    pub round: u32,
    /// [`RoundReport::record_cid`].
    pub record_cid: String,
    /// [`RoundReport::model_cid`].
    pub model_cid: String,
}

impl From<&RoundReport> for Checkpoint {
    fn from(r: &RoundReport) -> Self {
        Self { round: r.round, record_cid: r.record_cid.clone(), model_cid: r.model_cid.clone() }
    }
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
    /// A round ended. Recording a round again replaces the earlier record of it.
    async fn round(&self, task: u64, report: &RoundReport) -> Result<()>;
    /// The rounds recorded so far that a coordinator can resume from, in any order (a round
    /// recorded without its model, by an older node, is left out).
    async fn checkpoints(&self, task: u64) -> Result<Vec<Checkpoint>>;
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

    fn lock(&self) -> MutexGuard<'_, Recorded> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl Journal for MemoryJournal {
    async fn round(&self, _task: u64, report: &RoundReport) -> Result<()> {
        let mut recorded = self.lock();
        recorded.rounds.retain(|r| r.round != report.round);
        recorded.rounds.push(report.clone());
        Ok(())
    }

    async fn checkpoints(&self, _task: u64) -> Result<Vec<Checkpoint>> {
        Ok(self.lock().rounds.iter().filter(|r| !r.model_cid.is_empty()).map(Checkpoint::from).collect())
    }

    async fn log(&self, _task: u64, message: &str) -> Result<()> {
        self.lock().logs.push(message.to_owned());
        Ok(())
    }

    async fn result(&self, _task: u64, result: &TaskResult) -> Result<()> {
        self.lock().result = Some(result.clone());
        Ok(())
    }

    async fn reference(&self, _task: u64, report: &ReferenceReport) -> Result<()> {
        self.lock().reference = Some(report.clone());
        Ok(())
    }
}
