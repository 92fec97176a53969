//! Builds the AI assistant from the `[assistant]` section: the model (local SmolLM2 through
//! llama.cpp, or an OpenAI-compatible upstream), its price, and the channel payee it collects for.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use agora_assistant::{Assistant, AssistantConfig, AssistantSettings, Offer, Pricing};
use agora_channels::Ledger;
use agora_llm::{LocalModel, LocalOptions, Model, OpenAiUpstream, Weights};
use agora_store::Store;
use alloy::primitives::{Address, U256};
use anyhow::{Context, Result, bail};

/// The model file `make model` installs.
pub(crate) fn default_model_path() -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    home.join(".cache/agora/models/SmolLM2-135M-Instruct.Q4_1.gguf")
}

/// What the assistant needs from the rest of the node.
pub(crate) struct Wiring<'a> {
    pub(crate) settings: &'a AssistantSettings,
    pub(crate) store: &'a Store,
    pub(crate) ledger: &'a Ledger,
    pub(crate) chain_id: u64,
    pub(crate) payee: Address,
    pub(crate) market_token: Address,
    pub(crate) voucher_margin_secs: u64,
}

fn amount(what: &str, text: &str) -> Result<U256> {
    U256::from_str_radix(text.trim(), 10)
        .with_context(|| format!("[assistant] {what} = {text:?} is not a decimal amount"))
}

/// The assistant, or `None` when `[assistant] enabled = false`.
pub(crate) async fn build(w: Wiring<'_>) -> Result<Option<Assistant>> {
    let s = w.settings;
    if !s.enabled {
        return Ok(None);
    }
    let token = match s.price_token.as_deref().map(str::trim) {
        None | Some("") => w.market_token,
        Some(t) if t.eq_ignore_ascii_case("eth") => Address::ZERO,
        Some(t) => {
            t.parse().with_context(|| format!("[assistant] price_token = {t:?} is neither `eth` nor an address"))?
        }
    };
    let pricing = Pricing {
        token,
        prompt_per_1k: amount("prompt_per_1k", &s.prompt_per_1k)?,
        completion_per_1k: amount("completion_per_1k", &s.completion_per_1k)?,
    };
    let model: Arc<dyn Model> = match &s.upstream {
        Some(up) => Arc::new(OpenAiUpstream::new(&up.base_url, up.api_key.clone(), up.model.clone())?),
        None => {
            let path = s.model_path.clone().unwrap_or_else(default_model_path);
            if !path.exists() {
                bail!(
                    "the assistant's model {} is missing: run `make model`, point [assistant] model_path at a GGUF file, \
                     or set [assistant] enabled = false",
                    path.display()
                );
            }
            let weights = if s.widen_weights { Weights::Q8_0 } else { Weights::AsShipped };
            let options = LocalOptions { threads: s.threads.max(1), weights, ..LocalOptions::default() };
            Arc::new(LocalModel::load(&path, options).await.with_context(|| format!("cannot load {}", path.display()))?)
        }
    };
    let mut cfg = AssistantConfig::new(w.chain_id, w.payee);
    cfg.chunk_max_tokens = s.chunk_max_tokens.max(1);
    cfg.max_tokens_cap = s.max_tokens_cap.max(1);
    cfg.payment_timeout = Duration::from_secs(s.payment_timeout_secs.max(1));
    cfg.expiry_margin_secs = w.voucher_margin_secs;
    Ok(Some(Assistant::new(w.store.clone(), w.ledger.clone(), vec![Offer { model, pricing }], cfg)))
}
