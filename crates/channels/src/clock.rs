//! The chain's clock, which is what a channel's expiry means: the contract lets the payee close
//! while `block.timestamp < expiry` and the payer reclaim from then on. The payee's ledger must
//! judge a voucher by that clock, not by the machine's: on a dev chain whose time was moved
//! forward (anvil's `evm_increaseTime`) the wall clock would accept vouchers for a channel the
//! payer can already reclaim.
//!
//! The clock follows the chain's latest block. The chain's time is taken to run at the wall
//! clock's rate, ahead of it by what the newest block showed when it was first seen:
//! `now = wall + max(0, newest block's timestamp − wall time it was seen)`, and never before that
//! block's timestamp. So a chain advanced by two hours reads two hours ahead from its first block
//! after the jump on, even while no new block comes (anvil mines only on demand), and an idle chain
//! whose latest block is old reads the wall clock, as its next block will. Both are lower bounds on
//! the timestamp of the next block, the one that would carry a `close` or a `reclaim`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alloy::eips::BlockNumberOrTag;
use alloy::providers::{DynProvider, Provider};

/// The chain's time in unix seconds, fed with the blocks it sees; cheap to clone (clones share it).
#[derive(Debug, Clone, Default)]
pub struct ChainClock {
    inner: Arc<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The newest block timestamp seen.
    latest: AtomicU64,
    /// How far the chain runs ahead of the wall clock, seconds (never negative).
    ahead: AtomicU64,
}

/// The wall clock, unix seconds (0 before 1970).
fn wall_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

impl ChainClock {
    /// A clock that has seen no block: it reads the wall clock until [`ChainClock::observe`] shows it one.
    pub fn wall() -> Self {
        Self::default()
    }

    /// The chain's time now, unix seconds.
    pub fn now(&self) -> u64 {
        self.now_at(wall_now())
    }

    /// The chain's time when the wall clock reads `wall`.
    pub fn now_at(&self, wall: u64) -> u64 {
        let ahead = self.inner.ahead.load(Ordering::Acquire);
        wall.saturating_add(ahead).max(self.inner.latest.load(Ordering::Acquire))
    }

    /// How far the chain runs ahead of the wall clock, seconds.
    pub fn ahead(&self) -> u64 {
        self.inner.ahead.load(Ordering::Acquire)
    }

    /// A block with `timestamp` was just seen. Only a block newer than every one seen before moves
    /// the clock (a block seen again has aged, not the chain).
    pub fn observe(&self, timestamp: u64) {
        self.observe_at(timestamp, wall_now());
    }

    /// [`ChainClock::observe`] with the wall clock's reading given.
    pub fn observe_at(&self, timestamp: u64, wall: u64) {
        if self.inner.latest.fetch_max(timestamp, Ordering::AcqRel) < timestamp {
            self.inner.ahead.store(timestamp.saturating_sub(wall), Ordering::Release);
        }
    }

    /// Reads the chain's latest block once and observes it; returns the chain's time.
    pub async fn refresh(&self, chain: &DynProvider) -> Result<u64, alloy::transports::TransportError> {
        if let Some(block) = chain.get_block_by_number(BlockNumberOrTag::Latest).await? {
            self.observe(block.header.timestamp);
        }
        Ok(self.now())
    }

    /// A clock that follows `chain`: it reads the latest block now, then every `every` in a task
    /// that ends when the last clone of the clock is dropped. An unreachable node leaves the clock
    /// where it was (and running at the wall clock's rate).
    pub async fn follow(chain: DynProvider, every: Duration) -> Self {
        let clock = Self::wall();
        if let Err(e) = clock.refresh(&chain).await {
            tracing::warn!(error = %e, "cannot read the chain's latest block; judging expiry by the wall clock until it can");
        }
        let weak: Weak<State> = Arc::downgrade(&clock.inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let clock = ChainClock { inner };
                if let Err(e) = clock.refresh(&chain).await {
                    tracing::debug!(error = %e, "cannot read the chain's latest block");
                }
            }
        });
        clock
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_wall_clock_until_a_block_runs_ahead_of_it() {
        let clock = ChainClock::wall();
        assert_eq!(clock.now_at(1_000), 1_000);
        // An old block (an idle chain): the next block will carry the wall clock's time.
        clock.observe_at(400, 1_000);
        assert_eq!(clock.now_at(1_010), 1_010);
        // The chain's time was moved two hours forward: it stays ahead as the wall clock runs.
        clock.observe_at(1_020 + 7_200, 1_020);
        assert_eq!(clock.ahead(), 7_200);
        assert_eq!(clock.now_at(1_030), 1_030 + 7_200);
        // The same block seen again later has aged; it does not pull the clock back.
        clock.observe_at(1_020 + 7_200, 2_000);
        assert_eq!(clock.now_at(2_000), 2_000 + 7_200);
        // Never before the newest block, whatever the wall clock says.
        assert_eq!(clock.now_at(0), 1_020 + 7_200);
        // Clones share what they saw.
        let other = clock.clone();
        other.observe_at(3_000 + 10_000, 3_000);
        assert_eq!(clock.ahead(), 10_000);
    }
}
