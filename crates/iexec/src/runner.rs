//! The requester backend as one of the scheduler's runners: services whose runtime is
//! `{"type":"iexec","app":…,"category":…}` run as iExec deals.

use agora_compute::{Outcome, Runner, RunnerError, TaskRun};
use agora_market::Runtime;
use async_trait::async_trait;

use crate::backend::{self, Backend, IexecRequest};

#[async_trait]
impl Runner for Backend {
    fn name(&self) -> &'static str {
        "iexec"
    }

    fn serves(&self, runtime: &Runtime) -> bool {
        matches!(runtime, Runtime::Iexec { app, .. } if Backend::serves(self, app))
    }

    async fn prepare(&self, service_id: u64, runtime: &Runtime) -> Result<(), RunnerError> {
        if let Runtime::Iexec { app, .. } = runtime {
            Backend::prepare(self, service_id, app).await?;
        }
        Ok(())
    }

    async fn run(&self, task: TaskRun<'_>) -> Result<Outcome, RunnerError> {
        let category = match &task.service.runtime {
            Some(Runtime::Iexec { category, .. }) => *category,
            _ => 0,
        };
        let request = IexecRequest {
            task_id: task.task_id,
            service_id: task.service_id,
            app: task.app,
            category,
            input: task.input,
        };
        Ok(match Backend::run(self, &request).await? {
            backend::Outcome::Completed { cid } => Outcome::Completed { cid },
            backend::Outcome::Failed { reason } => Outcome::Failed { reason },
        })
    }
}
