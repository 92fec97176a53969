//! From contribution weights to integer amounts that sum exactly to what is paid out.
//!
//! Weights (clipped, normalised Shapley values, see [`crate::shapley::clip_normalise`]) are first
//! fixed to integers: `round(w · 10¹⁸)`. A total `T` is then split by the largest-remainder rule:
//! participant `i` gets `⌊T · wᵢ / W⌋` (W = Σ wⱼ, computed with a 256-bit intermediate, so any
//! `u128` total works), and the `T − Σ⌊…⌋ < n` units left over go one each to the participants with
//! the largest remainders `(T · wᵢ) mod W`, ties to the lower index. The same rule splits a reward
//! pool (token units) and a fixed number of model shares.

use crate::{Error, Result};

/// The fixed-point scale of weights: 10¹⁸ is a whole.
pub const WEIGHT_SCALE: u128 = 1_000_000_000_000_000_000;

/// Weights in `[0, 1]` as integers out of [`WEIGHT_SCALE`], rounded to nearest.
pub fn fixed_point(weights: &[f64]) -> Result<Vec<u128>> {
    weights
        .iter()
        .map(|w| {
            if !w.is_finite() || *w < 0.0 || *w > 1.0 + 1e-9 {
                return Err(Error::Payout(format!("weight {w} is not in [0, 1]")));
            }
            Ok((w.min(1.0) * WEIGHT_SCALE as f64).round() as u128)
        })
        .collect()
}

/// `(a · b / d, a · b mod d)` for `b ≤ d`, through a 256-bit product.
pub(crate) fn mul_div_rem(a: u128, b: u128, d: u128) -> (u128, u128) {
    const LOW: u128 = u64::MAX as u128;
    let (a1, a0, b1, b0) = (a >> 64, a & LOW, b >> 64, b & LOW);
    let (p00, p01, p10, p11) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
    let mid = (p00 >> 64) + (p01 & LOW) + (p10 & LOW);
    let lo = (p00 & LOW) | (mid << 64);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    let (mut q, mut r) = (0u128, 0u128);
    for bit in (0..256).rev() {
        let next = if bit >= 128 { (hi >> (bit - 128)) & 1 } else { (lo >> bit) & 1 };
        let carry = r >> 127;
        r = (r << 1) | next;
        if carry == 1 || r >= d {
            r = r.wrapping_sub(d);
            if bit < 128 {
                q |= 1 << bit;
            }
        }
    }
    (q, r)
}

/// Splits `total` in proportion to integer `weights` (largest remainder, ties to the lower
/// index); the parts sum to `total` exactly. All-zero weights are refused: the caller decides
/// (see [`crate::shapley::Normalised::degenerate`]).
pub fn split(total: u128, weights: &[u128]) -> Result<Vec<u128>> {
    let sum = weights.iter().try_fold(0u128, |acc, w| acc.checked_add(*w));
    let sum = sum.ok_or_else(|| Error::Payout("weights overflow".into()))?;
    if sum == 0 {
        return Err(Error::Payout("all weights are zero: nothing to split by".into()));
    }
    let (mut parts, remainders): (Vec<u128>, Vec<u128>) = weights.iter().map(|w| mul_div_rem(total, *w, sum)).unzip();
    let given: u128 = parts.iter().sum();
    let left = total - given; // < weights.len(): each part lost less than one unit
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| remainders[b].cmp(&remainders[a]).then(a.cmp(&b)));
    for &i in order.iter().take(left as usize) {
        parts[i] += 1;
    }
    Ok(parts)
}

/// A reward pool paid out by weights (see the module documentation): amounts summing to `pool`.
pub fn pool_payouts(pool: u128, weights: &[f64]) -> Result<Vec<u128>> {
    split(pool, &fixed_point(weights)?)
}

/// `total` model shares minted by weights, summing to `total`.
pub fn share_allocation(total: u128, weights: &[f64]) -> Result<Vec<u128>> {
    split(total, &fixed_point(weights)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_div_matches_small_cases_and_survives_huge_ones() {
        for (a, b, d) in [(7u128, 3u128, 5u128), (1 << 100, 12345, 99999), (u64::MAX as u128, 17, 17)] {
            let exact = a.checked_mul(b).map(|p| (p / d, p % d));
            if let Some(e) = exact {
                assert_eq!(mul_div_rem(a, b, d), e);
            }
        }
        assert_eq!(mul_div_rem(u128::MAX, u128::MAX, u128::MAX), (u128::MAX, 0));
        assert_eq!(mul_div_rem(u128::MAX, 1, 2), (u128::MAX / 2, 1));
        assert_eq!(mul_div_rem(u128::MAX, 6, 12), (u128::MAX >> 1, 6));
        assert_eq!(mul_div_rem(1 << 127, 1 << 100, 1 << 110), (1 << 117, 0));
    }

    #[test]
    fn splits_sum_exactly_and_the_remainder_rule_is_stated() {
        assert_eq!(split(10, &[1, 1, 1]).expect("split"), vec![4, 3, 3]);
        assert_eq!(split(2, &[1, 3, 3]).expect("split"), vec![0, 1, 1]);
        assert_eq!(split(u128::MAX, &[1, 2]).expect("split").iter().sum::<u128>(), u128::MAX);
        assert!(split(5, &[0, 0]).is_err());
        let w = [0.5, 0.3333333333, 0.1666666667];
        assert_eq!(
            pool_payouts(1_000_000_000_000_000_001, &w).expect("pool").iter().sum::<u128>(),
            1_000_000_000_000_000_001
        );
        assert!(fixed_point(&[-0.1]).is_err());
    }
}
