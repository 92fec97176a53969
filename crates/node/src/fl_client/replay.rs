//! What `agora fl verify` checks beyond the record's arithmetic: every update the record names,
//! read back from the content store and hashed ([`FlNode::check_updates`]), and with `--deep` every
//! round replayed from those updates on the spec's validation data — each coalition utility must
//! evaluate exactly as recorded and each round's model must be the one journaled
//! ([`FlNode::replay`], agora-fl's [`replay_round`](agora_fl::replay_round)).

use std::collections::HashMap;

use agora_fl::record::ContributionRecord;
use agora_fl::{Evaluator, Update};
use anyhow::{Context, Result, ensure};
use serde_json::Value;

use super::{DataDirs, FlNode, TaskSpec};

/// What [`FlNode::check_updates`] found.
#[derive(Default)]
pub(super) struct UpdatesChecked {
    pub(super) checked: usize,
    pub(super) missing: usize,
    pub(super) mismatch: Option<String>,
    /// With `keep`: every update that hashed as named, by round and participant id (what
    /// [`FlNode::replay`] replays, so each is read once).
    kept: HashMap<(u32, String), Update>,
}

/// A task's rounds as the node journaled them (`/api/fl/tasks/{id}/rounds`).
pub(super) struct Journaled(pub(super) Value);

impl Journaled {
    fn round(&self, round: u32) -> Option<&Value> {
        self.0.as_array()?.iter().find(|r| r["round"].as_u64() == Some(u64::from(round)))
    }

    /// The CID of `id`'s update in `round`, if the node kept it.
    fn update(&self, round: u32, id: &str) -> Option<String> {
        let r = self.round(round)?;
        let p = r["participants"]
            .as_array()?
            .iter()
            .find(|p| p["account"].as_str().is_some_and(|a| a.eq_ignore_ascii_case(id)))?;
        p["updateCid"].as_str().map(str::to_owned)
    }

    /// The CID of the global model after `round`, if the node kept it.
    fn model(&self, round: u32) -> Option<String> {
        self.round(round)?["modelCid"].as_str().map(str::to_owned)
    }
}

impl FlNode {
    /// The bytes the node serves for `cid`, checked to be that CID's.
    pub(super) async fn content(&self, cid: &str) -> Result<Vec<u8>> {
        let resp = self.api.get(&format!("/ipfs/{cid}"), None).await?;
        ensure!(resp.status == 200, "the node answers HTTP {} for {cid}", resp.status);
        ensure!(agora_content::cid_of(&resp.body).to_string() == cid, "the bytes the node served are not {cid}");
        Ok(resp.body.to_vec())
    }

    /// Reads back every update `record` names (accepted or refused) and checks that its bytes hash
    /// to the name; `keep`: holds on to those that did.
    pub(super) async fn check_updates(
        &self,
        record: &ContributionRecord,
        journaled: &Journaled,
        keep: bool,
    ) -> Result<UpdatesChecked> {
        let mut out = UpdatesChecked::default();
        for round in &record.rounds {
            let named = round
                .participants
                .iter()
                .map(|p| (&p.id, &p.update_hash))
                .chain(round.refused.iter().map(|r| (&r.id, &r.update_hash)));
            for (id, hash) in named {
                let Some(cid) = journaled.update(round.round, id) else {
                    out.missing += 1;
                    continue;
                };
                out.checked += 1;
                let update = match self.content(&cid).await {
                    Ok(bytes) => Update::from_bytes(&bytes).ok(),
                    Err(_) => None,
                };
                match update {
                    Some(u) if u.hash() == *hash => {
                        if keep {
                            out.kept.insert((round.round, id.clone()), u);
                        }
                    }
                    _ => {
                        out.mismatch.get_or_insert_with(|| {
                            format!("round {}: {id}'s update {cid} does not hash to the record's {hash}", round.round)
                        });
                    }
                }
            }
        }
        Ok(out)
    }

    /// Replays every round of `record` from the spec's initial model and the accepted updates
    /// (`checked` with `keep`), on the spec's validation split read from `dirs`; returns the
    /// coalition utilities found as recorded, and the first thing that was not.
    pub(super) async fn replay(
        &self,
        spec_cid: &str,
        record: &ContributionRecord,
        journaled: &Journaled,
        mut checked: UpdatesChecked,
        dirs: DataDirs,
    ) -> Result<(usize, Option<String>)> {
        let spec = TaskSpec::from_bytes(&self.content(spec_cid).await?)?;
        let mut rounds = Vec::new();
        for round in &record.rounds {
            let mut updates = Vec::new();
            for p in &round.participants {
                let update = checked.kept.remove(&(round.round, p.id.clone())).with_context(|| {
                    format!("round {}: {}'s update was not kept as named: nothing to replay", round.round, p.id)
                })?;
                updates.push(update);
            }
            rounds.push((round.clone(), updates, journaled.model(round.round)));
        }
        tokio::task::spawn_blocking(move || -> Result<(usize, Option<String>)> {
            let splits = spec.splits(&dirs)?;
            let (net, config) = (spec.net(), spec.fed_config());
            let validation = Evaluator::new(net, &splits.validation)?;
            let mut global = net.init(config.seed);
            let mut replayed = 0;
            for (round, updates, model) in rounds {
                global = match agora_fl::replay_round(config.aggregator, &validation, &global, &round, &updates) {
                    Ok(next) => next,
                    Err(e) => return Ok((replayed, Some(e.to_string()))),
                };
                replayed += round.utilities.len();
                let made = agora_content::cid_of(&agora_fl::params_to_bytes(&global)).to_string();
                if let Some(model) = model.filter(|m| *m != made) {
                    return Ok((
                        replayed,
                        Some(format!(
                            "round {}: the model replayed is {made}, the node journaled {model}",
                            round.round
                        )),
                    ));
                }
            }
            Ok((replayed, None))
        })
        .await?
    }
}
