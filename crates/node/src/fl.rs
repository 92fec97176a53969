//! The federated-learning market's coordinator, a role of the node: every FederatedMarket task whose
//! `coordinator` is this node's key gets an `agora_federated::Coordinator`, found as the indexer
//! applies its `TaskCreated` (and, at start-up, among the indexed tasks still open or training).
//! Participants (`agora fl-client`, or the page's demo trainers) connect to one WebSocket listener,
//! `ws://host:port/tasks/{id}`, routed by the path to the task's coordinator. What a coordinator
//! does is journaled in the store (`fl_journal.rs`: `fl_rounds`, `fl_logs`, `fl_results`,
//! `fl_references`), which the API serves.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use agora_content::{AnyStore, Cid, ContentStore};
use agora_federated::protocol::ToClient;
use agora_federated::{ChainTaskActions, ChainTaskBook, Coordinator, CoordinatorOptions, Journal, TaskSpec};
use agora_store::{FlTaskFilter, FlTaskState, IndexedLog, MarketEvent, Store};
use alloy::primitives::Address;
use alloy::providers::DynProvider;
use anyhow::{Context, Result};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

use crate::fl_journal::StoreJournal;

type Coordinators = Arc<Mutex<HashMap<u64, Arc<Coordinator<AnyStore>>>>>;

/// What the role needs from the node.
pub(crate) struct Wiring {
    pub store: Store,
    pub provider: DynProvider,
    pub sender: agora_chain::Sender,
    pub chain_id: u64,
    pub market: Address,
    pub deploy_block: u64,
    pub content: AnyStore,
    pub listen: SocketAddr,
    pub fashion_dir: std::path::PathBuf,
    pub mnist_dir: std::path::PathBuf,
    pub events: broadcast::Receiver<IndexedLog>,
    pub shutdown: watch::Receiver<bool>,
}

/// Where participants connect, as the API advertises it.
#[derive(Clone)]
pub(crate) struct Endpoint {
    /// The coordinator's account.
    pub account: Address,
    /// `ws://host:port`; a task's participants connect to `{url}/tasks/{id}`.
    pub url: String,
    /// Tasks with a coordinator now (participants connecting before theirs is ready are turned away).
    coordinators: Coordinators,
    /// Bumped each time a coordinator is registered.
    registered: watch::Receiver<u64>,
}

impl Endpoint {
    /// Waits until task `task` has a coordinator accepting participants.
    async fn coordinated(&self, task: u64) -> Result<()> {
        let mut rx = self.registered.clone();
        let has = |m: &Coordinators| m.lock().map(|m| m.contains_key(&task)).unwrap_or(false);
        let coordinators = self.coordinators.clone();
        tokio::time::timeout(std::time::Duration::from_secs(120), rx.wait_for(|_| has(&coordinators)))
            .await
            .context("no coordinator for the task within 2 minutes")?
            .context("the coordinator role stopped")?;
        Ok(())
    }
}

