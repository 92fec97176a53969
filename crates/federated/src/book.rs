//! What the coordinator reads from the chain ([`TaskBook`]) and does on it ([`TaskActions`]), and
//! how members and their blocks follow from the task's events ([`Membership`]).
//!
//! Which blocks a member trains on is decided here, off chain, from the events in chain order (the
//! contract only counts blocks): the spec's blocks in a seeded order; the first `totalBlocks` of
//! that order are the ones for sale, the rest are the join pool. A join takes the next
//! `blocks_per_member` of the join pool (fewer, or none, once it runs out); a purchase the next
//! `count` of the sale pool (the contract never sells more than `totalBlocks`). A member that
//! leaves before the start gives its blocks back (first in line for the next member); one that
//! leaves during training keeps what it earned, but trains no more.

use alloy::primitives::{Address, B256, U256};
use async_trait::async_trait;
use std::collections::VecDeque;

use agora_fl::rng::Rng;

use crate::{Error, Result};

/// FederatedMarket's `Mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskMode {
    /// A pool paid out by contribution through Merkle claims.
    RewardPool,
    /// Shares minted by contribution.
    Shareholding,
}

/// FederatedMarket's `TaskState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    /// Recruiting.
    Open,
    /// Started.
    Training,
    /// Results posted.
    Finished,
    /// Cancelled before the start.
    Cancelled,
    /// Cancelled after the finish deadline passed without results.
    Abandoned,
}

/// A task's terms as the chain holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskTerms {
    /// The task id.
    pub task: u64,
    /// The mode.
    pub mode: TaskMode,
    /// Its state now.
    pub state: TaskState,
    /// The only account that may start it and post its results.
    pub coordinator: Address,
    /// The reward pool (reward-pool mode), in the pool token's smallest unit.
    pub pool: U256,
    /// Blocks for sale.
    pub total_blocks: u32,
    /// Members needed to start.
    pub min_participants: u16,
    /// Unix seconds; training must start before it.
    pub start_deadline: u64,
    /// Unix seconds; results must be posted before it.
    pub finish_deadline: u64,
    /// The spec's CID (as `createTask` recorded it).
    pub spec: String,
}

/// A member event, in chain order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberEvent {
    /// `MemberJoined`.
    Joined(Address),
    /// `MemberLeft`.
    Left(Address),
    /// `BlocksBought`: `count` blocks by this member.
    Bought(Address, u32),
    /// `TaskStarted`.
    Started,
}

/// What the coordinator reads about a task.
#[async_trait]
pub trait TaskBook: Send + Sync {
    /// The task's terms now.
    async fn terms(&self, task: u64) -> Result<TaskTerms>;
    /// Its member events (joins, leaves, purchases, the start), in chain order.
    async fn events(&self, task: u64) -> Result<Vec<MemberEvent>>;
}

/// What the coordinator does on chain.
#[async_trait]
pub trait TaskActions: Send + Sync {
    /// `start(task)`.
    async fn start(&self, task: u64) -> Result<()>;
    /// `postRewards(task, root, recordCid)`.
    async fn post_rewards(&self, task: u64, root: B256, record_cid: &str) -> Result<()>;
    /// `postShares(task, holders, shares, recordCid)`.
    async fn post_shares(&self, task: u64, holders: &[Address], shares: &[U256], record_cid: &str) -> Result<()>;
}

/// Members in join order and the blocks each holds, replayed from the events.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Membership {
    /// Current members in join order, with their block ids (ascending).
    pub members: Vec<(Address, Vec<u32>)>,
    /// Whether the events include the start.
    pub started: bool,
}

impl Membership {
    /// Replays `events` for a spec of `blocks` blocks, `per_member` handed out at join, `for_sale`
    /// (the on-chain `totalBlocks`) sold, the block order seeded by `seed`.
    pub fn replay(events: &[MemberEvent], blocks: u32, per_member: u32, for_sale: u32, seed: u64) -> Result<Self> {
        if for_sale > blocks {
            return Err(Error::Spec(format!("the chain sells {for_sale} blocks, the spec has only {blocks}")));
        }
        let mut order: Vec<u32> = (0..blocks).collect();
        Rng::stream(seed, &[0xb10c_5a1e]).shuffle(&mut order);
        let mut sale: VecDeque<u32> = order[..for_sale as usize].iter().copied().collect();
        let mut pool: VecDeque<u32> = order[for_sale as usize..].iter().copied().collect();
        // (member, blocks from the join pool, blocks bought)
        let mut members: Vec<(Address, Vec<u32>, Vec<u32>)> = Vec::new();
        let mut started = false;
        for event in events {
            match *event {
                MemberEvent::Joined(who) => {
                    members.retain(|(a, _, _)| *a != who);
                    let take = (per_member as usize).min(pool.len());
                    members.push((who, pool.drain(..take).collect(), Vec::new()));
                }
                MemberEvent::Left(who) => {
                    let Some(at) = members.iter().position(|(a, _, _)| *a == who) else { continue };
                    let (_, given, bought) = members.remove(at);
                    if !started {
                        for b in given.into_iter().rev() {
                            pool.push_front(b);
                        }
                        for b in bought.into_iter().rev() {
                            sale.push_front(b);
                        }
                    }
                }
                MemberEvent::Bought(who, count) => {
                    let Some(m) = members.iter_mut().find(|(a, _, _)| *a == who) else { continue };
                    let take = (count as usize).min(sale.len());
                    m.2.extend(sale.drain(..take));
                }
                MemberEvent::Started => started = true,
            }
        }
        let members = members
            .into_iter()
            .map(|(a, mut given, bought)| {
                given.extend(bought);
                given.sort_unstable();
                (a, given)
            })
            .collect();
        Ok(Self { members, started })
    }

    /// Whether `account` is a current member.
    pub fn is_member(&self, account: Address) -> bool {
        self.members.iter().any(|(a, _)| *a == account)
    }

    /// `account`'s blocks, if it is a member.
    pub fn blocks_of(&self, account: Address) -> Option<&[u32]> {
        self.members.iter().find(|(a, _)| *a == account).map(|(_, b)| b.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_and_purchases_take_blocks_in_chain_order() {
        let (a, b, c) = (Address::repeat_byte(1), Address::repeat_byte(2), Address::repeat_byte(3));
        use MemberEvent::*;
        let events = [Joined(a), Joined(b), Bought(a, 2), Left(b), Joined(c), Started, Bought(c, 1), Left(a)];
        let m = Membership::replay(&events, 10, 3, 4, 1).expect("replays");
        assert!(m.started);
        assert_eq!(m.members.len(), 1);
        let c_blocks = m.blocks_of(c).expect("member");
        // c took b's returned join blocks, then one block for sale.
        assert_eq!(c_blocks.len(), 4);
        let before_leave = Membership::replay(&events[..2], 10, 3, 4, 1).expect("replays");
        let b_blocks = before_leave.blocks_of(b).expect("member").to_vec();
        assert!(b_blocks.iter().all(|x| c_blocks.contains(x)));
        assert!(!m.is_member(a));
        // The join pool runs out: a fourth member gets what is left.
        let many = [Joined(a), Joined(b), Joined(c)];
        let m = Membership::replay(&many, 10, 3, 4, 1).expect("replays");
        assert_eq!(m.blocks_of(c).expect("member").len(), 0);
        assert!(Membership::replay(&many, 3, 1, 4, 1).is_err());
    }
}
