//! A finished task's model as an AI-inference app of the compute market. A compute service whose
//! runtime names the app `fl:<task>` ([`service_app`]) is run under the app id `model:fl-<task>`
//! ([`app_id`]; the node's catalogue maps the one to the other) by [`FlModelExecutor`], which finds
//! the task's spec and final model through a [`ModelDirectory`] (the node's store: only tasks this
//! node coordinated to the end), loads them with [`crate::serving`] and answers each job with the
//! class, label and confidence as JSON. Other `model:` apps (the digits) go to a fallback executor.
//!
//! A job's input is the image's raw pixels, as JSON `{"pixels":[…]}` (0–255 for 28×28 images,
//! 0–16 for 8×8 digits) or as exactly that many bytes (a CID of them, resolved by the runner).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use agora_content::ContentStore;
use agora_executor::{AppId, Executor, JobId, JobSpec, JobStatus};
use async_trait::async_trait;
use bytes::Bytes;

use crate::serving::{ModelCache, ServeError, ServedModel};

/// What a compute service's runtime names to be answered by task `task`'s model.
pub fn service_app(task: u64) -> String {
    format!("{SERVICE_PREFIX}{task}")
}

/// The prefix of [`service_app`] names.
pub const SERVICE_PREFIX: &str = "fl:";

/// The prefix of [`app_id`]s.
pub const APP_PREFIX: &str = "model:fl-";

/// The app id task `task`'s model runs under.
pub fn app_id(task: u64) -> AppId {
    AppId::new(format!("{APP_PREFIX}{task}"))
}

/// The task an app id names, if it is one of [`app_id`]'s.
pub fn task_of(app: &AppId) -> Option<u64> {
    let id = app.as_str().strip_prefix(APP_PREFIX)?;
    // Canonical decimal only, so one task has one app id.
    id.parse::<u64>().ok().filter(|t| t.to_string() == id)
}

/// Where a finished task's model is: the CIDs of its spec and of its final parameters.
#[async_trait]
pub trait ModelDirectory: Send + Sync {
    /// `Ok(None)` when this node holds no finished model for `task`; `Err` when it could not look.
    async fn finished_model(&self, task: u64) -> Result<Option<(String, String)>, String>;
}

/// Runs `model:fl-<task>` jobs (see the module documentation).
pub struct FlModelExecutor<S> {
    store: S,
    directory: Arc<dyn ModelDirectory>,
    fallback: Option<Arc<dyn Executor>>,
    models: ModelCache,
    jobs: Mutex<HashMap<JobId, JobStatus>>,
    next: AtomicU64,
}

impl<S: ContentStore + 'static> FlModelExecutor<S> {
    /// An executor loading models from `store` as `directory` names them; `fallback` runs every
    /// other `model:` app.
    pub fn new(store: S, directory: Arc<dyn ModelDirectory>, fallback: Option<Arc<dyn Executor>>) -> Self {
        Self { store, directory, fallback, models: ModelCache::new(8), jobs: Mutex::default(), next: AtomicU64::new(0) }
    }

    /// The job's outcome: the answer as one JSON line, or why there is none.
    async fn run(&self, task: u64, input: &[u8]) -> JobStatus {
        let failed = |reason: String| JobStatus::Failed { reason };
        let (spec_cid, model_cid) = match self.directory.finished_model(task).await {
            Ok(Some(cids)) => cids,
            Ok(None) => return failed(format!("this node holds no finished model for federated task {task}")),
            Err(e) => return failed(format!("executor error: {e}")),
        };
        let key = (spec_cid.clone(), model_cid.clone());
        let loaded = self.models.get_or_load(key, || ServedModel::load(&self.store, &spec_cid, &model_cid)).await;
        let model = match loaded {
            Ok(model) => model,
            Err(e) => return failed(format!("executor error: {e}")),
        };
        let pixels = match pixels_of(input, model.input_len()) {
            Ok(p) => p,
            Err(e) => return failed(format!("bad input: {e}")),
        };
        let answered = tokio::task::spawn_blocking(move || model.answer(&pixels)).await;
        match answered {
            Ok(Ok(a)) => {
                let json = serde_json::json!({
                    "task": task,
                    "class": a.class,
                    "label": a.label,
                    "confidence": a.confidence,
                    "probabilities": a.probabilities,
                });
                JobStatus::Succeeded { output: Bytes::from(format!("{json}\n")) }
            }
            Ok(Err(ServeError::BadInput(e))) => failed(format!("bad input: {e}")),
            Ok(Err(e)) => failed(format!("executor error: {e}")),
            Err(e) => failed(format!("executor error: {e}")),
        }
    }
}

