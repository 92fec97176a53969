//! The notifier: who is told what, in the page and by mail, as their preferences say.

use std::sync::Arc;

use agora_store::{NewMail, NewNotification, NotificationRow, NotifyLevel, PrefRow, Store};
use alloy::primitives::Address;
use tokio::sync::{Notify, broadcast};

use crate::mail::{message_id, sender};
use crate::{MailSettings, Result, now_ms};

/// Why a notice reaches its recipient, which decides what their level lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// It concerns them (their task, their work): in the page at level `normal`.
    Direct,
    /// It concerns them and matters enough for a mail at level `normal` too.
    DirectMail,
    /// They only watch the task or community it happened in: nothing unless they are `watching`.
    Watched,
}

/// Something to tell one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Who.
    pub recipient: Address,
    /// What happened (`board-accepted`, `points-minted`, …), for the page to render.
    pub kind: String,
    /// What it is about (`board-task:7`, `community:3`).
    pub subject: String,
    /// The preference scopes it falls under, most specific first (`task:7`, `community:3`);
    /// `default` is looked at after them.
    pub scopes: Vec<String>,
    /// One English sentence: the mail's subject and first line.
    pub title: String,
    /// The details for the page, JSON.
    pub payload: serde_json::Value,
    /// Unique per notice: the same key twice makes one notification and at most one mail.
    pub key: String,
    /// Why it reaches them.
    pub reach: Reach,
}

/// What the recipient's level lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Nothing.
    None,
    /// In the page.
    Page,
    /// In the page and by mail (to a verified address).
    PageAndMail,
}

/// The level that applies to `scopes` among `prefs`: the most specific scope set, then
/// `default`, then `normal`.
pub fn level_for(prefs: &[PrefRow], scopes: &[String]) -> NotifyLevel {
    scopes
        .iter()
        .map(String::as_str)
        .chain(["default"])
        .find_map(|scope| prefs.iter().find(|p| p.scope == scope).map(|p| p.level))
        .unwrap_or(NotifyLevel::Normal)
}

/// What `level` lets through of a notice that reaches its recipient as `reach`.
pub fn delivery(level: NotifyLevel, reach: Reach) -> Delivery {
    match (level, reach) {
        (NotifyLevel::Muted, _) | (NotifyLevel::Normal, Reach::Watched) => Delivery::None,
        (NotifyLevel::Normal, Reach::Direct) => Delivery::Page,
        (NotifyLevel::Normal, Reach::DirectMail) | (NotifyLevel::Watching, _) => Delivery::PageAndMail,
    }
}

/// Tells people what happened: each notice is stored with its mail in one transaction, pushed to
/// the recipient's open pages, and its mail left to the outbox's sender. Cheap to clone.
#[derive(Clone)]
pub struct Notifier {
    pub(crate) store: Store,
    live: broadcast::Sender<NotificationRow>,
    pub(crate) wake: Arc<Notify>,
    pub(crate) mail_domain: String,
    site: Option<String>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier").field("mail_domain", &self.mail_domain).field("site", &self.site).finish()
    }
}

impl Notifier {
    /// A notifier over `store`, sending as `settings.from`; mails link to `site` (the origin people
    /// reach the node at) when it is known.
    pub fn new(store: Store, settings: &MailSettings, site: Option<String>) -> Result<Self> {
        let from = sender(&settings.from)?;
        let (live, _) = broadcast::channel(256);
        let site = site.map(|s| s.trim_end_matches('/').to_owned()).filter(|s| !s.is_empty());
        Ok(Self { store, live, wake: Arc::new(Notify::new()), mail_domain: from.email.domain().to_owned(), site })
    }

    /// Notifications as they are added, for live pages (each reader keeps only its own user's).
    pub fn subscribe(&self) -> broadcast::Receiver<NotificationRow> {
        self.live.subscribe()
    }

    /// What wakes the outbox's sender when a mail is queued.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// The origin mails link to, when known.
    pub fn site(&self) -> Option<&str> {
        self.site.as_deref()
    }

    /// Tells `notice.recipient` as their preferences allow: `None` when their level lets nothing
    /// through or a notice with the same key was told already (then nothing more is queued).
    pub async fn notify(&self, notice: &Notice) -> Result<Option<NotificationRow>> {
        let prefs = self.store.notification_prefs(notice.recipient).await?;
        let how = delivery(level_for(&prefs, &notice.scopes), notice.reach);
        if how == Delivery::None {
            return Ok(None);
        }
        let now = now_ms();
        let email = match how {
            Delivery::PageAndMail => self.store.verified_email(notice.recipient).await?,
            _ => None,
        };
        let mail = email.map(|to| {
            let key = format!("mail:{}", notice.key);
            NewMail {
                message_id: message_id(&key, &self.mail_domain),
                idempotency_key: key,
                recipient: notice.recipient,
                to,
                subject: format!("Agora: {}", notice.title),
                body: self.body(notice),
                created_at_ms: now,
            }
        });
        let row = NewNotification {
            recipient: notice.recipient,
            kind: notice.kind.clone(),
            subject: notice.subject.clone(),
            title: notice.title.clone(),
            payload: notice.payload.clone(),
            idempotency_key: notice.key.clone(),
            created_at: now / 1000,
        };
        let added = self.store.add_notification(&row, mail.as_ref()).await?;
        if let Some(added) = &added {
            // Nobody listening is fine: the page reads the list when it opens.
            let _ = self.live.send(added.clone());
            if mail.is_some() {
                self.wake.notify_one();
            }
        }
        Ok(added)
    }

    fn body(&self, notice: &Notice) -> String {
        let mut body = format!("{}\n", notice.title);
        if let Some(site) = &self.site {
            body.push_str(&format!(
                "\nSee it on Agora: {site}/#/notifications\n\
                 Choose what you are told about: {site}/#/profile\n"
            ));
        }
        body.push_str("\nYou receive this because this address is verified for your Agora account.\n");
        body
    }
}
