//! [`LocalModel`]: a GGUF chat model run in process by llama.cpp (through the `llama-cpp-2`
//! crate). The model is loaded once and shared; every reply gets its own llama.cpp context, sized
//! to what it needs, on a blocking thread, and at most `max_concurrent` replies run at a time (a
//! reply waits for a slot; on two cores one slot with two threads is fastest). Decoding is greedy,
//! so the same request always gives the same reply.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use async_trait::async_trait;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use tokio::sync::{Semaphore, mpsc};

use crate::utf8::Utf8Stream;
use crate::{ChatMessage, Finish, Generation, LlmError, Model, PIECE_BUFFER, Piece, PieceReceiver, Result, Role};

/// The file name of the default model, SmolLM2-135M-Instruct quantised to Q4_1, as `make model`
/// installs it (under `~/.cache/agora/models/`).
pub const MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// The system prompt given when a conversation has none. llama.cpp renders ChatML templates with
/// its built-in formatter, which leaves out a template's default system message, so one is always
/// given explicitly. SmolLM2's own ("You are a helpful AI assistant named SmolLM, trained by
/// Hugging Face") derails some short factual answers under greedy decoding; this plain one does
/// not.
pub const DEFAULT_SYSTEM_PROMPT: &str = "You are a helpful assistant.";

/// Prompt tokens decoded per llama.cpp batch.
const BATCH: usize = 512;

/// How a [`LocalModel`] runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalOptions {
    /// CPU threads per reply (prompt and generation).
    pub threads: u32,
    /// Replies generated at the same time; further ones wait for a slot.
    pub max_concurrent: usize,
    /// Prepended as a system message when a conversation does not start with one (empty: none).
    pub system_prompt: String,
    /// The precision the weights run at.
    pub weights: Weights,
}

/// The precision a model's weights run at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Weights {
    /// 4-bit `Q4_1` weights widened to 8-bit `Q8_0` once, into a copy beside the file
    /// ([`crate::gguf`]): llama.cpp runs SmolLM2-135M about 40 % faster so, at the same answers
    /// within rounding. Files without `Q4_1` weights run as they are.
    #[default]
    Q8_0,
    /// The file's own weights.
    AsShipped,
}

impl Default for LocalOptions {
    /// Every core for one reply at a time, and [`DEFAULT_SYSTEM_PROMPT`].
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            threads: u32::try_from(cores.min(8)).unwrap_or(2),
            max_concurrent: 1,
            system_prompt: DEFAULT_SYSTEM_PROMPT.to_string(),
            weights: Weights::default(),
        }
    }
}

/// A chat model run in this process by llama.cpp. Cheap to clone (the weights are shared).
#[derive(Clone)]
pub struct LocalModel {
    inner: Arc<Inner>,
}

struct Inner {
    model: LlamaModel,
    template: LlamaChatTemplate,
    id: String,
    context_tokens: u32,
    threads: i32,
    system_prompt: String,
    max_concurrent: usize,
    slots: Arc<Semaphore>,
    generated: AtomicU64,
}

impl std::fmt::Debug for LocalModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalModel")
            .field("id", &self.inner.id)
            .field("context_tokens", &self.inner.context_tokens)
            .field("threads", &self.inner.threads)
            .finish_non_exhaustive()
    }
}

/// llama.cpp's process-wide initialisation, done once however many models are loaded.
fn backend() -> Result<&'static LlamaBackend> {
    static BACKEND: OnceLock<std::result::Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            // llama.cpp's own log lines go to `tracing` (target `llama_cpp_2`; its load report is INFO).
            llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| LlmError::Inference(format!("llama.cpp backend: {e}")))
}

impl LocalModel {
    /// Loads the GGUF model at `path` (memory-mapped; well under a second for SmolLM2-135M).
    /// A missing file is [`LlmError::ModelMissing`], which says to run `make model`.
    pub async fn load(path: impl Into<PathBuf>, options: LocalOptions) -> Result<Self> {
        let path = path.into();
        tokio::task::spawn_blocking(move || Self::load_blocking(&path, options))
            .await
            .map_err(|e| LlmError::Aborted(format!("loading the model: {e}")))?
    }

