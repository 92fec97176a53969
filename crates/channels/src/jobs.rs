//! The payee's background jobs, run on one schedule and controlled by an admin: `channel-auto-settle`
//! (closes channels about to expire with their highest voucher) and `channel-expiry` (marks the
//! channels whose expiry passed while still open — the node can no longer close them, their payers
//! may reclaim), and any [`PeriodicJob`] given from outside (the fee receiver's `fl-fee-forward`),
//! each on its own schedule. Each can be run now, paused and resumed (the pause is stored, so it
//! survives a restart); every run is recorded with its outcome. Runs never overlap.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use agora_store::{BackgroundRun, Settlement, SettlementOutcome, Store};
use alloy::primitives::{B256, U256};
use tokio::sync::{Mutex, watch};
use tokio::time::Instant;

use crate::settle::{JOB_NAME, Settler, now_ms, record_run};

/// The expiry job's name in its recorded runs.
pub const EXPIRY_JOB: &str = "channel-expiry";

/// The channel jobs' names.
pub const JOB_NAMES: [&str; 2] = [JOB_NAME, EXPIRY_JOB];

/// A boxed future, as [`PeriodicJob::run_once`] returns it.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What one pass of a [`PeriodicJob`] did, recorded as its run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pass {
    /// How many items it acted on (for the fee forwarding, tasks paid for).
    pub touched: u64,
    /// What went wrong, one line each; the next pass tries again.
    pub errors: Vec<String>,
}

/// A background job from outside this crate, run by [`Jobs`] beside the channel jobs: on its own
/// schedule, never at the same time as another job, recorded, and paused or run now by an admin.
pub trait PeriodicJob: Send + Sync {
    /// Its name in the recorded runs and the admin's list (`fl-fee-forward`).
    fn name(&self) -> &'static str;
    /// Time between scheduled passes.
    fn every(&self) -> Duration;
    /// One pass. Whatever goes wrong with the work itself belongs in [`Pass::errors`]; an `Err` is
    /// for a store that cannot be read.
    fn run_once(&self) -> BoxFuture<'_, agora_store::Result<Pass>>;
}

/// A background job as an admin sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStatus {
    /// Its name.
    pub name: &'static str,
    /// Paused by an admin: scheduled runs are skipped (a run asked for now still runs).
    pub paused: bool,
    /// Time between scheduled runs.
    pub every: Duration,
}

/// The payee's background jobs; cheap to clone.
#[derive(Clone)]
pub struct Jobs {
    inner: Arc<Inner>,
}

struct Inner {
    settler: Settler,
    every: Duration,
    extra: Vec<Arc<dyn PeriodicJob>>,
    /// Held by every run, so a run asked for now never overlaps a scheduled one.
    running: Mutex<()>,
}

impl Jobs {
    /// The channel jobs of `settler`'s payee, each run every `interval` of its configuration.
    pub fn new(settler: Settler) -> Self {
        Self::with_jobs(settler, Vec::new())
    }

    /// The channel jobs, and `extra` on their own schedules (their names must differ from the
    /// channel jobs' and from each other's; a repeated name is run under the first job that has it).
    pub fn with_jobs(settler: Settler, extra: Vec<Arc<dyn PeriodicJob>>) -> Self {
        let every = settler.cfg.interval;
        Self { inner: Arc::new(Inner { settler, every, extra, running: Mutex::new(()) }) }
    }

    /// Every job's name and schedule: the channel jobs first.
    fn schedule(&self) -> Vec<(&'static str, Duration)> {
        let channel = JOB_NAMES.into_iter().map(|name| (name, self.inner.every));
        channel.chain(self.inner.extra.iter().map(|j| (j.name(), j.every()))).collect()
    }

    fn extra(&self, name: &str) -> Option<&Arc<dyn PeriodicJob>> {
        self.inner.extra.iter().find(|j| j.name() == name)
    }

    fn store(&self) -> &Store {
        &self.inner.settler.store
    }

