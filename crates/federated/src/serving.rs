//! A finished task's model put to work: built from its spec and its final parameters in the content
//! store ([`ServedModel::load`]), kept in a small least-recently-used cache ([`ModelCache`]), and
//! answering an input with its class, label and confidence ([`ServedModel::answer`]). The API's
//! paid predictions and the compute market's inference jobs ([`crate::inference`]) both go
//! through here, so a model answers the same wherever it is paid for.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use agora_content::{Cid, ContentStore};
use agora_fl::Model;
use agora_fl::data::Scaling;
use serde::Serialize;

use crate::{DatasetName, TaskSpec};

/// Fashion-MNIST's classes, in label order.
pub const FASHION_LABELS: [&str; 10] =
    ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

/// A finished task's model, built once from its spec and its parameters.
#[derive(Debug)]
pub struct ServedModel {
    /// The network with the task's final parameters.
    pub model: Model,
    /// How its inputs were scaled in training (the spec's version says).
    pub scaling: Scaling,
    /// What it was trained on (names its classes).
    pub dataset: DatasetName,
}

/// What a model answers for one input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    /// The class index.
    pub class: usize,
    /// Its name (English; the digit itself for digit data sets).
    pub label: String,
    /// The class's probability.
    pub confidence: f32,
    /// Every class's probability.
    pub probabilities: Vec<f32>,
}

/// Why a model could not be loaded or could not answer.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A CID that does not parse, or content this node does not hold.
    #[error("{0}")]
    Missing(String),
    /// The stored spec or parameters do not make a model (a node's own fault, not the caller's).
    #[error("{0}")]
    Broken(String),
    /// The input does not fit the model.
    #[error("{0}")]
    BadInput(String),
}

async fn read<S: ContentStore>(store: &S, cid: &str) -> std::result::Result<Vec<u8>, ServeError> {
    let parsed: Cid = cid.parse().map_err(|_| ServeError::Broken(format!("{cid:?} is not a CID")))?;
    store
        .get(&parsed)
        .await
        .map_err(|e| ServeError::Broken(format!("content store: {e}")))?
        .map(|b| b.to_vec())
        .ok_or_else(|| ServeError::Missing(format!("{cid} is not in this node's content store")))
}

impl ServedModel {
    /// Reads a task's spec and final parameters (little-endian f32, agora-fl's flat order) from
    /// `store` and builds its model.
    pub async fn load<S: ContentStore>(
        store: &S,
        spec_cid: &str,
        model_cid: &str,
    ) -> std::result::Result<Self, ServeError> {
        let spec = TaskSpec::from_bytes(&read(store, spec_cid).await?)
            .map_err(|e| ServeError::Broken(format!("spec {spec_cid}: {e}")))?;
        let params = agora_fl::params_from_bytes(&read(store, model_cid).await?)
            .map_err(|e| ServeError::Broken(format!("model {model_cid}: {e}")))?;
        let model =
            Model::new(spec.net(), &params).map_err(|e| ServeError::Broken(format!("model {model_cid}: {e}")))?;
        Ok(Self { model, scaling: spec.scaling(), dataset: spec.dataset })
    }

    /// Values the model takes: one raw pixel each (0–255 for 28×28 images, 0–16 for 8×8 digits).
    pub fn input_len(&self) -> usize {
        self.model.net().input()
    }

    /// Classifies one input of raw pixels. Blocking (a forward pass): call it off the runtime.
    pub fn answer(&self, pixels: &[u8]) -> std::result::Result<Answer, ServeError> {
        if pixels.len() != self.input_len() {
            return Err(ServeError::BadInput(format!(
                "this model takes {} pixels, got {}",
                self.input_len(),
                pixels.len()
            )));
        }
        let x = self.scaling.apply(pixels);
        let probabilities = self
            .model
            .predict(&x)
            .map_err(|e| ServeError::Broken(format!("prediction: {e}")))?
            .pop()
            .unwrap_or_default();
        let (class, confidence) = probabilities
            .iter()
            .copied()
            .enumerate()
            .fold((0, f32::MIN), |best, (i, p)| if p > best.1 { (i, p) } else { best });
        let label = match self.dataset {
            DatasetName::FashionMnist => FASHION_LABELS.get(class).copied().unwrap_or("?").to_owned(),
            _ => class.to_string(),
        };
        Ok(Answer { class, label, confidence, probabilities })
    }
}

