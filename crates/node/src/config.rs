//! One typed configuration: defaults, then `agora.toml` (or `--config`), then `AGORA_*` environment
//! variables, then command-line flags. Only this crate and the binary read the environment.

use std::path::{Path, PathBuf};

use agora_api::ApiSettings;
use agora_chain::ChainSettings;
use agora_channels::ChannelSettings;
use agora_compute::ComputeSettings;
use agora_content::ContentSettings;
use agora_iexec::IexecSettings;
use agora_indexer::IndexerSettings;
use agora_store::StoreSettings;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The node's whole configuration: where its data lives, then one section per part of the node,
/// each owned (defined, defaulted and documented) by the crate it configures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Local state: the SQLite database, `dev.json`, content, the dev chain's deployments file.
    pub data_dir: PathBuf,
    /// `[chain]`: the RPC (none: the embedded anvil), the URL given to browsers, the deployments file.
    pub chain: ChainSettings,
    /// `[indexer]`: confirmations, polling, blocks per log query.
    pub indexer: IndexerSettings,
    /// `[store]`: the database (SQLite in the data dir by default, or PostgreSQL).
    pub store: StoreSettings,
    /// `[content]`: where uploads and results live (local directory or IPFS through Kubo).
    pub content: ContentSettings,
    /// `[api]`: listen address, public origin, admins, web app directory.
    pub api: ApiSettings,
    /// `[channels]`: the payee's ledger and its background jobs.
    pub channels: ChannelSettings,
    /// `[compute]`: the local executor and the scheduler.
    pub compute: ComputeSettings,
    /// `[iexec.backend]` and `[iexec.workerpool]`.
    pub iexec: IexecSettings,
    /// `[assistant]`: the model, its prices and the pay-per-chunk limits.
    pub assistant: agora_assistant::AssistantSettings,
    /// `[data]`: `agora seller`'s listen address, catalogue, key, confirmations and window.
    pub data: agora_datastream::DataSettings,
    /// `[fl]`: the federated-learning coordinator's key, listen address, data and demo task, and how
    /// often the payee forwards the prediction fees paid to it by vouchers.
    pub fl: agora_federated::FlSettings,
    /// `[social]`: the posting rate limit of community threads.
    pub social: agora_api::SocialSettings,
    /// `[redis]`: the bus and cache several API processes share (unset: this process's memory).
    pub redis: agora_bus::RedisSettings,
    /// `[cache]`: how long hot list reads are kept, at most.
    pub cache: agora_bus::CacheSettings,
    /// `[mail]`: the SMTP server (none: `.eml` files under `<data_dir>/mail`), sender, retries.
    pub mail: agora_notify::MailSettings,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from(".agora"),
            chain: ChainSettings::default(),
            indexer: IndexerSettings::default(),
            store: StoreSettings::default(),
            content: ContentSettings::default(),
            api: ApiSettings::default(),
            channels: ChannelSettings::default(),
            compute: ComputeSettings::default(),
            iexec: IexecSettings::default(),
            assistant: agora_assistant::AssistantSettings::default(),
            data: agora_datastream::DataSettings::default(),
            fl: agora_federated::FlSettings::default(),
            social: agora_api::SocialSettings::default(),
            redis: agora_bus::RedisSettings::default(),
            cache: agora_bus::CacheSettings::default(),
            mail: agora_notify::MailSettings::default(),
        }
    }
}

/// The prefix of the environment variables that configure the node. A nested key's parts are
/// joined by `__`: `AGORA_CHAIN__RPC_URL` is `[chain] rpc_url`, `AGORA_IEXEC__BACKEND__POLL_MS` is
/// `[iexec.backend] poll_ms`.
pub const ENV_PREFIX: &str = "AGORA_";

