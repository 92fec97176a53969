//! What the API's test files share: a network description, a content store, app state, a
//! one-shot request helper, and indexed events applied block by block.
#![allow(dead_code)] // each test file uses a different part

pub(crate) mod graphql;

use agora_api::{AppState, NetworkInfo};
use agora_store::{IndexedLog, Store};
use alloy::primitives::Address;
use alloy::providers::DynProvider;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub(crate) const CHAIN: u64 = 31337;

/// Where the `i`-th log of block `block` sits (its hashes and timestamp derived from the number).
pub(crate) fn log_meta(block: u64, i: usize) -> agora_store::LogMeta {
    agora_store::LogMeta {
        block_number: block,
        block_hash: format!("0x{block:02x}"),
        block_timestamp: 1_700_000_000 + block,
        tx_hash: format!("0x{:064x}", 0xf100 + block),
        log_index: i as u64,
        address: "0x00".into(),
    }
}

/// Applies `events` to `store` as block `block` of [`CHAIN`] (the cursor at `block - 1`).
pub(crate) async fn apply_block(
    store: &Store,
    block: u64,
    events: Vec<agora_store::MarketEvent>,
) -> agora_store::Result<()> {
    let b = agora_store::BlockRef {
        number: block,
        hash: format!("0x{block:02x}"),
        parent_hash: format!("0x{:02x}", block - 1),
        timestamp: 1_700_000_000 + block,
    };
    let logs =
        events.into_iter().enumerate().map(|(i, event)| IndexedLog { meta: log_meta(block, i), event }).collect();
    store
        .apply_batch(&agora_store::Batch { chain_id: CHAIN, expected_cursor: block - 1, blocks: vec![b], logs })
        .await?;
    Ok(())
}

pub(crate) fn network() -> NetworkInfo {
    NetworkInfo {
        chain_id: CHAIN,
        rpc_url: "http://127.0.0.1:1".into(),
        compute_market: Address::ZERO,
        market_token: Address::ZERO,
        payment_channel: Address::ZERO,
        data_market: None,
        federated_market: None,
        task_board: None,
        communities: None,
        fl_coordinator: None,
        fl_endpoint: None,
        deploy_block: 1,
        embedded_chain: true,
    }
}

pub(crate) async fn content_store() -> std::sync::Arc<agora_content::AnyStore> {
    let dir = std::env::temp_dir().join(format!("agora-api-content-{}", std::process::id()));
    let config = agora_content::ContentConfig { dir, ipfs_api: None };
    std::sync::Arc::new(agora_content::open(&config).await.expect("content store"))
}

/// App state over `store` and `provider` with no ledger, no dev accounts and no web app; logs
/// sent on the returned sender are published on its (memory) bus as the node publishes applied logs.
pub(crate) async fn state(
    store: Store,
    provider: DynProvider,
) -> (AppState, tokio::sync::broadcast::Sender<IndexedLog>) {
    let (events, _) = tokio::sync::broadcast::channel(64);
    let bus = agora_bus::Bus::memory();
    let updates = tokio::sync::broadcast::channel(1).1;
    agora_api::live::publish_applied(bus.clone(), CHAIN, events.subscribe(), updates, std::future::pending());
    let notifier = agora_notify::Notifier::new(store.clone(), &Default::default(), None).expect("notifier");
    agora_api::live::publish_notices(bus.clone(), notifier.subscribe(), std::future::pending());
    let live = agora_api::live::Live::start(bus, agora_bus::Cache::memory(&Default::default()), CHAIN);
    let state = AppState {
        store,
        provider,
        network: network(),
        ledger: None,
        content: content_store().await,
        live,
        dev_accounts: Default::default(),
        web_dir: None,
        public_origin: None,
        assistant: None,
        jobs: None,
        admins: std::sync::Arc::new(Vec::new()),
        faucet: None,
        social: Default::default(),
        notifier,
    };
    (state, events)
}

pub(crate) async fn call(app: &axum::Router, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
    let req = Request::builder().method(method).uri(uri).header("content-type", "application/json");
    let req = req.body(body.map(|b| Body::from(b.to_string())).unwrap_or_else(Body::empty)).expect("request");
    let resp = app.clone().oneshot(req).await.expect("response");
    let status = resp.status();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}
