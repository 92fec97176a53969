//! The indexer: follows the logs of Agora's contracts into the store so that every event is applied
//! exactly once, in chain order, and survives crashes and reorgs.
//!
//! Each step reads the store's cursor (a block number and hash), checks that block is still on the
//! node's canonical chain (else it walks back to the newest common ancestor and rolls the store back
//! to it), then fetches the logs of the next confirmed range and hands them to the store together
//! with the new cursor in one transaction. A range is only accepted if the head of the range has the
//! same hash before and after `eth_getLogs`, its first block's parent is the cursor, and every log
//! names the block hash the headers say — so a reorg racing the fetch makes the step retry instead
//! of storing logs from a dead fork.

#![warn(missing_docs)]

mod decode;
mod settings;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use agora_store::{Batch, BlockRef, IndexedLog, LogMeta, Store};
use alloy::eips::BlockNumberOrTag;
use alloy::primitives::Address;
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::Filter;
use tokio::sync::{broadcast, watch};

pub use decode::decode_log;
pub use settings::IndexerSettings;

/// What can stop one indexer step; [`Indexer::run`] logs it and retries with backoff.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The node could not be reached or answered with a JSON-RPC error.
    #[error("RPC error: {0}")]
    Rpc(#[from] alloy::transports::TransportError),
    /// The database failed.
    #[error("store error: {0}")]
    Store(#[from] agora_store::Error),
    /// The node does not have this block number (yet, or any more).
    #[error("node has no block {0}")]
    MissingBlock(u64),
    /// The node returned a mined log lacking the named field (block number or hash, transaction
    /// hash, log index).
    #[error("node returned a log without {0}")]
    IncompleteLog(&'static str),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which chain and contracts to index, and how eagerly.
#[derive(Debug, Clone)]
pub struct IndexerConfig {
    /// The chain indexed; the store keeps a cursor and logs per chain id.
    pub chain_id: u64,
    /// The contracts whose logs are fetched (ComputeMarket, PaymentChannel, …); other logs are
    /// never seen.
    pub contracts: Vec<Address>,
    /// The first block that may hold logs (the deployment block).
    pub start_block: u64,
    /// Blocks a log must be buried under before it is indexed (0 on the dev chain).
    pub confirmations: u64,
    /// Most blocks fetched in one `eth_getLogs`.
    pub batch_blocks: u64,
    /// Pause between polls when caught up.
    pub poll_interval: Duration,
    /// How far back (in stored blocks) to look for a common ancestor after a reorg.
    pub reorg_lookback: u32,
}

impl IndexerConfig {
    /// A configuration for the dev chain: no confirmations, 500 blocks per `eth_getLogs`, a poll
    /// every 200 ms, reorgs looked back through 1024 stored blocks.
    pub fn new(chain_id: u64, contracts: Vec<Address>, start_block: u64) -> Self {
        Self {
            chain_id,
            contracts,
            start_block,
            confirmations: 0,
            batch_blocks: 500,
            poll_interval: Duration::from_millis(200),
            reorg_lookback: 1024,
        }
    }
}

/// What one step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing new below the confirmation depth.
    Idle {
        /// The block number the store's cursor is at.
        cursor: u64,
    },
    /// Indexed blocks up to `to`; `applied` new logs, `duplicates` already stored.
    Indexed {
        /// The last block of the range, now the cursor.
        to: u64,
        /// Logs stored and applied to derived state for the first time.
        applied: usize,
        /// Logs the store already held (by chain id, transaction hash and log index), skipped.
        duplicates: usize,
    },
    /// The cursor's block left the canonical chain; rolled back to `ancestor`.
    Reorg {
        /// The newest stored block still on the canonical chain (the block before
        /// `start_block` when none is), now the cursor.
        ancestor: u64,
        /// Logs of the abandoned blocks deleted from the store (derived state rebuilt without them).
        removed_logs: u64,
    },
    /// The chain moved while fetching; nothing was written, try again.
    Raced,
}

/// Follows the contracts' logs into the store (see the crate documentation). Live subscribers get
/// each newly applied log.
pub struct Indexer {
    provider: DynProvider,
    store: Store,
    cfg: IndexerConfig,
    events: broadcast::Sender<IndexedLog>,
}

impl Indexer {
    /// An indexer reading the chain through `provider` into `store`; it starts from the store's
    /// cursor, or from `cfg.start_block` when the store has none for the chain.
    pub fn new(provider: DynProvider, store: Store, cfg: IndexerConfig) -> Self {
        let (events, _) = broadcast::channel(1024);
        Self { provider, store, cfg, events }
    }

    /// Newly applied logs, for live updates. Receivers that fall behind miss messages (and can
    /// re-read the store); they never block indexing.
    pub fn subscribe(&self) -> broadcast::Receiver<IndexedLog> {
        self.events.subscribe()
    }

    /// The sender behind [`Indexer::subscribe`], for handing out receivers later (one per client).
    pub fn sender(&self) -> broadcast::Sender<IndexedLog> {
        self.events.clone()
    }

    /// Runs until `shutdown` becomes true. RPC and database errors are logged and retried with
    /// backoff; nothing is skipped.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = Duration::from_millis(100);
        loop {
            if *shutdown.borrow() {
                return;
            }
            let pause = match self.step().await {
                Ok(Step::Idle { .. }) => {
                    backoff = Duration::from_millis(100);
                    self.cfg.poll_interval
                }
                Ok(_) => {
                    backoff = Duration::from_millis(100);
                    Duration::ZERO
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "indexer step failed");
                    let b = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    b
                }
            };
            if !pause.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }

    /// Runs steps until the cursor reaches `block` (tests and one-shot catch-up).
    pub async fn sync_to(&self, block: u64) -> Result<()> {
        loop {
            match self.step().await? {
                Step::Idle { cursor } if cursor >= block => return Ok(()),
                Step::Idle { .. } => tokio::time::sleep(self.cfg.poll_interval).await,
                _ => {}
            }
        }
    }

    async fn header(&self, number: u64) -> Result<BlockRef> {
        let block = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Number(number))
            .await?
            .ok_or(Error::MissingBlock(number))?;
        Ok(BlockRef {
            number,
            hash: block.header.hash.to_string(),
            parent_hash: block.header.parent_hash.to_string(),
            timestamp: block.header.timestamp,
        })
    }

    /// One poll: reorg check, then at most one batch.
    pub async fn step(&self) -> Result<Step> {
        let chain_id = self.cfg.chain_id;
        let cursor = match self.store.cursor(chain_id).await? {
            Some(c) => c,
            None => {
                let start = self.header(self.cfg.start_block.saturating_sub(1)).await?;
                self.store.init_cursor(chain_id, &start).await?
            }
        };
        let at_cursor = self.header(cursor.block_number).await?;
        if at_cursor.hash != cursor.block_hash {
            return self.roll_back(cursor.block_number).await;
        }
        let head = self.provider.get_block_number().await?;
        let target = head.saturating_sub(self.cfg.confirmations);
        if target <= cursor.block_number {
            return Ok(Step::Idle { cursor: cursor.block_number });
        }
        let from = cursor.block_number + 1;
        let to = target.min(cursor.block_number + self.cfg.batch_blocks);

        let last_before = self.header(to).await?;
        let filter = Filter::new().address(self.cfg.contracts.clone()).from_block(from).to_block(to);
        let logs = self.provider.get_logs(&filter).await?;
        let last_after = self.header(to).await?;
        if last_before.hash != last_after.hash {
            return Ok(Step::Raced);
        }

        let mut headers = BTreeMap::new();
        let first = if from == to { last_after.clone() } else { self.header(from).await? };
        if first.parent_hash != cursor.block_hash {
            return Ok(Step::Raced);
        }
        headers.insert(from, first);
        headers.insert(to, last_after);
        let with_logs: BTreeSet<u64> = logs.iter().filter_map(|l| l.block_number).collect();
        for n in with_logs {
            if let std::collections::btree_map::Entry::Vacant(e) = headers.entry(n) {
                e.insert(self.header(n).await?);
            }
        }

        let mut indexed = Vec::with_capacity(logs.len());
        for log in &logs {
            let number = log.block_number.ok_or(Error::IncompleteLog("block number"))?;
            let block_hash = log.block_hash.ok_or(Error::IncompleteLog("block hash"))?;
            let header = &headers[&number];
            if log.removed || header.hash != block_hash.to_string() {
                return Ok(Step::Raced);
            }
            let Some(event) = decode_log(log) else { continue };
            indexed.push(IndexedLog {
                meta: LogMeta {
                    block_number: number,
                    block_hash: header.hash.clone(),
                    block_timestamp: header.timestamp,
                    tx_hash: log.transaction_hash.ok_or(Error::IncompleteLog("transaction hash"))?.to_string(),
                    log_index: log.log_index.ok_or(Error::IncompleteLog("log index"))?,
                    address: log.address().to_string().to_ascii_lowercase(),
                },
                event,
            });
        }

        let batch = Batch {
            chain_id,
            expected_cursor: cursor.block_number,
            blocks: headers.into_values().collect(),
            logs: indexed,
        };
        let outcome = match self.store.apply_batch(&batch).await {
            Ok(o) => o,
            Err(agora_store::Error::CursorMoved { .. }) => return Ok(Step::Raced),
            Err(e) => return Err(e.into()),
        };
        for &i in &outcome.applied {
            let log = &batch.logs[i];
            tracing::info!("New {}", describe(log));
            let _ = self.events.send(log.clone());
        }
        Ok(Step::Indexed { to, applied: outcome.applied.len(), duplicates: outcome.duplicates })
    }

    async fn roll_back(&self, diverged_at: u64) -> Result<Step> {
        let chain_id = self.cfg.chain_id;
        let stored = self.store.recent_blocks(chain_id, self.cfg.reorg_lookback).await?;
        let mut ancestor = None;
        for b in stored.into_iter().filter(|b| b.number < diverged_at) {
            match self.header(b.number).await {
                Ok(h) if h.hash == b.hash => {
                    ancestor = Some(h);
                    break;
                }
                Ok(_) | Err(Error::MissingBlock(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let ancestor = match ancestor {
            Some(a) => a,
            // Nothing we stored survives: start over from the deployment block.
            None => self.header(self.cfg.start_block.saturating_sub(1)).await?,
        };
        let removed_logs = self.store.rollback_to(chain_id, &ancestor).await?;
        tracing::warn!(diverged_at, ancestor = ancestor.number, removed_logs, "Reorg detected: rolled back");
        Ok(Step::Reorg { ancestor: ancestor.number, removed_logs })
    }
}

/// The line a person reads in the log for a newly indexed event.
pub fn describe(log: &IndexedLog) -> String {
    use agora_store::MarketEvent as M;
    match &log.event {
        M::TaskCreated { task_id, user, service_id, amount } => {
            format!("TaskCreated: taskId={task_id} user={user} service={service_id} amount={amount}")
        }
        M::TaskInput { task_id, deadline, input } => {
            format!("TaskInput: taskId={task_id} deadline={deadline} input={input}")
        }
        M::TaskStarted { task_id } => format!("TaskStarted: taskId={task_id}"),
        M::TaskCompleted { task_id, result_hash } => format!("TaskCompleted: taskId={task_id} result={result_hash}"),
        M::TaskFailed { task_id, reason } => format!("TaskFailed: taskId={task_id} reason={reason}"),
        M::TaskRefunded { task_id } => format!("TaskRefunded: taskId={task_id}"),
        M::ServiceListed { service_id, provider, token, price, .. } => {
            format!("ServiceListed: service={service_id} provider={provider} token={token} price={price}")
        }
        M::ServiceUpdated { service_id, price, .. } => format!("ServiceUpdated: service={service_id} price={price}"),
        M::ServiceDelisted { service_id } => format!("ServiceDelisted: service={service_id}"),
        M::ChannelOpened { channel_id, payer, payee, deposit, expiry, .. } => {
            format!("ChannelOpened: channel={channel_id} payer={payer} payee={payee} deposit={deposit} expiry={expiry}")
        }
        M::ChannelToppedUp { channel_id, deposit, .. } => {
            format!("ChannelToppedUp: channel={channel_id} deposit={deposit}")
        }
        M::ChannelExtended { channel_id, expiry } => format!("ChannelExtended: channel={channel_id} expiry={expiry}"),
        M::ChannelClosed { channel_id, paid_to_payee, refunded_to_payer } => {
            format!("ChannelClosed: channel={channel_id} payee+={paid_to_payee} payer+={refunded_to_payer}")
        }
        M::ChannelReclaimed { channel_id, refunded_to_payer } => {
            format!("ChannelReclaimed: channel={channel_id} payer+={refunded_to_payer}")
        }
        M::SellerRegistered { seller, endpoint, .. } => {
            format!("SellerRegistered: seller={seller} endpoint={endpoint}")
        }
        M::SellerUpdated { seller, endpoint, .. } => format!("SellerUpdated: seller={seller} endpoint={endpoint}"),
        M::SellerDeregistered { seller } => format!("SellerDeregistered: seller={seller}"),
        M::OrderOpened { order_id, buyer, seller, price, total_bytes, method, .. } => format!(
            "OrderOpened: order={order_id} buyer={buyer} seller={seller} price={price} bytes={total_bytes} method={method}"
        ),
        M::OrderEnded { order_id, by, received, settle_at } => {
            format!("OrderEnded: order={order_id} by={by} received={received} settleAt={settle_at}")
        }
        M::OrderChallenged { order_id, by, received } => {
            format!("OrderChallenged: order={order_id} by={by} received={received}")
        }
        M::OrderSettled { order_id, received, paid_to_seller, refunded_to_buyer } => format!(
            "OrderSettled: order={order_id} received={received} seller+={paid_to_seller} buyer+={refunded_to_buyer}"
        ),
        M::OrderConfirmedPaid { order_id } => format!("OrderConfirmedPaid: order={order_id}"),
        M::OrderExpired { order_id } => format!("OrderExpired: order={order_id}"),
        M::OrderRated { order_id, rater, rated, score, .. } => {
            format!("OrderRated: order={order_id} rater={rater} rated={rated} score={score}")
        }
        M::Fl(e) => describe_fl(e),
    }
}

/// [`describe`] for a FederatedMarket event.
fn describe_fl(e: &agora_store::FlEvent) -> String {
    use agora_store::FlEvent as F;
    let kind = e.kind();
    let task = e.task_id();
    let what = match e {
        F::TaskCreated { investor, mode, pool, .. } => format!("investor={investor} mode={mode} pool={pool}"),
        F::TaskTerms { block_price, total_blocks, min_participants, .. } => {
            format!("blockPrice={block_price} blocks={total_blocks} minParticipants={min_participants}")
        }
        F::MemberJoined { account, members, .. } => format!("account={account} members={members}"),
        F::MemberLeft { account, members, refunded, .. } => {
            format!("account={account} members={members} refunded={refunded}")
        }
        F::BlocksBought { buyer, count, cost, blocks_sold, .. } => {
            format!("buyer={buyer} count={count} cost={cost} sold={blocks_sold}")
        }
        F::TaskStarted { members, block_payments, .. } => format!("members={members} investor+={block_payments}"),
        F::TaskCancelled { by, state, refunded, .. } => format!("by={by} state={state} investor+={refunded}"),
        F::BlockPaymentRefunded { account, amount, .. } => format!("account={account} amount={amount}"),
        F::RewardsPosted { root, record_cid, .. } => format!("root={root} record={record_cid}"),
        F::SharesPosted { holders, record_cid, .. } => format!("holders={holders} record={record_cid}"),
        F::SharesAssigned { account, shares, .. } => format!("account={account} shares={shares}"),
        F::RewardClaimed { account, amount, .. } => format!("account={account} amount={amount}"),
        F::UnclaimedReclaimed { amount, .. } => format!("investor+={amount}"),
        F::PredictionRequested { request_id, payer, fee, .. } => {
            format!("request={request_id} payer={payer} fee={fee}")
        }
        F::SharesTransferred { from, to, shares, .. } => format!("from={from} to={to} shares={shares}"),
        F::DividendsWithdrawn { account, amount, .. } => format!("account={account} amount={amount}"),
    };
    format!("{kind}: task={task} {what}")
}
