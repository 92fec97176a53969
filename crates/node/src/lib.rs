//! Wires Agora together. `up` brings a whole node up (the embedded anvil dev chain when no RPC URL
//! is configured, the contracts and demo services on it, the indexer and the HTTP API); `deploy`
//! puts the contracts on any chain; `index` runs the indexer alone.

pub mod config;
mod dev;

use std::path::Path;
use std::time::Duration;

use agora_api::{AppState, NetworkInfo};
use agora_chain::deploy::Deployments;
use agora_channels::settle::{Settler, SettlerConfig};
use agora_channels::{Ledger, LedgerConfig};
use agora_indexer::{Indexer, IndexerConfig};
use agora_store::Store;
use alloy::providers::{DynProvider, Provider};
use anyhow::{Context, Result};
use tokio::sync::watch;

pub use alloy::primitives::Address;
pub use config::Config;
pub use dev::{DevChain, DevInfo};

/// A node that is up: its indexer and API run until [`Node::shutdown`].
pub struct Node {
    pub api_url: String,
    pub network: NetworkInfo,
    pub store: Store,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    dev_chain: Option<DevChain>,
}

impl Node {
    /// Stops the indexer and the API, then the embedded chain if there is one.
    pub async fn shutdown(self) -> Result<()> {
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        if let Some(chain) = self.dev_chain {
            chain.stop().await?;
        }
        Ok(())
    }

    pub fn dev_chain(&self) -> Option<&DevChain> {
        self.dev_chain.as_ref()
    }
}

/// Brings a node up as `config` says and returns once the API listens.
pub async fn up(config: &Config) -> Result<Node> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data dir {}", config.data_dir.display()))?;
    let (rpc_url, deployments, dev_chain) = match &config.rpc_url {
        None => {
            let chain = DevChain::start(config).await?;
            (chain.rpc_url().to_owned(), chain.deployments().clone(), Some(chain))
        }
        Some(url) => {
            let path = config.deployments_path();
            let d = Deployments::load(&path).with_context(|| {
                format!("cannot read the deployments file {} (write one with `agora deploy`)", path.display())
            })?;
            (url.clone(), d, None)
        }
    };
    let provider = agora_chain::read_provider(&rpc_url)?;
    agora_chain::ensure_chain(&provider, deployments.chain_id).await?;

    let store = Store::connect(&config.database_url()).await.context("cannot open the database")?;
    let (shutdown, shutdown_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    if dev_chain.is_some() {
        // A fresh dev chain: whatever was indexed from an earlier one is gone with it.
        store.reset_chain(deployments.chain_id).await?;
    }

    let indexer = Indexer::new(provider.clone(), store.clone(), indexer_config(config, &deployments));
    let payee_key = config.payee_key.clone().or_else(|| dev_chain.as_ref().map(|c| c.payee_key().to_owned()));
    let ledger = match &payee_key {
        Some(key) => {
            let payee = agora_chain::signer_from_key(key)?;
            let mut cfg = LedgerConfig::new(deployments.chain_id, deployments.payment_channel);
            cfg.payees = vec![payee.address()];
            cfg.safety_margin_secs = config.voucher_margin_secs;
            let ledger = Ledger::start(store.clone(), cfg).await?;
            let settler = Settler::new(
                store.clone(),
                agora_chain::signing_provider(&rpc_url, payee.clone())?,
                SettlerConfig {
                    chain_id: deployments.chain_id,
                    contract: deployments.payment_channel,
                    payee: payee.address(),
                    margin_secs: config.settle_margin_secs,
                    interval: Duration::from_millis(config.settle_interval_ms.max(100)),
                },
            );
            let rx = shutdown_rx.clone();
            tasks.push(tokio::spawn(async move { settler.run(rx).await }));
            let mut events = indexer.subscribe();
            let l = ledger.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    match events.recv().await {
                        Ok(log) => l.on_event(&log.event),
                        // Missed events: forget everything cached; it reloads from the store.
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => l.forget_all(),
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    }
                }
            }));
            Some(ledger)
        }
        None => None,
    };
    if dev_chain.is_some() {
        // The dev chain is a few blocks long: index it before announcing the node, so the demo
        // services are there from the first request. Remote chains catch up in the background.
        let head = provider.get_block_number().await?;
        indexer.sync_to(head).await.context("initial indexing of the dev chain failed")?;
    }
    {
        let rx = shutdown_rx.clone();
        tasks.push(tokio::spawn(async move { indexer.run(rx).await }));
    }

    let network = NetworkInfo {
        chain_id: deployments.chain_id,
        rpc_url: config.public_rpc_url.clone().unwrap_or_else(|| rpc_url.clone()),
        compute_market: deployments.compute_market,
        market_token: deployments.market_token,
        payment_channel: deployments.payment_channel,
        deploy_block: deployments.deploy_block,
        embedded_chain: dev_chain.is_some(),
    };
    let listener = tokio::net::TcpListener::bind(config.http_addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.http_addr))?;
    let api_url = format!("http://{}", listener.local_addr()?);
    let content = agora_content::open(&agora_content::ContentConfig {
        dir: config.data_dir.join("content"),
        ipfs_api: config.ipfs_api.clone().filter(|u| !u.trim().is_empty()),
    })
    .await
    .context("cannot open the content store")?;
    let content = std::sync::Arc::new(content);
    let operator_key = config.operator_key.clone().or_else(|| dev_chain.as_ref().map(|c| c.operator_key().to_owned()));
    if let Some(key) = operator_key {
        let scratch = config.data_dir.join("scratch");
        std::fs::create_dir_all(&scratch)?;
        let wasm = agora_executor::LocalExecutor::new(agora_executor::LocalConfig {
            scratch_dir: scratch.clone(),
            ..agora_executor::LocalConfig::default()
        })?;
        let mut apps = std::collections::HashMap::new();
        for app in agora_executor::sample_apps() {
            let id = wasm.register_app(app.source)?;
            if app.name == "wordcount" {
                // The demo's data-processing service counts words.
                apps.insert("data-processing".to_owned(), (id, agora_executor::Limits::default()));
            }
        }
        let ffmpeg_found = std::process::Command::new("ffmpeg")
            .arg("-version")
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let ffmpeg = if ffmpeg_found {
            // Video needs more room than a wasm job: 2 GiB of address space, 256 MiB of output.
            let limits = agora_executor::Limits {
                memory_bytes: 2 << 30,
                output_bytes: 256 << 20,
                ..agora_executor::Limits::default()
            };
            apps.insert("video-transcode".to_owned(), (agora_executor::ffmpeg::transcode_app(240), limits));
            Some(agora_executor::ffmpeg::FfmpegExecutor::new("ffmpeg", &scratch))
        } else {
            tracing::warn!("ffmpeg not found: video-transcode tasks will not be run by this node");
            None
        };
        // The AI-inference demo: a digit classifier trained now, in a second or two.
        let (model, report) = tokio::task::spawn_blocking(|| agora_inference::DigitModel::train(200)).await??;
        tracing::info!(
            test_accuracy = report.test_accuracy,
            held_out = report.test_samples,
            "digits model trained for ai-inference tasks"
        );
        apps.insert(
            "ai-inference".to_owned(),
            (agora_executor::AppId::new(agora_inference::DIGITS_APP), agora_executor::Limits::default()),
        );
        let model: std::sync::Arc<dyn agora_executor::Executor> =
            std::sync::Arc::new(agora_inference::DigitsExecutor::new(model));
        let executor = agora_executor::ffmpeg::Dispatch { wasm, ffmpeg, model: Some(model) };
        let scheduler = agora_compute::Scheduler::new(
            store.clone(),
            agora_chain::signing_provider(&rpc_url, agora_chain::signer_from_key(&key)?)?,
            std::sync::Arc::new(executor),
            content.clone(),
            agora_compute::SchedulerConfig {
                chain_id: deployments.chain_id,
                market: deployments.compute_market,
                apps,
                services: Vec::new(),
                poll: Duration::from_millis(config.poll_interval_ms.max(50)),
                failpoint: config.failpoint.clone().filter(|f| !f.is_empty()),
            },
        );
        let rx = shutdown_rx.clone();
        tasks.push(tokio::spawn(async move { scheduler.run(rx).await }));
    }
    let router =
        agora_api::router(AppState { store: store.clone(), provider, network: network.clone(), ledger, content });
    {
        let mut rx = shutdown_rx.clone();
        tasks.push(tokio::spawn(async move {
            let stop = async move {
                let _ = rx.wait_for(|s| *s).await;
            };
            if let Err(e) = agora_api::serve(listener, router, stop).await {
                tracing::error!(error = %e, "HTTP server failed");
            }
        }));
    }
    if let Some(chain) = &dev_chain {
        chain.write_dev_json(&config.data_dir, &api_url)?;
    }
    Ok(Node { api_url, network, store, shutdown, tasks, dev_chain })
}

