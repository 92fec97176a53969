//! The federated-learning market's network side (issue 14): what a task trains ([`spec`]), the
//! messages between a task's coordinator and its participants over a WebSocket ([`protocol`]), the
//! coordinator that waits for members, starts the task on chain, runs its rounds, records every
//! round in the content store and posts the payouts ([`coordinator`]), the centralised reference
//! it trains beside the federated run ([`reference`]), a finished task's model answering paid
//! predictions ([`serving`]) and compute-market inference jobs ([`inference`]), the participant that signs
//! in, checks the spec and trains on its blocks ([`client`]), the OpenZeppelin-compatible Merkle
//! tree that reward claims prove against ([`merkle`]), the fee receiver's forwarding of the
//! prediction fees paid to it by vouchers ([`fees`]), and what the coordinator reads and does on
//! chain ([`book`], with the FederatedMarket implementations in [`chain`]).
//!
//! The computation itself (data blocks, the model, aggregation, Shapley values, payouts, the
//! contribution record) is agora-fl's; this crate moves its inputs and outputs between machines
//! and the chain.

#![warn(missing_docs)]

pub mod book;
pub mod chain;
pub mod client;
pub mod coordinator;
pub mod fees;
pub mod inference;
pub mod merkle;
pub mod protocol;
pub mod reference;
mod report;
mod resume;
pub mod serving;
mod session;
pub mod settings;
pub mod spec;

pub use book::{MemberEvent, Membership, TaskActions, TaskBook, TaskMode, TaskState, TaskTerms};
pub use chain::{ChainTaskActions, ChainTaskBook};
pub use client::{Behaviour, ClientOptions, ClientReport, Corruption};
pub use coordinator::{
    Checkpoint, Coordinator, CoordinatorOptions, Journal, MemoryJournal, Payout, Progress, RoundReport, TaskResult,
};
pub use fees::{FeeForwarder, Forwarded, Recorded};
pub use merkle::MerkleTree;
pub use reference::ReferenceReport;
pub use settings::FlSettings;
pub use spec::{DataDirs, DatasetName, ModelKind, TaskSpec};

use alloy::primitives::Address;

/// Everything that can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The computation failed (data, model, aggregation, Shapley, payouts).
    #[error("{0}")]
    Fl(#[from] agora_fl::Error),
    /// The chain refused or could not be reached.
    #[error("chain: {0}")]
    Chain(#[from] agora_chain::Error),
    /// The content store failed.
    #[error("content store: {0}")]
    Content(#[from] agora_content::Error),
    /// A task spec that cannot be used.
    #[error("task spec: {0}")]
    Spec(String),
    /// The spec the coordinator sent is not the one on chain.
    #[error("the coordinator's spec has CID {got}, the task's on-chain spec is {expected}")]
    SpecMismatch {
        /// What the chain names.
        expected: String,
        /// The CID of the bytes received.
        got: String,
    },
    /// The peer broke the protocol (an unexpected or malformed message).
    #[error("protocol: {0}")]
    Protocol(String),
    /// The coordinator refused the sign-in.
    #[error("sign-in refused: {0}")]
    Denied(String),
    /// The account is not a current member of the task.
    #[error("{account} is not a member of task {task}")]
    NotMember {
        /// The task.
        task: u64,
        /// Who signed in.
        account: Address,
    },
    /// The WebSocket failed.
    #[error("WebSocket: {0}")]
    WebSocket(#[from] Box<tokio_tungstenite::tungstenite::Error>),
    /// A socket failed.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// Waiting for the peer took too long.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The peer went away.
    #[error("connection closed: {0}")]
    Closed(String),
    /// The coordinator ended this participant's session, saying why (no longer a member, say).
    #[error("the coordinator ended the session: {0}")]
    Dismissed(String),
    /// A task that cannot run as its terms say (state, deadlines, no contributions).
    #[error("task {task}: {reason}")]
    Task {
        /// The task.
        task: u64,
        /// Why.
        reason: String,
    },
    /// The journal (the node's store) could not record something.
    #[error("journal: {0}")]
    Journal(String),
    /// JSON that does not parse as the expected shape.
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl From<tokio_tungstenite::tungstenite::Error> for Error {
    fn from(e: tokio_tungstenite::tungstenite::Error) -> Self {
        Error::WebSocket(Box::new(e))
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
