//! The language models behind Agora's AI assistant, behind one small async interface, [`Model`]:
//! count what a prompt costs, then generate a reply as a stream of [`Piece`]s with their token
//! counts, so that a caller can price and pay for each piece as it arrives. Two implementations:
//! [`LocalModel`], SmolLM2-135M-Instruct (or another GGUF chat model) run in process by llama.cpp
//! with greedy decoding, the default that needs nothing but the file `make model` fetches; and
//! [`OpenAiUpstream`], any OpenAI-compatible chat-completions endpoint, streamed through. Nothing
//! in this crate downloads a model.

#![warn(missing_docs)]

mod error;
pub mod gguf;
mod local;
mod sse;
mod upstream;
mod utf8;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

pub use error::{LlmError, Result};
pub use local::{DEFAULT_SYSTEM_PROMPT, LocalModel, LocalOptions, MODEL_FILE, Weights};
pub use upstream::OpenAiUpstream;

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions to the model.
    System,
    /// The person.
    User,
    /// The model.
    Assistant,
}

impl Role {
    /// The name chat templates and the OpenAI API use: `system`, `user`, `assistant`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub content: String,
}

impl ChatMessage {
    /// A message from `role`.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self { role, content: content.into() }
    }
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    /// The conversation so far; the reply is the assistant's next message.
    pub messages: Vec<ChatMessage>,
    /// The most tokens to generate (the tokens of `continue_from` not included).
    pub max_tokens: u32,
    /// Text of the assistant reply already delivered (resuming an interrupted reply): the model
    /// continues it, prompt tokens are counted for messages only.
    pub continue_from: String,
}

impl Generation {
    /// A fresh reply of at most `max_tokens` tokens to `messages`.
    pub fn new(messages: Vec<ChatMessage>, max_tokens: u32) -> Self {
        Self { messages, max_tokens, continue_from: String::new() }
    }
}

/// One piece of a streamed reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Generated text, and how many generated tokens it took. Text is always whole UTF-8
    /// characters; a token that ends mid-character is counted with the piece that completes it.
    Text {
        /// The text.
        text: String,
        /// The tokens it took.
        tokens: u32,
    },
    /// The end of the reply, always the last piece of a stream that did not fail.
    Done {
        /// Why generation stopped.
        finish: Finish,
        /// Tokens of the prompt (the messages with the chat template applied).
        prompt_tokens: u32,
        /// Tokens generated. For [`LocalModel`] this is the sum of the `Text` pieces' `tokens`;
        /// for [`OpenAiUpstream`] it is the upstream's own count when it reports one.
        completion_tokens: u32,
    },
}

/// Why generation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Finish {
    /// The model ended its reply.
    Stop,
    /// `max_tokens` (or the end of the context window) was reached first.
    Length,
}

/// The receiving end of a reply: pieces in order, `Done` last, or an error that ends it.
pub type PieceReceiver = mpsc::Receiver<Result<Piece, LlmError>>;

/// How many pieces may wait in a reply's channel before generation pauses.
pub const PIECE_BUFFER: usize = 4;

/// A chat model that streams its replies.
#[async_trait]
pub trait Model: Send + Sync + 'static {
    /// A short, stable name for the model, e.g. `smollm2-135m-instruct` (what prices are set per).
    fn id(&self) -> &str;

    /// How many tokens the model's context window holds (prompt and reply together).
    fn context_tokens(&self) -> u32;

    /// Prompt tokens the messages cost (the chat template applied), so a price can be quoted
    /// before generating.
    async fn count_prompt(&self, messages: &[ChatMessage]) -> Result<u32, LlmError>;

    /// Starts generating; pieces arrive on the returned receiver. The channel is bounded
    /// ([`PIECE_BUFFER`] pieces): generation pauses when the consumer stops reading, and stops
    /// when the receiver is dropped.
    async fn generate(&self, g: Generation) -> Result<PieceReceiver, LlmError>;
}
