//! The OpenAI-compatible door: what `POST /v1/chat/completions` and `GET /v1/models` read and
//! write, and how a request pays — the `Agora-Voucher: <channelId>:<amount>:<signature>` header,
//! at least what the channel owes before the reply (see `docs/assistant-payments.md`). The HTTP
//! framing (SSE, status codes) is the API crate's; the shapes and the rules are here.

use agora_llm::{ChatMessage, Role};
use alloy::primitives::{B256, U256};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::protocol::{ErrorCode, Refusal, SeenPrices, ServerMsg, StartMsg};
use crate::reply::Policy;
use crate::service::{Assistant, Caller, ModelInfo};

/// The header a request pays with.
pub const VOUCHER_HEADER: &str = "agora-voucher";
/// The response header saying what the channel is billed after the reply.
pub const BILLED_HEADER: &str = "agora-billed";

/// The `Agora-Voucher` header, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderVoucher {
    /// The paying channel.
    pub channel_id: B256,
    /// Cumulative amount.
    pub amount: U256,
    /// 65 bytes, `0x` hex.
    pub signature: String,
}

impl std::str::FromStr for HeaderVoucher {
    type Err = Refusal;

    fn from_str(s: &str) -> Result<Self, Refusal> {
        let bad =
            || Refusal::new(ErrorCode::BadMessage, "Agora-Voucher must be <channelId>:<cumulativeAmount>:<signature>");
        let mut parts = s.trim().split(':');
        let (Some(id), Some(amount), Some(sig), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let channel_id = id.parse::<B256>().map_err(|_| bad())?;
        if amount.is_empty() || amount.len() > 78 || !amount.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let amount = U256::from_str_radix(amount, 10).map_err(|_| bad())?;
        Ok(Self { channel_id, amount, signature: sig.to_string() })
    }
}

/// A message's content: a string, or parts of which the text ones are read.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Content {
    /// Plain text.
    Text(String),
    /// `[{"type": "text", "text": "…"}, …]`.
    Parts(Vec<ContentPart>),
}

/// One part of a message's content.
#[derive(Debug, Clone, Deserialize)]
pub struct ContentPart {
    /// `text` is read; other kinds are refused.
    #[serde(rename = "type")]
    pub kind: String,
    /// The text of a `text` part.
    #[serde(default)]
    pub text: Option<String>,
}

/// One message of a request.
#[derive(Debug, Clone, Deserialize)]
pub struct RequestMessage {
    /// `system`, `developer` (read as system), `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: Content,
}

/// `stream_options`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StreamOptions {
    /// Send the usage chunk (`choices: []`) before `data: [DONE]`.
    #[serde(default)]
    pub include_usage: bool,
}

/// The body of `POST /v1/chat/completions`. Fields the clients send that do not change what this
/// node does (temperature, top_p, user, …) are accepted and ignored: decoding is greedy.
#[derive(Debug, Clone, Deserialize)]
pub struct ChatRequest {
    /// A model id from `GET /v1/models`.
    pub model: String,
    /// The conversation.
    pub messages: Vec<RequestMessage>,
    /// Most completion tokens (older name).
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Most completion tokens.
    #[serde(default)]
    pub max_completion_tokens: Option<u32>,
    /// Stream as server-sent events.
    #[serde(default)]
    pub stream: bool,
    /// Streaming options.
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
    /// Only 1 is served.
    #[serde(default)]
    pub n: Option<u32>,
}

impl ChatRequest {
    /// The messages in the model's terms.
    pub fn chat_messages(&self) -> Result<Vec<ChatMessage>, Refusal> {
        self.messages
            .iter()
            .map(|m| {
                let role = match m.role.as_str() {
                    "system" | "developer" => Role::System,
                    "user" => Role::User,
                    "assistant" => Role::Assistant,
                    other => {
                        return Err(Refusal::new(
                            ErrorCode::BadMessage,
                            format!("messages: role {other:?} is not served"),
                        ));
                    }
                };
                let content = match &m.content {
                    Content::Text(t) => t.clone(),
                    Content::Parts(parts) => {
                        let mut text = String::new();
                        for p in parts {
                            match (p.kind.as_str(), &p.text) {
                                ("text", Some(t)) => text.push_str(t),
                                (kind, _) => {
                                    return Err(Refusal::new(
                                        ErrorCode::BadMessage,
                                        format!("messages: content parts of type {kind:?} are not served"),
                                    ));
                                }
                            }
                        }
                        text
                    }
                };
                Ok(ChatMessage { role, content })
            })
            .collect()
    }
}

/// The HTTP status a refusal is answered with.
pub fn status_of(code: ErrorCode) -> u16 {
    match code {
        ErrorCode::BadMessage => 400,
        ErrorCode::UnknownModel | ErrorCode::UnknownRequest => 404,
        ErrorCode::NotYourChannel | ErrorCode::UserDisabled => 403,
        ErrorCode::Busy | ErrorCode::IdempotencyConflict => 409,
        ErrorCode::Model | ErrorCode::Internal => 500,
        ErrorCode::TermsChanged
        | ErrorCode::UnknownChannel
        | ErrorCode::ChannelClosed
        | ErrorCode::Expiring
        | ErrorCode::Expired
        | ErrorCode::DepositSpent
        | ErrorCode::Owed
        | ErrorCode::VoucherRefused
        | ErrorCode::PaymentTimeout => 402,
    }
}

