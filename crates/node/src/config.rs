//! One typed configuration: defaults, then `agora.toml` (or `--config`), then `AGORA_*` environment
//! variables, then command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// An EVM JSON-RPC endpoint. Unset: start the embedded anvil dev chain.
    pub rpc_url: Option<String>,
    /// The RPC URL handed to browsers and wallets (defaults to `rpc_url`).
    pub public_rpc_url: Option<String>,
    /// Where the contracts are (`agora deploy` writes it). Defaults to `<data_dir>/deployments.json`.
    pub deployments: Option<PathBuf>,
    /// `sqlite://…` or `postgres://…`. Defaults to a SQLite file in `data_dir`.
    pub database_url: Option<String>,
    /// Local state: the SQLite database, `dev.json`, the deployments file of the dev chain.
    pub data_dir: PathBuf,
    /// Address the HTTP API listens on.
    pub http_addr: SocketAddr,
    /// Blocks a log must be buried under before it is indexed. Default: 0 on the embedded chain,
    /// 12 elsewhere.
    pub confirmations: Option<u64>,
    /// Milliseconds between polls of the chain head when the indexer is caught up.
    pub poll_interval_ms: u64,
    /// Most blocks per `eth_getLogs` call.
    pub batch_blocks: u64,
    /// Embedded chain: port anvil listens on.
    pub anvil_port: u16,
    /// Embedded chain: its chain id.
    pub chain_id: u64,
    /// Embedded chain: the anvil binary (default: from `node_modules`).
    pub anvil_path: Option<PathBuf>,
    /// IPFS Kubo RPC API (e.g. `http://127.0.0.1:5001`). Unset: content lives in `<data_dir>/content`.
    pub ipfs_api: Option<String>,
    /// Private key the node starts, completes and fails tasks with (an operator of ComputeMarket).
    /// On the embedded chain: the dev operator account. Unset elsewhere: the node runs no jobs.
    pub operator_key: Option<String>,
    /// Private key of the payee this node collects channel payments for (vouchers, auto-settle).
    /// On the embedded chain: the demo provider's dev key.
    pub payee_key: Option<String>,
    /// Vouchers are refused this many seconds before their channel expires.
    pub voucher_margin_secs: u64,
    /// Channels expiring within this many seconds are closed with their highest voucher.
    pub settle_margin_secs: u64,
    /// Milliseconds between auto-settle runs.
    pub settle_interval_ms: u64,
    /// The built web app served at `/` (`make up` builds it into `web/dist`).
    pub web_dir: PathBuf,
    /// Embedded chain: deploy iExec PoCo (RLC, hub, registries, categories, the dev workerpool) and
    /// run the Agora workerpool in `up`. Tests that do not need iExec may turn it off.
    pub iexec_dev: bool,
    /// A configured chain's iExec hub; with `iexec_workerpool_key` set, `up` runs the Agora workerpool
    /// against it (`agora workerpool` runs one alone).
    pub iexec_hub: Option<String>,
    /// The workerpool served (an address). Unset: the one registered for the owner key under
    /// `iexec_workerpool_description`, registered now if there is none.
    pub iexec_workerpool: Option<String>,
    pub iexec_workerpool_description: String,
    /// Key of the workerpool's owner: signs workerpool orders and workers' authorizations, holds the
    /// pool's stake. On the embedded chain: dev account 5.
    pub iexec_workerpool_key: Option<String>,
    /// Key this worker contributes with (default: the owner's key).
    pub iexec_worker_key: Option<String>,
    /// nRLC (10⁻⁹ RLC) the owner keeps deposited in its iExec account as the pool's stake.
    pub iexec_stake_nrlc: u64,
    /// Price per task of the workerpool orders the pool signs, in nRLC.
    pub iexec_workerpool_price_nrlc: u64,
    /// Crash tests only: the workerpool aborts the process right after this point of a task
    /// (`initialized`, `stored`, `contribute-sent`).
    pub iexec_failpoint: Option<String>,
    /// The compute backend on iExec (tasks of services marked `"runtime":"iexec"`). It runs on
    /// the embedded chain when PoCo is there, elsewhere when `iexec_hub` and
    /// `iexec_requester_key` are set. JSON-RPC of the chain iExec runs on (default: `rpc_url`).
    pub iexec_rpc_url: Option<String>,
    /// A `chain.json` for the `iexec` CLI (a real iExec chain). Unset: one is written for
    /// `iexec_rpc_url` and `iexec_hub`, with this node's API as the IPFS gateway.
    pub iexec_chain_json: Option<PathBuf>,
    /// The chain's name in `iexec_chain_json` (default: its `default`).
    pub iexec_chain_name: Option<String>,
    /// Key of the backend's requester wallet: signs request orders, pays deals from its iExec
    /// account. On the embedded chain: dev account 6.
    pub iexec_requester_key: Option<String>,
    /// Key that owns the services' iExec apps and signs their app orders (default: the requester's).
    /// On the embedded chain: dev account 1 (the demo provider).
    pub iexec_app_owner_key: Option<String>,
    /// The workerpool's signed orders (default: `<data_dir>/iexec/workerpoolorders.json`, which
    /// the Agora workerpool writes).
    pub iexec_workerpool_orders: Option<PathBuf>,
    /// The `iexec` CLI (default: `node_modules/.bin/iexec` here or above).
    pub iexec_cli: Option<PathBuf>,
    /// Milliseconds between `iexec task show` polls of a running task.
    pub iexec_poll_ms: u64,
    /// Crash tests only: the scheduler aborts the process right after this point of a job
    /// (`accepted`, `start-sent`, `started`, `executed`, `complete-sent`, `failing`, `fail-sent`).
    pub failpoint: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            rpc_url: None,
            public_rpc_url: None,
            deployments: None,
            database_url: None,
            data_dir: PathBuf::from(".agora"),
            http_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            confirmations: None,
            poll_interval_ms: 200,
            batch_blocks: 500,
            anvil_port: 8545,
            chain_id: 31337,
            anvil_path: None,
            ipfs_api: None,
            operator_key: None,
            payee_key: None,
            voucher_margin_secs: 15 * 60,
            settle_margin_secs: 15 * 60,
            settle_interval_ms: 30_000,
            web_dir: PathBuf::from("web/dist"),
            failpoint: None,
            iexec_dev: true,
            iexec_hub: None,
            iexec_workerpool: None,
            iexec_workerpool_description: "Agora workerpool".to_owned(),
            iexec_workerpool_key: None,
            iexec_worker_key: None,
            iexec_stake_nrlc: 100_000_000_000,
            iexec_workerpool_price_nrlc: 100_000_000,
            iexec_failpoint: None,
            iexec_rpc_url: None,
            iexec_chain_json: None,
            iexec_chain_name: None,
            iexec_requester_key: None,
            iexec_app_owner_key: None,
            iexec_workerpool_orders: None,
            iexec_cli: None,
            iexec_poll_ms: 2000,
        }
    }
}

