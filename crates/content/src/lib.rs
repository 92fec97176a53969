//! Agora's content-addressed store: job results, datasets and models are kept once under their IPFS
//! CID, so anyone can check that the bytes they fetch are the bytes a task committed to.
//!
//! CIDs are the real ones: CIDv1, sha2-256, base32 (`bafk…` for content of at most one 256 KiB chunk,
//! `bafy…` above), built exactly as `ipfs add --cid-version=1 --raw-leaves` builds the file's DAG
//! ([`dag`]). Two backends implement [`ContentStore`]: [`LocalStore`], a directory holding each
//! content once under its root CID (the embedded default), and [`KuboStore`], a Kubo node's RPC
//! API, chosen by [`open`] when `[content] ipfs_api` is set. Either way the CID is computed here, and a
//! Kubo node that answers a different one is an error.
//!
//! [`Gateway`] reads content by URL (`…/ipfs/<cid>` links and plain http(s) files): from the store
//! when it holds the CID, else over HTTP with size and time limits, checking fetched bytes
//! against the CID they were asked for. [`Cid::looks_like`] tells an input meant as a CID from text.

#![warn(missing_docs)]

pub mod cid;
pub mod dag;
mod gateway;
mod kubo;
mod local;
mod settings;

use std::future::Future;
use std::path::{Path, PathBuf};

use bytes::Bytes;

pub use cid::{Cid, Codec};
pub use dag::{CHUNK_SIZE, CidBuilder, MAX_LINKS, cid_of};
pub use gateway::Gateway;
pub use kubo::KuboStore;
pub use local::LocalStore;
pub use settings::ContentSettings;

/// Everything that can go wrong storing or fetching content.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A string that is not a CID this store can hold (CIDv1, raw or dag-pb, sha2-256, base32).
    #[error("invalid CID {input:?}: {reason}")]
    InvalidCid {
        /// The string as given (shortened when long).
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `start > end` in a range request.
    #[error("invalid byte range: start {start} is after end {end}")]
    InvalidRange {
        /// The first byte asked for.
        start: u64,
        /// The byte after the last one asked for.
        end: u64,
    },
    /// A range that starts past the end of the content (HTTP 416).
    #[error("byte range starts at {start}, past the end of the {size}-byte content")]
    RangeNotSatisfiable {
        /// The first byte asked for.
        start: u64,
        /// The content's size in bytes.
        size: u64,
    },
    /// A file operation on the local store (or a file being added) failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done (`"reading"`, `"renaming"`, …).
        action: &'static str,
        /// The file or directory it was done to.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// `[content] ipfs_api` is not a usable URL.
    #[error("invalid IPFS API URL {url:?}: {reason}")]
    InvalidApiUrl {
        /// The setting as given.
        url: String,
        /// Why it is not usable.
        reason: String,
    },
    /// The Kubo node could not be reached, or the connection broke.
    #[error("IPFS API {endpoint} request failed: {source}")]
    Http {
        /// The RPC endpoint called (`add`, `cat`, …).
        endpoint: &'static str,
        /// The HTTP client's error.
        #[source]
        source: reqwest::Error,
    },
    /// The Kubo node answered with an error.
    #[error("IPFS API {endpoint} answered {status}: {message}")]
    Kubo {
        /// The RPC endpoint called.
        endpoint: &'static str,
        /// The HTTP status it answered.
        status: u16,
        /// Kubo's error message.
        message: String,
    },
    /// The Kubo node answered something this client does not understand.
    #[error("IPFS API {endpoint} gave an unexpected answer: {reason}")]
    KuboResponse {
        /// The RPC endpoint called.
        endpoint: &'static str,
        /// What was wrong with the answer.
        reason: String,
    },
    /// The Kubo node stored the content under a CID other than the one computed here (its import
    /// settings differ from `--cid-version=1 --raw-leaves`, 256 KiB chunks, 174 links per node).
    #[error("IPFS node stored the content as {kubo}, but its CID is {expected}; check the node's Import settings")]
    CidMismatch {
        /// The CID computed here.
        expected: Cid,
        /// The CID Kubo answered, as it wrote it.
        kubo: String,
    },
    /// Fewer or more bytes came back than the content has.
    #[error("content {cid}: expected {expected} bytes, got {got}")]
    WrongLength {
        /// The content read.
        cid: Cid,
        /// The bytes it should have given.
        expected: u64,
        /// The bytes that came.
        got: u64,
    },
    /// A blocking or streaming task this store spawned panicked or was cancelled.
    #[error("background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// A URL [`Gateway`] will not fetch: not a URL, or not http(s).
    #[error("cannot fetch {url:?}: {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// Why it is refused.
        reason: String,
    },
    /// The server could not be reached, answered an error status, or the download broke.
    #[error("{url}: {reason}")]
    FetchFailed {
        /// The URL fetched.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The content at `url` is larger than the caller allowed.
    #[error("{url} is larger than {limit} bytes")]
    TooLarge {
        /// The URL fetched.
        url: String,
        /// The caller's limit, in bytes.
        limit: u64,
    },
    /// Bytes fetched for a CID hash to another one.
    #[error("the bytes fetched from {url} have CID {got}, not {expected}")]
    WrongContent {
        /// Where the bytes came from.
        url: String,
        /// The CID asked for.
        expected: Cid,
        /// The CID of the bytes that came.
        got: Cid,
    },
    /// A CID asked of this node's own gateway that its store does not hold.
    #[error("{cid} is not in this node's content store")]
    NotFound {
        /// The CID asked for.
        cid: Cid,
    },
}

