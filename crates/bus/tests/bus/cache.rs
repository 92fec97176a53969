//! The cache's rules, checked the same way on memory and on Redis.

use std::time::{Duration, Instant};

use agora_bus::{Cache, CacheSettings, Lookup};

use crate::{clean, prefix, redis_url, settings};

fn ttl(ms: u64) -> CacheSettings {
    CacheSettings { ttl_ms: ms, max_entries: 100 }
}

async fn hit(cache: &Cache, domain: &str, key: &str) -> Option<String> {
    match cache.lookup(domain, key).await {
        Lookup::Hit(v) => Some(v),
        Lookup::Miss(_) => None,
    }
}

/// Fills `key` in `domain` with `value` through a miss, as a handler would.
async fn fill(cache: &Cache, domain: &str, key: &str, value: &str) -> anyhow::Result<()> {
    let got = cache.get_or_load(domain, key, || async { anyhow::Ok(value.to_owned()) }).await?;
    anyhow::ensure!(got == value, "loaded {got}");
    Ok(())
}

/// The rules every implementation keeps.
async fn rules(cache: &Cache) -> anyhow::Result<()> {
    assert_eq!(hit(cache, "task", "list").await, None);
    fill(cache, "task", "list", "[1]").await?;
    fill(cache, "service", "list", "[s]").await?;
    assert_eq!(hit(cache, "task", "list").await.as_deref(), Some("[1]"));
    let loaded = cache.get_or_load("task", "list", || async { anyhow::Ok("not called".to_owned()) }).await?;
    assert_eq!(loaded, "[1]", "a hit does not load");

    cache.invalidate("task").await?;
    assert_eq!(hit(cache, "task", "list").await, None, "the domain's entries are gone");
    assert_eq!(hit(cache, "service", "list").await.as_deref(), Some("[s]"), "other domains are kept");

    // A value loaded before an invalidation is never stored where a later read finds it.
    let Lookup::Miss(Some(stamp)) = cache.lookup("task", "list").await else { anyhow::bail!("expected a miss") };
    cache.invalidate("task").await?;
    cache.store("task", "list", stamp, "[stale]".into()).await;
    assert_eq!(hit(cache, "task", "list").await, None, "stored under an old generation");

    let failed =
        cache.get_or_load("task", "list", || async { anyhow::Result::<String>::Err(anyhow::anyhow!("db")) }).await;
    assert!(failed.is_err());
    assert_eq!(hit(cache, "task", "list").await, None, "errors are not cached");

    fill(cache, "task", "list", "[2]").await?;
    cache.invalidate_all().await?;
    assert_eq!(hit(cache, "task", "list").await, None);
    assert_eq!(hit(cache, "service", "list").await, None, "everything is gone after a gap");
    Ok(())
}

/// Waits until `key` misses (its TTL ran out), failing after 5 s.
async fn until_expired(cache: &Cache, domain: &str, key: &str) -> anyhow::Result<()> {
    let start = Instant::now();
    while hit(cache, domain, key).await.is_some() {
        anyhow::ensure!(start.elapsed() < Duration::from_secs(5), "{key} never expired");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

#[tokio::test]
async fn the_memory_cache_keeps_the_rules() -> anyhow::Result<()> {
    rules(&Cache::memory(&ttl(60_000))).await?;
    let short = Cache::memory(&ttl(50));
    fill(&short, "task", "list", "[1]").await?;
    until_expired(&short, "task", "list").await?;

    let small = Cache::memory(&CacheSettings { ttl_ms: 60_000, max_entries: 2 });
    for k in ["a", "b", "c"] {
        fill(&small, "task", k, k).await?;
    }
    assert_eq!(hit(&small, "task", "c").await, None, "a full cache stores nothing more");
    assert_eq!(hit(&small, "task", "a").await.as_deref(), Some("a"));

    let off = Cache::memory(&ttl(0));
    fill(&off, "task", "list", "[1]").await?;
    assert_eq!(hit(&off, "task", "list").await, None, "ttl 0 turns caching off");
    Ok(())
}

#[tokio::test]
async fn the_redis_cache_keeps_the_rules_and_is_shared() -> anyhow::Result<()> {
    let p = prefix("cache");
    let s = settings(&redis_url(), &p);
    let (a, b) = (Cache::connect(&s, &ttl(60_000))?, Cache::connect(&s, &ttl(60_000))?);
    rules(&a).await?;

    // Two processes: what one stores the other reads, and one's invalidation holds for both.
    fill(&a, "fl-task", "list?limit=5", "[a]").await?;
    assert_eq!(hit(&b, "fl-task", "list?limit=5").await.as_deref(), Some("[a]"));
    b.invalidate("fl-task").await?;
    assert_eq!(hit(&a, "fl-task", "list?limit=5").await, None);

    let short = Cache::connect(&settings(&redis_url(), &prefix("cache-ttl")), &ttl(50))?;
    fill(&short, "task", "list", "[1]").await?;
    until_expired(&short, "task", "list").await?;
    clean(&p).await?;
    Ok(())
}

#[tokio::test]
async fn a_cache_whose_redis_is_away_reads_through_and_says_so() -> anyhow::Result<()> {
    let p = prefix("cache-away");
    let proxy = crate::proxy::Proxy::start(&redis_url()).await?;
    let cache = Cache::connect(&settings(&proxy.url(), &p), &ttl(60_000))?;
    fill(&cache, "task", "list", "[1]").await?;
    assert_eq!(hit(&cache, "task", "list").await.as_deref(), Some("[1]"));

    proxy.cut();
    assert_eq!(cache.lookup("task", "list").await, Lookup::Miss(None), "a miss, and nothing to store");
    assert_eq!(fill(&cache, "task", "list", "[2]").await.ok(), Some(()), "the request is answered anyway");
    assert!(cache.invalidate("task").await.is_err(), "a lost invalidation is reported");
    proxy.restore();
    // The invalidation was lost, so the old entry must not be served once Redis is back: the
    // cache invalidates everything before it reads again (after the reconnection's backoff).
    let start = Instant::now();
    loop {
        match cache.lookup("task", "list").await {
            Lookup::Miss(Some(_)) => break,
            Lookup::Miss(None) => {
                anyhow::ensure!(start.elapsed() < Duration::from_secs(10), "Redis never came back");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Lookup::Hit(v) => anyhow::bail!("served {v} after a lost invalidation"),
        }
    }
    clean(&p).await?;
    Ok(())
}
