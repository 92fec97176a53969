//! Deploying Agora's contracts, listing services and minting MarketToken, and the deployments file.

use std::path::Path;

use alloy::primitives::{Address, U256};
use alloy::rpc::types::TransactionReceipt;
use serde::{Deserialize, Serialize};

use crate::bindings::{ComputeMarket, MarketToken, PaymentChannel};
use crate::{Error, Result, Sender};

/// Where Agora's contracts live on one chain: the deployments file `agora deploy` writes and every
/// other command reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployments {
    /// The chain the contracts are on; the node refuses an RPC endpoint serving another.
    pub chain_id: u64,
    /// The ComputeMarket contract (services, escrowed tasks).
    pub compute_market: Address,
    /// The MarketToken ERC-20 that token-priced services are paid in.
    pub market_token: Address,
    /// The PaymentChannel contract (one-way channels paid by vouchers).
    pub payment_channel: Address,
    /// The first block that can hold Agora's logs (the first deployment's); the indexer starts here.
    pub deploy_block: u64,
    /// The account that deployed the contracts and owns ComputeMarket (sets fees and operators).
    pub owner: Address,
    /// The backend's key, allowed to start, complete and fail tasks.
    pub operator: Address,
}

impl Deployments {
    /// Reads a deployments file (JSON); fails with [`Error::Io`] or [`Error::Json`].
    pub fn load(path: &Path) -> Result<Self> {
        Ok(serde_json::from_slice(&std::fs::read(path)?)?)
    }

    /// Writes the deployments file as pretty JSON, creating its directory if needed.
    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_vec_pretty(self)?)?;
        Ok(())
    }

    /// Addresses whose logs the indexer follows.
    pub fn indexed_contracts(&self) -> Vec<Address> {
        vec![self.compute_market, self.payment_channel]
    }
}

/// The address a deployment's receipt created.
fn created(receipt: &TransactionReceipt) -> Result<Address> {
    receipt.contract_address.ok_or(Error::Reverted { tx: receipt.transaction_hash })
}

/// Deploys MarketToken, ComputeMarket and PaymentChannel from `sender`'s key (the owner), and
/// appoints `operator`.
pub async fn deploy_contracts(sender: &Sender, owner: Address, operator: Address) -> Result<Deployments> {
    let provider = sender.provider();
    let token_receipt = sender.send(MarketToken::deploy_builder(provider)).await?;
    let market_token = created(&token_receipt)?;
    let compute_market = created(&sender.send(ComputeMarket::deploy_builder(provider, owner)).await?)?;
    let payment_channel = created(&sender.send(PaymentChannel::deploy_builder(provider)).await?)?;
    sender.send(ComputeMarket::new(compute_market, provider).setOperator(operator, true)).await?;
    let deploy_block = token_receipt.block_number.unwrap_or_default();
    let chain_id = sender.chain_id();
    tracing::info!(%compute_market, %market_token, %payment_channel, chain_id, deploy_block, "contracts deployed");
    Ok(Deployments { chain_id, compute_market, market_token, payment_channel, deploy_block, owner, operator })
}

/// A service to list: its terms and metadata URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// `true`: priced in MarketToken; `false`: in ETH.
    pub in_token: bool,
    /// The price per task, in the smallest unit of its token (wei for ETH).
    pub price: U256,
    /// The longest a task may run, in seconds; it sets each task's deadline, after which the buyer
    /// may claim a refund.
    pub max_run_time: u64,
    /// Where the service's metadata (kind, runtime, names) is read from.
    pub metadata_uri: String,
}

/// Lists `services` from `sender`'s key (their provider). Returns the new service ids.
pub async fn list_services(sender: &Sender, deployments: &Deployments, services: &[Listing]) -> Result<Vec<U256>> {
    let market = ComputeMarket::new(deployments.compute_market, sender.provider());
    let mut ids = Vec::with_capacity(services.len());
    for s in services {
        let token = if s.in_token { deployments.market_token } else { Address::ZERO };
        let receipt = sender.send(market.listService(token, s.price, s.max_run_time, s.metadata_uri.clone())).await?;
        let id = receipt
            .decoded_log::<ComputeMarket::ServiceListed>()
            .map(|l| l.data.serviceId)
            .ok_or(Error::Reverted { tx: receipt.transaction_hash })?;
        ids.push(id);
    }
    Ok(ids)
}

/// Mints `amount` MarketToken to each of `accounts` (only the token's deployer may).
pub async fn mint_tokens(sender: &Sender, token: Address, accounts: &[Address], amount: U256) -> Result<()> {
    let token = MarketToken::new(token, sender.provider());
    for a in accounts {
        sender.send(token.mint(*a, amount)).await?;
    }
    Ok(())
}
