//! The embedded dev chain: anvil as a child process, the contracts deployed on it, the seed's
//! three demo services listed, MarketToken minted to every dev account, iExec PoCo deployed beside
//! them (unless `[chain.dev] iexec` is off) with RLC for every dev account and the dev workerpool
//! registered, and `dev.json` (plus `chain.json` for the `iexec` CLI) describing it all for people
//! and clients.

use std::path::Path;

use agora_chain::SendPolicy;
use agora_chain::anvil::{Anvil, AnvilOptions, DevAccount, locate_anvil};
use agora_chain::deploy::{self, Deployments};
use agora_iexec::artifacts::PocoArtifacts;
use agora_iexec::poco::{DevPoco, DevSetup};
use agora_market::ServiceKind;
use agora_market::demo::{DEV_IEXEC_APP, demo_services, listings};
use alloy::primitives::{Address, U256};
use anyhow::{Context, Result};
use serde::Serialize;
use tokio::sync::watch;

use crate::Config;
use crate::senders::Senders;

/// Dev account roles, by index in anvil's account list.
const OWNER: usize = 0;
const PROVIDER: usize = 1;
const OPERATOR: usize = 2;
/// Owns the dev iExec workerpool and works in it.
const IEXEC_WORKERPOOL_OWNER: usize = 5;
/// The compute backend's iExec requester.
const IEXEC_REQUESTER: usize = 6;
/// Sells the demo data catalogue (Fashion-MNIST) in the data market.
const DATA_SELLER: usize = 7;
/// Deploys iExec PoCo and owns the hub (so Agora's own deployer keeps its nonces).
const IEXEC_DEPLOYER: usize = 9;

/// RLC given to each dev account but the iExec deployer (who keeps the rest of the supply): 1,000 RLC.
const DEV_RLC_EACH: u64 = 1000 * agora_iexec::poco::RLC;

/// MarketToken minted to each dev account: 1,000 AMT (18 decimals).
fn demo_mint() -> U256 {
    U256::from(1000u64) * U256::from(10u64).pow(U256::from(18u64))
}

/// The embedded anvil with Agora's contracts (and iExec PoCo when enabled) deployed on it, and one
/// transaction sender per dev key.
pub struct DevChain {
    anvil: Anvil,
    deployments: Deployments,
    iexec: Option<DevPoco>,
    senders: Senders,
}

impl DevChain {
    /// The senders of the dev chain's keys; the node keeps using them, so the keys that set the
    /// chain up (the provider's, the owner's) keep one nonce lock each.
    pub fn senders(&self) -> &Senders {
        &self.senders
    }

    /// The demo provider's key: on the dev chain the node collects channel payments for it.
    pub fn payee_key(&self) -> &str {
        &self.anvil.accounts()[PROVIDER].private_key
    }

    /// The demo data seller's key: `agora up` serves the demo catalogue with it.
    pub fn data_seller_key(&self) -> &str {
        &self.anvil.accounts()[DATA_SELLER].private_key
    }

    /// The operator's key: the node runs the market's jobs with it.
    pub fn operator_key(&self) -> &str {
        &self.anvil.accounts()[OPERATOR].private_key
    }

    /// iExec on the dev chain (`None` when `[chain.dev] iexec` is off).
    pub fn iexec(&self) -> Option<&DevPoco> {
        self.iexec.as_ref()
    }

    /// The dev workerpool's address (registered for [`Self::iexec_workerpool_key`]).
    pub fn iexec_workerpool(&self) -> Option<Address> {
        self.iexec.as_ref().and_then(|i| i.workerpools.first().copied())
    }

    /// Key of the dev workerpool's owner, who also works in it.
    pub fn iexec_workerpool_key(&self) -> &str {
        &self.anvil.accounts()[IEXEC_WORKERPOOL_OWNER].private_key
    }

    /// Key of the compute backend's iExec requester.
    pub fn iexec_requester_key(&self) -> &str {
        &self.anvil.accounts()[IEXEC_REQUESTER].private_key
    }

    /// Key of the iExec app owner: the demo provider, who owns the services.
    pub fn iexec_app_owner_key(&self) -> &str {
        self.payee_key()
    }
}

