//! Updates, their checks, and the aggregators that turn a round's updates into the next global
//! model.
//!
//! An [`Update`] is what a participant sends: the change it made to the global model (`local −
//! global`) and how many samples it trained on. Before aggregation each is [`screen`]ed: wrong
//! length, a NaN or infinity, no samples, or a norm out of all proportion to the global model or to
//! the other updates of the round are refused with a typed [`Refusal`] that can be sent back.

use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// A participant's contribution to one round.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    /// `local − global`, in the model's flat layout.
    pub delta: Vec<f32>,
    /// Samples trained on: FedAvg's weight.
    pub samples: u64,
}

impl Update {
    /// The update that takes `global` to `local`.
    pub fn between(global: &[f32], local: &[f32], samples: u64) -> Result<Self> {
        if global.len() != local.len() {
            return Err(Error::Shape { expected: global.len(), got: local.len() });
        }
        Ok(Self { delta: local.iter().zip(global).map(|(l, g)| l - g).collect(), samples })
    }

    /// Euclidean norm of the delta.
    pub fn norm(&self) -> f64 {
        norm(&self.delta)
    }

    /// The update as bytes: the delta as little-endian `f32`s followed by the samples as a
    /// little-endian `u64` (what a coordinator keeps in the content store; their SHA-256 is
    /// [`hash`](Self::hash)).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = crate::net::params_to_bytes(&self.delta);
        out.extend(self.samples.to_le_bytes());
        out
    }

    /// [`to_bytes`](Self::to_bytes) read back.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let split = bytes.len().checked_sub(8).ok_or_else(|| Error::Data("an update is at least 8 bytes".into()))?;
        let (delta, samples) = bytes.split_at(split);
        let samples = u64::from_le_bytes(samples.try_into().map_err(|_| Error::Data("update samples".into()))?);
        Ok(Self { delta: crate::net::params_from_bytes(delta)?, samples })
    }

    /// SHA-256 (hex) of the delta as little-endian `f32`s followed by the samples as a
    /// little-endian `u64`: what the contribution record names the update by.
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        for v in &self.delta {
            h.update(v.to_le_bytes());
        }
        h.update(self.samples.to_le_bytes());
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Euclidean norm, accumulated in `f64`.
pub fn norm(v: &[f32]) -> f64 {
    v.iter().map(|x| f64::from(*x) * f64::from(*x)).sum::<f64>().sqrt()
}

/// Why an update was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum Refusal {
    /// Not the model's parameter count.
    #[error("wrong shape: {got} parameters, the model has {expected}")]
    WrongShape {
        /// The model's parameter count.
        expected: usize,
        /// The update's.
        got: usize,
    },
    /// A NaN or an infinity at this position.
    #[error("non-finite value at parameter {index}")]
    NonFinite {
        /// First offending position.
        index: usize,
    },
    /// Zero samples: nothing to weigh it by.
    #[error("trained on no samples")]
    NoSamples,
    /// The update's norm is beyond `limit`, set relative to the global model's norm.
    #[error("norm {norm:.4} is over {limit:.4} ({ratio}× the global model's)")]
    NormVsGlobal {
        /// The update's norm.
        norm: f64,
        /// The largest accepted.
        limit: f64,
        /// The policy's ratio.
        ratio: f64,
    },
    /// The update's norm is beyond `limit`, set relative to the median norm of the round's other
    /// updates.
    #[error("norm {norm:.4} is over {limit:.4} ({ratio}× the median of the other updates')")]
    NormVsOthers {
        /// The update's norm.
        norm: f64,
        /// The largest accepted.
        limit: f64,
        /// The policy's ratio.
        ratio: f64,
    },
}

/// How far an update's norm may go.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CheckPolicy {
    /// Largest update norm as a multiple of the global model's norm.
    pub max_vs_global: f64,
    /// Largest update norm as a multiple of the median norm of the round's other well-formed
    /// updates (applied when there are at least [`min_others`](Self::min_others) of them).
    pub max_vs_others: f64,
    /// Others needed before the relative check applies.
    pub min_others: usize,
}