    /// Runs every job on its schedule until `shutdown` turns true, each first at once; paused jobs
    /// are skipped.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) {
        let schedule = self.schedule();
        let mut due = vec![Instant::now(); schedule.len()];
        loop {
            for (i, &(name, every)) in schedule.iter().enumerate() {
                if due[i] > Instant::now() {
                    continue;
                }
                due[i] = Instant::now() + every;
                match self.store().background_job_paused(name).await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(job = name, error = %e, "cannot read whether the job is paused");
                        continue;
                    }
                }
                match self.run_now(name).await {
                    Ok(Some(run)) if run.channels_touched > 0 || !run.errors.is_empty() => {
                        tracing::info!(job = name, touched = run.channels_touched, errors = ?run.errors, "background run");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(job = name, error = %e, "background run could not be recorded"),
                }
            }
            let next = due.iter().min().copied().unwrap_or_else(|| Instant::now() + self.inner.every);
            tokio::select! {
                _ = tokio::time::sleep_until(next) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }

    /// Runs the job `name` once now (paused or not) and returns its recorded run; `None` for a
    /// name that is no job.
    pub async fn run_now(&self, name: &str) -> agora_store::Result<Option<BackgroundRun>> {
        let _running = self.inner.running.lock().await;
        match name {
            JOB_NAME => self.inner.settler.run_once().await.map(Some),
            EXPIRY_JOB => self.mark_expired().await.map(Some),
            other => match self.extra(other) {
                Some(job) => {
                    let started_at_ms = now_ms();
                    let pass = job.run_once().await?;
                    record_run(self.store(), job.name(), started_at_ms, pass.touched, pass.errors).await.map(Some)
                }
                None => Ok(None),
            },
        }
    }

    /// Pauses or resumes `name`; `false` for a name that is no job.
    pub async fn set_paused(&self, name: &str, paused: bool) -> agora_store::Result<bool> {
        if !self.schedule().iter().any(|(n, _)| *n == name) {
            return Ok(false);
        }
        self.store().set_background_job_paused(name, paused, now_ms() / 1000).await?;
        Ok(true)
    }

    /// Every job with its schedule and whether it is paused.
    pub async fn status(&self) -> agora_store::Result<Vec<JobStatus>> {
        let mut list = Vec::new();
        for (name, every) in self.schedule() {
            let paused = self.store().background_job_paused(name).await?;
            list.push(JobStatus { name, paused, every });
        }
        Ok(list)
    }

    /// Closes one channel now with its highest voucher (an admin's "settle now"), recorded as a run
    /// of the auto-settle job. `None`: no such channel is indexed.
    pub async fn settle_channel(&self, channel_id: B256) -> agora_store::Result<Option<BackgroundRun>> {
        let _running = self.inner.running.lock().await;
        let settler = &self.inner.settler;
        let Some(ch) = self.store().channel(settler.cfg.chain_id, channel_id).await? else { return Ok(None) };
        let started_at_ms = now_ms();
        let (touched, errors) = match settler.settle(&ch).await {
            Ok(true) => (1, Vec::new()),
            Ok(false) if ch.voucher.is_none() => (0, vec![format!("{channel_id}: no voucher to settle with")]),
            Ok(false) => (0, vec![format!("{channel_id}: already closed or settled")]),
            Err(e) => (0, vec![format!("{channel_id}: {e}")]),
        };
        record_run(self.store(), JOB_NAME, started_at_ms, touched, errors).await.map(Some)
    }

