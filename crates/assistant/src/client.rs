//! The paying client of the pay-per-chunk conversation (`docs/assistant-payments.md`), as the
//! `agora chat` command uses it: sign in with SIWE, read the models and their prices, open the
//! WebSocket with the session cookie, and pay each chunk with a voucher signed by the channel's
//! session key — only after checking that its amount is exactly `base + cost(promptTokens,
//! completion so far)`, never below what was signed before, and within the deposit. A dropped
//! connection is reopened and the reply resumed from the last chunk held, with the voucher the node
//! never acknowledged sent again.

mod http;

use std::time::Duration;

use agora_channels::VoucherDomain;
use agora_llm::{ChatMessage, Role};
use alloy::primitives::{Address, B256, U256, hex};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

pub use http::{Endpoint, Response, SignIn, rfc3339, siwe_message};

use crate::Pricing;
use crate::protocol::{ClientMsg, ErrorCode, FinishReason, SeenPrices, ServerMsg, StartMsg, VoucherMsg};

/// How often a dropped conversation is reopened before the client gives up.
const RECONNECTS: u32 = 5;

/// What went wrong on the client's side of the conversation.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The API's URL is not `http://host:port`.
    #[error("bad API URL {0}")]
    Url(String),
    /// The node could not be reached, or the connection broke.
    #[error("{0}")]
    Io(String),
    /// The node answered something this client does not understand.
    #[error("unexpected answer: {0}")]
    Protocol(String),
    /// The API refused a REST call.
    #[error("{message} ({code}, HTTP {status})")]
    Api {
        /// HTTP status.
        status: u16,
        /// The API's error code.
        code: String,
        /// The API's sentence.
        message: String,
    },
    /// The node stopped the reply or refused a message (`error`, with its code).
    #[error("{message}")]
    Node {
        /// The protocol's code.
        code: ErrorCode,
        /// The node's sentence.
        message: String,
        /// The amount to cover, for `owed`, `deposit_spent`, `payment_timeout`.
        owed: Option<U256>,
        /// The deposit, for `deposit_spent`.
        deposit: Option<U256>,
        /// The expiry, for `expiring` and `expired`.
        expiry: Option<u64>,
    },
    /// This client refused to pay what the node asked (and stopped the reply).
    #[error("refused to pay: {0}")]
    Refused(String),
    /// The payer declined a chunk (manual pay).
    #[error("payment declined at chunk {seq} ({amount}); the reply was stopped")]
    Declined {
        /// The chunk.
        seq: u32,
        /// What it asked for.
        amount: U256,
    },
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(String),
}

impl ClientError {
    /// The error's code for programs: the protocol's or the API's code, or this client's.
    pub fn code(&self) -> String {
        match self {
            Self::Node { code, .. } => serde_json::to_value(code)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "internal".into()),
            Self::Api { code, .. } => code.clone(),
            Self::Url(_) => "bad_url".into(),
            Self::Io(_) => "connection".into(),
            Self::Protocol(_) => "protocol".into(),
            Self::Refused(_) => "refused".into(),
            Self::Declined { .. } => "declined".into(),
            Self::Sign(_) => "sign".into(),
        }
    }
}

/// A model as `GET /api/assistant/models` lists it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelListing {
    /// Its id.
    pub id: String,
    /// Its context window.
    pub context_tokens: u32,
    /// Its prices.
    pub pricing: Pricing,
}

/// `GET /api/assistant/models`: where channels must pay, and the prices.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Models {
    /// The payee channels must name.
    pub payee: Address,
    /// The chain.
    pub chain_id: u64,
    /// The PaymentChannel contract.
    pub channel_contract: Address,
    /// The models on offer.
    pub models: Vec<ModelListing>,
}

/// The node's API, reached over plain HTTP/1.1 and a WebSocket.
#[derive(Debug, Clone)]
pub struct NodeApi {
    endpoint: Endpoint,
}

impl NodeApi {
    /// The API at `url` (`http://host:port`).
    pub fn new(url: &str) -> Result<Self, ClientError> {
        Ok(Self { endpoint: Endpoint::parse(url)? })
    }

    /// Where it is.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// `GET path`: the raw answer.
    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Result<Response, ClientError> {
        http::request(&self.endpoint, "GET", path, cookie, None).await
    }

    /// `GET path` as JSON (an API error for a non-2xx status).
    pub async fn get_json(&self, path: &str) -> Result<Value, ClientError> {
        self.get(path, None).await?.json()
    }

    /// `POST path` with a JSON body: the raw answer.
    pub async fn post(&self, path: &str, body: &Value, cookie: Option<&str>) -> Result<Response, ClientError> {
        http::request(&self.endpoint, "POST", path, cookie, Some(body)).await
    }

    /// `POST path` with a body of `content_type` (a file for `/api/uploads`): the raw answer.
    pub async fn post_bytes(&self, path: &str, content_type: &str, body: &[u8]) -> Result<Response, ClientError> {
        http::request_bytes(&self.endpoint, "POST", path, None, content_type, body).await
    }

