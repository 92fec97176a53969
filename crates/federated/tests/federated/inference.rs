//! A finished task's model as a compute-market app: the catalogue maps the service's app name
//! `fl:<task>` to `model:fl-<task>`, and the executor answers jobs with the model the content
//! store holds — the same answer as the paid-prediction path (`agora_federated::serving`).

use std::collections::BTreeMap;
use std::sync::Arc;

use agora_content::{ContentStore, LocalStore};
use agora_executor::{Catalogue, Executor, JobSpec, JobStatus, Limits};
use agora_federated::TaskSpec;
use agora_federated::inference::{self, FlModelExecutor, ModelDirectory};
use agora_federated::serving::ServedModel;
use agora_federated::spec::DataDirs;
use agora_fl::TrainConfig;
use async_trait::async_trait;

/// A handwritten 0 from the digits dataset, as its 8×8 grid of 0–16.
const ZERO: [u8; 64] = [
    0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3, 15, 2, 0, 11, 8, 0, 0, 4, 12, 0, 0, 8, 8, 0, 0, 5, 8, 0,
    0, 9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0, 0, 2, 14, 5, 10, 12, 0, 0, 0, 0, 6, 13, 10, 0, 0, 0,
];

struct OneTask {
    task: u64,
    cids: (String, String),
}

#[async_trait]
impl ModelDirectory for OneTask {
    async fn finished_model(&self, task: u64) -> Result<Option<(String, String)>, String> {
        Ok((task == self.task).then(|| self.cids.clone()))
    }
}

async fn run(executor: &dyn Executor, catalogue: &Catalogue, name: &str, input: &[u8]) -> JobStatus {
    let (app, limits) = catalogue.job(name, &BTreeMap::new()).expect("installed");
    let id = executor.submit(JobSpec { app, input: input.to_vec().into(), limits }).await.expect("submitted");
    executor.status(&id).await.expect("known job")
}

#[tokio::test]
async fn a_finished_model_answers_compute_jobs_as_it_answers_paid_predictions() {
    // A digits task's final model: the spec and the parameters in the content store.
    let spec = TaskSpec::digits_demo(5);
    let splits = spec.splits(&DataDirs::default()).unwrap();
    let net = spec.net();
    let config = TrainConfig { epochs: 10, ..spec.train };
    let params = net.train(&net.init(spec.seed), &splits.train, &config, 1).unwrap().params;
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).await.unwrap();
    let spec_cid = store.put(spec.to_bytes().unwrap()).await.unwrap().to_string();
    let bytes: Vec<u8> = params.iter().flat_map(|w| w.to_le_bytes()).collect();
    let model_cid = store.put(bytes).await.unwrap().to_string();

    let directory = Arc::new(OneTask { task: 7, cids: (spec_cid.clone(), model_cid.clone()) });
    let executor: Arc<dyn Executor> = Arc::new(FlModelExecutor::new(store.clone(), directory, None));
    let mut catalogue = Catalogue::new(executor.clone(), None);
    catalogue.install_family(inference::SERVICE_PREFIX, inference::APP_PREFIX, Limits::default());
    assert!(catalogue.serves(&inference::service_app(7)));

    // JSON pixels: the class, its label and confidence, as the prediction path answers them.
    let json = serde_json::json!({ "pixels": ZERO.as_slice() }).to_string();
    let JobStatus::Succeeded { output } = run(&*executor, &catalogue, "fl:7", json.as_bytes()).await else {
        panic!("the job failed")
    };
    let answer: serde_json::Value = serde_json::from_slice(&output).unwrap();
    let direct = ServedModel::load(&store, &spec_cid, &model_cid).await.unwrap().answer(&ZERO).unwrap();
    assert_eq!((answer["task"].as_u64(), answer["class"].as_u64()), (Some(7), Some(0)), "{answer}");
    assert_eq!(answer["label"], "0");
    assert_eq!(answer["confidence"].as_f64().map(|c| c as f32), Some(direct.confidence));
    assert!(direct.confidence > 0.5, "{direct:?}");
    // The same pixels as raw bytes (a CID's content): the same answer.
    let JobStatus::Succeeded { output: raw } = run(&*executor, &catalogue, "fl:7", &ZERO).await else {
        panic!("the raw job failed")
    };
    assert_eq!(raw, output);

    // A task without a finished model here, and an input of the wrong size: failed with the reason.
    let JobStatus::Failed { reason } = run(&*executor, &catalogue, "fl:8", json.as_bytes()).await else {
        panic!("task 8 has no model")
    };
    assert!(reason.contains("no finished model for federated task 8"), "{reason}");
    let JobStatus::Failed { reason } = run(&*executor, &catalogue, "fl:7", br#"{"pixels":[1,2,3]}"#).await else {
        panic!("three pixels are not a digit")
    };
    assert!(reason.starts_with("bad input: this model takes 64 pixels"), "{reason}");
    // Other `model:` apps go to the fallback; without one they are unknown.
    let digits =
        JobSpec { app: agora_executor::AppId::new("model:digits"), input: json.into(), limits: Limits::default() };
    assert!(matches!(executor.submit(digits).await, Err(agora_executor::Error::UnknownApp(_))));
}
