//! The `[redis]` and `[cache]` sections of the node's configuration.

use serde::{Deserialize, Serialize};

/// Where live events and cached reads are shared between processes. Without a URL they stay in
/// the process's memory (one `agora up`, the embedded default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisSettings {
    /// `redis://host:port[/db]`. Unset: memory only; `agora serve` needs it.
    pub url: Option<String>,
    /// Prefix of every key and channel this deployment uses, so several can share a server.
    pub prefix: String,
    /// How often (ms) the publisher says where its sequence stands and subscribers check that
    /// their connection still answers.
    pub heartbeat_ms: u64,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self { url: None, prefix: "agora".into(), heartbeat_ms: 2_000 }
    }
}

impl RedisSettings {
    /// The URL, unless unset or blank.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref().map(str::trim).filter(|u| !u.is_empty())
    }
}

/// Hot reads kept for a while: in Redis when `[redis] url` is set, else in memory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheSettings {
    /// How long (ms) an entry lives at most; indexed events invalidate it sooner. 0: no caching.
    pub ttl_ms: u64,
    /// How many entries the memory cache holds at most (Redis entries are bounded by the TTL).
    pub max_entries: usize,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self { ttl_ms: 60_000, max_entries: 10_000 }
    }
}
