//! Shapley values of one round's participants, from a utility over coalitions.
//!
//! A coalition is a bit set over the round's participants (bit `i` = participant `i`, at most
//! [`MAX_PLAYERS`]). Its utility is the validation accuracy of the model the round's aggregator
//! builds from that coalition's updates alone (the empty coalition: the round's starting model), so
//! no coalition is retrained. [`exact`] evaluates all 2ⁿ coalitions; [`gtg`] is a GTG-Shapley-style
//! estimator (Liu et al., 2022): guided permutations, each starting with a different player in
//! turn, truncated within the round once the running utility is within ε of the full coalition's,
//! until the estimates settle. There is no between-round truncation: measured here, it zeroes a
//! whole late round whose gain is small.
//!
//! Both are deterministic functions of the utilities (and, for GTG, the seed), which is what lets
//! [`crate::record::verify`] recompute them from a record.

use std::collections::BTreeMap;

use crate::rng::Rng;
use crate::{Error, Result};

/// A set of the round's participants: bit `i` is participant `i`.
pub type Coalition = u64;

/// Most participants a round's Shapley computation takes.
pub const MAX_PLAYERS: usize = 64;

/// Most participants [`exact`] takes (2ⁿ coalitions).
pub const MAX_EXACT: usize = 20;

/// The utilities a computation asked for, each once, and how many were computed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Utilities {
    /// Utility per coalition evaluated.
    pub values: BTreeMap<Coalition, f64>,
}

impl Utilities {
    /// Coalition evaluations made (each distinct coalition counted once).
    pub fn evaluations(&self) -> usize {
        self.values.len()
    }

    fn get(&mut self, c: Coalition, utility: &mut dyn FnMut(Coalition) -> Result<f64>) -> Result<f64> {
        if let Some(v) = self.values.get(&c) {
            return Ok(*v);
        }
        let v = utility(c)?;
        if !v.is_finite() {
            return Err(Error::Shapley(format!("utility of coalition {c:#x} is {v}")));
        }
        self.values.insert(c, v);
        Ok(v)
    }
}

/// One round's values and what it took.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundValues {
    /// Shapley value per participant, in round order.
    pub values: Vec<f64>,
    /// Every coalition evaluated.
    pub utilities: Utilities,
    /// Permutations sampled (GTG; 0 for exact).
    pub permutations: usize,
}

fn check_players(n: usize, max: usize) -> Result<()> {
    if n == 0 || n > max {
        return Err(Error::Shapley(format!("{n} participants: need 1 to {max}")));
    }
    Ok(())
}

/// Exact Shapley values of `n` players: φᵢ = Σ_{S ∌ i} |S|!(n−|S|−1)!/n! · (v(S ∪ {i}) − v(S)),
/// over all 2ⁿ coalitions.
pub fn exact(n: usize, utility: &mut dyn FnMut(Coalition) -> Result<f64>) -> Result<RoundValues> {
    check_players(n, MAX_EXACT)?;
    let mut utilities = Utilities::default();
    let all: Coalition = (1u64 << n) - 1;
    for c in 0..=all {
        utilities.get(c, utility)?;
    }
    // weight[s] = s!(n−s−1)!/n!, built by a ratio recurrence to stay exact-ish in f64.
    let mut weight = vec![0f64; n];
    weight[0] = 1.0 / n as f64;
    for s in 1..n {
        weight[s] = weight[s - 1] * s as f64 / (n - s) as f64;
    }
    let mut values = vec![0f64; n];
    for (i, value) in values.iter_mut().enumerate() {
        let bit = 1u64 << i;
        for c in (0..=all).filter(|c| c & bit == 0) {
            let with = utilities.values[&(c | bit)];
            let without = utilities.values[&c];
            *value += weight[c.count_ones() as usize] * (with - without);
        }
    }
    Ok(RoundValues { values, utilities, permutations: 0 })
}

/// The GTG-style estimator's settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GtgConfig {
    /// Within-round truncation: once |v(N) − v(prefix)| < ε the rest of a permutation adds 0.
    #[serde(with = "crate::float_text")]
    pub epsilon: f64,
    /// Permutations before convergence is tested.
    pub min_permutations: usize,
    /// Most permutations.
    pub max_permutations: usize,
    /// Convergence window: the last this many running estimates …
    pub window: usize,
    /// … must each be within this relative distance (L1, of the estimate vector) of the latest.
    #[serde(with = "crate::float_text")]
    pub tolerance: f64,
    /// Seeds the permutations.
    pub seed: u64,
}

impl Default for GtgConfig {
    /// FedML's defaults as measured here: ε 0.001, at least 30 permutations, converged when the
    /// last 10 running estimates are within 5 % of the latest.
    fn default() -> Self {
        Self { epsilon: 0.001, min_permutations: 30, max_permutations: 500, window: 10, tolerance: 0.05, seed: 0 }
    }
}

