//! Federated learning's computation, for the federated-learning market: data sets and data blocks
//! ([`data`]), McMahan et al.'s MLP in candle ([`model`]) or a small CNN ([`cnn`]), either one
//! ([`net`]) exchanged as a flat parameter vector,
//! update checks and FedAvg or robust aggregation ([`aggregate`]), per-round Shapley values —
//! exact, or a GTG-style estimate — over coalition models rebuilt from the round's updates
//! ([`shapley`]), integer payouts and shares that sum exactly ([`payout`]), and the contribution
//! record that anyone can [`verify`](record::verify) ([`record`]). [`federation`] ties them into a
//! task's rounds. Pure computation: no network, chain or database; seeded everywhere, so the same
//! seed gives the same bytes.

#![warn(missing_docs)]

pub mod aggregate;
pub mod cnn;
pub mod data;
pub mod federation;
pub mod model;
pub mod net;
pub mod payout;
pub mod record;
pub mod rng;
pub mod shapley;

pub use aggregate::{Aggregator, CheckPolicy, Refusal, Update};
pub use cnn::Cnn;
pub use data::{Block, Dataset, Partition, Scaling, Splits};
pub use federation::{Contribution, FedConfig, Federation, Participant, RoundOutcome, replay_round};
pub use model::{Evaluation, Evaluator, Mlp, Model, TrainConfig};
pub use net::{Net, params_from_bytes, params_to_bytes};
pub use record::{ContributionRecord, verify};
pub use shapley::{GtgConfig, Normalised};

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A tensor operation failed in candle.
    #[error("model: {0}")]
    Model(#[from] candle_core::Error),
    /// A data file is missing or malformed, or a split or partition is impossible.
    #[error("data: {0}")]
    Data(String),
    /// A parameter vector of the wrong length.
    #[error("shape: {got} parameters where {expected} were expected")]
    Shape {
        /// The model's parameter count.
        expected: usize,
        /// What was given.
        got: usize,
    },
    /// Updates that cannot be combined (no samples, a bad trim, duplicates).
    #[error("aggregation: {0}")]
    Aggregate(String),
    /// A Shapley computation that cannot run (too many players, a non-finite utility).
    #[error("shapley: {0}")]
    Shapley(String),
    /// Weights that cannot be paid out.
    #[error("payout: {0}")]
    Payout(String),
    /// A contribution record that does not reproduce.
    #[error("verify: {0}")]
    Verify(String),
    /// A record that is not valid JSON of the expected shape.
    #[error("record JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Floats in records and settings as decimal strings: Rust writes the shortest text that reads
/// back to the same `f64` and parses it correctly rounded, so a record read anywhere gives the
/// same bits — JSON number parsers (serde_json's default among them) may be one unit in the last
/// place off, and verification compares exactly.
pub(crate) mod float_text {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub(crate) fn serialize<S: Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        String::deserialize(d)?.parse().map_err(D::Error::custom)
    }

    /// The same for a list.
    pub(crate) mod list {
        use serde::{Deserialize, Deserializer, Serializer, de::Error as _, ser::SerializeSeq};

        pub(crate) fn serialize<S: Serializer>(values: &[f64], s: S) -> Result<S::Ok, S::Error> {
            let mut seq = s.serialize_seq(Some(values.len()))?;
            for v in values {
                seq.serialize_element(&v.to_string())?;
            }
            seq.end()
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
            Vec::<String>::deserialize(d)?.iter().map(|s| s.parse().map_err(D::Error::custom)).collect()
        }
    }
}