    fn load_blocking(path: &Path, options: LocalOptions) -> Result<Self> {
        if !path.is_file() {
            return Err(LlmError::ModelMissing { path: path.to_path_buf() });
        }
        if options.max_concurrent == 0 || options.threads == 0 {
            return Err(LlmError::InvalidRequest("threads and max_concurrent must be at least 1".into()));
        }
        let started = Instant::now();
        let backend = backend()?;
        let load_err = |reason: String| LlmError::ModelLoad { path: path.to_path_buf(), reason };
        let weights = match options.weights {
            Weights::AsShipped => path.to_path_buf(),
            Weights::Q8_0 => match crate::gguf::widen_file(path) {
                Ok(widened) => widened,
                Err(e @ crate::gguf::GgufError::Unsupported { .. }) => {
                    tracing::warn!(path = %path.display(), error = %e, "running the weights as shipped");
                    path.to_path_buf()
                }
                Err(e) => return Err(load_err(format!("widening the weights to 8 bits: {e}"))),
            },
        };
        let model = LlamaModel::load_from_file(backend, &weights, &LlamaModelParams::default())
            .map_err(|e| load_err(e.to_string()))?;
        let template = model.chat_template(None).map_err(|e| load_err(format!("no chat template: {e}")))?;
        let id = model_id(path);
        let context_tokens = model.n_ctx_train();
        tracing::info!(
            model = %id,
            path = %path.display(),
            weights = %weights.display(),
            context_tokens,
            params = model.n_params(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "language model loaded"
        );
        Ok(Self {
            inner: Arc::new(Inner {
                model,
                template,
                id,
                context_tokens,
                threads: i32::try_from(options.threads).unwrap_or(i32::MAX),
                system_prompt: options.system_prompt,
                max_concurrent: options.max_concurrent,
                slots: Arc::new(Semaphore::new(options.max_concurrent)),
                generated: AtomicU64::new(0),
            }),
        })
    }

    /// Replies being generated now (at most `max_concurrent`; waiting ones not counted).
    pub fn active_replies(&self) -> usize {
        self.inner.max_concurrent - self.inner.slots.available_permits()
    }

    /// Tokens generated by this model since it was loaded, over all replies.
    pub fn generated_tokens(&self) -> u64 {
        self.inner.generated.load(Ordering::Relaxed)
    }
}

/// The model's id from its file name, less the quantisation suffix GGUF files carry:
/// `SmolLM2-135M-Instruct.Q4_1.gguf` → `smollm2-135m-instruct`. (The GGUF's own `general.name` is
/// often a training run's name, not the model's.)
fn model_id(path: &Path) -> String {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let name = match stem.rsplit_once('.') {
        Some((name, quant)) if is_quantisation(quant) => name,
        _ => &stem,
    };
    slug(name)
}

/// `Q4_1`, `Q4_K_M`, `IQ2_XS`, `F16`, `BF16`, …
pub(crate) fn is_quantisation(s: &str) -> bool {
    let s = s.to_ascii_uppercase();
    let rest = s
        .strip_prefix("IQ")
        .or_else(|| s.strip_prefix('Q'))
        .or_else(|| s.strip_prefix("BF"))
        .or_else(|| s.strip_prefix('F'));
    rest.is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
}

/// `SmolLM2 135M Instruct` → `smollm2-135m-instruct`.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

impl Inner {
    /// The messages with the model's chat template applied, ready for the assistant's reply.
    fn prompt_text(&self, messages: &[ChatMessage]) -> Result<String> {
        if messages.is_empty() {
            return Err(LlmError::InvalidRequest("a conversation needs at least one message".into()));
        }
        let mut chat = Vec::with_capacity(messages.len() + 1);
        let nul = |_| LlmError::InvalidRequest("a message contains a NUL character".into());
        if messages[0].role != Role::System && !self.system_prompt.is_empty() {
            chat.push(LlamaChatMessage::new("system".into(), self.system_prompt.clone()).map_err(nul)?);
        }
        for m in messages {
            chat.push(LlamaChatMessage::new(m.role.as_str().into(), m.content.clone()).map_err(nul)?);
        }
        self.model
            .apply_chat_template(&self.template, &chat, true)
            .map_err(|e| LlmError::Inference(format!("applying the chat template: {e}")))
    }

    /// The prompt's tokens. Special tokens written by the template (`<|im_start|>`, …) are parsed
    /// as such, as llama.cpp's server does (text in a message that spells one is read as one too).
    fn prompt_tokens(&self, messages: &[ChatMessage]) -> Result<Vec<LlamaToken>> {
        let text = self.prompt_text(messages)?;
        Ok(self.model.vocab().tokenize(text.as_bytes(), true, true))
    }

    /// Generates on the current (blocking) thread, sending pieces as they come. Returns when the
    /// reply is done, or early and without error when the receiver is gone.
    fn run(&self, tokens: &[LlamaToken], prompt_tokens: u32, max_tokens: u32, tx: &Sender) -> Result<()> {
        let started = Instant::now();
        let vocab = self.model.vocab();
        let n_ctx = (tokens.len() as u64 + u64::from(max_tokens)).min(u64::from(self.context_tokens)) as u32;
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(n_ctx.max(1)))
            .with_n_batch(BATCH as u32)
            .with_n_ubatch(BATCH as u32)
            .with_n_threads(self.threads)
            .with_n_threads_batch(self.threads);
        let mut ctx = self
            .model
            .new_context(backend()?, params)
            .map_err(|e| LlmError::Inference(format!("creating a context of {n_ctx} tokens: {e}")))?;
        let decode_err = |e: llama_cpp_2::DecodeError| LlmError::Inference(format!("decoding: {e}"));
        let batch_err = |e: llama_cpp_2::llama_batch::BatchAddError| LlmError::Inference(format!("batch: {e}"));

