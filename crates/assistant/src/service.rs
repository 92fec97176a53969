//! The assistant: the models on offer and their prices, each channel's account (billed against
//! accepted), and the checks a reply passes before it starts or resumes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agora_channels::{Ledger, VoucherError};

use crate::checks::{BusyGuard, refusal_of};
use agora_llm::{ChatMessage, Model};
use agora_store::{MarketEvent, NewReply, ReplyRow, ReplyStatus, Store};
use alloy::primitives::{Address, B256, U256, keccak256};
use tokio::sync::{mpsc, watch};

use crate::price::Pricing;
use crate::protocol::{ErrorCode, Refusal, SeenPrices, ServerMsg, StartMsg, VoucherMsg};
use crate::reply::{self, Live, Policy, StopReason};
use crate::unix_now;
use crate::writer::ChunkWriter;

/// A model on offer and its prices.
#[derive(Clone)]
pub struct Offer {
    /// The model.
    pub model: Arc<dyn Model>,
    /// Its price list.
    pub pricing: Pricing,
}

/// A model as the API lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
    /// Its id, named in requests.
    pub id: String,
    /// Its context window, in tokens.
    pub context_tokens: u32,
    /// Its prices.
    pub pricing: Pricing,
}

/// How the assistant runs.
#[derive(Debug, Clone)]
pub struct AssistantConfig {
    /// The chain its channels live on.
    pub chain_id: u64,
    /// The payee its channels must pay (the key that settles them).
    pub payee: Address,
    /// Most tokens in one chunk (a chunk holds what was generated while the last voucher was in
    /// flight, at least one token).
    pub chunk_max_tokens: u32,
    /// Most completion tokens a request may ask for.
    pub max_tokens_cap: u32,
    /// How long a reply waits for the voucher of its last chunk before it stops.
    pub payment_timeout: Duration,
    /// Replies are refused this many seconds before a channel's expiry (the ledger's safety margin).
    pub expiry_margin_secs: u64,
}

impl AssistantConfig {
    /// Defaults: 16-token chunks, 1,024 tokens a reply, 5 minutes to pay, 15 minutes' margin.
    pub fn new(chain_id: u64, payee: Address) -> Self {
        Self {
            chain_id,
            payee,
            chunk_max_tokens: 16,
            max_tokens_cap: 1024,
            payment_timeout: Duration::from_secs(300),
            expiry_margin_secs: 15 * 60,
        }
    }
}

/// Who is asking: a signed-in wallet (the page, the CLI), or a program that proved it holds the
/// channel's signer with a voucher (the OpenAI-compatible API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// The SIWE session's address; it must be the channel's payer.
    Wallet(Address),
    /// The voucher that came with the request was checked by the ledger.
    VoucherHolder,
}

/// The assistant; cheap to clone.
#[derive(Clone)]
pub struct Assistant {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) cfg: AssistantConfig,
    offers: HashMap<String, Offer>,
    pub(crate) store: Store,
    pub(crate) ledger: Ledger,
    pub(crate) writer: ChunkWriter,
    /// Each channel's accepted total as the ledger last answered it; replies wait on it.
    accepted: Mutex<HashMap<B256, watch::Sender<U256>>>,
    /// The reply streaming on each channel.
    pub(crate) busy: Mutex<HashMap<B256, String>>,
    /// Replies with a running task, by request id.
    pub(crate) live: Mutex<HashMap<String, Arc<Live>>>,
}

/// Raises a channel's accepted total to `to` (it never goes down), waking replies waiting on it.
fn raise(tx: &watch::Sender<U256>, to: U256) {
    tx.send_if_modified(|a| {
        let up = to > *a;
        if up {
            *a = to;
        }
        up
    });
}

pub(crate) fn internal(e: impl std::fmt::Display) -> Refusal {
    Refusal::new(ErrorCode::Internal, format!("the node could not read or record its state: {e}"))
}

fn request_hash(msg: &StartMsg) -> B256 {
    let canonical = serde_json::json!([msg.channel_id, msg.model, msg.messages, msg.max_tokens, msg.prices]);
    keccak256(canonical.to_string())
}

