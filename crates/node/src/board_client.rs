//! The community task market's client side, for `agora board …` and `agora community …`: a task's
//! publication (its description put in the node's content store, the reward approved when it is a
//! token and escrowed), the worker's and the publisher's steps, the arbiter's decision, the exits
//! anyone may take, what the board owes an account, and the communities with their points. The
//! node's API (`/api/network`) says where the chain and the contracts are; every transaction goes
//! through the key's one [`Sender`], and a refusal is named by the contract's custom error.

use agora_assistant::client::NodeApi;
use agora_chain::Sender;
use agora_chain::bindings::{ITaskBoard, MarketToken, TaskBoard};
use alloy::primitives::aliases::{U40, U96};
use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionReceipt;
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, Result, anyhow, ensure};
use serde::Serialize;
use serde_json::Value;

mod community;
mod errors;
mod view;

pub use crate::fl_client::Refused;
pub use community::{AccountInCommunity, CommunityAction, CommunityView, CreatedCommunity, reason_code};
pub use errors::{NotDivisible, check_divisible};
pub use view::{ClaimView, TaskView};

/// The node's task board and communities, as its API describes them.
#[derive(Debug, Clone)]
pub struct BoardNode {
    api: NodeApi,
    /// The chain's JSON-RPC URL.
    pub rpc_url: String,
    /// Its id.
    pub chain_id: u64,
    /// The TaskBoard contract.
    pub board: Address,
    /// The Communities contract.
    pub communities: Address,
    /// MarketToken (`--token amt`).
    pub market_token: Address,
    /// The block the contracts were deployed at (where claims are looked for).
    pub deploy_block: u64,
}

/// What `agora board publish` asks for.
#[derive(Debug, Clone)]
pub struct NewTask {
    /// The reward's token; zero for ETH.
    pub token: Address,
    /// The whole reward, smallest unit: a multiple of `slots`.
    pub reward: U256,
    /// How many workers can be paid.
    pub slots: u16,
    /// Its community (0: none).
    pub community: u64,
    /// Points each approved worker is minted (needs a community).
    pub points: U256,
    /// Seconds from now (chain clock) to the deadline for first submissions.
    pub deadline_in: u64,
    /// Seconds the publisher has to decide on each submission.
    pub review_window: u32,
    /// Seconds of silence after accepting before a worker may be removed.
    pub work_timeout: u32,
    /// Revisions a rejected worker may submit.
    pub max_revisions: u8,
    /// The description's CID (or URI).
    pub spec: String,
}

/// A task published.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Published {
    /// Its id.
    pub task_id: u64,
    /// What each slot pays.
    pub reward_per_slot: String,
    /// The deadline (unix seconds, chain clock).
    pub deadline: u64,
    /// The description's CID or URI.
    pub spec: String,
    /// The `publish` transaction.
    pub tx: B256,
}

fn text<'a>(v: &'a Value, name: &str) -> Result<&'a str> {
    v[name].as_str().with_context(|| format!("the node's answer has no {name}: {v}"))
}

fn narrow96(v: U256, name: &str) -> Result<U96> {
    U96::checked_from_limbs_slice(v.as_limbs()).with_context(|| format!("{name} {v} does not fit 96 bits"))
}

impl BoardNode {
    /// Reads `/api/network` at `api`; `rpc_url` overrides the chain's URL it names.
    pub async fn connect(api: &str, rpc_url: Option<&str>) -> Result<Self> {
        let node = NodeApi::new(api)?;
        let net = node.get_json("/api/network").await?;
        let board = text(&net, "taskBoard").context("the node's chain has no TaskBoard")?;
        let communities = text(&net, "communities").context("the node's chain has no Communities")?;
        Ok(Self {
            rpc_url: match rpc_url {
                Some(u) => u.to_owned(),
                None => text(&net, "rpcUrl")?.to_owned(),
            },
            chain_id: net["chainId"].as_u64().with_context(|| format!("no chainId in {net}"))?,
            board: board.parse()?,
            communities: communities.parse()?,
            market_token: text(&net, "marketToken")?.parse()?,
            deploy_block: net["deployBlock"].as_u64().unwrap_or(0),
            api: node,
        })
    }

