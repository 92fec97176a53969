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
//!
//! The contracts' logs are decoded by the contract that emitted them where signatures collide
//! (Communities' `MemberJoined` is FederatedMarket's, byte for byte): [`IndexerConfig`] names the
//! TaskBoard and Communities. Communities' points tokens are clones created at run time; their
//! `Transfer` logs come from a second `eth_getLogs` over the same range (see [`Indexer::step`]).

#![warn(missing_docs)]

mod decode;
mod decode_board;
mod describe;
mod settings;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use agora_store::{Batch, BlockRef, CommunityEvent, IndexedLog, LogMeta, MarketEvent, Store};
use alloy::eips::BlockNumberOrTag;
use alloy::primitives::Address;
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::Filter;
use tokio::sync::{broadcast, watch};

pub use decode::decode_log;
pub use decode_board::{decode_board_log, decode_community_log, decode_points_log};
pub use describe::describe;
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
    /// The TaskBoard among `contracts`, whose logs are decoded as its own (`None`: not indexed as
    /// such; its logs then decode as nothing).
    pub task_board: Option<Address>,
    /// The Communities contract among `contracts`, whose logs are decoded as its own and whose
    /// `CommunityCreated` names the points tokens followed beside it.
    pub communities: Option<Address>,
}

impl IndexerConfig {
    /// A configuration for the dev chain: no confirmations, 500 blocks per `eth_getLogs`, a poll
    /// every 200 ms, reorgs looked back through 1024 stored blocks. It names no TaskBoard or
    /// Communities: for a deployment that has them use [`IndexerConfig::for_deployments`], or
    /// Communities' logs are read by signature alone (and its `MemberJoined` is FederatedMarket's).
    pub fn new(chain_id: u64, contracts: Vec<Address>, start_block: u64) -> Self {
        Self {
            chain_id,
            contracts,
            start_block,
            confirmations: 0,
            batch_blocks: 500,
            poll_interval: Duration::from_millis(200),
            reorg_lookback: 1024,
            task_board: None,
            communities: None,
        }
    }

    /// [`IndexerConfig::new`] for every contract of a deployment, the TaskBoard and Communities
    /// named as such.
    pub fn for_deployments(d: &agora_chain::deploy::Deployments) -> Self {
        Self {
            task_board: d.task_board,
            communities: d.communities,
            ..Self::new(d.chain_id, d.indexed_contracts(), d.deploy_block)
        }
    }
}

/// How many addresses one `eth_getLogs` for points tokens names (public endpoints cap the list).
const TOKENS_PER_QUERY: usize = 256;

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
    reorgs: broadcast::Sender<u64>,
}

impl Indexer {
    /// An indexer reading the chain through `provider` into `store`; it starts from the store's
    /// cursor, or from `cfg.start_block` when the store has none for the chain.
    pub fn new(provider: DynProvider, store: Store, cfg: IndexerConfig) -> Self {
        let (events, _) = broadcast::channel(1024);
        let (reorgs, _) = broadcast::channel(64);
        Self { provider, store, cfg, events, reorgs }
    }

    /// Newly applied logs, for live updates. Receivers that fall behind miss messages (and can
    /// re-read the store); they never block indexing.
    pub fn subscribe(&self) -> broadcast::Receiver<IndexedLog> {
        self.events.subscribe()
    }

    /// Reorgs as they are rolled back: the block the store now ends at. What was read from the store
    /// (a cached list, a page) may hold rows of the abandoned fork that no applied log will replace.
    pub fn subscribe_reorgs(&self) -> broadcast::Receiver<u64> {
        self.reorgs.subscribe()
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
        let mut logs = self.provider.get_logs(&filter).await?;
        let tokens = self.points_tokens(&logs).await?;
        if !tokens.is_empty() {
            logs.extend(self.points_logs(&tokens, from, to).await?);
            // One stream in chain order, as the store applies it.
            logs.sort_by_key(|l| (l.block_number, l.log_index));
        }
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
            let Some(event) = self.decode(log, &tokens) else { continue };
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

    /// A log as its contract's event: the TaskBoard's and Communities' by their own ABI, a points
    /// token's `Transfer` with the community it belongs to, the other contracts' by [`decode_log`].
    fn decode(&self, log: &alloy::rpc::types::Log, tokens: &BTreeMap<Address, u64>) -> Option<MarketEvent> {
        let address = log.address();
        if Some(address) == self.cfg.task_board {
            decode_board_log(log).map(MarketEvent::Board)
        } else if Some(address) == self.cfg.communities {
            decode_community_log(log).map(MarketEvent::Community)
        } else if let Some(&community_id) = tokens.get(&address) {
            decode_points_log(log, community_id).map(MarketEvent::Community)
        } else {
            decode_log(log)
        }
    }

    /// The points tokens whose `Transfer` logs belong to this range: those of the communities the
    /// store knows at the cursor, and those created by `logs` (the range's own `CommunityCreated`).
    ///
    /// Why index the tokens' `Transfer` logs rather than derive balances from `PointsMinted`: a
    /// community may turn transfers on, and then members move points without Communities hearing
    /// of it; the token's own logs are the only complete record, and summing them gives `balanceOf`
    /// exactly (a mint is a `Transfer` from the zero address). Reorgs need nothing of their own:
    /// both fetches run between the two reads of the range's head hash, so a reorg during them
    /// makes the step retry; the token list read from the store is derived state at the cursor,
    /// rolled back with everything else; and a token created inside the range comes from that
    /// range's logs, so a token on a dead fork is never followed.
    async fn points_tokens(&self, logs: &[alloy::rpc::types::Log]) -> Result<BTreeMap<Address, u64>> {
        let Some(communities) = self.cfg.communities else { return Ok(BTreeMap::new()) };
        let mut tokens: BTreeMap<Address, u64> =
            self.store.community_points_tokens(self.cfg.chain_id).await?.into_iter().collect();
        for log in logs.iter().filter(|l| l.address() == communities) {
            if let Some(CommunityEvent::CommunityCreated { community_id, points_token, .. }) = decode_community_log(log)
                && let Ok(token) = points_token.parse()
            {
                tokens.insert(token, community_id);
            }
        }
        Ok(tokens)
    }

    /// The `Transfer` logs of `tokens` in blocks `from..=to`, a bounded list of addresses per query.
    async fn points_logs(
        &self,
        tokens: &BTreeMap<Address, u64>,
        from: u64,
        to: u64,
    ) -> Result<Vec<alloy::rpc::types::Log>> {
        let addresses: Vec<Address> = tokens.keys().copied().collect();
        let mut logs = Vec::new();
        for chunk in addresses.chunks(TOKENS_PER_QUERY) {
            let filter = Filter::new()
                .address(chunk.to_vec())
                .event_signature(decode_board::POINTS_TRANSFER)
                .from_block(from)
                .to_block(to);
            logs.extend(self.provider.get_logs(&filter).await?);
        }
        Ok(logs)
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
        // Nobody listening is fine.
        let _ = self.reorgs.send(ancestor.number);
        Ok(Step::Reorg { ancestor: ancestor.number, removed_logs })
    }
}
