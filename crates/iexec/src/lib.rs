//! iExec on Agora. iExec's protocol (PoCo: the hub that matches orders into deals, escrows RLC and
//! records each task's result) runs on any EVM chain; this crate plays three roles on it, one
//! module each, over a few shared pieces.
//!
//! The roles:
//! - [`poco`] (dev chain only): deploys RLC, the hub (a diamond with 16 facets), the registries
//!   and the categories from PoCo 6.1.0's published artifacts ([`artifacts`], read from
//!   `node_modules`, pinned), about 0.3 s on anvil, plus the dev set-up (RLC for the dev accounts,
//!   the dev workerpool).
//! - [`backend`] (requester): Agora's compute backend on iExec. A ComputeMarket task becomes a
//!   deal made with the real `iexec` CLI (`backend::cli`: app, app order, the pool's order, a
//!   request order, fill), followed to COMPLETED (the result downloaded with the CLI) or claimed
//!   after its deadline; crash-safe, one deal per task.
//! - [`workerpool`] (worker): the Agora workerpool. Registers a pool, keeps its stake, signs its
//!   orders, watches the hub for deals on it, runs each task on Agora's executor and contributes
//!   the result (trust 1), or lets the task reach `claim`; its progress is kept in the store so a
//!   crash repeats nothing.
//!
//! Shared by the roles:
//! - `task`: a PoCo task's id and [`TaskStatus`], and `initialize` / `claim`, written once.
//! - `tx`: every transaction this crate signs goes through it.
//! - [`bindings`]: a hand-written `sol!` interface to the hub and the registries.
//! - [`orders`]: EIP-712 hashing and signing of iExec orders, in the JSON shape the `iexec` CLI
//!   reads from `orders.json`.
//! - [`result`]: a task's result as iExec workers publish it — a zip holding the output and
//!   `computed.json`, built and read in one place — and its result digest.
//! - [`apps`]: how an iExec app names the Agora app that runs it (`agora:<name>`, `ipfs://<cid>`).
//!
//! HTTP is not spoken here: input files and app modules are read through
//! [`agora_content::Gateway`], and the CLI downloads results itself. Addresses on the dev chain
//! are deterministic; elsewhere they come from configuration.

#![warn(missing_docs)]

pub mod apps;
pub mod backend;
pub mod bindings;
pub mod orders;
pub mod poco;
pub mod result;
mod runner;
mod settings;
pub(crate) mod task;
pub(crate) mod tx;
pub mod workerpool;

pub use settings::{BackendSettings, IexecSettings, WorkerpoolSettings};

pub use poco::artifacts;
pub use task::TaskStatus;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// PoCo's artifacts are missing or not what was expected.
    #[error("iExec artifacts: {0}")]
    Artifact(String),
    /// `agora-chain` failed: connecting to the RPC URL, or sending a transaction for another
    /// reason than a revert (fees, nonce, the node's answer).
    #[error(transparent)]
    Chain(#[from] agora_chain::Error),
    /// The JSON-RPC node could not be reached or refused a read.
    #[error("RPC error: {0}")]
    Rpc(#[from] alloy::transports::TransportError),
    /// A transaction was sent but its receipt could not be had.
    #[error("waiting for a receipt failed: {0}")]
    Receipt(#[from] alloy::providers::PendingTransactionError),
    /// A call or transaction to an iExec contract reverted; `reason` is the revert string when
    /// there is one (PoCo reverts many checks with a bare `require`).
    #[error("{what} reverted: {reason}")]
    Reverted {
        /// The call or transaction, for people (e.g. `initialize(0xabc…, 0)`).
        what: String,
        /// The decoded revert message, or a sentence saying there was none.
        reason: String,
    },
    /// A contract call failed for another reason than a revert.
    #[error("{what} failed: {source}")]
    Call {
        /// The call, for people (e.g. `hub.token()`).
        what: String,
        /// alloy's error, boxed to keep [`Error`] small.
        #[source]
        source: Box<alloy::contract::Error>,
    },
    /// The chain does not hold what was expected (a deployment, a workerpool).
    #[error("{0}")]
    Invalid(String),
    /// Reading or writing the node's database (jobs, worker tasks) failed.
    #[error(transparent)]
    Store(#[from] agora_store::Error),
    /// The content store or the IPFS gateway failed (inputs, app modules, results).
    #[error(transparent)]
    Content(#[from] agora_content::Error),
    /// Agora's executor could not install or run an app.
    #[error(transparent)]
    Executor(#[from] agora_executor::Error),
    /// A local file (working directory, artifact, downloaded result) could not be read or written.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// JSON that this crate reads or writes (the CLI's answers, orders, `computed.json`) did not
    /// (de)serialize.
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),
    /// A result archive could not be built or read; the sentence says what is wrong with it.
    #[error("zip archive: {0}")]
    Zip(String),
    /// A key failed to sign an order, an authorization or an enclave message.
    #[error("signing failed: {0}")]
    Sign(#[from] alloy::signers::Error),
    /// An `iexec` CLI call failed: exit status, `"ok":false`, or an unusable answer; `message`
    /// is the CLI's own when it gave one.
    #[error("{command} failed: {message}")]
    Cli {
        /// The command as run, e.g. `iexec order fill`.
        command: String,
        /// What went wrong, in the CLI's words when it gave any.
        message: String,
    },
    /// A task spawned on the runtime panicked or was cancelled.
    #[error("background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// This crate's result, with [`Error`] by default.
pub type Result<T, E = Error> = std::result::Result<T, E>;
