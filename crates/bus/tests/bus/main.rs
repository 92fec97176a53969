//! The bus and the cache, in memory and through the Redis at `AGORA_TEST_REDIS_URL`
//! (default `redis://127.0.0.1:6379`). Every test uses a prefix of its own, so tests running side
//! by side never see each other's messages or keys.

mod cache;
mod proxy;

use std::time::Duration;

use agora_bus::{Bus, Delivery, LogRef, Message, RedisSettings, Subscription};

pub(crate) fn redis_url() -> String {
    std::env::var("AGORA_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A prefix no other test (or run) uses.
pub(crate) fn prefix(name: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("agora-test:{}:{nanos}:{name}", std::process::id())
}

pub(crate) fn settings(url: &str, prefix: &str) -> RedisSettings {
    RedisSettings { url: Some(url.into()), prefix: prefix.into(), heartbeat_ms: 100 }
}

/// Deletes every key under `prefix` (the cache's counters have no expiry).
pub(crate) async fn clean(prefix: &str) -> anyhow::Result<()> {
    let client = redis::Client::open(redis_url())?;
    let mut c = client.get_multiplexed_async_connection().await?;
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}:*")).query_async(&mut c).await?;
    if !keys.is_empty() {
        redis::cmd("DEL").arg(keys).query_async::<()>(&mut c).await?;
    }
    Ok(())
}

fn changed(n: u64) -> Message {
    Message::Changed { subject: format!("task:{n}") }
}

fn log(n: u64) -> Message {
    Message::Log(LogRef {
        chain_id: 31337,
        block_number: 10 + n,
        tx_hash: format!("0x{n:064x}"),
        log_index: n,
        subject: format!("service:{n}"),
    })
}

/// The next delivery, failing after 10 s.
async fn next(sub: &mut Subscription) -> anyhow::Result<Delivery> {
    tokio::time::timeout(Duration::from_secs(10), sub.recv())
        .await
        .map_err(|_| anyhow::anyhow!("no delivery within 10 s"))?
        .ok_or_else(|| anyhow::anyhow!("the bus closed"))
}

#[tokio::test]
async fn the_memory_bus_delivers_in_order_and_reports_what_was_lost() -> anyhow::Result<()> {
    let bus = Bus::connect(&RedisSettings::default()).await?;
    assert!(!bus.is_shared());
    let mut sub = bus.subscribe();
    bus.publish(log(1));
    bus.publish(changed(2));
    bus.missed(3);
    assert_eq!(next(&mut sub).await?, Delivery::Message(log(1)));
    assert_eq!(next(&mut sub).await?, Delivery::Message(changed(2)));
    assert_eq!(next(&mut sub).await?, Delivery::Gap { missed: 3 });
    // A subscriber that falls behind the local buffer is told so rather than skipped silently.
    let mut slow = bus.subscribe();
    for n in 0..1100 {
        bus.publish(changed(n));
    }
    assert!(matches!(next(&mut slow).await?, Delivery::Gap { missed } if missed > 0));
    Ok(())
}

#[tokio::test]
async fn redis_carries_messages_between_buses_in_order() -> anyhow::Result<()> {
    let p = prefix("order");
    let (a, b) = (Bus::connect(&settings(&redis_url(), &p)).await?, Bus::connect(&settings(&redis_url(), &p)).await?);
    assert!(a.is_shared());
    let other = Bus::connect(&settings(&redis_url(), &prefix("other"))).await?;
    let (mut at_a, mut at_b, mut at_other) = (a.subscribe(), b.subscribe(), other.subscribe());
    for n in 0..50 {
        a.publish(if n % 2 == 0 { log(n) } else { changed(n) });
    }
    for n in 0..50 {
        let want = Delivery::Message(if n % 2 == 0 { log(n) } else { changed(n) });
        assert_eq!(next(&mut at_b).await?, want, "the other process, in order");
        assert_eq!(next(&mut at_a).await?, want, "the publishing process too");
    }
    other.publish(changed(99));
    assert_eq!(next(&mut at_other).await?, Delivery::Message(changed(99)));
    b.publish(changed(100));
    assert_eq!(next(&mut at_a).await?, Delivery::Message(changed(100)), "nothing from another prefix came first");
    Ok(())
}

#[tokio::test]
async fn a_subscriber_cut_off_from_redis_resubscribes_and_reports_a_gap() -> anyhow::Result<()> {
    let p = prefix("cut-subscriber");
    let proxy = proxy::Proxy::start(&redis_url()).await?;
    let publisher = Bus::connect(&settings(&redis_url(), &p)).await?;
    let subscriber = Bus::connect(&settings(&proxy.url(), &p)).await?;
    let mut sub = subscriber.subscribe();
    publisher.publish(changed(1));
    assert_eq!(next(&mut sub).await?, Delivery::Message(changed(1)));

    proxy.cut();
    // Published while the subscriber is away (or on its way out): Redis keeps nothing for it.
    publisher.publish(changed(2));
    proxy.restore();
    loop {
        match next(&mut sub).await? {
            Delivery::Gap { missed: 0 } => break,
            // The cut may not have reached the socket yet when it was published.
            Delivery::Message(m) if m == changed(2) => {}
            other => anyhow::bail!("expected the gap, got {other:?}"),
        }
    }
    publisher.publish(changed(3));
    assert_eq!(next(&mut sub).await?, Delivery::Message(changed(3)));
    Ok(())
}

#[tokio::test]
async fn a_publisher_cut_off_from_redis_keeps_its_messages_until_it_is_back() -> anyhow::Result<()> {
    let p = prefix("cut-publisher");
    let proxy = proxy::Proxy::start(&redis_url()).await?;
    let publisher = Bus::connect(&settings(&proxy.url(), &p)).await?;
    let subscriber = Bus::connect(&settings(&redis_url(), &p)).await?;
    let mut sub = subscriber.subscribe();
    publisher.publish(changed(1));
    assert_eq!(next(&mut sub).await?, Delivery::Message(changed(1)));
    proxy.cut();
    for n in 2..5 {
        publisher.publish(changed(n));
    }
    proxy.restore();
    for n in 2..5 {
        assert_eq!(next(&mut sub).await?, Delivery::Message(changed(n)), "queued, then published in order");
    }
    Ok(())
}

#[tokio::test]
async fn messages_the_publisher_missed_are_a_gap_even_with_nothing_after_them() -> anyhow::Result<()> {
    let p = prefix("missed");
    let (a, b) = (Bus::connect(&settings(&redis_url(), &p)).await?, Bus::connect(&settings(&redis_url(), &p)).await?);
    let mut sub = b.subscribe();
    a.publish(changed(1));
    assert_eq!(next(&mut sub).await?, Delivery::Message(changed(1)));
    a.missed(2);
    a.publish(changed(4));
    assert_eq!(next(&mut sub).await?, Delivery::Gap { missed: 2 }, "the numbering jumped");
    assert_eq!(next(&mut sub).await?, Delivery::Message(changed(4)));
    a.missed(1);
    // Nothing follows: the publisher's heartbeat carries its number.
    assert_eq!(next(&mut sub).await?, Delivery::Gap { missed: 1 });
    Ok(())
}

#[tokio::test]
async fn an_unreachable_redis_is_a_clear_error_at_start() {
    let s = settings("redis://127.0.0.1:1", &prefix("unreachable"));
    let err = Bus::connect(&s).await.err().expect("no Redis there");
    assert!(err.to_string().contains("redis"), "{err}");
    let err = Bus::connect(&settings("http://127.0.0.1:6379", "x")).await.err().expect("not a redis URL");
    assert!(err.to_string().contains("redis"), "{err}");
}
