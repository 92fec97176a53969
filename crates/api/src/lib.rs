//! Agora's HTTP API (axum). The only crate that knows HTTP and JSON shapes: it reads the store the
//! indexer fills and asks the chain edge for the head block and for call simulations.
//! Amounts are decimal strings in the token's smallest unit; addresses lower-case hex.

mod channels;
mod content;
mod error;
mod routes;

use agora_store::Store;
use alloy::primitives::Address;
use alloy::providers::DynProvider;
use axum::Router;
use serde::Serialize;

pub use error::ApiError;

/// Public facts about the deployment the node serves, shown to clients as they are.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkInfo {
    pub chain_id: u64,
    /// The RPC URL clients (the web app, wallets) should use.
    pub rpc_url: String,
    pub compute_market: Address,
    pub market_token: Address,
    pub payment_channel: Address,
    pub deploy_block: u64,
    /// True when the node runs its own embedded dev chain.
    pub embedded_chain: bool,
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub provider: DynProvider,
    pub network: NetworkInfo,
    /// The payee's voucher ledger; `None` when this node collects for no channel.
    pub ledger: Option<agora_channels::Ledger>,
    /// Where uploads and results live (local directory or IPFS through Kubo).
    pub content: std::sync::Arc<agora_content::AnyStore>,
}

/// The whole API under `/api`.
pub fn router(state: AppState) -> Router {
    routes::router()
        .merge(channels::router())
        .merge(content::router())
        .with_state(state)
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await
}
