//! The mail outbox: one row per mail, leased by a sender while it sends, so two senders never send
//! one row at once and a crash loses nothing (a lease that runs out puts the row back).

use alloy::primitives::Address;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::column::{hex, i64_of, parsed, stored_enum, u64_of};
use crate::{Result, Store};

stored_enum! {
    /// Where a mail stands.
    pub enum MailStatus {
        /// Waiting for its next attempt (or being sent under a lease).
        Pending => "pending",
        /// Handed to the mail server (or written to its file).
        Sent => "sent",
        /// Every attempt failed; `last_error` says why.
        Failed => "failed",
    }
}

/// A mail to put in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    /// Unique per mail: a second mail with the same key is not added.
    pub idempotency_key: String,
    /// The account it is for.
    pub recipient: Address,
    /// The e-mail address it goes to.
    pub to: String,
    /// Its subject line.
    pub subject: String,
    /// Its plain-text body.
    pub body: String,
    /// Its `Message-ID` (derived from the key, so a resend carries the same one).
    pub message_id: String,
    /// When it was queued, unix milliseconds (its first attempt is due then).
    pub created_at_ms: u64,
}

/// A mail in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailRow {
    /// Its number.
    pub id: u64,
    /// Its idempotency key.
    pub idempotency_key: String,
    /// The notification it tells of (`None`: a verification mail).
    pub notification_id: Option<u64>,
    /// The account it is for.
    pub recipient: Address,
    /// The e-mail address it goes to.
    pub to: String,
    /// Its subject line.
    pub subject: String,
    /// Its plain-text body.
    pub body: String,
    /// Its `Message-ID`.
    pub message_id: String,
    /// Where it stands.
    pub status: MailStatus,
    /// Attempts begun so far (a lease taken counts one).
    pub attempts: u32,
    /// When the next attempt is due, unix milliseconds.
    pub next_attempt_at_ms: u64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was queued, unix milliseconds.
    pub created_at_ms: u64,
    /// When it was sent, unix milliseconds.
    pub sent_at_ms: Option<u64>,
}

const MAIL_COLUMNS: &str = "id, idempotency_key, notification_id, recipient, to_address, subject, body, message_id, \
     status, attempts, next_attempt_at_ms, last_error, created_at_ms, sent_at_ms";

fn mail_row(r: &AnyRow) -> Result<MailRow> {
    Ok(MailRow {
        id: u64_of(r.try_get(0)?),
        idempotency_key: r.try_get(1)?,
        notification_id: r.try_get::<Option<i64>, _>(2)?.map(u64_of),
        recipient: parsed(r, 3, "mail recipient")?,
        to: r.try_get(4)?,
        subject: r.try_get(5)?,
        body: r.try_get(6)?,
        message_id: r.try_get(7)?,
        status: parsed(r, 8, "mail status")?,
        attempts: u32::try_from(r.try_get::<i64, _>(9)?).unwrap_or(u32::MAX),
        next_attempt_at_ms: u64_of(r.try_get(10)?),
        last_error: r.try_get(11)?,
        created_at_ms: u64_of(r.try_get(12)?),
        sent_at_ms: r.try_get::<Option<i64>, _>(13)?.map(u64_of),
    })
}