/// The role as `agora up` runs it: with `[fl] coordinator_key` (on the embedded chain, the
/// operator's key by default) and a FederatedMarket in the deployment; on the embedded chain also
/// the demo task (`[fl] demo`). `None` when this node coordinates nothing.
#[allow(clippy::too_many_arguments)] // wiring: each argument is a separate part of the node
pub(crate) async fn start_in_up(
    config: &crate::Config,
    dev: Option<&crate::DevChain>,
    senders: &crate::Senders,
    provider: &DynProvider,
    deployments: &agora_chain::deploy::Deployments,
    store: &Store,
    content: &AnyStore,
    events: broadcast::Receiver<IndexedLog>,
    shutdown: watch::Receiver<bool>,
) -> Result<Option<(Endpoint, Vec<tokio::task::JoinHandle<()>>)>> {
    let Some(market) = deployments.federated_market else { return Ok(None) };
    let Some(key) = config.fl.coordinator_key.clone().or_else(|| dev.map(|d| d.operator_key().to_owned())) else {
        return Ok(None);
    };
    let (mut endpoint, tasks) = start(Wiring {
        store: store.clone(),
        provider: provider.clone(),
        sender: senders.for_key(&key)?,
        chain_id: deployments.chain_id,
        market,
        deploy_block: deployments.deploy_block,
        content: content.clone(),
        listen: config.fl.listen,
        fashion_dir: config.fl.fashion_dir.clone(),
        mnist_dir: config.fl.mnist_dir.clone(),
        events,
        shutdown,
    })
    .await?;
    if let Some(url) = &config.fl.endpoint {
        endpoint.url = url.trim_end_matches('/').to_owned();
    }
    if let Some(dev) = dev.filter(|_| config.fl.demo) {
        let owner = senders.for_key(&dev.accounts()[0].private_key)?;
        let mut trainers = Vec::new();
        for i in 0..3u8 {
            // Keys of the demo alone (no dev account: tests and people use those), funded below.
            let secret = alloy::primitives::keccak256(format!("agora federated-learning demo trainer {i}"));
            let key = alloy::signers::local::PrivateKeySigner::from_bytes(&secret)?;
            let sender = senders.for_key(&alloy::primitives::hex::encode_prefixed(secret))?;
            trainers.push((key, sender));
        }
        let demo_task = Demo {
            investor: senders.for_key(&dev.accounts()[1].private_key)?,
            owner,
            trainers,
            market,
            token: deployments.market_token,
            chain_id: deployments.chain_id,
            endpoint: endpoint.clone(),
            content: content.clone(),
            fashion_dir: config.fl.fashion_dir.clone(),
            mnist_dir: config.fl.mnist_dir.clone(),
        };
        // Not among the node's tasks: shutdown does not wait for a demo still training.
        drop(tokio::spawn(async move {
            if let Err(e) = demo(demo_task).await {
                tracing::warn!(error = %format!("{e:#}"), "the federated-learning demo task stopped");
            }
        }));
    }
    Ok(Some((endpoint, tasks)))
}