fn indexer_config(config: &Config, d: &Deployments) -> IndexerConfig {
    let mut cfg = IndexerConfig::new(d.chain_id, d.indexed_contracts(), d.deploy_block);
    cfg.confirmations = config.confirmations();
    cfg.poll_interval = Duration::from_millis(config.poll_interval_ms);
    cfg.batch_blocks = config.batch_blocks.max(1);
    cfg
}

/// Runs only the indexer against a configured chain until `shutdown` resolves.
pub async fn index(config: &Config, shutdown: impl std::future::Future<Output = ()>) -> Result<()> {
    let rpc_url = config.rpc_url.as_deref().context("`agora index` needs an RPC URL (--rpc-url or AGORA_RPC_URL)")?;
    let path = config.deployments_path();
    let d = Deployments::load(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let provider: DynProvider = agora_chain::read_provider(rpc_url)?;
    agora_chain::ensure_chain(&provider, d.chain_id).await?;
    let store = Store::connect(&config.database_url()).await.context("cannot open the database")?;
    let indexer = Indexer::new(provider, store, indexer_config(config, &d));
    let (tx, rx) = watch::channel(false);
    tokio::select! {
        _ = indexer.run(rx) => {}
        _ = shutdown => { let _ = tx.send(true); }
    }
    Ok(())
}

/// Deploys the contracts with `deployer_key` (who becomes the owner), appoints `operator`, and
/// writes the deployments file to `out`.
pub async fn deploy(
    rpc_url: &str,
    deployer_key: &str,
    operator: alloy::primitives::Address,
    out: &Path,
) -> Result<Deployments> {
    let signer = agora_chain::signer_from_key(deployer_key)?;
    let owner = signer.address();
    let provider = agora_chain::signing_provider(rpc_url, signer)?;
    let d = agora_chain::deploy::deploy_contracts(&provider, owner, operator).await?;
    d.save(out).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(d)
}