impl Assistant {
    /// An assistant offering `offers`, paid through `ledger`'s channels.
    pub fn new(store: Store, ledger: Ledger, offers: Vec<Offer>, cfg: AssistantConfig) -> Self {
        let writer = ChunkWriter::new(ledger.clone());
        let offers = offers.into_iter().map(|o| (o.model.id().to_string(), o)).collect();
        Self {
            inner: Arc::new(Inner {
                cfg,
                offers,
                store,
                ledger,
                writer,
                accepted: Mutex::new(HashMap::new()),
                busy: Mutex::new(HashMap::new()),
                live: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// How it runs.
    pub fn config(&self) -> &AssistantConfig {
        &self.inner.cfg
    }

    /// The store it records into.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The models on offer, by id.
    pub fn models(&self) -> Vec<ModelInfo> {
        let mut list: Vec<ModelInfo> = self
            .inner
            .offers
            .values()
            .map(|o| ModelInfo {
                id: o.model.id().to_string(),
                context_tokens: o.model.context_tokens(),
                pricing: o.pricing,
            })
            .collect();
        list.sort_by(|a, b| a.id.cmp(&b.id));
        list
    }

    /// The offer named `model`.
    pub fn offer(&self, model: &str) -> Result<&Offer, Refusal> {
        self.inner.offers.get(model).ok_or_else(|| {
            let known: Vec<&str> = self.inner.offers.keys().map(String::as_str).collect();
            Refusal::new(ErrorCode::UnknownModel, format!("no model {model:?} here; models: {}", known.join(", ")))
        })
    }

    async fn accepted_rx(&self, channel_id: B256) -> Result<watch::Receiver<U256>, Refusal> {
        if let Some(tx) = self.inner.accepted.lock().map_err(internal)?.get(&channel_id) {
            return Ok(tx.subscribe());
        }
        let stored = self.inner.store.accepted_voucher(self.inner.cfg.chain_id, channel_id).await.map_err(internal)?;
        let mut map = self.inner.accepted.lock().map_err(internal)?;
        let tx = map.entry(channel_id).or_insert_with(|| watch::channel(stored).0);
        raise(tx, stored);
        Ok(tx.subscribe())
    }

    /// What the ledger accepted for `channel_id` so far.
    pub async fn accepted(&self, channel_id: B256) -> Result<U256, Refusal> {
        Ok(*self.accepted_rx(channel_id).await?.borrow())
    }

    /// Holds `channel_id`'s one slot for `holder` (a prediction's idempotency key) until the guard is
    /// dropped: refused with `busy` while a reply streams on it. Whoever bills the channel besides the
    /// assistant takes it, so the billed total never moves under a streaming reply.
    pub fn hold_channel(&self, channel_id: B256, holder: &str) -> Result<BusyGuard, Refusal> {
        BusyGuard::take(self, channel_id, holder)
    }

    /// What the assistant billed `channel_id` so far (with whatever else billed the channel: the
    /// account is the channel's).
    pub async fn billed(&self, channel_id: B256) -> Result<U256, Refusal> {
        self.inner.store.assistant_billed(self.inner.cfg.chain_id, channel_id).await.map_err(internal)
    }

    /// Hands a voucher to the ledger; returns the channel's accepted total. The same voucher twice
    /// is harmless: an amount equal to the accepted one (a valid signature, checked by the ledger)
    /// is answered with the accepted total.
    pub async fn pay(&self, channel_id: B256, amount: U256, signature: &str) -> Result<U256, Refusal> {
        let not_hex = || Refusal::new(ErrorCode::VoucherRefused, "the voucher's signature is not hex");
        // An ECDSA signature (65 bytes) is decoded on the stack; a contract signer's may be longer.
        let mut ecdsa = [0u8; 65];
        let sig: std::borrow::Cow<'_, [u8]> =
            if signature.strip_prefix("0x").unwrap_or(signature).len() == 2 * ecdsa.len() {
                alloy::primitives::hex::decode_to_slice(signature, &mut ecdsa).map_err(|_| not_hex())?;
                std::borrow::Cow::Borrowed(&ecdsa)
            } else {
                std::borrow::Cow::Owned(alloy::primitives::hex::decode(signature).map_err(|_| not_hex())?)
            };
        let accepted = match self.inner.ledger.submit(channel_id, amount, &sig).await {
            Ok(accepted) => accepted,
            Err(VoucherError::Stale { amount, accepted }) if amount == accepted => accepted,
            Err(e) => return Err(refusal_of(e)),
        };
        // Raise the channel's watch (loaded from the store first if it has none yet): replies
        // waiting on it send their next chunk.
        if let Some(tx) = self.inner.accepted.lock().map_err(internal)?.get(&channel_id) {
            raise(tx, accepted);
            return Ok(accepted);
        }
        self.accepted_rx(channel_id).await?;
        if let Some(tx) = self.inner.accepted.lock().map_err(internal)?.get(&channel_id) {
            raise(tx, accepted);
        }
        Ok(accepted)
    }

    /// Pays for a reply (the voucher message of the conversation): the voucher goes to the reply's
    /// channel. A refused voucher also stops the reply, with the ledger's reason.
    pub async fn pay_reply(
        &self,
        caller: Caller,
        request_id: &str,
        amount: U256,
        signature: &str,
    ) -> Result<U256, Refusal> {
        let live = self.inner.live.lock().map_err(internal)?.get(request_id).cloned();
        let (channel_id, payer) = match &live {
            Some(l) => (l.channel_id, l.payer),
            None => {
                let row = self.reply(request_id).await?.ok_or_else(|| {
                    Refusal::new(ErrorCode::UnknownRequest, format!("no reply {request_id} is known here"))
                })?;
                (row.channel_id, row.payer)
            }
        };
        if let Caller::Wallet(who) = caller
            && who != payer
        {
            return Err(Refusal::new(ErrorCode::NotYourChannel, "this reply is paid by another wallet"));
        }
        match self.pay(channel_id, amount, signature).await {
            Ok(accepted) => Ok(accepted),
            Err(refusal) => {
                if let Some(l) = live {
                    l.stop(StopReason::Refused(refusal.clone()));
                }
                Err(refusal)
            }
        }
    }

    /// Stops the live replies of a channel the chain closed (fed with the indexer's applied logs).
    pub fn on_event(&self, event: &MarketEvent) {
        let channel = match event {
            MarketEvent::ChannelClosed { channel_id, .. } | MarketEvent::ChannelReclaimed { channel_id, .. } => {
                channel_id
            }
            _ => return,
        };
        let Ok(channel) = channel.to_string().parse::<B256>() else { return };
        let live: Vec<Arc<Live>> = match self.inner.live.lock() {
            Ok(map) => map.values().filter(|l| l.channel_id == channel).cloned().collect(),
            Err(_) => return,
        };
        for l in live {
            l.stop(StopReason::ChannelClosed);
        }
    }

    /// Starts a reply (or resumes it when `msg.request_id` is known and the request is the same);
    /// its messages go to `out`.
    pub async fn start(&self, caller: Caller, msg: StartMsg, out: mpsc::Sender<ServerMsg>) -> Result<(), Refusal> {
        self.start_with(caller, msg, out, Policy::PerChunk, "ws").await
    }

    pub(crate) async fn start_with(
        &self,
        caller: Caller,
        msg: StartMsg,
        out: mpsc::Sender<ServerMsg>,
        policy: Policy,
        via: &'static str,
    ) -> Result<(), Refusal> {
        let cfg = &self.inner.cfg;
        if msg.request_id.is_empty() || msg.request_id.len() > 64 {
            return Err(Refusal::new(ErrorCode::BadMessage, "requestId must be 1 to 64 characters"));
        }
        if msg.messages.is_empty() {
            return Err(Refusal::new(ErrorCode::BadMessage, "messages is empty"));
        }
        if msg.max_tokens == 0 || msg.max_tokens > cfg.max_tokens_cap {
            return Err(Refusal::new(
                ErrorCode::BadMessage,
                format!("maxTokens must be 1 to {}, not {}", cfg.max_tokens_cap, msg.max_tokens),
            ));
        }
        let hash = request_hash(&msg);
        if let Some(row) = self.inner.store.assistant_reply(cfg.chain_id, &msg.request_id).await.map_err(internal)? {
            if row.request_hash != hash {
                return Err(Refusal::new(
                    ErrorCode::IdempotencyConflict,
                    format!("request id {} was used for another request", msg.request_id),
                ));
            }
            return self.resume(caller, &msg.request_id, 0, msg.voucher, out).await;
        }
        let offer = self.offer(&msg.model)?.clone();
        let seen = SeenPrices { prompt: offer.pricing.prompt_per_1k, completion: offer.pricing.completion_per_1k };
        if msg.prices != seen {
            return Err(Refusal::new(
                ErrorCode::TermsChanged,
                format!(
                    "{} now costs {} per 1,000 prompt tokens and {} per 1,000 completion tokens; nothing was charged",
                    msg.model, seen.prompt, seen.completion
                ),
            ));
        }
        let channel = self.usable_channel(caller, msg.channel_id).await?;
        if channel.token != offer.pricing.token {
            return Err(Refusal::new(
                ErrorCode::TermsChanged,
                format!(
                    "{} is priced in token {}, the channel holds {}",
                    msg.model, offer.pricing.token, channel.token
                ),
            ));
        }
        if let Some(v) = &msg.voucher {
            self.pay(msg.channel_id, v.amount, &v.signature).await?;
        }
        let guard = BusyGuard::take(self, msg.channel_id, &msg.request_id)?;
        let accepted = self.accepted(msg.channel_id).await?;
        let billed = self.billed(msg.channel_id).await?;
        if accepted < billed {
            return Err(Refusal {
                owed: Some(billed),
                ..Refusal::new(
                    ErrorCode::Owed,
                    format!(
                        "the channel owes {billed} for earlier replies and {accepted} is paid: sign a voucher for {billed} first"
                    ),
                )
            });
        }
        let prompt_tokens =
            offer.model.count_prompt(&msg.messages).await.map_err(|e| Refusal::new(ErrorCode::Model, e.to_string()))?;
        let max_cost = offer.pricing.cost(prompt_tokens, msg.max_tokens);
        let needed = billed.saturating_add(max_cost);
        if needed > channel.deposit {
            return Err(Refusal {
                owed: Some(needed),
                deposit: Some(channel.deposit),
                ..Refusal::new(
                    ErrorCode::DepositSpent,
                    format!(
                        "this reply may cost up to {max_cost}; with {billed} already billed the channel needs {needed}, \
                         its deposit is {}: top it up by {} or ask for fewer tokens",
                        channel.deposit,
                        needed - channel.deposit
                    ),
                )
            });
        }
        self.supersede_interrupted(msg.channel_id).await?;
        let now = unix_now();
        let new = NewReply {
            request_id: msg.request_id.clone(),
            channel_id: msg.channel_id,
            payer: channel.payer,
            model: msg.model.clone(),
            request_hash: hash,
            messages: serde_json::to_string(&msg.messages).map_err(internal)?,
            max_tokens: msg.max_tokens,
            prompt_per_1k: offer.pricing.prompt_per_1k,
            completion_per_1k: offer.pricing.completion_per_1k,
            base: billed,
            prompt_tokens,
            via,
        };
        let (row, inserted) = self.inner.store.begin_reply(cfg.chain_id, &new, now).await.map_err(internal)?;
        if !inserted {
            return Err(Refusal::new(ErrorCode::IdempotencyConflict, "the same request id is starting elsewhere"));
        }
        self.inner.store.touch_assistant_user(channel.payer, now).await.map_err(internal)?;
        let _ = out
            .send(ServerMsg::Started { request_id: row.request_id.clone(), base: billed, prompt_tokens, max_cost })
            .await;
        let accepted_rx = self.accepted_rx(msg.channel_id).await?;
        reply::spawn(self.clone(), offer, row, Vec::new(), msg.messages, out, accepted_rx, policy, guard);
        Ok(())
    }

    /// Reattaches `out` to a reply: replays the chunks after `received`, then goes on (a reply whose
    /// task died with the node is generated again from what was delivered).
    pub async fn resume(
        &self,
        caller: Caller,
        request_id: &str,
        received: u32,
        voucher: Option<VoucherMsg>,
        out: mpsc::Sender<ServerMsg>,
    ) -> Result<(), Refusal> {
        let chain_id = self.inner.cfg.chain_id;
        let row =
            self.inner.store.assistant_reply(chain_id, request_id).await.map_err(internal)?.ok_or_else(|| {
                Refusal::new(ErrorCode::UnknownRequest, format!("no reply {request_id} is known here"))
            })?;
        if let Caller::Wallet(who) = caller
            && who != row.payer
        {
            return Err(Refusal::new(ErrorCode::NotYourChannel, "this reply is paid by another wallet"));
        }
        if let Some(v) = voucher {
            let accepted = self.pay(row.channel_id, v.amount, &v.signature).await?;
            let _ = out.send(ServerMsg::Paid { request_id: request_id.to_string(), accepted }).await;
        }
        let live = self.inner.live.lock().map_err(internal)?.get(request_id).cloned();
        if let Some(live) = live {
            return live.attach(&self.inner.store, chain_id, received, out).await.map_err(internal);
        }
        let chunks = self.inner.store.reply_chunks(chain_id, request_id, 0).await.map_err(internal)?;
        for c in chunks.iter().filter(|c| c.seq > received) {
            let _ = out.send(reply::chunk_msg(c)).await;
        }
        if row.status != ReplyStatus::Running {
            let _ = out.send(reply::ended_msg(&row)).await;
            return Ok(());
        }
        // The node restarted during this reply: generate the rest from what was delivered.
        let offer = self.offer(&row.model)?.clone();
        let guard = BusyGuard::take(self, row.channel_id, request_id)?;
        let messages: Vec<ChatMessage> = serde_json::from_str(&row.messages).map_err(internal)?;
        let accepted_rx = self.accepted_rx(row.channel_id).await?;
        reply::spawn(self.clone(), offer, row, chunks, messages, out, accepted_rx, Policy::PerChunk, guard);
        Ok(())
    }

    /// Stops a reply; what was delivered stays billed.
    pub fn stop(&self, caller: Caller, request_id: &str) -> Result<(), Refusal> {
        let live = self.inner.live.lock().map_err(internal)?.get(request_id).cloned();
        match live {
            Some(l) if caller == Caller::VoucherHolder || caller == Caller::Wallet(l.payer) => {
                l.stop(StopReason::Payer);
                Ok(())
            }
            Some(_) => Err(Refusal::new(ErrorCode::NotYourChannel, "this reply is paid by another wallet")),
            None => Err(Refusal::new(ErrorCode::UnknownRequest, format!("no reply {request_id} is streaming"))),
        }
    }

    /// The stored reply `request_id`, if there is one.
    pub async fn reply(&self, request_id: &str) -> Result<Option<ReplyRow>, Refusal> {
        self.inner.store.assistant_reply(self.inner.cfg.chain_id, request_id).await.map_err(internal)
    }

    /// Replies of this channel left running by a restart and never resumed end when a new one
    /// starts (what they delivered stays billed).
    async fn supersede_interrupted(&self, channel_id: B256) -> Result<(), Refusal> {
        let chain_id = self.inner.cfg.chain_id;
        for r in self.inner.store.channel_replies(chain_id, channel_id, 20).await.map_err(internal)? {
            if r.status == ReplyStatus::Running {
                self.inner
                    .store
                    .finish_reply(chain_id, &r.request_id, ReplyStatus::Stopped, "superseded", unix_now())
                    .await
                    .map_err(internal)?;
            }
        }
        Ok(())
    }
}
