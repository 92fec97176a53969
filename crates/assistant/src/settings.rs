//! The `[assistant]` section of the node's configuration.

use std::path::PathBuf;

use alloy::primitives::Address;
use serde::{Deserialize, Serialize};

/// Which model the assistant serves, at what price, and who administers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AssistantSettings {
    /// Serve the assistant at all.
    pub enabled: bool,
    /// The local model's GGUF file; unset: the one `make model` fetches
    /// (`~/.cache/agora/models/SmolLM2-135M-Instruct.Q4_1.gguf`).
    pub model_path: Option<PathBuf>,
    /// Threads the local model generates with. One by default: llama.cpp's threads meet at a barrier
    /// per layer, and when the node's other work takes a core from one of them every token waits
    /// for it (measured here: 2 threads on a busy 2-core machine ran 50 times slower than 1).
    pub threads: u32,
    /// Run a model's 4-bit `Q4_1` weights widened to 8-bit `Q8_0`, in a copy made once beside the
    /// file (`agora_llm::gguf`): SmolLM2-135M generates about 40 % faster so on these CPUs, with
    /// perplexity within 0.3 %. False: the file's own weights.
    pub widen_weights: bool,
    /// Serve an OpenAI-compatible upstream instead of the local model.
    pub upstream: Option<UpstreamSettings>,
    /// The token replies are priced in: `eth`, an ERC-20 address, or unset for MarketToken.
    pub price_token: Option<String>,
    /// Smallest units per 1,000 prompt tokens (a decimal string).
    pub prompt_per_1k: String,
    /// Smallest units per 1,000 completion tokens (a decimal string).
    pub completion_per_1k: String,
    /// Addresses allowed into `/api/admin/*` once signed in.
    pub admins: Vec<Address>,
    /// Most tokens in one chunk.
    pub chunk_max_tokens: u32,
    /// Most completion tokens a request may ask for.
    pub max_tokens_cap: u32,
    /// Seconds a reply waits for the voucher of its last chunk.
    pub payment_timeout_secs: u64,
}

/// An OpenAI-compatible endpoint the assistant streams through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamSettings {
    /// Base URL, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    /// Bearer key, if the endpoint wants one.
    #[serde(default)]
    pub api_key: Option<String>,
    /// The upstream's model name (also the id offered here).
    pub model: String,
}

impl Default for AssistantSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            model_path: None,
            threads: 1,
            widen_weights: true,
            upstream: None,
            price_token: None,
            // 0.005 and 0.01 of an 18-decimal token per 1,000 tokens.
            prompt_per_1k: "5000000000000000".into(),
            completion_per_1k: "10000000000000000".into(),
            admins: Vec::new(),
            chunk_max_tokens: 16,
            max_tokens_cap: 1024,
            payment_timeout_secs: 300,
        }
    }
}
