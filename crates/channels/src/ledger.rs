//! The payee's voucher ledger. For every voucher it checks the signature, that the channel is open
//! on chain (as indexed) and, by the chain's clock ([`ChainClock`]), neither past its expiry nor
//! inside the safety margin before it, that the amount stays within the deposit and strictly
//! increases; then it stores the voucher durably and only then acknowledges it. Stores are grouped:
//! one writer task takes every voucher waiting at that moment and commits them in one transaction
//! (group commit), so throughput does not cost durability.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use agora_store::{ChannelState, MarketEvent, NewChunk, NewVoucher, Store};
use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::sol_types::SolCall;
use tokio::sync::{mpsc, oneshot};

use crate::clock::ChainClock;
use crate::voucher::{SignatureError, VoucherDomain};

/// Why a voucher was refused. Nothing is stored for a refused voucher.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoucherError {
    /// The indexer has not seen the channel open.
    #[error("no channel {0} is known on chain")]
    UnknownChannel(B256),
    /// The channel pays someone this node does not collect for.
    #[error("channel {channel} pays {payee}, which this node does not collect for")]
    NotPayee {
        /// The channel.
        channel: B256,
        /// Whom it pays.
        payee: Address,
    },
    /// The channel is closed or reclaimed.
    #[error("channel {channel} is {state:?} on chain")]
    NotOpen {
        /// The channel.
        channel: B256,
        /// Its state.
        state: ChannelState,
    },
    /// The channel's expiry has passed (chain time): the payee can no longer close it, so it takes no
    /// voucher; what is left is the payer's `reclaim` of the whole deposit.
    #[error(
        "channel {channel} expired at {expiry} (chain time now {now}): it takes no more vouchers and can no longer be \
         settled by the payee; its payer can reclaim the deposit"
    )]
    Expired {
        /// The channel.
        channel: B256,
        /// Its expiry, unix seconds.
        expiry: u64,
        /// The chain's time the voucher was judged at.
        now: u64,
    },
    /// The channel is within the safety margin of its expiry: it must be settled (or extended by its
    /// payer), not paid into.
    #[error(
        "channel {channel} expires at {expiry}, within the {margin} s safety margin (chain time now {now}): it takes \
         no more vouchers unless its payer extends it"
    )]
    Expiring {
        /// The channel.
        channel: B256,
        /// Its expiry, unix seconds.
        expiry: u64,
        /// The chain's time the voucher was judged at.
        now: u64,
        /// The safety margin, seconds.
        margin: u64,
    },
    /// The voucher's total is above the deposit.
    #[error("voucher for {amount} exceeds the deposit of {deposit}")]
    OverDeposit {
        /// The voucher's total.
        amount: U256,
        /// The channel's deposit.
        deposit: U256,
    },
    /// The voucher's total is not above the highest already accepted (a replay, or a race lost).
    #[error("voucher for {amount} is not above the {accepted} already accepted")]
    Stale {
        /// The voucher's total.
        amount: U256,
        /// The highest total accepted for the channel.
        accepted: U256,
    },
    /// The signature is malformed.
    #[error("bad signature: {0}")]
    BadSignature(#[from] SignatureError),
    /// The signature is someone else's.
    #[error("voucher was signed by {recovered}, not by the channel's signer {expected}")]
    WrongSigner {
        /// The channel's signer.
        expected: Address,
        /// Who signed.
        recovered: Address,
    },
    /// The store failed; nothing was acknowledged.
    #[error("voucher could not be stored: {0}")]
    Storage(String),
}

/// What the ledger checks vouchers against.
#[derive(Debug, Clone)]
pub struct LedgerConfig {
    /// The chain the channels are on.
    pub chain_id: u64,
    /// The `PaymentChannel` contract.
    pub contract: Address,
    /// Payees this node collects for; vouchers of other channels are refused. Empty: any payee.
    pub payees: Vec<Address>,
    /// Vouchers are refused this many seconds before a channel's expiry (it must be settled first).
    pub safety_margin_secs: u64,
    /// Most vouchers committed in one transaction.
    pub max_batch: usize,
    /// A chain reader for channels whose signer is a contract wallet (ERC-1271): a voucher that
    /// does not recover to the signer is then shown to the signer's `isValidSignature`, as the
    /// contract does. `None`: only ECDSA signers. Unless `clock` is given, the ledger's clock also
    /// follows this chain's latest block.
    pub contract_signers: Option<alloy::providers::DynProvider>,
    /// The clock expiry is judged by. `None`: the chain's, following `contract_signers` every
    /// `clock_every` when it is set, else the wall clock.
    pub clock: Option<ChainClock>,
    /// How often the ledger's own clock reads the chain's latest block.
    pub clock_every: Duration,
}

