//! Sign-In with Ethereum state: single-use nonces and sessions. Times are unix seconds.

use sqlx::Row;

use crate::column::{i64_of, u64_of};
use crate::{Result, Store};

/// A signed-in session, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The signed-in address, lower-case `0x` hex.
    pub address: String,
    /// The chain the sign-in message named.
    pub chain_id: u64,
    /// When it began, unix seconds.
    pub created_at: u64,
    /// When it ends, unix seconds: from then on it is gone.
    pub expires_at: u64,
}

impl Store {
    /// Remembers `nonce` until `expires_at`, and forgets nonces and sessions that expired by `now`.
    pub async fn issue_nonce(&self, nonce: &str, expires_at: u64, now: u64) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM auth_nonces WHERE expires_at <= $1").bind(i64_of(now)?).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM auth_sessions WHERE expires_at <= $1").bind(i64_of(now)?).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO auth_nonces (nonce, expires_at) VALUES ($1, $2)")
            .bind(nonce)
            .bind(i64_of(expires_at)?)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Uses up `nonce`: true exactly once for a nonce issued and not expired at `now`. Concurrent
    /// callers race on one `DELETE`, so only one of them can win.
    pub async fn consume_nonce(&self, nonce: &str, now: u64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM auth_nonces WHERE nonce = $1 AND expires_at > $2")
            .bind(nonce)
            .bind(i64_of(now)?)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores a session under the hash of its token (the token itself is never stored).
    pub async fn create_session(&self, token_hash: &str, session: &Session) -> Result<()> {
        sqlx::query(
            "INSERT INTO auth_sessions (token_hash, address, chain_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(&session.address)
        .bind(i64_of(session.chain_id)?)
        .bind(i64_of(session.created_at)?)
        .bind(i64_of(session.expires_at)?)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The session behind `token_hash`, unless it expired by `now`.
    pub async fn session(&self, token_hash: &str, now: u64) -> Result<Option<Session>> {
        let row = sqlx::query(
            "SELECT address, chain_id, created_at, expires_at FROM auth_sessions \
             WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(i64_of(now)?)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(Session {
                address: r.try_get(0)?,
                chain_id: u64_of(r.try_get(1)?),
                created_at: u64_of(r.try_get(2)?),
                expires_at: u64_of(r.try_get(3)?),
            })
        })
        .transpose()
    }

    /// Ends a session; true when there was one.
    pub async fn delete_session(&self, token_hash: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM auth_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
