//! The federated-learning coordinator's journal in the node's store: each round, each log line,
//! the result and the centralised reference's epochs, as the API serves them (`/api/fl/tasks/{id}/…`).

use std::time::{SystemTime, UNIX_EPOCH};

use agora_federated::{Checkpoint, Journal, ReferenceReport, RoundReport, TaskMode, TaskResult};
use agora_store::{
    FlLogLevel, FlReferenceRow, FlResultEntry, FlResultKind, FlResultRow, FlRoundParticipant, FlRoundRow, Store,
};
use alloy::primitives::Address;
use async_trait::async_trait;

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

/// The coordinator's journal in the node's store.
#[derive(Clone)]
pub(crate) struct StoreJournal {
    store: Store,
    chain_id: u64,
}

impl StoreJournal {
    /// The journal of the coordinators on `chain_id`.
    pub(crate) fn new(store: Store, chain_id: u64) -> Self {
        Self { store, chain_id }
    }
}

fn journal_error(e: agora_store::Error) -> agora_federated::Error {
    agora_federated::Error::Journal(e.to_string())
}

#[async_trait]
impl Journal for StoreJournal {
    async fn round(&self, task: u64, report: &RoundReport) -> agora_federated::Result<()> {
        let value = |a: &Address| report.values.iter().find(|(v, _)| v == a).map(|(_, x)| *x);
        let loss = |a: &Address| report.losses.iter().find(|(v, _)| v == a).map(|(_, x)| f64::from(*x));
        let samples = |a: &Address| report.samples.iter().find(|(v, _)| v == a).map_or(0, |(_, n)| *n);
        let update = |a: &Address| report.updates.iter().find(|(v, _)| v == a).map(|(_, cid)| cid.clone());
        let mut participants: Vec<FlRoundParticipant> = report
            .accepted
            .iter()
            .map(|a| FlRoundParticipant {
                account: *a,
                samples: samples(a),
                loss: loss(a),
                contribution: value(a),
                refused: None,
                update_cid: update(a),
            })
            .collect();
        participants.extend(report.refused.iter().map(|(a, why)| FlRoundParticipant {
            account: *a,
            samples: samples(a),
            loss: loss(a),
            contribution: None,
            refused: Some(why.to_string()),
            update_cid: update(a),
        }));
        participants.extend(report.left_out.iter().map(|a| FlRoundParticipant {
            account: *a,
            samples: 0,
            loss: None,
            contribution: None,
            refused: Some("left out: late or disconnected".into()),
            update_cid: None,
        }));
        let row = FlRoundRow {
            task_id: task,
            round: u64::from(report.round),
            accuracy: report.accuracy,
            // The coordinator measures accuracy, not the global model's test loss: recorded as NaN,
            // which the API shows as null.
            loss: f64::NAN,
            participants,
            aggregated_at: now(),
            record_cid: Some(report.record_cid.clone()),
            model_cid: Some(report.model_cid.clone()).filter(|cid| !cid.is_empty()),
        };
        self.store.fl_record_round(self.chain_id, &row).await.map_err(journal_error)
    }

    async fn checkpoints(&self, task: u64) -> agora_federated::Result<Vec<Checkpoint>> {
        let rows = self.store.fl_rounds(self.chain_id, task).await.map_err(journal_error)?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let round = u32::try_from(r.round).ok()?;
                Some(Checkpoint { round, record_cid: r.record_cid?, model_cid: r.model_cid? })
            })
            .collect())
    }

    async fn log(&self, task: u64, message: &str) -> agora_federated::Result<()> {
        self.store.fl_append_log(self.chain_id, task, now(), FlLogLevel::Info, message).await.map_err(journal_error)?;
        Ok(())
    }

    async fn result(&self, task: u64, result: &TaskResult) -> agora_federated::Result<()> {
        let row = FlResultRow {
            task_id: task,
            record_cid: result.record_cid.clone(),
            model_cid: Some(result.model_cid.clone()),
            kind: match result.mode {
                TaskMode::RewardPool => FlResultKind::Rewards,
                TaskMode::Shareholding => FlResultKind::Shares,
            },
            root: result.root,
            entries: result
                .payouts
                .iter()
                .map(|p| FlResultEntry { account: p.account, amount: p.amount, proof: p.proof.clone() })
                .collect(),
            posted_tx: None,
            saved_at: now(),
        };
        self.store.fl_save_result(self.chain_id, &row).await.map_err(journal_error)
    }

    async fn reference(&self, task: u64, report: &ReferenceReport) -> agora_federated::Result<()> {
        let row = FlReferenceRow {
            task_id: task,
            epochs: u64::from(report.epochs),
            epochs_per_round: u64::from(report.epochs_per_round),
            samples: report.samples,
            accuracy: report.accuracy.clone(),
            loss: report.loss.iter().map(|l| f64::from(*l)).collect(),
            seconds: report.seconds,
            updated_at: now(),
        };
        self.store.fl_save_reference(self.chain_id, &row).await.map_err(journal_error)
    }
}
