//! How an iExec app names the Agora app that runs its tasks.
//!
//! iExec registers an app with a multiaddr (for Docker apps, the image) and a checksum. An app the
//! Agora workerpool serves uses one of:
//! - `agora:<name>`: an app the pool has installed under `<name>` — a service kind
//!   (`data-processing`, `video-transcode`, `ai-inference`) or a sample wasm app (`wordcount`,
//!   `csvstats`). For a wasm app a non-zero checksum must be `0x` + the SHA-256 of its module;
//! - `ipfs://<cid>` or `/ipfs/<cid>`: a WASI command module stored under that CID (taken from the
//!   pool's content store, else fetched from its IPFS gateway); its SHA-256 must equal a non-zero
//!   checksum. It runs in the same sandbox under the default limits.

use alloy::primitives::B256;
use sha2::{Digest, Sha256};

/// The multiaddr prefix of apps the pool has installed by name.
pub(crate) const AGORA_PREFIX: &str = "agora:";

/// The multiaddr of the installed app `name` (e.g. `agora:wordcount`).
pub fn multiaddr_for(name: &str) -> String {
    format!("{AGORA_PREFIX}{name}")
}

/// An iExec app's checksum for a wasm module: `0x` + the SHA-256 of the binary module, which is
/// also the module's id in Agora's local executor.
pub fn checksum_of_module(module: &[u8]) -> B256 {
    B256::from_slice(&Sha256::digest(module))
}

/// The checksum of a sample app shipped with the executor (`wordcount`, `csvstats`), computed from
/// its WAT source as the executor compiles it; `None` for an unknown name.
pub fn sample_app_checksum(name: &str) -> Option<B256> {
    let app = agora_executor::sample_apps().into_iter().find(|a| a.name == name)?;
    let module = wat::parse_bytes(app.source).ok()?;
    Some(checksum_of_module(&module))
}

/// What an app's multiaddr points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AppRef {
    /// An app installed in the pool under this name.
    Named(String),
    /// A wasm module stored under this CID.
    Content(agora_content::Cid),
}

/// Reads an app's multiaddr (the registry's bytes). The error is a sentence for logs.
pub(crate) fn parse_multiaddr(bytes: &[u8]) -> Result<AppRef, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the app's multiaddr is not text".to_owned())?.trim();
    if let Some(name) = text.strip_prefix(AGORA_PREFIX) {
        if name.is_empty() {
            return Err("the app's multiaddr names no Agora app".into());
        }
        return Ok(AppRef::Named(name.to_owned()));
    }
    let cid = text.strip_prefix("ipfs://").or_else(|| text.strip_prefix("/ipfs/"));
    match cid {
        Some(cid) => cid.trim_end_matches('/').parse().map(AppRef::Content).map_err(|e| format!("{e}")),
        None => Err(format!(
            "the app's multiaddr {text:?} is not an Agora app (`agora:<name>`) or a wasm module (`ipfs://<cid>`); \
             this workerpool runs no Docker images"
        )),
    }
}

/// Whether `checksum` allows the module whose executor id (lowercase hex SHA-256) is `app_id`: a
/// zero checksum allows anything; otherwise ids that are SHA-256 hex must match it.
pub(crate) fn checksum_allows(checksum: B256, app_id: &str) -> bool {
    if checksum.is_zero() {
        return true;
    }
    match alloy::primitives::hex::decode(app_id) {
        Ok(bytes) if bytes.len() == 32 => B256::from_slice(&bytes) == checksum,
        // Not a content hash (an ffmpeg or model app): nothing to compare with.
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiaddrs_parse() {
        assert_eq!(parse_multiaddr(b"agora:wordcount"), Ok(AppRef::Named("wordcount".into())));
        let cid = agora_content::cid_of(b"module");
        assert_eq!(parse_multiaddr(format!("ipfs://{cid}").as_bytes()), Ok(AppRef::Content(cid)));
        assert_eq!(parse_multiaddr(format!("/ipfs/{cid}").as_bytes()), Ok(AppRef::Content(cid)));
        assert!(parse_multiaddr(b"registry.hub.docker.com/iexechub/app:1.0").is_err());
        assert!(parse_multiaddr(b"agora:").is_err());
        assert!(parse_multiaddr(b"ipfs://not-a-cid").is_err());
    }

    #[test]
    fn sample_checksums_are_the_executor_ids() {
        let exec = agora_executor::LocalExecutor::new(agora_executor::LocalConfig::default()).unwrap();
        let wc = agora_executor::sample_apps().into_iter().find(|a| a.name == "wordcount").unwrap();
        let id = exec.register_app(wc.source).unwrap();
        let checksum = sample_app_checksum("wordcount").unwrap();
        assert_eq!(alloy::primitives::hex::encode(checksum), id.as_str());
        assert!(checksum_allows(checksum, id.as_str()));
        assert!(!checksum_allows(B256::with_last_byte(1), id.as_str()));
        assert!(checksum_allows(B256::ZERO, id.as_str()));
        assert!(sample_app_checksum("nope").is_none());
    }
}
