//! Wires Agora together. `up` brings a whole node up (the embedded anvil dev chain when no RPC URL
//! is configured, the contracts and demo services on it, the indexer and the HTTP API); `deploy`
//! puts the contracts on any chain; `index` runs the indexer alone.

#![warn(missing_docs)]

mod assistant;
pub mod board_client;
mod catalogue;
pub mod config;
pub mod data;
mod data_settle;
mod dev;
mod fl;
pub mod fl_client;
mod fl_fees;
mod fl_journal;
mod iexec_backend;
mod notify;
mod senders;
mod serve;
mod workerpool;

use std::path::Path;
use std::time::Duration;

use agora_api::{AppState, NetworkInfo};
use agora_chain::SendPolicy;
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
pub use senders::Senders;
pub use serve::serve;

/// What the `agora` command's client side (`agora channel …`, `agora chat`) uses, so that the
/// binary depends on this crate alone: the channel transactions and vouchers, the assistant's paying
/// client, the chain's sender, and the primitives they take.
pub mod client {
    pub use agora_assistant::client::*;
    pub use agora_assistant::protocol::{ErrorCode, FinishReason};
    pub use agora_assistant::{Pricing, protocol};
    pub use agora_chain::bindings::PaymentChannel::PaymentChannelErrors;
    pub use agora_chain::revert::ContractError;
    pub use agora_chain::{Error as ChainError, SendPolicy, Sender, signer_from_key};
    pub use agora_channels::payer_tx::{ChannelTx, OnChain, Opened};
    pub use agora_channels::{ChannelParams, VoucherDomain};
    pub use alloy::primitives::{Address, B256, U256, hex};
    pub use alloy::signers::local::PrivateKeySigner;

    /// A sender for `key` on the chain at `rpc_url`: the command's one sender for that key (the dev
    /// chain's policy on chain 31337, a public chain's otherwise).
    pub async fn sender(rpc_url: &str, key: &PrivateKeySigner) -> Result<Sender, ChainError> {
        use alloy::providers::Provider as _;
        let provider = agora_chain::read_provider(rpc_url)?;
        let chain_id = provider.get_chain_id().await?;
        let policy = if chain_id == 31337 { SendPolicy::dev() } else { SendPolicy::public() };
        Ok(Sender::new(provider, chain_id, key.clone(), policy))
    }
}

/// A node that is up: its indexer and API run until [`Node::shutdown`].
pub struct Node {
    /// Where the API listens (`http://127.0.0.1:8080`).
    pub api_url: String,
    /// The deployment it serves, as clients see it.
    pub network: NetworkInfo,
    /// Its database.
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

    /// The embedded dev chain, when this node runs one.
    pub fn dev_chain(&self) -> Option<&DevChain> {
        self.dev_chain.as_ref()
    }
}

