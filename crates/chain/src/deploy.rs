//! Deploying Agora's contracts and the demo services of the embedded dev chain.

use std::path::Path;

use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionReceipt;
use serde::{Deserialize, Serialize};

use crate::bindings::{ComputeMarket, MarketToken, PaymentChannel};
use crate::revert::ContractError;
use crate::{Error, Result};

/// Where Agora's contracts live on one chain: the deployments file `agora deploy` writes and every
/// other command reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployments {
    pub chain_id: u64,
    pub compute_market: Address,
    pub market_token: Address,
    pub payment_channel: Address,
    /// The first block that can hold Agora's logs (the first deployment's); the indexer starts here.
    pub deploy_block: u64,
    pub owner: Address,
    /// The backend's key, allowed to start, complete and fail tasks.
    pub operator: Address,
}

impl Deployments {
    pub fn load(path: &Path) -> Result<Self> {
        Ok(serde_json::from_slice(&std::fs::read(path)?)?)
    }

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

/// Sends a prepared call and waits for its receipt; a revert comes back decoded.
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

/// Deploys MarketToken and ComputeMarket from `provider`'s signer (the owner), and appoints
/// `operator`.
pub async fn deploy_contracts(provider: &DynProvider, owner: Address, operator: Address) -> Result<Deployments> {
    let chain_id = provider.get_chain_id().await?;
    let token_builder = MarketToken::deploy_builder(provider.clone());
    let token_receipt = token_builder.send().await.map_err(ContractError::from)?.get_receipt().await?;
    let market_token = token_receipt.contract_address.ok_or(Error::Reverted { tx: token_receipt.transaction_hash })?;
    let market_builder = ComputeMarket::deploy_builder(provider.clone(), owner);
    let market_receipt = market_builder.send().await.map_err(ContractError::from)?.get_receipt().await?;
    let compute_market =
        market_receipt.contract_address.ok_or(Error::Reverted { tx: market_receipt.transaction_hash })?;
    let channel_receipt = PaymentChannel::deploy_builder(provider.clone())
        .send()
        .await
        .map_err(ContractError::from)?
        .get_receipt()
        .await?;
    let payment_channel =
        channel_receipt.contract_address.ok_or(Error::Reverted { tx: channel_receipt.transaction_hash })?;
    let market = ComputeMarket::new(compute_market, provider.clone());
    send(market.setOperator(operator, true)).await?;
    let deploy_block = token_receipt.block_number.unwrap_or_default();
    tracing::info!(%compute_market, %market_token, %payment_channel, chain_id, deploy_block, "contracts deployed");
    Ok(Deployments { chain_id, compute_market, market_token, payment_channel, deploy_block, owner, operator })
}

/// A service the dev chain lists at start, as the seed's demo describes.
#[derive(Debug, Clone)]
pub struct DemoService {
    pub kind: &'static str,
    pub name_en: &'static str,
    pub name_zh: &'static str,
    pub description_en: &'static str,
    pub description_zh: &'static str,
    /// `true`: priced in MarketToken; `false`: in ETH.
    pub in_token: bool,
    pub price: U256,
    pub max_run_time: u64,
    /// `Some((app, category))`: the service runs through iExec, with this app of the node's
    /// workerpool in this iExec category (metadata `"runtime":"iexec"`); `None`: on the node.
    pub iexec: Option<(&'static str, u64)>,
}

impl DemoService {
    /// The metadata the market stores: a `data:` URI holding JSON with names in both languages.
    pub fn metadata_uri(&self) -> String {
        let mut json = serde_json::json!({
            "kind": self.kind,
            "name": { "en": self.name_en, "zh-CN": self.name_zh },
            "description": { "en": self.description_en, "zh-CN": self.description_zh },
        });
        if let Some((app, category)) = self.iexec {
            json["runtime"] = "iexec".into();
            json["app"] = app.into();
            json["iexecCategory"] = category.into();
        }
        format!("data:application/json,{json}")
    }
}

const MILLI_ETH: U256 = U256::from_limbs([1_000_000_000_000_000, 0, 0, 0]);
const ONE_TOKEN: U256 = U256::from_limbs([1_000_000_000_000_000_000, 0, 0, 0]);

/// The three services of the seed's demo.
pub fn demo_services() -> Vec<DemoService> {
    vec![
        DemoService {
            kind: "ai-inference",
            name_en: "AI inference",
            name_zh: "AI 推理算力",
            description_en: "Classify a handwritten digit with a small neural network.",
            description_zh: "用小型神经网络识别手写数字。",
            in_token: false,
            price: MILLI_ETH * U256::from(10),
            max_run_time: 300,
            iexec: None,
        },
        DemoService {
            kind: "video-transcode",
            name_en: "Video transcode",
            name_zh: "视频转码算力",
            description_en: "Transcode a video with FFmpeg to the resolution and codec you choose.",
            description_zh: "使用 FFmpeg 将视频转码为指定的分辨率和编码。",
            in_token: false,
            price: MILLI_ETH * U256::from(20),
            max_run_time: 600,
            iexec: None,
        },
        DemoService {
            kind: "data-processing",
            name_en: "Data processing",
            name_zh: "数据处理算力",
            description_en: "Run a sandboxed WebAssembly job over your data (word count, CSV statistics).",
            description_zh: "在沙箱中用 WebAssembly 处理你的数据（词频统计、CSV 统计）。",
            in_token: true,
            price: ONE_TOKEN * U256::from(5),
            max_run_time: 300,
            iexec: None,
        },
    ]
}

/// Lists `services` from `provider`'s signer. Returns the new service ids.
pub async fn list_services(
    provider: &DynProvider,
    deployments: &Deployments,
    services: &[DemoService],
) -> Result<Vec<U256>> {
    let market = ComputeMarket::new(deployments.compute_market, provider.clone());
    let mut ids = Vec::with_capacity(services.len());
    for s in services {
        let token = if s.in_token { deployments.market_token } else { Address::ZERO };
        let receipt = send(market.listService(token, s.price, s.max_run_time, s.metadata_uri())).await?;
        let id = receipt
            .decoded_log::<ComputeMarket::ServiceListed>()
            .map(|l| l.data.serviceId)
            .ok_or(Error::Reverted { tx: receipt.transaction_hash })?;
        ids.push(id);
    }
    Ok(ids)
}

/// Mints `amount` MarketToken to each of `accounts` (only the token's deployer may).
pub async fn mint_tokens(provider: &DynProvider, token: Address, accounts: &[Address], amount: U256) -> Result<()> {
    let token = MarketToken::new(token, provider.clone());
    for a in accounts {
        send(token.mint(*a, amount)).await?;
    }
    Ok(())
}
