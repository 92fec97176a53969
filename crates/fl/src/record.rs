//! The contribution record: everything needed to recompute a task's Shapley values, and
//! [`verify`], which does.
//!
//! Per round it keeps the participants (id, samples, the hash of the update they sent), the
//! updates refused and why, how the values were computed, every coalition utility evaluated, and
//! the values. Anyone holding the record can rerun the same computation over the recorded
//! utilities ([`verify`]) and must get the same figures, bit for bit; checking the utilities
//! themselves means rebuilding the coalition models from the updates the hashes name and
//! evaluating them on the validation split.
//!
//! Floats are written as decimal strings (`"0.7233333333333334"`): every correct parser reads
//! them back to the same bits, which exact verification needs.

use crate::aggregate::Refusal;
use crate::shapley::{self, Coalition, GtgConfig, Normalised, RoundValues};
use crate::{Error, Result};

/// The record format's version.
pub const RECORD_VERSION: u32 = 1;

/// A task's contributions, round by round (serialised as JSON).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ContributionRecord {
    /// [`RECORD_VERSION`].
    pub version: u32,
    /// What a coalition's utility is, in words (e.g. "accuracy on 1000 validation images").
    pub utility: String,
    /// The rounds in order.
    pub rounds: Vec<RoundRecord>,
    /// Each participant's values summed over the rounds, in order of first appearance.
    pub cumulative: Vec<ParticipantValue>,
    /// The cumulative values clipped at zero and normalised (see [`shapley::clip_normalise`]), in
    /// the order of `cumulative`.
    pub normalised: Normalised,
}

/// A participant's value.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ParticipantValue {
    /// The participant (an address, in the market).
    pub id: String,
    /// Its Shapley value (a round's, or the sum over rounds).
    #[serde(with = "crate::float_text")]
    pub value: f64,
}

/// One round of the record.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RoundRecord {
    /// 1-based round number.
    pub round: u32,
    /// The accepted updates' senders; bit `i` of a coalition is `participants[i]`.
    pub participants: Vec<RoundParticipant>,
    /// Updates refused before aggregation.
    pub refused: Vec<RefusedUpdate>,
    /// How the values were computed.
    pub method: Method,
    /// Every coalition evaluated, by ascending bit set.
    pub utilities: Vec<CoalitionUtility>,
    /// Permutations sampled (GTG; 0 for exact).
    pub permutations: usize,
    /// Shapley value per participant, in `participants` order.
    #[serde(with = "crate::float_text::list")]
    pub values: Vec<f64>,
}

/// An accepted update's sender.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RoundParticipant {
    /// The participant.
    pub id: String,
    /// Samples it trained on (its FedAvg weight).
    pub samples: u64,
    /// [`crate::aggregate::Update::hash`] of its update.
    pub update_hash: String,
}

/// A refused update.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RefusedUpdate {
    /// Its sender.
    pub id: String,
    /// Its hash.
    pub update_hash: String,
    /// Why.
    pub refusal: Refusal,
}

/// A coalition's utility.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CoalitionUtility {
    /// Positions in the round's `participants`, ascending.
    pub members: Vec<u32>,
    /// Its utility.
    #[serde(with = "crate::float_text")]
    pub utility: f64,
}

/// How a round's values were computed.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Method {
    /// [`shapley::exact`].
    Exact,
    /// [`shapley::gtg`] with these settings (seed included).
    Gtg(GtgConfig),
}

fn members(c: Coalition) -> Vec<u32> {
    (0..64).filter(|i| c & (1u64 << i) != 0).collect()
}

impl RoundRecord {
    /// A round's entry from its participants, refusals, method and computed values.
    pub fn new(
        round: u32,
        participants: Vec<RoundParticipant>,
        refused: Vec<RefusedUpdate>,
        method: Method,
        computed: &RoundValues,
    ) -> Self {
        let utilities = computed
            .utilities
            .values
            .iter()
            .map(|(c, u)| CoalitionUtility { members: members(*c), utility: *u })
            .collect();
        Self {
            round,
            participants,
            refused,
            method,
            utilities,
            permutations: computed.permutations,
            values: computed.values.clone(),
        }
    }

