//! Agora's live-event bus and hot-read cache. The process that runs the indexer publishes a short
//! reference to every log it applies and every off-chain change ([`Message`]); every API process
//! subscribes and feeds its own event-stream clients. [`Cache`] keeps hot list reads, invalidated
//! per domain by those messages. Both live in the process's memory (one `agora up`, the embedded
//! default) or are shared between processes through Redis (`[redis] url`). A subscriber is never
//! left unaware of a lost message: a dropped connection, a publisher's sequence that jumps, or a
//! local reader that falls behind comes out as [`Delivery::Gap`], and readers re-read.

mod bus;
mod cache;
mod conn;
mod redis_bus;
mod redis_cache;
mod settings;
mod wire;

pub use bus::{Bus, Subscription};
pub use cache::{Cache, Lookup, Stamp};
pub use settings::{CacheSettings, RedisSettings};

/// What this crate's Redis side can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL or the server said no, or the connection broke.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// The server did not answer in time.
    #[error("redis did not answer within {0:?}")]
    Timeout(std::time::Duration),
    /// A reconnection is waiting out its backoff.
    #[error("redis is unreachable; retrying in {0:?}")]
    Backoff(std::time::Duration),
}

/// This crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A log the indexer applied: enough to name it; the rest is in the shared database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRef {
    /// The chain it is on.
    pub chain_id: u64,
    /// The block that holds it.
    pub block_number: u64,
    /// The transaction that emitted it, `0x` hex.
    pub tx_hash: String,
    /// Its position in the block.
    pub log_index: u64,
    /// What it is about: `task:3`, `service:1`, `fl-task:2`…
    pub subject: String,
}

/// Something that changed, as the bus carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A log the indexer applied.
    Log(LogRef),
    /// Off-chain state changed (`task:7`: a task's iExec deal moved on).
    Changed {
        /// What changed, named like a log's subject.
        subject: String,
    },
}

impl Message {
    /// What it is about (`task:3`).
    pub fn subject(&self) -> &str {
        match self {
            Self::Log(l) => &l.subject,
            Self::Changed { subject } => subject,
        }
    }

    /// The domain of its subject (`task` for `task:3`): the cache entries it invalidates.
    pub fn domain(&self) -> &str {
        domain_of(self.subject())
    }
}

/// The domain of a subject: what stands before its first `:` (all of it when there is none).
pub fn domain_of(subject: &str) -> &str {
    subject.split_once(':').map_or(subject, |(d, _)| d)
}

/// What a subscriber receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The next message.
    Message(Message),
    /// Messages were lost (`missed` of them, 0 when unknown): whatever was read before may be
    /// stale and should be read again.
    Gap {
        /// How many, when known.
        missed: u64,
    },
}
