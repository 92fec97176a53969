//! The live-event wiring every role shares, and `serve`: the API alone against an existing
//! deployment — the shared database, the chain's RPC and the deployments file — with no indexer,
//! no scheduler and no chain of its own. Its live events come from the bus (Redis), published by
//! the process that runs the indexer (`agora up` or `agora index` with the same `[redis]`).

use agora_api::live::{Live, publish_applied};
use agora_api::{AppState, NetworkInfo};
use agora_bus::{Bus, Cache};
use agora_chain::deploy::Deployments;
use agora_store::{IndexedLog, Store};
use anyhow::{Context, Result};
use tokio::sync::{broadcast, watch};

use crate::{Config, Node};

/// The bus `[redis]` names, and this API process's view of it with the cache of hot reads.
pub(crate) async fn live(config: &Config, chain_id: u64) -> Result<(Bus, Live)> {
    let bus = Bus::connect(&config.redis).await.context("cannot reach Redis for live events ([redis] url)")?;
    let cache = Cache::connect(&config.redis, &config.cache).context("cannot set up the cache ([redis] url)")?;
    // A shared cache may hold entries from before this process (a dev chain started afresh, a
    // database restored): start from nothing. A failure here leaves the cache reading through.
    let _ = cache.invalidate_all().await;
    Ok((bus.clone(), Live::start(bus, cache, chain_id)))
}

/// Publishes what the indexer applies, and off-chain task changes, on `bus` until shutdown.
pub(crate) fn publish(
    bus: &Bus,
    chain_id: u64,
    applied: broadcast::Receiver<IndexedLog>,
    task_updates: broadcast::Receiver<u64>,
    mut shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let stop = async move {
        let _ = shutdown.wait_for(|s| *s).await;
    };
    publish_applied(bus.clone(), chain_id, applied, task_updates, stop)
}

/// Publishes each notification `notifier` writes on `bus` until shutdown, so the recipient's live
/// stream hears of it from whichever API process serves them.
pub(crate) fn publish_notices(
    bus: &Bus,
    notifier: &agora_notify::Notifier,
    mut shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let stop = async move {
        let _ = shutdown.wait_for(|s| *s).await;
    };
    agora_api::live::publish_notices(bus.clone(), notifier.subscribe(), stop)
}

/// Announces the indexer's reorgs on `bus` (a gap: caches dropped, pages re-read) until shutdown.
pub(crate) fn publish_reorgs(
    bus: &Bus,
    reorgs: broadcast::Receiver<u64>,
    mut shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let stop = async move {
        let _ = shutdown.wait_for(|s| *s).await;
    };
    agora_api::live::publish_reorgs(bus.clone(), reorgs, stop)
}

/// For `agora index`: publishes what it applies when `[redis] url` is set (nobody else could
/// hear it otherwise).
pub(crate) async fn publish_index(
    config: &Config,
    chain_id: u64,
    applied: broadcast::Receiver<IndexedLog>,
    reorgs: broadcast::Receiver<u64>,
    shutdown: watch::Receiver<bool>,
) -> Result<Option<[tokio::task::JoinHandle<()>; 2]>> {
    if config.redis.url().is_none() {
        return Ok(None);
    }
    let bus = Bus::connect(&config.redis).await.context("cannot reach Redis for live events ([redis] url)")?;
    // `agora index` has no off-chain task updates.
    let none = broadcast::channel(1).1;
    let reorgs = publish_reorgs(&bus, reorgs, shutdown.clone());
    Ok(Some([publish(&bus, chain_id, applied, none, shutdown), reorgs]))
}

/// Brings the API up alone (`agora serve`) and returns once it listens.
pub async fn serve(config: &Config) -> Result<Node> {
    let rpc_url = config
        .chain
        .rpc_url
        .clone()
        .context("`agora serve` needs the chain's RPC URL (--rpc-url or AGORA_CHAIN__RPC_URL)")?;
    anyhow::ensure!(
        config.redis.url().is_some(),
        "`agora serve` gets its live events from the process that indexes: set [redis] url (AGORA_REDIS__URL)"
    );
    let path = config.deployments_path();
    let deployments = Deployments::load(&path)
        .with_context(|| format!("cannot read the deployments file {} (the indexing node's)", path.display()))?;
    let provider = agora_chain::read_provider(&rpc_url)?;
    agora_chain::ensure_chain(&provider, deployments.chain_id).await?;
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data dir {}", config.data_dir.display()))?;
    let store = Store::connect(&config.database_url()).await.context("cannot open the database")?;
    let (bus, live) = live(config, deployments.chain_id).await?;
    let content = agora_content::open(&config.content_store()).await.context("cannot open the content store")?;
    let network = network_info(config, &deployments, &rpc_url);
    let listener = tokio::net::TcpListener::bind(config.api.http_addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.api.http_addr))?;
    let api_url = format!("http://{}", listener.local_addr()?);
    // Notifications are read and set here, and written for posts made here (published on the bus
    // for whichever process serves their recipient); the indexing process produces the chain's and
    // sends the mail.
    let site = config.api.public_origin.clone().filter(|o| !o.trim().is_empty()).unwrap_or_else(|| api_url.clone());
    let notifier =
        agora_notify::Notifier::new(store.clone(), &config.mail, Some(site)).context("[mail] is not usable")?;
    let router = agora_api::router(AppState {
        store: store.clone(),
        provider,
        network: network.clone(),
        ledger: None,
        content: std::sync::Arc::new(content),
        live,
        dev_accounts: Default::default(),
        web_dir: Some(config.api.web_dir.clone()),
        public_origin: config.api.public_origin.clone().filter(|o| !o.trim().is_empty()),
        assistant: None,
        jobs: None,
        admins: std::sync::Arc::new(config.api.admins.clone()),
        faucet: None,
        social: config.social,
        notifier: notifier.clone(),
    });
    let (shutdown, mut rx) = watch::channel(false);
    let notices = publish_notices(&bus, &notifier, rx.clone());
    let server = tokio::spawn(async move {
        let stop = async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        if let Err(e) = agora_api::serve(listener, router, stop).await {
            tracing::error!(error = %e, "HTTP server failed");
        }
    });
    Ok(Node { api_url, network, store, shutdown, tasks: vec![server, notices], dev_chain: None })
}

/// The deployment as an API-only process shows it: no embedded chain, no coordinator of its own.
fn network_info(config: &Config, d: &Deployments, rpc_url: &str) -> NetworkInfo {
    NetworkInfo {
        chain_id: d.chain_id,
        rpc_url: config.chain.public_rpc_url.clone().unwrap_or_else(|| rpc_url.to_owned()),
        compute_market: d.compute_market,
        market_token: d.market_token,
        payment_channel: d.payment_channel,
        data_market: d.data_market,
        federated_market: d.federated_market,
        task_board: d.task_board,
        communities: d.communities,
        fl_coordinator: None,
        fl_endpoint: None,
        deploy_block: d.deploy_block,
        embedded_chain: false,
    }
}
