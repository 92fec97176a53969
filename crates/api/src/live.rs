//! Live events for this API process: what the indexer applies (and off-chain changes) published on
//! the bus, and the bus's deliveries fanned out to this process's `/api/events` clients, each one
//! invalidating the cached reads of its domain *before* any client hears of it — so a page that
//! re-reads a list on an event never gets the list from before it.

use agora_bus::{Bus, Cache, Delivery, LogRef, Message};
use agora_store::IndexedLog;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

/// How far a slow `/api/events` client may fall behind before it is told to re-read.
const CLIENT_BUFFER: usize = 1024;

/// The bus as this API process sees it, and the cache its deliveries invalidate. Cheap to clone.
#[derive(Clone)]
pub struct Live {
    bus: Bus,
    cache: Cache,
    deliveries: broadcast::Sender<Delivery>,
}

impl Live {
    /// Follows `bus` for chain `chain_id` (logs of other chains on a shared Redis are ignored):
    /// each delivery invalidates `cache` (a message its domain, a gap everything), then reaches
    /// [`Live::subscribe`]rs. Needs a tokio runtime; the task ends with the bus.
    pub fn start(bus: Bus, cache: Cache, chain_id: u64) -> Self {
        let (deliveries, _) = broadcast::channel(CLIENT_BUFFER);
        let mut sub = bus.subscribe();
        let (tx, c) = (deliveries.clone(), cache.clone());
        tokio::spawn(async move {
            while let Some(d) = sub.recv().await {
                match &d {
                    Delivery::Message(Message::Log(l)) if l.chain_id != chain_id => continue,
                    // A failed invalidation leaves the cache reading through until it recovers.
                    Delivery::Message(m) => {
                        let _ = c.invalidate(m.domain()).await;
                    }
                    Delivery::Gap { .. } => {
                        let _ = c.invalidate_all().await;
                    }
                }
                let _ = tx.send(d);
            }
        });
        Self { bus, cache, deliveries }
    }

    /// Deliveries from now on, each after its invalidation.
    pub fn subscribe(&self) -> broadcast::Receiver<Delivery> {
        self.deliveries.subscribe()
    }

    /// The bus (to publish on).
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// The cache for hot reads.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }
}

/// The message for an applied log: where it is, and what it is about.
pub fn log_message(chain_id: u64, log: &IndexedLog) -> Message {
    Message::Log(LogRef {
        chain_id,
        block_number: log.meta.block_number,
        tx_hash: log.meta.tx_hash.clone(),
        log_index: log.meta.log_index,
        subject: log.event.subject(),
    })
}

/// Publishes on `bus` every log the indexer applies (`applied`) and every task whose off-chain
/// state changed (`task_updates`), until `stop` resolves or the indexer is gone. Whatever this
/// falls behind on is published as missed, so subscribers re-read.
pub fn publish_applied(
    bus: Bus,
    chain_id: u64,
    mut applied: broadcast::Receiver<IndexedLog>,
    mut task_updates: broadcast::Receiver<u64>,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> JoinHandle<()> {
    use broadcast::error::RecvError;
    tokio::spawn(async move {
        tokio::pin!(stop);
        let mut updates_open = true;
        loop {
            tokio::select! {
                () = &mut stop => return,
                log = applied.recv() => match log {
                    Ok(log) => bus.publish(log_message(chain_id, &log)),
                    Err(RecvError::Lagged(missed)) => bus.missed(missed),
                    Err(RecvError::Closed) => return,
                },
                task = task_updates.recv(), if updates_open => match task {
                    Ok(id) => bus.publish(Message::Changed { subject: format!("task:{id}") }),
                    Err(RecvError::Lagged(missed)) => bus.missed(missed),
                    Err(RecvError::Closed) => updates_open = false,
                },
            }
        }
    })
}

/// The subject a new notification is published under: `notice:<recipient>:<id>`. Only its
/// recipient's `/api/me/notifications/stream` reads it (from the shared database); `/api/events`
/// ignores it.
pub fn notice_subject(recipient: alloy::primitives::Address, id: u64) -> String {
    format!("notice:{recipient:#x}:{id}")
}

/// Publishes on `bus` every notification written in this process (`notices`, the notifier's), so
/// that the recipient's live stream hears of it whichever API process serves them, until `stop`
/// resolves. Whatever this falls behind on is published as missed.
pub fn publish_notices(
    bus: Bus,
    mut notices: broadcast::Receiver<agora_store::NotificationRow>,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> JoinHandle<()> {
    use broadcast::error::RecvError;
    tokio::spawn(async move {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => return,
                n = notices.recv() => match n {
                    Ok(n) => bus.publish(Message::Changed { subject: notice_subject(n.recipient, n.id) }),
                    Err(RecvError::Lagged(missed)) => bus.missed(missed),
                    Err(RecvError::Closed) => return,
                },
            }
        }
    })
}

/// Announces on `bus` each reorg the indexer rolled back (`reorgs`) as a gap, until `stop`
/// resolves: every process drops its whole cache and every page re-reads, since what they hold
/// may come from the abandoned fork and no applied log will replace it.
pub fn publish_reorgs(
    bus: Bus,
    mut reorgs: broadcast::Receiver<u64>,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> JoinHandle<()> {
    use broadcast::error::RecvError;
    tokio::spawn(async move {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => return,
                r = reorgs.recv() => match r {
                    Ok(ancestor) => {
                        tracing::info!(ancestor, "a reorg: live readers and caches start afresh");
                        bus.missed(0);
                    }
                    Err(RecvError::Lagged(_)) => bus.missed(0),
                    Err(RecvError::Closed) => return,
                },
            }
        }
    })
}
