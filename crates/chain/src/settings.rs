//! The `[chain]` section of the node's configuration.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Which chain the node works on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChainSettings {
    /// An EVM JSON-RPC endpoint. Unset: start the embedded anvil dev chain.
    pub rpc_url: Option<String>,
    /// The RPC URL handed to browsers and wallets (default: `rpc_url`).
    pub public_rpc_url: Option<String>,
    /// Where the contracts are (`agora deploy` writes it). Default: `<data_dir>/deployments.json`.
    pub deployments: Option<PathBuf>,
    /// The embedded dev chain (`[chain.dev]`).
    pub dev: DevChainSettings,
}

/// The embedded dev chain, when no `rpc_url` is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DevChainSettings {
    /// Port anvil listens on; 0 lets it pick a free one.
    pub anvil_port: u16,
    /// The chain id anvil serves (default 31337).
    pub chain_id: u64,
    /// The anvil binary (default: from `node_modules`).
    pub anvil_path: Option<PathBuf>,
    /// Deploy iExec PoCo beside Agora's contracts and run the Agora workerpool.
    pub iexec: bool,
}

impl Default for DevChainSettings {
    fn default() -> Self {
        Self { anvil_port: 8545, chain_id: 31337, anvil_path: None, iexec: true }
    }
}