/// The contents of `.agora/dev.json`.
#[derive(Debug, Serialize)]
pub struct DevInfo<'a> {
    /// The chain's RPC URL.
    pub rpc_url: &'a str,
    /// The chain's id.
    pub chain_id: u64,
    /// Where the node's API listens.
    pub api_url: &'a str,
    /// The contracts' addresses.
    pub contracts: &'a Deployments,
    /// Which dev account plays which part in the demo.
    pub roles: Roles,
    /// Funded accounts of this local chain only. Never use these keys anywhere else.
    pub accounts: &'a [DevAccount],
    /// iExec PoCo on this chain, when deployed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iexec: Option<DevIexecInfo<'a>>,
}

/// `dev.json`'s `iexec` section: what the `iexec` CLI and its `chain.json` need.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DevIexecInfo<'a> {
    pub poco_version: &'a str,
    pub hub: Address,
    pub rlc: Address,
    pub app_registry: Address,
    pub dataset_registry: Address,
    pub workerpool_registry: Address,
    pub categories: &'a [agora_iexec::poco::Category],
    /// The dev workerpool, served by the node's Agora workerpool.
    pub workerpool: Option<Address>,
    pub workerpool_price_nrlc: u64,
    /// `chain.json` for the `iexec` CLI (`iexec --chain local …` run from its directory).
    pub chain_json: String,
}

#[derive(Debug, Serialize)]
pub struct Roles {
    pub owner: usize,
    /// Lists the demo services and is the payee of payment channels the node collects for; owns
    /// the services' iExec apps.
    pub provider: usize,
    pub operator: usize,
    pub first_buyer: usize,
    /// Owns the dev iExec workerpool and works in it.
    pub iexec_workerpool_owner: usize,
    /// The compute backend's iExec requester.
    pub iexec_requester: usize,
    /// Deployed iExec PoCo; owns the hub and the rest of the RLC supply.
    pub iexec_deployer: usize,
    /// Sells the demo data catalogue in the data market.
    pub data_seller: usize,
}

impl DevChain {
    /// Starts anvil (the configured binary, or the one `make deps` installs) and deploys the
    /// contracts and the demo services on it.
    pub async fn start(config: &Config) -> Result<Self> {
        let cwd = std::env::current_dir()?;
        let binary = match &config.chain.dev.anvil_path {
            Some(p) => p.clone(),
            None => locate_anvil(&cwd)
                .context("anvil not found: run `npm ci` in the repository (or set AGORA_CHAIN__DEV__ANVIL_PATH)")?,
        };
        let opts = AnvilOptions {
            binary,
            port: config.chain.dev.anvil_port,
            chain_id: config.chain.dev.chain_id,
            block_time: None,
        };
        let anvil = Anvil::spawn(&opts).await.context("cannot start the embedded anvil dev chain")?;
        let accounts = anvil.accounts().to_vec();
        let signer = |i: usize| {
            accounts
                .get(i)
                .context("anvil has too few accounts")
                .and_then(|a| Ok(agora_chain::signer_from_key(&a.private_key)?))
        };
        let owner = signer(OWNER)?;
        let operator = signer(OPERATOR)?.address();
        let senders = Senders::new(agora_chain::read_provider(anvil.url())?, anvil.chain_id(), SendPolicy::dev());
        let owner_sender = senders.for_key(&accounts[OWNER].private_key)?;
        let deployments = deploy::deploy_contracts(&owner_sender, owner.address(), operator).await?;
        let everyone: Vec<Address> = accounts.iter().filter_map(|a| a.address.parse().ok()).collect();
        let iexec = if config.chain.dev.iexec {
            let artifacts = PocoArtifacts::locate(&cwd).context(
                "iExec PoCo's artifacts are needed for the dev chain (`make deps`), or set `[chain.dev] iexec = false`",
            )?;
            let pool_owner = signer(IEXEC_WORKERPOOL_OWNER)?.address();
            let setup = DevSetup {
                funded: everyone.iter().copied().take(IEXEC_DEPLOYER).collect(),
                rlc_each: U256::from(DEV_RLC_EACH),
                workerpools: vec![(pool_owner, config.iexec.workerpool.description.clone())],
            };
            let dev = agora_iexec::poco::deploy_dev(
                &senders.for_key(&accounts[IEXEC_DEPLOYER].private_key)?,
                &setup,
                &artifacts,
            )
            .await
            .context("cannot deploy iExec PoCo on the dev chain")?;
            Some(dev)
        } else {
            None
        };
        let mut services = demo_services();
        if iexec.is_some() {
            // Data processing runs through iExec on the dev chain: the Agora workerpool runs the
            // word count in category 0 (XS).
            let (app, category) = DEV_IEXEC_APP;
            services = services
                .into_iter()
                .map(|s| if s.metadata.kind == ServiceKind::DataProcessing { s.on_iexec(app, category) } else { s })
                .collect();
        }
        let provider_sender = senders.for_key(&accounts[PROVIDER].private_key)?;
        deploy::list_services(&provider_sender, &deployments, &listings(&services)).await?;
        deploy::mint_tokens(&owner_sender, deployments.market_token, &everyone, demo_mint()).await?;
        deployments.save(&config.deployments_path())?;
        Ok(Self { anvil, deployments, iexec, senders })
    }