    /// One pass of the expiry job: marks each channel past its expiry (chain time) and still open.
    async fn mark_expired(&self) -> agora_store::Result<BackgroundRun> {
        let settler = &self.inner.settler;
        let (chain, payee) = (settler.cfg.chain_id, settler.cfg.payee);
        let started_at_ms = now_ms();
        let mut errors = Vec::new();
        let mut touched = 0;
        match settler.chain_now().await {
            Ok(now) => {
                for ch in self.store().channels_expired(chain, payee, now).await? {
                    let marked = self.store().settlement(chain, ch.channel_id).await?;
                    if marked.is_some_and(|m| m.outcome == SettlementOutcome::Expired) {
                        continue;
                    }
                    let amount = ch.voucher.as_ref().map_or(U256::ZERO, |v| v.cumulative_amount);
                    let mark =
                        Settlement { cumulative_amount: amount, tx_hash: None, outcome: SettlementOutcome::Expired };
                    self.store().record_settlement(chain, ch.channel_id, &mark, now).await?;
                    touched += 1;
                }
            }
            Err(e) => errors.push(format!("cannot read the chain's time: {e}")),
        }
        record_run(self.store(), EXPIRY_JOB, started_at_ms, touched, errors).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use agora_chain::{SendPolicy, Sender};
    use agora_store::testing::TestDb;
    use alloy::primitives::Address;

    use super::*;
    use crate::settle::SettlerConfig;

    /// Counts its passes; the first reports an error line.
    struct Counting {
        passes: AtomicU64,
        seen: watch::Sender<u64>,
    }

    impl PeriodicJob for Counting {
        fn name(&self) -> &'static str {
            "count"
        }

        fn every(&self) -> Duration {
            Duration::from_millis(20)
        }

        fn run_once(&self) -> BoxFuture<'_, agora_store::Result<Pass>> {
            Box::pin(async move {
                let n = self.passes.fetch_add(1, Ordering::SeqCst) + 1;
                self.seen.send_replace(n);
                let errors = if n == 1 { vec!["the first pass failed".to_owned()] } else { Vec::new() };
                Ok(Pass { touched: n, errors })
            })
        }
    }

    #[tokio::test]
    async fn an_extra_job_is_listed_run_now_paused_and_run_on_its_own_schedule() -> anyhow::Result<()> {
        let db = TestDb::sqlite().await?;
        // No chain answers: the channel jobs record an error line each pass, which is all they do here.
        let provider = agora_chain::read_provider("http://127.0.0.1:9")?;
        let key = agora_chain::signer_from_key("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")?;
        let payee = key.address();
        let sender = Sender::new(provider, 31337, key, SendPolicy::dev());
        let cfg = SettlerConfig {
            chain_id: 31337,
            contract: Address::ZERO,
            payee,
            margin_secs: 60,
            interval: Duration::from_secs(3600),
        };
        let (seen, mut passes) = watch::channel(0);
        let job = Arc::new(Counting { passes: AtomicU64::new(0), seen });
        let jobs = Jobs::with_jobs(Settler::new(db.store.clone(), sender, cfg), vec![job.clone()]);

        let listed: Vec<_> = jobs.status().await?.into_iter().map(|j| (j.name, j.every, j.paused)).collect();
        assert_eq!(
            listed,
            [
                (JOB_NAME, Duration::from_secs(3600), false),
                (EXPIRY_JOB, Duration::from_secs(3600), false),
                ("count", Duration::from_millis(20), false)
            ]
        );
        let run = jobs.run_now("count").await?.expect("a job");
        assert_eq!((run.name.as_str(), run.channels_touched), ("count", 1));
        assert_eq!(run.errors, ["the first pass failed"]);
        assert!(jobs.run_now("nothing").await?.is_none());
        assert!(!jobs.set_paused("nothing", true).await?);

        // Paused, it is skipped on schedule but still runs when asked.
        assert!(jobs.set_paused("count", true).await?);
        assert!(jobs.status().await?.iter().any(|j| j.name == "count" && j.paused));
        assert_eq!(jobs.run_now("count").await?.map(|r| r.channels_touched), Some(2));
        assert!(jobs.set_paused("count", false).await?);

        let (stop, stopped) = watch::channel(false);
        let running = tokio::spawn({
            let jobs = jobs.clone();
            async move { jobs.run(stopped).await }
        });
        tokio::time::timeout(Duration::from_secs(20), passes.wait_for(|n| *n >= 5)).await??;
        stop.send_replace(true);
        running.await?;
        let runs = db.store.background_runs(100).await?;
        let counted = runs.iter().filter(|r| r.name == "count").count();
        assert!(counted >= 4, "{counted} runs of the extra job recorded");
        assert!(runs.iter().any(|r| r.name == JOB_NAME), "the channel jobs ran too");
        db.finish().await?;
        Ok(())
    }
}
