//! What each person is told (`notifications`) and how much they want to hear (`notification_prefs`).

use alloy::primitives::Address;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::outbox::{NewMail, id_race, insert_mail};
use crate::column::{hex, i64_of, parsed, stored_enum, u64_of};
use crate::{Result, Store};

stored_enum! {
    /// How much a person wants to hear about a scope.
    pub enum NotifyLevel {
        /// Nothing at all.
        Muted => "muted",
        /// What concerns them directly.
        Normal => "normal",
        /// Every event on the task or community too.
        Watching => "watching",
    }
}

/// A person's level for one scope (`default`, `community:N`, `task:N`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefRow {
    /// The scope.
    pub scope: String,
    /// The level.
    pub level: NotifyLevel,
}

/// A notification to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    /// Who is told.
    pub recipient: Address,
    /// What happened (`board-accepted`, …).
    pub kind: String,
    /// What it is about (`board-task:7`, `community:3`).
    pub subject: String,
    /// One English sentence (the mail's subject).
    pub title: String,
    /// The details for the page, JSON.
    pub payload: serde_json::Value,
    /// Unique per notification: a second one with the same key is not added.
    pub idempotency_key: String,
    /// Unix seconds.
    pub created_at: u64,
}

/// A notification as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRow {
    /// Its number; later notifications have higher ones.
    pub id: u64,
    /// Who is told.
    pub recipient: Address,
    /// What happened.
    pub kind: String,
    /// What it is about.
    pub subject: String,
    /// One English sentence.
    pub title: String,
    /// The details, JSON.
    pub payload: serde_json::Value,
    /// Unix seconds.
    pub created_at: u64,
    /// When the recipient marked it read, unix seconds.
    pub read_at: Option<u64>,
}

/// A page of a person's notifications, newest first, and how many of all theirs are unread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationPage {
    /// The notifications.
    pub items: Vec<NotificationRow>,
    /// Unread notifications in all.
    pub unread: u64,
}

const COLUMNS: &str = "id, recipient, kind, subject, title, payload, created_at, read_at";

fn notification_row(r: &AnyRow) -> Result<NotificationRow> {
    let payload: String = r.try_get(5)?;
    Ok(NotificationRow {
        id: u64_of(r.try_get(0)?),
        recipient: parsed(r, 1, "notification recipient")?,
        kind: r.try_get(2)?,
        subject: r.try_get(3)?,
        title: r.try_get(4)?,
        payload: serde_json::from_str(&payload)?,
        created_at: u64_of(r.try_get(6)?),
        read_at: r.try_get::<Option<i64>, _>(7)?.map(u64_of),
    })
}

impl Store {
    /// Adds `n` and, when given, its mail, in one transaction; `None` when a notification with its
    /// key exists already (then no mail is added either).
    pub async fn add_notification(
        &self,
        n: &NewNotification,
        mail: Option<&NewMail>,
    ) -> Result<Option<NotificationRow>> {
        let mut attempt = 0;
        loop {
            match self.try_add_notification(n, mail).await {
                Err(e) if id_race(&e) && attempt < 5 => attempt += 1,
                other => return other,
            }
        }
    }

    async fn try_add_notification(
        &self,
        n: &NewNotification,
        mail: Option<&NewMail>,
    ) -> Result<Option<NotificationRow>> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO notifications (id, recipient, kind, subject, title, payload, idempotency_key, created_at) \
             SELECT COALESCE(MAX(id), 0) + 1, $1, $2, $3, $4, $5, $6, $7 FROM notifications WHERE true \
             ON CONFLICT (idempotency_key) DO NOTHING RETURNING {COLUMNS}"
        )))
        .bind(hex(n.recipient))
        .bind(&n.kind)
        .bind(&n.subject)
        .bind(&n.title)
        .bind(n.payload.to_string())
        .bind(&n.idempotency_key)
        .bind(i64_of(n.created_at)?)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(None);
        };
        let row = notification_row(&row)?;
        if let Some(mail) = mail {
            insert_mail(&mut tx, mail, Some(row.id)).await?;
        }
        tx.commit().await?;
        Ok(Some(row))
    }

    /// `recipient`'s notifications with ids below `before` and above `after` (either optional),
    /// newest first, at most `limit`, and their unread count.
    pub async fn notifications(
        &self,
        recipient: Address,
        before: Option<u64>,
        after: Option<u64>,
        limit: u32,
    ) -> Result<NotificationPage> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM notifications WHERE recipient = $1 AND id < $2 AND id > $3 ORDER BY id DESC LIMIT $4"
        )))
        .bind(hex(recipient))
        .bind(i64_of(before.unwrap_or(i64::MAX as u64))?)
        .bind(i64_of(after.unwrap_or(0))?)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        let unread =
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM notifications WHERE recipient = $1 AND read_at IS NULL")
                .bind(hex(recipient))
                .fetch_one(self.pool())
                .await?;
        Ok(NotificationPage {
            items: rows.iter().map(notification_row).collect::<Result<_>>()?,
            unread: u64_of(unread),
        })
    }

    /// Marks `recipient`'s notifications `ids` (all of theirs when `None`) read at `now`; returns
    /// how many were unread. Ids of someone else's notifications change nothing.
    pub async fn mark_notifications_read(&self, recipient: Address, ids: Option<&[u64]>, now: u64) -> Result<u64> {
        let done = match ids {
            None => {
                sqlx::query("UPDATE notifications SET read_at = $2 WHERE recipient = $1 AND read_at IS NULL")
                    .bind(hex(recipient))
                    .bind(i64_of(now)?)
                    .execute(self.pool())
                    .await?
            }
            Some([]) => return Ok(0),
            Some(ids) => {
                let list = (0..ids.len()).map(|i| format!("${}", i + 3)).collect::<Vec<_>>().join(", ");
                let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE notifications SET read_at = $2 WHERE recipient = $1 AND read_at IS NULL AND id IN ({list})"
                )))
                .bind(hex(recipient))
                .bind(i64_of(now)?);
                for id in ids {
                    q = q.bind(i64_of(*id)?);
                }
                q.execute(self.pool()).await?
            }
        };
        Ok(done.rows_affected())
    }

    /// `account`'s levels, by scope.
    pub async fn notification_prefs(&self, account: Address) -> Result<Vec<PrefRow>> {
        let rows = sqlx::query("SELECT scope, level FROM notification_prefs WHERE account = $1 ORDER BY scope")
            .bind(hex(account))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| Ok(PrefRow { scope: r.try_get(0)?, level: parsed(r, 1, "notification level")? })).collect()
    }

    /// Replaces all of `account`'s levels with `prefs` (one transaction).
    pub async fn set_notification_prefs(&self, account: Address, prefs: &[PrefRow], now: u64) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM notification_prefs WHERE account = $1").bind(hex(account)).execute(&mut *tx).await?;
        for p in prefs {
            sqlx::query("INSERT INTO notification_prefs (account, scope, level, updated_at) VALUES ($1, $2, $3, $4)")
                .bind(hex(account))
                .bind(&p.scope)
                .bind(p.level.as_str())
                .bind(i64_of(now)?)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The accounts watching `scope`.
    pub async fn watchers(&self, scope: &str) -> Result<Vec<Address>> {
        let rows = sqlx::query("SELECT account FROM notification_prefs WHERE scope = $1 AND level = 'watching'")
            .bind(scope)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| parsed(r, 0, "watcher")).collect()
    }
}