    /// `GET path` on the node as JSON.
    pub async fn get(&self, path: &str) -> Result<Value> {
        Ok(self.api.get_json(path).await?)
    }

    /// Stores `bytes` in the node's content store (`POST /api/uploads`); its CID.
    pub async fn upload(&self, bytes: &[u8]) -> Result<String> {
        let stored = self.api.post_bytes("/api/uploads", "application/octet-stream", bytes).await?.json()?;
        Ok(text(&stored, "cid")?.to_owned())
    }

    /// The key's one sender.
    pub async fn sender(&self, key: &PrivateKeySigner) -> Result<Sender> {
        let sender = crate::client::sender(&self.rpc_url, key).await?;
        ensure!(sender.provider().get_chain_id().await? == self.chain_id, "the RPC serves another chain");
        Ok(sender)
    }

    pub(crate) async fn send<P: Provider, D: alloy::contract::CallDecoder>(
        &self,
        sender: &Sender,
        call: alloy::contract::CallBuilder<P, D>,
    ) -> Result<TransactionReceipt> {
        sender.send(call).await.map_err(errors::refused)
    }

    /// Approves the board for `amount` of `token` when the allowance is short.
    async fn approve_token(&self, sender: &Sender, token: Address, amount: U256) -> Result<()> {
        if token == Address::ZERO || amount.is_zero() {
            return Ok(());
        }
        let erc20 = MarketToken::new(token, sender.provider());
        if erc20.allowance(sender.address(), self.board).call().await? < amount {
            self.send(sender, erc20.approve(self.board, amount)).await?;
        }
        Ok(())
    }

    /// Publishes `t` (the reward split over the slots was checked by [`check_divisible`] first, so an
    /// uneven reward never reaches the chain); approves a token reward first when needed.
    pub async fn publish(&self, key: &PrivateKeySigner, t: &NewTask) -> Result<Published> {
        check_divisible(t.reward, t.slots)?;
        let sender = self.sender(key).await?;
        let deadline = chain_time(sender.provider()).await? + t.deadline_in;
        let params = ITaskBoard::TaskParams {
            token: t.token,
            reward: narrow96(t.reward, "the reward")?,
            slots: t.slots,
            communityId: t.community,
            points: narrow96(t.points, "the points")?,
            deadline: U40::from(deadline),
            reviewWindow: t.review_window,
            workTimeout: t.work_timeout,
            maxRevisions: t.max_revisions,
            spec: t.spec.clone(),
        };
        self.approve_token(&sender, t.token, t.reward).await?;
        let board = TaskBoard::new(self.board, sender.provider());
        let value = if t.token == Address::ZERO { t.reward } else { U256::ZERO };
        let receipt = self.send(&sender, board.publish(params).value(value)).await?;
        let task_id = receipt
            .decoded_log::<TaskBoard::TaskPublished>()
            .map(|l| l.data.taskId.to::<u64>())
            .context("publish emitted no TaskPublished")?;
        Ok(Published {
            task_id,
            reward_per_slot: (t.reward / U256::from(t.slots)).to_string(),
            deadline,
            spec: t.spec.clone(),
            tx: receipt.transaction_hash,
        })
    }

    /// Takes a free slot, agreeing to the terms the chain shows now; returns them and the transaction.
    pub async fn accept(&self, key: &PrivateKeySigner, task: u64) -> Result<(U256, u64, B256)> {
        let sender = self.sender(key).await?;
        let board = TaskBoard::new(self.board, sender.provider());
        let t = board.getTask(U256::from(task)).call().await?;
        let receipt = self.send(&sender, board.accept(U256::from(task), t.rewardPerSlot, t.deadline)).await?;
        Ok((U256::from(t.rewardPerSlot), t.deadline.to::<u64>(), receipt.transaction_hash))
    }

