//! The `[api]` section of the node's configuration.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Where and how the HTTP API and the web app are served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiSettings {
    /// Address the HTTP API listens on.
    pub http_addr: SocketAddr,
    /// The built web app served at `/` (`make up` builds it into `web/dist`).
    pub web_dir: PathBuf,
    /// The origin people reach this node at (e.g. `https://agora.example`), when a reverse proxy
    /// stands in front: Sign-In with Ethereum messages must name it. Unset: the request's `Host`.
    pub public_origin: Option<String>,
    /// Wallets allowed into `/api/admin/*` once signed in (users, channels, background jobs).
    pub admins: Vec<alloy::primitives::Address>,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            http_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            web_dir: PathBuf::from("web/dist"),
            public_origin: None,
            admins: Vec::new(),
        }
    }
}

/// The `[social]` section: how often one author may post in the communities' threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SocialSettings {
    /// Posts (threads and replies, in every community of the chain, deleted ones included) one
    /// author may write within `window_secs`; the next is refused with 429 and `Retry-After`.
    pub posts_per_window: u32,
    /// The rate limit's sliding window, in seconds.
    pub window_secs: u64,
}

impl Default for SocialSettings {
    fn default() -> Self {
        Self { posts_per_window: 5, window_secs: 60 }
    }
}
