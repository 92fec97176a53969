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
