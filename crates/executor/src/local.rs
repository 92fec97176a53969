//! [`LocalExecutor`]: jobs run on this machine, in wasmtime, a bounded number at a time.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use tokio::sync::{Semaphore, watch};
use wasmtime::{Engine, Linker};

use crate::wasm::{self, App, JobCtx, TICK};
use crate::{AppId, Error, Executor, JobId, JobSpec, JobStatus, Result};

/// How the local executor runs jobs.
#[derive(Debug, Clone)]
pub struct LocalConfig {
    /// Jobs running at once; more wait as [`JobStatus::Queued`]. Defaults to the number of CPUs.
    pub concurrency: usize,
    /// Where each job's scratch directory is made (and removed when the job ends). Defaults to
    /// the system's temporary directory.
    pub scratch_dir: PathBuf,
}

impl Default for LocalConfig {
    fn default() -> Self {
        Self {
            concurrency: std::thread::available_parallelism().map(usize::from).unwrap_or(2),
            scratch_dir: std::env::temp_dir(),
        }
    }
}

/// Runs registered WebAssembly apps on this machine (see the crate docs for the sandbox).
///
/// Cloning is cheap and shares the apps and jobs. When the last clone is dropped, running jobs
/// are cancelled and queued ones fail.
#[derive(Clone)]
pub struct LocalExecutor {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    linker: Linker<JobCtx>,
    apps: Mutex<HashMap<AppId, Arc<App>>>,
    jobs: Mutex<HashMap<JobId, Job>>,
    slots: Arc<Semaphore>,
    scratch_dir: PathBuf,
    /// Distinguishes this executor's job ids from those of an earlier process.
    instance: String,
    next_job: AtomicU64,
    ticker: Arc<Ticker>,
}

struct Job {
    status: Arc<watch::Sender<JobStatus>>,
    cancel: Arc<AtomicBool>,
}

impl LocalExecutor {
    /// Sets up the engine and the epoch ticker thread.
    pub fn new(config: LocalConfig) -> Result<Self> {
        let engine = wasm::engine()?;
        let linker = wasm::base_linker(&engine)?;
        let ticker = Ticker::start(engine.clone())?;
        let mut random = [0u8; 4];
        getrandom::fill(&mut random).map_err(|e| Error::Engine(format!("no random source: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                engine,
                linker,
                apps: Mutex::default(),
                jobs: Mutex::default(),
                slots: Arc::new(Semaphore::new(config.concurrency.max(1))),
                scratch_dir: config.scratch_dir,
                instance: format!("{:08x}", u32::from_le_bytes(random)),
                next_job: AtomicU64::new(1),
                ticker,
            }),
        })
    }

    /// Registers an app given as a wasm binary or WAT text, compiling it now, and returns its id
    /// (SHA-256 of the binary module, lowercase hex). Registering the same module again is cheap
    /// and returns the same id. Compiling takes CPU time: from async code, call it through
    /// `spawn_blocking` for large modules.
    pub fn register_app(&self, bytes: &[u8]) -> Result<AppId> {
        let wasm = wasm::to_binary(bytes)?;
        let id = wasm::app_id(&wasm);
        if lock(&self.inner.apps).contains_key(&id) {
            return Ok(id);
        }
        let app = Arc::new(wasm::compile(&self.inner.engine, &self.inner.linker, &wasm)?);
        lock(&self.inner.apps).entry(id.clone()).or_insert(app);
        tracing::debug!(app = %id, "app registered");
        Ok(id)
    }

    /// Whether an app with this id is registered.
    pub fn has_app(&self, id: &AppId) -> bool {
        lock(&self.inner.apps).contains_key(id)
    }

    fn job(&self, id: &JobId) -> Result<(Arc<watch::Sender<JobStatus>>, Arc<AtomicBool>)> {
        lock(&self.inner.jobs)
            .get(id)
            .map(|job| (job.status.clone(), job.cancel.clone()))
            .ok_or_else(|| Error::UnknownJob(id.clone()))
    }
}

