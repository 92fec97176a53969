//! One multiplexed Redis connection, made on first use and made again after it breaks, with a
//! growing pause between failed attempts so that a Redis that is away is not hammered.

use std::time::{Duration, Instant};

use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;
use tokio::sync::Mutex;

use crate::{Error, Result};

/// How long a connection attempt or a command may take.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(2);
pub(crate) const MIN_BACKOFF: Duration = Duration::from_millis(100);
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(5);

pub(crate) struct Conn {
    client: redis::Client,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    conn: Option<MultiplexedConnection>,
    /// After a failed attempt: not before then, and the pause after the next failure.
    retry: Option<(Instant, Duration)>,
}

impl Conn {
    pub(crate) fn new(client: redis::Client) -> Self {
        Self { client, state: Mutex::new(State::default()) }
    }

    /// The connection, connecting when there is none; fails at once while a backoff runs.
    pub(crate) async fn get(&self) -> Result<MultiplexedConnection> {
        let mut st = self.state.lock().await;
        if let Some(c) = &st.conn {
            return Ok(c.clone());
        }
        if let Some((at, _)) = st.retry
            && let Some(wait) = at.checked_duration_since(Instant::now())
        {
            return Err(Error::Backoff(wait));
        }
        let cfg =
            AsyncConnectionConfig::new().set_connection_timeout(Some(TIMEOUT)).set_response_timeout(Some(TIMEOUT));
        match self.client.get_multiplexed_async_connection_with_config(&cfg).await {
            Ok(c) => {
                st.conn = Some(c.clone());
                st.retry = None;
                Ok(c)
            }
            Err(e) => {
                let pause = st.retry.map_or(MIN_BACKOFF, |(_, p)| (p * 2).min(MAX_BACKOFF));
                st.retry = Some((Instant::now() + pause, pause));
                Err(e.into())
            }
        }
    }

    /// A command failed on the connection: the next use connects afresh.
    async fn broken(&self) {
        self.state.lock().await.conn = None;
    }

    /// Runs `cmd` on the connection; a failure drops the connection.
    pub(crate) async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T> {
        let mut c = self.get().await?;
        match cmd.query_async(&mut c).await {
            Ok(v) => Ok(v),
            Err(e) => {
                // Reconnecting is cheap, and a half-broken connection is not worth telling apart.
                self.broken().await;
                Err(e.into())
            }
        }
    }
}
