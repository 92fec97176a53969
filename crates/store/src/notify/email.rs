//! E-mail addresses and the single-use tokens of their verification links.

use alloy::primitives::Address;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::outbox::{NewMail, id_race, insert_mail};
use crate::column::{hex, i64_of, parsed, u64_of};
use crate::{Result, Store};

/// A person's e-mail address as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddressRow {
    /// Whose it is.
    pub account: Address,
    /// The address, as given (trimmed).
    pub email: String,
    /// When its link was followed, unix seconds; `None`: not verified, no notification mails.
    pub verified_at: Option<u64>,
    /// When it was last set, unix seconds.
    pub updated_at: u64,
}

/// What following a verification link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenUse {
    /// The address is verified now.
    Verified {
        /// Whose address.
        account: Address,
        /// The address.
        email: String,
    },
    /// No such token was issued.
    Unknown,
    /// The token was issued but its time ran out.
    Expired,
    /// The token was used already (each is good for one use).
    Used,
    /// The account has set another address since the link was sent.
    Superseded,
}

fn address_row(r: &AnyRow) -> Result<EmailAddressRow> {
    Ok(EmailAddressRow {
        account: parsed(r, 0, "e-mail account")?,
        email: r.try_get(1)?,
        verified_at: r.try_get::<Option<i64>, _>(2)?.map(u64_of),
        updated_at: u64_of(r.try_get(3)?),
    })
}

impl Store {
    /// Sets `account`'s address to `email` and sends `mail` (its verification link, whose token
    /// hashes to `token_hash`) in one transaction. Setting the address it already has keeps it
    /// verified if it was; any other address starts unverified.
    pub async fn set_email_address(
        &self,
        account: Address,
        email: &str,
        token_hash: &str,
        expires_at: u64,
        now: u64,
        mail: &NewMail,
    ) -> Result<EmailAddressRow> {
        let mut attempt = 0;
        loop {
            match self.try_set_email_address(account, email, token_hash, expires_at, now, mail).await {
                Err(e) if id_race(&e) && attempt < 5 => attempt += 1,
                other => return other,
            }
        }
    }

    async fn try_set_email_address(
        &self,
        account: Address,
        email: &str,
        token_hash: &str,
        expires_at: u64,
        now: u64,
        mail: &NewMail,
    ) -> Result<EmailAddressRow> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "INSERT INTO email_addresses (account, email, verified_at, updated_at) VALUES ($1, $2, NULL, $3) \
             ON CONFLICT (account) DO UPDATE SET verified_at = CASE WHEN email_addresses.email = excluded.email \
             THEN email_addresses.verified_at ELSE NULL END, email = excluded.email, updated_at = excluded.updated_at \
             RETURNING account, email, verified_at, updated_at",
        )
        .bind(hex(account))
        .bind(email)
        .bind(i64_of(now)?)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO email_tokens (token_hash, account, email, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(hex(account))
        .bind(email)
        .bind(i64_of(now)?)
        .bind(i64_of(expires_at)?)
        .execute(&mut *tx)
        .await?;
        insert_mail(&mut tx, mail, None).await?;
        tx.commit().await?;
        address_row(&row)
    }

    /// `account`'s address, verified or not.
    pub async fn email_address(&self, account: Address) -> Result<Option<EmailAddressRow>> {
        let row = sqlx::query("SELECT account, email, verified_at, updated_at FROM email_addresses WHERE account = $1")
            .bind(hex(account))
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(address_row).transpose()
    }

    /// Uses the token that hashes to `token_hash` at `now`: it verifies the address it was sent to
    /// once, before it expires, and only while the account still has that address. Concurrent
    /// uses race on one `UPDATE`, so only one of them verifies.
    pub async fn use_email_token(&self, token_hash: &str, now: u64) -> Result<TokenUse> {
        let mut tx = self.begin().await?;
        let taken = sqlx::query(
            "UPDATE email_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
             RETURNING account, email",
        )
        .bind(token_hash)
        .bind(i64_of(now)?)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(taken) = taken else {
            tx.rollback().await?;
            let row = sqlx::query("SELECT used_at, expires_at FROM email_tokens WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(self.pool())
                .await?;
            return Ok(match row {
                None => TokenUse::Unknown,
                Some(r) if r.try_get::<Option<i64>, _>(0)?.is_some() => TokenUse::Used,
                Some(_) => TokenUse::Expired,
            });
        };
        let account: Address = parsed(&taken, 0, "e-mail token account")?;
        let email: String = taken.try_get(1)?;
        let verified = sqlx::query(
            "UPDATE email_addresses SET verified_at = $3 WHERE account = $1 AND email = $2 AND verified_at IS NULL",
        )
        .bind(hex(account))
        .bind(&email)
        .bind(i64_of(now)?)
        .execute(&mut *tx)
        .await?;
        if verified.rows_affected() == 0 {
            let current = sqlx::query_scalar::<_, String>("SELECT email FROM email_addresses WHERE account = $1")
                .bind(hex(account))
                .fetch_optional(&mut *tx)
                .await?;
            if current.as_deref() != Some(email.as_str()) {
                // Leave the token unused: it is refused for what it is, not burnt.
                tx.rollback().await?;
                return Ok(TokenUse::Superseded);
            }
        }
        tx.commit().await?;
        Ok(TokenUse::Verified { account, email })
    }

    /// How many verification links `account` was sent from `since` (unix seconds) on.
    pub async fn email_tokens_since(&self, account: Address, since: u64) -> Result<u64> {
        let n =
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM email_tokens WHERE account = $1 AND created_at >= $2")
                .bind(hex(account))
                .bind(i64_of(since)?)
                .fetch_one(self.pool())
                .await?;
        Ok(u64_of(n))
    }

    /// `account`'s address if it is verified (the only kind notification mails go to).
    pub async fn verified_email(&self, account: Address) -> Result<Option<String>> {
        let email = sqlx::query_scalar::<_, String>(
            "SELECT email FROM email_addresses WHERE account = $1 AND verified_at IS NOT NULL",
        )
        .bind(hex(account))
        .fetch_optional(self.pool())
        .await?;
        Ok(email)
    }
}
