//! The `[iexec]`, `[iexec.backend]` and `[iexec.workerpool]` sections of the node's configuration.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// iExec on a configured chain (the embedded dev chain deploys and configures its own).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IexecSettings {
    /// The iExec hub (PoCo's diamond) on a configured chain.
    pub hub: Option<String>,
    /// JSON-RPC of the chain iExec runs on (default: `[chain] rpc_url`).
    pub rpc_url: Option<String>,
    /// The workerpool the backend buys from and the Agora workerpool serves. Unset: the one
    /// registered for the pool owner under its description (registered when there is none).
    pub workerpool_address: Option<String>,
    /// The workerpool's signed orders (default: `<data_dir>/iexec/workerpoolorders.json`, which
    /// the Agora workerpool writes and the backend reads).
    pub workerpool_orders: Option<PathBuf>,
    /// `[iexec.backend]`: the requester side, buying iExec deals for ComputeMarket tasks.
    pub backend: BackendSettings,
    /// `[iexec.workerpool]`: the worker side, serving deals on the Agora workerpool.
    pub workerpool: WorkerpoolSettings,
}

/// The compute backend on iExec (tasks of services whose runtime is iExec): on the embedded chain
/// when PoCo is there, elsewhere when `hub` and `requester_key` are set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackendSettings {
    /// A `chain.json` for the `iexec` CLI (a real iExec chain). Unset: one is written for the
    /// chain and hub, with this node's API as the IPFS gateway.
    pub chain_json: Option<PathBuf>,
    /// The chain's name in `chain_json` (default: its `default`).
    pub chain_name: Option<String>,
    /// Key of the requester wallet: signs request orders, pays deals from its iExec account. On
    /// the embedded chain: dev account 6.
    pub requester_key: Option<String>,
    /// Key that owns the services' iExec apps (default: the requester's). On the embedded chain:
    /// dev account 1 (the demo provider).
    pub app_owner_key: Option<String>,
    /// The `iexec` CLI (default: `node_modules/.bin/iexec` here or above).
    pub cli: Option<PathBuf>,
    /// Milliseconds between `iexec task show` polls of a running task.
    pub poll_ms: u64,
    /// Crash tests only: the backend aborts the process right after this point (`iexec-app-deployed`,
    /// `iexec-signed`, `iexec-filled`, `iexec-deal`, `iexec-completed`, `iexec-claim-sent`).
    pub failpoint: Option<String>,
}

impl Default for BackendSettings {
    fn default() -> Self {
        Self {
            chain_json: None,
            chain_name: None,
            requester_key: None,
            app_owner_key: None,
            cli: None,
            poll_ms: 2000,
            failpoint: None,
        }
    }
}

/// The Agora workerpool: runs in `agora up` on the embedded chain, or against a configured hub
/// when `owner_key` is set (`agora workerpool` runs one worker alone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerpoolSettings {
    /// Key of the pool's owner: signs workerpool orders and workers' authorizations, holds the
    /// stake. On the embedded chain: dev account 5.
    pub owner_key: Option<String>,
    /// Key this worker contributes with (default: the owner's).
    pub worker_key: Option<String>,
    /// The description the pool is registered under.
    pub description: String,
    /// nRLC (10⁻⁹ RLC) the owner keeps deposited as the pool's stake.
    pub stake_nrlc: u64,
    /// Price per task of the orders the pool signs, in nRLC.
    pub price_nrlc: u64,
    /// Crash tests only: the worker aborts the process right after this point of a task
    /// (`initialized`, `stored`, `contribute-sent`, `claim-sent`).
    pub failpoint: Option<String>,
}

impl Default for WorkerpoolSettings {
    fn default() -> Self {
        Self {
            owner_key: None,
            worker_key: None,
            description: "Agora workerpool".to_owned(),
            stake_nrlc: 100_000_000_000,
            price_nrlc: 100_000_000,
            failpoint: None,
        }
    }
}