/// Adds `mail` unless a mail with its key is there already; true when added. Ids are the highest
/// plus one: two writers racing for one id make the later one's transaction fail with a unique
/// violation, which the callers retry.
pub(super) async fn insert_mail(
    tx: &mut Transaction<'_, Any>,
    mail: &NewMail,
    notification_id: Option<u64>,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO mail_outbox (id, idempotency_key, notification_id, recipient, to_address, subject, body, \
         message_id, status, attempts, next_attempt_at_ms, created_at_ms) \
         SELECT COALESCE(MAX(id), 0) + 1, $1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8 FROM mail_outbox WHERE true \
         ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(&mail.idempotency_key)
    .bind(notification_id.map(i64_of).transpose()?)
    .bind(hex(mail.recipient))
    .bind(&mail.to)
    .bind(&mail.subject)
    .bind(&mail.body)
    .bind(&mail.message_id)
    .bind(i64_of(mail.created_at_ms)?)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// True for the error of two writers taking the same new id (the later one retries).
pub(super) fn id_race(e: &crate::Error) -> bool {
    matches!(e, crate::Error::Db(sqlx::Error::Database(d)) if d.is_unique_violation())
}

impl Store {
    /// Queues `mail` on its own (no notification); true when added, false when its key was there.
    pub async fn queue_mail(&self, mail: &NewMail) -> Result<bool> {
        let mut attempt = 0;
        loop {
            let mut tx = self.begin().await?;
            match insert_mail(&mut tx, mail, None).await {
                Ok(added) => {
                    tx.commit().await?;
                    return Ok(added);
                }
                Err(e) if id_race(&e) && attempt < 5 => attempt += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// Leases the mail due first at `now_ms` to `owner` until `now_ms + lease_ms`, counting one
    /// attempt; `None` when none is due. A row under another's unexpired lease is not due: one
    /// `UPDATE` takes it, so two senders never hold one row.
    pub async fn lease_mail(&self, owner: &str, now_ms: u64, lease_ms: u64) -> Result<Option<MailRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE mail_outbox SET lease_owner = $1, lease_until_ms = $2, attempts = attempts + 1 \
             WHERE id = (SELECT id FROM mail_outbox WHERE status = 'pending' AND next_attempt_at_ms <= $3 \
             AND (lease_until_ms IS NULL OR lease_until_ms <= $3) ORDER BY next_attempt_at_ms, id LIMIT 1) \
             AND status = 'pending' AND (lease_until_ms IS NULL OR lease_until_ms <= $3) \
             RETURNING {MAIL_COLUMNS}"
        )))
        .bind(owner)
        .bind(i64_of(now_ms.saturating_add(lease_ms))?)
        .bind(i64_of(now_ms)?)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(mail_row).transpose()
    }

    /// When the next pending mail can be leased, unix milliseconds (its due time, or the end of
    /// the lease it is under); `None`: nothing pending.
    pub async fn next_mail_due_ms(&self) -> Result<Option<u64>> {
        let due = sqlx::query_scalar::<_, Option<i64>>(
            "SELECT MIN(CASE WHEN lease_until_ms IS NOT NULL AND lease_until_ms > next_attempt_at_ms \
             THEN lease_until_ms ELSE next_attempt_at_ms END) FROM mail_outbox WHERE status = 'pending'",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(due.map(u64_of))
    }

    /// Marks mail `id` sent at `now_ms` (true when it was pending). Whoever sent it says so, even a
    /// sender whose lease ran out meanwhile: the mail went.
    pub async fn mail_sent(&self, id: u64, now_ms: u64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE mail_outbox SET status = 'sent', sent_at_ms = $2, lease_owner = NULL, lease_until_ms = NULL, \
             last_error = NULL WHERE id = $1 AND status = 'pending'",
        )
        .bind(i64_of(id)?)
        .bind(i64_of(now_ms)?)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records that `owner`'s attempt at mail `id` failed with `error`: pending again from
    /// `retry_at_ms`, or `failed` for good once `max_attempts` were made. `None` when `owner` no
    /// longer holds the row (its lease ran out and another took it).
    pub async fn mail_attempt_failed(
        &self,
        id: u64,
        owner: &str,
        error: &str,
        retry_at_ms: u64,
        max_attempts: u32,
    ) -> Result<Option<MailStatus>> {
        let row = sqlx::query(
            "UPDATE mail_outbox SET status = CASE WHEN attempts >= $4 THEN 'failed' ELSE 'pending' END, \
             last_error = $3, next_attempt_at_ms = $5, lease_owner = NULL, lease_until_ms = NULL \
             WHERE id = $1 AND lease_owner = $2 AND status = 'pending' RETURNING status",
        )
        .bind(i64_of(id)?)
        .bind(owner)
        .bind(error)
        .bind(i64::from(max_attempts))
        .bind(i64_of(retry_at_ms)?)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| parsed(&r, 0, "mail status")).transpose()
    }

    /// The mail queued under `key`.
    pub async fn mail_by_key(&self, key: &str) -> Result<Option<MailRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MAIL_COLUMNS} FROM mail_outbox WHERE idempotency_key = $1"
        )))
        .bind(key)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(mail_row).transpose()
    }

    /// The mails for `recipient`, oldest first.
    pub async fn mails_for(&self, recipient: Address) -> Result<Vec<MailRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MAIL_COLUMNS} FROM mail_outbox WHERE recipient = $1 ORDER BY id"
        )))
        .bind(hex(recipient))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(mail_row).collect()
    }
}