impl LedgerConfig {
    /// Any payee, a 15-minute safety margin, up to 4096 vouchers per commit.
    pub fn new(chain_id: u64, contract: Address) -> Self {
        Self {
            chain_id,
            contract,
            payees: Vec::new(),
            safety_margin_secs: 15 * 60,
            max_batch: 4096,
            contract_signers: None,
            clock: None,
            clock_every: Duration::from_secs(2),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct ChannelInfo {
    signer: Address,
    payee: Address,
    deposit: U256,
    expiry: u64,
    state: ChannelState,
}

/// What the writer commits.
enum WriteReq {
    /// A checked voucher, ordered against its channel's accepted total, then stored.
    Voucher { channel_id: B256, amount: U256, signature: [u8; 65], reply: oneshot::Sender<Result<U256, VoucherError>> },
    /// A chunk the payee bills, recorded before it is sent.
    Chunk { chunk: NewChunk, reply: oneshot::Sender<Result<(), VoucherError>> },
}

/// A handle on the ledger; cheap to clone.
#[derive(Clone)]
pub struct Ledger {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: LedgerConfig,
    domain: VoucherDomain,
    store: Store,
    clock: ChainClock,
    channels: Mutex<HashMap<B256, ChannelInfo>>,
    writer: mpsc::Sender<WriteReq>,
}

/// The wall clock, unix seconds (0 before 1970): when something was recorded, never whether a
/// channel expired (that is [`Ledger::chain_now`]).
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

impl Ledger {
    /// Loads the highest stored voucher of every channel, sets its clock going (it has read the
    /// chain's latest block when this returns, if the chain answered) and starts the writer task.
    pub async fn start(store: Store, cfg: LedgerConfig) -> agora_store::Result<Self> {
        let best: HashMap<B256, U256> = store.best_vouchers(cfg.chain_id).await?.into_iter().collect();
        let clock = match (&cfg.clock, &cfg.contract_signers) {
            (Some(clock), _) => clock.clone(),
            (None, Some(chain)) => ChainClock::follow(chain.clone(), cfg.clock_every).await,
            (None, None) => ChainClock::wall(),
        };
        let (tx, rx) = mpsc::channel(cfg.max_batch * 4);
        tokio::spawn(writer(store.clone(), cfg.chain_id, cfg.max_batch, best, rx));
        let domain = VoucherDomain::new(cfg.chain_id, cfg.contract);
        Ok(Self {
            inner: Arc::new(Inner { cfg, domain, store, clock, channels: Mutex::new(HashMap::new()), writer: tx }),
        })
    }

    /// The clock the ledger judges expiry by.
    pub fn clock(&self) -> &ChainClock {
        &self.inner.clock
    }

    /// The chain's time now (unix seconds), as the ledger judges expiry.
    pub fn chain_now(&self) -> u64 {
        self.inner.clock.now()
    }

    /// The payees this node collects for (empty: any).
    pub fn payees(&self) -> &[Address] {
        &self.inner.cfg.payees
    }

    /// The EIP-712 domain vouchers are checked in.
    pub fn domain(&self) -> &VoucherDomain {
        &self.inner.domain
    }

    /// Forgets what it cached about a channel when the indexer applies one of its events.
    pub fn on_event(&self, event: &MarketEvent) {
        let id = match event {
            MarketEvent::ChannelOpened { channel_id, .. }
            | MarketEvent::ChannelToppedUp { channel_id, .. }
            | MarketEvent::ChannelExtended { channel_id, .. }
            | MarketEvent::ChannelClosed { channel_id, .. }
            | MarketEvent::ChannelReclaimed { channel_id, .. } => channel_id,
            _ => return,
        };
        if let (Ok(id), Ok(mut map)) = (id.parse::<B256>(), self.inner.channels.lock()) {
            map.remove(&id);
        }
    }

    /// Forgets every cached channel (after missed events).
    pub fn forget_all(&self) {
        if let Ok(mut map) = self.inner.channels.lock() {
            map.clear();
        }
    }

    async fn channel(&self, id: B256) -> Result<ChannelInfo, VoucherError> {
        if let Some(info) = self.inner.channels.lock().ok().and_then(|m| m.get(&id).copied()) {
            return Ok(info);
        }
        let row = self
            .inner
            .store
            .channel(self.inner.cfg.chain_id, id)
            .await
            .map_err(|e| VoucherError::Storage(e.to_string()))?
            .ok_or(VoucherError::UnknownChannel(id))?;
        let info = ChannelInfo {
            signer: row.signer,
            payee: row.payee,
            deposit: row.deposit,
            expiry: row.expiry,
            state: row.state,
        };
        if let Ok(mut map) = self.inner.channels.lock() {
            map.insert(id, info);
        }
        Ok(info)
    }

    /// Checks a voucher and, if it is good, stores it; returns the channel's accepted total.
    pub async fn submit(&self, channel_id: B256, amount: U256, signature: &[u8]) -> Result<U256, VoucherError> {
        self.submit_at(channel_id, amount, signature, self.chain_now()).await
    }

    /// [`Ledger::submit`] with the chain's time given (seconds).
    pub async fn submit_at(
        &self,
        channel_id: B256,
        amount: U256,
        signature: &[u8],
        now: u64,
    ) -> Result<U256, VoucherError> {
        let cfg = &self.inner.cfg;
        let info = self.channel(channel_id).await?;
        if !cfg.payees.is_empty() && !cfg.payees.contains(&info.payee) {
            return Err(VoucherError::NotPayee { channel: channel_id, payee: info.payee });
        }
        if info.state != ChannelState::Open {
            return Err(VoucherError::NotOpen { channel: channel_id, state: info.state });
        }
        if let Some(refusal) = expiry_refusal(channel_id, info.expiry, now, cfg.safety_margin_secs) {
            return Err(refusal);
        }
        if amount > info.deposit {
            return Err(VoucherError::OverDeposit { amount, deposit: info.deposit });
        }
        match self.inner.domain.recover(channel_id, amount, signature) {
            Ok(recovered) if recovered == info.signer => {}
            // Not the signer's ECDSA signature: a contract signer may still approve it (ERC-1271).
            outcome => {
                if !self.contract_approves(info.signer, channel_id, amount, signature).await? {
                    return Err(match outcome {
                        Ok(recovered) => VoucherError::WrongSigner { expected: info.signer, recovered },
                        Err(e) => VoucherError::BadSignature(e),
                    });
                }
            }
        }
        let signature: [u8; 65] = signature.try_into().map_err(|_| SignatureError::Length(signature.len()))?;
        let (reply, answer) = oneshot::channel();
        self.inner
            .writer
            .send(WriteReq::Voucher { channel_id, amount, signature, reply })
            .await
            .map_err(|_| writer_stopped())?;
        answer.await.map_err(|_| writer_stopped())?
    }

    /// Records a chunk of an assistant's reply — what the payee bills, before the chunk is sent —
    /// in the writer's next group commit, with whatever vouchers wait at that moment; returns once
    /// it is durable. The payee's payment path thus has one writer and one transaction per batch:
    /// two writers on one SQLite file would queue on each other's write lock.
    pub async fn record_chunk(&self, chunk: NewChunk) -> Result<(), VoucherError> {
        let (reply, answer) = oneshot::channel();
        self.inner.writer.send(WriteReq::Chunk { chunk, reply }).await.map_err(|_| writer_stopped())?;
        answer.await.map_err(|_| writer_stopped())?
    }
}

/// Why a channel expiring at `expiry` takes no payment at chain time `now` with a safety margin of
/// `margin` seconds, if it does not: past its expiry ([`VoucherError::Expired`]: the contract lets
/// the payer reclaim from `expiry` on and the payee close only before) or inside the margin
/// ([`VoucherError::Expiring`]: its payer may extend it).
pub fn expiry_refusal(channel: B256, expiry: u64, now: u64, margin: u64) -> Option<VoucherError> {
    if now >= expiry {
        Some(VoucherError::Expired { channel, expiry, now })
    } else if now.saturating_add(margin) >= expiry {
        Some(VoucherError::Expiring { channel, expiry, now, margin })
    } else {
        None
    }
}

fn writer_stopped() -> VoucherError {
    VoucherError::Storage("the ledger writer has stopped".into())
}

impl Ledger {
    /// Whether `signer` is a contract that approves `signature` over the voucher's digest
    /// (`isValidSignature` returning its selector). An account without code approves nothing.
    async fn contract_approves(
        &self,
        signer: Address,
        channel_id: B256,
        amount: U256,
        signature: &[u8],
    ) -> Result<bool, VoucherError> {
        let Some(provider) = &self.inner.cfg.contract_signers else { return Ok(false) };
        let unreachable = |e: alloy::transports::TransportError| {
            VoucherError::Storage(format!("cannot ask contract signer {signer} about the voucher: {e}"))
        };
        let code = provider.get_code_at(signer).await.map_err(unreachable)?;
        if code.is_empty() {
            return Ok(false);
        }
        let digest = self.inner.domain.digest(channel_id, amount);
        let wallet = IERC1271::new(signer, provider.clone());
        match wallet.isValidSignature(digest, signature.to_vec().into()).call().await {
            Ok(magic) => Ok(magic == IERC1271::isValidSignatureCall::SELECTOR),
            // A revert is a refusal; only an unreachable node is an error.
            Err(alloy::contract::Error::TransportError(e)) if !e.is_error_resp() => Err(unreachable(e)),
            Err(_) => Ok(false),
        }
    }
}

alloy::sol! {
    #[sol(rpc)]
    interface IERC1271 {
        function isValidSignature(bytes32 hash, bytes signature) external view returns (bytes4 magicValue);
    }
}

/// The single writer: orders vouchers per channel and commits whatever is waiting — vouchers and
/// chunks — in one transaction.
async fn writer(
    store: Store,
    chain_id: u64,
    max_batch: usize,
    mut best: HashMap<B256, U256>,
    mut rx: mpsc::Receiver<WriteReq>,
) {
    let mut batch = Vec::with_capacity(max_batch);
    while rx.recv_many(&mut batch, max_batch).await > 0 {
        // Decide each voucher against what is accepted, including earlier ones of this batch. Only
        // the highest voucher per channel is stored; the batch's others are counted with it.
        let mut pending: HashMap<B256, (U256, [u8; 65], u64)> = HashMap::new();
        let mut vouchers = Vec::with_capacity(batch.len());
        let mut chunks = Vec::new();
        let mut chunk_replies = Vec::new();
        for req in batch.drain(..) {
            match req {
                WriteReq::Voucher { channel_id, amount, signature, reply } => {
                    let accepted = pending.get(&channel_id).map(|p| p.0).or_else(|| best.get(&channel_id).copied());
                    let verdict = match accepted {
                        Some(a) if amount <= a => Err(VoucherError::Stale { amount, accepted: a }),
                        _ => {
                            let count = pending.get(&channel_id).map_or(0, |p| p.2) + 1;
                            pending.insert(channel_id, (amount, signature, count));
                            Ok(amount)
                        }
                    };
                    vouchers.push((reply, verdict));
                }
                WriteReq::Chunk { chunk, reply } => {
                    chunks.push(chunk);
                    chunk_replies.push(reply);
                }
            }
        }
        let keep: Vec<NewVoucher> = pending
            .iter()
            .map(|(id, (amount, sig, count))| NewVoucher {
                channel_id: *id,
                cumulative_amount: *amount,
                signature: *sig,
                count: *count,
            })
            .collect();
        let now = unix_now();
        let (vouchers_stored, chunks_stored): (Result<(), String>, Result<(), String>) =
            match store.store_payments(chain_id, &keep, &chunks, now).await {
                Ok(()) => (Ok(()), Ok(())),
                // One side's failure (a chunk recorded twice, say) must not cost the other: each again alone.
                Err(_) if !keep.is_empty() && !chunks.is_empty() => (
                    store.store_payments(chain_id, &keep, &[], now).await.map_err(|e| e.to_string()),
                    store.store_payments(chain_id, &[], &chunks, now).await.map_err(|e| e.to_string()),
                ),
                Err(e) => (Err(e.to_string()), Err(e.to_string())),
            };
        if let Err(e) = &vouchers_stored {
            tracing::error!(error = %e, "storing vouchers failed; none of them was acknowledged");
        } else {
            best.extend(pending.into_iter().map(|(id, p)| (id, p.0)));
        }
        if let Err(e) = &chunks_stored {
            tracing::error!(error = %e, "recording chunks failed; none of them is sent");
        }
        for (reply, verdict) in vouchers {
            let _ = reply.send(match &vouchers_stored {
                Ok(()) => verdict,
                Err(e) => Err(VoucherError::Storage(e.clone())),
            });
        }
        for reply in chunk_replies {
            let _ = reply.send(chunks_stored.clone().map_err(VoucherError::Storage));
        }
    }
}