        // The prompt, in batches; logits only for its last token.
        let mut batch = LlamaBatch::new(BATCH, 1);
        let mut pos: i32 = 0;
        for chunk in tokens.chunks(BATCH) {
            batch.clear();
            for &token in chunk {
                pos += 1;
                batch.add(token, pos - 1, &[0], pos as usize == tokens.len()).map_err(batch_err)?;
            }
            ctx.decode(&mut batch).map_err(decode_err)?;
        }
        let prompt_done = Instant::now();

        let mut sampler = LlamaSampler::greedy();
        let mut text = Utf8Stream::default();
        let mut bytes = Vec::with_capacity(16);
        let (mut generated, mut pending) = (0u32, 0u32);
        let finish = loop {
            if generated == max_tokens || pos as u32 >= n_ctx {
                break Finish::Length;
            }
            let token = sampler.sample(&ctx, batch.n_tokens() - 1);
            if vocab.is_eog(token) {
                break Finish::Stop;
            }
            generated += 1;
            pending += 1;
            self.generated.fetch_add(1, Ordering::Relaxed);
            bytes.clear();
            vocab.token_to_piece_into(token, &mut bytes, false, None);
            let piece = text.push(&bytes);
            if !piece.is_empty() {
                if tx.blocking_send(Ok(Piece::Text { text: piece, tokens: pending })).is_err() {
                    tracing::debug!(generated, "reply abandoned by its reader");
                    return Ok(());
                }
                pending = 0;
            }
            batch.clear();
            batch.add(token, pos, &[0], true).map_err(batch_err)?;
            pos += 1;
            ctx.decode(&mut batch).map_err(decode_err)?;
        };
        // Tokens whose bytes never made a character (or made none at all) still count.
        let rest = text.finish();
        if pending > 0 && tx.blocking_send(Ok(Piece::Text { text: rest, tokens: pending })).is_err() {
            return Ok(());
        }
        let prompt_s = (prompt_done - started).as_secs_f64();
        let gen_s = prompt_done.elapsed().as_secs_f64();
        tracing::debug!(
            model = %self.id,
            prompt_tokens,
            completion_tokens = generated,
            ?finish,
            prompt_tok_s = tokens.len() as f64 / prompt_s.max(1e-9),
            gen_tok_s = f64::from(generated) / gen_s.max(1e-9),
            "reply generated"
        );
        let _ = tx.blocking_send(Ok(Piece::Done { finish, prompt_tokens, completion_tokens: generated }));
        Ok(())
    }
}

type Sender = mpsc::Sender<Result<Piece>>;

#[async_trait]
impl Model for LocalModel {
    fn id(&self) -> &str {
        &self.inner.id
    }

    fn context_tokens(&self) -> u32 {
        self.inner.context_tokens
    }

    async fn count_prompt(&self, messages: &[ChatMessage]) -> Result<u32> {
        let n = self.inner.prompt_tokens(messages)?.len();
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn generate(&self, g: Generation) -> Result<PieceReceiver> {
        let inner = &self.inner;
        let mut tokens = inner.prompt_tokens(&g.messages)?;
        let prompt_tokens = u32::try_from(tokens.len()).unwrap_or(u32::MAX);
        if !g.continue_from.is_empty() {
            // The reply so far follows the template's opening of the assistant's turn.
            tokens.extend(inner.model.vocab().tokenize(g.continue_from.as_bytes(), false, false));
        }
        // Room for the prompt and at least one generated token.
        let needed = u32::try_from(tokens.len()).unwrap_or(u32::MAX).saturating_add(1);
        if needed > inner.context_tokens {
            return Err(LlmError::PromptTooLong { prompt_tokens: needed - 1, context_tokens: inner.context_tokens });
        }

        let (tx, rx) = mpsc::channel(PIECE_BUFFER);
        let inner = Arc::clone(inner);
        tokio::spawn(async move {
            // Wait for a slot; give up waiting if the reader leaves first.
            let permit = tokio::select! {
                permit = Arc::clone(&inner.slots).acquire_owned() => permit,
                () = tx.closed() => return,
            };
            let Ok(permit) = permit else { return };
            let tx_run = tx.clone();
            let run = tokio::task::spawn_blocking(move || {
                let _permit = permit;
                if let Err(e) = inner.run(&tokens, prompt_tokens, g.max_tokens, &tx_run) {
                    tracing::warn!(error = %e, "local generation failed");
                    let _ = tx_run.blocking_send(Err(e));
                }
            });
            if let Err(e) = run.await {
                let _ = tx.send(Err(LlmError::Aborted(e.to_string()))).await;
            }
        });
        Ok(rx)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_names_become_ids() {
        use std::path::Path;
        let id = |p: &str| super::model_id(Path::new(p));
        assert_eq!(id("/m/SmolLM2-135M-Instruct.Q4_1.gguf"), "smollm2-135m-instruct");
        assert_eq!(id("Llama-3.2-1B-Instruct.Q4_K_M.gguf"), "llama-3.2-1b-instruct");
        assert_eq!(id("qwen2.5-0.5b-instruct-bf16.gguf"), "qwen2.5-0.5b-instruct-bf16");
        assert_eq!(id("phi-2.F16.gguf"), "phi-2");
        assert_eq!(id("Llama-3.2 (1B).gguf"), "llama-3.2-1b");
    }
}
