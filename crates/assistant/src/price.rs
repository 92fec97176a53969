//! What a reply costs: prices per 1,000 prompt and completion tokens in the channel token's smallest
//! unit, and the one formula every side computes the same way.

use alloy::primitives::{Address, U256};
use serde::{Deserialize, Serialize};

/// A model's price list, set by the assistant's operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pricing {
    /// The token channels must be in (`Address::ZERO` for ETH).
    pub token: Address,
    /// Smallest units per 1,000 prompt tokens.
    #[serde(with = "crate::protocol::decimal")]
    pub prompt_per_1k: U256,
    /// Smallest units per 1,000 completion tokens.
    #[serde(with = "crate::protocol::decimal")]
    pub completion_per_1k: U256,
}

impl Pricing {
    /// `ceil((prompt × prompt_per_1k + completion × completion_per_1k) / 1000)`: the cost of a reply
    /// once `completion` tokens of it are delivered. A chunk is charged the difference of two such
    /// cumulative costs, so rounding never drifts.
    pub fn cost(&self, prompt: u32, completion: u32) -> U256 {
        let raw = U256::from(prompt)
            .saturating_mul(self.prompt_per_1k)
            .saturating_add(U256::from(completion).saturating_mul(self.completion_per_1k));
        raw.div_ceil(U256::from(1000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pricing(p: u64, c: u64) -> Pricing {
        Pricing { token: Address::ZERO, prompt_per_1k: U256::from(p), completion_per_1k: U256::from(c) }
    }

    #[test]
    fn cost_rounds_up_once_over_the_whole_reply() {
        let p = pricing(1, 3);
        assert_eq!(p.cost(0, 0), U256::ZERO);
        assert_eq!(p.cost(1, 0), U256::from(1));
        assert_eq!(p.cost(500, 100), U256::from(1)); // 800 / 1000 rounds up to 1
        assert_eq!(p.cost(1000, 1000), U256::from(4));
        // Chunk by chunk: the increments add up to the whole reply's cost.
        let mut last = p.cost(37, 0);
        let mut total = last;
        for c in 1..=333 {
            let now = p.cost(37, c);
            assert!(now >= last);
            total += now - last;
            last = now;
        }
        assert_eq!(total, p.cost(37, 333));
    }

    #[test]
    fn huge_prices_saturate_rather_than_wrap() {
        let p = Pricing { token: Address::ZERO, prompt_per_1k: U256::MAX, completion_per_1k: U256::MAX };
        assert_eq!(p.cost(2, 2), U256::MAX.div_ceil(U256::from(1000)));
    }
}
