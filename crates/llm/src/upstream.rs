//! [`OpenAiUpstream`]: any OpenAI-compatible chat-completions endpoint (OpenAI's own, llama.cpp's
//! server, vLLM, another Agora node's `/v1`), streamed through as [`Piece`]s.

use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::sse::{ReplyDecoder, excerpt};
use crate::{ChatMessage, Generation, LlmError, Model, PIECE_BUFFER, PieceReceiver, Result, Role};

/// Tokens assumed for an upstream's context window unless told otherwise
/// ([`OpenAiUpstream::with_context_tokens`]).
const DEFAULT_CONTEXT_TOKENS: u32 = 8192;

/// An OpenAI-compatible chat-completions endpoint.
///
/// Replies are requested with `stream: true` and `stream_options: {include_usage: true}`; each
/// content delta becomes one [`Piece::Text`] counted as one token, and [`Piece::Done`] carries
/// the upstream's own usage figures when it reports them (otherwise the prompt estimate of
/// [`Model::count_prompt`] and the number of deltas). Piece counts are therefore approximate here;
/// `Done` is the upstream's word.
///
/// This build carries no TLS, so the base URL must be `http://` (a local server, or a
/// TLS-terminating proxy in front of a remote one).
#[derive(Debug, Clone)]
pub struct OpenAiUpstream {
    client: reqwest::Client,
    endpoint: String,
    api_key: Option<String>,
    model: String,
    context_tokens: u32,
}

#[derive(Serialize)]
struct Request<'a> {
    model: &'a str,
    messages: Vec<&'a ChatMessage>,
    max_tokens: u32,
    stream: bool,
    stream_options: StreamOptions,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

impl OpenAiUpstream {
    /// An upstream at `base_url` (the part before `/chat/completions`, e.g.
    /// `http://127.0.0.1:8080/v1`), sending `api_key` as a bearer token when given, asking for
    /// `model`.
    pub fn new(base_url: &str, api_key: Option<String>, model: impl Into<String>) -> Result<Self> {
        let base = base_url.trim_end_matches('/');
        if !base.starts_with("http://") {
            return Err(LlmError::UpstreamConfig(format!(
                "base URL {base_url:?} is not http:// (this build has no TLS: put a TLS-terminating proxy in front)"
            )));
        }
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // The longest silence allowed between two pieces of a reply.
            .read_timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| LlmError::UpstreamConfig(e.to_string()))?;
        Ok(Self {
            client,
            endpoint: format!("{base}/chat/completions"),
            api_key: api_key.filter(|k| !k.is_empty()),
            model: model.into(),
            context_tokens: DEFAULT_CONTEXT_TOKENS,
        })
    }

    /// Sets the context window the upstream model has (8,192 tokens unless set).
    #[must_use]
    pub fn with_context_tokens(mut self, tokens: u32) -> Self {
        self.context_tokens = tokens;
        self
    }
}

/// An estimate of a conversation's prompt tokens, meant to count high: a third of a token per
/// ASCII character (English runs near a quarter), a whole token per other character, four tokens
/// per message for the template's markers and three to open the reply.
pub(crate) fn estimate_prompt_tokens(messages: &[ChatMessage]) -> u32 {
    let per_message = messages.iter().map(|m| {
        let ascii = m.content.bytes().filter(u8::is_ascii).count() as u64;
        let other = m.content.chars().filter(|c| !c.is_ascii()).count() as u64;
        ascii.div_ceil(3) + other + 4
    });
    u32::try_from(per_message.sum::<u64>() + 3).unwrap_or(u32::MAX)
}

#[async_trait]
impl Model for OpenAiUpstream {
    fn id(&self) -> &str {
        &self.model
    }

    fn context_tokens(&self) -> u32 {
        self.context_tokens
    }

    /// An estimate, not the upstream's count (its tokenizer is not known here): see
    /// `estimate_prompt_tokens` — about a third of a token per ASCII character, a token per other
    /// character, four per message. It is meant to quote high; the upstream's usage, reported in
    /// [`Piece::Done`], is the real figure.
    async fn count_prompt(&self, messages: &[ChatMessage]) -> Result<u32> {
        Ok(estimate_prompt_tokens(messages))
    }

    /// Sends the request and returns once the upstream has answered with a stream. A
    /// `continue_from` is sent as a final assistant message, which servers that support prefill
    /// (llama.cpp's, vLLM with `continue_final_message`) continue; others start a new reply.
    async fn generate(&self, g: Generation) -> Result<PieceReceiver> {
        if g.messages.is_empty() {
            return Err(LlmError::InvalidRequest("a conversation needs at least one message".into()));
        }
        let estimate = estimate_prompt_tokens(&g.messages);
        let prefill = ChatMessage::new(Role::Assistant, g.continue_from.clone());
        let mut messages: Vec<&ChatMessage> = g.messages.iter().collect();
        if !g.continue_from.is_empty() {
            messages.push(&prefill);
        }
        let body = Request {
            model: &self.model,
            messages,
            max_tokens: g.max_tokens,
            stream: true,
            stream_options: StreamOptions { include_usage: true },
        };
        let mut request =
            self.client.post(&self.endpoint).header(reqwest::header::ACCEPT, "text/event-stream").json(&body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.map_err(|e| LlmError::UpstreamTransport(e.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(LlmError::UpstreamHttp { status: status.as_u16(), body: excerpt(body.trim()) });
        }

        let (tx, rx) = mpsc::channel(PIECE_BUFFER);
        tokio::spawn(async move {
            let mut bytes = response.bytes_stream();
            let mut decoder = ReplyDecoder::default();
            while !decoder.is_done() {
                let next = tokio::select! {
                    next = bytes.next() => next,
                    // The reader left: dropping the response closes the connection.
                    () = tx.closed() => return,
                };
                let Some(next) = next else { break };
                let pieces =
                    next.map_err(|e| LlmError::UpstreamTransport(e.to_string())).and_then(|b| decoder.push(&b));
                match pieces {
                    Ok(pieces) => {
                        for piece in pieces {
                            if tx.send(Ok(piece)).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "upstream stream failed");
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                }
            }
            let _ = tx.send(decoder.finish(estimate)).await;
        });
        Ok(rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_base_urls_are_accepted() {
        let up = OpenAiUpstream::new("http://127.0.0.1:8080/v1/", None, "m").unwrap();
        assert_eq!(up.endpoint, "http://127.0.0.1:8080/v1/chat/completions");
        let err = OpenAiUpstream::new("https://api.example.com/v1", Some("k".into()), "m").unwrap_err();
        assert!(err.to_string().contains("no TLS"), "{err}");
    }

    #[test]
    fn the_prompt_estimate_counts_high() {
        let msgs = [ChatMessage::new(Role::User, "What is the capital of France?")];
        // 30 ASCII characters are about 7 tokens in real tokenizers; the estimate says 10 + 4 + 3.
        assert_eq!(estimate_prompt_tokens(&msgs), 17);
        let msgs = [ChatMessage::new(Role::User, "世界")];
        assert_eq!(estimate_prompt_tokens(&msgs), 2 + 4 + 3);
    }

    #[test]
    fn requests_ask_for_a_stream_with_usage() {
        let msgs = [ChatMessage::new(Role::User, "hi")];
        let body = Request {
            model: "m",
            messages: msgs.iter().collect(),
            max_tokens: 5,
            stream: true,
            stream_options: StreamOptions { include_usage: true },
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":5,
                "stream":true,"stream_options":{"include_usage":true}})
        );
    }
}
