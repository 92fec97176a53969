//! OpenZeppelin's `StandardMerkleTree` for `(address, uint256)` leaves, as FederatedMarket's
//! `claimReward` verifies them (`MerkleProof.verify`):
//!
//! ```text
//! leaf = keccak256(bytes.concat(keccak256(abi.encode(account, amount))))
//! node = keccak256(min(a, b) ‖ max(a, b))
//! ```
//!
//! The layout is `@openzeppelin/merkle-tree`'s (1.0.x), so the root is the one that library gives
//! for the same values: leaves sorted by hash, ascending; the tree is an array of `2n − 1` nodes with
//! leaf `i` (in sorted order) at index `2n − 2 − i` and node `k`'s children at `2k + 1` and `2k + 2`;
//! a proof is the sibling of each node on the way up from the leaf to the root.

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::sol_types::SolValue;

/// A tree over `(account, amount)` entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerkleTree {
    entries: Vec<(Address, U256)>,
    /// The nodes, root first.
    nodes: Vec<B256>,
    /// Entry `i`'s position in `nodes`.
    positions: Vec<usize>,
}

/// The leaf of `(account, amount)`: FederatedMarket's `rewardLeaf`.
pub fn leaf(account: Address, amount: U256) -> B256 {
    keccak256(keccak256((account, amount).abi_encode()))
}

fn hash_pair(a: B256, b: B256) -> B256 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut both = [0u8; 64];
    both[..32].copy_from_slice(lo.as_slice());
    both[32..].copy_from_slice(hi.as_slice());
    keccak256(both)
}

impl MerkleTree {
    /// The tree of `entries` (at least one; duplicates are kept, as the library keeps them).
    /// `None` for no entries: there is no root to post.
    pub fn new(entries: &[(Address, U256)]) -> Option<Self> {
        if entries.is_empty() {
            return None;
        }
        let n = entries.len();
        let mut sorted: Vec<(B256, usize)> = entries.iter().enumerate().map(|(i, (a, v))| (leaf(*a, *v), i)).collect();
        // A stable sort by hash, as the library's Array.prototype.sort is.
        sorted.sort_by_key(|x| x.0);
        let mut nodes = vec![B256::ZERO; 2 * n - 1];
        let mut positions = vec![0; n];
        for (rank, (hash, entry)) in sorted.iter().enumerate() {
            let at = nodes.len() - 1 - rank;
            nodes[at] = *hash;
            positions[*entry] = at;
        }
        for k in (0..n - 1).rev() {
            nodes[k] = hash_pair(nodes[2 * k + 1], nodes[2 * k + 2]);
        }
        Some(Self { entries: entries.to_vec(), nodes, positions })
    }

    /// The root (what `postRewards` takes).
    pub fn root(&self) -> B256 {
        self.nodes[0]
    }

    /// The entries, in the order given.
    pub fn entries(&self) -> &[(Address, U256)] {
        &self.entries
    }

    /// The proof of entry `index` (in the order given), leaf to root; `None` past the end.
    pub fn proof(&self, index: usize) -> Option<Vec<B256>> {
        let mut at = *self.positions.get(index)?;
        let mut proof = Vec::new();
        while at > 0 {
            let sibling = if at % 2 == 1 { at + 1 } else { at - 1 };
            proof.push(self.nodes[sibling]);
            at = (at - 1) / 2;
        }
        Some(proof)
    }
}

/// Whether `proof` shows `(account, amount)` under `root`, as OpenZeppelin's `MerkleProof.verify`
/// decides it.
pub fn verify(root: B256, account: Address, amount: U256, proof: &[B256]) -> bool {
    proof.iter().fold(leaf(account, amount), |acc, p| hash_pair(acc, *p)) == root
}

#[cfg(test)]
mod tests {
    use alloy::primitives::{address, b256};

    use super::*;