impl Default for CheckPolicy {
    /// One epoch of SGD moves a fresh MLP by about its own norm: 10× the global norm or 10× the
    /// median of the others is far outside honest training and well inside a scaling attack.
    fn default() -> Self {
        Self { max_vs_global: 10.0, max_vs_others: 10.0, min_others: 2 }
    }
}

fn well_formed(global: &[f32], update: &Update) -> Result<(), Refusal> {
    if update.delta.len() != global.len() {
        return Err(Refusal::WrongShape { expected: global.len(), got: update.delta.len() });
    }
    if let Some(index) = update.delta.iter().position(|v| !v.is_finite()) {
        return Err(Refusal::NonFinite { index });
    }
    if update.samples == 0 {
        return Err(Refusal::NoSamples);
    }
    Ok(())
}

/// Checks one round's updates against the global model they were trained from: one verdict per
/// update, in order.
pub fn screen(global: &[f32], updates: &[Update], policy: &CheckPolicy) -> Vec<Result<(), Refusal>> {
    let global_norm = norm(global).max(f64::MIN_POSITIVE);
    let formed: Vec<Result<f64, Refusal>> = updates
        .iter()
        .map(|u| {
            well_formed(global, u)?;
            let n = u.norm();
            let limit = policy.max_vs_global * global_norm;
            if n > limit || !n.is_finite() {
                return Err(Refusal::NormVsGlobal { norm: n, limit, ratio: policy.max_vs_global });
            }
            Ok(n)
        })
        .collect();
    formed
        .iter()
        .enumerate()
        .map(|(i, verdict)| {
            let n = *verdict.as_ref().map_err(Clone::clone)?;
            let mut others: Vec<f64> = formed
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .filter_map(|(_, v)| v.as_ref().ok().copied())
                .collect();
            if others.len() >= policy.min_others.max(1) {
                others.sort_by(f64::total_cmp);
                let m = others.len();
                let median = if m % 2 == 1 { others[m / 2] } else { (others[m / 2 - 1] + others[m / 2]) / 2.0 };
                let limit = policy.max_vs_others * median;
                if n > limit {
                    return Err(Refusal::NormVsOthers { norm: n, limit, ratio: policy.max_vs_others });
                }
            }
            Ok(())
        })
        .collect()
}

/// How accepted updates are combined.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Aggregator {
    /// FedAvg: the mean of the deltas weighted by samples.
    FedAvg,
    /// Coordinate-wise median of the deltas (unweighted; the mean of the two middle values for an
    /// even count).
    Median,
    /// Coordinate-wise mean of the deltas after dropping the `trim` fraction (0 ≤ trim < 0.5,
    /// rounded down to whole updates) at each end (unweighted).
    TrimmedMean {
        /// Fraction dropped at each end.
        trim: f64,
    },
}

