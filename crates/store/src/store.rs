//! The database handle: connecting, migrations, and what spans every domain (forgetting a chain).

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Transaction};

use crate::Result;
use crate::column::i64_of;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A handle on the database; cheap to clone. Its methods are grouped by domain in the modules
/// beside it (`indexer`, `market`, `channels`, `compute_runs`, `background`, `iexec`,
/// `iexec_worker`, `auth`).
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    sqlite: bool,
}

impl Store {
    /// Connects to `url` (`sqlite://path` — created if missing — or `postgres://…`) and runs the
    /// migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        install_default_drivers();
        let is_sqlite = url.starts_with("sqlite:");
        let url = if is_sqlite && !url.contains("mode=") && !url.contains(":memory:") {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}mode=rwc")
        } else {
            url.to_owned()
        };
        let mut options = AnyPoolOptions::new().max_connections(if is_sqlite { 4 } else { 10 });
        if is_sqlite {
            // A file in this process: nothing to test before lending a connection (a ping would
            // cost every transaction one more round trip to the connection's thread).
            options = options.test_before_acquire(false).after_connect(|conn, _meta| {
                Box::pin(async move {
                    sqlx::query("PRAGMA journal_mode = WAL").execute(&mut *conn).await?;
                    sqlx::query("PRAGMA busy_timeout = 10000").execute(&mut *conn).await?;
                    // Every commit reaches the disk before it returns: an acknowledged voucher survives power loss.
                    sqlx::query("PRAGMA synchronous = FULL").execute(&mut *conn).await?;
                    // Statement journals (a multi-row statement's undo, kept until it completes) in
                    // memory rather than in a temporary file: they never outlive the statement.
                    sqlx::query("PRAGMA temp_store = MEMORY").execute(&mut *conn).await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(&url).await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool, sqlite: is_sqlite })
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`, waiting up to the busy timeout for another writer): a deferred transaction that
    /// read first and then wrote after another connection committed would fail at once with
    /// "database is locked" — SQLite cannot wait there without breaking the snapshot it read. On
    /// PostgreSQL a plain `BEGIN`.
    pub(crate) async fn begin(&self) -> Result<Transaction<'static, Any>> {
        Ok(if self.sqlite { self.pool.begin_with("BEGIN IMMEDIATE").await? } else { self.pool.begin().await? })
    }

    /// Forgets everything indexed from `chain_id` (a dev chain that was started afresh).
    pub async fn reset_chain(&self, chain_id: u64) -> Result<()> {
        let chain = i64_of(chain_id)?;
        let mut tx = self.begin().await?;
        for table in [
            "tasks",
            "services",
            "channels",
            "data_ratings",
            "data_orders",
            "data_sellers",
            "data_acks",
            "fl_tasks",
            "fl_members",
            "fl_block_purchases",
            "fl_claims",
            "fl_shares",
            "fl_dividends_withdrawn",
            "fl_predictions",
            "fl_fee_payments",
            "fl_rounds",
            "fl_logs",
            "fl_results",
            "board_tasks",
            "board_claims",
            "board_settings",
            "communities",
            "community_admins",
            "community_members",
            "community_points",
            "community_minters",
            "posts",
            "post_reports",
            "moderation_log",
            "social_sequences",
            "channel_vouchers",
            "channel_settlements",
            "compute_jobs",
            "iexec_jobs",
            "iexec_apps",
            "chain_logs",
            "indexed_blocks",
            "indexer_cursor",
        ] {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE chain_id = $1")))
                .bind(chain)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::testing::TestDb;

    /// A transaction that reads and then writes is never refused because another connection
    /// wrote in between: the other writer waits for it instead.
    #[tokio::test]
    async fn a_write_transaction_holds_the_write_lock_from_its_start() -> anyhow::Result<()> {
        for db in TestDb::both().await? {
            let store = &db.store;
            sqlx::query("CREATE TABLE begin_probe (n BIGINT NOT NULL)").execute(store.pool()).await?;
            let mut tx = store.begin().await?;
            let (before,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM begin_probe").fetch_one(&mut *tx).await?;
            let mut other = tokio::spawn({
                let pool = store.pool().clone();
                async move { sqlx::query("INSERT INTO begin_probe (n) VALUES (2)").execute(&pool).await }
            });
            if db.label == "sqlite" {
                // The other writer cannot commit while this transaction is open (under a deferred
                // BEGIN it would, and the INSERT below would fail with "database is locked").
                let waited = tokio::time::timeout(Duration::from_millis(300), &mut other).await;
                assert!(waited.is_err(), "another connection wrote inside a write transaction: {waited:?}");
            }
            sqlx::query("INSERT INTO begin_probe (n) VALUES (1)").execute(&mut *tx).await?;
            tx.commit().await?;
            other.await??;
            let (after,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM begin_probe").fetch_one(store.pool()).await?;
            assert_eq!((before, after), (0, 2), "{}", db.label);
            db.finish().await?;
        }
        Ok(())
    }
}
