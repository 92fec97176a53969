//! The compute market's scheduler. For every bought task of a service this node runs, it records a
//! job, starts the task on chain, runs it on an [`Executor`], stores the output in the content store
//! and completes the task with the output's CID — or fails it (refunding the buyer) with a short
//! reason. Every step is recorded before the next begins and reconciled against the indexed task,
//! and the contract accepts one settlement per task, so a crash anywhere ends, after a restart, in
//! exactly one completion or refund.
//!
//! Operator transactions are sent one at a time (the pending nonce is read per transaction), so
//! concurrent jobs never collide on a nonce.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use agora_chain::bindings::ComputeMarket::{self, ComputeMarketErrors};
use agora_chain::revert::ContractError;
use agora_content::{AnyStore, Cid, ContentStore};
use agora_executor::{AppId, Executor, JobSpec, JobStatus, Limits};
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
    /// `fail-sent`. Set from `AGORA_FAILPOINT`; `None` in normal use.
    pub failpoint: Option<String>,
}

pub struct Scheduler {
    store: Store,
    operator: DynProvider,
    executor: Arc<dyn Executor>,
    content: Arc<AnyStore>,
    cfg: SchedulerConfig,
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
        Arc::new(Self {
            store,
            operator,
            executor,
            content,
            cfg,
            busy: Mutex::new(HashSet::new()),
            send_lock: tokio::sync::Mutex::new(()),
        })
    }

    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
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

    /// Takes on new tasks and moves every open job forward, each in its own task. Returns how many
    /// jobs it set going.
    pub async fn tick(self: Arc<Self>) -> Result<usize> {
        let chain = self.cfg.chain_id;
        for task_id in self.store.tasks_without_job(chain, 100).await? {
            let task = self.store.task(chain, task_id).await?.ok_or(Error::UnknownTask(task_id))?;
            match self.app_for(&task).await? {
                Some(app) => {
                    self.store
                        .accept_job(chain, task_id, JobStage::Accepted, self.executor.name(), app.as_str(), now())
                        .await?;
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

    async fn app_for(&self, task: &TaskRow) -> Result<Option<AppId>> {
        if !self.cfg.services.is_empty() && !self.cfg.services.contains(&task.service_id) {
            return Ok(None);
        }
        let Some(service) = self.store.service(self.cfg.chain_id, task.service_id).await? else { return Ok(None) };
        let kind = service
            .metadata_uri
            .strip_prefix("data:application/json,")
            .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
            .and_then(|m| m["kind"].as_str().map(str::to_owned));
        Ok(kind.and_then(|k| self.cfg.apps.get(&k).map(|(app, _)| app.clone())))
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
                    let kind = if job.app.starts_with("ffmpeg:") { "ffmpeg" } else { "wasm" };
                    tracing::info!("Task {task_id} started: executor={} kind={kind} app={}", job.executor, job.app);
                }
                JobStage::Started => {
                    let outcome = self.execute(&task, &job.app).await?;
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
