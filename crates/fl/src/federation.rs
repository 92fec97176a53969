//! A federated training task in one place: the global model, its rounds and its contribution
//! record. The coordinator feeds it the updates it received ([`Federation::finish_round`]); the
//! in-process simulation, the tests and the benchmark also let it train participants locally
//! ([`Federation::run_round`]).

use crate::aggregate::{Aggregator, CheckPolicy, Refusal, Update, screen};
use crate::data::Dataset;
use crate::model::{Evaluation, Evaluator, TrainConfig};
use crate::net::Net;
use crate::record::{ContributionRecord, Method, RefusedUpdate, RoundParticipant, RoundRecord};
use crate::rng::Rng;
use crate::shapley::{self, Coalition, GtgConfig, RoundValues};
use crate::{Error, Result};

/// How each round's contributions are measured.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Contribution {
    /// Exact Shapley values up to `exact_up_to` participants, GTG-style estimates above.
    Auto {
        /// Largest round computed exactly.
        exact_up_to: usize,
        /// The estimator's settings above that (its seed is mixed with the round number).
        gtg: GtgConfig,
    },
    /// Always exact (at most [`shapley::MAX_EXACT`] participants).
    Exact,
    /// Always the GTG-style estimate.
    Gtg(GtgConfig),
}

impl Default for Contribution {
    fn default() -> Self {
        Contribution::Auto { exact_up_to: 10, gtg: GtgConfig::default() }
    }
}

/// A task's settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FedConfig {
    /// Local training.
    pub train: TrainConfig,
    /// How updates are combined.
    pub aggregator: Aggregator,
    /// Which updates are refused.
    pub checks: CheckPolicy,
    /// How contributions are measured.
    pub contribution: Contribution,
    /// Seeds the initial model, local training and the estimator.
    pub seed: u64,
}

impl Default for FedConfig {
    fn default() -> Self {
        Self {
            train: TrainConfig::default(),
            aggregator: Aggregator::FedAvg,
            checks: CheckPolicy::default(),
            contribution: Contribution::default(),
            seed: 0,
        }
    }
}

/// A participant of the in-process simulation: its id and the samples of the blocks it holds.
#[derive(Debug, Clone)]
pub struct Participant {
    /// Its id (an address, in the market).
    pub id: String,
    /// Its local data.
    pub data: Dataset,
}

/// What a round did.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundOutcome {
    /// 1-based.
    pub round: u32,
    /// Ids whose updates were aggregated, in order.
    pub accepted: Vec<String>,
    /// Ids whose updates were refused, and why.
    pub refused: Vec<(String, Refusal)>,
    /// Shapley value per accepted participant, in `accepted` order.
    pub values: Vec<f64>,
    /// Coalitions evaluated for them.
    pub evaluations: usize,
    /// The new global model on the validation split.
    pub validation: Evaluation,
    /// Mean local training loss per participant trained here (empty for [`Federation::finish_round`]).
    pub local_losses: Vec<(String, f32)>,
}

/// A task's global model, round counter and contribution record.
#[derive(Debug)]
pub struct Federation {
    net: Net,
    config: FedConfig,
    global: Vec<f32>,
    validation: Evaluator,
    round: u32,
    record: ContributionRecord,
}

