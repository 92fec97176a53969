//! Notifications: what people are told about what happened to their tasks and communities, in
//! the page (pushed live) and by e-mail. [`Notifier::notify`] honours each person's preferences
//! (muted, normal, watching; per task, per community, by default) and stores a notification with
//! its mail in one transaction under an idempotency key, so telling the same thing twice makes one
//! notification and one mail. Mails wait in the store's outbox until [`Postman`] sends them through
//! SMTP or writes them as `.eml` files (the embedded default), retrying with capped exponential
//! backoff. [`Producer`] turns the indexer's applied logs into notices. E-mail addresses are verified
//! by a mailed single-use link before any notification mail goes to them.

#![warn(missing_docs)]

mod board;
mod email;
mod mail;
mod notifier;
mod outbox;
mod producer;
mod settings;

pub use email::{MAX_EMAIL_LEN, MAX_LINKS_PER_HOUR, TOKEN_TTL_SECS, check_email};
pub use mail::Mailer;
pub use notifier::{Delivery, Notice, Notifier, Reach, delivery, level_for};
pub use outbox::Postman;
pub use producer::Producer;
pub use settings::MailSettings;

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] agora_store::Error),
    /// The `[mail]` settings cannot be used.
    #[error("{0}")]
    Config(String),
    /// An e-mail address a person gave is not one.
    #[error("{0}")]
    InvalidEmail(String),
    /// Too many verification links were asked for within the hour.
    #[error("at most {0} verification mails an hour: try again later")]
    TooManyLinks(u64),
    /// The system's random source failed.
    #[error("no random source: {0}")]
    Random(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Unix milliseconds.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}
