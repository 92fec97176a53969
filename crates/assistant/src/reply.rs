//! One reply's task: reads the model's pieces as they come, and whenever the previous chunk is
//! paid, records the next chunk (what was generated meanwhile, up to the chunk size) and sends it.
//! Generation never waits for payment (the model serves the next reply meanwhile); delivery never
//! runs ahead of payment by more than one chunk.

use std::collections::VecDeque;
use std::sync::Arc;

use agora_llm::{ChatMessage, Finish, Generation, Piece};
use agora_store::{ChunkRow, NewChunk, ReplyRow, ReplyStatus, Store};
use alloy::primitives::{Address, B256, U256};
use tokio::sync::{Mutex, mpsc, watch};
use tokio::time::Instant;

use crate::checks::BusyGuard;
use crate::price::Pricing;
use crate::protocol::{ErrorCode, FinishReason, Refusal, ServerMsg};
use crate::service::{Assistant, Offer};
use crate::unix_now;

/// When a chunk may be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Policy {
    /// After the previous chunk's voucher (the page, the CLI).
    PerChunk,
    /// At once: the whole reply is on credit, paid by the next request's voucher (the OpenAI API,
    /// whose reply is bounded by `max_tokens` and the deposit).
    Credit,
}

/// Why a reply is being stopped from outside its task.
#[derive(Debug, Clone)]
pub(crate) enum StopReason {
    /// The payer asked.
    Payer,
    /// The channel was closed or reclaimed on chain.
    ChannelClosed,
    /// The ledger refused a voucher for it.
    Refused(Refusal),
}

/// A reply whose task is running.
pub(crate) struct Live {
    pub(crate) request_id: String,
    pub(crate) channel_id: B256,
    pub(crate) payer: Address,
    out: Mutex<mpsc::Sender<ServerMsg>>,
    stop: watch::Sender<Option<StopReason>>,
}

impl Live {
    /// Asks the task to stop (the first reason wins).
    pub(crate) fn stop(&self, reason: StopReason) {
        self.stop.send_if_modified(|s| {
            let first = s.is_none();
            if first {
                *s = Some(reason);
            }
            first
        });
    }

    /// Sends the recorded chunks after `received` to `out`, then makes `out` the reply's outlet.
    pub(crate) async fn attach(
        &self,
        store: &Store,
        chain_id: u64,
        received: u32,
        out: mpsc::Sender<ServerMsg>,
    ) -> agora_store::Result<()> {
        let mut current = self.out.lock().await;
        for c in store.reply_chunks(chain_id, &self.request_id, received).await? {
            let _ = out.send(chunk_msg(&c)).await;
        }
        *current = out;
        Ok(())
    }

    async fn send(&self, msg: ServerMsg) {
        // A closed outlet means the client went away; the chunk is recorded and will be replayed.
        let _ = self.out.lock().await.send(msg).await;
    }
}

/// A recorded chunk as the protocol sends it.
pub(crate) fn chunk_msg(c: &ChunkRow) -> ServerMsg {
    ServerMsg::Chunk {
        request_id: c.request_id.clone(),
        seq: c.seq,
        text: c.text.clone(),
        tokens: c.tokens,
        cost: c.cost,
        cumulative: c.cumulative,
    }
}

/// The message that says how a finished reply ended.
pub(crate) fn ended_msg(row: &ReplyRow) -> ServerMsg {
    let finish = row.finish.as_deref().unwrap_or("stopped");
    match FinishReason::parse(finish) {
        Some(finish) => ServerMsg::Done {
            request_id: row.request_id.clone(),
            finish,
            prompt_tokens: row.prompt_tokens,
            completion_tokens: row.completion_tokens,
            cost: row.cost,
            cumulative: row.base + row.cost,
        },
        None => {
            let code =
                serde_json::from_value(serde_json::Value::String(finish.to_string())).unwrap_or(ErrorCode::Internal);
            Refusal::new(code, format!("this reply ended early: {finish}")).to_msg(Some(row.request_id.clone()))
        }
    }
}

