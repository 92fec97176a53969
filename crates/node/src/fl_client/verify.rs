//! `agora fl verify`: a finished task's contribution record recomputed, each update it names read
//! back from the content store and checked against its hash, and its payouts compared with what
//! was posted on chain.

use agora_chain::bindings::FederatedMarket;
use alloy::primitives::{Address, B256, U256};
use anyhow::{Context, Result, ensure};
use serde::Serialize;
use serde_json::Value;

use super::{FlNode, text, u256};

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
    /// None when every figure matches; else the first mismatch.
    pub mismatch: Option<String>,
}

impl FlNode {
    /// Recomputes a finished task's Shapley values and payouts from its contribution record and
    /// compares them with what was posted.
    pub async fn verify(&self, task: u64) -> Result<Verification> {
        use agora_fl::payout;
        let t = self.task(task).await?;
        let record_cid = text(&t, "recordCid").with_context(|| format!("task {task} has no results yet"))?.to_owned();
        let resp = self.api.get(&format!("/ipfs/{record_cid}"), None).await?;
        ensure!(resp.status == 200, "the node answers HTTP {} for the record {record_cid}", resp.status);
        ensure!(
            agora_content::cid_of(&resp.body).to_string() == record_cid,
            "the bytes the node served are not {record_cid}"
        );
        let record = agora_fl::record::ContributionRecord::from_json(&resp.body)?;
        let provider = agora_chain::read_provider(&self.rpc_url)?;
        let market = FederatedMarket::new(self.market, &provider);
        let on_chain = market.getTask(U256::from(task)).call().await?;
        let mut mismatch = agora_fl::record::verify(&record).err().map(|e| format!("the record: {e}"));
        let (updates_checked, updates_missing, bad_update) = self.check_updates(task, &record).await?;
        mismatch = mismatch.or(bad_update);
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
            mismatch,
        })
    }

    /// Reads back every update `record` names (accepted or refused) through the rounds the node
    /// journaled and checks that its bytes hash to the name; returns how many were checked, how
    /// many the node does not have, and the first mismatch.
    async fn check_updates(
        &self,
        task: u64,
        record: &agora_fl::ContributionRecord,
    ) -> Result<(usize, usize, Option<String>)> {
        let journaled = self.get(&format!("/api/fl/tasks/{task}/rounds")).await?;
        let cid_of = |round: u32, id: &str| -> Option<String> {
            let r = journaled.as_array()?.iter().find(|r| r["round"].as_u64() == Some(u64::from(round)))?;
            let p = r["participants"]
                .as_array()?
                .iter()
                .find(|p| p["account"].as_str().is_some_and(|a| a.eq_ignore_ascii_case(id)))?;
            p["updateCid"].as_str().map(str::to_owned)
        };
        let (mut checked, mut missing, mut mismatch) = (0, 0, None);
        for round in &record.rounds {
            let named = round
                .participants
                .iter()
                .map(|p| (&p.id, &p.update_hash))
                .chain(round.refused.iter().map(|r| (&r.id, &r.update_hash)));
            for (id, hash) in named {
                let Some(cid) = cid_of(round.round, id) else {
                    missing += 1;
                    continue;
                };
                let resp = self.api.get(&format!("/ipfs/{cid}"), None).await?;
                let digest = agora_fl::Update::from_bytes(&resp.body).map(|u| u.hash()).ok();
                let served_as = agora_content::cid_of(&resp.body).to_string();
                if resp.status != 200 || served_as != cid || digest.as_ref() != Some(hash) {
                    mismatch.get_or_insert_with(|| {
                        format!("round {}: {id}'s update {cid} does not hash to the record's {hash}", round.round)
                    });
                }
                checked += 1;
            }
        }
        Ok((checked, missing, mismatch))
    }
}
