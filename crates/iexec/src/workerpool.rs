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

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use agora_content::{AnyStore, Cid, ContentStore};
use agora_executor::{AppId, Executor, JobSpec, JobStatus, Limits, LocalExecutor};
use agora_store::{NewWorkerTask, Store, WorkerScope, WorkerStage, WorkerTaskRow, WorkerTaskUpdate};
use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::Filter;
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{Eip712Domain, SolEvent};
use tokio::sync::watch;

use crate::apps::{AppRef, checksum_allows, parse_multiaddr};
use crate::bindings::{IexecHub, Registry, Rlc, Workerpool as WorkerpoolContract};
use crate::orders::{SignedWorkerpoolOrder, TEE_TDX_TAG, WorkerpoolOrderParams, domain, sign_workerpool_order};
use crate::tx::{call_error, send};
use crate::{Error, Result};

/// PoCo's task statuses (`IexecLibCore_v5.TaskStatusEnum`).
pub const UNSET: u8 = 0;
pub const ACTIVE: u8 = 1;
pub const REVEALING: u8 = 2;
pub const COMPLETED: u8 = 3;
pub const FAILED: u8 = 4;

/// A task status as the `iexec` CLI prints it.
pub fn status_name(status: u8) -> &'static str {
    match status {
        UNSET => "UNSET",
        ACTIVE => "ACTIVE",
        REVEALING => "REVEALING",
        COMPLETED => "COMPLETED",
        FAILED => "FAILED",
        _ => "UNKNOWN",
    }
}

