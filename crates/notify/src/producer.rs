//! The producer: turns the indexer's applied logs into notices (compute tasks here, the community
//! task market in `board`). Each notice's key is derived from
//! the log (chain, transaction hash, log index) and the recipient, so a replayed log, a restarted
//! node or two nodes on one database never tell anyone twice.

use agora_store::{IndexedLog, MarketEvent, Store};
use alloy::primitives::Address;
use serde_json::json;
use tokio::sync::{broadcast, watch};

use crate::{Notice, Notifier, Reach, Result};

/// Turns applied logs of one chain into notifications.
#[derive(Clone, Debug)]
pub struct Producer {
    notifier: Notifier,
    store: Store,
    chain_id: u64,
}

/// What one log tells one person, before preferences and keys.
pub(crate) struct Draft {
    pub(crate) recipient: Address,
    pub(crate) kind: &'static str,
    pub(crate) subject: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) title: String,
    pub(crate) payload: serde_json::Value,
    pub(crate) reach: Reach,
}

impl Producer {
    /// A producer for the logs of `chain_id`.
    pub fn new(notifier: Notifier, chain_id: u64) -> Self {
        let store = notifier.store.clone();
        Self { notifier, store, chain_id }
    }

    /// The key of `log`'s notice to `recipient`.
    pub fn key(&self, log: &IndexedLog, recipient: Address) -> String {
        format!("log:{}:{}:{}:{recipient:#x}", self.chain_id, log.meta.tx_hash.to_ascii_lowercase(), log.meta.log_index)
    }

    /// Tells everyone `log` concerns; returns how many notifications were added.
    pub async fn on_log(&self, log: &IndexedLog) -> Result<usize> {
        let mut added = 0;
        for d in self.drafts(&log.event).await? {
            let notice = Notice {
                key: self.key(log, d.recipient),
                recipient: d.recipient,
                kind: d.kind.into(),
                subject: d.subject,
                scopes: d.scopes,
                title: d.title,
                payload: d.payload,
                reach: d.reach,
            };
            if self.notifier.notify(&notice).await?.is_some() {
                added += 1;
            }
        }
        Ok(added)
    }

    async fn drafts(&self, event: &MarketEvent) -> Result<Vec<Draft>> {
        match event {
            MarketEvent::TaskCompleted { task_id, result_hash } => {
                let title = format!("Your compute task #{task_id} is done");
                self.to_buyer(*task_id, "compute-completed", title, json!({"taskId": task_id, "result": result_hash}))
                    .await
            }
            MarketEvent::TaskFailed { task_id, reason } => {
                let title = format!("Your compute task #{task_id} failed: {reason}");
                self.to_buyer(*task_id, "compute-failed", title, json!({"taskId": task_id, "reason": reason})).await
            }
            MarketEvent::TaskRefunded { task_id } => {
                let title = format!("Your compute task #{task_id} was refunded");
                self.to_buyer(*task_id, "compute-refunded", title, json!({"taskId": task_id})).await
            }
            MarketEvent::Board(e) => crate::board::board_drafts(&self.store, self.chain_id, e).await,
            MarketEvent::Community(e) => Ok(crate::board::community_drafts(e)),
            _ => Ok(Vec::new()),
        }
    }

    /// A compute task's news for its buyer.
    async fn to_buyer(
        &self,
        task_id: u64,
        kind: &'static str,
        title: String,
        payload: serde_json::Value,
    ) -> Result<Vec<Draft>> {
        let Some(task) = self.store.task(self.chain_id, task_id).await? else { return Ok(Vec::new()) };
        Ok(vec![Draft {
            recipient: task.user,
            kind,
            subject: format!("compute-task:{task_id}"),
            scopes: Vec::new(),
            title,
            payload,
            reach: Reach::DirectMail,
        }])
    }

    /// Tells people about each log `events` brings until `shutdown`. A log whose notices could not
    /// be stored is logged and left (the next log goes on); logs missed because this reader fell
    /// behind are logged with their count.
    pub async fn run(self, mut events: broadcast::Receiver<IndexedLog>, mut shutdown: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                got = events.recv() => match got {
                    Ok(log) => {
                        if let Err(e) = self.on_log(&log).await {
                            tracing::warn!(error = %e, tx = %log.meta.tx_hash, index = log.meta.log_index, "notifications for a log failed");
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "the notification producer fell behind the indexer; those logs notify nobody");
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = shutdown.changed() => {
                    if *shutdown.borrow() {
                        return;
                    }
                }
            }
        }
    }
}
