//! The runner on this node's own executor: the input (text, or the CID of an upload) read against
//! the service's input form, the app and limits from the node's [`Catalogue`], the output stored in
//! the content store. An optional [`ServiceGate`] may refuse a task before anything runs.

use std::sync::Arc;
use std::time::Duration;

use agora_content::{AnyStore, Cid, ContentStore};
use agora_executor::{Catalogue, JobSpec, JobStatus};
use agora_market::Runtime;
use async_trait::async_trait;

use crate::runner::{Outcome, Runner, RunnerError, ServiceGate, TaskRun};

/// Runs tasks on the node's catalogue (see the module documentation).
pub struct LocalRunner {
    catalogue: Arc<Catalogue>,
    content: Arc<AnyStore>,
    gate: Option<Arc<dyn ServiceGate>>,
}

impl LocalRunner {
    /// A runner over `catalogue` that stores outputs in `content`.
    pub fn new(catalogue: Arc<Catalogue>, content: Arc<AnyStore>) -> Self {
        Self { catalogue, content, gate: None }
    }

    /// The same runner, asking `gate` before each task whether it may run.
    pub fn with_gate(mut self, gate: Arc<dyn ServiceGate>) -> Self {
        self.gate = Some(gate);
        self
    }

    /// A task's data: the bytes behind a CID from the content store, else the text itself.
    async fn resolve(&self, data: &str) -> Result<Result<bytes::Bytes, String>, RunnerError> {
        let trimmed = data.trim();
        if !Cid::looks_like(trimmed) {
            return Ok(Ok(bytes::Bytes::copy_from_slice(data.as_bytes())));
        }
        let cid: Cid = match trimmed.parse() {
            Ok(c) => c,
            Err(e) => return Ok(Err(format!("bad input: {e}"))),
        };
        Ok(match self.content.get(&cid).await? {
            Some(bytes) => Ok(bytes),
            None => Err(format!("bad input: {cid} is not in the content store")),
        })
    }
}

#[async_trait]
impl Runner for LocalRunner {
    fn name(&self) -> &'static str {
        "local"
    }

    fn serves(&self, runtime: &Runtime) -> bool {
        matches!(runtime, Runtime::Local { app } if self.catalogue.serves(app))
    }

    async fn run(&self, task: TaskRun<'_>) -> Result<Outcome, RunnerError> {
        let failed = |reason: String| Ok(Outcome::Failed { reason });
        if let Some(gate) = &self.gate
            && let Err(reason) = gate.admit(&task).await?
        {
            return failed(reason);
        }
        let input = match task.service.input().parse(task.input) {
            Ok(i) => i,
            Err(reason) => return failed(reason),
        };
        let (app, mut limits) = match self.catalogue.job(task.app, &input.options) {
            Ok(job) => job,
            Err(reason) => return failed(reason),
        };
        // The job may run as long as the service promises, within the node's own limit.
        limits.wall_time = limits.wall_time.min(task.max_run_time.max(Duration::from_secs(1)));
        let bytes = match self.resolve(&input.data).await? {
            Ok(b) => b,
            Err(reason) => return failed(reason),
        };
        let executor = self.catalogue.executor();
        let job = match executor.submit(JobSpec { app, input: bytes, limits }).await {
            Ok(job) => job,
            Err(agora_executor::Error::UnknownApp(a)) => return failed(format!("app {a} is not installed")),
            Err(e) => return Err(e.into()),
        };
        let status = executor.wait(&job).await?;
        let outcome = match status {
            JobStatus::Succeeded { output } => Outcome::Completed { cid: self.content.put(output).await? },
            JobStatus::Failed { reason } => Outcome::Failed { reason },
            other => Outcome::Failed { reason: format!("job ended in state {other:?}") },
        };
        executor.forget(&job).await?;
        Ok(outcome)
    }
}