    /// Recomputes this round's values from its recorded utilities alone.
    pub fn recompute(&self) -> Result<RoundValues> {
        let n = self.participants.len();
        let fail = |why: String| Error::Verify(format!("round {}: {why}", self.round));
        let mut table = std::collections::BTreeMap::new();
        for entry in &self.utilities {
            let mut c: Coalition = 0;
            for &m in &entry.members {
                if m as usize >= n || c & (1u64 << m) != 0 {
                    return Err(fail(format!("coalition {:?} names no such participant or one twice", entry.members)));
                }
                c |= 1u64 << m;
            }
            if table.insert(c, entry.utility).is_some() {
                return Err(fail(format!("coalition {:?} recorded twice", entry.members)));
            }
        }
        if n == 0 {
            return Ok(RoundValues { values: Vec::new(), utilities: Default::default(), permutations: 0 });
        }
        let mut lookup = |c: Coalition| {
            table.get(&c).copied().ok_or_else(|| fail(format!("coalition {:?} is not in the record", members(c))))
        };
        let computed = match &self.method {
            Method::Exact => shapley::exact(n, &mut lookup)?,
            Method::Gtg(config) => shapley::gtg(n, config, &mut lookup)?,
        };
        if computed.utilities.evaluations() != table.len() {
            return Err(fail(format!(
                "the computation evaluates {} coalitions, the record lists {}",
                computed.utilities.evaluations(),
                table.len()
            )));
        }
        Ok(computed)
    }
}

/// Sums rounds' values per participant, in order of first appearance.
pub fn cumulative(rounds: &[RoundRecord]) -> Vec<ParticipantValue> {
    let mut out: Vec<ParticipantValue> = Vec::new();
    for round in rounds {
        for (p, v) in round.participants.iter().zip(&round.values) {
            match out.iter_mut().find(|e| e.id == p.id) {
                Some(e) => e.value += v,
                None => out.push(ParticipantValue { id: p.id.clone(), value: *v }),
            }
        }
    }
    out
}

impl ContributionRecord {
    /// An empty record whose utility is described by `utility`.
    pub fn new(utility: impl Into<String>) -> Self {
        Self {
            version: RECORD_VERSION,
            utility: utility.into(),
            rounds: Vec::new(),
            cumulative: Vec::new(),
            normalised: Normalised { weights: Vec::new(), degenerate: true },
        }
    }

    /// Appends a round and updates the cumulative and normalised values.
    pub fn push(&mut self, round: RoundRecord) {
        self.rounds.push(round);
        self.cumulative = cumulative(&self.rounds);
        let values: Vec<f64> = self.cumulative.iter().map(|p| p.value).collect();
        self.normalised = shapley::clip_normalise(&values);
    }

    /// The record as JSON bytes (the same record gives the same bytes).
    pub fn to_json(&self) -> Result<Vec<u8>> {
        Ok(serde_json::to_vec(self)?)
    }

    /// A record from JSON bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        Ok(serde_json::from_slice(bytes)?)
    }
}

/// Recomputes every round's Shapley values from the record's utilities, then the cumulative and
/// normalised values, and checks each against the record (exactly: the computation is
/// deterministic). Returns the cumulative values.
pub fn verify(record: &ContributionRecord) -> Result<Vec<ParticipantValue>> {
    if record.version != RECORD_VERSION {
        return Err(Error::Verify(format!("record version {}, this reads {RECORD_VERSION}", record.version)));
    }
    for round in &record.rounds {
        let computed = round.recompute()?;
        if computed.values.len() != round.values.len()
            || computed.values.iter().zip(&round.values).any(|(a, b)| a.to_bits() != b.to_bits())
        {
            return Err(Error::Verify(format!(
                "round {}: recorded values {:?}, recomputed {:?}",
                round.round, round.values, computed.values
            )));
        }
        if computed.permutations != round.permutations {
            return Err(Error::Verify(format!(
                "round {}: recorded {} permutations, recomputed {}",
                round.round, round.permutations, computed.permutations
            )));
        }
    }
    let sums = cumulative(&record.rounds);
    if sums != record.cumulative {
        return Err(Error::Verify("cumulative values differ from the rounds' sums".into()));
    }
    let values: Vec<f64> = sums.iter().map(|p| p.value).collect();
    if shapley::clip_normalise(&values) != record.normalised {
        return Err(Error::Verify("normalised values differ from the cumulative values".into()));
    }
    Ok(sums)
}