/// Starts the task of `row`, which already delivered `chunks`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn spawn(
    assistant: Assistant,
    offer: Offer,
    row: ReplyRow,
    chunks: Vec<ChunkRow>,
    messages: Vec<ChatMessage>,
    out: mpsc::Sender<ServerMsg>,
    accepted: watch::Receiver<U256>,
    policy: Policy,
    busy: BusyGuard,
) {
    let (stop, _) = watch::channel(None);
    let live = Arc::new(Live {
        request_id: row.request_id.clone(),
        channel_id: row.channel_id,
        payer: row.payer,
        out: Mutex::new(out),
        stop,
    });
    if let Ok(mut map) = assistant.inner.live.lock() {
        map.insert(row.request_id.clone(), live.clone());
    }
    tokio::spawn(async move {
        let task = Task { assistant, live, row, policy, busy: Some(busy) };
        task.run(offer, chunks, messages, accepted).await;
    });
}

struct Task {
    assistant: Assistant,
    live: Arc<Live>,
    row: ReplyRow,
    policy: Policy,
    /// The channel's streaming slot, released before the last message goes out.
    busy: Option<BusyGuard>,
}

/// How a reply's task ended.
enum End {
    Finished(Finish),
    Stopped(StopReason),
    Failed(Refusal),
}

