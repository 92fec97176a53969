//! The Kubo backend: an IPFS node's RPC API (`/api/v0/…`, all `POST`).
//!
//! - put: `add?cid-version=1&raw-leaves=true&pin=true&chunker=size-262144&hash=sha2-256` with the
//!   content as one multipart file; the CID Kubo answers must equal the one computed here.
//! - get: `cat?arg=<cid>` (`offset`/`length` for ranges), checked against the size `files/stat`
//!   gives, so a stream cut short is an error rather than short content.
//! - has/size: `files/stat?arg=/ipfs/<cid>`.
//!
//! Reads pass `offline=true`: the node answers from its own blockstore and never searches the
//! network for a CID it does not have, so a miss is a quick `None` rather than a hang.

use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body::Frame;
use reqwest::Url;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

use crate::{CHUNK_SIZE, Cid, CidBuilder, ContentStore, Error, Result, clamp_range, compute_cid, io};

const ADD: &str = "add";
const CAT: &str = "cat";
const FILES_STAT: &str = "files/stat";

/// The `add` options that make Kubo build the DAG [`crate::dag`] describes.
const ADD_OPTIONS: [(&str, &str); 6] = [
    ("cid-version", "1"),
    ("raw-leaves", "true"),
    ("pin", "true"),
    ("chunker", "size-262144"),
    ("hash", "sha2-256"),
    ("trickle", "false"),
];

/// Content in a Kubo node, through its RPC API. Cheap to clone.
#[derive(Debug, Clone)]
pub struct KuboStore {
    client: reqwest::Client,
    api: Url,
}

/// One line of `add`'s answer.
#[derive(Deserialize)]
struct AddEntry {
    #[serde(rename = "Hash")]
    hash: String,
}

/// `files/stat`'s answer (the fields used here).
#[derive(Deserialize)]
struct Stat {
    #[serde(rename = "Size")]
    size: u64,
}

/// Kubo's error body: `{"Message": "...", "Code": 0, "Type": "error"}`.
#[derive(Deserialize)]
struct KuboError {
    #[serde(rename = "Message")]
    message: String,
}

impl KuboStore {
    /// A client for the RPC API at `api`, e.g. `http://127.0.0.1:5001`.
    pub fn new(api: &str) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidApiUrl { url: api.to_owned(), reason };
        let mut url = Url::parse(api.trim()).map_err(|e| invalid(e.to_string()))?;
        if url.scheme() != "http" {
            return Err(invalid("only http:// is supported (Kubo's RPC API is plain HTTP)".into()));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("must not have a query or fragment".into()));
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| invalid(e.to_string()))?;
        Ok(Self { client, api: url })
    }

    /// The endpoint this store talks to.
    pub fn api_url(&self) -> &Url {
        &self.api
    }

    fn url(&self, endpoint: &str, args: &[(&str, &str)]) -> Result<Url> {
        let mut url = self
            .api
            .join(&format!("api/v0/{endpoint}"))
            .map_err(|e| Error::InvalidApiUrl { url: self.api.to_string(), reason: e.to_string() })?;
        url.query_pairs_mut().extend_pairs(args);
        Ok(url)
    }

    /// Sends a request; a non-success status becomes [`Error::Kubo`] with Kubo's message.
    async fn send(&self, endpoint: &'static str, request: reqwest::RequestBuilder) -> Result<reqwest::Response> {
        let response = request.send().await.map_err(|source| Error::Http { endpoint, source })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<KuboError>(&body).map(|e| e.message).unwrap_or(body);
        Err(Error::Kubo { endpoint, status: status.as_u16(), message })
    }

    /// `add`s a multipart body and checks the CID Kubo answers against `expected`.
    async fn add(&self, body: reqwest::Body, boundary: &str) -> Result<String> {
        let url = self.url(ADD, &ADD_OPTIONS)?;
        let request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(body);
        let response = self.send(ADD, request).await?;
        let text = response.text().await.map_err(|source| Error::Http { endpoint: ADD, source })?;
        // One JSON object per line; the file's is the last (there is no wrapping directory).
        text.lines()
            .rev()
            .find_map(|line| serde_json::from_str::<AddEntry>(line).ok())
            .map(|entry| entry.hash)
            .ok_or_else(|| Error::KuboResponse { endpoint: ADD, reason: format!("no Hash in {:?}", shorten(&text)) })
    }

    /// `cat` of `length` bytes from `offset`, which must all arrive.
    async fn cat(&self, cid: &Cid, offset: u64, length: u64) -> Result<Bytes> {
        let arg = cid.to_string();
        let (offset_s, length_s) = (offset.to_string(), length.to_string());
        let url = self.url(CAT, &[("arg", &arg), ("offset", &offset_s), ("length", &length_s), ("offline", "true")])?;
        let response = self.send(CAT, self.client.post(url)).await?;
        let content = response.bytes().await.map_err(|source| Error::Http { endpoint: CAT, source })?;
        if content.len() as u64 != length {
            return Err(Error::WrongLength { cid: *cid, expected: length, got: content.len() as u64 });
        }
        Ok(content)
    }

    fn check(expected: Cid, kubo: String) -> Result<Cid> {
        if kubo == expected.to_string() {
            tracing::debug!(cid = %expected, "stored content in IPFS");
            Ok(expected)
        } else {
            Err(Error::CidMismatch { expected, kubo })
        }
    }
}

