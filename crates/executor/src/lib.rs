//! Where Agora's compute jobs run. [`Executor`] is the interface the scheduler talks to: submit a
//! [`JobSpec`], get back an external [`JobId`], poll its [`JobStatus`], cancel it. The scheduler
//! never learns where a job runs, so a remote backend (iExec) can sit behind the same trait.
//!
//! [`LocalExecutor`] is the embedded default. It runs WebAssembly apps (WASI preview 1, command
//! modules exporting `_start`) in wasmtime, each job on a blocking thread with its own store and
//! scratch directory, under [`Limits`]: fuel (instructions), wall time (epoch interruption),
//! linear memory (a resource limiter) and stdout size (checked on every write, so a job that
//! writes gigabytes fails at the cap). The guest sees its input on stdin and nothing else: no
//! arguments, no environment, no files, no sockets. Its stdout is the job's output.
//!
//! Apps are registered by content: [`LocalExecutor::register_app`] takes a wasm binary or WAT
//! text and names it by the SHA-256 (lowercase hex) of the binary module. The content store names
//! results by IPFS CID; apps here use a plain hash because the executor only needs a stable,
//! collision-free key and compiles each module once. [`sample_apps`] ships two real apps.

#![warn(missing_docs)]

mod apps;
mod catalogue;
pub mod ffmpeg;
mod local;
mod wasi;
mod wasm;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

pub use apps::{SampleApp, sample_apps};
pub use catalogue::Catalogue;
pub use local::{LocalConfig, LocalExecutor};

/// Errors of the executor interface itself. A job that fails is not an error: it is a
/// [`JobStatus::Failed`] with a reason.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bytes given as an app are not a usable module; the message says why.
    #[error("invalid app: {0}")]
    InvalidApp(String),
    /// A job names an app this executor does not know.
    #[error("unknown app {0}")]
    UnknownApp(AppId),
    /// No job has this id (never submitted, or forgotten).
    #[error("unknown job {0}")]
    UnknownJob(JobId),
    /// The WebAssembly engine could not be set up.
    #[error("wasm engine: {0}")]
    Engine(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An app's content address: for the local executor, the lowercase hex SHA-256 of the wasm binary.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AppId(String);

impl AppId {
    /// Wraps an id as stored elsewhere (a service's configuration, the database).
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A job's id in the executor that runs it (the "external id" the scheduler records).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(String);

impl JobId {
    /// Wraps an id recorded earlier, e.g. read back from the database after a restart.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a job may use. Every limit, when hit, ends the job as [`JobStatus::Failed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time from the moment the job starts running (not while queued).
    pub wall_time: Duration,
    /// Linear memory (all of the module's memories together), in bytes.
    pub memory_bytes: u64,
    /// Bytes the job may write to stdout, its output.
    pub output_bytes: u64,
    /// WebAssembly fuel: roughly one unit per instruction executed.
    pub fuel: u64,
}

impl Default for Limits {
    /// 30 s, 64 MiB of memory, 16 MiB of output, 10 billion instructions.
    fn default() -> Self {
        Self {
            wall_time: Duration::from_secs(30),
            memory_bytes: 64 << 20,
            output_bytes: 16 << 20,
            fuel: 10_000_000_000,
        }
    }
}

/// A job to run: which app, its input (the guest's stdin), and its limits.
#[derive(Debug, Clone)]
pub struct JobSpec {
    /// The app to run.
    pub app: AppId,
    /// The job's input, given to the app on stdin.
    pub input: Bytes,
    /// Limits the job runs under.
    pub limits: Limits,
}

/// Where a job stands. `Succeeded` and `Failed` are final.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobStatus {
    /// Accepted, waiting for a free slot.
    Queued,
    /// Running now.
    Running,
    /// Finished; `output` is everything the app wrote to stdout.
    Succeeded {
        /// The app's stdout, at most [`Limits::output_bytes`] of it.
        output: Bytes,
    },
    /// Ended without a result; `reason` is short and meant for people, e.g.
    /// "out of fuel (infinite loop?)" or "memory limit 64 MiB exceeded".
    Failed {
        /// Why the job failed, in a few words for the buyer.
        reason: String,
    },
}

impl JobStatus {
    /// Whether the job has ended (succeeded or failed).
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Succeeded { .. } | Self::Failed { .. })
    }
}

/// A place where jobs run. Implementations must be cheap to call from async code: `submit`
/// returns once the job is accepted, not when it ends.
#[async_trait]
pub trait Executor: Send + Sync {
    /// A short name for logs, e.g. `local` (as in `executor=local`).
    fn name(&self) -> &'static str;

    /// Accepts a job and returns its id; the job runs in the background.
    async fn submit(&self, spec: JobSpec) -> Result<JobId>;

    /// The job's current status.
    async fn status(&self, id: &JobId) -> Result<JobStatus>;

    /// Asks the job to stop. A job that has not ended ends as `Failed { reason: "cancelled" }`;
    /// cancelling a job that has already ended changes nothing.
    async fn cancel(&self, id: &JobId) -> Result<()>;

    /// Waits until the job has ended and returns its final status. The default polls
    /// [`status`](Self::status) every 250 ms; backends that can be told when a job ends override it.
    async fn wait(&self, id: &JobId) -> Result<JobStatus> {
        loop {
            let status = self.status(id).await?;
            if status.is_final() {
                return Ok(status);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Lets the executor drop what it keeps about a job (its output, above all), cancelling it
    /// if it still runs. The scheduler calls this once it has stored the result elsewhere.
    async fn forget(&self, id: &JobId) -> Result<()> {
        let _ = id;
        Ok(())
    }
}