/// Brings a node up as `config` says and returns once the API listens.
pub async fn up(config: &Config) -> Result<Node> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data dir {}", config.data_dir.display()))?;
    let (rpc_url, deployments, dev_chain) = match &config.chain.rpc_url {
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
    let senders = match &dev_chain {
        Some(chain) => chain.senders().clone(),
        None => Senders::new(provider.clone(), deployments.chain_id, SendPolicy::public()),
    };

    let store = Store::connect(&config.database_url()).await.context("cannot open the database")?;
    let (shutdown, shutdown_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    if dev_chain.is_some() {
        // A fresh dev chain: whatever was indexed from an earlier one is gone with it.
        store.reset_chain(deployments.chain_id).await?;
    }

    let indexer = Indexer::new(provider.clone(), store.clone(), indexer_config(config, &deployments));
    let payee_key = config.channels.payee_key.clone().or_else(|| dev_chain.as_ref().map(|c| c.payee_key().to_owned()));
    let mut payee_address = None;
    let mut background_jobs = None;
    let ledger = match &payee_key {
        Some(key) => {
            let payee = agora_chain::signer_from_key(key)?;
            payee_address = Some(payee.address());
            let mut cfg = LedgerConfig::new(deployments.chain_id, deployments.payment_channel);
            cfg.payees = vec![payee.address()];
            cfg.safety_margin_secs = config.channels.voucher_margin_secs;
            cfg.contract_signers = Some(provider.clone());
            let ledger = Ledger::start(store.clone(), cfg).await?;
            let settler = Settler::new(
                store.clone(),
                senders.for_key(key)?,
                SettlerConfig {
                    chain_id: deployments.chain_id,
                    contract: deployments.payment_channel,
                    payee: payee.address(),
                    margin_secs: config.channels.settle_margin_secs,
                    interval: Duration::from_millis(config.channels.settle_interval_ms.max(100)),
                },
            );
            // The payee is the fee receiver of predictions paid by vouchers: it forwards their fees.
            let fee_job = match deployments.federated_market {
                Some(market) => fl_fees::FeeForwardJob::job(
                    store.clone(),
                    deployments.chain_id,
                    senders.for_key(key)?,
                    market,
                    config.fl.forward_fees_every_secs,
                ),
                None => None,
            };
            let jobs = agora_channels::jobs::Jobs::with_jobs(settler, fee_job.into_iter().collect());
            background_jobs = Some(jobs.clone());
            let rx = shutdown_rx.clone();
            tasks.push(tokio::spawn(async move { jobs.run(rx).await }));
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
    let events = indexer.sender();
    // Task changes that are not chain events (a task's iExec deal and status), for live pages.
    let (task_updates, _) = tokio::sync::broadcast::channel::<u64>(1024);
    // Live events go through the bus (Redis when configured), so every API process hears them.
    let (bus, live) = serve::live(config, deployments.chain_id).await?;
    tasks.push(serve::publish(
        &bus,
        deployments.chain_id,
        events.subscribe(),
        task_updates.subscribe(),
        shutdown_rx.clone(),
    ));
    tasks.push(serve::publish_reorgs(&bus, indexer.subscribe_reorgs(), shutdown_rx.clone()));
    {
        let rx = shutdown_rx.clone();
        tasks.push(tokio::spawn(async move { indexer.run(rx).await }));
    }

    let mut network = NetworkInfo {
        chain_id: deployments.chain_id,
        rpc_url: config.chain.public_rpc_url.clone().unwrap_or_else(|| rpc_url.clone()),
        compute_market: deployments.compute_market,
        market_token: deployments.market_token,
        payment_channel: deployments.payment_channel,
        data_market: deployments.data_market,
        federated_market: deployments.federated_market,
        task_board: deployments.task_board,
        communities: deployments.communities,
        fl_coordinator: None,
        fl_endpoint: None,
        deploy_block: deployments.deploy_block,
        embedded_chain: dev_chain.is_some(),
    };
    let assistant = match (&ledger, payee_address) {
        (Some(ledger), Some(payee)) => {
            assistant::build(assistant::Wiring {
                settings: &config.assistant,
                store: &store,
                ledger,
                chain_id: deployments.chain_id,
                payee,
                market_token: deployments.market_token,
                voucher_margin_secs: config.channels.voucher_margin_secs,
            })
            .await?
        }
        _ => None,
    };
    if let Some(a) = assistant.clone() {
        // A channel closed on chain stops its streaming replies at once.
        let mut applied = events.subscribe();
        tasks.push(tokio::spawn(async move {
            loop {
                match applied.recv().await {
                    Ok(log) => a.on_event(&log.event),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        }));
    }
    let listener = tokio::net::TcpListener::bind(config.api.http_addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.api.http_addr))?;
    let api_url = format!("http://{}", listener.local_addr()?);
    let content = agora_content::open(&config.content_store()).await.context("cannot open the content store")?;
    let content = std::sync::Arc::new(content);
    let fl_models =
        catalogue::FlModels { store: store.clone(), chain_id: deployments.chain_id, content: (*content).clone() };
    let catalogue = catalogue::build(&config.data_dir.join("scratch"), Some(fl_models))
        .await
        .context("cannot set up the executor")?;
    // The Agora iExec workerpool: serves the dev chain's pool (or a configured hub's, with its
    // owner key) with the local executor; its progress lives in the node's database.
    if let Some(pool) = workerpool::start_in_up(
        config,
        dev_chain.as_ref(),
        &senders,
        &api_url,
        &store,
        &content,
        &catalogue,
        shutdown_rx.clone(),
    )
    .await?
    {
        tasks.push(pool);
    }
    let operator_key =
        config.compute.operator_key.clone().or_else(|| dev_chain.as_ref().map(|c| c.operator_key().to_owned()));
    if let Some(key) = operator_key {
        let iexec = iexec_backend::start(
            config,
            dev_chain.as_ref(),
            &senders,
            &rpc_url,
            &api_url,
            deployments.chain_id,
            &store,
            &content,
            &task_updates,
        )
        .await
        .context("cannot start the iExec backend")?;
        let mut runners: Vec<std::sync::Arc<dyn agora_compute::Runner>> =
            vec![std::sync::Arc::new(agora_compute::LocalRunner::new(catalogue.clone(), content.clone()).with_gate(
                std::sync::Arc::new(catalogue::FlListingGate { store: store.clone(), chain_id: deployments.chain_id }),
            ))];
        if let Some(backend) = iexec {
            runners.push(backend);
        }
        let scheduler = agora_compute::Scheduler::new(
            store.clone(),
            senders.for_key(&key)?,
            runners,
            agora_compute::SchedulerConfig {
                chain_id: deployments.chain_id,
                market: deployments.compute_market,
                services: Vec::new(),
                poll: Duration::from_millis(config.indexer.poll_interval_ms.max(50)),
                failpoint: config.compute.failpoint.clone().filter(|f| !f.is_empty()),
            },
        );
        let (rx, applied) = (shutdown_rx.clone(), events.subscribe());
        tasks.push(tokio::spawn(async move { scheduler.run(applied, rx).await }));
    }
    if let Some((endpoint, fl_tasks)) = fl::start_in_up(
        config,
        dev_chain.as_ref(),
        &senders,
        &provider,
        &deployments,
        &store,
        &content,
        events.subscribe(),
        shutdown_rx.clone(),
    )
    .await?
    {
        network.fl_coordinator = Some(endpoint.account);
        network.fl_endpoint = Some(endpoint.url);
        tasks.extend(fl_tasks);
    }
    let faucet = match &dev_chain {
        Some(c) => {
            Some(agora_api::Faucet::dev(senders.for_key(&c.accounts()[0].private_key)?, deployments.market_token))
        }
        None => None,
    };
    let dev_accounts = dev_chain
        .as_ref()
        .map(|c| {
            c.accounts()
                .iter()
                .enumerate()
                .map(|(index, a)| agora_api::DevAccountInfo {
                    index,
                    address: a.address.clone(),
                    private_key: a.private_key.clone(),
                    role: dev_role(index).to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    let (notifier, notify_tasks) =
        notify::start(config, &store, &api_url, deployments.chain_id, events.subscribe(), shutdown_rx.clone())?;
    tasks.extend(notify_tasks);
    tasks.push(serve::publish_notices(&bus, &notifier, shutdown_rx.clone()));
    let router = agora_api::router(AppState {
        store: store.clone(),
        provider,
        network: network.clone(),
        ledger,
        content,
        live,
        dev_accounts: std::sync::Arc::new(dev_accounts),
        web_dir: Some(config.api.web_dir.clone()),
        public_origin: config.api.public_origin.clone().filter(|o| !o.trim().is_empty()),
        assistant,
        jobs: background_jobs,
        admins: std::sync::Arc::new(config.api.admins.clone()),
        faucet,
        social: config.social,
        notifier,
    });
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
    if let Some(task) =
        dev::demo_data_seller(config, dev_chain.as_ref(), &rpc_url, &deployments, shutdown_rx.clone()).await?
    {
        tasks.push(task);
    }
    if let Some(chain) = &dev_chain {
        chain.write_dev_json(&config.data_dir, &api_url, config.iexec.workerpool.price_nrlc)?;
    }
    Ok(Node { api_url, network, store, shutdown, tasks, dev_chain })
}

/// The part a dev account plays in the demo, by its index in anvil's list.
fn dev_role(index: usize) -> &'static str {
    match index {
        0 => "owner",
        1 => "provider",
        2 => "operator",
        5 => "iexec-workerpool",
        6 => "iexec-requester",
        7 => "data-seller",
        9 => "iexec-admin",
        _ => "buyer",
    }
}

fn indexer_config(config: &Config, d: &Deployments) -> IndexerConfig {
    let mut cfg = IndexerConfig::for_deployments(d);
    cfg.confirmations = config.confirmations();
    cfg.poll_interval = Duration::from_millis(config.indexer.poll_interval_ms);
    cfg.batch_blocks = config.indexer.batch_blocks.max(1);
    cfg
}

/// Runs one worker of an iExec workerpool (`agora workerpool`) until `shutdown` resolves.
pub async fn workerpool(config: &Config, shutdown: impl std::future::Future<Output = ()>) -> Result<()> {
    workerpool::run(config, shutdown).await
}

/// Runs only the indexer against a configured chain until `shutdown` resolves.
pub async fn index(config: &Config, shutdown: impl std::future::Future<Output = ()>) -> Result<()> {
    let rpc_url = config
        .chain
        .rpc_url
        .as_deref()
        .context("`agora index` needs an RPC URL (--rpc-url or AGORA_CHAIN__RPC_URL)")?;
    let path = config.deployments_path();
    let d = Deployments::load(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let provider: DynProvider = agora_chain::read_provider(rpc_url)?;
    agora_chain::ensure_chain(&provider, d.chain_id).await?;
    let store = Store::connect(&config.database_url()).await.context("cannot open the database")?;
    let indexer = Indexer::new(provider, store, indexer_config(config, &d));
    let (tx, rx) = watch::channel(false);
    let _publisher =
        serve::publish_index(config, d.chain_id, indexer.subscribe(), indexer.subscribe_reorgs(), rx.clone()).await?;
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
    let sender = agora_chain::Sender::connect(rpc_url, signer, SendPolicy::public()).await?;
    let d = agora_chain::deploy::deploy_contracts(&sender, owner, operator).await?;
    d.save(out).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(d)
}