/// How a worker of the pool runs.
#[derive(Clone)]
pub struct WorkerpoolConfig {
    pub rpc_url: String,
    pub hub: Address,
    /// The pool served; `None`: the one registered for the owner under `description`, registered
    /// now if there is none.
    pub workerpool: Option<Address>,
    pub description: String,
    /// The pool's owner: signs orders and authorizations, holds the stake.
    pub owner: PrivateKeySigner,
    /// This worker's key (it sends `contributeAndFinalize`); may be the owner's.
    pub worker: PrivateKeySigner,
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
    /// Gateway serving `/ipfs/<cid>` for app modules not in the content store.
    pub ipfs_gateway: Option<String>,
    pub poll: Duration,
    /// How often the stake and the orders are looked at when no deal comes.
    pub maintenance: Duration,
    /// Blocks a deal must be buried under before it is read.
    pub confirmations: u64,
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
    /// A configuration with the defaults: 1,000-order volume … and nothing installed.
    pub fn new(rpc_url: &str, hub: Address, owner: PrivateKeySigner) -> Self {
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
    owner_tx: DynProvider,
    worker_tx: DynProvider,
    pool: Address,
    chain_id: u64,
    domain: Eip712Domain,
    scope: WorkerScope,
    /// One transaction at a time (owner and worker may be one key; nonces come from the node).
    send_lock: tokio::sync::Mutex<()>,
    /// One signed order per category, by category.
    orders: Mutex<Vec<SignedWorkerpoolOrder>>,
    in_flight: Mutex<HashSet<String>>,
    last_maintenance: Mutex<Option<std::time::Instant>>,
    slots: Arc<tokio::sync::Semaphore>,
    http: reqwest::Client,
    /// Content-addressed modules installed so far, by CID.
    modules: Mutex<HashMap<String, AppId>>,
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The hub's view of a task, with the chain's time when it was read.
struct TaskView {
    task: IexecHub::Task,
    chain_time: u64,
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
        let owner_tx = agora_chain::signing_provider(&cfg.rpc_url, cfg.owner.clone())?;
        let worker_tx = agora_chain::signing_provider(&cfg.rpc_url, cfg.worker.clone())?;
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
        let pool = resolve_pool(&read, &owner_tx, &cfg).await?;
        let scope = WorkerScope {
            chain_id,
            genesis: format!("{genesis:#x}"),
            hub: format!("{:#x}", cfg.hub),
            workerpool: format!("{pool:#x}"),
            worker: format!("{:#x}", cfg.worker.address()),
        };
        let removed = store.iexec_worker_forget_other_chains(chain_id, &scope.genesis).await?;
        if removed > 0 {
            tracing::info!(removed, "forgot the workerpool records of an earlier chain {chain_id}");
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| Error::Invalid(format!("HTTP client: {e}")))?;
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
            owner_tx,
            worker_tx,
            pool,
            chain_id,
            scope,
            send_lock: tokio::sync::Mutex::new(()),
            orders: Mutex::new(Vec::new()),
            in_flight: Mutex::new(HashSet::new()),
            last_maintenance: Mutex::new(None),
            http,
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

    /// The signed orders currently offered, one per category.
    pub fn current_orders(&self) -> Vec<SignedWorkerpoolOrder> {
        lock(&self.orders).clone()
    }

    /// Signs a fresh order of this pool for `category` at the configured price.
    pub fn sign_order(&self, category: U256, volume: U256) -> Result<SignedWorkerpoolOrder> {
        sign_workerpool_order(
            &self.cfg.owner,
            self.chain_id,
            self.cfg.hub,
            &WorkerpoolOrderParams {
                workerpool: self.pool,
                price: self.cfg.price,
                volume,
                tag: TEE_TDX_TAG,
                category,
                trust: U256::from(1u64),
                apprestrict: Address::ZERO,
                datasetrestrict: Address::ZERO,
                requesterrestrict: Address::ZERO,
            },
        )
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
            if !lock(&self.in_flight).insert(row.task_id.clone()) {
                continue;
            }
            started += 1;
            let this = Arc::clone(&self);
            tokio::spawn(async move {
                let task_id = row.task_id.clone();
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

    async fn maintain(&self) {
        *lock(&self.last_maintenance) = Some(std::time::Instant::now());
        if self.cfg.stake > U256::ZERO
            && let Err(e) = self.keep_stake().await
        {
            tracing::warn!(error = %e, "could not top up the workerpool's stake");
        }
        if let Err(e) = self.refresh_orders().await {
            tracing::warn!(error = %e, "could not refresh the workerpool's orders");
        }
    }

    async fn keep_stake(&self) -> Result<()> {
        let owner = self.cfg.owner.address();
        let account = self.hub().viewAccount(owner).call().await.map_err(|e| call_error("viewAccount", e))?;
        if account.stake >= self.cfg.stake {
            return Ok(());
        }
        let rlc_address = self.hub().token().call().await.map_err(|e| call_error("token", e))?;
        let rlc = Rlc::new(rlc_address, &self.owner_tx);
        let wallet = rlc.balanceOf(owner).call().await.map_err(|e| call_error("RLC balanceOf", e))?;
        let amount = (self.cfg.stake - account.stake).min(wallet);
        if amount.is_zero() {
            tracing::warn!(%owner, "the workerpool owner has no RLC left to stake");
            return Ok(());
        }
        let _one = self.send_lock.lock().await;
        send("RLC approve", rlc.approve(self.cfg.hub, amount)).await?;
        send("deposit", IexecHub::new(self.cfg.hub, &self.owner_tx).deposit(amount)).await?;
        tracing::info!(%owner, nrlc = %amount, "workerpool stake topped up");
        Ok(())
    }

    /// Keeps one live order per category and writes them out.
    async fn refresh_orders(&self) -> Result<()> {
        let count: u64 = self
            .hub()
            .countCategory()
            .call()
            .await
            .map_err(|e| call_error("countCategory", e))?
            .try_into()
            .unwrap_or(0);
        let current = self.current_orders();
        let mut next = Vec::new();
        let mut changed = current.len() as u64 != count;
        for category in 0..count {
            let category = U256::from(category);
            let keep = match current.iter().find(|o| o.category == category) {
                Some(o) => {
                    let consumed = self
                        .hub()
                        .viewConsumed(o.hash(&self.domain))
                        .call()
                        .await
                        .map_err(|e| call_error("viewConsumed", e))?;
                    (consumed * U256::from(2u64) < o.volume).then(|| o.clone())
                }
                None => None,
            };
            match keep {
                Some(o) => next.push(o),
                None => {
                    changed = true;
                    next.push(self.sign_order(category, self.cfg.order_volume)?);
                }
            }
        }
        if changed {
            if let Some(path) = &self.cfg.orders_file {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
                std::fs::write(&tmp, serde_json::to_vec_pretty(&next)?)?;
                std::fs::rename(&tmp, path)?;
            }
            tracing::debug!(orders = next.len(), "workerpool orders signed");
            *lock(&self.orders) = next;
        }
        Ok(())
    }

    /// Reads `SchedulerNotice` logs for the pool from the cursor up to the confirmed head; returns
    /// the number of deals found.
    async fn scan_deals(&self) -> Result<usize> {
        let head = self.read.get_block_number().await?.saturating_sub(self.cfg.confirmations);
        let mut cursor = self.store.iexec_worker_cursor(&self.scope).await?;
        let mut from = match cursor {
            Some(next) => next,
            None => self.cfg.from_block.unwrap_or(head.saturating_sub(10_000)),
        };
        let mut deals = 0;
        while from <= head {
            let to = head.min(from + self.cfg.batch_blocks.max(1) - 1);
            let filter = Filter::new()
                .address(self.cfg.hub)
                .event_signature(IexecHub::SchedulerNotice::SIGNATURE_HASH)
                .topic1(self.pool.into_word())
                .from_block(from)
                .to_block(to);
            let mut tasks = Vec::new();
            for log in self.read.get_logs(&filter).await? {
                let notice = IexecHub::SchedulerNotice::decode_log(&log.inner)
                    .map_err(|e| Error::Invalid(format!("undecodable SchedulerNotice: {e}")))?;
                let deal_id = notice.data.dealid;
                deals += 1;
                let deal = self.hub().viewDeal(deal_id).call().await.map_err(|e| call_error("viewDeal", e))?;
                let first: u64 = deal.botFirst.try_into().unwrap_or(u64::MAX);
                let size: u64 = deal.botSize.try_into().unwrap_or(0);
                tracing::info!(deal = %deal_id, tasks = size, app = %deal.app.pointer, "iExec deal on the pool");
                for idx in first..first.saturating_add(size) {
                    tasks.push(NewWorkerTask {
                        task_id: format!("{:#x}", crate::poco::task_id(deal_id, U256::from(idx))),
                        deal_id: format!("{deal_id:#x}"),
                        idx,
                    });
                }
            }
            self.store.iexec_worker_record_deals(&self.scope, cursor, to + 1, &tasks, now()).await?;
            cursor = Some(to + 1);
            from = to + 1;
        }
        Ok(deals)
    }

    async fn view_task(&self, task_id: B256) -> Result<TaskView> {
        let task = self.hub().viewTask(task_id).call().await.map_err(|e| call_error("viewTask", e))?;
        let latest = self
            .read
            .get_block_by_number(BlockNumberOrTag::Latest)
            .await?
            .map(|b| b.header.timestamp)
            .unwrap_or_default();
        // The next block is stamped no earlier than now, even when the chain has been idle.
        Ok(TaskView { task, chain_time: latest.max(now()) })
    }

    async fn set(&self, task_id: &str, stage: WorkerStage, update: WorkerTaskUpdate<'_>) -> Result<()> {
        self.store.iexec_worker_set_stage(&self.scope, task_id, stage, &update, now()).await?;
        Ok(())
    }

    /// Moves one task through its stages until it is done, or waits (failed, not yet claimable).
    async fn drive(self: &Arc<Self>, mut row: WorkerTaskRow) -> Result<()> {
        let task_id: B256 =
            row.task_id.parse().map_err(|_| Error::Invalid(format!("bad task id {:?}", row.task_id)))?;
        let deal_id: B256 =
            row.deal_id.parse().map_err(|_| Error::Invalid(format!("bad deal id {:?}", row.deal_id)))?;
        loop {
            let view = self.view_task(task_id).await?;
            let status = view.task.status;
            // Final on the hub, whoever got it there.
            if status == COMPLETED || status == FAILED {
                let ours = view.task.contributors.contains(&self.cfg.worker.address());
                let outcome = match (status, ours, row.stage) {
                    (COMPLETED, true, _) => "completed",
                    (COMPLETED, false, _) => "completed-by-another-worker",
                    (_, _, WorkerStage::Claiming) => "claimed",
                    _ => "claimed-by-someone-else",
                };
                self.set(
                    &row.task_id,
                    WorkerStage::Done,
                    WorkerTaskUpdate { outcome: Some(outcome), ..Default::default() },
                )
                .await?;
                tracing::info!(
                    "iExec task {task_id} {} ({outcome}){}",
                    status_name(status),
                    row.result_cid.as_deref().map(|c| format!(" result=/ipfs/{c}")).unwrap_or_default()
                );
                return Ok(());
            }
            let next = match row.stage {
                WorkerStage::Seen => {
                    if status == UNSET {
                        self.initialize(deal_id, row.idx, task_id).await?;
                    }
                    self.set(&row.task_id, WorkerStage::Initialized, WorkerTaskUpdate::default()).await?;
                    self.failpoint("initialized");
                    WorkerStage::Initialized
                }
                WorkerStage::Initialized => {
                    if let Some(reason) = self.too_late(&view) {
                        self.fail(&row.task_id, &reason).await?
                    } else {
                        let _slot = self
                            .slots
                            .acquire()
                            .await
                            .map_err(|_| Error::Invalid("the task slots are closed".into()))?;
                        match self.execute(deal_id, &view).await? {
                            Err(reason) => self.fail(&row.task_id, &reason).await?,
                            Ok(result) => {
                                let digest = format!("{:#x}", result.digest);
                                let (zip_cid, out_cid) = (result.zip_cid.to_string(), result.output_cid.to_string());
                                self.set(
                                    &row.task_id,
                                    WorkerStage::Stored,
                                    WorkerTaskUpdate {
                                        result_cid: Some(&zip_cid),
                                        output_cid: Some(&out_cid),
                                        result_digest: Some(&digest),
                                        ..Default::default()
                                    },
                                )
                                .await?;
                                row.result_cid = Some(zip_cid);
                                row.result_digest = Some(digest);
                                self.failpoint("stored");
                                WorkerStage::Stored
                            }
                        }
                    }
                }
                WorkerStage::Stored => {
                    if status != ACTIVE || !view.task.contributors.is_empty() {
                        // Contributions of a consensus this worker is not part of.
                        self.fail(&row.task_id, "other workers' contributions are being revealed").await?
                    } else if let Some(reason) = self.too_late(&view) {
                        self.fail(&row.task_id, &reason).await?
                    } else {
                        match self.contribute(&row, task_id, deal_id).await? {
                            Some(stage) => stage,
                            None => return Ok(()), // looked at again next round
                        }
                    }
                }
                WorkerStage::Contributing => {
                    // Still ACTIVE: our transaction is pending, reverted or lost.
                    match self.pending_state(row.tx_hash.as_deref()).await? {
                        Sent::Pending => {
                            tokio::time::sleep(self.cfg.poll).await;
                            continue;
                        }
                        Sent::Reverted => {
                            self.set(&row.task_id, WorkerStage::Stored, WorkerTaskUpdate::default()).await?;
                            return Err(Error::Reverted {
                                what: format!("contributeAndFinalize({task_id})"),
                                reason: "the transaction reverted; retrying".into(),
                            });
                        }
                        Sent::Mined => continue, // mined since we looked: read the task again
                        Sent::Lost => WorkerStage::Stored,
                    }
                }
                WorkerStage::Failed => {
                    if view.chain_time < view.task.finalDeadline.try_into().unwrap_or(u64::MAX) {
                        return Ok(()); // not claimable yet: looked at again next round
                    }
                    match self.claim(&row.task_id, task_id).await? {
                        Some(stage) => stage,
                        None => return Ok(()),
                    }
                }
                WorkerStage::Claiming => match self.pending_state(row.tx_hash.as_deref()).await? {
                    Sent::Pending => {
                        tokio::time::sleep(self.cfg.poll).await;
                        continue;
                    }
                    Sent::Mined => continue,
                    Sent::Reverted | Sent::Lost => {
                        self.set(&row.task_id, WorkerStage::Failed, WorkerTaskUpdate::default()).await?;
                        return Ok(()); // claimed again next round
                    }
                },
                WorkerStage::Done => return Ok(()),
            };
            row.stage = next;
        }
    }

    /// Why the task can no longer be contributed, if it cannot.
    fn too_late(&self, view: &TaskView) -> Option<String> {
        let deadline: u64 = view.task.contributionDeadline.try_into().unwrap_or(u64::MAX);
        (view.chain_time + 5 >= deadline).then(|| format!("contribution deadline {deadline} passed"))
    }

    async fn fail(&self, task_id: &str, reason: &str) -> Result<WorkerStage> {
        tracing::warn!(
            "iExec task {task_id} cannot be finished by this worker: {reason}; it will be claimed after its final deadline"
        );
        self.set(task_id, WorkerStage::Failed, WorkerTaskUpdate { failure_reason: Some(reason), ..Default::default() })
            .await?;
        Ok(WorkerStage::Failed)
    }

    async fn initialize(&self, deal_id: B256, idx: u64, task_id: B256) -> Result<()> {
        let hub = IexecHub::new(self.cfg.hub, &self.worker_tx);
        let sent = {
            let _one = self.send_lock.lock().await;
            send(&format!("initialize({deal_id}, {idx})"), hub.initialize(deal_id, U256::from(idx))).await
        };
        match sent {
            Ok(_) => {
                tracing::info!("iExec task {task_id} initialized (deal {deal_id}, index {idx})");
                Ok(())
            }
            // Another worker initialized it first.
            Err(e) if self.view_task(task_id).await.is_ok_and(|v| v.task.status != UNSET) => {
                tracing::debug!(error = %e, "task {task_id} was initialized by someone else");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// What became of a transaction this worker recorded as sent.
    async fn pending_state(&self, tx: Option<&str>) -> Result<Sent> {
        let Some(hash) = tx.and_then(|t| t.parse::<B256>().ok()) else {
            return Ok(Sent::Lost);
        };
        if let Some(receipt) = self.read.get_transaction_receipt(hash).await? {
            return Ok(if receipt.status() { Sent::Mined } else { Sent::Reverted });
        }
        Ok(if self.read.get_transaction_by_hash(hash).await?.is_some() { Sent::Pending } else { Sent::Lost })
    }

    /// Sends `claim`; `None` when the hub does not accept it yet.
    async fn claim(&self, row_task: &str, task_id: B256) -> Result<Option<WorkerStage>> {
        let hub = IexecHub::new(self.cfg.hub, &self.worker_tx);
        let _one = self.send_lock.lock().await;
        let pending = match hub.claim(task_id).send().await {
            Ok(p) => p,
            Err(e) => {
                let e = call_error(&format!("claim({task_id})"), e);
                tracing::debug!(error = %e, "claim not accepted yet");
                return Ok(None);
            }
        };
        let tx = format!("{:#x}", pending.tx_hash());
        self.set(row_task, WorkerStage::Claiming, WorkerTaskUpdate { tx_hash: Some(&tx), ..Default::default() })
            .await?;
        self.failpoint("claim-sent");
        let receipt = pending.get_receipt().await?;
        if receipt.status() {
            tracing::info!("iExec task {task_id} claimed: the requester's funds are released (tx {tx})");
        }
        Ok(Some(WorkerStage::Claiming))
    }

    /// Sends `contributeAndFinalize`; `None` when another worker got there first.
    async fn contribute(&self, row: &WorkerTaskRow, task_id: B256, deal_id: B256) -> Result<Option<WorkerStage>> {
        let cid: Cid = row
            .result_cid
            .as_deref()
            .unwrap_or_default()
            .parse()
            .map_err(|_| Error::Invalid(format!("task {task_id}: no stored result CID")))?;
        let digest: B256 = row
            .result_digest
            .as_deref()
            .unwrap_or_default()
            .parse()
            .map_err(|_| Error::Invalid(format!("task {task_id}: no stored result digest")))?;
        let deal = self.hub().viewDeal(deal_id).call().await.map_err(|e| call_error("viewDeal", e))?;
        let worker = self.cfg.worker.address();
        let tee = deal.tag.0[31] & 0x01 == 1;
        let (enclave, enclave_sign) = if tee {
            let key = enclave_key(&self.cfg.worker, task_id)?;
            let sign = enclave_signature(&key, worker, task_id, digest)?;
            (key.address(), sign)
        } else {
            (Address::ZERO, Bytes::new())
        };
        let authorization = authorization_signature(&self.cfg.owner, worker, task_id, enclave)?;
        let results = crate::result::results_json(&cid);
        let hub = IexecHub::new(self.cfg.hub, &self.worker_tx);
        let call = hub.contributeAndFinalize(
            task_id,
            digest,
            Bytes::from(results.into_bytes()),
            Bytes::new(),
            enclave,
            enclave_sign,
            authorization,
        );
        let _one = self.send_lock.lock().await;
        let pending = match call.send().await {
            Ok(p) => p,
            Err(e) => {
                let e = call_error(&format!("contributeAndFinalize({task_id})"), e);
                // Completed by another worker in the meantime: the next round records it.
                let view = self.view_task(task_id).await?;
                if view.task.status != ACTIVE || !view.task.contributors.is_empty() {
                    return Ok(None);
                }
                return Err(e);
            }
        };
        let tx = format!("{:#x}", pending.tx_hash());
        self.set(
            &row.task_id,
            WorkerStage::Contributing,
            WorkerTaskUpdate { tx_hash: Some(&tx), ..Default::default() },
        )
        .await?;
        self.failpoint("contribute-sent");
        let receipt = pending.get_receipt().await?;
        if receipt.status() {
            tracing::info!(
                gas = receipt.gas_used,
                "iExec task {task_id} contributed and finalized: result=/ipfs/{cid} digest={digest} (tx {tx})"
            );
        } else {
            tracing::warn!("contributeAndFinalize for {task_id} reverted on chain (tx {tx})");
        }
        Ok(Some(WorkerStage::Contributing))
    }

    /// Runs the task's app on its input and stores the result archive; `Ok(Err(reason))` is a
    /// task this worker cannot finish.
    async fn execute(&self, deal_id: B256, view: &TaskView) -> Result<Result<Stored, String>> {
        let deal = self.hub().viewDeal(deal_id).call().await.map_err(|e| call_error("viewDeal", e))?;
        if deal.callback != Address::ZERO {
            return Ok(Err("deals with a callback contract are not served (no callback data)".into()));
        }
        if deal.trust > U256::from(1u64) {
            return Ok(Err(format!("trust {} needs several contributions; this pool contributes once", deal.trust)));
        }
        let app = self.hub().viewApp(deal.app.pointer).call().await.map_err(|e| call_error("viewApp", e))?;
        let (app_id, mut limits) = match self.resolve_app(&app.m_appMultiaddr, app.m_appChecksum).await? {
            Ok(a) => a,
            Err(reason) => return Ok(Err(reason)),
        };
        let input = match self.resolve_input(&deal.params).await {
            Ok(bytes) => bytes,
            Err(reason) => return Ok(Err(reason)),
        };
        // The run must end in time to contribute.
        let deadline: u64 = view.task.contributionDeadline.try_into().unwrap_or(u64::MAX);
        let left = Duration::from_secs(deadline.saturating_sub(view.chain_time).saturating_sub(10).max(1));
        limits.wall_time = limits.wall_time.min(left);
        let job = match self.executor.submit(JobSpec { app: app_id.clone(), input, limits }).await {
            Ok(job) => job,
            Err(agora_executor::Error::UnknownApp(a)) => return Ok(Err(format!("app {a} is not installed"))),
            Err(e) => return Err(e.into()),
        };
        let status = self.executor.wait(&job).await?;
        self.executor.forget(&job).await?;
        let output = match status {
            JobStatus::Succeeded { output } => output,
            JobStatus::Failed { reason } => return Ok(Err(format!("the app failed: {reason}"))),
            other => return Ok(Err(format!("the job ended as {other:?}"))),
        };
        let archive = match crate::result::build(&output) {
            Ok(a) => a,
            Err(Error::Invalid(reason)) => return Ok(Err(reason)),
            Err(e) => return Err(e),
        };
        let output_cid = self.content.put(output).await?;
        let zip_cid = self.content.put(archive.zip.clone()).await?;
        Ok(Ok(Stored { zip_cid, output_cid, digest: archive.digest }))
    }

    async fn resolve_app(&self, multiaddr: &[u8], checksum: B256) -> Result<Result<(AppId, Limits), String>> {
        match parse_multiaddr(multiaddr) {
            Err(reason) => Ok(Err(reason)),
            Ok(AppRef::Named(name)) => match self.cfg.apps.get(&name) {
                None => Ok(Err(format!("app agora:{name} is not installed in this workerpool"))),
                Some((id, limits)) if checksum_allows(checksum, id.as_str()) => Ok(Ok((id.clone(), limits.clone()))),
                Some(_) => Ok(Err(format!("app agora:{name}: its checksum {checksum} is not the installed module's"))),
            },
            Ok(AppRef::Content(cid)) => {
                let key = cid.to_string();
                if let Some(id) = lock(&self.modules).get(&key).cloned() {
                    return Ok(Ok((id, Limits::default())));
                }
                let Some(wasm) = &self.wasm else {
                    return Ok(Err("this workerpool installs no wasm modules".into()));
                };
                let module = match self.content.get(&cid).await? {
                    Some(bytes) => bytes,
                    None => match &self.cfg.ipfs_gateway {
                        Some(gw) => match self.fetch(&format!("{}/ipfs/{cid}", gw.trim_end_matches('/'))).await {
                            Ok(b) => b,
                            Err(reason) => return Ok(Err(format!("app module {cid}: {reason}"))),
                        },
                        None => return Ok(Err(format!("app module {cid} is not in the content store"))),
                    },
                };
                if agora_content::cid_of(&module) != cid {
                    return Ok(Err(format!("the bytes fetched for app module {cid} have another CID")));
                }
                if !checksum.is_zero() && crate::apps::checksum_of_module(&module) != checksum {
                    return Ok(Err(format!("app module {cid}: its SHA-256 is not the app's checksum {checksum}")));
                }
                let id = match wasm.register_app(&module) {
                    Ok(id) => id,
                    Err(e) => return Ok(Err(format!("app module {cid}: {e}"))),
                };
                lock(&self.modules).insert(key, id.clone());
                Ok(Ok((id, Limits::default())))
            }
        }
    }

    /// The app's stdin: the deal's input files, fetched and concatenated, else its `iexec_args`.
    async fn resolve_input(&self, params: &str) -> Result<bytes::Bytes, String> {
        let p = parse_params(params)?;
        if p.input_files.is_empty() {
            return Ok(bytes::Bytes::from(p.args.unwrap_or_default().into_bytes()));
        }
        let mut all = Vec::new();
        for url in &p.input_files {
            let bytes = self.fetch(url).await.map_err(|reason| format!("input file {url}: {reason}"))?;
            all.extend_from_slice(&bytes);
            if all.len() as u64 > self.cfg.max_input_bytes {
                return Err(format!("the input is larger than {} bytes", self.cfg.max_input_bytes));
            }
        }
        Ok(all.into())
    }

    /// GETs `url` (at most the input limit); the error is a sentence.
    async fn fetch(&self, url: &str) -> Result<bytes::Bytes, String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err("only http(s) URLs are fetched".into());
        }
        let mut resp = self.http.get(parsed).send().await.map_err(|e| format!("cannot fetch: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("answered HTTP {}", resp.status()));
        }
        let mut out = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| format!("download broke: {e}"))? {
            out.extend_from_slice(&chunk);
            if out.len() as u64 > self.cfg.max_input_bytes {
                return Err(format!("larger than {} bytes", self.cfg.max_input_bytes));
            }
        }
        Ok(out.into())
    }
}

/// What became of a sent transaction.
enum Sent {
    Pending,
    Mined,
    Reverted,
    Lost,
}

/// A stored result.
struct Stored {
    zip_cid: Cid,
    output_cid: Cid,
    digest: B256,
}

/// Finds the configured pool (checking its owner) or the owner's pool registered under the
/// description, registering it when there is none.
async fn resolve_pool(read: &DynProvider, owner_tx: &DynProvider, cfg: &WorkerpoolConfig) -> Result<Address> {
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
        let registry = Registry::new(registry_address, owner_tx);
        send("createWorkerpool", registry.createWorkerpool(owner, cfg.description.clone())).await?;
        tracing::info!(workerpool = %predicted, %owner, "workerpool registered");
    }
    Ok(predicted)
}

/// What a deal's `params` ask for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DealParams {
    pub args: Option<String>,
    pub input_files: Vec<String>,
}

/// Reads a deal's `params`: iExec's JSON (`iexec_args`, `iexec_input_files`; other keys, such as
/// the result storage settings, are ignored), or a plain string of arguments (older requests).
pub fn parse_params(params: &str) -> Result<DealParams, String> {
    let trimmed = params.trim();
    if trimmed.is_empty() {
        return Ok(DealParams::default());
    }
    if !trimmed.starts_with('{') {
        return Ok(DealParams { args: Some(params.to_owned()), input_files: Vec::new() });
    }
    let v: serde_json::Value =
        serde_json::from_str(trimmed).map_err(|e| format!("the deal's params are not JSON: {e}"))?;
    let args = match v.get("iexec_args") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("iexec_args is not a string".into()),
    };
    let input_files = match v.get("iexec_input_files") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .map(|f| f.as_str().map(str::to_owned).ok_or_else(|| "iexec_input_files holds a non-string".to_owned()))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("iexec_input_files is not a list".into()),
    };
    Ok(DealParams { args, input_files })
}

/// EIP-191 signature of `keccak256(abi.encodePacked(parts…))`, as PoCo's
/// `_verifySignatureOfEthSignedMessage` checks it.
fn personal_sign(signer: &PrivateKeySigner, parts: &[&[u8]]) -> Result<Bytes> {
    let hash = keccak256(parts.concat());
    let sig = signer.sign_message_sync(hash.as_slice())?;
    Ok(Bytes::from(sig.as_bytes().to_vec()))
}

/// The pool owner's authorization for `worker` to contribute to `task_id` with `enclave`.
pub fn authorization_signature(
    owner: &PrivateKeySigner,
    worker: Address,
    task_id: B256,
    enclave: Address,
) -> Result<Bytes> {
    personal_sign(owner, &[worker.as_slice(), task_id.as_slice(), enclave.as_slice()])
}

/// The enclave key of `worker` for `task_id`: derived from the worker's key, so a worker that
/// restarts signs with the same one.
pub fn enclave_key(worker: &PrivateKeySigner, task_id: B256) -> Result<PrivateKeySigner> {
    let mut seed = keccak256([worker.to_bytes().as_slice(), task_id.as_slice(), b"agora-enclave"].concat());
    loop {
        match PrivateKeySigner::from_bytes(&seed) {
            Ok(k) => return Ok(k),
            // Not a valid scalar (probability ~2^-128): hash again.
            Err(_) => seed = keccak256(seed),
        }
    }
}

/// The enclave's signature over `keccak256(resultHash, resultSeal)` for `digest`.
pub fn enclave_signature(enclave: &PrivateKeySigner, worker: Address, task_id: B256, digest: B256) -> Result<Bytes> {
    let result_hash = keccak256([task_id.as_slice(), digest.as_slice()].concat());
    let result_seal = keccak256([worker.as_slice(), task_id.as_slice(), digest.as_slice()].concat());
    personal_sign(enclave, &[result_hash.as_slice(), result_seal.as_slice()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_parse_as_iexec_writes_them() {
        let p = parse_params(r#"{"iexec_args":"to be","iexec_result_storage_provider":"ipfs"}"#).unwrap();
        assert_eq!(p, DealParams { args: Some("to be".into()), input_files: vec![] });
        let p = parse_params(r#"{"iexec_input_files":["http://x/ipfs/bafk"]}"#).unwrap();
        assert_eq!(p.input_files, vec!["http://x/ipfs/bafk".to_owned()]);
        assert_eq!(parse_params("").unwrap(), DealParams::default());
        assert_eq!(parse_params("a b c").unwrap().args.as_deref(), Some("a b c"));
        assert!(parse_params(r#"{"iexec_input_files":"x"}"#).is_err());
        assert!(parse_params("{not json").is_err());
    }

    #[test]
    fn signatures_recover_to_their_signers() {
        let owner = PrivateKeySigner::random();
        let worker = PrivateKeySigner::random();
        let task = B256::repeat_byte(7);
        let enclave = enclave_key(&worker, task).unwrap();
        assert_eq!(enclave.address(), enclave_key(&worker, task).unwrap().address(), "stable across restarts");
        assert_ne!(enclave.address(), enclave_key(&worker, B256::repeat_byte(8)).unwrap().address());
        let auth = authorization_signature(&owner, worker.address(), task, enclave.address()).unwrap();
        let hash = keccak256([worker.address().as_slice(), task.as_slice(), enclave.address().as_slice()].concat());
        let sig = alloy::primitives::Signature::try_from(auth.as_ref()).unwrap();
        assert_eq!(sig.recover_address_from_msg(hash.as_slice()).unwrap(), owner.address());
    }
}
