//! The node's one catalogue of apps, built at start and handed to the compute scheduler and the
//! iExec workerpool alike: the sample WebAssembly apps, the ffmpeg transcode when ffmpeg is
//! installed, the digits classifier (trained now, in a second or two), and — given the node's
//! store — every federated task's finished model under `fl:<task>` (`agora_federated::inference`).
//!
//! Who may sell a model there ([`FlListingGate`]): the compute market pays a task's whole price to
//! the service's provider, so a job on an `fl:<task>` service runs only when that provider is the
//! task's investor, who owns a reward-pool task's model. A shareholding-mode model belongs to its
//! shareholders and earns through FederatedMarket's paid predictions, so it is never run for a
//! compute-market service; nor is a task's model before the task is finished. A refused job fails
//! with the reason and the buyer is refunded.

use std::path::Path;
use std::sync::Arc;

use agora_compute::{RunnerError, ServiceGate, TaskRun};
use agora_content::AnyStore;
use agora_executor::{AppId, Catalogue, Executor, Limits};
use agora_federated::inference::{self, FlModelExecutor, ModelDirectory};
use agora_market::{ServiceKind, apps};
use agora_store::{FlMode, FlTaskState, Store};
use anyhow::Result;
use async_trait::async_trait;

/// The finished models of the federated tasks this node coordinated: the task's spec CID (on
/// chain) and its final model's CID (in the coordinator's result), once the task is finished.
pub(crate) struct FlModels {
    pub store: Store,
    pub chain_id: u64,
    pub content: AnyStore,
}

struct StoreDirectory {
    store: Store,
    chain_id: u64,
}

#[async_trait]
impl ModelDirectory for StoreDirectory {
    async fn finished_model(&self, task: u64) -> Result<Option<(String, String)>, String> {
        let row = self.store.fl_task(self.chain_id, task).await.map_err(|e| e.to_string())?;
        let Some(row) = row.filter(|t| t.state == FlTaskState::Finished) else { return Ok(None) };
        let result = self.store.fl_result(self.chain_id, task).await.map_err(|e| e.to_string())?;
        Ok(result.and_then(|r| r.model_cid).map(|model| (row.spec, model)))
    }
}

/// Refuses jobs on `fl:<task>` services the node must not run (see the module documentation).
pub(crate) struct FlListingGate {
    /// Where the federated tasks are indexed.
    pub store: Store,
    /// The chain they are on.
    pub chain_id: u64,
}

impl FlListingGate {
    /// Why a job of `provider`'s service on task `task`'s model may not run; `None`: it may.
    async fn refusal(&self, task: u64, provider: alloy::primitives::Address) -> Result<Option<String>, RunnerError> {
        let Some(row) = self.store.fl_task(self.chain_id, task).await? else {
            return Ok(Some(format!("federated task {task} does not exist")));
        };
        Ok(if row.mode == FlMode::Shareholding {
            Some(format!("federated task {task}'s model belongs to its shareholders and is not sold here"))
        } else if row.state != FlTaskState::Finished {
            Some(format!("federated task {task} is not finished"))
        } else if provider != row.investor {
            Some(format!("only federated task {task}'s investor {:#x} may sell its model", row.investor))
        } else {
            None
        })
    }
}

#[async_trait]
impl ServiceGate for FlListingGate {
    async fn admit(&self, run: &TaskRun<'_>) -> Result<Result<(), String>, RunnerError> {
        let Some(task) = run.app.strip_prefix(inference::SERVICE_PREFIX) else { return Ok(Ok(())) };
        let Some(task) = task.parse::<u64>().ok().filter(|t| t.to_string() == task) else {
            return Ok(Err(format!("{:?} names no federated task", run.app)));
        };
        Ok(match self.refusal(task, run.provider).await? {
            Some(reason) => Err(reason),
            None => Ok(()),
        })
    }
}

