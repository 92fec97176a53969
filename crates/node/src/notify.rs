//! Notifications in the node: the notifier the API serves, the producer that turns the indexer's
//! applied logs into notices, and the mail outbox's sender (`[mail]`: an SMTP server, or `.eml`
//! files under `<data dir>/mail` by default).

use agora_notify::{Mailer, Notifier, Postman, Producer};
use agora_store::{IndexedLog, Store};
use anyhow::{Context, Result};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use crate::Config;

/// The notifier, with the producer (on `events` of `chain_id`) and the outbox's sender running
/// until `shutdown`. Mails link to the configured public origin, else to `api_url`.
pub(crate) fn start(
    config: &Config,
    store: &Store,
    api_url: &str,
    chain_id: u64,
    events: broadcast::Receiver<IndexedLog>,
    shutdown: watch::Receiver<bool>,
) -> Result<(Notifier, Vec<JoinHandle<()>>)> {
    let site = config.api.public_origin.clone().filter(|o| !o.trim().is_empty()).unwrap_or_else(|| api_url.to_owned());
    let notifier = Notifier::new(store.clone(), &config.mail, Some(site)).context("[mail] is not usable")?;
    let mailer = Mailer::new(&config.mail, &config.data_dir.join("mail")).context("[mail] is not usable")?;
    tracing::info!(to = %mailer.destination(), "mails leave through the outbox");
    let postman = Postman::new(store.clone(), mailer, config.mail.clone(), notifier.waker())?;
    let producer = Producer::new(notifier.clone(), chain_id);
    let tasks = vec![tokio::spawn(producer.run(events, shutdown.clone())), tokio::spawn(postman.run(shutdown))];
    Ok((notifier, tasks))
}
