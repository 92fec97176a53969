//! Agora's storage edge. Everything the indexer learns from the chain lands here: every contract log
//! exactly once (unique on chain id, transaction hash and log index), the blocks it came from, the
//! indexer's cursor, and the market state derived from those logs — always in the same database
//! transaction, so a crash can never leave derived state and cursor out of step.
//!
//! One code path serves SQLite (the embedded default) and PostgreSQL: queries go through sqlx's
//! `Any` driver with `$n` placeholders, and the schema in `migrations/` uses the SQL both accept.
//! Addresses are lower-case `0x` hex, amounts decimal strings of the smallest unit.

mod apply;
mod auth;
mod channels;
mod iexec;
mod iexec_worker;
mod jobs;
mod model;
mod settings;
mod store;
mod stored_event;
#[cfg(feature = "testing")]
pub mod testing;

pub use auth::Session;
pub use channels::{ChannelFilter, NewVoucher};
pub use iexec::{IexecAppRow, IexecJobRow};
pub use iexec_worker::{NewWorkerTask, WorkerScope, WorkerStage, WorkerTaskRow, WorkerTaskUpdate};
pub use jobs::{JobRow, JobStage};
pub use model::*;
pub use settings::StoreSettings;
pub use store::Store;

/// Everything that can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Another writer moved the cursor since this batch was fetched; the batch was not applied.
    #[error("indexer cursor for chain {chain_id} moved: expected block {expected}, found {found:?}")]
    CursorMoved { chain_id: u64, expected: u64, found: Option<u64> },
    /// A log refers to something the log stream never introduced (e.g. a task of an unknown service).
    #[error("inconsistent log stream: {0}")]
    Inconsistent(String),
    #[error("stored value could not be decoded: {0}")]
    Decode(#[from] serde_json::Error),
    /// A row of `chain_logs` holds an event this code cannot read.
    #[error("stored event could not be read: {0}")]
    StoredEvent(String),
    #[error("value {0} does not fit the database's signed 64-bit integers")]
    OutOfRange(u64),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
