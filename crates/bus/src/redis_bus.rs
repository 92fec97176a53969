//! The bus through Redis pub/sub: one channel per deployment (`<prefix>:events`), one publisher
//! task per process that publishes in order and retries through reconnections, and one subscriber
//! task per process that fans deliveries out to local subscribers.
//!
//! Redis pub/sub keeps nothing for a subscriber that is away, so every way of losing a message is
//! turned into a [`Delivery::Gap`]: a resubscription after the connection dropped (or stopped
//! answering pings); a publisher's number that jumps (a message dropped past the queue's bound,
//! or lost with the connection); a heartbeat whose number is ahead of the last message seen.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::PubSub;
use tokio::sync::{Notify, broadcast};
use tokio::task::JoinHandle;

use crate::conn::{Conn, MAX_BACKOFF, MIN_BACKOFF, TIMEOUT};
use crate::wire::{Envelope, Tracker, source_id};
use crate::{Delivery, Error, Message, Result};

/// Messages a publisher keeps while Redis is away; past this, they are dropped (and numbered).
const QUEUE_BOUND: usize = 10_000;

pub(crate) struct RedisBus {
    outbox: Arc<Outbox>,
    local: broadcast::Sender<Delivery>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for RedisBus {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl RedisBus {
    pub(crate) async fn connect(url: &str, prefix: &str, heartbeat_ms: u64, buffer: usize) -> Result<Self> {
        let client = redis::Client::open(url)?;
        let channel = format!("{prefix}:events");
        let heartbeat = Duration::from_millis(heartbeat_ms.max(10));
        let first = subscribe(&client, &channel).await?;
        let (local, _) = broadcast::channel(buffer);
        let outbox = Arc::new(Outbox { src: source_id(), queue: Mutex::new(Queue::default()), ready: Notify::new() });
        let tasks = vec![
            tokio::spawn(listen(client.clone(), channel.clone(), first, local.clone(), heartbeat)),
            tokio::spawn(publish_loop(Conn::new(client), channel, outbox.clone(), heartbeat)),
        ];
        Ok(Self { outbox, local, tasks })
    }

    pub(crate) fn publish(&self, message: Message) {
        self.outbox.push(Some(&message), 1);
    }

    pub(crate) fn missed(&self, missed: u64) {
        self.outbox.push(None, missed);
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Delivery> {
        self.local.subscribe()
    }
}

async fn subscribe(client: &redis::Client, channel: &str) -> Result<PubSub> {
    let attempt = async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(channel).await?;
        Ok::<_, Error>(pubsub)
    };
    tokio::time::timeout(TIMEOUT, attempt).await.map_err(|_| Error::Timeout(TIMEOUT))?
}

/// The subscriber task: reads the channel, checks the numbering, fans out; on a lost connection
/// subscribes again with backoff and reports a gap once it listens again.
async fn listen(
    client: redis::Client,
    channel: String,
    first: PubSub,
    local: broadcast::Sender<Delivery>,
    heartbeat: Duration,
) {
    let mut tracker = Tracker::default();
    let mut pubsub = Some(first);
    let mut backoff = MIN_BACKOFF;
    loop {
        let current = match pubsub.take() {
            Some(p) => p,
            None => match subscribe(&client, &channel).await {
                Ok(p) => {
                    tracing::info!(%channel, "listening to Redis again; pages re-read what they show");
                    backoff = MIN_BACKOFF;
                    tracker.clear();
                    let _ = local.send(Delivery::Gap { missed: 0 });
                    p
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "cannot subscribe to Redis");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            },
        };
        let (mut sink, mut stream) = current.split();
        let mut ping = tokio::time::interval(heartbeat);
        ping.tick().await;
        loop {
            tokio::select! {
                msg = stream.next() => {
                    let Some(msg) = msg else { break };
                    let text: String = match msg.get_payload() {
                        Ok(t) => t,
                        Err(e) => {
                            tracing::warn!(error = %e, "a bus message that is not text");
                            continue;
                        }
                    };
                    match Envelope::decode(&text) {
                        Some(env) => {
                            for d in tracker.accept(env) {
                                // No local subscriber is fine.
                                let _ = local.send(d);
                            }
                        }
                        None => tracing::warn!(%text, "an unreadable bus message"),
                    }
                }
                _ = ping.tick() => {
                    // A connection that stopped answering is as good as closed.
                    match tokio::time::timeout(heartbeat.max(TIMEOUT), sink.ping::<redis::Value>()).await {
                        Ok(Ok(_)) => {}
                        _ => break,
                    }
                }
            }
        }
        tracing::warn!(%channel, "lost the Redis subscription; subscribing again");
    }
}

/// What a process has to publish, in order, each with its number.
struct Outbox {
    src: String,
    queue: Mutex<Queue>,
    ready: Notify,
}

#[derive(Default)]
struct Queue {
    /// The last number handed out (to a message queued or dropped, or to messages missed).
    seq: u64,
    items: VecDeque<Envelope>,
    dropped: u64,
}

impl Outbox {
    /// Numbers `count` messages; queues `message` (the last of them) when there is one and room.
    fn push(&self, message: Option<&Message>, count: u64) {
        {
            let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            q.seq += count;
            match message {
                Some(m) if q.items.len() < QUEUE_BOUND => {
                    let env = Envelope::new(&self.src, q.seq, m);
                    q.items.push_back(env);
                }
                Some(_) => {
                    q.dropped += 1;
                    if q.dropped.is_power_of_two() {
                        tracing::warn!(dropped = q.dropped, "Redis is away and the bus queue is full: dropping");
                    }
                }
                None => {}
            }
        }
        self.ready.notify_one();
    }

    fn pop(&self) -> Option<Envelope> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).items.pop_front()
    }

    /// A heartbeat, when nothing is queued: every number up to the one it carries has been
    /// published or dropped, so a subscriber that has not seen it has lost something. None from a
    /// process that never published (an API-only one).
    fn heartbeat(&self) -> Option<Envelope> {
        let q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        (q.items.is_empty() && q.seq > 0).then(|| Envelope::heartbeat(&self.src, q.seq))
    }

    /// The next envelope to publish: a queued message, or a heartbeat after `idle` without one.
    async fn next(&self, idle: Duration) -> Envelope {
        loop {
            let ready = self.ready.notified();
            if let Some(env) = self.pop() {
                return env;
            }
            if tokio::time::timeout(idle, ready).await.is_err()
                && let Some(hb) = self.heartbeat()
            {
                return hb;
            }
        }
    }
}

/// The publisher task: publishes each envelope in order, retrying it until Redis takes it.
async fn publish_loop(conn: Conn, channel: String, outbox: Arc<Outbox>, heartbeat: Duration) {
    loop {
        let env = outbox.next(heartbeat).await;
        let text = env.encode();
        let mut backoff = MIN_BACKOFF;
        loop {
            let cmd = redis::cmd("PUBLISH").arg(&channel).arg(&text).clone();
            match conn.query::<i64>(&cmd).await {
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "cannot publish to Redis");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
}
