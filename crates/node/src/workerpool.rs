//! Wiring of the Agora iExec workerpool: in `up` (on the dev chain's PoCo, or a configured hub
//! with a pool owner key) and alone (`agora workerpool`).

use std::sync::Arc;
use std::time::Duration;

use agora_content::AnyStore;
use agora_executor::Catalogue;
use agora_iexec::workerpool::{Workerpool, WorkerpoolConfig};
use agora_store::Store;
use alloy::primitives::{Address, U256};
use anyhow::{Context, Result};
use tokio::sync::watch;

use crate::{Config, DevChain, Senders};

/// The pool's configuration from `config`: on the dev chain the dev pool and its owner (account
/// 5); elsewhere `[iexec] hub` and `[iexec.workerpool] owner_key`. `None` when neither applies.
fn pool_config(
    config: &Config,
    dev: Option<&DevChain>,
    senders: &Senders,
    rpc_url: &str,
) -> Result<Option<WorkerpoolConfig>> {
    let parse = |what: &str, v: &str| v.parse::<Address>().with_context(|| format!("{what} {v:?} is not an address"));
    let dev_poco = dev.and_then(|d| d.iexec().map(|p| (d, p)));
    let (hub, owner_key, workerpool) = match (dev_poco, &config.iexec.hub) {
        (Some((d, poco)), _) => (
            poco.deployment.hub,
            config.iexec.workerpool.owner_key.clone().unwrap_or_else(|| d.iexec_workerpool_key().to_owned()),
            d.iexec_workerpool(),
        ),
        (None, Some(hub)) => {
            let Some(key) = config.iexec.workerpool.owner_key.clone() else {
                return Ok(None);
            };
            let pool = config
                .iexec
                .workerpool_address
                .as_deref()
                .map(|w| parse("[iexec] workerpool_address", w))
                .transpose()?;
            (parse("[iexec] hub", hub)?, key, pool)
        }
        (None, None) => return Ok(None),
    };
    let owner = senders.for_key(&owner_key).context("[iexec.workerpool] owner_key")?;
    let mut cfg = WorkerpoolConfig::new(rpc_url, hub, owner);
    if let Some(key) = &config.iexec.workerpool.worker_key {
        cfg.worker = senders.for_key(key).context("[iexec.workerpool] worker_key")?;
    }
    cfg.workerpool = workerpool;
    cfg.description = config.iexec.workerpool.description.clone();
    cfg.stake = U256::from(config.iexec.workerpool.stake_nrlc);
    cfg.price = U256::from(config.iexec.workerpool.price_nrlc);
    cfg.orders_file = Some(config.workerpool_orders());
    cfg.poll = Duration::from_millis(config.indexer.poll_interval_ms.max(50));
    cfg.confirmations = config.confirmations();
    cfg.batch_blocks = config.indexer.batch_blocks.max(1);
    if dev.is_some() {
        cfg.from_block = Some(0);
    }
    cfg.failpoint = config.iexec.workerpool.failpoint.clone().filter(|f| !f.is_empty());
    Ok(Some(cfg))
}

/// Starts the pool for `up` when iExec is on, after one first round (stake, orders file) so the
/// compute backend finds the pool's orders from the start. `gateway` serves `/ipfs/<cid>`. The
/// pool runs the node's own catalogue: the same apps under the same limits as the scheduler.
#[allow(clippy::too_many_arguments)] // wiring: each argument is a separate part of the node
pub(crate) async fn start_in_up(
    config: &Config,
    dev: Option<&DevChain>,
    senders: &Senders,
    gateway: &str,
    store: &Store,
    content: &Arc<AnyStore>,
    catalogue: &Arc<Catalogue>,
    shutdown: watch::Receiver<bool>,
) -> Result<Option<tokio::task::JoinHandle<()>>> {
    let rpc_url = dev.map(DevChain::rpc_url).or(config.chain.rpc_url.as_deref()).unwrap_or_default();
    let Some(mut cfg) = pool_config(config, dev, senders, rpc_url)? else {
        return Ok(None);
    };
    cfg.ipfs_gateway = Some(gateway.to_owned());
    let pool = start(cfg, store.clone(), content.clone(), catalogue).await?;
    Ok(Some(tokio::spawn(pool.run(shutdown))))
}

async fn start(
    mut cfg: WorkerpoolConfig,
    store: Store,
    content: Arc<AnyStore>,
    catalogue: &Catalogue,
) -> Result<Arc<Workerpool>> {
    cfg.apps = catalogue.apps().into_iter().collect();
    let pool = Workerpool::start(cfg, store, content, catalogue.executor().clone(), catalogue.wasm().cloned())
        .await
        .context("cannot start the Agora iExec workerpool")?;
    if let Err(e) = Arc::clone(&pool).tick().await {
        tracing::warn!(error = %e, "the workerpool's first round failed; it retries");
    }
    Ok(pool)
}

/// `agora workerpool`: one worker of an iExec workerpool, against `[chain] rpc_url` and `[iexec] hub`, until
/// `shutdown` resolves.
pub(crate) async fn run(config: &Config, shutdown: impl std::future::Future<Output = ()>) -> Result<()> {
    let rpc_url = config
        .chain
        .rpc_url
        .as_deref()
        .context("`agora workerpool` needs an RPC URL (--rpc-url or AGORA_CHAIN__RPC_URL)")?;
    if config.iexec.hub.is_none() {
        anyhow::bail!("`agora workerpool` needs the iExec hub's address (--hub or AGORA_IEXEC__HUB)");
    }
    let provider = agora_chain::read_provider(rpc_url)?;
    let chain_id = alloy::providers::Provider::get_chain_id(&provider).await?;
    let senders = Senders::new(provider, chain_id, agora_chain::SendPolicy::public());
    let cfg = pool_config(config, None, &senders, rpc_url)?
        .context("`agora workerpool` needs the pool owner's key (AGORA_IEXEC__WORKERPOOL__OWNER_KEY)")?;
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data dir {}", config.data_dir.display()))?;
    let store = Store::connect(&config.database_url()).await.context("cannot open the database")?;
    let content = agora_content::open(&config.content_store()).await.context("cannot open the content store")?;
    // iExec tasks name the catalogue's fixed apps; federated models are served by `agora up`.
    let catalogue = crate::catalogue::build(&config.data_dir.join("scratch"), None).await?;
    let pool = start(cfg, store, Arc::new(content), &catalogue).await?;
    tracing::info!(workerpool = %pool.address(), hub = config.iexec.hub.as_deref().unwrap_or_default(), "Agora workerpool serving");
    let (tx, rx) = watch::channel(false);
    let runner = tokio::spawn(pool.run(rx));
    shutdown.await;
    let _ = tx.send(true);
    runner.await?;
    Ok(())
}