impl Config {
    /// Layers defaults, the TOML file at `file` (if it exists), `AGORA_*` variables and `overrides`
    /// (flags; only the fields they set, nested like the file).
    pub fn load(file: &Path, overrides: impl Serialize) -> Result<Self, Box<figment::Error>> {
        // Only variables whose first part names a key of the file: others (AGORA_DEPLOYER_KEY for
        // `deploy`, test settings such as AGORA_TEST_POSTGRES_URL) belong to someone else.
        let top: Vec<String> = match serde_json::to_value(Config::default()) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            _ => Vec::new(),
        };
        let env = Env::prefixed(ENV_PREFIX)
            .filter(move |key| {
                let first = key.as_str().split("__").next().unwrap_or_default();
                top.iter().any(|t| t.eq_ignore_ascii_case(first))
            })
            .split("__");
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            .merge(env)
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(Box::new)
    }

    /// True when no RPC URL is configured: the node runs its own anvil.
    pub fn embedded_chain(&self) -> bool {
        self.chain.rpc_url.is_none()
    }

    /// The configured database, or SQLite in the data dir.
    pub fn database_url(&self) -> String {
        self.store
            .database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("agora.db").display()))
    }

    /// Where the contracts' addresses are read from (and written by `deploy`).
    pub fn deployments_path(&self) -> PathBuf {
        self.chain.deployments.clone().unwrap_or_else(|| self.data_dir.join("deployments.json"))
    }

    /// How deep a block must be before the indexer applies its logs.
    pub fn confirmations(&self) -> u64 {
        self.indexer.confirmations(self.embedded_chain())
    }

    /// The content store's configuration: Kubo when `[content] ipfs_api` is set (and not blank),
    /// else `<data_dir>/content`.
    pub fn content_store(&self) -> agora_content::ContentConfig {
        agora_content::ContentConfig {
            dir: self.data_dir.join("content"),
            ipfs_api: self.content.ipfs_api.clone().filter(|u| !u.trim().is_empty()),
        }
    }

    /// Where the workerpool's signed orders are kept.
    pub fn workerpool_orders(&self) -> PathBuf {
        self.iexec
            .workerpool_orders
            .clone()
            .unwrap_or_else(|| self.data_dir.join("iexec").join("workerpoolorders.json"))
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's own error type
mod tests {
    use std::net::SocketAddr;

    use super::*;

    #[test]
    fn layers_apply_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "agora.toml",
                "[indexer]\npoll_interval_ms = 50\nconfirmations = 3\n[api]\nhttp_addr = \"127.0.0.1:9000\"\n[iexec.backend]\npoll_ms = 10",
            )?;
            jail.set_env("AGORA_INDEXER__CONFIRMATIONS", "7");
            jail.set_env("AGORA_IEXEC__WORKERPOOL__PRICE_NRLC", "42");
            jail.set_env("AGORA_DEPLOYER_KEY", "not a config field");
            jail.set_env("AGORA_DATA__CATALOGUE_DIR", "/srv/data");
            let flags = serde_json::json!({ "api": { "http_addr": "127.0.0.1:9100" } });
            let cfg = Config::load(Path::new("agora.toml"), flags).map_err(|e| *e)?;
            assert_eq!(cfg.indexer.poll_interval_ms, 50, "file overrides default");
            assert_eq!(cfg.confirmations(), 7, "env overrides file");
            assert_eq!(cfg.iexec.workerpool.price_nrlc, 42, "nested sections from the environment");
            assert_eq!(cfg.iexec.backend.poll_ms, 10, "nested sections from the file");
            assert_eq!(cfg.api.http_addr, "127.0.0.1:9100".parse::<SocketAddr>().expect("addr"), "flag overrides file");
            assert_eq!(cfg.indexer.batch_blocks, 500, "default kept");
            assert_eq!(cfg.data.catalogue_dir, Some(PathBuf::from("/srv/data")), "[data] from the environment");
            assert_eq!(cfg.data.confirmations, 1, "[data] default kept");
            assert!(cfg.embedded_chain());
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_rejected() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("agora.toml", "[chain]\nrpc_ulr = \"http://x\"")?;
            let err = Config::load(Path::new("agora.toml"), serde_json::json!({})).unwrap_err();
            assert!(err.to_string().contains("rpc_ulr"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn public_chains_default_to_twelve_confirmations() {
        let mut cfg = Config::default();
        assert_eq!(cfg.confirmations(), 0);
        cfg.chain.rpc_url = Some("http://node:8545".into());
        assert_eq!(cfg.confirmations(), 12);
    }
}
