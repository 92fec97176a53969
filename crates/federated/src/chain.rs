//! [`TaskBook`] and [`TaskActions`] over a FederatedMarket deployment, through agora-chain.
//!
//! Terms come from `getTask` and the task's `TaskCreated` log (the spec is emitted, not stored);
//! member events from the task's `MemberJoined`, `MemberLeft`, `BlocksBought` and `TaskStarted`
//! logs in chain order (block number, log index).

use std::sync::Arc;

use agora_chain::Sender;
use agora_chain::bindings::FederatedMarket;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{Filter, Log};
use alloy::sol_types::SolEvent;
use async_trait::async_trait;

use crate::book::{MemberEvent, TaskActions, TaskBook, TaskMode, TaskState, TaskTerms};
use crate::{Error, Result};

/// Tasks as one FederatedMarket deployment holds them.
#[derive(Debug, Clone)]
pub struct ChainTaskBook {
    provider: DynProvider,
    market: Address,
    from_block: u64,
}

impl ChainTaskBook {
    /// The FederatedMarket at `market`, its logs read from `from_block` (the deployment's block).
    pub fn new(provider: DynProvider, market: Address, from_block: u64) -> Self {
        Self { provider, market, from_block }
    }

    async fn logs(&self, task: u64, signatures: Vec<B256>) -> Result<Vec<Log>> {
        let filter = Filter::new()
            .address(self.market)
            .from_block(self.from_block)
            .event_signature(signatures)
            .topic1(B256::from(U256::from(task)));
        let mut logs = self.provider.get_logs(&filter).await.map_err(|e| Error::Chain(agora_chain::Error::Rpc(e)))?;
        logs.sort_by_key(|l| (l.block_number, l.log_index));
        Ok(logs)
    }
}

fn decode<E: SolEvent>(log: &Log) -> Result<E> {
    log.log_decode::<E>().map(|l| l.inner.data).map_err(|e| Error::Protocol(format!("a {} log: {e}", E::SIGNATURE)))
}

#[async_trait]
impl TaskBook for ChainTaskBook {
    async fn terms(&self, task: u64) -> Result<TaskTerms> {
        let market = FederatedMarket::new(self.market, &self.provider);
        let t = market
            .getTask(U256::from(task))
            .call()
            .await
            .map_err(|e| Error::Chain(agora_chain::revert::ContractError::from(e).into()))?;
        let state = match t.state {
            1 => TaskState::Open,
            2 => TaskState::Training,
            3 => TaskState::Finished,
            4 => TaskState::Cancelled,
            5 => TaskState::Abandoned,
            _ => return Err(Error::Task { task, reason: "no such task".into() }),
        };
        let created = self.logs(task, vec![FederatedMarket::TaskCreated::SIGNATURE_HASH]).await?;
        let created = created.first().ok_or_else(|| Error::Task { task, reason: "no TaskCreated log".into() })?;
        let spec = decode::<FederatedMarket::TaskCreated>(created)?.spec;
        Ok(TaskTerms {
            task,
            mode: if t.mode == 0 { TaskMode::RewardPool } else { TaskMode::Shareholding },
            state,
            coordinator: t.coordinator,
            pool: U256::from(t.pool),
            total_blocks: t.totalBlocks,
            min_participants: t.minParticipants,
            start_deadline: t.startDeadline.to::<u64>(),
            finish_deadline: t.finishDeadline.to::<u64>(),
            spec,
        })
    }

    async fn events(&self, task: u64) -> Result<Vec<MemberEvent>> {
        use FederatedMarket::{BlocksBought, MemberJoined, MemberLeft, TaskStarted};
        let signatures = vec![
            MemberJoined::SIGNATURE_HASH,
            MemberLeft::SIGNATURE_HASH,
            BlocksBought::SIGNATURE_HASH,
            TaskStarted::SIGNATURE_HASH,
        ];
        let mut out = Vec::new();
        for log in self.logs(task, signatures).await? {
            let event = match log.topic0() {
                Some(&MemberJoined::SIGNATURE_HASH) => MemberEvent::Joined(decode::<MemberJoined>(&log)?.account),
                Some(&MemberLeft::SIGNATURE_HASH) => MemberEvent::Left(decode::<MemberLeft>(&log)?.account),
                Some(&BlocksBought::SIGNATURE_HASH) => {
                    let b = decode::<BlocksBought>(&log)?;
                    MemberEvent::Bought(b.buyer, b.count)
                }
                Some(&TaskStarted::SIGNATURE_HASH) => MemberEvent::Started,
                _ => continue,
            };
            out.push(event);
        }
        Ok(out)
    }
}

/// The coordinator's transactions, sent through its key's one [`Sender`].
#[derive(Debug, Clone)]
pub struct ChainTaskActions {
    sender: Arc<Sender>,
    market: Address,
}

impl ChainTaskActions {
    /// Sends to the FederatedMarket at `market` with `sender` (the task's coordinator key).
    pub fn new(sender: Arc<Sender>, market: Address) -> Self {
        Self { sender, market }
    }
}

#[async_trait]
impl TaskActions for ChainTaskActions {
    async fn start(&self, task: u64) -> Result<()> {
        let market = FederatedMarket::new(self.market, self.sender.provider());
        self.sender.send(market.start(U256::from(task))).await?;
        Ok(())
    }

    async fn post_rewards(&self, task: u64, root: B256, record_cid: &str) -> Result<()> {
        let market = FederatedMarket::new(self.market, self.sender.provider());
        self.sender.send(market.postRewards(U256::from(task), root, record_cid.to_owned())).await?;
        Ok(())
    }

    async fn post_shares(&self, task: u64, holders: &[Address], shares: &[U256], record_cid: &str) -> Result<()> {
        let market = FederatedMarket::new(self.market, self.sender.provider());
        let call = market.postShares(U256::from(task), holders.to_vec(), shares.to_vec(), record_cid.to_owned());
        self.sender.send(call).await?;
        Ok(())
    }
}
