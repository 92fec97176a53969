//! The `[mail]` section of the node's configuration.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// How mails leave the node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailSettings {
    /// The SMTP server. `smtps://[user:password@]host[:port]`: TLS from the start (port 465 when
    /// absent). `smtp://…?tls=required`: STARTTLS, refused if the server does not offer it (port
    /// 587). `smtp://[user:password@]host[:port]`: clear text (port 25), for a relay on the same
    /// machine or network; it never tries STARTTLS on its own (`?tls=opportunistic` does, and falls
    /// back to clear text when the server does not offer it). Credentials are percent-encoded.
    /// Unset: mails are written as `.eml` files into `dir`, which a person can open.
    pub smtp_url: Option<String>,
    /// A PEM file of certificates trusted as roots besides Mozilla's, for a server whose certificate
    /// a private authority signed (or a self-signed one). Needs a TLS `smtp_url`.
    pub tls_ca_file: Option<PathBuf>,
    /// The sender, `Name <address>` or a bare address.
    pub from: String,
    /// Where `.eml` files go when there is no SMTP server. Unset: `<data dir>/mail`.
    pub dir: Option<PathBuf>,
    /// Attempts at one mail before it is marked failed.
    pub max_attempts: u32,
    /// The wait after a mail's first failed attempt, milliseconds; it doubles after each failure.
    pub retry_base_ms: u64,
    /// The longest wait between two attempts, milliseconds.
    pub retry_max_ms: u64,
    /// How long a sender holds a mail it took; past it another sender may take it again.
    pub lease_ms: u64,
    /// The longest one SMTP exchange may take, milliseconds.
    pub timeout_ms: u64,
    /// How often the outbox is looked at when nothing wakes the sender, milliseconds.
    pub poll_ms: u64,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            smtp_url: None,
            tls_ca_file: None,
            from: "Agora <agora@localhost>".into(),
            dir: None,
            max_attempts: 8,
            retry_base_ms: 2_000,
            retry_max_ms: 15 * 60 * 1000,
            lease_ms: 2 * 60 * 1000,
            timeout_ms: 30_000,
            poll_ms: 5_000,
        }
    }
}

impl MailSettings {
    /// The wait before the attempt after `attempts` failed ones: `retry_base_ms` doubled per
    /// earlier failure, never above `retry_max_ms`.
    pub fn backoff_ms(&self, attempts: u32) -> u64 {
        let doublings = attempts.saturating_sub(1).min(32);
        self.retry_base_ms.saturating_mul(1u64 << doublings).min(self.retry_max_ms)
    }
}
