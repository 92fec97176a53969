//! Reading an OpenAI-compatible streamed chat completion: server-sent events (lines of
//! `field: value`, an empty line ends an event, lines starting with `:` are comments) whose `data`
//! holds one JSON chunk each, until `data: [DONE]`. Bytes arrive in arbitrary pieces — a line, a
//! UTF-8 character or a CR LF pair may be split between two — so everything is buffered by line.

use serde::Deserialize;

use crate::{Finish, LlmError, Piece, Result};

/// Splits bytes into server-sent events and returns each event's `data`.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    line: Vec<u8>,
    data: String,
    has_data: bool,
    /// The previous byte was a CR, so an LF right after it ends nothing more.
    after_cr: bool,
}

impl SseParser {
    /// Feeds bytes; returns the data of every event they complete.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<Vec<String>> {
        let mut events = Vec::new();
        for &b in bytes {
            let after_cr = std::mem::replace(&mut self.after_cr, b == b'\r');
            match b {
                b'\n' if after_cr => {}
                b'\n' | b'\r' => {
                    let line = std::mem::take(&mut self.line);
                    if let Some(data) = self.line_done(&line)? {
                        events.push(data);
                    }
                }
                _ => self.line.push(b),
            }
        }
        Ok(events)
    }

    fn line_done(&mut self, line: &[u8]) -> Result<Option<String>> {
        if line.is_empty() {
            // End of an event: dispatch it if it carried data.
            if !std::mem::take(&mut self.has_data) {
                return Ok(None);
            }
            let mut data = std::mem::take(&mut self.data);
            data.pop(); // the newline after the last data line
            return Ok(Some(data));
        }
        if line[0] == b':' {
            return Ok(None); // a comment (keep-alives, payment metadata)
        }
        let line =
            std::str::from_utf8(line).map_err(|_| LlmError::MalformedStream("an event line is not UTF-8".into()))?;
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        if field == "data" {
            self.data.push_str(value);
            self.data.push('\n');
            self.has_data = true;
        }
        Ok(None)
    }
}

#[derive(Debug, Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
struct Usage {
    prompt_tokens: u32,
    completion_tokens: u32,
}

/// Turns a streamed chat completion's bytes into [`Piece`]s: one `Text` per content delta
/// (counted as one token), then one `Done` at the end.
#[derive(Debug, Default)]
pub(crate) struct ReplyDecoder {
    sse: SseParser,
    finish: Option<Finish>,
    usage: Option<Usage>,
    deltas: u32,
    done: bool,
}

impl ReplyDecoder {
    /// Feeds bytes; returns the text pieces they complete. Anything after `[DONE]` is ignored.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<Vec<Piece>> {
        let mut pieces = Vec::new();
        for data in self.sse.push(bytes)? {
            if self.done {
                break;
            }
            if data.trim() == "[DONE]" {
                self.done = true;
                break;
            }
            let chunk: Chunk = serde_json::from_str(&data).map_err(|e| {
                LlmError::MalformedStream(format!("an event is not a chat completion chunk ({e}): {}", excerpt(&data)))
            })?;
            if let Some(error) = chunk.error {
                let message = error.get("message").and_then(|m| m.as_str()).map(str::to_string);
                return Err(LlmError::UpstreamError(message.unwrap_or_else(|| error.to_string())));
            }
            if chunk.usage.is_some() {
                self.usage = chunk.usage;
            }
            // One reply was asked for (n = 1): its choice is the first.
            if let Some(choice) = chunk.choices.into_iter().next() {
                if let Some(text) = choice.delta.and_then(|d| d.content).filter(|t| !t.is_empty()) {
                    self.deltas += 1;
                    pieces.push(Piece::Text { text, tokens: 1 });
                }
                if let Some(reason) = choice.finish_reason {
                    self.finish = Some(if reason == "length" { Finish::Length } else { Finish::Stop });
                }
            }
        }
        Ok(pieces)
    }

    /// `[DONE]` has arrived.
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// The closing piece, once the stream has ended. The upstream's usage is used when it sent
    /// one; otherwise `estimated_prompt` and the number of content deltas. A stream that ends with
    /// neither `[DONE]` nor a finish reason was cut off.
    pub(crate) fn finish(&self, estimated_prompt: u32) -> Result<Piece> {
        if !self.done && self.finish.is_none() {
            return Err(LlmError::MalformedStream("the stream ended before the reply did (no [DONE])".into()));
        }
        let (prompt_tokens, completion_tokens) = match self.usage {
            Some(u) => (u.prompt_tokens, u.completion_tokens),
            None => (estimated_prompt, self.deltas),
        };
        Ok(Piece::Done { finish: self.finish.unwrap_or(Finish::Stop), prompt_tokens, completion_tokens })
    }
}

/// The start of a text, for error messages.
pub(crate) fn excerpt(text: &str) -> String {
    const MAX: usize = 500;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

#[cfg(test)]
#[path = "sse_tests.rs"]
mod tests;
