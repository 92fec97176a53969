//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong loading a model or generating with one.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The local model's file is not where it was looked for.
    #[error("language model file {} is missing: run `make model` to fetch it", path.display())]
    ModelMissing {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// llama.cpp could not load the file (not a GGUF, truncated, unsupported architecture).
    #[error("could not load language model {}: {reason}", path.display())]
    ModelLoad {
        /// The file.
        path: PathBuf,
        /// What llama.cpp said.
        reason: String,
    },
    /// The prompt (with the reply to continue and room for one generated token) does not fit the
    /// model's context window.
    #[error("prompt too long: {prompt_tokens} tokens, the model's context holds {context_tokens}")]
    PromptTooLong {
        /// Tokens the prompt needs, the continued reply included.
        prompt_tokens: u32,
        /// Tokens the model's context holds.
        context_tokens: u32,
    },
    /// A request the model cannot serve as asked (no messages, a message with a NUL byte, …).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// llama.cpp failed while generating (context creation, decoding).
    #[error("local model failed: {0}")]
    Inference(String),
    /// The upstream could not be reached, or the connection broke mid-reply.
    #[error("upstream request failed: {0}")]
    UpstreamTransport(String),
    /// The upstream answered with an HTTP error.
    #[error("upstream answered HTTP {status}: {body}")]
    UpstreamHttp {
        /// The HTTP status code.
        status: u16,
        /// The start of the response body (its error message, usually).
        body: String,
    },
    /// The upstream reported an error inside its event stream.
    #[error("upstream reported an error mid-stream: {0}")]
    UpstreamError(String),
    /// The upstream's event stream does not follow the OpenAI chat-completions format.
    #[error("malformed upstream stream: {0}")]
    MalformedStream(String),
    /// The upstream's settings cannot work (a base URL this build cannot reach, …).
    #[error("upstream misconfigured: {0}")]
    UpstreamConfig(String),
    /// The generation task ended without saying how (a panic on the generating thread).
    #[error("generation ended unexpectedly: {0}")]
    Aborted(String),
}

/// The crate's result type.
pub type Result<T, E = LlmError> = std::result::Result<T, E>;
