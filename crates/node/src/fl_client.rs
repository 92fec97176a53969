//! The federated-learning market's client side, for `agora fl …` and `agora fl-client`: a task's
//! creation (its spec put in the node's content store, the pool approved and escrowed), membership
//! and block purchases, the participant process, the check of a finished task's contribution
//! record against what was posted on chain, reward claims, dividend withdrawals and paid
//! predictions. The node's API (`/api/network`, `/api/fl/*`) says where the chain, the contracts
//! and the coordinator are; every transaction goes through the key's one [`Sender`].

use std::time::Duration;

use agora_assistant::client::NodeApi;
use agora_chain::Sender;
use agora_chain::bindings::{ComputeMarket, FederatedMarket, IFederatedMarket, MarketToken};
pub use agora_federated::{Behaviour, ClientReport, DataDirs, DatasetName, ModelKind, TaskSpec};
use alloy::primitives::aliases::{U40, U96};
use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolInterface;
use anyhow::{Context, Result, anyhow, bail, ensure};
use serde::Serialize;
use serde_json::{Value, json};

mod fees;
pub use fees::{FeeOutcome, NotFeeReceiver};
mod replay;
mod verify;
pub use verify::{Verification, Verified};

/// A contract refusal, named by its custom error (`AlreadyMember`, `WrongState`, …).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Refused {
    /// The custom error's name, or `reverted`.
    pub code: String,
    /// What the contract said, with its figures.
    pub message: String,
}

/// Turns a chain error into [`Refused`] when FederatedMarket's revert data says why.
fn refused(e: agora_chain::Error) -> anyhow::Error {
    use agora_chain::revert::ContractError;
    if let agora_chain::Error::Contract(ContractError::UnknownRevert(data)) = &e
        && let Ok(err) = FederatedMarket::FederatedMarketErrors::abi_decode(data)
    {
        let text = format!("{err:?}");
        let code = text.split(['(', ' ', '{']).next().unwrap_or("reverted").to_owned();
        return Refused { code, message: format!("FederatedMarket refused: {text}") }.into();
    }
    e.into()
}

/// The node's federated-learning market, as its API describes it.
#[derive(Debug, Clone)]
pub struct FlNode {
    api: NodeApi,
    /// The chain's JSON-RPC URL.
    pub rpc_url: String,
    /// Its id.
    pub chain_id: u64,
    /// The FederatedMarket contract.
    pub market: Address,
    /// MarketToken.
    pub token: Address,
    /// The node's coordinator key's account, when the node coordinates tasks.
    pub coordinator: Option<Address>,
    /// Where the node's coordinator takes participants (`ws://host:port`).
    pub endpoint: Option<String>,
    /// The block the contracts were deployed at.
    pub deploy_block: u64,
}

/// How long a participant keeps trying.
#[derive(Debug, Clone, Copy)]
pub struct Patience {
    /// To sign in, while the coordinator has not yet seen the task or the join.
    pub sign_in: Duration,
    /// To connect again after the connection to the coordinator dropped (its node restarted).
    pub reconnect: Duration,
}

/// What a compute-market service charges: one job's price in `token`'s smallest unit
/// (`Address::ZERO`: ETH), and the longest a job may run, seconds.
#[derive(Debug, Clone, Copy)]
pub struct ServiceOffer {
    /// The payment token.
    pub token: Address,
    /// One job's price.
    pub price: U256,
    /// The longest a job may run, seconds.
    pub max_run_time: u64,
}

/// What `agora fl create` asks for.
#[derive(Debug, Clone)]
pub struct NewTask {
    /// Shares (`true`) or a reward pool.
    pub shareholding: bool,
    /// The pool (0 for shareholding).
    pub pool: U256,
    /// The pool and fees in ETH (else MarketToken).
    pub eth: bool,
    /// The fee per paid prediction.
    pub fee: U256,
    /// What is trained.
    pub spec: TaskSpec,
    /// Blocks sold on chain (`totalBlocks`), in MarketToken at `block_price` each.
    pub for_sale: u32,
    /// Price of one block (0: not sold).
    pub block_price: U256,
    /// Seconds from now (chain clock) to the start deadline.
    pub start_in: u64,
    /// Seconds from now (chain clock) to the finish deadline.
    pub finish_in: u64,
    /// Default: the node's coordinator.
    pub coordinator: Option<Address>,
}

/// A task created.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    /// Its id.
    pub task_id: u64,
    /// The spec's CID (`createTask`'s `spec`).
    pub spec_cid: String,
    /// Who coordinates it.
    pub coordinator: Address,
    /// The `createTask` transaction.
    pub tx: B256,
}

