//! `agora fl verify`: a finished task's contribution record recomputed, each update it names read
//! back from the content store and checked against its hash (`--deep`: every round replayed from
//! them, [`replay`](super::replay)), and its payouts compared with what was posted on chain.

use agora_chain::bindings::FederatedMarket;
use alloy::primitives::{Address, B256, U256};
use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::Value;

use super::replay::Journaled;
use super::{DataDirs, FlNode, text, u256};

/// One participant's figures in `agora fl verify`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verified {
    /// The account.
    pub account: Address,
    /// Its cumulative Shapley value, recomputed.
    pub value: f64,
    /// Its clipped, normalised weight.
    pub weight: f64,
    /// Its reward (token units) or shares (of 10^18), recomputed.
    pub amount: String,
    /// What was posted for it (the node's result for rewards, `sharesOf` on chain for shares).
    pub posted: String,
}

/// `agora fl verify`'s answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// The task.
    pub task_id: u64,
    /// The record checked.
    pub record_cid: String,
    /// `rewards` or `shares`.
    pub kind: &'static str,
    /// Every participant.
    pub participants: Vec<Verified>,
    /// The recomputed Merkle root (rewards).
    pub root: Option<B256>,
    /// Updates the record names that were read back from the content store and hashed as named.
    pub updates_checked: usize,
    /// Updates the record names that the node did not keep (rounds journaled by an older node).
    pub updates_missing: usize,
    /// With `--deep`: the coalition utilities evaluated again from the updates and found as
    /// recorded (and each round's model found as journaled); absent otherwise, and when an update
    /// already did not hash as named.
    pub utilities_replayed: Option<usize>,
    /// None when every figure matches; else the first mismatch.
    pub mismatch: Option<String>,
}

impl FlNode {
    /// Recomputes a finished task's Shapley values and payouts from its contribution record and
    /// compares them with what was posted; with `deep` (where the spec's data is), replays every
    /// round from its updates too.
    pub async fn verify(&self, task: u64, deep: Option<DataDirs>) -> Result<Verification> {
        use agora_fl::payout;
        let t = self.task(task).await?;
        let record_cid = text(&t, "recordCid").with_context(|| format!("task {task} has no results yet"))?.to_owned();
        let record = agora_fl::record::ContributionRecord::from_json(&self.content(&record_cid).await?)?;
        let journaled = Journaled(self.get(&format!("/api/fl/tasks/{task}/rounds")).await?);
        let provider = agora_chain::read_provider(&self.rpc_url)?;
        let market = FederatedMarket::new(self.market, &provider);
        let on_chain = market.getTask(U256::from(task)).call().await?;
        let mut mismatch = agora_fl::record::verify(&record).err().map(|e| format!("the record: {e}"));
        let mut checked = self.check_updates(&record, &journaled, deep.is_some()).await?;
        let (updates_checked, updates_missing) = (checked.checked, checked.missing);
        mismatch = mismatch.or(checked.mismatch.take());
        let mut utilities_replayed = None;
        // Replayed only from updates that all hashed as named (else the mismatch says enough).
        if let Some(dirs) = deep.filter(|_| mismatch.is_none()) {
            let (replayed, bad_replay) = self.replay(text(&t, "spec")?, &record, &journaled, checked, dirs).await?;
            utilities_replayed = Some(replayed);
            mismatch = mismatch.or(bad_replay);
        }
        let weights = &record.normalised.weights;
        let accounts = record.cumulative.iter().map(|p| p.id.parse::<Address>()).collect::<Result<Vec<_>, _>>()?;
        let shareholding = on_chain.mode == 1;
        let amounts = if shareholding {
            payout::share_allocation(payout::WEIGHT_SCALE, weights)?
        } else {
            payout::pool_payouts(on_chain.pool.to::<u128>(), weights)?
        };
        let mut root = None;
        let mut participants = Vec::new();
        let posted_entries = if shareholding {
            Value::Null
        } else {
            self.get(&format!("/api/fl/tasks/{task}/result")).await?["entries"].clone()
        };
        for (i, account) in accounts.iter().enumerate() {
            let posted = if shareholding {
                market.sharesOf(U256::from(task), *account).call().await?
            } else {
                let entries = posted_entries.as_array().cloned().unwrap_or_default();
                let hex = format!("{account:#x}");
                entries
                    .iter()
                    .find(|e| e["account"] == hex.as_str())
                    .map(|e| u256(e, "amount"))
                    .transpose()?
                    .unwrap_or_default()
            };
            let amount = U256::from(amounts[i]);
            if posted != amount && mismatch.is_none() {
                mismatch = Some(format!("{account}: recomputed {amount}, posted {posted}"));
            }
            participants.push(Verified {
                account: *account,
                value: record.cumulative[i].value,
                weight: weights.get(i).copied().unwrap_or_default(),
                amount: amount.to_string(),
                posted: posted.to_string(),
            });
        }
        if !shareholding {
            let entries: Vec<(Address, U256)> =
                accounts.iter().zip(&amounts).filter(|(_, a)| **a > 0).map(|(x, a)| (*x, U256::from(*a))).collect();
            let tree = agora_federated::MerkleTree::new(&entries).context("no participant was paid")?;
            root = Some(tree.root());
            if tree.root() != on_chain.rewardRoot && mismatch.is_none() {
                mismatch = Some(format!("recomputed root {}, on chain {}", tree.root(), on_chain.rewardRoot));
            }
        }
        let kind = if shareholding { "shares" } else { "rewards" };
        Ok(Verification {
            task_id: task,
            record_cid,
            kind,
            participants,
            root,
            updates_checked,
            updates_missing,
            utilities_replayed,
            mismatch,
        })
    }
}