/// Starts the role: binds the listener, picks up the tasks already indexed, follows new ones.
pub(crate) async fn start(w: Wiring) -> Result<(Endpoint, Vec<tokio::task::JoinHandle<()>>)> {
    let listener =
        TcpListener::bind(w.listen).await.with_context(|| format!("cannot listen on {} ([fl] listen)", w.listen))?;
    let url = format!("ws://{}", listener.local_addr()?);
    let account = w.sender.address();
    let coordinators: Coordinators = Arc::default();
    let (registered, registered_rx) = watch::channel(0u64);
    let role = Arc::new(Role {
        store: w.store,
        book: Arc::new(ChainTaskBook::new(w.provider, w.market, w.deploy_block)),
        actions: Arc::new(ChainTaskActions::new(Arc::new(w.sender), w.market)),
        chain_id: w.chain_id,
        account,
        content: w.content,
        fashion_dir: w.fashion_dir,
        mnist_dir: w.mnist_dir,
        coordinators: coordinators.clone(),
        registered,
    });
    let mut tasks = vec![tokio::spawn(accept_loop(listener, role.clone(), w.shutdown.clone()))];
    role.clone().adopt_indexed().await?;
    let (mut events, mut shutdown) = (w.events, w.shutdown);
    let follower = role.clone();
    tasks.push(tokio::spawn(async move {
        loop {
            let event = tokio::select! {
                _ = shutdown.wait_for(|s| *s) => return,
                event = events.recv() => event,
            };
            match event {
                Ok(log) => {
                    if let MarketEvent::Fl(agora_store::FlEvent::TaskCreated { task_id, coordinator, spec, .. }) =
                        &log.event
                        && coordinator.parse::<Address>().ok() == Some(account)
                    {
                        follower.clone().coordinate(*task_id, spec.clone());
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "fl coordinator: missed indexer events; rescanning tasks");
                    if let Err(e) = follower.clone().adopt_indexed().await {
                        tracing::warn!(error = %e, "fl coordinator: rescanning the indexed tasks failed");
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }));
    tracing::info!(%account, %url, "federated-learning coordinator listening");
    Ok((Endpoint { account, url, coordinators, registered: registered_rx }, tasks))
}

struct Role {
    store: Store,
    book: Arc<ChainTaskBook>,
    actions: Arc<ChainTaskActions>,
    chain_id: u64,
    account: Address,
    content: AnyStore,
    fashion_dir: std::path::PathBuf,
    mnist_dir: std::path::PathBuf,
    coordinators: Coordinators,
    registered: watch::Sender<u64>,
}

impl Role {
    /// Coordinates every indexed task that names this node and is still open or training (at
    /// start-up, and after missed indexer events).
    async fn adopt_indexed(self: Arc<Self>) -> Result<()> {
        let tasks = self.store.fl_tasks(self.chain_id, FlTaskFilter::default(), 10_000).await?;
        let ours = tasks
            .into_iter()
            .filter(|t| t.coordinator == self.account && matches!(t.state, FlTaskState::Open | FlTaskState::Training));
        for t in ours {
            self.clone().coordinate(t.task_id, t.spec);
        }
        Ok(())
    }

    /// Runs task `task`'s coordinator in the background, once.
    fn coordinate(self: Arc<Self>, task: u64, spec_cid: String) {
        if self.coordinators.lock().map(|m| m.contains_key(&task)).unwrap_or(true) {
            return;
        }
        tokio::spawn(async move {
            if let Err(e) = self.run(task, &spec_cid).await {
                tracing::warn!(task, error = %format!("{e:#}"), "federated task not coordinated");
                let _ = self.journal().log(task, &format!("the coordinator stopped: {e:#}")).await;
            }
            if let Ok(mut m) = self.coordinators.lock() {
                m.remove(&task);
            }
        });
    }

    fn journal(&self) -> StoreJournal {
        StoreJournal::new(self.store.clone(), self.chain_id)
    }

    async fn run(&self, task: u64, spec_cid: &str) -> Result<()> {
        let cid: Cid = spec_cid.parse().with_context(|| format!("its spec {spec_cid:?} is not a CID"))?;
        let bytes = self.content.get(&cid).await?.with_context(|| {
            format!("its spec {cid} is not in this node's content store (post it to /api/fl/specs)")
        })?;
        let spec = TaskSpec::from_bytes(&bytes)?;
        let mut options = CoordinatorOptions::new(task, self.chain_id, self.account, spec);
        options.fashion_dir = self.fashion_dir.clone();
        options.mnist_dir = self.mnist_dir.clone();
        let journal: Arc<dyn Journal> = Arc::new(self.journal());
        let coordinator = Arc::new(
            Coordinator::new(options, self.book.clone(), self.actions.clone(), self.content.clone(), journal).await?,
        );
        {
            let mut m = self.coordinators.lock().ok().context("coordinator table poisoned")?;
            if m.contains_key(&task) {
                return Ok(());
            }
            m.insert(task, coordinator.clone());
        }
        self.registered.send_modify(|n| *n += 1);
        let result = coordinator.run().await?;
        tracing::info!(task, record = %result.record_cid, accuracy = result.accuracy, "federated task finished");
        Ok(())
    }
}

/// How long a participant that connects for a task this node coordinates but has not started a
/// coordinator for yet (the node is starting) is kept waiting before the connection is dropped.
const AWAIT_COORDINATOR: std::time::Duration = std::time::Duration::from_secs(30);

/// What a connection for a task without a running coordinator is told.
enum Absent {
    /// Training ended: `finished` with the record, as the coordinator would have said.
    Finished(String),
    /// Nothing will ever train here: `error`, which the participant does not retry.
    Never(String),
    /// This node coordinates the task and its coordinator is starting: wait for it.
    Starting,
}

impl Role {
    /// Why task `task` (from the path `path`) has no coordinator in the table.
    async fn absent(&self, task: Option<u64>, path: &str) -> Absent {
        let Some(task) = task else {
            return Absent::Never(format!("{path:?} names no task (connect to /tasks/{{id}})"));
        };
        let row = match self.store.fl_task(self.chain_id, task).await {
            Ok(Some(row)) => row,
            Ok(None) => return Absent::Never(format!("task {task} is not known to this node")),
            // The database failing is this node's trouble, not the task's: let the participant retry.
            Err(e) => {
                tracing::warn!(task, error = %e, "fl: cannot read the task for a connection");
                return Absent::Starting;
            }
        };
        if row.coordinator != self.account {
            return Absent::Never(format!("task {task} is coordinated by {}, not this node", row.coordinator));
        }
        match (row.state, row.record_cid) {
            (FlTaskState::Finished, Some(record)) => Absent::Finished(record),
            (FlTaskState::Open | FlTaskState::Training, _) => Absent::Starting,
            (state, _) => Absent::Never(format!("task {task} is {}; nothing trains any more", state.as_str())),
        }
    }

    /// Hands `ws` to task `task`'s coordinator, or tells it why there is none.
    async fn route<S>(&self, ws: tokio_tungstenite::WebSocketStream<S>, task: Option<u64>, path: &str) -> Result<()>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        let find = || task.and_then(|t| self.coordinators.lock().ok().and_then(|m| m.get(&t).cloned()));
        let coordinator = match find() {
            Some(c) => Some(c),
            None => match self.absent(task, path).await {
                Absent::Starting => {
                    let mut registered = self.registered.subscribe();
                    let _ = tokio::time::timeout(AWAIT_COORDINATOR, registered.wait_for(|_| find().is_some())).await;
                    find()
                }
                Absent::Finished(record) => return say(ws, ToClient::Finished { record }).await,
                Absent::Never(message) => return say(ws, ToClient::Error { message }).await,
            },
        };
        match coordinator {
            Some(c) => Ok(c.accept(ws).await?),
            // Dropped without a word: the participant connects again by itself.
            None => Ok(()),
        }
    }
}

/// Sends one message and closes.
async fn say<S>(ws: tokio_tungstenite::WebSocketStream<S>, message: ToClient) -> Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut conn = agora_federated::protocol::Conn::new(ws);
    conn.send(&message).await?;
    conn.close().await;
    Ok(())
}

/// Accepts WebSockets and hands each to the coordinator its path names (`/tasks/{id}`).
async fn accept_loop(listener: TcpListener, role: Arc<Role>, mut shutdown: watch::Receiver<bool>) {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.wait_for(|s| *s) => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((tcp, peer)) = accepted else {
            // Out of descriptors, say: wait a moment rather than spin.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            continue;
        };
        let role = role.clone();
        tokio::spawn(async move {
            let path = Arc::new(Mutex::new(String::new()));
            let seen = path.clone();
            // The callback's type is tungstenite's, whose error response is large.
            #[allow(clippy::result_large_err)]
            let callback = move |req: &Request, res: Response| {
                if let Ok(mut p) = seen.lock() {
                    *p = req.uri().path().to_owned();
                }
                Ok(res)
            };
            let config = Some(agora_federated::protocol::ws_config());
            let ws = match tokio_tungstenite::accept_hdr_async_with_config(tcp, callback, config).await {
                Ok(ws) => ws,
                Err(e) => return tracing::debug!(%peer, error = %e, "fl: WebSocket handshake failed"),
            };
            let path = path.lock().map(|p| p.clone()).unwrap_or_default();
            let task = path.strip_prefix("/tasks/").and_then(|id| id.parse::<u64>().ok());
            if let Err(e) = role.route(ws, task, &path).await {
                tracing::debug!(%peer, %path, error = %format!("{e:#}"), "fl: participant connection ended");
            }
        });
    }
}

/// The embedded chain's demo task: an investor's reward pool on Fashion-MNIST, three simulated
/// participants in process (through the same protocol and the same chain transactions as
/// `agora fl-client`), one of them training on shuffled labels, so the pages show a live task, its
/// accuracy curve and contributions, and a finished model to pay for predictions.
pub(crate) struct Demo {
    /// The investor (pays the pool in MarketToken).
    pub investor: agora_chain::Sender,
    /// The dev chain's owner, who funds the trainers (ETH for gas) and mints MarketToken.
    pub owner: agora_chain::Sender,
    /// The participants' keys and senders.
    pub trainers: Vec<(alloy::signers::local::PrivateKeySigner, agora_chain::Sender)>,
    pub market: Address,
    pub token: Address,
    pub chain_id: u64,
    pub endpoint: Endpoint,
    pub content: AnyStore,
    pub fashion_dir: std::path::PathBuf,
    pub mnist_dir: std::path::PathBuf,
}

/// The demo's pool: 100 MarketToken.
const DEMO_POOL: u128 = 100 * 10u128.pow(18);

/// Creates the demo task, has the trainers join and runs them until training ends.
pub(crate) async fn demo(d: Demo) -> Result<()> {
    use agora_chain::bindings::{FederatedMarket, MarketToken};
    use alloy::primitives::{U256, aliases::U96};
    let mut spec = TaskSpec::fashion_mnist(2026);
    spec.blocks = 60;
    spec.blocks_per_member = 2;
    spec.rounds = 4;
    spec.round_timeout_secs = 300;
    spec.min_participants = d.trainers.len() as u16;
    let cid = d.content.put(spec.to_bytes()?).await?;
    let provider = d.investor.provider();
    for (_, trainer) in &d.trainers {
        let gas_money =
            alloy::rpc::types::TransactionRequest::default().to(trainer.address()).value(U256::from(10u128.pow(18)));
        d.owner.send_request(gas_money).await?;
    }
    let now = provider_time(provider).await?;
    let pool = U96::from(DEMO_POOL);
    d.investor.send(MarketToken::new(d.token, provider).approve(d.market, U256::from(DEMO_POOL))).await?;
    let params = agora_chain::bindings::IFederatedMarket::TaskParams {
        mode: 0,
        coordinator: d.endpoint.account,
        token: d.token,
        pool,
        predictionFee: U96::from(10u128.pow(18)),
        blockToken: d.token,
        blockPrice: U96::from(10u128 * 10u128.pow(18)),
        totalBlocks: 20,
        minParticipants: spec.min_participants,
        startDeadline: alloy::primitives::aliases::U40::from(now + 3600),
        finishDeadline: alloy::primitives::aliases::U40::from(now + 7 * 86_400),
        spec: cid.to_string(),
    };
    let receipt = d.investor.send(FederatedMarket::new(d.market, provider).createTask(params)).await?;
    let task = receipt
        .decoded_log::<FederatedMarket::TaskCreated>()
        .map(|l| l.data.taskId.to::<u64>())
        .context("createTask emitted no TaskCreated")?;
    tracing::info!(task, "demo federated task created; its participants join");
    d.endpoint.coordinated(task).await?;
    let mut runs = Vec::new();
    for (i, (key, sender)) in d.trainers.into_iter().enumerate() {
        sender.send(FederatedMarket::new(d.market, sender.provider()).join(U256::from(task))).await?;
        let mut options = agora_federated::ClientOptions::new(
            format!("{}/tasks/{task}", d.endpoint.url),
            task,
            d.chain_id,
            d.endpoint.account,
            cid.to_string(),
        );
        options.fashion_dir = d.fashion_dir.clone();
        options.mnist_dir = d.mnist_dir.clone();
        // The last participant trains on shuffled labels: its contribution comes out the least.
        options.behaviour.shuffle_labels = i == 2;
        runs.push(tokio::spawn(async move { agora_federated::client::run(&key, &options).await }));
    }
    for run in runs {
        match run.await {
            Ok(Ok(report)) => tracing::debug!(task, rounds = report.trained.len(), "demo participant done"),
            Ok(Err(e)) => tracing::warn!(task, error = %e, "demo participant stopped"),
            Err(e) => tracing::warn!(task, error = %e, "demo participant panicked"),
        }
    }
    Ok(())
}

async fn provider_time(provider: &DynProvider) -> Result<u64> {
    use alloy::providers::Provider as _;
    let block = provider
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await?
        .context("the chain has no latest block")?;
    Ok(block.header.timestamp)
}