    /// Its RPC URL.
    pub fn rpc_url(&self) -> &str {
        self.anvil.url()
    }

    /// Where the contracts are.
    pub fn deployments(&self) -> &Deployments {
        &self.deployments
    }

    /// Anvil's funded test accounts.
    pub fn accounts(&self) -> &[DevAccount] {
        self.anvil.accounts()
    }

    /// Writes `dev.json` and, with iExec on, `chain.json` for the `iexec` CLI into `data_dir`.
    pub fn write_dev_json(&self, data_dir: &Path, api_url: &str, workerpool_price_nrlc: u64) -> Result<()> {
        let chain_json = data_dir.join("chain.json");
        let iexec = self.iexec.as_ref().map(|i| DevIexecInfo {
            poco_version: &i.deployment.poco_version,
            hub: i.deployment.hub,
            rlc: i.deployment.rlc,
            app_registry: i.deployment.app_registry,
            dataset_registry: i.deployment.dataset_registry,
            workerpool_registry: i.deployment.workerpool_registry,
            categories: &i.deployment.categories,
            workerpool: i.workerpools.first().copied(),
            workerpool_price_nrlc,
            chain_json: chain_json.display().to_string(),
        });
        if let Some(i) = &self.iexec {
            let json = iexec_chain_json(self.anvil.chain_id(), self.anvil.url(), i.deployment.hub, api_url);
            std::fs::write(&chain_json, serde_json::to_vec_pretty(&json)?)
                .with_context(|| format!("cannot write {}", chain_json.display()))?;
        }
        let info = DevInfo {
            rpc_url: self.anvil.url(),
            chain_id: self.anvil.chain_id(),
            api_url,
            contracts: &self.deployments,
            roles: Roles {
                owner: OWNER,
                provider: PROVIDER,
                operator: OPERATOR,
                first_buyer: 3,
                iexec_workerpool_owner: IEXEC_WORKERPOOL_OWNER,
                iexec_requester: IEXEC_REQUESTER,
                iexec_deployer: IEXEC_DEPLOYER,
                data_seller: DATA_SELLER,
            },
            accounts: self.anvil.accounts(),
            iexec,
        };
        let path = data_dir.join("dev.json");
        std::fs::write(&path, serde_json::to_vec_pretty(&info)?)
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// Stops anvil.
    pub async fn stop(self) -> Result<()> {
        Ok(self.anvil.stop().await?)
    }
}

/// The `iexec` CLI's `chain.json` for a chain of our own (its schema takes only these keys). The
/// result gateway is the node's API, whose `/ipfs/<cid>` serves results; iExec's SMS and market
/// API have no dev-chain counterpart, so they point at a local port nothing listens on and the
/// commands that need them fail at once instead of hanging.
pub(crate) fn iexec_chain_json(chain_id: u64, rpc_url: &str, hub: Address, api_url: &str) -> serde_json::Value {
    serde_json::json!({
        "default": "local",
        "chains": {
            "local": {
                "id": chain_id.to_string(),
                "host": rpc_url,
                "hub": hub.to_string(),
                "sms": "http://127.0.0.1:1",
                "ipfsGateway": api_url,
                "iexecGateway": "http://127.0.0.1:1",
            }
        }
    })
}

/// Where Debian's `dataset-fashion-mnist` (installed by `make deps`) puts its files: the demo data
/// seller's catalogue when `[data] catalogue_dir` is not set.
const DEMO_CATALOGUE: &str = "/usr/share/datasets/fashion-mnist";

/// On the embedded dev chain, a data seller serving `[data] catalogue_dir` (or Fashion-MNIST when it
/// is installed) with the dev data seller's key, on a free port unless `[data] endpoint` names one,
/// so the data market's page has a seller to buy from. Returns once it is registered and listens.
pub(crate) async fn demo_data_seller(
    config: &Config,
    dev: Option<&DevChain>,
    rpc_url: &str,
    deployments: &Deployments,
    mut shutdown: watch::Receiver<bool>,
) -> Result<Option<tokio::task::JoinHandle<()>>> {
    let (Some(dev), Some(market)) = (dev, deployments.data_market) else { return Ok(None) };
    let mut config = config.clone();
    let data = &mut config.data;
    if data.catalogue_dir.is_none() {
        let demo = std::path::Path::new(DEMO_CATALOGUE);
        if !demo.is_dir() {
            tracing::info!("no demo data seller: {DEMO_CATALOGUE} is missing (`make deps` installs it)");
            return Ok(None);
        }
        data.catalogue_dir = Some(demo.to_path_buf());
    }
    if data.seller_key.is_none() {
        data.seller_key = Some(dev.data_seller_key().to_owned());
    }
    if data.endpoint.is_none() {
        data.listen.set_port(0);
    }
    let chain = crate::data::DataChain { rpc_url: rpc_url.to_owned(), chain_id: deployments.chain_id, market };
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let mut seller = tokio::spawn(async move {
        let stop = async move {
            let _ = shutdown.wait_for(|s| *s).await;
        };
        let ready = |r: &crate::data::SellerReady| {
            tracing::info!(account = %r.account, listen = %r.listen, items = r.items.len(), "demo data seller ready");
            let _ = ready_tx.send(());
        };
        crate::data::seller(&config, &chain, ready, stop).await
    });
    let ready = tokio::select! {
        ready = ready_rx => ready.is_ok(),
        stopped = &mut seller => {
            stopped?.context("the demo data seller did not start")?;
            false
        }
    };
    if !ready {
        // The seller dropped its `ready` without calling it: it failed, and says why.
        seller.await?.context("the demo data seller did not start")?;
        anyhow::bail!("the demo data seller stopped before it was ready");
    }
    let task = tokio::spawn(async move {
        match seller.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!("the demo data seller stopped: {e:#}"),
            Err(e) => tracing::error!("the demo data seller panicked: {e}"),
        }
    });
    Ok(Some(task))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_json_has_only_the_keys_the_iexec_cli_accepts() {
        let hub: Address = "0xe1DA8919f262Ee86f9BE05059C9280142CF23f48".parse().unwrap();
        let json = iexec_chain_json(31337, "http://127.0.0.1:8545", hub, "http://127.0.0.1:8080");
        assert_eq!(json["default"], "local");
        let chain = json["chains"]["local"].as_object().unwrap();
        let allowed = ["id", "host", "hub", "sms", "ipfsGateway", "iexecGateway", "compass", "pocoSubgraph"];
        assert!(chain.keys().all(|k| allowed.contains(&k.as_str())), "{chain:?}");
        assert_eq!(chain["id"], "31337", "the CLI wants the chain id as a string");
        assert_eq!(chain["ipfsGateway"], "http://127.0.0.1:8080", "results come from the node's /ipfs/");
        assert_eq!(chain["hub"].as_str().unwrap().parse::<Address>().unwrap(), hub);
    }
}
