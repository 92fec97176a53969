//! The bus: publish on one side, subscribe on the other, in memory or through Redis.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::redis_bus::RedisBus;
use crate::{Delivery, Message, RedisSettings, Result};

/// How many deliveries a slow local subscriber may fall behind before it is told of a gap.
const LOCAL_BUFFER: usize = 1024;

/// Where live events go and come from. Cheap to clone; the Redis side's tasks stop when the last
/// clone is dropped.
#[derive(Clone)]
pub struct Bus {
    inner: Arc<Inner>,
}

enum Inner {
    Memory(broadcast::Sender<Delivery>),
    Redis(RedisBus),
}

impl Bus {
    /// A bus inside this process: what one `agora up` needs.
    pub fn memory() -> Self {
        Self { inner: Arc::new(Inner::Memory(broadcast::channel(LOCAL_BUFFER).0)) }
    }

    /// The bus `settings` name: through Redis when a URL is set (returns once subscribed, or fails
    /// when Redis cannot be reached), else in memory.
    pub async fn connect(settings: &RedisSettings) -> Result<Self> {
        match settings.url() {
            Some(url) => {
                let redis = RedisBus::connect(url, &settings.prefix, settings.heartbeat_ms, LOCAL_BUFFER).await?;
                Ok(Self { inner: Arc::new(Inner::Redis(redis)) })
            }
            None => Ok(Self::memory()),
        }
    }

    /// True when messages cross processes (through Redis).
    pub fn is_shared(&self) -> bool {
        matches!(*self.inner, Inner::Redis(_))
    }

    /// Sends `message` to every subscriber, in every process. Never blocks: with Redis away it is
    /// queued and retried; past the queue's bound it is dropped and subscribers are told of a gap.
    pub fn publish(&self, message: Message) {
        match &*self.inner {
            Inner::Memory(tx) => {
                // No subscriber is fine.
                let _ = tx.send(Delivery::Message(message));
            }
            Inner::Redis(r) => r.publish(message),
        }
    }

    /// The publisher's own source lost `missed` messages (it fell behind the indexer): subscribers
    /// get a gap.
    pub fn missed(&self, missed: u64) {
        match &*self.inner {
            Inner::Memory(tx) => {
                let _ = tx.send(Delivery::Gap { missed });
            }
            Inner::Redis(r) => r.missed(missed),
        }
    }

    /// Everything published from now on.
    pub fn subscribe(&self) -> Subscription {
        let rx = match &*self.inner {
            Inner::Memory(tx) => tx.subscribe(),
            Inner::Redis(r) => r.subscribe(),
        };
        Subscription { rx }
    }
}

/// One subscriber's deliveries.
pub struct Subscription {
    rx: broadcast::Receiver<Delivery>,
}

impl Subscription {
    /// The next delivery; a gap when this subscriber fell behind; `None` once the bus is gone.
    pub async fn recv(&mut self) -> Option<Delivery> {
        match self.rx.recv().await {
            Ok(d) => Some(d),
            Err(broadcast::error::RecvError::Lagged(missed)) => Some(Delivery::Gap { missed }),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}
