//! The stage machine that settles every task of the services this node runs exactly once.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use agora_chain::Sender;
use agora_chain::bindings::ComputeMarket::{self, ComputeMarketErrors};
use agora_chain::revert::ContractError;
use agora_store::{ComputeStage, IndexedLog, MarketEvent, ServiceRow, Store, TaskRow, TaskStatus};
use alloy::primitives::{Address, U256};
use tokio::sync::{broadcast, watch};

use crate::runner::{Outcome, Runner, TaskRun};
use crate::{Error, Result};

/// Longest failure reason written on chain.
const MAX_REASON: usize = 160;

#[derive(Debug, Clone)]
/// What the scheduler works on and how often it looks.
pub struct SchedulerConfig {
    /// The chain the market is on.
    pub chain_id: u64,
    /// The ComputeMarket contract.
    pub market: Address,
    /// Services whose tasks this node runs (their provider, or this node as operator for them).
    /// Empty: every service a runner serves.
    pub services: Vec<u64>,
    /// How often open jobs are looked at when no indexed event wakes the scheduler first.
    pub poll: Duration,
    /// Crash-test hook: the process aborts (no clean-up, as if killed) right after reaching this
    /// point: `accepted`, `start-sent`, `started`, `executed`, `complete-sent`, `failing`,
    /// `fail-sent`. `None` in normal use.
    pub failpoint: Option<String>,
}

/// Starts, runs and settles tasks (see the crate documentation).
pub struct Scheduler {
    store: Store,
    operator: Sender,
    runners: Vec<Arc<dyn Runner>>,
    cfg: SchedulerConfig,
    /// Tasks being driven right now.
    busy: Mutex<HashSet<u64>>,
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
    /// The task's deadline has passed: it can no longer be completed, only refunded.
    Expired,
}

/// Whether an indexed event can give the scheduler something to do.
fn wakes(event: &MarketEvent) -> bool {
    matches!(
        event,
        MarketEvent::TaskCreated { .. }
            | MarketEvent::TaskInput { .. }
            | MarketEvent::TaskRefunded { .. }
            | MarketEvent::ServiceListed { .. }
            | MarketEvent::ServiceUpdated { .. }
    )
}

impl Scheduler {
    /// `operator` must sign with a key the market accepts (the services' provider or an
    /// operator); `runners` are asked in order which one serves a service.
    pub fn new(store: Store, operator: Sender, runners: Vec<Arc<dyn Runner>>, cfg: SchedulerConfig) -> Arc<Self> {
        Arc::new(Self { store, operator, runners, cfg, busy: Mutex::new(HashSet::new()) })
    }

