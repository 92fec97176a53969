//! Agora's HTTP API (axum). The only crate that knows HTTP and JSON shapes: it reads the store the
//! indexer fills and asks the chain edge for the head block and for call simulations. It also
//! signs people in (SIWE), streams indexed events to pages, and serves the built web app.
//! Amounts are decimal strings in the token's smallest unit; addresses lower-case hex.

#![warn(missing_docs)]

mod admin;
mod assistant;
mod auth;
mod board;
mod board_dto;
mod cached;
mod channels;
mod community;
mod content;
mod data_market;
mod doc;
mod email;
mod error;
mod events;
mod faucet;
mod fl_account;
mod fl_listing;
mod fl_market;
mod fl_predict;
mod fl_runs;
mod graphql;
pub mod live;
mod metadata;
mod moderation;
mod notifications;
mod openai;
mod params;
mod post_notices;
mod posts;
mod posts_dto;
mod profiles;
mod routes;
mod settings;
pub mod siwe;
mod web;

use std::path::PathBuf;
use std::sync::Arc;

use agora_store::Store;
use alloy::primitives::Address;
use alloy::providers::DynProvider;
use axum::Router;
use axum::routing::{any, get};
use serde::Serialize;

pub use auth::SESSION_COOKIE;
pub use error::ApiError;
pub use faucet::Faucet;
pub use settings::{ApiSettings, SocialSettings};

/// Public facts about the deployment the node serves, shown to clients as they are.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Network)]
pub struct NetworkInfo {
    /// The chain's EIP-155 id; signatures and transactions are for this chain only.
    pub chain_id: u64,
    /// The RPC URL clients (the web app, wallets) should use.
    pub rpc_url: String,
    #[schema(value_type = String, pattern = "^0x[0-9a-f]{40}$")]
    /// The ComputeMarket contract (services, escrowed compute tasks).
    pub compute_market: Address,
    #[schema(value_type = String, pattern = "^0x[0-9a-f]{40}$")]
    /// MarketToken, the ERC-20 the demo services are priced in.
    pub market_token: Address,
    #[schema(value_type = String, pattern = "^0x[0-9a-f]{40}$")]
    /// The PaymentChannel contract (one-way channels paid with vouchers).
    pub payment_channel: Address,
    /// The DataMarket contract (data sellers, orders, ratings); absent when the deployment has none.
    #[schema(value_type = Option<String>, pattern = "^0x[0-9a-f]{40}$")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_market: Option<Address>,
    /// The FederatedMarket contract (federated-learning tasks, rewards, model shares, paid
    /// predictions); absent when the deployment has none.
    #[schema(value_type = Option<String>, pattern = "^0x[0-9a-f]{40}$")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub federated_market: Option<Address>,
    /// The TaskBoard contract (the community task market's escrow); absent when the deployment has none.
    #[schema(value_type = Option<String>, pattern = "^0x[0-9a-f]{40}$")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_board: Option<Address>,
    /// The Communities contract (communities and their points tokens); absent when the deployment has
    /// none.
    #[schema(value_type = Option<String>, pattern = "^0x[0-9a-f]{40}$")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub communities: Option<Address>,
    /// The account that coordinates this node's federated-learning tasks (pass it as a task's
    /// `coordinator`); absent when the node coordinates none.
    #[schema(value_type = Option<String>, pattern = "^0x[0-9a-f]{40}$")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fl_coordinator: Option<Address>,
    /// Where participants connect (`ws://host:port`; a task's are at `{flEndpoint}/tasks/{id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fl_endpoint: Option<String>,
    /// The block the contracts were deployed in: the indexer starts there.
    pub deploy_block: u64,
    /// True when the node runs its own embedded dev chain.
    pub embedded_chain: bool,
}

/// A funded account of the embedded dev chain, offered to the web app for trying the market
/// without a wallet. Never anything but anvil's public test keys.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = DevAccount)]
pub struct DevAccountInfo {
    /// Its index in anvil's well-known mnemonic.
    pub index: usize,
    #[schema(pattern = "^0x[0-9a-fA-F]{40}$")]
    /// The account's address.
    pub address: String,
    #[schema(pattern = "^0x[0-9a-fA-F]{64}$")]
    /// Its private key (public to everyone: anvil's test accounts).
    pub private_key: String,
    /// The part it plays in the demo (`owner`, `provider`, `operator`, `buyer`…).
    pub role: String,
}

/// What every handler can reach: the node's parts, built once by `agora-node` and shared.
#[derive(Clone)]
pub struct AppState {
    /// The database the indexer fills and the node's off-chain records.
    pub store: Store,
    /// The chain (head block, call simulations, receipts).
    pub provider: DynProvider,
    /// The deployment this node serves, as clients see it.
    pub network: NetworkInfo,
    /// The payee's voucher ledger; `None` when this node collects for no channel.
    pub ledger: Option<agora_channels::Ledger>,
    /// Where uploads and results live (local directory or IPFS through Kubo).
    pub content: Arc<agora_content::AnyStore>,
    /// Live events from the bus (for `/api/events`) and the cache of hot reads they invalidate.
    pub live: live::Live,
    /// Empty unless the node runs the embedded dev chain.
    pub dev_accounts: Arc<Vec<DevAccountInfo>>,
    /// The built web app (`index.html` and assets); `None` or missing: `/` says how to build it.
    pub web_dir: Option<PathBuf>,
    /// The origin people reach the node at when a reverse proxy stands in front
    /// (`https://agora.example`); Sign-In with Ethereum messages must name its host. `None`: the
    /// request's `Host`.
    pub public_origin: Option<String>,
    /// The AI assistant (models, prices, paid replies); `None` when this node runs none.
    pub assistant: Option<agora_assistant::Assistant>,
    /// The payee's background jobs (auto-settle, expiry marks); `None` when this node collects
    /// for no channel.
    pub jobs: Option<agora_channels::jobs::Jobs>,
    /// Wallets allowed into `/api/admin/*` once signed in.
    pub admins: Arc<Vec<alloy::primitives::Address>>,
    /// The dev chain's faucet; `None` (and `/api/faucet` 403) on any other chain.
    pub faucet: Option<Faucet>,
    /// `[social]`: the posting rate limit of community threads.
    pub social: SocialSettings,
    /// Notifications: the signed-in user's list, preferences, e-mail address and live stream.
    pub notifier: agora_notify::Notifier,
}

/// The OpenAPI description of everything under `/api`, as committed: [`openapi_document`] writes
/// it, and a test keeps the two equal.
pub const OPENAPI: &str = include_str!("../openapi.json");

pub use doc::openapi_document;
pub use graphql::{GRAPHQL_SCHEMA, MAX_COMPLEXITY, MAX_DEPTH, graphql_sdl};

/// The API under `/api`, files under `/ipfs`, and the web app everywhere else.
pub fn router(state: AppState) -> Router {
    let api = routes::router()
        .merge(channels::router())
        .merge(data_market::router())
        .merge(fl_market::router())
        .merge(fl_predict::router())
        .merge(faucet::router())
        .merge(content::router())
        .merge(auth::router())
        .merge(events::router())
        .merge(assistant::router())
        .merge(admin::router())
        .merge(profiles::router())
        .merge(posts::router())
        .merge(board::router())
        .merge(openai::router())
        .merge(notifications::router())
        .merge(email::router())
        .merge(graphql::router())
        .route("/api/openapi.json", get(doc::document))
        .route("/api", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found));
    api.merge(web::router(state.web_dir.as_deref()))
        .with_state(state)
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

async fn api_not_found() -> ApiError {
    ApiError::NotFound("no such endpoint".into())
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await
}
