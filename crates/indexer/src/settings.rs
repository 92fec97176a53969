//! The `[indexer]` section of the node's configuration.

use serde::{Deserialize, Serialize};

/// How the indexer follows the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndexerSettings {
    /// Blocks a log must be buried under before it is indexed. Default: 0 on the embedded chain,
    /// 12 elsewhere.
    pub confirmations: Option<u64>,
    /// Milliseconds between polls of the chain head when caught up.
    pub poll_interval_ms: u64,
    /// Most blocks per `eth_getLogs` call.
    pub batch_blocks: u64,
}

impl Default for IndexerSettings {
    fn default() -> Self {
        Self { confirmations: None, poll_interval_ms: 200, batch_blocks: 500 }
    }
}

impl IndexerSettings {
    /// The confirmations to wait for: as set, else 0 on an embedded dev chain and 12 elsewhere.
    pub fn confirmations(&self, embedded_chain: bool) -> u64 {
        self.confirmations.unwrap_or(if embedded_chain { 0 } else { 12 })
    }
}
