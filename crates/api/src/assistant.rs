//! The AI assistant's endpoints: the models and their prices, a channel's account with the
//! assistant, and the pay-per-chunk conversation over a WebSocket (`docs/assistant-payments.md`).

use agora_assistant::protocol::{ClientMsg, ErrorCode, Refusal, ServerMsg};
use agora_assistant::{Assistant, Caller};
use alloy::primitives::Address;
use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::auth::SignedIn;
use crate::error::ErrorBody;
use crate::{ApiError, AppState, params};

/// The largest frame a client may send (a long conversation fits; anything bigger is refused).
const MAX_FRAME: usize = 256 * 1024;

pub(crate) fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/assistant/models", get(models))
        .route("/api/assistant/channels/{id}", get(account))
        .route("/api/assistant/ws", get(ws))
}

pub(crate) fn assistant(s: &AppState) -> Result<&Assistant, ApiError> {
    s.assistant.as_ref().ok_or_else(|| ApiError::NotFound("this node runs no assistant".into()))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct PricingDto {
    /// `0x000…0` for ETH.
    #[schema(pattern = "^0x[0-9a-fA-F]{40}$")]
    token: String,
    #[schema(pattern = "^[0-9]+$")]
    prompt_per_1k: String,
    #[schema(pattern = "^[0-9]+$")]
    completion_per_1k: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct ModelDto {
    id: String,
    context_tokens: u32,
    pricing: PricingDto,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AssistantModels)]
pub(crate) struct ModelsDto {
    /// Channels must pay this address.
    #[schema(pattern = "^0x[0-9a-fA-F]{40}$")]
    payee: String,
    chain_id: u64,
    /// The PaymentChannel contract.
    #[schema(pattern = "^0x[0-9a-fA-F]{40}$")]
    channel_contract: String,
    models: Vec<ModelDto>,
}

/// The assistant's models, their prices, and where channels must pay
#[utoipa::path(get, path = "/api/assistant/models", tag = "assistant", responses(
    (status = 200, description = "ok", body = ModelsDto),
    (status = 404, description = "this node runs no assistant", body = ErrorBody),
))]
pub(crate) async fn models(State(s): State<AppState>) -> Result<Json<ModelsDto>, ApiError> {
    let a = assistant(&s)?;
    let models = a
        .models()
        .into_iter()
        .map(|m| ModelDto {
            id: m.id,
            context_tokens: m.context_tokens,
            pricing: PricingDto {
                token: m.pricing.token.to_string().to_ascii_lowercase(),
                prompt_per_1k: m.pricing.prompt_per_1k.to_string(),
                completion_per_1k: m.pricing.completion_per_1k.to_string(),
            },
        })
        .collect();
    Ok(Json(ModelsDto {
        payee: a.config().payee.to_string().to_ascii_lowercase(),
        chain_id: s.network.chain_id,
        channel_contract: s.network.payment_channel.to_string().to_ascii_lowercase(),
        models,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct ChunkDto {
    seq: u32,
    tokens: u32,
    #[schema(pattern = "^[0-9]+$")]
    cost: String,
    /// What the channel was billed once this chunk was delivered.
    #[schema(pattern = "^[0-9]+$")]
    cumulative: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct ReplyDto {
    request_id: String,
    model: String,
    /// `running`, `done` or `stopped`.
    status: String,
    finish: Option<String>,
    prompt_tokens: u32,
    completion_tokens: u32,
    #[schema(pattern = "^[0-9]+$")]
    cost: String,
    /// What the channel was billed before this reply.
    #[schema(pattern = "^[0-9]+$")]
    base: String,
    created_at: u64,
    chunks: Vec<ChunkDto>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AssistantAccount)]
pub(crate) struct AccountDto {
    channel_id: String,
    /// Everything delivered, priced.
    #[schema(pattern = "^[0-9]+$")]
    billed: String,
    /// The highest voucher the ledger stored.
    #[schema(pattern = "^[0-9]+$")]
    accepted: String,
    /// Newest first, at most 50.
    replies: Vec<ReplyDto>,
}

/// A channel's account with the assistant: billed, paid, and each reply's chunks
#[utoipa::path(get, path = "/api/assistant/channels/{id}", tag = "assistant",
    params(("id" = String, Path, description = "channel id, 0x and 32 bytes of hex", pattern = "^0x[0-9a-fA-F]{64}$")),
    responses(
        (status = 200, description = "ok", body = AccountDto),
        (status = 400, description = "malformed channel id", body = ErrorBody),
        (status = 404, description = "this node runs no assistant", body = ErrorBody),
    ),
)]
pub(crate) async fn account(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<AccountDto>, ApiError> {
    let Path(raw) = id?;
    let channel_id = params::b256("channel id", &raw)?;
    let a = assistant(&s)?;
    let refused = |r: Refusal| ApiError::Internal(r.message);
    let billed = a.billed(channel_id).await.map_err(refused)?;
    let accepted = a.accepted(channel_id).await.map_err(refused)?;
    let chain_id = s.network.chain_id;
    let mut replies = Vec::new();
    for r in s.store.channel_replies(chain_id, channel_id, 50).await? {
        let chunks = s.store.reply_chunks(chain_id, &r.request_id, 0).await?;
        replies.push(ReplyDto {
            chunks: chunks
                .into_iter()
                .map(|c| ChunkDto {
                    seq: c.seq,
                    tokens: c.tokens,
                    cost: c.cost.to_string(),
                    cumulative: c.cumulative.to_string(),
                })
                .collect(),
            request_id: r.request_id,
            model: r.model,
            status: format!("{:?}", r.status).to_ascii_lowercase(),
            finish: r.finish,
            prompt_tokens: r.prompt_tokens,
            completion_tokens: r.completion_tokens,
            cost: r.cost.to_string(),
            base: r.base.to_string(),
            created_at: r.created_at,
        });
    }
    Ok(Json(AccountDto {
        channel_id: channel_id.to_string(),
        billed: billed.to_string(),
        accepted: accepted.to_string(),
        replies,
    }))
}

/// Upgrades to the pay-per-chunk conversation of the signed-in wallet.
async fn ws(State(s): State<AppState>, who: SignedIn, upgrade: WebSocketUpgrade) -> Result<Response, ApiError> {
    let a = assistant(&s)?.clone();
    let who: Address = who.address.parse().map_err(|_| ApiError::Internal("a session holds a bad address".into()))?;
    Ok(upgrade.max_message_size(MAX_FRAME).on_upgrade(move |socket| conversation(a, who, socket)))
}

/// Reads the client's messages and writes the replies' messages until either side closes.
async fn conversation(a: Assistant, who: Address, mut socket: WebSocket) {
    let (tx, mut rx) = mpsc::channel::<ServerMsg>(256);
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    // Each message is handled on its own task so a long replay never blocks the
                    // writes below; the ledger orders vouchers.
                    tokio::spawn(handle(a.clone(), who, text.to_string(), tx.clone()));
                }
                Some(Ok(Message::Binary(_))) => {
                    let r = Refusal::new(ErrorCode::BadMessage, "messages are JSON text frames");
                    let _ = tx.send(r.to_msg(None)).await;
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return,
            },
            Some(msg) = rx.recv() => {
                let Ok(text) = serde_json::to_string(&msg) else { continue };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn handle(a: Assistant, who: Address, text: String, out: mpsc::Sender<ServerMsg>) {
    let caller = Caller::Wallet(who);
    let msg = match serde_json::from_str::<ClientMsg>(&text) {
        Ok(msg) => msg,
        Err(e) => {
            let _ = out.send(Refusal::new(ErrorCode::BadMessage, format!("not a message: {e}")).to_msg(None)).await;
            return;
        }
    };
    let (request_id, outcome) = match msg {
        ClientMsg::Start(m) => {
            let id = m.request_id.clone();
            (id, a.start(caller, m, out.clone()).await)
        }
        ClientMsg::Voucher { request_id, amount, signature } => {
            let outcome = a.pay_reply(caller, &request_id, amount, &signature).await;
            match outcome {
                Ok(accepted) => {
                    let _ = out.send(ServerMsg::Paid { request_id, accepted }).await;
                    return;
                }
                Err(r) => (request_id, Err(r)),
            }
        }
        ClientMsg::Resume { request_id, received, voucher } => {
            let outcome = a.resume(caller, &request_id, received, voucher, out.clone()).await;
            (request_id, outcome)
        }
        ClientMsg::Stop { request_id } => {
            let outcome = a.stop(caller, &request_id);
            (request_id, outcome)
        }
    };
    if let Err(r) = outcome {
        let _ = out.send(r.to_msg(Some(request_id))).await;
    }
}