/// The raw pixels in a job's input: JSON `{"pixels":[…]}` of bytes, or exactly `len` bytes.
fn pixels_of(input: &[u8], len: usize) -> Result<Vec<u8>, String> {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(input) {
        let list = value.get("pixels").and_then(|p| p.as_array()).ok_or("JSON input needs a \"pixels\" array")?;
        let pixels = list
            .iter()
            .map(|v| v.as_u64().and_then(|p| u8::try_from(p).ok()))
            .collect::<Option<Vec<u8>>>()
            .ok_or("every pixel must be an integer from 0 to 255")?;
        if pixels.len() != len {
            return Err(format!("this model takes {len} pixels, got {}", pixels.len()));
        }
        return Ok(pixels);
    }
    if input.len() == len {
        return Ok(input.to_vec());
    }
    Err(format!("expected {{\"pixels\":[…]}} or {len} raw bytes, got {} bytes that are neither", input.len()))
}

#[async_trait]
impl<S: ContentStore + 'static> Executor for FlModelExecutor<S> {
    fn name(&self) -> &'static str {
        "local"
    }

    async fn submit(&self, spec: JobSpec) -> agora_executor::Result<JobId> {
        let Some(task) = task_of(&spec.app) else {
            return match &self.fallback {
                Some(other) => other.submit(spec).await,
                None => Err(agora_executor::Error::UnknownApp(spec.app)),
            };
        };
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        // `infer-`: the node's dispatch sends the status and waits of such jobs to the model executor.
        let id = JobId::new(format!("infer-fl-{}-{n}", std::process::id()));
        let status = self.run(task, &spec.input).await;
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.insert(id.clone(), status);
        }
        Ok(id)
    }

    async fn status(&self, id: &JobId) -> agora_executor::Result<JobStatus> {
        let mine = self.jobs.lock().ok().and_then(|jobs| jobs.get(id).cloned());
        match (mine, &self.fallback) {
            (Some(status), _) => Ok(status),
            (None, Some(other)) => other.status(id).await,
            (None, None) => Err(agora_executor::Error::UnknownJob(id.clone())),
        }
    }

    async fn cancel(&self, id: &JobId) -> agora_executor::Result<()> {
        let mine = self.jobs.lock().is_ok_and(|jobs| jobs.contains_key(id));
        match (&self.fallback, mine) {
            // An answer is over before it could be cancelled.
            (_, true) | (None, false) => Ok(()),
            (Some(other), false) => other.cancel(id).await,
        }
    }

    async fn forget(&self, id: &JobId) -> agora_executor::Result<()> {
        let removed = self.jobs.lock().ok().and_then(|mut jobs| jobs.remove(id)).is_some();
        match (&self.fallback, removed) {
            (Some(other), false) => other.forget(id).await,
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_ids_name_one_task_each() {
        assert_eq!(app_id(7).as_str(), "model:fl-7");
        assert_eq!(task_of(&app_id(7)), Some(7));
        for other in ["model:digits", "model:fl-", "model:fl-07", "model:fl-x", "fl:7"] {
            assert_eq!(task_of(&AppId::new(other)), None, "{other}");
        }
        assert_eq!(service_app(7), "fl:7");
    }

    #[test]
    fn inputs_are_json_pixels_or_exactly_the_raw_bytes() {
        assert_eq!(pixels_of(br#"{"pixels":[0,255,3]}"#, 3), Ok(vec![0, 255, 3]));
        assert_eq!(pixels_of(&[1, 2, 3, 4], 4), Ok(vec![1, 2, 3, 4]));
        assert!(pixels_of(br#"{"pixels":[0,256,3]}"#, 3).unwrap_err().contains("0 to 255"));
        assert!(pixels_of(br#"{"pixels":[0,1]}"#, 3).unwrap_err().contains("takes 3 pixels"));
        assert!(pixels_of(br#"{"image":[0,1,2]}"#, 3).unwrap_err().contains("\"pixels\""));
        assert!(pixels_of(&[1, 2], 4).unwrap_err().contains("4 raw bytes"));
    }
}
