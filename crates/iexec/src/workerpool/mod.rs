//! The Agora workerpool: an iExec workerpool whose workers run tasks with Agora's executor.
//!
//! Each [`Workerpool`] is one worker (a key that contributes) of one pool (a key that owns it: it
//! signs the pool's orders and each worker's authorization to contribute). On start it finds or
//! registers the pool. Then, every poll (stake and orders at start, after new deals and every
//! few seconds):
//! - **stake**: the owner's free iExec balance is topped up (RLC `approve` + `deposit`) to the
//!   configured stake, which matching a deal locks 30 % of the pool's price from;
//! - **orders**: one signed workerpool order per category the hub has, re-signed once half
//!   consumed, written to a file (the offline stand-in for iExec's market API) when configured;
//! - **deals**: `SchedulerNotice` logs naming the pool are read from a cursor; each deal's tasks
//!   are recorded with the cursor's move in one transaction. Progress lives in the node's
//!   database (`agora-store`, tables `iexec_worker_*`) rather than a state file: it is then on
//!   PostgreSQL when the node is, several worker processes on one database share nothing by
//!   accident (rows are per worker), and each stage change is one durable commit;
//! - **tasks**, each one stage at a time, every stage recorded before the next begins:
//!   `initialize` (whoever comes first; the others read it as done) → run the app on Agora's
//!   executor with the deal's input → the result archive ([`crate::result`]) into the content
//!   store → `contributeAndFinalize` (trust 1) → done. A task this worker cannot finish (the app
//!   fails, the input is missing, the contribution deadline passed) is left `ACTIVE` and claimed
//!   once its final deadline is past, unless someone else claims or finishes it first.
//!
//! The files follow a task's way through the pool: `stake.rs` (the owner's deposit), `orders.rs`
//! (the signed orders), `deals.rs` (deals found in the hub's logs), `stages.rs` (one task moved
//! through its recorded stages), `run.rs` (the app run on the deal's input, the result stored),
//! `contribute.rs` (the two transactions whose hash is recorded before their receipt:
//! `contributeAndFinalize` and `claim`) and `sign.rs` (the owner's authorization and the enclave
//! signature).
//!
//! Before every transaction the task is read back from the hub, so a restart after a crash (at
//! any point) never contributes twice and never loses a task; and the hub itself refuses a second
//! contribution, so several worker processes can serve one pool: they race, one wins, the others
//! record the task as completed by another worker.
//!
//! Contributions to TEE-tagged deals (every deal the `iexec` CLI v9 makes) carry an enclave
//! challenge and an enclave signature, which the hub requires. Agora's sandbox is not an SGX/TDX
//! enclave: the "enclave" key is derived by this worker from its own key and the task id, and
//! nothing on chain checks an attestation (the hub has no TEE broker here). It proves the result
//! came from this worker, not that it ran in a TEE.

mod contribute;
mod deals;
mod orders;
mod run;
mod sign;
mod stages;
mod stake;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use agora_chain::Sender;
use agora_content::{AnyStore, Gateway};
use agora_executor::{AppId, Executor, Limits, LocalExecutor};
use agora_store::{Store, WorkerScope};
use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::sol_types::Eip712Domain;
use tokio::sync::watch;

use crate::bindings::{IexecHub, Registry, Workerpool as WorkerpoolContract};
use crate::orders::{SignedWorkerpoolOrder, domain};
use crate::tx::{call_error, send};
use crate::{Error, Result};

