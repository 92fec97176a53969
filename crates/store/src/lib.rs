//! Agora's storage edge. Everything the indexer learns from the chain lands here: every contract log
//! exactly once (unique on chain id, transaction hash and log index), the blocks it came from, the
//! indexer's cursor, and the market state derived from those logs — always in the same database
//! transaction, so a crash can never leave derived state and cursor out of step. Beside it, the
//! state the node owns and no reorg may touch: vouchers and settlements, the scheduler's and the
//! iExec roles' progress, background runs, sign-in nonces and sessions.
//!
//! One code path serves SQLite (the embedded default) and PostgreSQL: queries go through sqlx's
//! `Any` driver with `$n` placeholders, and the schema in `migrations/` uses the SQL both accept.
//! Rows carry Rust types (`Address`, `U256`, `B256`, enums), converted once at this edge
//! (`column`): on disk, addresses and hashes are lower-case `0x` hex and amounts decimal strings of
//! the smallest unit; a stored value that does not parse is a corrupt row ([`Error::Inconsistent`]).
//!
//! One module per domain, each row type beside the queries that read it:
//! - `indexer`: cursor, blocks, logs, the batch transaction and reorg rollback (`apply` is the one
//!   place an event changes derived state; `stored_event` the encoding of `chain_logs.event`);
//! - `market`: services, tasks and a task's timeline;
//! - `channels`: channels, the payee ledger's vouchers, settlement attempts;
//! - `data_market`: the data sellers' registry, data orders and the ratings their parties gave;
//! - `data_acks`: a data seller's highest ACK per order (node-owned, kept across restarts);
//! - `fl_market`: the federated-learning market's tasks, members, block purchases, claims, shares,
//!   dividends and paid predictions (`fl_event` holds its events);
//! - `board`: the community task market — TaskBoard's tasks and claims, communities with their
//!   admins, members, minting budgets and points balances (`board_event` and `community_event` hold
//!   its events);
//! - `fl_runs`: the federated-learning coordinator's rounds, logs and results (node-owned);
//!   `fl_reference`: the centralised reference it trains beside a task;
//! - `compute_runs`: the scheduler's record of each task ([`ComputeRecord`], table `compute_jobs`);
//! - `background`: background jobs' runs ([`BackgroundRun`], table `job_runs`);
//! - `iexec`, `iexec_worker`: the iExec backend's and the Agora workerpool's records;
//! - `auth`: Sign-In with Ethereum nonces and sessions;
//! - `social`: profiles, community threads and replies, reports and the moderation log;
//! - `assistant`: the AI assistant's accounts with channels, its replies and their chunks, its users;
//! - `notify`: e-mail addresses and their verification tokens, notifications, preferences and the
//!   mail outbox.
//!
//! "Job" names one thing in Rust here: a background job. The tables `compute_jobs` and `job_runs`
//! keep their names, so existing databases need no migration.

#![warn(missing_docs)]

mod apply;
mod assistant;
mod auth;
mod background;
mod board;
mod board_batch;
mod board_event;
mod channels;
mod column;
mod community_event;
mod compute_runs;
mod data_acks;
mod data_market;
mod event;
mod fl_event;
mod fl_market;
mod fl_reference;
mod fl_runs;
mod fl_voucher;
mod iexec;
mod iexec_worker;
mod indexer;
mod market;
mod notify;
mod settings;
mod social;
mod store;
mod stored_event;
#[cfg(feature = "testing")]
pub mod testing;

pub use assistant::{AssistantUser, ChunkRow, NewChunk, NewReply, ReplyRow, ReplyStatus};
pub use auth::Session;
pub use background::BackgroundRun;
pub use board::{
    BoardClaimRow, BoardClaimState, BoardTaskFilter, BoardTaskRow, BoardTaskState, BoardTimelineEntry, CommunityFilter,
    CommunityMemberRow, CommunityMinterRow, CommunityPointsRow, CommunityRow,
};
pub use board_event::BoardEvent;
pub use channels::{ChannelFilter, ChannelRow, ChannelState, NewVoucher, Settlement, SettlementOutcome, VoucherRow};
pub use community_event::CommunityEvent;
pub use compute_runs::{ComputeRecord, ComputeStage};
pub use data_acks::DataAckRow;
pub use data_market::{OrderFilter, OrderRow, OrderState, PaymentMethod, RatingRow, RatingSummary, SellerRow};
pub use event::MarketEvent;
pub use fl_event::FlEvent;
pub use fl_market::{
    FlAccountAssets, FlClaimRow, FlDividendRow, FlMemberRow, FlMode, FlPredictionRow, FlPurchaseRow, FlRevenueRow,
    FlShareRow, FlTaskFilter, FlTaskRow, FlTaskState,
};
pub use fl_reference::FlReferenceRow;
pub use fl_runs::{FlLogLevel, FlLogRow, FlResultEntry, FlResultKind, FlResultRow, FlRoundParticipant, FlRoundRow};
pub use fl_voucher::{FlFeeBalance, FlVoucherPrediction};
pub use iexec::{IexecAppRow, IexecJobRow, IexecJobStatus};
pub use iexec_worker::{NewWorkerTask, WorkerOutcome, WorkerScope, WorkerStage, WorkerTaskRow, WorkerTaskUpdate};
pub use indexer::{ApplyOutcome, Batch, BlockRef, Cursor, IndexedLog, LogMeta};
pub use market::{ServiceRow, TaskRow, TaskStatus, TimelineEntry};
pub use notify::{
    EmailAddressRow, MailRow, MailStatus, NewMail, NewNotification, NotificationPage, NotificationRow, NotifyLevel,
    PrefRow, TokenUse,
};
pub use settings::StoreSettings;
pub use social::{
    CommunityAccess, ModerationAction, ModerationEntry, NewPost, PostOrder, PostRefusal, PostRow, ProfileRow,
    QueueEntry, RateLimit, ReportRow, Viewer,
};
pub use store::Store;

/// Everything that can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database refused or failed a query.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Another writer moved the cursor since this batch was fetched; the batch was not applied.
    #[error("indexer cursor for chain {chain_id} moved: expected block {expected}, found {found:?}")]
    CursorMoved {
        /// The chain.
        chain_id: u64,
        /// Where the writer expected the cursor.
        expected: u64,
        /// Where it was (`None`: not started).
        found: Option<u64>,
    },
    /// A log refers to something the log stream never introduced (e.g. a task of an unknown
    /// service), or a stored value does not parse (a corrupt row).
    #[error("inconsistent log stream: {0}")]
    Inconsistent(String),
    /// A JSON column (a background run's errors) could not be read or written.
    #[error("stored value could not be decoded: {0}")]
    Decode(#[from] serde_json::Error),
    /// A row of `chain_logs` holds an event this code cannot read.
    #[error("stored event could not be read: {0}")]
    StoredEvent(String),
    /// A number past `i64::MAX`, which neither database's integers hold.
    #[error("value {0} does not fit the database's signed 64-bit integers")]
    OutOfRange(u64),
}

/// The store's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A word that names no variant of a stored enum ([`TaskStatus`], [`ChannelState`], …): what
/// their `FromStr` returns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a {what}")]
pub struct UnknownVariant {
    /// The enum's name.
    pub what: &'static str,
    /// The word that was given.
    pub text: String,
}