/// Whether `ffmpeg` runs here.
fn ffmpeg_found() -> bool {
    std::process::Command::new("ffmpeg")
        .arg("-version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Builds the catalogue; jobs get scratch directories under `scratch`; `fl` serves finished
/// federated models.
pub(crate) async fn build(scratch: &Path, fl: Option<FlModels>) -> Result<Arc<Catalogue>> {
    std::fs::create_dir_all(scratch)?;
    let wasm = agora_executor::LocalExecutor::new(agora_executor::LocalConfig {
        scratch_dir: scratch.to_owned(),
        ..agora_executor::LocalConfig::default()
    })?;
    let mut installed: Vec<(String, AppId)> = Vec::new();
    for app in agora_executor::sample_apps() {
        installed.push((app.name.to_owned(), wasm.register_app(app.source)?));
    }
    let ffmpeg = if ffmpeg_found() {
        Some(agora_executor::ffmpeg::FfmpegExecutor::new("ffmpeg", scratch))
    } else {
        tracing::warn!("ffmpeg not found: video-transcode tasks will not be run by this node");
        None
    };
    let (model, report) = tokio::task::spawn_blocking(|| agora_inference::DigitModel::train(200)).await??;
    tracing::info!(
        test_accuracy = report.test_accuracy,
        held_out = report.test_samples,
        "digits model trained for ai-inference tasks"
    );
    let mut model: Arc<dyn Executor> = Arc::new(agora_inference::DigitsExecutor::new(model));
    let serves_fl = fl.is_some();
    if let Some(fl) = fl {
        let directory = Arc::new(StoreDirectory { store: fl.store, chain_id: fl.chain_id });
        model = Arc::new(FlModelExecutor::new(fl.content, directory, Some(model)));
    }
    let has_ffmpeg = ffmpeg.is_some();
    let dispatch = agora_executor::ffmpeg::Dispatch { wasm: wasm.clone(), ffmpeg, model: Some(model) };
    let mut catalogue = Catalogue::new(Arc::new(dispatch), Some(wasm));
    // Each app under its own name, and under the kind it serves by default (iExec apps may name
    // either: `agora:wordcount`, `agora:data-processing`).
    for (name, id) in installed {
        if name == apps::WORDCOUNT {
            catalogue.install(ServiceKind::DataProcessing.as_str(), id.clone(), Limits::default());
        }
        catalogue.install(&name, id, Limits::default());
    }
    let digits = AppId::new(agora_inference::DIGITS_APP);
    for name in [apps::DIGITS, ServiceKind::AiInference.as_str()] {
        catalogue.install(name, digits.clone(), Limits::default());
    }
    if serves_fl {
        catalogue.install_family(inference::SERVICE_PREFIX, inference::APP_PREFIX, Limits::default());
    }
    if has_ffmpeg {
        // Video needs more room than a wasm job: 2 GiB of address space, 256 MiB of output.
        let limits = Limits { memory_bytes: 2 << 30, output_bytes: 256 << 20, ..Limits::default() };
        for name in [apps::TRANSCODE, ServiceKind::VideoTranscode.as_str()] {
            catalogue.install_transcode(name, limits.clone());
        }
    }
    Ok(Arc::new(catalogue))
}

#[cfg(test)]
mod tests {
    use agora_market::{Localized, Runtime, ServiceKind, ServiceMetadata};
    use agora_store::testing::TestDb;
    use agora_store::{Batch, BlockRef, FlEvent, IndexedLog, LogMeta, MarketEvent};
    use alloy::primitives::Address;

    use super::*;

    const CHAIN: u64 = 31337;
    const INVESTOR: &str = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";

    /// Task 1 finished in reward-pool mode, task 2 in shareholding mode, task 3 still open.
    async fn tasks() -> anyhow::Result<TestDb> {
        let db = TestDb::sqlite().await?;
        let b0 = BlockRef { number: 0, hash: "0x00".into(), parent_hash: "0x".into(), timestamp: 1 };
        let b1 = BlockRef { number: 1, hash: "0x01".into(), parent_hash: "0x00".into(), timestamp: 2 };
        db.store.init_cursor(CHAIN, &b0).await?;
        let eth = "0x0000000000000000000000000000000000000000";
        let created = |task_id, mode: &str| FlEvent::TaskCreated {
            task_id,
            investor: INVESTOR.into(),
            coordinator: INVESTOR.into(),
            mode: mode.into(),
            token: eth.into(),
            pool: "1000".into(),
            prediction_fee: "0".into(),
            spec: "bafyspec".into(),
        };
        let terms = |task_id| FlEvent::TaskTerms {
            task_id,
            block_token: eth.into(),
            block_price: "0".into(),
            total_blocks: 30,
            min_participants: 1,
            start_deadline: 100,
            finish_deadline: 200,
        };
        let events = vec![
            created(1, "RewardPool"),
            terms(1),
            FlEvent::TaskStarted { task_id: 1, members: 1, block_payments: "0".into() },
            FlEvent::RewardsPosted {
                task_id: 1,
                root: format!("0x{}", "55".repeat(32)),
                record_cid: "bafyrec".into(),
                claim_deadline: 9,
            },
            created(2, "Shareholding"),
            terms(2),
            FlEvent::TaskStarted { task_id: 2, members: 1, block_payments: "0".into() },
            FlEvent::SharesPosted { task_id: 2, holders: 1, record_cid: "bafyrec".into() },
            created(3, "RewardPool"),
            terms(3),
        ];
        let logs = events
            .into_iter()
            .enumerate()
            .map(|(i, e)| IndexedLog {
                meta: LogMeta {
                    block_number: 1,
                    block_hash: "0x01".into(),
                    block_timestamp: 2,
                    tx_hash: format!("0x{:064x}", 1),
                    log_index: i as u64,
                    address: "0x00".into(),
                },
                event: MarketEvent::Fl(e),
            })
            .collect();
        db.store.apply_batch(&Batch { chain_id: CHAIN, expected_cursor: 0, blocks: vec![b1], logs }).await?;
        Ok(db)
    }

    #[tokio::test]
    async fn only_a_finished_reward_pool_tasks_investor_may_sell_its_model() -> anyhow::Result<()> {
        let db = tasks().await?;
        let gate = FlListingGate { store: db.store.clone(), chain_id: CHAIN };
        let investor: Address = INVESTOR.parse()?;
        let stranger = Address::repeat_byte(7);
        let metadata = ServiceMetadata {
            kind: ServiceKind::AiInference,
            runtime: Some(Runtime::Local { app: "fl:1".into() }),
            name: Localized::new("m", "m"),
            description: Localized::new("d", "d"),
        };
        let admit = |app: &'static str, provider: Address| {
            let (gate, metadata) = (&gate, &metadata);
            async move {
                let run = TaskRun {
                    chain_id: CHAIN,
                    task_id: 1,
                    service_id: 1,
                    provider,
                    service: metadata,
                    app,
                    input: "{}",
                    max_run_time: std::time::Duration::from_secs(60),
                };
                gate.admit(&run).await.map_err(|e| anyhow::anyhow!("{e}"))
            }
        };
        assert_eq!(admit("fl:1", investor).await?, Ok(()));
        let refused = admit("fl:1", stranger).await?.expect_err("a stranger's listing is refused");
        assert!(refused.contains("only federated task 1's investor"), "{refused}");
        let refused = admit("fl:2", investor).await?.expect_err("shareholding models are not sold here");
        assert!(refused.contains("shareholders"), "{refused}");
        let refused = admit("fl:3", investor).await?.expect_err("an open task has no model");
        assert!(refused.contains("not finished"), "{refused}");
        assert!(admit("fl:9", investor).await?.is_err());
        assert!(admit("fl:01", investor).await?.is_err());
        // Other apps are not the gate's business.
        assert_eq!(admit("wordcount", stranger).await?, Ok(()));
        Ok(())
    }
}
