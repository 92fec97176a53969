//! The compute market's scheduler. For every bought task of a service this node runs, it records a
//! job, starts the task on chain, runs it on an [`Executor`], stores the output in the content store
//! and completes the task with the output's CID — or fails it (refunding the buyer) with a short
//! reason. Every step is recorded before the next begins and reconciled against the indexed task,
//! and the contract accepts one settlement per task, so a crash anywhere ends, after a restart, in
//! exactly one completion or refund.
//!
//! Operator transactions are sent one at a time (the pending nonce is read per transaction), so
//! concurrent jobs never collide on a nonce.
//!
//! A service whose metadata says `"runtime":"iexec"` (with `"app"` naming the app and optionally
//! `"iexecCategory"`) is run through iExec instead, when the scheduler has an
//! [`agora_iexec::backend::Backend`]: its job's `executor` is `iexec`, and the `started` stage hands
//! the task to the backend, which makes and follows the iExec deal with the `iexec` CLI and keeps its
//! own record of every step; its outcome (a result CID, or a failure reason) enters this stage
//! machine like a local job's, so ComputeMarket is still settled exactly once, here.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use agora_chain::bindings::ComputeMarket::{self, ComputeMarketErrors};
use agora_chain::revert::ContractError;
use agora_content::{AnyStore, Cid, ContentStore};
use agora_executor::{AppId, Executor, JobSpec, JobStatus, Limits};
use agora_iexec::backend::{Backend as IexecBackend, IexecRequest, Outcome};
use agora_store::{JobStage, Store, TaskRow, TaskStatus};
use alloy::primitives::{Address, U256};
use alloy::providers::DynProvider;
use tokio::sync::watch;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("store: {0}")]
    Store(#[from] agora_store::Error),
    #[error("chain: {0}")]
    Chain(#[from] agora_chain::Error),
    #[error("content store: {0}")]
    Content(#[from] agora_content::Error),
    #[error("executor: {0}")]
    Executor(#[from] agora_executor::Error),
    #[error("task {0} is not indexed")]
    UnknownTask(u64),
    #[error("iExec: {0}")]
    Iexec(#[from] agora_iexec::Error),
    /// A job started on iExec, but this node now runs without an iExec backend: it waits (the
    /// deal may still complete) rather than refund.
    #[error("task {0} runs on iExec, but this node has no iExec backend configured")]
    IexecUnavailable(u64),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Longest failure reason written on chain.
const MAX_REASON: usize = 160;

#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    pub chain_id: u64,
    pub market: Address,
    /// Which app runs the tasks of a service, by the service metadata's `kind`, and under which
    /// limits. `limits.wall_time` is the node's ceiling; each job gets its service's maximum run
    /// time within it.
    pub apps: HashMap<String, (AppId, Limits)>,
    /// Services whose tasks this node runs (their provider, or this node as operator for them).
    /// Empty: every service whose kind has an app.
    pub services: Vec<u64>,
    pub poll: Duration,
    /// Crash-test hook: the process aborts (no clean-up, as if killed) right after reaching this
    /// point: `accepted`, `start-sent`, `started`, `executed`, `complete-sent`, `failing`,
    /// `fail-sent` (the iExec backend has its own points, in its configuration). Set from
    /// `AGORA_FAILPOINT`; `None` in normal use.
    pub failpoint: Option<String>,
}

pub struct Scheduler {
    store: Store,
    operator: DynProvider,
    executor: Arc<dyn Executor>,
    content: Arc<AnyStore>,
    cfg: SchedulerConfig,
    /// Runs the tasks of iExec-backed services; `None`: such tasks are not taken on.
    iexec: Option<Arc<IexecBackend>>,
    /// Tasks being driven right now.
    busy: Mutex<HashSet<u64>>,
    /// One operator transaction in flight at a time.
    send_lock: tokio::sync::Mutex<()>,
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

fn short(reason: &str) -> String {
    let mut out: String = reason.chars().take(MAX_REASON).collect();
    if reason.chars().count() > MAX_REASON {
        out.push('…');
    }
    out
}

/// A service's metadata JSON; `Null` when it has none (so lookups simply miss).
fn metadata(service: &agora_store::ServiceRow) -> serde_json::Value {
    service.metadata().unwrap_or(serde_json::Value::Null)
}

/// What a settlement call came to.
enum Sent {
    /// Mined successfully.
    Mined,
    /// The task was already past that step (an earlier attempt or the buyer's refund).
    AlreadyDone,
}

impl Scheduler {
    /// `operator` must sign with a key the market accepts (the service's provider or an operator).
    pub fn new(
        store: Store,
        operator: DynProvider,
        executor: Arc<dyn Executor>,
        content: Arc<AnyStore>,
        cfg: SchedulerConfig,
    ) -> Arc<Self> {
        Self::with_iexec(store, operator, executor, content, cfg, None)
    }

    /// Like [`new`](Self::new), with an iExec backend for the services marked `"runtime":"iexec"`.
    pub fn with_iexec(
        store: Store,
        operator: DynProvider,
        executor: Arc<dyn Executor>,
        content: Arc<AnyStore>,
        cfg: SchedulerConfig,
        iexec: Option<Arc<IexecBackend>>,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            operator,
            executor,
            content,
            cfg,
            iexec,
            busy: Mutex::new(HashSet::new()),
            send_lock: tokio::sync::Mutex::new(()),
        })
    }

    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        self.prepare_iexec().await;
        loop {
            if let Err(e) = self.clone().tick().await {
                tracing::warn!(error = %e, "scheduler tick failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(self.cfg.poll) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }

    /// Readies the iExec-backed services already listed (app deployed, app order signed) in the
    /// background, so their first task does not wait for it.
    async fn prepare_iexec(&self) {
        let Some(backend) = &self.iexec else { return };
        let services = match self.store.services(self.cfg.chain_id).await {
            Ok(s) => s,
            Err(e) => return tracing::warn!(error = %e, "cannot list services to prepare their iExec apps"),
        };
        for service in services {
            let meta = metadata(&service);
            let app = meta["app"].as_str().unwrap_or_default().to_owned();
            let ours = self.cfg.services.is_empty() || self.cfg.services.contains(&service.service_id);
            if meta["runtime"] != "iexec" || !service.active || !ours || !backend.serves(&app) {
                continue;
            }
            let backend = backend.clone();
            tokio::spawn(async move {
                if let Err(e) = backend.prepare(service.service_id, &app).await {
                    tracing::warn!(service = service.service_id, error = %e, "preparing the iExec app failed; its first task retries");
                }
            });
        }
    }

    /// Takes on new tasks and moves every open job forward, each in its own task. Returns how many
    /// jobs it set going.
    pub async fn tick(self: Arc<Self>) -> Result<usize> {
        let chain = self.cfg.chain_id;
        for task_id in self.store.tasks_without_job(chain, 100).await? {
            let task = self.store.task(chain, task_id).await?.ok_or(Error::UnknownTask(task_id))?;
            match self.app_for(&task).await? {
                Some((executor, app)) => {
                    self.store.accept_job(chain, task_id, JobStage::Accepted, executor, app.as_str(), now()).await?;
                    self.failpoint("accepted");
                }
                None => {
                    self.store.accept_job(chain, task_id, JobStage::Ignored, "-", "-", now()).await?;
                }
            }
        }
        let mut started = 0;
        for task_id in self.store.open_jobs(chain).await? {
            let fresh = self.busy.lock().map(|mut b| b.insert(task_id)).unwrap_or(false);
            if !fresh {
                continue;
            }
            started += 1;
            let me = self.clone();
            tokio::spawn(async move {
                if let Err(e) = me.drive(task_id).await {
                    tracing::warn!(task_id, error = %e, "task step failed; will retry");
                }
                if let Ok(mut b) = me.busy.lock() {
                    b.remove(&task_id);
                }
            });
        }
        Ok(started)
    }

    /// Runs `tick` until no job is open or busy (tests and one-shot use).
    pub async fn drain(self: Arc<Self>, limit: Duration) -> Result<()> {
        let start = std::time::Instant::now();
        loop {
            self.clone().tick().await?;
            let busy = self.busy.lock().map(|b| b.len()).unwrap_or(0);
            if busy == 0 && self.store.open_jobs(self.cfg.chain_id).await?.is_empty() {
                return Ok(());
            }
            if start.elapsed() > limit {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn failpoint(&self, point: &str) {
        if self.cfg.failpoint.as_deref() == Some(point) {
            tracing::error!("failpoint {point} reached: aborting");
            std::process::abort();
        }
    }

    /// Which executor runs the task, and which app: `iexec` and the app's name for a service
    /// marked `"runtime":"iexec"` (when this node has an iExec backend serving that app), else
    /// this node's executor and the app for the service's kind.
    async fn app_for(&self, task: &TaskRow) -> Result<Option<(&'static str, AppId)>> {
        if !self.cfg.services.is_empty() && !self.cfg.services.contains(&task.service_id) {
            return Ok(None);
        }
        let Some(service) = self.store.service(self.cfg.chain_id, task.service_id).await? else { return Ok(None) };
        let meta = metadata(&service);
        if meta["runtime"] == "iexec" {
            let app = meta["app"].as_str().unwrap_or_default();
            let served = self.iexec.as_ref().is_some_and(|b| b.serves(app));
            return Ok(served.then(|| ("iexec", AppId::new(app))));
        }
        let kind = meta["kind"].as_str().unwrap_or_default();
        Ok(self.cfg.apps.get(kind).map(|(app, _)| (self.executor.name(), app.clone())))
    }

    /// Moves one job as far as it can go now.
    async fn drive(&self, task_id: u64) -> Result<()> {
        let chain = self.cfg.chain_id;
        loop {
            let job = self.store.job(chain, task_id).await?.ok_or(Error::UnknownTask(task_id))?;
            let task = self.store.task(chain, task_id).await?.ok_or(Error::UnknownTask(task_id))?;
            if matches!(task.status, TaskStatus::Completed | TaskStatus::Refunded) {
                self.store.set_job_stage(chain, task_id, JobStage::Done, None, None, now()).await?;
                return Ok(());
            }
            let market = ComputeMarket::new(self.cfg.market, self.operator.clone());
            let id = U256::from(task_id);
            match job.stage {
                JobStage::Done | JobStage::Ignored => return Ok(()),
                JobStage::Accepted => {
                    if task.status == TaskStatus::Created {
                        self.send(market.startTask(id)).await?;
                        self.failpoint("start-sent");
                    }
                    self.store.set_job_stage(chain, task_id, JobStage::Started, None, None, now()).await?;
                    self.failpoint("started");
                    let kind = if job.executor == "iexec" {
                        "iexec"
                    } else if job.app.starts_with("ffmpeg:") {
                        "ffmpeg"
                    } else {
                        "wasm"
                    };
                    tracing::info!("Task {task_id} started: executor={} kind={kind} app={}", job.executor, job.app);
                }
                JobStage::Started => {
                    let outcome = if job.executor == "iexec" {
                        self.execute_on_iexec(&task, &job.app).await?
                    } else {
                        self.execute(&task, &job.app).await?
                    };
                    match outcome {
                        Ok(cid) => {
                            self.store
                                .set_job_stage(chain, task_id, JobStage::Executed, Some(&cid.to_string()), None, now())
                                .await?;
                            self.failpoint("executed");
                        }
                        Err(reason) => {
                            let reason = short(&reason);
                            self.store
                                .set_job_stage(chain, task_id, JobStage::Failing, None, Some(&reason), now())
                                .await?;
                            self.failpoint("failing");
                        }
                    }
                }
                JobStage::Executed => {
                    let cid = job.result_cid.unwrap_or_default();
                    let sent = self.send(market.completeTask(id, cid.clone())).await?;
                    self.failpoint("complete-sent");
                    self.store.set_job_stage(chain, task_id, JobStage::Done, None, None, now()).await?;
                    match sent {
                        Sent::Mined => tracing::info!("Task {task_id} completed: result={cid}"),
                        Sent::AlreadyDone => tracing::info!("Task {task_id} was already settled"),
                    }
                    return Ok(());
                }
                JobStage::Failing => {
                    let reason = job.failure_reason.unwrap_or_else(|| "job failed".into());
                    let sent = self.send(market.failTask(id, reason.clone())).await?;
                    self.failpoint("fail-sent");
                    self.store.set_job_stage(chain, task_id, JobStage::Done, None, None, now()).await?;
                    match sent {
                        Sent::Mined => tracing::info!("Task {task_id} refunded: {reason}"),
                        Sent::AlreadyDone => tracing::info!("Task {task_id} was already settled"),
                    }
                    return Ok(());
                }
            }
        }
    }

    /// Runs the job; `Ok(Err(reason))` is a job that failed (bad input, a limit hit, a crash).
    async fn execute(&self, task: &TaskRow, app: &str) -> Result<Result<Cid, String>> {
        let input = match self.resolve_input(task.input.as_deref().unwrap_or_default()).await? {
            Ok(bytes) => bytes,
            Err(reason) => return Ok(Err(reason)),
        };
        // The job may run as long as the service promises, within the node's own limit.
        let mut limits =
            self.cfg.apps.values().find(|(a, _)| a.as_str() == app).map(|(_, l)| l.clone()).unwrap_or_default();
        if let Some(service) = self.store.service(self.cfg.chain_id, task.service_id).await? {
            limits.wall_time = limits.wall_time.min(Duration::from_secs(service.max_run_time));
        }
        let spec = JobSpec { app: AppId::new(app), input, limits };
        let job = match self.executor.submit(spec).await {
            Ok(job) => job,
            Err(agora_executor::Error::UnknownApp(a)) => return Ok(Err(format!("app {a} is not installed"))),
            Err(e) => return Err(e.into()),
        };
        let status = self.executor.wait(&job).await?;
        let outcome = match status {
            JobStatus::Succeeded { output } => Ok(self.content.put(output).await?),
            JobStatus::Failed { reason } => Err(reason),
            other => Err(format!("job ended in state {other:?}")),
        };
        self.executor.forget(&job).await?;
        Ok(outcome)
    }

    /// Runs the task through iExec; the backend resumes whatever deal it recorded for it.
    async fn execute_on_iexec(&self, task: &TaskRow, app: &str) -> Result<Result<Cid, String>> {
        let backend = self.iexec.as_ref().ok_or(Error::IexecUnavailable(task.task_id))?;
        let service = self.store.service(self.cfg.chain_id, task.service_id).await?;
        let category = service.map(|s| metadata(&s)["iexecCategory"].as_u64().unwrap_or(0)).unwrap_or(0);
        let request = IexecRequest {
            task_id: task.task_id,
            service_id: task.service_id,
            app,
            category,
            input: task.input.as_deref().unwrap_or_default(),
        };
        Ok(match backend.run(&request).await? {
            Outcome::Completed { cid } => Ok(cid),
            Outcome::Failed { reason } => Err(reason),
        })
    }

    /// A task's input: the bytes behind a CID from the content store, else the text itself.
    async fn resolve_input(&self, input: &str) -> Result<Result<bytes::Bytes, String>> {
        let trimmed = input.trim();
        if trimmed.starts_with("baf") || trimmed.starts_with("Qm") {
            let cid: Cid = match trimmed.parse() {
                Ok(c) => c,
                Err(e) => return Ok(Err(format!("bad input: {e}"))),
            };
            return Ok(match self.content.get(&cid).await? {
                Some(bytes) => Ok(bytes),
                None => Err(format!("bad input: {cid} is not in the content store")),
            });
        }
        Ok(Ok(bytes::Bytes::copy_from_slice(input.as_bytes())))
    }

    /// Sends an operator transaction and waits for it. A revert saying the task is already past
    /// that step counts as done: an earlier attempt or the buyer's refund got there first.
    async fn send<D: alloy::contract::CallDecoder>(
        &self,
        call: alloy::contract::CallBuilder<&DynProvider, D>,
    ) -> Result<Sent> {
        let pending = {
            let _one_at_a_time = self.send_lock.lock().await;
            match call.send().await {
                Ok(p) => p,
                Err(e) => {
                    return match ContractError::from(e) {
                        ContractError::Market(ComputeMarketErrors::InvalidTaskStatus(_)) => Ok(Sent::AlreadyDone),
                        other => Err(agora_chain::Error::Contract(other).into()),
                    };
                }
            }
        };
        let receipt = pending.get_receipt().await.map_err(agora_chain::Error::from)?;
        if receipt.status() {
            Ok(Sent::Mined)
        } else {
            Err(agora_chain::Error::Reverted { tx: receipt.transaction_hash }.into())
        }
    }
}