    /// The assistant's models and prices.
    pub async fn models(&self) -> Result<Models, ClientError> {
        let v = self.get_json("/api/assistant/models").await?;
        serde_json::from_value(v).map_err(|e| ClientError::Protocol(format!("the model list: {e}")))
    }

    /// Signs in as `key` with Sign-In with Ethereum; the session cookie (`agora_session=…`).
    pub async fn sign_in(&self, key: &PrivateKeySigner, chain_id: u64) -> Result<String, ClientError> {
        let nonce = self.get_json("/api/auth/nonce").await?;
        let nonce = nonce["nonce"].as_str().ok_or_else(|| ClientError::Protocol(format!("no nonce in {nonce}")))?;
        let now = crate::unix_now();
        let origin = self.endpoint.origin();
        let message = siwe_message(&SignIn {
            domain: &self.endpoint.authority,
            uri: &origin,
            address: key.address(),
            chain_id,
            nonce,
            issued_at: now,
            expires_at: now + 600,
        });
        let signature = key.sign_message_sync(message.as_bytes()).map_err(|e| ClientError::Sign(e.to_string()))?;
        let body = json!({ "message": message, "signature": hex::encode_prefixed(signature.as_bytes()) });
        let resp = self.post("/api/auth/verify", &body, None).await?;
        resp.json()?;
        http::session_cookie(&resp).ok_or_else(|| ClientError::Protocol("signed in, but no session cookie came".into()))
    }

    /// Opens the conversation's WebSocket (`/api/assistant/ws`) with the session cookie.
    pub async fn connect(&self, cookie: &str) -> Result<WebSocketStream<TcpStream>, ClientError> {
        let url = format!("ws://{}/api/assistant/ws", self.endpoint.authority);
        let mut req = url.into_client_request().map_err(|e| ClientError::Url(e.to_string()))?;
        let value = HeaderValue::from_str(cookie).map_err(|e| ClientError::Protocol(e.to_string()))?;
        req.headers_mut().insert("Cookie", value);
        let tcp = self.endpoint.connect().await?;
        let (ws, _) = tokio_tungstenite::client_async(req, tcp).await.map_err(|e| match e {
            tokio_tungstenite::tungstenite::Error::Http(resp) => {
                let body = resp.body().as_deref().map(String::from_utf8_lossy).unwrap_or_default().into_owned();
                ClientError::Io(format!("the WebSocket upgrade was refused (HTTP {}): {body}", resp.status()))
            }
            e => ClientError::Io(format!("WebSocket: {e}")),
        })?;
        Ok(ws)
    }
}

/// A user's message, for [`Chat::messages`].
pub fn user_message(text: impl Into<String>) -> ChatMessage {
    ChatMessage::new(Role::User, text)
}

/// What the payer knows of the channel and the reply it asks for.
pub struct Chat {
    /// The idempotency key.
    pub request_id: String,
    /// The channel that pays.
    pub channel_id: B256,
    /// The model's id.
    pub model: String,
    /// The prices shown to the payer and accepted.
    pub pricing: Pricing,
    /// The conversation.
    pub messages: Vec<ChatMessage>,
    /// Most completion tokens.
    pub max_tokens: u32,
    /// The channel's deposit (read from the chain).
    pub deposit: U256,
    /// The highest amount this payer signed on the channel before (0 if none known).
    pub highest_signed: U256,
    /// Whether `highest_signed` comes from a record of this payer's (then `base` must equal it).
    pub has_record: bool,
}

/// What happens during a reply, for the caller to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The node accepted the reply.
    Started {
        /// What the channel was billed before it.
        base: U256,
        /// Prompt tokens charged.
        prompt_tokens: u32,
        /// The most it can cost.
        max_cost: U256,
    },
    /// A chunk, checked.
    Chunk {
        /// 1, 2, …
        seq: u32,
        /// Its text.
        text: String,
        /// Its tokens.
        tokens: u32,
        /// The reply's cost so far.
        cost: U256,
        /// The amount to sign.
        cumulative: U256,
    },
    /// A voucher was signed and sent.
    Signed {
        /// The chunk it pays.
        seq: u32,
        /// Its cumulative amount.
        amount: U256,
    },
    /// The ledger stored a voucher.
    Paid {
        /// The channel's accepted total.
        accepted: U256,
    },
    /// The connection dropped and is being reopened.
    Reconnecting {
        /// Which attempt.
        attempt: u32,
        /// Why.
        reason: String,
    },
}

/// How a reply ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The reply's text.
    pub text: String,
    /// Why it ended.
    pub finish: FinishReason,
    /// The channel's billed amount before it.
    pub base: U256,
    /// Prompt tokens.
    pub prompt_tokens: u32,
    /// Completion tokens.
    pub completion_tokens: u32,
    /// Its cost.
    pub cost: U256,
    /// The channel's billed total after it.
    pub billed: U256,
    /// The channel's accepted total (the last `paid`).
    pub accepted: U256,
}

