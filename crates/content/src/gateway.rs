//! Reading content by URL, the way an IPFS gateway client does, for anything that is handed a
//! link rather than a CID (an iExec deal's input files, an app module's address).
//!
//! A URL of the form `…/ipfs/<cid>` names content: when the store behind this reader holds that
//! CID, the bytes come from the store and nothing goes over the network. A URL under this node's
//! own API (`<own>/ipfs/<cid>`) is always answered from the store: the API serves the same store,
//! so asking it over HTTP could only give the same answer more slowly. Anything else is fetched
//! over HTTP(S) with a time limit and a size limit, and bytes fetched for a CID must hash to it.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::Url;

use crate::{Cid, ContentStore, Error, Result, compute_cid};

/// How long one fetch may take in all, and to connect.
const TIMEOUT: Duration = Duration::from_secs(120);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads `/ipfs/<cid>` links and other URLs; see the module docs. Cheap to clone.
#[derive(Debug)]
pub struct Gateway<S> {
    store: Arc<S>,
    own: Option<Url>,
    client: reqwest::Client,
}

impl<S> Clone for Gateway<S> {
    fn clone(&self) -> Self {
        Self { store: self.store.clone(), own: self.own.clone(), client: self.client.clone() }
    }
}

impl<S: ContentStore> Gateway<S> {
    /// A reader over `store`. `own_api` is this node's API base URL (e.g. `http://127.0.0.1:8080`)
    /// when it serves `store` under `/ipfs/<cid>`; links under it never leave the process.
    pub fn new(store: Arc<S>, own_api: Option<&str>) -> Result<Self> {
        let own = match own_api {
            Some(url) => Some(parse_http(url)?),
            None => None,
        };
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| Error::BadUrl { url: String::new(), reason: format!("no HTTP client: {e}") })?;
        Ok(Self { store, own, client })
    }

    /// The content `url` points at, at most `max_bytes` of it. Remote failures (a bad URL, an
    /// unreachable or refusing server, too much data, bytes that are not the CID's, a CID this
    /// node does not hold) are errors for which [`Error::is_fetch_failure`] is true.
    pub async fn fetch(&self, url: &str, max_bytes: u64) -> Result<Bytes> {
        let parsed = parse_http(url)?;
        let cid = cid_in_path(&parsed);
        if let Some(cid) = &cid {
            if let Some(bytes) = self.store.get(cid).await? {
                return within(url, bytes, max_bytes);
            }
            if self.is_own(&parsed) {
                return Err(Error::NotFound { cid: *cid });
            }
        }
        let bytes = self.download(parsed, url, max_bytes).await?;
        if let Some(expected) = cid {
            let got = compute_cid(&bytes).await?;
            if got != expected {
                return Err(Error::WrongContent { url: url.to_owned(), expected, got });
            }
        }
        Ok(bytes)
    }

    /// Whether `url` is under this node's own API.
    fn is_own(&self, url: &Url) -> bool {
        let Some(own) = &self.own else { return false };
        own.origin() == url.origin() && url.path().starts_with(&format!("{}/ipfs/", own.path().trim_end_matches('/')))
    }

    /// GETs `url`, refusing more than `max_bytes`.
    async fn download(&self, parsed: Url, url: &str, max_bytes: u64) -> Result<Bytes> {
        let failed = |reason: String| Error::FetchFailed { url: url.to_owned(), reason };
        let mut response = self.client.get(parsed).send().await.map_err(|e| failed(format!("cannot fetch: {e}")))?;
        if !response.status().is_success() {
            return Err(failed(format!("answered HTTP {}", response.status())));
        }
        let too_large = || Error::TooLarge { url: url.to_owned(), limit: max_bytes };
        if response.content_length().is_some_and(|n| n > max_bytes) {
            return Err(too_large());
        }
        let mut out = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| failed(format!("the download broke: {e}")))? {
            out.extend_from_slice(&chunk);
            if out.len() as u64 > max_bytes {
                return Err(too_large());
            }
        }
        Ok(out.into())
    }
}

/// `url` as an http(s) URL.
fn parse_http(url: &str) -> Result<Url> {
    let bad = |reason: String| Error::BadUrl { url: url.to_owned(), reason };
    let parsed = Url::parse(url.trim()).map_err(|e| bad(format!("not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("only http(s) URLs are fetched".into()));
    }
    Ok(parsed)
}

/// The CID of a `…/ipfs/<cid>` URL (a trailing slash allowed; a path inside the CID is not the
/// CID's own bytes, so it names none).
fn cid_in_path(url: &Url) -> Option<Cid> {
    let (_, rest) = url.path().rsplit_once("/ipfs/")?;
    rest.trim_end_matches('/').parse().ok()
}

fn within(url: &str, bytes: Bytes, max_bytes: u64) -> Result<Bytes> {
    if bytes.len() as u64 > max_bytes {
        return Err(Error::TooLarge { url: url.to_owned(), limit: max_bytes });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cids_are_read_from_ipfs_paths_only() {
        let cid = crate::cid_of(b"x");
        let url = |s: &str| Url::parse(s).expect("url");
        assert_eq!(cid_in_path(&url(&format!("http://h/ipfs/{cid}"))), Some(cid));
        assert_eq!(cid_in_path(&url(&format!("http://h/api/ipfs/{cid}/"))), Some(cid));
        assert_eq!(cid_in_path(&url(&format!("http://h/ipfs/{cid}/file.txt"))), None);
        assert_eq!(cid_in_path(&url("http://h/data.csv")), None);
        assert!(parse_http("ftp://h/x").is_err());
        assert!(parse_http("not a url").is_err());
    }
}