impl Config {
    /// Layers defaults, the TOML file at `file` (if it exists), `AGORA_*` variables and `overrides`
    /// (flags; only the fields they set).
    pub fn load(file: &Path, overrides: impl Serialize) -> Result<Self, Box<figment::Error>> {
        // Only `AGORA_*` variables that name a field: others (AGORA_DEPLOYER_KEY for `deploy`,
        // test settings) belong to someone else.
        let fields: Vec<String> = match serde_json::to_value(Config::default()) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            _ => Vec::new(),
        };
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("AGORA_").only(&fields))
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(Box::new)
    }

    pub fn embedded_chain(&self) -> bool {
        self.rpc_url.is_none()
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("agora.db").display()))
    }

    pub fn deployments_path(&self) -> PathBuf {
        self.deployments.clone().unwrap_or_else(|| self.data_dir.join("deployments.json"))
    }

    pub fn confirmations(&self) -> u64 {
        self.confirmations.unwrap_or(if self.embedded_chain() { 0 } else { 12 })
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's own error type
mod tests {
    use super::*;

    #[derive(Serialize, Default)]
    struct Flags {
        #[serde(skip_serializing_if = "Option::is_none")]
        http_addr: Option<SocketAddr>,
    }

    #[test]
    fn layers_apply_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("agora.toml", "poll_interval_ms = 50\nhttp_addr = \"127.0.0.1:9000\"\nconfirmations = 3")?;
            jail.set_env("AGORA_CONFIRMATIONS", "7");
            jail.set_env("AGORA_DEPLOYER_KEY", "not a config field");
            let cfg =
                Config::load(Path::new("agora.toml"), Flags { http_addr: Some("127.0.0.1:9100".parse().unwrap()) })
                    .map_err(|e| *e)?;
            assert_eq!(cfg.poll_interval_ms, 50, "file overrides default");
            assert_eq!(cfg.confirmations(), 7, "env overrides file");
            assert_eq!(cfg.http_addr.port(), 9100, "flag overrides file");
            assert_eq!(cfg.batch_blocks, 500, "default kept");
            assert!(cfg.embedded_chain());
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_rejected() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("agora.toml", "rpc_ulr = \"http://x\"")?;
            let err = Config::load(Path::new("agora.toml"), Flags::default()).unwrap_err();
            assert!(err.to_string().contains("rpc_ulr"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn public_chains_default_to_twelve_confirmations() {
        let cfg = Config { rpc_url: Some("http://node:8545".into()), ..Config::default() };
        assert_eq!(cfg.confirmations(), 12);
        assert_eq!(Config::default().confirmations(), 0);
    }
}
