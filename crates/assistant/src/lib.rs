//! Agora's AI assistant market: a language model's replies streamed chunk by chunk and paid through
//! the payment channels, in the page and the CLI (one WebSocket, a voucher per chunk) and through
//! an OpenAI-compatible API (a voucher per request). `docs/assistant-payments.md` is the protocol.
//!
//! - [`price`]: what a reply costs, one formula for every side.
//! - [`protocol`]: the messages of the pay-per-chunk conversation.
//! - [`Assistant`]: the models on offer, each channel's account (billed against accepted), and the
//!   checks a reply passes before it starts; a task per reply records each chunk before sending it
//!   and sends the next only once the previous one is paid.
//! - [`openai`]: the OpenAI-compatible door: the `Agora-Voucher` header, requests and responses.
//! - [`client`]: the paying side of the WebSocket conversation, as the `agora chat` command uses it.

#![warn(missing_docs)]
// A `Refusal` carries the amounts a client needs to get out of it (owed, deposit, expiry), which
// makes it 128 bytes; it is the cold path of every call, so it is returned unboxed.
#![allow(clippy::result_large_err)]

mod checks;
pub mod client;
pub mod openai;
pub mod price;
pub mod protocol;
mod reply;
mod service;
mod settings;
mod writer;

pub use checks::BusyGuard;
pub use price::Pricing;
pub use protocol::{ClientMsg, ErrorCode, Refusal, ServerMsg, StartMsg};
pub use service::{Assistant, AssistantConfig, Caller, ModelInfo, Offer};
pub use settings::{AssistantSettings, UpstreamSettings};

/// Unix seconds now.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}
