//! A cache for hot reads, kept fresh by generations rather than by deleting entries: every domain
//! (`task`, `service`, `fl-task`…) has a generation, and all domains share an epoch; an entry is
//! stored under the generation read *before* its value was loaded. Invalidating a domain bumps its
//! generation (invalidating everything bumps the epoch), so a value loaded before an event can
//! never be stored where a read after it would find it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::redis_cache::RedisCache;
use crate::{CacheSettings, RedisSettings, Result};

/// Hot reads, in memory or in Redis. Cheap to clone.
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    ttl: Duration,
    /// An invalidation failed (Redis away): nothing is read from the cache until everything has
    /// been invalidated once more.
    suspect: AtomicBool,
}

enum Backend {
    Off,
    Memory(Mutex<Memory>),
    Redis(RedisCache),
}

/// The generation a read found, to store its value under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp(StampKind);

#[derive(Debug, Clone, PartialEq, Eq)]
enum StampKind {
    Memory(u64, u64),
    Redis(String),
}

/// What [`Cache::lookup`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The value stored for the current generation.
    Hit(String),
    /// Nothing: load the value, then [`Cache::store`] it with this stamp (`None`: do not store).
    Miss(Option<Stamp>),
}

impl Cache {
    /// No caching: every lookup misses.
    pub fn off() -> Self {
        Self::with(Backend::Off, Duration::ZERO)
    }

    /// A cache in this process's memory.
    pub fn memory(settings: &CacheSettings) -> Self {
        if settings.ttl_ms == 0 {
            return Self::off();
        }
        let memory = Memory { max: settings.max_entries.max(1), ..Memory::default() };
        Self::with(Backend::Memory(Mutex::new(memory)), Duration::from_millis(settings.ttl_ms))
    }

    /// The cache the settings name: in Redis when `[redis] url` is set, else in memory.
    pub fn connect(redis: &RedisSettings, settings: &CacheSettings) -> Result<Self> {
        match redis.url() {
            Some(_) if settings.ttl_ms == 0 => Ok(Self::off()),
            Some(url) => {
                let backend = Backend::Redis(RedisCache::new(url, &redis.prefix)?);
                Ok(Self::with(backend, Duration::from_millis(settings.ttl_ms)))
            }
            None => Ok(Self::memory(settings)),
        }
    }

    fn with(backend: Backend, ttl: Duration) -> Self {
        Self { inner: Arc::new(Inner { backend, ttl, suspect: AtomicBool::new(false) }) }
    }

    /// The value stored for `key` in `domain` at the current generation. Never fails: a cache
    /// that cannot answer misses.
    pub async fn lookup(&self, domain: &str, key: &str) -> Lookup {
        if self.inner.suspect.load(Ordering::SeqCst) {
            if self.invalidate_all().await.is_err() {
                return Lookup::Miss(None);
            }
            self.inner.suspect.store(false, Ordering::SeqCst);
        }
        match &self.inner.backend {
            Backend::Off => Lookup::Miss(None),
            Backend::Memory(m) => lock(m).lookup(domain, key),
            Backend::Redis(r) => match r.lookup(domain, key).await {
                Ok(found) => found,
                Err(e) => {
                    tracing::warn!(error = %e, "cache lookup failed; reading through");
                    Lookup::Miss(None)
                }
            },
        }
    }

    /// Keeps `value` for `key` in `domain`, unless the domain moved on since `stamp` was read.
    pub async fn store(&self, domain: &str, key: &str, stamp: Stamp, value: String) {
        match (&self.inner.backend, stamp.0) {
            (Backend::Memory(m), StampKind::Memory(epoch, generation)) => {
                lock(m).store(domain, key, (epoch, generation), value, self.inner.ttl);
            }
            (Backend::Redis(r), StampKind::Redis(stamp)) => {
                if let Err(e) = r.store(domain, key, &stamp, &value, self.inner.ttl).await {
                    tracing::warn!(error = %e, "cache store failed");
                }
            }
            _ => {}
        }
    }

    /// Forgets every entry of `domain`. A failure (Redis away) makes the cache read through until
    /// a later invalidation of everything succeeds.
    pub async fn invalidate(&self, domain: &str) -> Result<()> {
        let done = match &self.inner.backend {
            Backend::Off => Ok(()),
            Backend::Memory(m) => {
                lock(m).invalidate(Some(domain));
                Ok(())
            }
            Backend::Redis(r) => r.invalidate(Some(domain)).await,
        };
        self.mark(done)
    }

    /// Forgets every entry (after a gap in the events: anything may have changed).
    pub async fn invalidate_all(&self) -> Result<()> {
        let done = match &self.inner.backend {
            Backend::Off => Ok(()),
            Backend::Memory(m) => {
                lock(m).invalidate(None);
                Ok(())
            }
            Backend::Redis(r) => r.invalidate(None).await,
        };
        self.mark(done)
    }

    fn mark(&self, done: Result<()>) -> Result<()> {
        if let Err(e) = &done {
            tracing::warn!(error = %e, "cache invalidation failed; reading through until it succeeds");
            self.inner.suspect.store(true, Ordering::SeqCst);
        }
        done
    }

    /// The cached value for `key` in `domain`, or `load`'s, stored for the next reader. Errors
    /// are `load`'s own; they are not cached.
    pub async fn get_or_load<E, F, Fut>(&self, domain: &str, key: &str, load: F) -> Result<String, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<String, E>>,
    {
        match self.lookup(domain, key).await {
            Lookup::Hit(value) => Ok(value),
            Lookup::Miss(stamp) => {
                let value = load().await?;
                if let Some(stamp) = stamp {
                    self.store(domain, key, stamp, value.clone()).await;
                }
                Ok(value)
            }
        }
    }
}

fn lock(m: &Mutex<Memory>) -> std::sync::MutexGuard<'_, Memory> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Default)]
struct Memory {
    epoch: u64,
    generations: HashMap<String, u64>,
    entries: HashMap<(String, String), Entry>,
    max: usize,
}

struct Entry {
    stamp: (u64, u64),
    value: String,
    expires: Instant,
}

impl Memory {
    fn stamp(&self, domain: &str) -> (u64, u64) {
        (self.epoch, self.generations.get(domain).copied().unwrap_or(0))
    }

    fn lookup(&self, domain: &str, key: &str) -> Lookup {
        let stamp = self.stamp(domain);
        match self.entries.get(&(domain.to_owned(), key.to_owned())) {
            Some(e) if e.stamp == stamp && e.expires > Instant::now() => Lookup::Hit(e.value.clone()),
            _ => Lookup::Miss(Some(Stamp(StampKind::Memory(stamp.0, stamp.1)))),
        }
    }

    fn store(&mut self, domain: &str, key: &str, stamp: (u64, u64), value: String, ttl: Duration) {
        if stamp != self.stamp(domain) {
            return;
        }
        let now = Instant::now();
        if self.entries.len() >= self.max {
            self.entries.retain(|_, e| e.expires > now);
            if self.entries.len() >= self.max {
                return;
            }
        }
        self.entries.insert((domain.to_owned(), key.to_owned()), Entry { stamp, value, expires: now + ttl });
    }

    fn invalidate(&mut self, domain: Option<&str>) {
        match domain {
            Some(d) => {
                *self.generations.entry(d.to_owned()).or_default() += 1;
                self.entries.retain(|(domain, _), _| domain != d);
            }
            None => {
                self.epoch += 1;
                self.entries.clear();
            }
        }
    }
}

impl Stamp {
    pub(crate) fn redis(stamp: String) -> Self {
        Self(StampKind::Redis(stamp))
    }
}
