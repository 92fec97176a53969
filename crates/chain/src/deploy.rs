//! Deploying Agora's contracts, listing services and minting MarketToken, and the deployments file.

use std::path::Path;

use alloy::primitives::{Address, U256};
use alloy::rpc::types::TransactionReceipt;
use serde::{Deserialize, Serialize};

use crate::bindings::{
    Communities, ComputeMarket, DataMarket, FederatedMarket, MarketToken, PaymentChannel, TaskBoard,
};
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
    /// The DataMarket contract (data sellers' registry, orders escrowed and settled by ACKs, ratings).
    /// `None` in a deployments file written before it existed: that node runs no data market.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_market: Option<Address>,
    /// The FederatedMarket contract (federated-learning tasks, their members and data blocks, reward
    /// claims, model shares and paid predictions). `None` in a deployments file written before it
    /// existed: that node runs no federated-learning market.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub federated_market: Option<Address>,
    /// The TaskBoard contract (the community task market's escrowed tasks, submissions, reviews and
    /// disputes). `None` in a deployments file written before it existed: that node runs no task board.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_board: Option<Address>,
    /// The Communities contract (communities, their admins and members, and their points tokens, each
    /// an EIP-1167 clone whose address its `CommunityCreated` names). `None` in a deployments file
    /// written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub communities: Option<Address>,
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
        let mut contracts = vec![self.compute_market, self.payment_channel];
        contracts.extend(self.data_market);
        contracts.extend(self.federated_market);
        contracts.extend(self.task_board);
        contracts.extend(self.communities);
        contracts
    }
}

/// The address a deployment's receipt created.
fn created(receipt: &TransactionReceipt) -> Result<Address> {
    receipt.contract_address.ok_or(Error::Reverted { tx: receipt.transaction_hash })
}

/// How long, in seconds, a data order's other party may present a later ACK after it was ended
/// (DataMarket's `CHALLENGE_WINDOW`, fixed at deployment).
pub const DATA_CHALLENGE_WINDOW_SECS: u64 = 3600;

/// How long, in seconds, a worker whose submission was rejected has to revise it or open a dispute
/// (TaskBoard's `ANSWER_WINDOW`, fixed at deployment). One hour, as the contract note suggests for a
/// dev chain: long enough for a person to answer in a demo, short enough that a test moving anvil's
/// clock sees the window close; a public deployment would pick days (three is the note's advice).
pub const BOARD_ANSWER_WINDOW_SECS: u64 = 3600;

/// Deploys MarketToken, ComputeMarket, PaymentChannel, DataMarket (with
/// [`DATA_CHALLENGE_WINDOW_SECS`]), FederatedMarket (no constructor argument), Communities (no
/// argument; it deploys the points implementation its clones delegate to) and TaskBoard (on that
/// Communities, with the owner as platform arbiter and [`BOARD_ANSWER_WINDOW_SECS`]) from `sender`'s
/// key (the owner), and appoints `operator`.
///
/// Nothing more is needed for the board to mint points: a community's admin gives it a budget
/// (`setMinterAllowance(id, board, n)`) when its tasks should promise points, which no deployment
/// can do for communities that do not exist yet.
pub async fn deploy_contracts(sender: &Sender, owner: Address, operator: Address) -> Result<Deployments> {
    let provider = sender.provider();
    let token_receipt = sender.send(MarketToken::deploy_builder(provider)).await?;
    let market_token = created(&token_receipt)?;
    let compute_market = created(&sender.send(ComputeMarket::deploy_builder(provider, owner)).await?)?;
    let payment_channel = created(&sender.send(PaymentChannel::deploy_builder(provider)).await?)?;
    let data_market = created(&sender.send(DataMarket::deploy_builder(provider, DATA_CHALLENGE_WINDOW_SECS)).await?)?;
    let federated_market = created(&sender.send(FederatedMarket::deploy_builder(provider)).await?)?;
    let communities = created(&sender.send(Communities::deploy_builder(provider)).await?)?;
    let task_board = created(
        &sender.send(TaskBoard::deploy_builder(provider, communities, owner, BOARD_ANSWER_WINDOW_SECS)).await?,
    )?;
    sender.send(ComputeMarket::new(compute_market, provider).setOperator(operator, true)).await?;
    let deploy_block = token_receipt.block_number.unwrap_or_default();
    let chain_id = sender.chain_id();
    tracing::info!(
        %compute_market, %market_token, %payment_channel, %data_market, %federated_market, %communities, %task_board,
        chain_id, deploy_block, "contracts deployed"
    );
    Ok(Deployments {
        chain_id,
        compute_market,
        market_token,
        payment_channel,
        data_market: Some(data_market),
        federated_market: Some(federated_market),
        task_board: Some(task_board),
        communities: Some(communities),
        deploy_block,
        owner,
        operator,
    })
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
