//! A job's life, resumed from its record: `NEW` → `SIGNED` (request order signed and recorded)
//! → the iExec task's own status (`UNSET`, `ACTIVE`, `REVEALING`) → `COMPLETED` (the result
//! fetched) or `FAILED` (claimed after the final deadline). Each step is recorded before the next.

use agora_store::{IexecJobRow, IexecJobStatus};
use alloy::primitives::U256;

use super::cli::TaskInfo;
use super::{Backend, IexecRequest, Outcome, ids};
use crate::Result;
use crate::task::{TaskStatus, task_id};

/// A deal's task status as the job's record stores it (the same PoCo name).
impl From<TaskStatus> for IexecJobStatus {
    fn from(status: TaskStatus) -> Self {
        match status {
            TaskStatus::Unset => IexecJobStatus::Unset,
            TaskStatus::Active => IexecJobStatus::Active,
            TaskStatus::Revealing => IexecJobStatus::Revealing,
            TaskStatus::Completed => IexecJobStatus::Completed,
            TaskStatus::Failed => IexecJobStatus::Failed,
        }
    }
}

/// What one step of a job led to.
enum Step {
    /// Go on with the (updated) record.
    Next,
    /// The job is over.
    Done(Outcome),
}

impl Backend {
    /// Drives the job of `req` until it ends.
    pub(super) async fn drive(&self, req: &IexecRequest<'_>) -> Result<Outcome> {
        self.ensure_wallets().await?;
        let mut job = match self.store.iexec_job(self.cfg.chain_id, req.task_id).await? {
            Some(job) => job,
            None => {
                // A bad input fails before anything is deployed or signed.
                if let Err(reason) = self.params_for(req.input).await? {
                    return Ok(Outcome::Failed { reason });
                }
                let (app, _) = self.ensure_app(req.service_id, req.app).await?;
                let job = IexecJobRow::new(req.task_id, self.cfg.hub, app);
                self.save(&job).await?;
                job
            }
        };
        // The first status seen by this run is logged even when it is the recorded one.
        let mut announced = false;
        let calls_before = self.cli.calls();
        loop {
            let step = match job.status {
                IexecJobStatus::New => self.sign(req, &mut job).await?,
                IexecJobStatus::Signed => self.fill(req, &mut job).await?,
                IexecJobStatus::Completed => self.completed(req, &job, calls_before).await?,
                IexecJobStatus::Failed => {
                    let (_, task) = ids(&job)?;
                    Step::Done(Outcome::Failed {
                        reason: format!("iExec task {task} produced no result before its deadline and was claimed"),
                    })
                }
                IexecJobStatus::Unset | IexecJobStatus::Active | IexecJobStatus::Revealing => {
                    self.follow(&mut job, &mut announced).await?
                }
            };
            if let Step::Done(outcome) = step {
                return Ok(outcome);
            }
        }
    }

    /// `NEW`: signs the request order and records it (with its hash) as `SIGNED`.
    async fn sign(&self, req: &IexecRequest<'_>, job: &mut IexecJobRow) -> Result<Step> {
        let params = match self.params_for(req.input).await? {
            Ok(p) => p,
            Err(reason) => return Ok(Step::Done(Outcome::Failed { reason })),
        };
        let (app, apporder) = self.ensure_app(req.service_id, req.app).await?;
        let workerpoolorder = self.workerpool_order(req.category).await?;
        let (order, hash) = self.sign_request(req, app, &apporder, &workerpoolorder, params).await?;
        job.app = app;
        job.requestorder = Some(order.to_string());
        job.request_hash = Some(hash);
        job.status = IexecJobStatus::Signed;
        self.save(job).await?;
        self.failpoint("iexec-signed");
        Ok(Step::Next)
    }

    /// `SIGNED`: the deal (found or made), its only task and final deadline, recorded as `UNSET`.
    async fn fill(&self, req: &IexecRequest<'_>, job: &mut IexecJobRow) -> Result<Step> {
        let deal = self.find_or_fill(req, job).await?;
        // A request order of volume 1 makes one task, at index 0; its deadline is read from the
        // hub as PoCo will judge it.
        let task = task_id(deal, U256::ZERO);
        job.deal_id = Some(deal);
        job.iexec_task_id = Some(task);
        job.final_deadline = Some(self.final_deadline(deal).await?);
        job.status = IexecJobStatus::Unset;
        self.save(job).await?;
        self.failpoint("iexec-deal");
        Ok(Step::Next)
    }

    /// A running task: one look at it (`iexec task show`). A new status is recorded; a task past
    /// its final deadline is claimed; otherwise this waits one poll interval.
    async fn follow(&self, job: &mut IexecJobRow, announced: &mut bool) -> Result<Step> {
        let (deal, task) = ids(job)?;
        let seen = self.cli.task_show(&self.requester_dir, task).await?;
        let changed = IexecJobStatus::from(seen.status) != job.status;
        if changed || !*announced {
            *announced = true;
            tracing::info!("iExec deal {deal} task {task} status={}", seen.status);
            if changed {
                self.record(job, &seen).await?;
                if seen.status == TaskStatus::Completed {
                    self.failpoint("iexec-completed");
                }
                return Ok(Step::Next);
            }
        }
        let deadline = job.final_deadline.unwrap_or(u64::MAX);
        if self.deadline_reached(deadline).await? && self.claim(deal, task, seen.status).await? {
            tracing::info!("iExec task {task} claimed after its final deadline ({deadline})");
            self.failpoint("iexec-claim-sent");
            job.status = IexecJobStatus::Failed;
            self.save(job).await?;
            return Ok(Step::Next);
        }
        tokio::time::sleep(self.cfg.poll).await;
        Ok(Step::Next)
    }

    /// `COMPLETED`: the result fetched and stored, or the reason it is unusable.
    async fn completed(&self, req: &IexecRequest<'_>, job: &IexecJobRow, calls_before: u64) -> Result<Step> {
        let (_, task) = ids(job)?;
        let location = job.result_location.clone().unwrap_or_default();
        let outcome = match self.fetch_result(req.task_id, task, &location).await? {
            Ok(cid) => {
                let calls = self.cli.calls().saturating_sub(calls_before);
                tracing::info!(
                    "iExec task {task} COMPLETED result={location} ({calls} iexec CLI calls by this node meanwhile)"
                );
                Outcome::Completed { cid }
            }
            Err(reason) => Outcome::Failed { reason },
        };
        Ok(Step::Done(outcome))
    }

    async fn record(&self, job: &mut IexecJobRow, seen: &TaskInfo) -> Result<()> {
        job.status = seen.status.into();
        if let Some(d) = seen.final_deadline.filter(|d| *d > 0) {
            job.final_deadline = Some(d);
        }
        if seen.status == TaskStatus::Completed {
            job.result_location = Some(seen.result_location.clone().unwrap_or_default());
        }
        self.save(job).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_status_is_recorded_under_its_poco_name() {
        for status in TaskStatus::ALL {
            assert_eq!(IexecJobStatus::from(status).as_str(), status.name());
        }
    }
}