/// How a worker of the pool runs.
#[derive(Clone)]
pub struct WorkerpoolConfig {
    /// JSON-RPC of the chain the hub is on (reads; transactions go through the senders).
    pub rpc_url: String,
    /// The iExec hub (PoCo's diamond); [`Workerpool::start`] fails if no contract is there.
    pub hub: Address,
    /// The pool served; `None`: the one registered for the owner under `description`, registered
    /// now if there is none.
    pub workerpool: Option<Address>,
    /// The description the pool is registered under, which finds it when `workerpool` is `None`.
    pub description: String,
    /// The pool's owner (its key's one sender in the node): signs orders and authorizations,
    /// holds the stake.
    pub owner: Sender,
    /// This worker's key (it sends `contributeAndFinalize`); may be the owner's.
    pub worker: Sender,
    /// nRLC the owner keeps deposited (0: leave the stake alone, e.g. in a second worker process).
    pub stake: U256,
    /// Price per task of the orders signed, nRLC.
    pub price: U256,
    /// Volume of each signed order.
    pub order_volume: U256,
    /// Where the current signed orders are written (a JSON array), if anywhere.
    pub orders_file: Option<PathBuf>,
    /// Apps installed by name (`agora:<name>` multiaddrs), with their limits.
    pub apps: HashMap<String, (AppId, Limits)>,
    /// This node's API when it serves the content store under `/ipfs/<cid>` (in `up`): app
    /// modules are looked for there, and input files under it are read from the store directly.
    pub ipfs_gateway: Option<String>,
    /// Time between rounds (stake, orders, new deals, unfinished tasks).
    pub poll: Duration,
    /// How often the stake and the orders are looked at when no deal comes.
    pub maintenance: Duration,
    /// Blocks a deal must be buried under before it is read.
    pub confirmations: u64,
    /// Most blocks read per `eth_getLogs` call when looking for deals.
    pub batch_blocks: u64,
    /// The first block to read deals from when this worker starts on a chain (default: 10,000
    /// blocks before the head then).
    pub from_block: Option<u64>,
    /// Bytes of input a task may fetch in all.
    pub max_input_bytes: u64,
    /// Tasks run at once.
    pub parallel: usize,
    /// Crash tests only: the process aborts (as if killed) right after this point of a task's
    /// life: `initialized`, `stored`, `contribute-sent`, `claim-sent`.
    pub failpoint: Option<String>,
}

impl WorkerpoolConfig {
    /// A configuration where `owner` is also the worker: no stake kept, orders of volume 1,000,000
    /// at price 0, a round every 500 ms, and no app installed.
    pub fn new(rpc_url: &str, hub: Address, owner: Sender) -> Self {
        Self {
            rpc_url: rpc_url.to_owned(),
            hub,
            workerpool: None,
            description: "Agora workerpool".into(),
            worker: owner.clone(),
            owner,
            stake: U256::ZERO,
            price: U256::ZERO,
            order_volume: U256::from(1_000_000u64),
            orders_file: None,
            apps: HashMap::new(),
            ipfs_gateway: None,
            poll: Duration::from_millis(500),
            maintenance: Duration::from_secs(5),
            confirmations: 0,
            batch_blocks: 1000,
            from_block: None,
            max_input_bytes: 256 << 20,
            parallel: 2,
            failpoint: None,
        }
    }
}

/// One worker of an iExec workerpool. See the module docs.
pub struct Workerpool {
    cfg: WorkerpoolConfig,
    store: Store,
    content: Arc<AnyStore>,
    executor: Arc<dyn Executor>,
    /// Where `ipfs://` wasm modules are installed.
    wasm: Option<LocalExecutor>,
    read: DynProvider,
    pool: Address,
    chain_id: u64,
    domain: Eip712Domain,
    scope: WorkerScope,
    /// One signed order per category, by category.
    orders: Mutex<Vec<SignedWorkerpoolOrder>>,
    in_flight: Mutex<HashSet<B256>>,
    last_maintenance: Mutex<Option<std::time::Instant>>,
    slots: Arc<tokio::sync::Semaphore>,
    /// Input files and app modules by URL: from the content store when it holds them.
    gateway: Gateway<AnyStore>,
    /// Content-addressed modules installed so far, by CID.
    modules: Mutex<HashMap<String, AppId>>,
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Workerpool {
    /// Connects, finds or registers the pool, and prepares this worker's records.
    pub async fn start(
        cfg: WorkerpoolConfig,
        store: Store,
        content: Arc<AnyStore>,
        executor: Arc<dyn Executor>,
        wasm: Option<LocalExecutor>,
    ) -> Result<Arc<Self>> {
        let read = agora_chain::read_provider(&cfg.rpc_url)?;
        let chain_id = read.get_chain_id().await?;
        if read.get_code_at(cfg.hub).await?.is_empty() {
            return Err(Error::Invalid(format!("no iExec hub at {} on chain {chain_id}", cfg.hub)));
        }
        let genesis = read
            .get_block_by_number(BlockNumberOrTag::Number(0))
            .await?
            .ok_or_else(|| Error::Invalid("the chain has no block 0".into()))?
            .header
            .hash;
        let pool = resolve_pool(&read, &cfg).await?;
        let scope = WorkerScope { chain_id, genesis, hub: cfg.hub, workerpool: pool, worker: cfg.worker.address() };
        let removed = store.iexec_worker_forget_other_chains(chain_id, scope.genesis).await?;
        if removed > 0 {
            tracing::info!(removed, "forgot the workerpool records of an earlier chain {chain_id}");
        }
        let gateway = Gateway::new(content.clone(), cfg.ipfs_gateway.as_deref())?;
        tracing::info!(workerpool = %pool, owner = %cfg.owner.address(), worker = %cfg.worker.address(), hub = %cfg.hub, "Agora workerpool serving");
        Ok(Arc::new(Self {
            domain: domain(chain_id, cfg.hub),
            slots: Arc::new(tokio::sync::Semaphore::new(cfg.parallel.max(1))),
            cfg,
            store,
            content,
            executor,
            wasm,
            read,
            pool,
            chain_id,
            scope,
            orders: Mutex::new(Vec::new()),
            in_flight: Mutex::new(HashSet::new()),
            last_maintenance: Mutex::new(None),
            gateway,
            modules: Mutex::new(HashMap::new()),
        }))
    }

    /// The workerpool's address.
    pub fn address(&self) -> Address {
        self.pool
    }

    /// This worker's records' scope in the store.
    pub fn scope(&self) -> &WorkerScope {
        &self.scope
    }

    fn hub(&self) -> IexecHub::IexecHubInstance<&DynProvider> {
        IexecHub::new(self.cfg.hub, &self.read)
    }

    /// Runs until `shutdown` turns true.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        loop {
            if let Err(e) = Arc::clone(&self).tick().await {
                tracing::warn!(error = %e, "workerpool step failed; retrying");
            }
            tokio::select! {
                _ = tokio::time::sleep(self.cfg.poll) => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
        }
    }