    /// Sends one of the board's task actions as `key`.
    pub async fn act(&self, key: &PrivateKeySigner, task: u64, action: Action) -> Result<B256> {
        let sender = self.sender(key).await?;
        let board = TaskBoard::new(self.board, sender.provider());
        let id = U256::from(task);
        let receipt = match action {
            Action::Submit(deliverable) => self.send(&sender, board.submit(id, deliverable)).await?,
            Action::Approve(worker) => self.send(&sender, board.approve(id, worker)).await?,
            Action::Reject(worker, reason) => self.send(&sender, board.reject(id, worker, reason)).await?,
            Action::Dispute(reason) => self.send(&sender, board.openDispute(id, reason)).await?,
            Action::Resolve(worker, bps) => self.send(&sender, board.resolveDispute(id, worker, bps)).await?,
            Action::RemoveWorker(worker) => self.send(&sender, board.removeWorker(id, worker)).await?,
            Action::Cancel => self.send(&sender, board.cancel(id)).await?,
            Action::Refund => self.send(&sender, board.refund(id)).await?,
            Action::ApproveLapsed(worker) => self.send(&sender, board.approveLapsed(id, worker)).await?,
            Action::CloseRejected(worker) => self.send(&sender, board.closeRejected(id, worker)).await?,
            Action::Extend(deadline_in) => {
                let deadline = chain_time(sender.provider()).await? + deadline_in;
                self.send(&sender, board.extendDeadline(id, U40::from(deadline))).await?
            }
        };
        Ok(receipt.transaction_hash)
    }

    /// Withdraws what the board owes the key in each of `tokens` (those it owes nothing in are left
    /// alone); the amounts taken with their transactions. Nothing owed at all is refused as the
    /// contract would refuse it.
    pub async fn withdraw(&self, key: &PrivateKeySigner, tokens: &[Address]) -> Result<Vec<(Address, U256, B256)>> {
        let sender = self.sender(key).await?;
        let board = TaskBoard::new(self.board, sender.provider());
        let mut taken = Vec::new();
        for token in tokens {
            let owed = board.owed(sender.address(), *token).call().await?;
            if !owed.is_zero() {
                let receipt = self.send(&sender, board.withdraw(*token)).await?;
                taken.push((*token, owed, receipt.transaction_hash));
            }
        }
        if taken.is_empty() {
            return Err(Refused {
                code: "NothingToWithdraw".into(),
                message: format!("the board owes {} nothing in {tokens:?}", sender.address()),
            }
            .into());
        }
        Ok(taken)
    }
}

/// A task action, with what it takes.
#[derive(Debug, Clone)]
pub enum Action {
    /// The worker's deliverable (a CID or URI).
    Submit(String),
    /// The publisher approves a worker's submission.
    Approve(Address),
    /// The publisher rejects a worker's submission, for a reason.
    Reject(Address, String),
    /// The worker takes a rejection to the arbiter, for a reason.
    Dispute(String),
    /// The arbiter gives the worker this many basis points of the slot.
    Resolve(Address, u16),
    /// The publisher removes a silent worker.
    RemoveWorker(Address),
    /// The publisher cancels a task nothing was submitted on.
    Cancel,
    /// Anyone, after the deadline: the slots nobody submitted on go back to the publisher.
    Refund,
    /// Anyone, once the review window lapsed: the worker is paid.
    ApproveLapsed(Address),
    /// Anyone, once a rejection went unanswered.
    CloseRejected(Address),
    /// The publisher moves the deadline to this many seconds from now.
    Extend(u64),
}

/// The latest block's timestamp.
pub(crate) async fn chain_time(provider: &alloy::providers::DynProvider) -> Result<u64> {
    let block = provider.get_block_by_number(alloy::eips::BlockNumberOrTag::Latest).await?;
    Ok(block.ok_or_else(|| anyhow!("the chain has no latest block"))?.header.timestamp)
}
