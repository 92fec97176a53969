//! The outbox's sender: takes due mails under a lease, sends them, and records the outcome.
//!
//! Delivery is at least once. A mail is marked sent only after the server (or the file system)
//! took it, so a sender that dies between the two leaves the row leased; once the lease runs out
//! another sender (or the same node restarted) sends it again, with the same `Message-ID`, which
//! mail clients use to recognise the copy. That window is one SMTP exchange wide; nothing else
//! sends a mail twice, because two senders never hold one row at once.

use std::sync::Arc;
use std::time::Duration;

use agora_store::{MailStatus, Store};
use tokio::sync::{Notify, watch};

use crate::{Error, MailSettings, Mailer, Result, now_ms};

/// Drains the mail outbox. Several may run against one database (several nodes): leases keep
/// them off each other's rows.
pub struct Postman {
    store: Store,
    mailer: Mailer,
    settings: MailSettings,
    owner: String,
    wake: Arc<Notify>,
}

impl Postman {
    /// A sender for `store`'s outbox through `mailer`, woken by `wake` (the notifier's
    /// [`crate::Notifier::waker`]) when a mail is queued.
    pub fn new(store: Store, mailer: Mailer, settings: MailSettings, wake: Arc<Notify>) -> Result<Self> {
        let mut id = [0u8; 8];
        getrandom::fill(&mut id).map_err(|e| Error::Random(e.to_string()))?;
        let owner = format!("{}-{}", std::process::id(), id.iter().map(|b| format!("{b:02x}")).collect::<String>());
        Ok(Self { store, mailer, settings, owner, wake })
    }

    /// Sends every mail due now, one after another; returns how many were sent.
    pub async fn send_due(&self) -> Result<usize> {
        let mut sent = 0;
        while let Some(mail) = self.store.lease_mail(&self.owner, now_ms(), self.settings.lease_ms).await? {
            match self.mailer.send(&mail).await {
                Ok(()) => {
                    self.store.mail_sent(mail.id, now_ms()).await?;
                    tracing::info!(id = mail.id, to = %mail.to, message_id = %mail.message_id, "mail sent");
                    sent += 1;
                }
                Err(error) => {
                    let retry_at = now_ms().saturating_add(self.settings.backoff_ms(mail.attempts));
                    let status = self
                        .store
                        .mail_attempt_failed(mail.id, &self.owner, &error, retry_at, self.settings.max_attempts)
                        .await?;
                    match status {
                        Some(MailStatus::Failed) => {
                            tracing::error!(id = mail.id, attempts = mail.attempts, %error, "mail failed for good")
                        }
                        _ => tracing::warn!(id = mail.id, attempts = mail.attempts, %error, "mail attempt failed"),
                    }
                }
            }
        }
        Ok(sent)
    }

    /// Sends mails as they fall due until `shutdown` turns true: woken when one is queued, at the
    /// next due time (a retry or an expired lease), and every `poll_ms` at the latest.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(to = %self.mailer.destination(), "mail outbox sender started");
        loop {
            if let Err(e) = self.send_due().await {
                tracing::warn!(error = %e, "mail outbox round failed");
            }
            let poll = self.settings.poll_ms.max(10);
            let wait = match self.store.next_mail_due_ms().await {
                Ok(Some(due)) => due.saturating_sub(now_ms()).clamp(1, poll),
                _ => poll,
            };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }
}