/// Decides whether a checked chunk is paid (auto-pay says yes at once; manual pay asks).
pub trait Approve {
    /// Pay `amount` (cumulative) for chunk `seq`, which costs `delta` more than the last?
    fn approve(&mut self, seq: u32, amount: U256, delta: U256) -> impl std::future::Future<Output = bool> + Send;
}

/// Pays every checked chunk.
pub struct AutoPay;

impl Approve for AutoPay {
    async fn approve(&mut self, _: u32, _: U256, _: U256) -> bool {
        true
    }
}

/// The amount a reply's base may be: not below what was signed, equal to it when this payer has a
/// record, within the deposit.
pub fn check_base(base: U256, chat: &Chat) -> Result<(), String> {
    if base < chat.highest_signed {
        return Err(format!("the node bills from {base}, below the {} already signed", chat.highest_signed));
    }
    if chat.has_record && base != chat.highest_signed {
        return Err(format!(
            "the node bills from {base}, but this payer signed {} on the channel",
            chat.highest_signed
        ));
    }
    if base > chat.deposit {
        return Err(format!("the node bills from {base}, above the deposit {}", chat.deposit));
    }
    Ok(())
}

/// The only amount a chunk may ask for: `base + cost(prompt, completion)` with the accepted prices,
/// the reply's cost as the node says it, never below what was signed, within the deposit.
#[allow(clippy::too_many_arguments)] // the reply's terms, the chunk's figures and the channel's, each named
pub fn check_chunk(
    pricing: &Pricing,
    base: U256,
    prompt_tokens: u32,
    completion_tokens: u32,
    cost: U256,
    cumulative: U256,
    highest_signed: U256,
    deposit: U256,
) -> Result<U256, String> {
    let expected_cost = pricing.cost(prompt_tokens, completion_tokens);
    let expected = base.saturating_add(expected_cost);
    if cost != expected_cost || cumulative != expected {
        return Err(format!(
            "the chunk asks for {cumulative} (cost {cost}), but {prompt_tokens} prompt and {completion_tokens} completion \
             tokens at the accepted prices make {expected} (cost {expected_cost})"
        ));
    }
    if cumulative < highest_signed {
        return Err(format!("the chunk asks for {cumulative}, below the {highest_signed} already signed"));
    }
    if cumulative > deposit {
        return Err(format!("the chunk asks for {cumulative}, above the deposit {deposit}"));
    }
    Ok(cumulative)
}

mod run;

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(deposit: u64, highest: u64, has_record: bool) -> Chat {
        Chat {
            request_id: "r".into(),
            channel_id: B256::ZERO,
            model: "m".into(),
            pricing: Pricing {
                token: Address::ZERO,
                prompt_per_1k: U256::from(1000),
                completion_per_1k: U256::from(3000),
            },
            messages: vec![user_message("hi")],
            max_tokens: 8,
            deposit: U256::from(deposit),
            highest_signed: U256::from(highest),
            has_record,
        }
    }

    #[test]
    fn only_the_exact_amount_within_the_deposit_is_paid() {
        let c = chat(100, 10, true);
        let u = U256::from;
        // base 10, 5 prompt tokens and 2 completion tokens: 10 + 5 + 6.
        assert_eq!(check_chunk(&c.pricing, u(10), 5, 2, u(11), u(21), u(10), u(100)), Ok(u(21)));
        assert!(check_chunk(&c.pricing, u(10), 5, 2, u(11), u(22), u(10), u(100)).is_err(), "overcharged");
        assert!(check_chunk(&c.pricing, u(10), 5, 2, u(12), u(22), u(10), u(100)).is_err(), "cost inflated");
        assert!(check_chunk(&c.pricing, u(10), 5, 2, u(11), u(21), u(25), u(100)).is_err(), "below signed");
        assert!(check_chunk(&c.pricing, u(10), 5, 2, u(11), u(21), u(10), u(20)).is_err(), "over the deposit");
    }

    #[test]
    fn the_base_must_be_what_this_payer_signed() {
        assert!(check_base(U256::from(10), &chat(100, 10, true)).is_ok());
        assert!(check_base(U256::from(12), &chat(100, 10, true)).is_err());
        assert!(check_base(U256::from(12), &chat(100, 10, false)).is_ok(), "no record: the node's word");
        assert!(check_base(U256::from(9), &chat(100, 10, false)).is_err());
        assert!(check_base(U256::from(101), &chat(100, 0, false)).is_err());
    }

    #[test]
    fn error_codes_are_the_protocols_names() {
        let e = ClientError::Node {
            code: ErrorCode::DepositSpent,
            message: "top up".into(),
            owed: None,
            deposit: None,
            expiry: None,
        };
        assert_eq!(e.code(), "deposit_spent");
    }
}