impl Aggregator {
    /// `global` moved by the combination of `updates`. No updates: `global` unchanged.
    pub fn combine(&self, global: &[f32], updates: &[&Update]) -> Result<Vec<f32>> {
        if let Some(bad) = updates.iter().find(|u| u.delta.len() != global.len()) {
            return Err(Error::Shape { expected: global.len(), got: bad.delta.len() });
        }
        if updates.is_empty() {
            return Ok(global.to_vec());
        }
        match *self {
            Aggregator::FedAvg => {
                let total: u64 = updates.iter().map(|u| u.samples).sum();
                if total == 0 {
                    return Err(Error::Aggregate("FedAvg over updates with no samples".into()));
                }
                let mut acc = vec![0f64; global.len()];
                for u in updates {
                    let w = u.samples as f64 / total as f64;
                    for (a, d) in acc.iter_mut().zip(&u.delta) {
                        *a += w * f64::from(*d);
                    }
                }
                Ok(global.iter().zip(acc).map(|(g, a)| (f64::from(*g) + a) as f32).collect())
            }
            Aggregator::Median | Aggregator::TrimmedMean { .. } => {
                let m = updates.len();
                let drop = match *self {
                    Aggregator::TrimmedMean { trim } if (0.0..0.5).contains(&trim) => {
                        (trim * m as f64).floor() as usize
                    }
                    Aggregator::TrimmedMean { trim } => {
                        return Err(Error::Aggregate(format!("trimmed mean: trim {trim} is not in [0, 0.5)")));
                    }
                    _ => 0,
                };
                let mut column = vec![0f32; m];
                Ok(global
                    .iter()
                    .enumerate()
                    .map(|(k, g)| {
                        for (c, u) in column.iter_mut().zip(updates) {
                            *c = u.delta[k];
                        }
                        column.sort_by(f32::total_cmp);
                        let combined = if matches!(self, Aggregator::Median) {
                            if m % 2 == 1 {
                                f64::from(column[m / 2])
                            } else {
                                (f64::from(column[m / 2 - 1]) + f64::from(column[m / 2])) / 2.0
                            }
                        } else {
                            let kept = &column[drop..m - drop];
                            kept.iter().map(|v| f64::from(*v)).sum::<f64>() / kept.len() as f64
                        };
                        (f64::from(*g) + combined) as f32
                    })
                    .collect())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(delta: Vec<f32>, samples: u64) -> Update {
        Update { delta, samples }
    }

    #[test]
    fn an_update_as_bytes_reads_back_and_hashes_to_its_name() {
        let u = up(vec![0.5, -1.25, f32::MIN_POSITIVE], 600);
        let bytes = u.to_bytes();
        assert_eq!(bytes.len(), 3 * 4 + 8);
        assert_eq!(Update::from_bytes(&bytes).expect("reads back"), u);
        let digest: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(digest, u.hash());
        assert!(Update::from_bytes(&bytes[..7]).is_err());
        assert!(Update::from_bytes(&bytes[1..]).is_err());
    }

    #[test]
    fn fedavg_weighs_by_samples_and_robust_aggregators_ignore_an_outlier() {
        let g = [1.0f32, 1.0];
        let (a, b, c) = (up(vec![1.0, 0.0], 1), up(vec![0.0, 1.0], 3), up(vec![100.0, -100.0], 1));
        assert_eq!(Aggregator::FedAvg.combine(&g, &[&a, &b]).expect("ok"), vec![1.25, 1.75]);
        assert_eq!(Aggregator::Median.combine(&g, &[&a, &b, &c]).expect("ok"), vec![2.0, 1.0]);
        let t = Aggregator::TrimmedMean { trim: 0.34 };
        assert_eq!(t.combine(&g, &[&a, &b, &c]).expect("ok"), vec![2.0, 1.0]);
        assert_eq!(Aggregator::FedAvg.combine(&g, &[]).expect("ok"), g.to_vec());
        assert!(Aggregator::TrimmedMean { trim: 0.5 }.combine(&g, &[&a]).is_err());
    }

    #[test]
    fn screen_refuses_with_reasons() {
        let g = vec![1.0f32; 4];
        let ok = |s: f32| up(vec![s, -s, s, 0.0], 10);
        let updates = vec![
            ok(0.1),
            ok(0.2),
            ok(0.15),
            up(vec![0.0; 3], 10),
            up(vec![0.0, f32::NAN, 0.0, 0.0], 10),
            up(vec![0.1; 4], 0),
            ok(30.0),
            ok(5.0),
        ];
        let verdicts = screen(&g, &updates, &CheckPolicy::default());
        assert!(verdicts[..3].iter().all(Result::is_ok));
        assert_eq!(verdicts[3], Err(Refusal::WrongShape { expected: 4, got: 3 }));
        assert_eq!(verdicts[4], Err(Refusal::NonFinite { index: 1 }));
        assert_eq!(verdicts[5], Err(Refusal::NoSamples));
        assert!(matches!(verdicts[6], Err(Refusal::NormVsGlobal { .. })));
        assert!(matches!(verdicts[7], Err(Refusal::NormVsOthers { .. })));
    }
}