/// The OpenAI-shaped error body, with what the channel owes where it is known.
pub fn error_body(refusal: &Refusal, channel_id: Option<B256>) -> serde_json::Value {
    let kind = match status_of(refusal.code) {
        402 => "payment_required",
        400 | 404 => "invalid_request_error",
        403 => "permission_error",
        409 => "conflict_error",
        _ => "server_error",
    };
    let mut body = serde_json::json!({
        "error": {"message": refusal.message, "type": kind, "param": null, "code": refusal.code},
    });
    if let Some(owed) = refusal.owed {
        body["owed"] = serde_json::Value::String(owed.to_string());
    }
    if let Some(id) = channel_id {
        body["channelId"] = serde_json::Value::String(id.to_string());
    }
    body
}

/// `GET /v1/models`'s list; `pricing` is an extension the clients ignore.
pub fn models_body(models: &[ModelInfo]) -> serde_json::Value {
    let data: Vec<serde_json::Value> = models
        .iter()
        .map(|m| {
            serde_json::json!({
                "id": m.id, "object": "model", "created": 0, "owned_by": "agora",
                "pricing": {"token": m.pricing.token.to_string().to_ascii_lowercase(), "promptPer1k": m.pricing.prompt_per_1k.to_string(),
                            "completionPer1k": m.pricing.completion_per_1k.to_string()},
            })
        })
        .collect();
    serde_json::json!({"object": "list", "data": data})
}

/// Token counts as OpenAI reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Prompt tokens.
    pub prompt_tokens: u32,
    /// Completion tokens.
    pub completion_tokens: u32,
    /// Their sum.
    pub total_tokens: u32,
}

impl Assistant {
    /// Starts a paid completion: checks the voucher (it pays what the channel owed and proves the
    /// caller holds the channel's signer), then streams the reply on credit. The receiver yields
    /// `started`, the chunks, and `done` or `error`.
    pub async fn complete(
        &self,
        voucher: &HeaderVoucher,
        request: &ChatRequest,
        request_id: String,
    ) -> Result<mpsc::Receiver<ServerMsg>, Refusal> {
        if request.n.is_some_and(|n| n != 1) {
            return Err(Refusal::new(ErrorCode::BadMessage, "n: only one choice is served"));
        }
        let offer = self.offer(&request.model)?;
        let prices = SeenPrices { prompt: offer.pricing.prompt_per_1k, completion: offer.pricing.completion_per_1k };
        let accepted = self.pay(voucher.channel_id, voucher.amount, &voucher.signature).await?;
        if voucher.amount < accepted {
            return Err(Refusal {
                owed: Some(accepted),
                ..Refusal::new(
                    ErrorCode::VoucherRefused,
                    format!("this voucher is for {}, below the {accepted} already paid: a replay", voucher.amount),
                )
            });
        }
        let cap = self.config().max_tokens_cap;
        let max_tokens = request.max_completion_tokens.or(request.max_tokens).unwrap_or(cap.min(512));
        let msg = StartMsg {
            request_id,
            channel_id: voucher.channel_id,
            model: request.model.clone(),
            messages: request.chat_messages()?,
            max_tokens,
            prices,
            voucher: None,
        };
        let (tx, rx) = mpsc::channel(64);
        self.start_with(Caller::VoucherHolder, msg, tx, Policy::Credit, "openai").await?;
        Ok(rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_voucher_header_is_parsed_strictly() {
        let id = B256::repeat_byte(7);
        let v: HeaderVoucher = format!("{id}:1500:0xabcd").parse().unwrap();
        assert_eq!(v.amount, U256::from(1500));
        assert_eq!(v.channel_id, id);
        for bad in [
            String::new(),
            format!("{id}:1500"),
            format!("{id}:0x10:0xab"),
            format!("{id}:-1:0xab"),
            format!("{id}:1:0xab:extra"),
            "0x12:1:0xab".to_string(),
        ] {
            assert!(bad.parse::<HeaderVoucher>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn content_parts_and_roles_are_read() {
        let req: ChatRequest = serde_json::from_str(
            r#"{"model":"m","messages":[{"role":"developer","content":"be brief"},
                {"role":"user","content":[{"type":"text","text":"hi "},{"type":"text","text":"there"}]}],
                "temperature":0.2,"stream":true,"stream_options":{"include_usage":true}}"#,
        )
        .unwrap();
        let msgs = req.chat_messages().unwrap();
        assert_eq!(msgs[0].role, Role::System);
        assert_eq!(msgs[1].content, "hi there");
        assert!(req.stream_options.unwrap().include_usage);
        let image: ChatRequest =
            serde_json::from_str(r#"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url"}]}]}"#)
                .unwrap();
        assert_eq!(image.chat_messages().unwrap_err().code, ErrorCode::BadMessage);
    }

    #[test]
    fn payment_refusals_are_402_with_what_is_owed() {
        let r = Refusal { owed: Some(U256::from(42)), ..Refusal::new(ErrorCode::Owed, "pay") };
        assert_eq!(status_of(r.code), 402);
        let body = error_body(&r, Some(B256::ZERO));
        assert_eq!(body["error"]["type"], "payment_required");
        assert_eq!(body["owed"], "42");
    }
}