/// A stable 64-bit name for a participant id (FNV-1a), to seed its local training.
fn id_seed(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

impl Federation {
    /// A task whose model (an [`Mlp`](crate::Mlp), a [`Cnn`](crate::Cnn) or a [`Net`]) starts
    /// from `net.init(config.seed)`, measuring contributions on `validation`.
    pub fn new(net: impl Into<Net>, config: FedConfig, validation: &Dataset) -> Result<Self> {
        let net = net.into();
        let evaluator = Evaluator::new(net, validation)?;
        let record = ContributionRecord::new(format!("accuracy on {} validation samples", evaluator.samples()));
        Ok(Self { net, config, global: net.init(config.seed), validation: evaluator, round: 0, record })
    }

    /// A task picked up where it stopped: `rounds` are its first rounds' records (1, 2, … in
    /// order) and `global` the global model after the last of them, as a coordinator journaled
    /// them before it was stopped. The rounds that follow are computed as if it had never stopped.
    pub fn resume(
        net: impl Into<Net>,
        config: FedConfig,
        validation: &Dataset,
        global: Vec<f32>,
        rounds: Vec<RoundRecord>,
    ) -> Result<Self> {
        let mut fed = Self::new(net, config, validation)?;
        let expected = fed.net.param_count();
        if global.len() != expected {
            return Err(Error::Shape { expected, got: global.len() });
        }
        if let Some(i) = global.iter().position(|w| !w.is_finite()) {
            return Err(Error::Aggregate(format!("the resumed global model has a non-finite parameter at {i}")));
        }
        for (i, round) in rounds.into_iter().enumerate() {
            let want = u32::try_from(i + 1).map_err(|_| Error::Aggregate("too many rounds".into()))?;
            if round.round != want {
                return Err(Error::Aggregate(format!("resuming: round {want}'s record says round {}", round.round)));
            }
            fed.record.push(round);
            fed.round = want;
        }
        fed.global = global;
        Ok(fed)
    }

    /// The model's architecture and shape.
    pub fn net(&self) -> Net {
        self.net
    }

    /// The current global parameters.
    pub fn global(&self) -> &[f32] {
        &self.global
    }

    /// Rounds finished.
    pub fn round(&self) -> u32 {
        self.round
    }

    /// The contribution record so far.
    pub fn record(&self) -> &ContributionRecord {
        &self.record
    }

    /// Trains the current global model on `data` as participant `id` would for the next round
    /// (seeded by the task's seed, the round and the id) and returns its update and mean loss.
    pub fn train_local(&self, id: &str, data: &Dataset) -> Result<(Update, f32)> {
        let seed = Rng::stream(self.config.seed, &[u64::from(self.round + 1), id_seed(id)]).next_u64();
        let out = self.net.train(&self.global, data, &self.config.train, seed)?;
        Ok((Update::between(&self.global, &out.params, out.samples as u64)?, out.loss))
    }

    /// One round in process: each participant trains locally, then [`finish_round`](Self::finish_round).
    pub fn run_round(&mut self, participants: &[Participant]) -> Result<RoundOutcome> {
        let mut updates = Vec::with_capacity(participants.len());
        let mut losses = Vec::with_capacity(participants.len());
        for p in participants {
            let (update, loss) = self.train_local(&p.id, &p.data)?;
            updates.push((p.id.clone(), update));
            losses.push((p.id.clone(), loss));
        }
        let mut outcome = self.finish_round(updates)?;
        outcome.local_losses = losses;
        Ok(outcome)
    }

    /// Ends a round with the updates received (one per participant id): screens them, measures
    /// the accepted ones' contributions, aggregates them into the next global model and records
    /// the round.
    pub fn finish_round(&mut self, updates: Vec<(String, Update)>) -> Result<RoundOutcome> {
        for (i, (id, _)) in updates.iter().enumerate() {
            if updates[..i].iter().any(|(other, _)| other == id) {
                return Err(Error::Aggregate(format!("two updates from {id} in one round")));
            }
        }
        let round = self.round + 1;
        let verdicts =
            screen(&self.global, &updates.iter().map(|(_, u)| u.clone()).collect::<Vec<_>>(), &self.config.checks);
        let (mut accepted, mut refused) = (Vec::new(), Vec::new());
        for ((id, update), verdict) in updates.into_iter().zip(verdicts) {
            match verdict {
                Ok(()) => accepted.push((id, update)),
                Err(refusal) => refused.push((id, update, refusal)),
            }
        }
        if accepted.len() > shapley::MAX_PLAYERS {
            return Err(Error::Shapley(format!(
                "{} updates in one round; at most {}",
                accepted.len(),
                shapley::MAX_PLAYERS
            )));
        }
        let n = accepted.len();
        let method = match self.config.contribution {
            Contribution::Exact => Method::Exact,
            Contribution::Auto { exact_up_to, .. } if n <= exact_up_to => Method::Exact,
            Contribution::Auto { gtg, .. } | Contribution::Gtg(gtg) => {
                Method::Gtg(GtgConfig { seed: Rng::stream(gtg.seed, &[u64::from(round)]).next_u64(), ..gtg })
            }
        };
        let computed = if n == 0 {
            RoundValues { values: Vec::new(), utilities: Default::default(), permutations: 0 }
        } else {
            let (global, aggregator, validation) = (&self.global, self.config.aggregator, &self.validation);
            let mut utility = |c: Coalition| -> Result<f64> {
                let members: Vec<&Update> =
                    accepted.iter().enumerate().filter(|(i, _)| c & (1u64 << i) != 0).map(|(_, (_, u))| u).collect();
                validation.accuracy(&aggregator.combine(global, &members)?)
            };
            match method {
                Method::Exact => shapley::exact(n, &mut utility)?,
                Method::Gtg(config) => shapley::gtg(n, &config, &mut utility)?,
            }
        };
        let all: Vec<&Update> = accepted.iter().map(|(_, u)| u).collect();
        let next = self.config.aggregator.combine(&self.global, &all)?;
        let validation = self.validation.evaluate(&next)?;
        let participants = accepted
            .iter()
            .map(|(id, u)| RoundParticipant { id: id.clone(), samples: u.samples, update_hash: u.hash() })
            .collect();
        let refused_entries = refused
            .iter()
            .map(|(id, u, r)| RefusedUpdate { id: id.clone(), update_hash: u.hash(), refusal: r.clone() })
            .collect();
        self.record.push(RoundRecord::new(round, participants, refused_entries, method, &computed));
        self.global = next;
        self.round = round;
        Ok(RoundOutcome {
            round,
            accepted: accepted.into_iter().map(|(id, _)| id).collect(),
            refused: refused.into_iter().map(|(id, _, r)| (id, r)).collect(),
            values: computed.values,
            evaluations: computed.utilities.evaluations(),
            validation,
            local_losses: Vec::new(),
        })
    }
}

/// Replays one recorded round from the global model it started from and the accepted updates
/// (read back from the content store, in the record's order): every coalition utility the record
/// lists is evaluated again on `validation` and must come out exactly as recorded, and the next
/// global model is returned (`aggregator`'s combination of all of them). Anyone holding the spec's
/// data can so check the figures a record's Shapley values are computed from, not only the
/// arithmetic on them ([`crate::verify`]).
pub fn replay_round(
    aggregator: Aggregator,
    validation: &Evaluator,
    global: &[f32],
    round: &RoundRecord,
    updates: &[Update],
) -> Result<Vec<f32>> {
    let fail = |why: String| Error::Verify(format!("round {}: {why}", round.round));
    if updates.len() != round.participants.len() {
        return Err(fail(format!("{} updates for {} participants", updates.len(), round.participants.len())));
    }
    for (p, u) in round.participants.iter().zip(updates) {
        if u.hash() != p.update_hash {
            return Err(fail(format!("{}'s update does not hash to {}", p.id, p.update_hash)));
        }
    }
    for entry in &round.utilities {
        let members: Vec<&Update> = entry
            .members
            .iter()
            .map(|&m| updates.get(m as usize).ok_or_else(|| fail(format!("coalition {:?}", entry.members))))
            .collect::<Result<_>>()?;
        let utility = validation.accuracy(&aggregator.combine(global, &members)?)?;
        if utility != entry.utility {
            return Err(fail(format!(
                "coalition {:?} evaluates to {utility}, the record says {}",
                entry.members, entry.utility
            )));
        }
    }
    aggregator.combine(global, &updates.iter().collect::<Vec<_>>())
}