#[async_trait]
impl Executor for LocalExecutor {
    fn name(&self) -> &'static str {
        "local"
    }

    async fn submit(&self, spec: JobSpec) -> Result<JobId> {
        let app = lock(&self.inner.apps).get(&spec.app).cloned().ok_or_else(|| Error::UnknownApp(spec.app.clone()))?;
        let n = self.inner.next_job.fetch_add(1, Ordering::Relaxed);
        let id = JobId(format!("local-{}-{n}", self.inner.instance));
        let status = Arc::new(watch::Sender::new(JobStatus::Queued));
        let cancel = Arc::new(AtomicBool::new(false));
        lock(&self.inner.jobs).insert(id.clone(), Job { status: status.clone(), cancel: cancel.clone() });

        let slots = self.inner.slots.clone();
        let engine = self.inner.engine.clone();
        let ticker = self.inner.ticker.clone();
        let scratch_dir = self.inner.scratch_dir.clone();
        let job = id.clone();
        tokio::spawn(async move {
            let Ok(permit) = slots.acquire_owned().await else {
                status.send_replace(JobStatus::Failed { reason: "executor shut down".into() });
                return;
            };
            let started = status.send_if_modified(|s| {
                let queued = matches!(s, JobStatus::Queued);
                if queued {
                    *s = JobStatus::Running;
                }
                queued
            });
            if !started {
                return; // cancelled while queued
            }
            tracing::debug!(%job, app = %spec.app, "job running");
            let ran = tokio::task::spawn_blocking(move || {
                let _ticker = ticker;
                let scratch = tempfile::Builder::new()
                    .prefix("agora-job-")
                    .tempdir_in(&scratch_dir)
                    .map_err(|e| format!("executor error: creating the scratch directory: {e}"))?;
                let result = wasm::run(&engine, &app, spec.input, &spec.limits, cancel, scratch.path());
                if let Err(e) = scratch.close() {
                    tracing::warn!(error = %e, "could not remove a job's scratch directory");
                }
                result
            })
            .await;
            drop(permit);
            let end = match ran {
                Ok(Ok(output)) => JobStatus::Succeeded { output },
                Ok(Err(reason)) => JobStatus::Failed { reason },
                Err(e) => {
                    tracing::error!(%job, error = %e, "job thread panicked");
                    JobStatus::Failed { reason: "executor error: the job's thread panicked".into() }
                }
            };
            match &end {
                JobStatus::Failed { reason } => tracing::debug!(%job, %reason, "job failed"),
                _ => tracing::debug!(%job, "job succeeded"),
            }
            status.send_replace(end);
        });
        Ok(id)
    }

    async fn status(&self, id: &JobId) -> Result<JobStatus> {
        let (status, _) = self.job(id)?;
        let current = status.borrow().clone();
        Ok(current)
    }

    async fn cancel(&self, id: &JobId) -> Result<()> {
        let (status, cancel) = self.job(id)?;
        cancel.store(true, Ordering::Relaxed);
        // A queued job ends here; a running one ends at the next epoch tick.
        status.send_if_modified(|s| {
            let queued = matches!(s, JobStatus::Queued);
            if queued {
                *s = JobStatus::Failed { reason: "cancelled".into() };
            }
            queued
        });
        Ok(())
    }

    async fn wait(&self, id: &JobId) -> Result<JobStatus> {
        let (status, _) = self.job(id)?;
        let mut rx = status.subscribe();
        drop(status);
        let end = rx.wait_for(JobStatus::is_final).await.map(|end| end.clone());
        // Err: the job was forgotten and its task has ended; report what it left.
        Ok(end.unwrap_or_else(|_| rx.borrow().clone()))
    }

    async fn forget(&self, id: &JobId) -> Result<()> {
        self.cancel(id).await?;
        lock(&self.inner.jobs).remove(id);
        Ok(())
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.slots.close();
        for job in lock(&self.jobs).values() {
            job.cancel.store(true, Ordering::Relaxed);
        }
    }
}

/// Advances the engine's epoch every [`TICK`] on a thread of its own, until dropped; running jobs
/// hold a clone so that it outlives them.
struct Ticker {
    stop: Arc<AtomicBool>,
}

impl Ticker {
    fn start(engine: Engine) -> Result<Arc<Self>> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::Builder::new()
            .name("agora-wasm-epoch".into())
            .spawn(move || {
                while !stopped.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    engine.increment_epoch();
                }
            })
            .map_err(|e| Error::Engine(format!("starting the epoch thread: {e}")))?;
        Ok(Arc::new(Self { stop }))
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