/// Below this an L1 norm of estimates counts as zero (FedML divides by such totals).
const NEAR_ZERO: f64 = 1e-12;

fn converged(history: &[Vec<f64>], window: usize, tolerance: f64) -> bool {
    let Some(latest) = history.last() else { return false };
    if history.len() < window {
        return false;
    }
    let scale: f64 = latest.iter().map(|v| v.abs()).sum();
    history[history.len() - window..].iter().all(|past| {
        let moved: f64 = past.iter().zip(latest).map(|(a, b)| (a - b).abs()).sum();
        if scale < NEAR_ZERO { moved < NEAR_ZERO } else { moved / scale < tolerance }
    })
}

/// GTG-Shapley-style estimate for `n` players. Permutation `k` starts with player `k mod n`; the
/// others follow in a seeded random order. Stops after at least `min_permutations` once
/// the estimates have converged (see [`GtgConfig::window`]), or at `max_permutations`.
pub fn gtg(n: usize, config: &GtgConfig, utility: &mut dyn FnMut(Coalition) -> Result<f64>) -> Result<RoundValues> {
    check_players(n, MAX_PLAYERS)?;
    if config.max_permutations == 0 || config.window == 0 {
        return Err(Error::Shapley("GTG needs max_permutations and window above 0".into()));
    }
    let mut utilities = Utilities::default();
    let full: Coalition = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
    let v_full = utilities.get(full, utility)?;
    let v_empty = utilities.get(0, utility)?;
    let mut rng = Rng::stream(config.seed, &[0x6767]);
    let mut sums = vec![0f64; n];
    let mut history: Vec<Vec<f64>> = Vec::new();
    let mut k = 0;
    while k < config.max_permutations {
        let first = k % n;
        let mut order: Vec<usize> = (0..n).filter(|p| *p != first).collect();
        rng.shuffle(&mut order);
        order.insert(0, first);
        let (mut prefix, mut v_prev) = (0 as Coalition, v_empty);
        for &p in &order {
            if (v_full - v_prev).abs() < config.epsilon {
                break; // truncated: the rest add nothing
            }
            prefix |= 1u64 << p;
            let v = utilities.get(prefix, utility)?;
            sums[p] += v - v_prev;
            v_prev = v;
        }
        k += 1;
        history.push(sums.iter().map(|s| s / k as f64).collect());
        if k >= config.min_permutations && converged(&history, config.window, config.tolerance) {
            break;
        }
    }
    let values = history.pop().unwrap_or_else(|| vec![0.0; n]);
    Ok(RoundValues { values, utilities, permutations: k })
}

/// Cumulative values made into weights: negatives clipped to zero, then divided by their sum.
///
/// Negative Shapley values are common (a clean participant's update can lower one round's
/// validation accuracy); a reward cannot be negative, so they count as no contribution. When the
/// clipped values sum to (nearly) nothing — no measurable contribution from anyone — the weights
/// are equal and `degenerate` says so, rather than dividing by a total near zero.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Normalised {
    /// Non-negative, summing to 1 (up to rounding).
    #[serde(with = "crate::float_text::list")]
    pub weights: Vec<f64>,
    /// The clipped total was below the threshold and the weights are equal.
    pub degenerate: bool,
}

/// Clipped totals at or below this are treated as zero.
pub const MIN_TOTAL: f64 = 1e-9;

/// See [`Normalised`].
pub fn clip_normalise(values: &[f64]) -> Normalised {
    let clipped: Vec<f64> = values.iter().map(|v| if v.is_finite() { v.max(0.0) } else { 0.0 }).collect();
    let total: f64 = clipped.iter().sum();
    if total <= MIN_TOTAL || values.is_empty() {
        let n = values.len().max(1) as f64;
        return Normalised { weights: vec![1.0 / n; values.len()], degenerate: true };
    }
    Normalised { weights: clipped.iter().map(|v| v / total).collect(), degenerate: false }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalising_clips_and_guards_zero_totals() {
        let n = clip_normalise(&[0.3, -0.2, 0.1]);
        assert!(!n.degenerate);
        assert!((n.weights[0] - 0.75).abs() < 1e-12 && n.weights[1] == 0.0);
        let z = clip_normalise(&[-0.1, 1e-13, 0.0]);
        assert!(z.degenerate);
        assert_eq!(z.weights, vec![1.0 / 3.0; 3]);
    }

    #[test]
    fn gtg_truncates_when_the_round_gained_nothing() {
        let mut calls = 0;
        let r = gtg(5, &GtgConfig::default(), &mut |_c| {
            calls += 1;
            Ok(0.5)
        })
        .expect("gtg");
        assert_eq!(r.values, vec![0.0; 5]);
        assert_eq!((r.utilities.evaluations(), calls), (2, 2));
    }
}