    /// Runs until `shutdown`: a round at start, then one each time the indexer applies a log
    /// about a task or service (`events`), and every `poll` in case an event was missed.
    pub async fn run(
        self: Arc<Self>,
        mut events: broadcast::Receiver<IndexedLog>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        self.prepare().await;
        loop {
            if let Err(e) = self.clone().tick().await {
                tracing::warn!(error = %e, "scheduler round failed");
            }
            let mut listening = true;
            loop {
                tokio::select! {
                    event = events.recv(), if listening => match event {
                        Ok(log) if wakes(&log.event) => break,
                        Ok(_) => continue,
                        Err(broadcast::error::RecvError::Lagged(_)) => break,
                        Err(broadcast::error::RecvError::Closed) => listening = false,
                    },
                    _ = tokio::time::sleep(self.cfg.poll) => break,
                    _ = shutdown.changed() => break,
                }
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }

    fn ours(&self, service_id: u64) -> bool {
        self.cfg.services.is_empty() || self.cfg.services.contains(&service_id)
    }

    fn runner_for(&self, service: &ServiceRow) -> Option<&Arc<dyn Runner>> {
        let runtime = service.metadata.as_ref()?.runtime.as_ref()?;
        self.runners.iter().find(|r| r.serves(runtime))
    }

    /// Readies the services already listed (e.g. their iExec app deployed) in the background, so
    /// their first task does not wait for it.
    async fn prepare(&self) {
        let services = match self.store.services(self.cfg.chain_id).await {
            Ok(s) => s,
            Err(e) => return tracing::warn!(error = %e, "cannot list services to prepare them"),
        };
        for service in services.into_iter().filter(|s| s.active && self.ours(s.service_id)) {
            let (Some(runner), Some(runtime)) =
                (self.runner_for(&service).cloned(), service.metadata.and_then(|m| m.runtime))
            else {
                continue;
            };
            tokio::spawn(async move {
                if let Err(e) = runner.prepare(service.service_id, &runtime).await {
                    tracing::warn!(service = service.service_id, error = %e, "preparing the service failed; its first task retries");
                }
            });
        }
    }

    /// Takes on new tasks and moves every open one forward, each in its own tokio task. Returns how many
    /// jobs it set going.
    pub async fn tick(self: Arc<Self>) -> Result<usize> {
        let chain = self.cfg.chain_id;
        for task_id in self.store.tasks_without_compute_record(chain, 100).await? {
            let task = self.store.task(chain, task_id).await?.ok_or(Error::UnknownTask(task_id))?;
            let service =
                if self.ours(task.service_id) { self.store.service(chain, task.service_id).await? } else { None };
            let plan =
                service.as_ref().and_then(|s| Some((self.runner_for(s)?, s.metadata.as_ref()?.runtime.as_ref()?)));
            match plan {
                Some((runner, runtime)) => {
                    self.store
                        .create_compute_record(
                            chain,
                            task_id,
                            ComputeStage::Accepted,
                            runner.name(),
                            runtime.app(),
                            now(),
                        )
                        .await?;
                    self.failpoint("accepted");
                }
                None => {
                    self.store.create_compute_record(chain, task_id, ComputeStage::Ignored, "-", "-", now()).await?;
                }
            }
        }
        let mut started = 0;
        for task_id in self.store.open_compute_records(chain).await? {
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

    /// Runs `tick` until no task is open or busy, or `limit` passes (tests and one-shot use).
    pub async fn drain(self: Arc<Self>, limit: Duration) -> Result<()> {
        let start = std::time::Instant::now();
        loop {
            self.clone().tick().await?;
            let busy = self.busy.lock().map(|b| b.len()).unwrap_or(0);
            if busy == 0 && self.store.open_compute_records(self.cfg.chain_id).await?.is_empty() {
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

    /// Moves one task's record as far as it can go now.
    async fn drive(&self, task_id: u64) -> Result<()> {
        let chain = self.cfg.chain_id;
        loop {
            let record = self.store.compute_record(chain, task_id).await?.ok_or(Error::UnknownTask(task_id))?;
            let task = self.store.task(chain, task_id).await?.ok_or(Error::UnknownTask(task_id))?;
            if matches!(task.status, TaskStatus::Completed | TaskStatus::Refunded) {
                self.store.set_compute_stage(chain, task_id, ComputeStage::Done, None, None, now()).await?;
                return Ok(());
            }
            let market = ComputeMarket::new(self.cfg.market, self.operator.provider());
            let id = U256::from(task_id);
            match record.stage {
                ComputeStage::Done | ComputeStage::Ignored => return Ok(()),
                ComputeStage::Accepted => {
                    if task.status == TaskStatus::Created {
                        let sent = self.send(market.startTask(id)).await?;
                        self.failpoint("start-sent");
                        if let Sent::Expired = sent {
                            let reason = "the task's deadline passed before it could start";
                            self.store
                                .set_compute_stage(chain, task_id, ComputeStage::Failing, None, Some(reason), now())
                                .await?;
                            continue;
                        }
                    }
                    self.store.set_compute_stage(chain, task_id, ComputeStage::Started, None, None, now()).await?;
                    self.failpoint("started");
                    tracing::info!("Task {task_id} started: runner={} app={}", record.runner, record.app);
                }
                ComputeStage::Started => {
                    let (stage, cid, reason) = match self.execute(&task, &record.runner, &record.app).await? {
                        Outcome::Completed { cid } => (ComputeStage::Executed, Some(cid.to_string()), None),
                        Outcome::Failed { reason } => (ComputeStage::Failing, None, Some(short(&reason))),
                    };
                    self.store
                        .set_compute_stage(chain, task_id, stage, cid.as_deref(), reason.as_deref(), now())
                        .await?;
                    self.failpoint(if stage == ComputeStage::Executed { "executed" } else { "failing" });
                }
                ComputeStage::Executed => {
                    let cid = record.result_cid.unwrap_or_default();
                    let sent = self.send(market.completeTask(id, cid.clone())).await?;
                    self.failpoint("complete-sent");
                    if let Sent::Expired = sent {
                        // Too late to be paid: the buyer gets the refund, with the reason.
                        let reason = "the result was ready only after the task's deadline";
                        self.store
                            .set_compute_stage(chain, task_id, ComputeStage::Failing, None, Some(reason), now())
                            .await?;
                        continue;
                    }
                    self.store.set_compute_stage(chain, task_id, ComputeStage::Done, None, None, now()).await?;
                    match sent {
                        Sent::Mined => tracing::info!("Task {task_id} completed: result={cid}"),
                        Sent::AlreadyDone | Sent::Expired => tracing::info!("Task {task_id} was already settled"),
                    }
                    return Ok(());
                }
                ComputeStage::Failing => {
                    let reason = record.failure_reason.unwrap_or_else(|| "the run failed".into());
                    let sent = self.send(market.failTask(id, reason.clone())).await?;
                    self.failpoint("fail-sent");
                    self.store.set_compute_stage(chain, task_id, ComputeStage::Done, None, None, now()).await?;
                    match sent {
                        Sent::Mined => tracing::info!("Task {task_id} refunded: {reason}"),
                        Sent::AlreadyDone | Sent::Expired => tracing::info!("Task {task_id} was already settled"),
                    }
                    return Ok(());
                }
            }
        }
    }

    /// Hands the task to the runner its record names.
    async fn execute(&self, task: &TaskRow, runner: &str, app: &str) -> Result<Outcome> {
        let runner = self
            .runners
            .iter()
            .find(|r| r.name() == runner)
            .ok_or_else(|| Error::RunnerUnavailable { task_id: task.task_id, runner: runner.to_owned() })?;
        let service = self.store.service(self.cfg.chain_id, task.service_id).await?;
        let Some((service, metadata)) = service.as_ref().and_then(|s| Some((s, s.metadata.as_ref()?))) else {
            return Ok(Outcome::Failed { reason: format!("service {} has no usable metadata", task.service_id) });
        };
        let run = TaskRun {
            chain_id: self.cfg.chain_id,
            task_id: task.task_id,
            service_id: task.service_id,
            provider: service.provider,
            service: metadata,
            app,
            input: task.input.as_deref().unwrap_or_default(),
            max_run_time: Duration::from_secs(service.max_run_time),
        };
        runner.run(run).await.map_err(|source| Error::Runner { task_id: task.task_id, source })
    }

    /// Sends an operator transaction and waits for it. A revert saying the task is already past
    /// that step counts as done: an earlier attempt or the buyer's refund got there first.
    async fn send<P, D>(&self, call: alloy::contract::CallBuilder<P, D>) -> Result<Sent> {
        match self.operator.send(call).await {
            Ok(_) => Ok(Sent::Mined),
            Err(agora_chain::Error::Contract(ContractError::Market(ComputeMarketErrors::InvalidTaskStatus(_)))) => {
                Ok(Sent::AlreadyDone)
            }
            Err(agora_chain::Error::Contract(ContractError::Market(ComputeMarketErrors::TaskExpired(_)))) => {
                Ok(Sent::Expired)
            }
            Err(e) => Err(e.into()),
        }
    }
}