fn text<'a>(v: &'a Value, name: &str) -> Result<&'a str> {
    v[name].as_str().with_context(|| format!("the node's answer has no {name}: {v}"))
}

fn u256(v: &Value, name: &str) -> Result<U256> {
    text(v, name)?.parse().with_context(|| format!("{name} is not an integer: {v}"))
}

impl FlNode {
    /// Reads `/api/network` at `api`; `rpc_url` overrides the chain's URL it names.
    pub async fn connect(api: &str, rpc_url: Option<&str>) -> Result<Self> {
        let api = NodeApi::new(api)?;
        let net = api.get_json("/api/network").await?;
        let market = text(&net, "federatedMarket").context("the node's chain has no FederatedMarket")?;
        Ok(Self {
            rpc_url: match rpc_url {
                Some(u) => u.to_owned(),
                None => text(&net, "rpcUrl")?.to_owned(),
            },
            chain_id: net["chainId"].as_u64().with_context(|| format!("no chainId in {net}"))?,
            market: market.parse()?,
            token: text(&net, "marketToken")?.parse()?,
            coordinator: net["flCoordinator"].as_str().and_then(|a| a.parse().ok()),
            endpoint: net["flEndpoint"].as_str().map(str::to_owned),
            deploy_block: net["deployBlock"].as_u64().unwrap_or_default(),
            api,
        })
    }

    /// `GET path` on the node as JSON.
    pub async fn get(&self, path: &str) -> Result<Value> {
        Ok(self.api.get_json(path).await?)
    }

    /// The task as the node's API shows it (`/api/fl/tasks/{id}`'s `task`).
    pub async fn task(&self, task: u64) -> Result<Value> {
        let detail = self.get(&format!("/api/fl/tasks/{task}")).await?;
        Ok(detail["task"].clone())
    }

    /// The key's one sender.
    pub async fn sender(&self, key: &PrivateKeySigner) -> Result<Sender> {
        let sender = crate::client::sender(&self.rpc_url, key).await?;
        ensure!(sender.provider().get_chain_id().await? == self.chain_id, "the RPC serves another chain");
        Ok(sender)
    }

    async fn send<P: Provider, D: alloy::contract::CallDecoder>(
        &self,
        sender: &Sender,
        call: alloy::contract::CallBuilder<P, D>,
    ) -> Result<alloy::rpc::types::TransactionReceipt> {
        sender.send(call).await.map_err(refused)
    }

    /// Approves FederatedMarket for `amount` of `token` when the allowance is short.
    async fn approve(&self, sender: &Sender, token: Address, amount: U256) -> Result<()> {
        if token == Address::ZERO || amount.is_zero() {
            return Ok(());
        }
        let erc20 = MarketToken::new(token, sender.provider());
        if erc20.allowance(sender.address(), self.market).call().await? < amount {
            self.send(sender, erc20.approve(self.market, amount)).await?;
        }
        Ok(())
    }

    /// Stores the spec on the node, approves the pool and creates the task.
    pub async fn create(&self, key: &PrivateKeySigner, t: &NewTask) -> Result<Created> {
        t.spec.validate()?;
        let coordinator = t
            .coordinator
            .or(self.coordinator)
            .context("the node names no federated-learning coordinator (flCoordinator): pass --coordinator")?;
        let body = serde_json::to_value(&t.spec)?;
        let stored = self.api.post("/api/fl/specs", &body, None).await?.json()?;
        let cid = text(&stored, "cid")?.to_owned();
        ensure!(cid == t.spec.cid()?.to_string(), "the node stored the spec as {cid}, not as its canonical CID");
        let sender = self.sender(key).await?;
        let now = chain_time(sender.provider()).await?;
        let token = if t.eth { Address::ZERO } else { self.token };
        let narrow = |v: U256, name: &str| {
            U96::checked_from_limbs_slice(v.as_limbs()).with_context(|| format!("{name} {v} does not fit 96 bits"))
        };
        let params = IFederatedMarket::TaskParams {
            mode: u8::from(t.shareholding),
            coordinator,
            token,
            pool: narrow(t.pool, "the pool")?,
            predictionFee: narrow(t.fee, "the fee")?,
            blockToken: self.token,
            blockPrice: narrow(t.block_price, "the block price")?,
            totalBlocks: t.for_sale,
            minParticipants: t.spec.min_participants,
            startDeadline: U40::from(now + t.start_in),
            finishDeadline: U40::from(now + t.finish_in),
            spec: cid.clone(),
        };
        self.approve(&sender, token, t.pool).await?;
        let market = FederatedMarket::new(self.market, sender.provider());
        let value = if t.eth { t.pool } else { U256::ZERO };
        let receipt = self.send(&sender, market.createTask(params).value(value)).await?;
        let task_id = receipt
            .decoded_log::<FederatedMarket::TaskCreated>()
            .map(|l| l.data.taskId.to::<u64>())
            .context("createTask emitted no TaskCreated")?;
        Ok(Created { task_id, spec_cid: cid, coordinator, tx: receipt.transaction_hash })
    }