impl ContentStore for KuboStore {
    async fn put(&self, content: impl Into<Bytes> + Send) -> Result<Cid> {
        let content = content.into();
        let cid = compute_cid(&content).await?;
        let boundary = boundary();
        let (head, tail) = multipart_frame(&boundary);
        // Three frames, so the content is sent without being copied.
        let (tx, rx) = mpsc::channel(3);
        for frame in [head, content, tail] {
            let _ = tx.try_send(Ok(frame));
        }
        drop(tx);
        let kubo = self.add(reqwest::Body::wrap(ChannelBody { rx }), &boundary).await?;
        Self::check(cid, kubo)
    }

    async fn put_file(&self, path: &Path) -> Result<Cid> {
        let mut file = tokio::fs::File::open(path).await.map_err(io("opening", path))?;
        let boundary = boundary();
        let (head, tail) = multipart_frame(&boundary);
        // A reader task streams the file into the request body and computes the CID on the way.
        let (tx, rx) = mpsc::channel::<std::io::Result<Bytes>>(4);
        let path_owned = path.to_owned();
        let reader = tokio::spawn(async move {
            let mut builder = CidBuilder::new();
            let _ = tx.send(Ok(head)).await;
            loop {
                let mut buf = vec![0u8; CHUNK_SIZE];
                let n = match file.read(&mut buf).await {
                    Ok(n) => n,
                    Err(e) => {
                        let copy = std::io::Error::new(e.kind(), e.to_string());
                        let _ = tx.send(Err(copy)).await;
                        return Err(io("reading", &path_owned)(e));
                    }
                };
                if n == 0 {
                    break;
                }
                buf.truncate(n);
                builder.update(&buf);
                if tx.send(Ok(buf.into())).await.is_err() {
                    break; // the request is gone; its error is reported
                }
            }
            let _ = tx.send(Ok(tail)).await;
            Ok(builder.finish())
        });
        let added = self.add(reqwest::Body::wrap(ChannelBody { rx }), &boundary).await;
        let computed = reader.await??;
        Self::check(computed, added?)
    }

    async fn get(&self, cid: &Cid) -> Result<Option<Bytes>> {
        let Some(size) = self.size(cid).await? else { return Ok(None) };
        if size == 0 {
            return Ok(Some(Bytes::new()));
        }
        self.cat(cid, 0, size).await.map(Some)
    }

    async fn get_range(&self, cid: &Cid, start: u64, end: u64) -> Result<Option<Bytes>> {
        let Some(size) = self.size(cid).await? else { return Ok(None) };
        let (start, end) = clamp_range(start, end, size)?;
        if start == end {
            return Ok(Some(Bytes::new()));
        }
        self.cat(cid, start, end - start).await.map(Some)
    }

    async fn has(&self, cid: &Cid) -> Result<bool> {
        Ok(self.size(cid).await?.is_some())
    }

    async fn size(&self, cid: &Cid) -> Result<Option<u64>> {
        let arg = format!("/ipfs/{cid}");
        let url = self.url(FILES_STAT, &[("arg", &arg), ("offline", "true")])?;
        let response = match self.send(FILES_STAT, self.client.post(url)).await {
            Ok(response) => response,
            Err(Error::Kubo { message, .. }) if is_not_found(&message) => return Ok(None),
            Err(e) => return Err(e),
        };
        let text = response.text().await.map_err(|source| Error::Http { endpoint: FILES_STAT, source })?;
        let stat: Stat = serde_json::from_str(&text).map_err(|e| Error::KuboResponse {
            endpoint: FILES_STAT,
            reason: format!("{e} in {:?}", shorten(&text)),
        })?;
        Ok(Some(stat.size))
    }
}

/// Kubo reports a block missing from its blockstore (offline) as an error whose message says so,
/// e.g. "block was not found locally (offline): ipld: could not find bafk…".
fn is_not_found(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    message.contains("not found") || message.contains("could not find")
}

/// A multipart boundary that will not occur in content by chance.
fn boundary() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let seed = format!("{}-{}-{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
    let digest = Sha256::digest(seed.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("agora-{hex}")
}

/// What goes before and after the content in a one-file `multipart/form-data` body.
fn multipart_frame(boundary: &str) -> (Bytes, Bytes) {
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"content\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    );
    let tail = format!("\r\n--{boundary}--\r\n");
    (Bytes::from(head), Bytes::from(tail))
}

/// A request body fed by the reader task.
struct ChannelBody {
    rx: mpsc::Receiver<std::io::Result<Bytes>>,
}

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.rx.poll_recv(cx).map(|item| item.map(|chunk| chunk.map(Frame::data)))
    }
}

fn shorten(text: &str) -> String {
    text.chars().take(200).collect()
}
