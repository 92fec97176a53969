//! The node's one catalogue of apps, built at start and handed to the compute scheduler and the
//! iExec workerpool alike: the sample WebAssembly apps, the ffmpeg transcode when ffmpeg is
//! installed, the digits classifier (trained now, in a second or two), and — given the node's
//! store — every federated task's finished model under `fl:<task>` (`agora_federated::inference`).

use std::path::Path;
use std::sync::Arc;

use agora_content::AnyStore;
use agora_executor::{AppId, Catalogue, Executor, Limits};
use agora_federated::inference::{self, FlModelExecutor, ModelDirectory};
use agora_market::{ServiceKind, apps};
use agora_store::{FlTaskState, Store};
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