    /// Joins (`true`) or leaves the task.
    pub async fn membership(&self, key: &PrivateKeySigner, task: u64, join: bool) -> Result<B256> {
        let sender = self.sender(key).await?;
        let market = FederatedMarket::new(self.market, sender.provider());
        let receipt = if join {
            self.send(&sender, market.join(U256::from(task))).await?
        } else {
            self.send(&sender, market.leave(U256::from(task))).await?
        };
        Ok(receipt.transaction_hash)
    }

    /// Whether `account` is a member of the task.
    pub async fn is_member(&self, task: u64, account: Address) -> Result<bool> {
        let provider = agora_chain::read_provider(&self.rpc_url)?;
        let market = FederatedMarket::new(self.market, &provider);
        Ok(market.getMember(U256::from(task), account).call().await?.joined)
    }

    /// Buys `count` blocks (approving the block token first); returns the cost and transaction.
    pub async fn buy_blocks(&self, key: &PrivateKeySigner, task: u64, count: u32) -> Result<(U256, B256)> {
        let sender = self.sender(key).await?;
        let market = FederatedMarket::new(self.market, sender.provider());
        let t = market.getTask(U256::from(task)).call().await?;
        let cost = U256::from(t.blockPrice) * U256::from(count);
        self.approve(&sender, t.blockToken, cost).await?;
        let value = if t.blockToken == Address::ZERO { cost } else { U256::ZERO };
        let receipt = self.send(&sender, market.buyBlocks(U256::from(task), count).value(value)).await?;
        Ok((cost, receipt.transaction_hash))
    }

