//! A small least-recently-used cache of loaded models, so that a paid prediction does not read a
//! model from the content store and rebuild it every time.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use crate::ApiError;

/// (spec CID, model CID).
pub(super) type Key = (String, String);

/// At most `capacity` values, the least recently used dropped first.
pub(super) struct Models<T> {
    capacity: usize,
    /// Most recently used last.
    entries: Mutex<VecDeque<(Key, Arc<T>)>>,
}

impl<T> Models<T> {
    pub(super) const fn new(capacity: usize) -> Self {
        Self { capacity, entries: Mutex::new(VecDeque::new()) }
    }

    /// The value for `key`, marked as just used.
    fn get(&self, key: &Key) -> Option<Arc<T>> {
        // A panic elsewhere while the lock was held leaves a list that is still consistent.
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let at = entries.iter().position(|(k, _)| k == key)?;
        let entry = entries.remove(at)?;
        let value = entry.1.clone();
        entries.push_back(entry);
        Some(value)
    }

    fn insert(&self, key: Key, value: Arc<T>) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.retain(|(k, _)| *k != key);
        entries.push_back((key, value));
        while entries.len() > self.capacity {
            entries.pop_front();
        }
    }

    /// The value for `key`, or `load`'s, kept. Two first requests at once may both load (the
    /// lock is not held across the load); the second to finish replaces the first's copy.
    pub(super) async fn get_or_load<F, Fut>(&self, key: Key, load: F) -> Result<Arc<T>, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
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

    fn key(n: u32) -> Key {
        (format!("spec{n}"), format!("model{n}"))
    }

    #[tokio::test]
    async fn a_model_is_loaded_once_and_the_least_recent_goes_first() {
        let cache = Models::<u32>::new(2);
        let loads = AtomicUsize::new(0);
        let load = |n: u32| {
            let loads = &loads;
            move || async move {
                loads.fetch_add(1, Ordering::SeqCst);
                Ok::<_, ApiError>(n * 10)
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
        let cache = Models::<u32>::new(2);
        let failed = cache.get_or_load(key(1), || async { Err(ApiError::Internal("store down".into())) }).await;
        assert!(failed.is_err());
        assert_eq!(*cache.get_or_load(key(1), || async { Ok(7) }).await.expect("loads"), 7);
    }
}
