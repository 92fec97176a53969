//! The cache in Redis, shared by every API process of a deployment. Keys:
//! `<prefix>:cache:epoch`, `<prefix>:cache:gen:<domain>` (counters without expiry, bumped by
//! `INCR`), and `<prefix>:cache:entry:<epoch>:<generation>:<domain>:<key>` (the value, with the
//! TTL). Entries of an older generation are never read again and expire on their own.

use std::time::Duration;

use crate::Result;
use crate::cache::{Lookup, Stamp};
use crate::conn::Conn;

pub(crate) struct RedisCache {
    conn: Conn,
    prefix: String,
}

impl RedisCache {
    pub(crate) fn new(url: &str, prefix: &str) -> Result<Self> {
        Ok(Self { conn: Conn::new(redis::Client::open(url)?), prefix: format!("{prefix}:cache") })
    }

    fn epoch_key(&self) -> String {
        format!("{}:epoch", self.prefix)
    }

    fn generation_key(&self, domain: &str) -> String {
        format!("{}:gen:{domain}", self.prefix)
    }

    fn entry_key(&self, stamp: &str, domain: &str, key: &str) -> String {
        format!("{}:entry:{stamp}:{domain}:{key}", self.prefix)
    }

    pub(crate) async fn lookup(&self, domain: &str, key: &str) -> Result<Lookup> {
        let mut mget = redis::cmd("MGET");
        mget.arg(self.epoch_key()).arg(self.generation_key(domain));
        let (epoch, generation): (Option<u64>, Option<u64>) = self.conn.query(&mget).await?;
        let stamp = format!("{}:{}", epoch.unwrap_or(0), generation.unwrap_or(0));
        let mut get = redis::cmd("GET");
        get.arg(self.entry_key(&stamp, domain, key));
        let value: Option<String> = self.conn.query(&get).await?;
        Ok(match value {
            Some(v) => Lookup::Hit(v),
            None => Lookup::Miss(Some(Stamp::redis(stamp))),
        })
    }

    pub(crate) async fn store(&self, domain: &str, key: &str, stamp: &str, value: &str, ttl: Duration) -> Result<()> {
        let mut set = redis::cmd("SET");
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        set.arg(self.entry_key(stamp, domain, key)).arg(value).arg("PX").arg(ms);
        self.conn.query::<()>(&set).await
    }

    pub(crate) async fn invalidate(&self, domain: Option<&str>) -> Result<()> {
        let key = match domain {
            Some(d) => self.generation_key(d),
            None => self.epoch_key(),
        };
        let mut incr = redis::cmd("INCR");
        incr.arg(key);
        self.conn.query::<u64>(&incr).await.map(drop)
    }
}
