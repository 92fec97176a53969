//! A dev chain for tests: anvil from `node_modules` with Agora's contracts deployed, and the keys of
//! its accounts by role. Behind the `testing` feature.

use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionReceipt;
use alloy::signers::local::PrivateKeySigner;

use crate::anvil::{Anvil, locate_anvil};
use crate::deploy::{Deployments, Listing, deploy_contracts, list_services, mint_tokens};
use crate::revert::ContractError;
use crate::{Error, Result, SendPolicy, Sender, signer_from_key};

/// A wallet for a test's users: a provider that signs and sends transactions with `signer` (gas,
/// nonce and chain id filled in), as a browser wallet or `cast` would. The node's own keys send
/// through a [`Sender`].
///
/// Nonces are read from the node (`pending`) for every transaction rather than cached: a cached
/// nonce is consumed even when gas estimation then fails on a revert, which leaves a gap that
/// stalls every later transaction of the key.
pub fn signing_provider(url: &str, signer: PrivateKeySigner) -> Result<DynProvider> {
    Ok(alloy::providers::ProviderBuilder::new()
        .disable_recommended_fillers()
        .with_gas_estimation()
        .with_simple_nonce_management()
        .fetch_chain_id()
        .wallet(alloy::network::EthereumWallet::from(signer))
        .connect_http(crate::parse_url(url)?)
        .erased())
}

/// Sends a call from a test's wallet (a provider that signs, as a user's wallet or `cast` would)
/// and waits for its receipt; a revert comes back decoded. The node's own keys send through a
/// [`Sender`] instead.
pub async fn send<P, D>(call: alloy::contract::CallBuilder<P, D>) -> Result<TransactionReceipt>
where
    P: Provider,
    D: alloy::contract::CallDecoder,
{
    let pending = call.send().await.map_err(ContractError::from)?;
    let receipt = pending.get_receipt().await?;
    if !receipt.status() {
        return Err(Error::Reverted { tx: receipt.transaction_hash });
    }
    Ok(receipt)
}

/// Deploys the contracts and owns them.
pub const OWNER: usize = 0;
/// Lists services; payee of channels.
pub const PROVIDER: usize = 1;
/// The backend's key.
pub const OPERATOR: usize = 2;
/// Buys and pays.
pub const BUYER: usize = 3;

/// A fresh anvil with Agora's contracts deployed, for tests; anvil dies when it is dropped.
pub struct TestChain {
    /// The running dev chain; its accounts are indexed by [`OWNER`], [`PROVIDER`], ….
    pub anvil: Anvil,
    /// Where the contracts were deployed (owner [`OWNER`], operator [`OPERATOR`]).
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
        let sender = Sender::connect(anvil.url(), owner.clone(), SendPolicy::dev()).await?;
        let d = deploy_contracts(&sender, owner.address(), operator.address()).await?;
        Ok(Self { anvil, d })
    }

    /// The chain's JSON-RPC URL.
    pub fn url(&self) -> &str {
        self.anvil.url()
    }

    /// The key of anvil's funded account number `account` (panics past the tenth).
    pub fn key(&self, account: usize) -> PrivateKeySigner {
        signer_from_key(&self.anvil.accounts()[account].private_key).expect("anvil keys parse")
    }

    /// The address of funded account number `account`.
    pub fn address(&self, account: usize) -> Address {
        self.key(account).address()
    }

    /// A provider signing as `account`.
    pub fn provider(&self, account: usize) -> DynProvider {
        signing_provider(self.anvil.url(), self.key(account)).expect("anvil URL parses")
    }

    /// A sender for `account`'s key (each call makes a new one: share it where two parts of a
    /// test must sign with one key).
    pub async fn sender(&self, account: usize) -> Result<Sender> {
        Sender::connect(self.anvil.url(), self.key(account), SendPolicy::dev()).await
    }

    /// Lists `services` as the provider account.
    pub async fn list(&self, services: &[Listing]) -> Result<Vec<U256>> {
        list_services(&self.sender(PROVIDER).await?, &self.d, services).await
    }

    /// Mints MarketToken to `accounts` (the owner deployed it, so it may).
    pub async fn mint(&self, accounts: &[Address], amount: U256) -> Result<()> {
        mint_tokens(&self.sender(OWNER).await?, self.d.market_token, accounts, amount).await
    }

    /// Stops anvil and waits for it to exit.
    pub async fn stop(self) -> Result<()> {
        self.anvil.stop().await
    }
}