    /// One round: stake, orders, new deals, then every unfinished task not already being driven
    /// is started in the background. Returns the number of tasks started.
    pub async fn tick(self: Arc<Self>) -> Result<usize> {
        // Stake and orders change only when deals are made: looked at on the first round, after
        // new deals, and every `maintenance` otherwise.
        let due = lock(&self.last_maintenance).is_none_or(|t| t.elapsed() >= self.cfg.maintenance);
        if due {
            self.maintain().await;
        }
        if self.scan_deals().await? > 0 {
            self.maintain().await;
        }
        let mut started = 0;
        for row in self.store.iexec_worker_open_tasks(&self.scope).await? {
            if !lock(&self.in_flight).insert(row.task_id) {
                continue;
            }
            started += 1;
            let this = Arc::clone(&self);
            tokio::spawn(async move {
                let task_id = row.task_id;
                match this.drive(row).await {
                    Ok(()) => {}
                    Err(e) => tracing::warn!(task = %task_id, error = %e, "iExec task step failed; retrying"),
                }
                lock(&this.in_flight).remove(&task_id);
            });
        }
        Ok(started)
    }

    fn failpoint(&self, point: &str) {
        if self.cfg.failpoint.as_deref() == Some(point) {
            tracing::error!("failpoint {point}: aborting");
            std::process::abort();
        }
    }
}

/// Finds the configured pool (checking its owner) or the owner's pool registered under the
/// description, registering it when there is none.
async fn resolve_pool(read: &DynProvider, cfg: &WorkerpoolConfig) -> Result<Address> {
    let hub = IexecHub::new(cfg.hub, read);
    let registry_address = hub.workerpoolregistry().call().await.map_err(|e| call_error("workerpoolregistry", e))?;
    let registry = Registry::new(registry_address, read);
    let owner = cfg.owner.address();
    if let Some(pool) = cfg.workerpool {
        if !registry.isRegistered(pool).call().await.map_err(|e| call_error("isRegistered", e))? {
            return Err(Error::Invalid(format!("{pool} is not a registered workerpool")));
        }
        let actual = WorkerpoolContract::new(pool, read).owner().call().await.map_err(|e| call_error("owner", e))?;
        if actual != owner {
            return Err(Error::Invalid(format!(
                "workerpool {pool} is owned by {actual}, not by the key given ({owner})"
            )));
        }
        return Ok(pool);
    }
    let predicted = registry
        .predictWorkerpool(owner, cfg.description.clone())
        .call()
        .await
        .map_err(|e| call_error("predictWorkerpool", e))?;
    if !registry.isRegistered(predicted).call().await.map_err(|e| call_error("isRegistered", e))? {
        let registry = Registry::new(registry_address, cfg.owner.provider());
        send(&cfg.owner, "createWorkerpool", registry.createWorkerpool(owner, cfg.description.clone())).await?;
        tracing::info!(workerpool = %predicted, %owner, "workerpool registered");
    }
    Ok(predicted)
}