    /// Runs a participant of `task` until training ends; `join` joins first when needed. Sign-in is
    /// tried again for up to `patience.sign_in` while the coordinator has not yet seen the task or
    /// the join, and a dropped connection made again for up to `patience.reconnect`.
    pub async fn participate(
        &self,
        key: &PrivateKeySigner,
        task: u64,
        behaviour: Behaviour,
        dirs: DataDirs,
        join: bool,
        patience: Patience,
    ) -> Result<ClientReport> {
        let until = tokio::time::Instant::now() + patience.sign_in;
        // A task created a moment ago may not be indexed yet.
        let t = loop {
            match self.task(task).await {
                Err(e) if tokio::time::Instant::now() < until && not_found(&e) => {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                other => break other?,
            }
        };
        if join && !self.is_member(task, key.address()).await? {
            self.membership(key, task, true).await?;
        }
        let coordinator: Address = text(&t, "coordinator")?.parse()?;
        let endpoint = match (&self.endpoint, self.coordinator) {
            (Some(url), Some(c)) if c == coordinator => url.clone(),
            _ => bail!("task {task} is coordinated by {coordinator}, which this node's API does not serve"),
        };
        let mut options = agora_federated::ClientOptions::new(
            format!("{endpoint}/tasks/{task}"),
            task,
            self.chain_id,
            coordinator,
            text(&t, "spec")?,
        );
        options.fashion_dir = dirs.fashion_mnist;
        options.mnist_dir = dirs.mnist;
        options.behaviour = behaviour;
        options.reconnect = patience.reconnect;
        loop {
            match agora_federated::client::run(key, &options).await {
                Err(e) if before_welcome(&e) && tokio::time::Instant::now() < until => {
                    tracing::info!(task, error = %e, "the coordinator is not ready for this participant yet");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                other => return Ok(other?),
            }
        }
    }

    /// Claims the key's reward with the proof the node serves; returns the amount and transaction.
    pub async fn claim(&self, key: &PrivateKeySigner, task: u64) -> Result<(U256, B256)> {
        let me = key.address();
        let result = self.get(&format!("/api/fl/tasks/{task}/result?account={me:#x}")).await?;
        let entry = result["entries"].get(0).with_context(|| format!("{me} has no reward in task {task}"))?;
        let amount = u256(entry, "amount")?;
        let proof = entry["proof"]
            .as_array()
            .context("no proof")?
            .iter()
            .map(|h| h.as_str().unwrap_or_default().parse::<B256>())
            .collect::<Result<Vec<_>, _>>()?;
        let sender = self.sender(key).await?;
        let market = FederatedMarket::new(self.market, sender.provider());
        let receipt = self.send(&sender, market.claimReward(U256::from(task), me, amount, proof)).await?;
        Ok((amount, receipt.transaction_hash))
    }

    /// Withdraws the key's dividends; returns the amount and transaction.
    pub async fn withdraw(&self, key: &PrivateKeySigner, task: u64) -> Result<(U256, B256)> {
        let sender = self.sender(key).await?;
        let market = FederatedMarket::new(self.market, sender.provider());
        let receipt = self.send(&sender, market.withdrawDividends(U256::from(task), key.address())).await?;
        let amount = receipt
            .decoded_log::<FederatedMarket::DividendsWithdrawn>()
            .map(|l| l.data.amount)
            .context("withdrawDividends emitted no DividendsWithdrawn")?;
        Ok((amount, receipt.transaction_hash))
    }

    /// Lists a compute-market service from `key` at `market` (a finished model's listing, whose
    /// `metadata_uri` the node's `/api/fl/tasks/{id}/listing` gives); returns the new service's id
    /// and the transaction.
    pub async fn list_service(
        &self,
        key: &PrivateKeySigner,
        market: Address,
        offer: ServiceOffer,
        metadata_uri: String,
    ) -> Result<(u64, B256)> {
        let sender = self.sender(key).await?;
        let contract = ComputeMarket::new(market, sender.provider());
        let call = contract.listService(offer.token, offer.price, offer.max_run_time, metadata_uri);
        let receipt = self.send(&sender, call).await?;
        let service = receipt
            .decoded_log::<ComputeMarket::ServiceListed>()
            .map(|l| l.data.serviceId)
            .context("listService emitted no ServiceListed")?;
        Ok((u64::try_from(service).context("a service id past u64")?, receipt.transaction_hash))
    }

    /// Pays for a prediction on `pixels` and asks the node for it (again while the node has not yet
    /// indexed the payment, up to `patience`).
    pub async fn predict(&self, key: &PrivateKeySigner, task: u64, pixels: &[u8], patience: Duration) -> Result<Value> {
        let sender = self.sender(key).await?;
        let market = FederatedMarket::new(self.market, sender.provider());
        let t = market.getTask(U256::from(task)).call().await?;
        let fee = U256::from(t.predictionFee);
        self.approve(&sender, t.token, fee).await?;
        let value = if t.token == Address::ZERO { fee } else { U256::ZERO };
        let receipt =
            self.send(&sender, market.requestPrediction(U256::from(task), keccak256(pixels)).value(value)).await?;
        let request = receipt
            .decoded_log::<FederatedMarket::PredictionRequested>()
            .map(|l| l.data.requestId)
            .context("requestPrediction emitted no PredictionRequested")?;
        let body = json!({ "requestId": request.to_string(), "pixels": base64(pixels) });
        let until = tokio::time::Instant::now() + patience;
        loop {
            let resp = self.api.post(&format!("/api/fl/tasks/{task}/predict"), &body, None).await?;
            if resp.status == 404 && tokio::time::Instant::now() < until {
                tokio::time::sleep(Duration::from_millis(300)).await;
                continue;
            }
            let mut answer = resp.json()?;
            answer["fee"] = fee.to_string().into();
            answer["tx"] = receipt.transaction_hash.to_string().into();
            return Ok(answer);
        }
    }
}

/// The node's 404.
fn not_found(e: &anyhow::Error) -> bool {
    e.downcast_ref::<agora_assistant::client::ClientError>().is_some_and(|c| c.code() == "not_found")
}

/// Errors that come before the coordinator welcomed the participant: worth another try.
fn before_welcome(e: &agora_federated::Error) -> bool {
    use agora_federated::Error as E;
    matches!(e, E::Denied(_) | E::NotMember { .. } | E::WebSocket(_) | E::Io(_))
}

async fn chain_time(provider: &alloy::providers::DynProvider) -> Result<u64> {
    let block = provider.get_block_by_number(alloy::eips::BlockNumberOrTag::Latest).await?;
    Ok(block.ok_or_else(|| anyhow!("the chain has no latest block"))?.header.timestamp)
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        let cases: [(&[u8], &str); 5] =
            [(b"", ""), (b"f", "Zg=="), (b"fo", "Zm8="), (b"foo", "Zm9v"), (&[0xff, 0, 0x10, 7], "/wAQBw==")];
        for (bytes, text) in cases {
            assert_eq!(super::base64(bytes), text);
        }
    }
}