/// A cache key: (spec CID, model CID) — content ids, so an entry is right for whichever task or
/// node state names them.
pub type ModelKey = (String, String);

/// At most `capacity` loaded models, the least recently used dropped first, so a model is not
/// read from the content store and rebuilt for every answer (a 784-200-200-10 MLP is 0.8 MB).
pub struct ModelCache<T = ServedModel> {
    capacity: usize,
    /// Most recently used last.
    entries: Mutex<VecDeque<(ModelKey, Arc<T>)>>,
}

impl<T> ModelCache<T> {
    /// An empty cache of at most `capacity` models.
    pub const fn new(capacity: usize) -> Self {
        Self { capacity, entries: Mutex::new(VecDeque::new()) }
    }

    /// The value for `key`, marked as just used.
    fn get(&self, key: &ModelKey) -> Option<Arc<T>> {
        // A panic elsewhere while the lock was held leaves a list that is still consistent.
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let at = entries.iter().position(|(k, _)| k == key)?;
        let entry = entries.remove(at)?;
        let value = entry.1.clone();
        entries.push_back(entry);
        Some(value)
    }

    fn insert(&self, key: ModelKey, value: Arc<T>) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.retain(|(k, _)| *k != key);
        entries.push_back((key, value));
        while entries.len() > self.capacity {
            entries.pop_front();
        }
    }

    /// The value for `key`, or `load`'s, kept. Two first requests at once may both load (the
    /// lock is not held across the load); the second to finish replaces the first's copy.
    pub async fn get_or_load<F, Fut, E>(&self, key: ModelKey, load: F) -> std::result::Result<Arc<T>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = std::result::Result<T, E>>,
    {
        if let Some(value) = self.get(&key) {
            return Ok(value);
        }
        let value = Arc::new(load().await?);
        self.insert(key, value.clone());
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn key(n: u32) -> ModelKey {
        (format!("spec{n}"), format!("model{n}"))
    }

    #[tokio::test]
    async fn a_model_is_loaded_once_and_the_least_recent_goes_first() {
        let cache = ModelCache::<u32>::new(2);
        let loads = AtomicUsize::new(0);
        let load = |n: u32| {
            let loads = &loads;
            move || async move {
                loads.fetch_add(1, Ordering::SeqCst);
                Ok::<_, ServeError>(n * 10)
            }
        };
        assert_eq!(*cache.get_or_load(key(1), load(1)).await.expect("loads"), 10);
        assert_eq!(*cache.get_or_load(key(1), load(1)).await.expect("cached"), 10);
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        cache.get_or_load(key(2), load(2)).await.expect("loads");
        // Using 1 again makes 2 the least recent: a third model pushes 2 out, not 1.
        cache.get_or_load(key(1), load(1)).await.expect("cached");
        cache.get_or_load(key(3), load(3)).await.expect("loads");
        assert_eq!(loads.load(Ordering::SeqCst), 3);
        cache.get_or_load(key(1), load(1)).await.expect("cached");
        assert_eq!(loads.load(Ordering::SeqCst), 3);
        cache.get_or_load(key(2), load(2)).await.expect("loaded again");
        assert_eq!(loads.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_failed_load_is_not_kept() {
        let cache = ModelCache::<u32>::new(2);
        let failed = cache.get_or_load(key(1), || async { Err(ServeError::Broken("store down".into())) }).await;
        assert!(failed.is_err());
        assert_eq!(*cache.get_or_load(key(1), || async { Ok::<_, ServeError>(7) }).await.expect("loads"), 7);
    }
}
