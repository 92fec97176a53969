//! A dev chain for tests: anvil from `node_modules` with Agora's contracts deployed, and the keys of
//! its accounts by role. Behind the `testing` feature.

use alloy::primitives::{Address, U256};
use alloy::providers::DynProvider;
use alloy::signers::local::PrivateKeySigner;

use crate::anvil::{Anvil, locate_anvil};
use crate::deploy::{DemoService, Deployments, deploy_contracts, list_services, mint_tokens};
use crate::{Error, Result, signer_from_key, signing_provider};

/// Deploys the contracts and owns them.
pub const OWNER: usize = 0;
/// Lists services; payee of channels.
pub const PROVIDER: usize = 1;
/// The backend's key.
pub const OPERATOR: usize = 2;
/// Buys and pays.
pub const BUYER: usize = 3;

pub struct TestChain {
    pub anvil: Anvil,
    pub d: Deployments,
}

impl TestChain {
    /// Starts anvil (found from the current directory upwards) and deploys the contracts.
    pub async fn start() -> Result<Self> {
        let bin = locate_anvil(&std::env::current_dir()?)
            .ok_or_else(|| Error::Anvil("anvil not found in node_modules: run `npm ci`".into()))?;
        let anvil = Anvil::spawn_default(bin).await?;
        let owner = signer_from_key(&anvil.accounts()[OWNER].private_key)?;
        let operator = signer_from_key(&anvil.accounts()[OPERATOR].private_key)?;
        let d = deploy_contracts(&signing_provider(anvil.url(), owner.clone())?, owner.address(), operator.address())
            .await?;
        Ok(Self { anvil, d })
    }

    pub fn url(&self) -> &str {
        self.anvil.url()
    }

    pub fn key(&self, account: usize) -> PrivateKeySigner {
        signer_from_key(&self.anvil.accounts()[account].private_key).expect("anvil keys parse")
    }

    pub fn address(&self, account: usize) -> Address {
        self.key(account).address()
    }

    /// A provider signing as `account`.
    pub fn provider(&self, account: usize) -> DynProvider {
        signing_provider(self.anvil.url(), self.key(account)).expect("anvil URL parses")
    }

    /// Lists `services` as the provider account.
    pub async fn list(&self, services: &[DemoService]) -> Result<Vec<U256>> {
        list_services(&self.provider(PROVIDER), &self.d, services).await
    }

    /// Mints MarketToken to `accounts` (the owner deployed it, so it may).
    pub async fn mint(&self, accounts: &[Address], amount: U256) -> Result<()> {
        mint_tokens(&self.provider(OWNER), self.d.market_token, accounts, amount).await
    }

    pub async fn stop(self) -> Result<()> {
        self.anvil.stop().await
    }
}