    /// Made with `@openzeppelin/merkle-tree` 1.0.8 (npm, in a temporary directory):
    ///
    /// ```js
    /// const tree = StandardMerkleTree.of(values, ["address", "uint256"]);
    /// tree.root; for (const [i] of tree.entries()) tree.getProof(i);
    /// ```
    /// for the five values below (in this order), and `StandardMerkleTree.of([values[0]], …)` and
    /// `StandardMerkleTree.of(values.slice(0, 2), …)` for one and two entries.
    #[test]
    fn roots_and_proofs_match_openzeppelin_merkle_tree_1_0_8() {
        let values = [
            (address!("0x1111111111111111111111111111111111111111"), U256::from(5_000_000_000_000_000_000u128)),
            (address!("0x2222222222222222222222222222222222222222"), U256::from(2_500_000_000_000_000_000u128)),
            (address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"), U256::from(1)),
            (address!("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"), U256::ZERO),
            (address!("0x90F79bf6EB2c4f870365E785982E1f101E93b906"), U256::from(1_234_567_890_123_456_789_012_345u128)),
        ];
        let tree = MerkleTree::new(&values).expect("entries");
        assert_eq!(tree.root(), b256!("0xf2a827b98c14f49a9b610450e94b9a1350b88770565bdd1334ac5307b23c9aa0"));
        let proofs: [&[B256]; 5] = [
            &[
                b256!("0xafc446d3b4ab04f08dc3ca55d5db0cad31411120c3a43a5f095b9ec767c24fd6"),
                b256!("0x5a6920c90b6c0030a839c089453698205b47817f9ffce48059752ee9ace27eb4"),
            ],
            &[
                b256!("0x956c29270743256716ac81b12ec6b311915938037d99a40a5651ca317b41cfa6"),
                b256!("0x415cc62fab04a0aa1121edfcd2c39bc8076b049fe2ec4725503539772b359b76"),
            ],
            &[
                b256!("0xb92c48e9d7abe27fd8dfd6b5dfdbfb1c9a463f80c712b66f3a5180a090cccafc"),
                b256!("0x415cc62fab04a0aa1121edfcd2c39bc8076b049fe2ec4725503539772b359b76"),
            ],
            &[
                b256!("0x916a83964895dc8763c7b037c9ca8e0dc8bcaec4a8315cfc5fb516deed3b7083"),
                b256!("0xeb02c421cfa48976e66dfb29120745909ea3a0f843456c263cf8f1253483e283"),
                b256!("0x5a6920c90b6c0030a839c089453698205b47817f9ffce48059752ee9ace27eb4"),
            ],
            &[
                b256!("0x198250cd62a1382b6ea2e9129d804e00c87275fbfe60132da4383b5bf8f32cb4"),
                b256!("0xeb02c421cfa48976e66dfb29120745909ea3a0f843456c263cf8f1253483e283"),
                b256!("0x5a6920c90b6c0030a839c089453698205b47817f9ffce48059752ee9ace27eb4"),
            ],
        ];
        for (i, (account, amount)) in values.iter().enumerate() {
            let proof = tree.proof(i).expect("in range");
            assert_eq!(proof, proofs[i], "proof {i}");
            assert!(verify(tree.root(), *account, *amount, &proof));
            assert!(!verify(tree.root(), *account, *amount + U256::from(1), &proof));
        }
        assert!(tree.proof(5).is_none());
        let one = MerkleTree::new(&values[..1]).expect("entries");
        assert_eq!(one.root(), b256!("0xeb02c421cfa48976e66dfb29120745909ea3a0f843456c263cf8f1253483e283"));
        assert_eq!(one.proof(0).expect("in range"), Vec::<B256>::new());
        let two = MerkleTree::new(&values[..2]).expect("entries");
        assert_eq!(two.root(), b256!("0xd4dee0beab2d53f2cc83e567171bd2820e49898130a22622b10ead383e90bd77"));
        assert!(MerkleTree::new(&[]).is_none());
    }
}
