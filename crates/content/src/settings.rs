//! The `[content]` section of the node's configuration.

use serde::{Deserialize, Serialize};

/// Where content lives.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContentSettings {
    /// IPFS Kubo RPC API (e.g. `http://127.0.0.1:5001`). Unset: `<data_dir>/content`.
    pub ipfs_api: Option<String>,
}