impl Error {
    /// Whether this is [`Gateway::fetch`] failing to get the content (the URL, the server, the
    /// bytes), as opposed to this node's own store failing.
    pub fn is_fetch_failure(&self) -> bool {
        matches!(
            self,
            Error::BadUrl { .. }
                | Error::FetchFailed { .. }
                | Error::TooLarge { .. }
                | Error::WrongContent { .. }
                | Error::NotFound { .. }
        )
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A content-addressed store. Content is immutable and kept under the root CID that
/// [`cid_of`] gives for it; putting the same bytes twice is harmless and yields the same CID.
pub trait ContentStore: Send + Sync {
    /// Stores `content` and returns its CID.
    fn put(&self, content: impl Into<Bytes> + Send) -> impl Future<Output = Result<Cid>> + Send;

    /// Stores the file at `path`, read in chunks (never whole in memory), and returns its CID.
    fn put_file(&self, path: &Path) -> impl Future<Output = Result<Cid>> + Send;

    /// The whole content, or `None` when this store does not have it.
    fn get(&self, cid: &Cid) -> impl Future<Output = Result<Option<Bytes>>> + Send;

    /// Bytes `start..end` (end exclusive, clamped to the content's size), or `None` when this store
    /// does not have the content. A range starting past the end is [`Error::RangeNotSatisfiable`].
    fn get_range(&self, cid: &Cid, start: u64, end: u64) -> impl Future<Output = Result<Option<Bytes>>> + Send;

    /// Whether this store holds the content of `cid`.
    fn has(&self, cid: &Cid) -> impl Future<Output = Result<bool>> + Send;

    /// The content's size in bytes, or `None` when this store does not have it.
    fn size(&self, cid: &Cid) -> impl Future<Output = Result<Option<u64>>> + Send;
}

/// Where content goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentConfig {
    /// The local store's directory (used when `ipfs_api` is unset).
    pub dir: PathBuf,
    /// A Kubo RPC endpoint such as `http://127.0.0.1:5001`. Set: content goes to that node.
    pub ipfs_api: Option<String>,
}

/// Opens the store `config` names: Kubo when `ipfs_api` is set, else the local directory.
pub async fn open(config: &ContentConfig) -> Result<AnyStore> {
    match &config.ipfs_api {
        Some(url) => Ok(AnyStore::Kubo(KuboStore::new(url)?)),
        None => Ok(AnyStore::Local(LocalStore::open(&config.dir).await?)),
    }
}

/// Either backend, chosen at run time by [`open`].
#[derive(Debug, Clone)]
pub enum AnyStore {
    /// Content in a local directory.
    Local(LocalStore),
    /// Content in a Kubo node.
    Kubo(KuboStore),
}

impl ContentStore for AnyStore {
    async fn put(&self, content: impl Into<Bytes> + Send) -> Result<Cid> {
        match self {
            AnyStore::Local(s) => s.put(content).await,
            AnyStore::Kubo(s) => s.put(content).await,
        }
    }

    async fn put_file(&self, path: &Path) -> Result<Cid> {
        match self {
            AnyStore::Local(s) => s.put_file(path).await,
            AnyStore::Kubo(s) => s.put_file(path).await,
        }
    }

    async fn get(&self, cid: &Cid) -> Result<Option<Bytes>> {
        match self {
            AnyStore::Local(s) => s.get(cid).await,
            AnyStore::Kubo(s) => s.get(cid).await,
        }
    }

    async fn get_range(&self, cid: &Cid, start: u64, end: u64) -> Result<Option<Bytes>> {
        match self {
            AnyStore::Local(s) => s.get_range(cid, start, end).await,
            AnyStore::Kubo(s) => s.get_range(cid, start, end).await,
        }
    }

    async fn has(&self, cid: &Cid) -> Result<bool> {
        match self {
            AnyStore::Local(s) => s.has(cid).await,
            AnyStore::Kubo(s) => s.has(cid).await,
        }
    }

    async fn size(&self, cid: &Cid) -> Result<Option<u64>> {
        match self {
            AnyStore::Local(s) => s.size(cid).await,
            AnyStore::Kubo(s) => s.size(cid).await,
        }
    }
}

/// Checks a range against the content's size: `start..min(end, size)`.
fn clamp_range(start: u64, end: u64, size: u64) -> Result<(u64, u64)> {
    if start > end {
        return Err(Error::InvalidRange { start, end });
    }
    if start > size {
        return Err(Error::RangeNotSatisfiable { start, size });
    }
    Ok((start, end.min(size)))
}

/// Content larger than this is hashed on the blocking pool rather than on the async worker.
const HASH_INLINE_MAX: usize = 1 << 20;

/// [`cid_of`], off the async workers for large content.
async fn compute_cid(content: &Bytes) -> Result<Cid> {
    if content.len() <= HASH_INLINE_MAX {
        return Ok(cid_of(content));
    }
    let content = content.clone();
    Ok(tokio::task::spawn_blocking(move || cid_of(&content)).await?)
}

/// Maps an I/O error to [`Error::Io`] naming what was being done to which path.
fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_owned();
    move |source| Error::Io { action, path, source }
}
