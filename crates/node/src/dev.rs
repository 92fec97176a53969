//! The embedded dev chain: anvil as a child process, the contracts deployed on it, the seed's
//! three demo services listed, MarketToken minted to every dev account, and `dev.json` describing
//! it all for people and clients.

use std::path::Path;

use agora_chain::anvil::{Anvil, AnvilOptions, DevAccount, locate_anvil};
use agora_chain::deploy::{self, Deployments};
use alloy::primitives::{Address, U256};
use anyhow::{Context, Result};
use serde::Serialize;

use crate::Config;

/// Dev account roles, by index in anvil's account list.
const OWNER: usize = 0;
const PROVIDER: usize = 1;
const OPERATOR: usize = 2;

/// MarketToken minted to each dev account: 1,000 AMT (18 decimals).
fn demo_mint() -> U256 {
    U256::from(1000u64) * U256::from(10u64).pow(U256::from(18u64))
}

pub struct DevChain {
    anvil: Anvil,
    deployments: Deployments,
}

impl DevChain {
    /// The demo provider's key: on the dev chain the node collects channel payments for it.
    pub fn payee_key(&self) -> &str {
        &self.anvil.accounts()[PROVIDER].private_key
    }

    /// The operator's key: the node runs the market's jobs with it.
    pub fn operator_key(&self) -> &str {
        &self.anvil.accounts()[OPERATOR].private_key
    }
}

/// The contents of `.agora/dev.json`.
#[derive(Debug, Serialize)]
pub struct DevInfo<'a> {
    pub rpc_url: &'a str,
    pub chain_id: u64,
    pub api_url: &'a str,
    pub contracts: &'a Deployments,
    /// Which dev account plays which part in the demo.
    pub roles: Roles,
    /// Funded accounts of this local chain only. Never use these keys anywhere else.
    pub accounts: &'a [DevAccount],
}

#[derive(Debug, Serialize)]
pub struct Roles {
    pub owner: usize,
    /// Lists the demo services and is the payee of payment channels the node collects for.
    pub provider: usize,
    pub operator: usize,
    pub first_buyer: usize,
}

impl DevChain {
    pub async fn start(config: &Config) -> Result<Self> {
        let cwd = std::env::current_dir()?;
        let binary = match &config.anvil_path {
            Some(p) => p.clone(),
            None => locate_anvil(&cwd)
                .context("anvil not found: run `npm ci` in the repository (or set AGORA_ANVIL_PATH)")?,
        };
        let opts = AnvilOptions { binary, port: config.anvil_port, chain_id: config.chain_id, block_time: None };
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
        let owner_provider = agora_chain::signing_provider(anvil.url(), owner.clone())?;
        let deployments = deploy::deploy_contracts(&owner_provider, owner.address(), operator).await?;
        let provider_provider = agora_chain::signing_provider(anvil.url(), signer(PROVIDER)?)?;
        deploy::list_services(&provider_provider, &deployments, &deploy::demo_services()).await?;
        let everyone: Vec<Address> = accounts.iter().filter_map(|a| a.address.parse().ok()).collect();
        deploy::mint_tokens(&owner_provider, deployments.market_token, &everyone, demo_mint()).await?;
        deployments.save(&config.deployments_path())?;
        Ok(Self { anvil, deployments })
    }

    pub fn rpc_url(&self) -> &str {
        self.anvil.url()
    }

    pub fn deployments(&self) -> &Deployments {
        &self.deployments
    }

    pub fn accounts(&self) -> &[DevAccount] {
        self.anvil.accounts()
    }

    pub fn write_dev_json(&self, data_dir: &Path, api_url: &str) -> Result<()> {
        let info = DevInfo {
            rpc_url: self.anvil.url(),
            chain_id: self.anvil.chain_id(),
            api_url,
            contracts: &self.deployments,
            roles: Roles { owner: OWNER, provider: PROVIDER, operator: OPERATOR, first_buyer: 3 },
            accounts: self.anvil.accounts(),
        };
        let path = data_dir.join("dev.json");
        std::fs::write(&path, serde_json::to_vec_pretty(&info)?)
            .with_context(|| format!("cannot write {}", path.display()))
    }

    pub async fn stop(self) -> Result<()> {
        Ok(self.anvil.stop().await?)
    }
}