impl Task {
    async fn run(
        mut self,
        offer: Offer,
        chunks: Vec<ChunkRow>,
        messages: Vec<ChatMessage>,
        mut accepted: watch::Receiver<U256>,
    ) {
        let cfg = self.assistant.inner.cfg.clone();
        let pricing = Pricing {
            token: offer.pricing.token,
            prompt_per_1k: self.row.prompt_per_1k,
            completion_per_1k: self.row.completion_per_1k,
        };
        let mut seq = chunks.last().map_or(0, |c| c.seq);
        let mut completion = self.row.completion_tokens;
        // What must be paid before the next chunk goes out.
        let mut owed = chunks.last().map_or(self.row.base, |c| c.cumulative);
        let remaining = self.row.max_tokens.saturating_sub(completion);
        let generation = Generation {
            messages,
            max_tokens: remaining,
            continue_from: chunks.iter().map(|c| c.text.as_str()).collect(),
        };
        let mut stop = self.live.stop.subscribe();
        let mut pieces = if remaining == 0 {
            None
        } else {
            match offer.model.generate(generation).await {
                Ok(rx) => Some(rx),
                Err(e) => {
                    return self.end(End::Failed(Refusal::new(ErrorCode::Model, e.to_string())), owed).await;
                }
            }
        };
        let mut finished = if remaining == 0 { Some(Finish::Length) } else { None };
        // Generated and not yet sent. The model is read as fast as it generates (so its slot is free
        // for the next reply even while this payer takes its time); delivery waits for payment.
        let mut queue: VecDeque<(String, u32)> = VecDeque::new();
        // One timer for the whole reply, moved on with each chunk sent (not a new one per wake-up).
        let timeout = tokio::time::sleep(cfg.payment_timeout);
        tokio::pin!(timeout);
        let end = 'reply: loop {
            // Whatever else the model produced meanwhile, taken without another turn of the select.
            while finished.is_none()
                && let Some(piece) = pieces.as_mut().and_then(|rx| rx.try_recv().ok())
            {
                match piece {
                    Ok(Piece::Text { text, tokens }) => queue.push_back((text, tokens)),
                    Ok(Piece::Done { finish, .. }) => finished = Some(finish),
                    Err(e) => break 'reply End::Failed(Refusal::new(ErrorCode::Model, e.to_string())),
                }
            }
            let paid = self.policy == Policy::Credit || *accepted.borrow() >= owed;
            if paid && !queue.is_empty() {
                let (mut text, mut tokens) = (String::new(), 0u32);
                while let Some((t, n)) = queue.front() {
                    if tokens > 0 && tokens + n > cfg.chunk_max_tokens {
                        break;
                    }
                    text.push_str(t);
                    tokens += n;
                    queue.pop_front();
                }
                seq += 1;
                completion += tokens;
                let cost = pricing.cost(self.row.prompt_tokens, completion);
                let chunk = NewChunk {
                    request_id: self.row.request_id.clone(),
                    channel_id: self.row.channel_id,
                    seq,
                    text,
                    tokens,
                    cost,
                    cumulative: self.row.base + cost,
                };
                let msg = chunk_msg(&chunk);
                let cumulative = chunk.cumulative;
                if let Err(e) = self.assistant.inner.writer.record(chunk).await {
                    break End::Failed(Refusal::new(
                        ErrorCode::Internal,
                        format!("the chunk could not be recorded: {e}"),
                    ));
                }
                owed = cumulative;
                timeout.as_mut().reset(Instant::now() + cfg.payment_timeout);
                self.live.send(msg).await;
                continue;
            }
            if paid && let Some(f) = finished {
                break End::Finished(f);
            }
            let want_piece = finished.is_none();
            tokio::select! {
                biased;
                _ = stop.changed() => {
                    let reason = stop.borrow().clone().unwrap_or(StopReason::Payer);
                    break End::Stopped(reason);
                }
                changed = accepted.changed(), if !paid => {
                    if changed.is_err() {
                        break End::Failed(Refusal::new(ErrorCode::Internal, "the payment watch closed"));
                    }
                }
                piece = recv(&mut pieces), if want_piece => match piece {
                    Some(Ok(Piece::Text { text, tokens })) => queue.push_back((text, tokens)),
                    Some(Ok(Piece::Done { finish, .. })) => finished = Some(finish),
                    Some(Err(e)) => break End::Failed(Refusal::new(ErrorCode::Model, e.to_string())),
                    None => break End::Failed(Refusal::new(ErrorCode::Model, "the model stopped without finishing")),
                },
                () = &mut timeout, if !paid => {
                    break End::Failed(Refusal {
                        owed: Some(owed),
                        ..Refusal::new(
                            ErrorCode::PaymentTimeout,
                            format!("no voucher for {owed} came within {} s; the reply stopped", cfg.payment_timeout.as_secs()),
                        )
                    });
                }
            }
        };
        self.end(end, owed).await;
    }

    /// Records how the reply ended, frees the channel and the request id (so the client may start
    /// the next reply or replay this one as soon as it reads the last message), and says so.
    async fn end(&mut self, end: End, billed: U256) {
        let store = &self.assistant.inner.store;
        let chain_id = self.assistant.inner.cfg.chain_id;
        let (status, finish) = match &end {
            End::Finished(Finish::Stop) => (ReplyStatus::Done, FinishReason::Stop.as_str().to_string()),
            End::Finished(Finish::Length) => (ReplyStatus::Done, FinishReason::Length.as_str().to_string()),
            End::Stopped(StopReason::Payer) => (ReplyStatus::Stopped, FinishReason::Stopped.as_str().to_string()),
            End::Stopped(StopReason::ChannelClosed) => (ReplyStatus::Stopped, "channel_closed".to_string()),
            End::Stopped(StopReason::Refused(r)) | End::Failed(r) => (ReplyStatus::Stopped, code_name(r.code)),
        };
        if let Err(e) = store.finish_reply(chain_id, &self.row.request_id, status, &finish, unix_now()).await {
            tracing::error!(request = %self.row.request_id, error = %e, "could not record the end of a reply");
        }
        let row = match store.assistant_reply(chain_id, &self.row.request_id).await {
            Ok(Some(row)) => row,
            _ => ReplyRow { status, finish: Some(finish.clone()), cost: billed - self.row.base, ..self.row.clone() },
        };
        if let Ok(mut map) = self.assistant.inner.live.lock() {
            map.remove(&self.row.request_id);
        }
        drop(self.busy.take());
        let msg = match end {
            End::Stopped(StopReason::Refused(r)) | End::Failed(r) => r.to_msg(Some(self.row.request_id.clone())),
            End::Stopped(StopReason::ChannelClosed) => Refusal::new(
                ErrorCode::ChannelClosed,
                "the channel was closed on chain; the reply stopped and nothing more will be charged to it",
            )
            .to_msg(Some(self.row.request_id.clone())),
            _ => ended_msg(&row),
        };
        self.live.send(msg).await;
    }
}

fn code_name(code: ErrorCode) -> String {
    serde_json::to_value(code).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_else(|| "internal".into())
}

async fn recv<T>(rx: &mut Option<mpsc::Receiver<T>>) -> Option<T> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
