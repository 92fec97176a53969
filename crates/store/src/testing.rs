//! Fresh databases for tests: a SQLite file in a temporary directory, and a new PostgreSQL
//! database on the server named by `AGORA_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), dropped again by [`TestDb::finish`].
//! PostgreSQL being unreachable is an error, not a skip: both backends are always tested.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Result, Store};

/// The PostgreSQL server tests use when `AGORA_TEST_POSTGRES_URL` is not set.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A fresh, empty, migrated database for one test.
pub struct TestDb {
    /// `sqlite` or `postgres`, for assertion messages.
    pub label: &'static str,
    /// Its connection URL (for a second process or a second store on the same database).
    pub url: String,
    /// A store connected to it.
    pub store: Store,
    admin: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A SQLite file in a temporary directory, removed when this is dropped.
    pub async fn sqlite() -> Result<Self> {
        let dir = tempfile::tempdir().map_err(|e| crate::Error::Inconsistent(e.to_string()))?;
        let url = format!("sqlite://{}", dir.path().join("agora.db").display());
        let store = Store::connect(&url).await?;
        Ok(Self { label: "sqlite", url, store, admin: None, _dir: Some(dir) })
    }

    /// A new database on the test PostgreSQL server; [`TestDb::finish`] drops it.
    pub async fn postgres() -> Result<Self> {
        static N: AtomicU64 = AtomicU64::new(0);
        let admin_url = std::env::var("AGORA_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
        let name = format!("agora_test_{}_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed), nanos());
        sqlx::any::install_default_drivers();
        let admin = sqlx::AnyPool::connect(&admin_url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await?;
        admin.close().await;
        let url = match admin_url.rfind('/') {
            Some(i) => format!("{}/{name}", &admin_url[..i]),
            None => return Err(crate::Error::Inconsistent(format!("bad postgres url {admin_url}"))),
        };
        let store = Store::connect(&url).await?;
        Ok(Self { label: "postgres", url, store, admin: Some((admin_url, name)), _dir: None })
    }

    /// Both backends.
    pub async fn both() -> Result<Vec<Self>> {
        Ok(vec![Self::sqlite().await?, Self::postgres().await?])
    }

    /// Closes the store and drops the PostgreSQL database.
    pub async fn finish(self) -> Result<()> {
        self.store.pool().close().await;
        if let Some((admin_url, name)) = self.admin {
            let admin = sqlx::AnyPool::connect(&admin_url).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                .execute(&admin)
                .await?;
            admin.close().await;
        }
        Ok(())
    }
}

fn nanos() -> u32 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or_default()
}
