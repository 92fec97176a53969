//! The centralised reference: the task's model trained in one place on the pooled data of every
//! block, with the task's own spec (model, seed, learning rate, batch), evaluated on the same test
//! set after every epoch — what the federated run is measured against.
//!
//! It trains for [`reference_epochs`]: the federated run's rounds × local epochs (capped at
//! [`MAX_REFERENCE_EPOCHS`]), so every sample has been through the same number of SGD passes in
//! both runs and epoch `k × local epochs` sits above round `k` on the task page's chart. The
//! coordinator starts it after the last round ([`spawn`]) on a blocking thread, so no round waits
//! for it; it runs while the payouts are posted, and each epoch is journaled and broadcast as
//! [`Progress::Reference`] as soon as it ends.

use std::sync::Arc;
use std::time::Instant;

use agora_fl::rng::Rng;
use agora_fl::{Dataset, Evaluator, TrainConfig};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};

use crate::report::{Journal, Progress};
use crate::{Error, ModelKind, Result, TaskSpec};

/// The most epochs a reference trains: the default Fashion-MNIST task's 10 rounds × 1 epoch (about
/// 3 s an epoch for the MLP on 2 cores), so a longer task's reference stays a few minutes' work.
pub const MAX_REFERENCE_EPOCHS: u32 = 10;

/// The most epochs a reference trains for a CNN on 28×28 images: about 90 s an epoch on 2 cores,
/// so three (where a centralised model has converged on Fashion-MNIST) keep it under five minutes.
pub const MAX_CNN_REFERENCE_EPOCHS: u32 = 3;

/// The reference's epochs for `spec`: rounds × local epochs, at most [`MAX_REFERENCE_EPOCHS`]
/// ([`MAX_CNN_REFERENCE_EPOCHS`] for a CNN on 28×28 images).
pub fn reference_epochs(spec: &TaskSpec) -> u32 {
    let local = u32::try_from(spec.train.epochs).unwrap_or(u32::MAX);
    let cap = match spec.model {
        ModelKind::Cnn if spec.side() >= 28 => MAX_CNN_REFERENCE_EPOCHS,
        _ => MAX_REFERENCE_EPOCHS,
    };
    spec.rounds.saturating_mul(local).clamp(1, cap)
}

/// The centralised reference so far (a report per finished epoch; the last one is complete).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceReport {
    /// Epochs it will train ([`reference_epochs`]).
    pub epochs: u32,
    /// The federated run's local epochs per round: epoch `k × epochs_per_round` ends with round `k`.
    pub epochs_per_round: u32,
    /// Training samples pooled from every block.
    pub samples: u64,
    /// Test accuracy after each epoch finished so far, 0 to 1.
    pub accuracy: Vec<f64>,
    /// Mean training loss of each epoch finished so far.
    pub loss: Vec<f32>,
    /// Seconds spent training and evaluating so far.
    pub seconds: f64,
}

impl ReferenceReport {
    /// Whether every epoch has been trained.
    pub fn complete(&self) -> bool {
        self.accuracy.len() >= self.epochs as usize
    }

    /// The test accuracy after the last epoch trained so far.
    pub fn last_accuracy(&self) -> Option<f64> {
        self.accuracy.last().copied()
    }
}

/// Trains the reference on `pooled` from the task's initial model, evaluating on `test` after
/// every epoch and handing each report to `on_epoch`. Blocking: call it off the async runtime.
pub fn train(
    spec: &TaskSpec,
    pooled: &Dataset,
    test: &Evaluator,
    mut on_epoch: impl FnMut(&ReferenceReport),
) -> Result<ReferenceReport> {
    let started = Instant::now();
    let net = spec.net();
    let mut params = net.init(spec.seed);
    let config = TrainConfig { epochs: 1, ..spec.train };
    let mut report = ReferenceReport {
        epochs: reference_epochs(spec),
        epochs_per_round: u32::try_from(spec.train.epochs).unwrap_or(u32::MAX),
        samples: pooled.len() as u64,
        accuracy: Vec::new(),
        loss: Vec::new(),
        seconds: 0.0,
    };
    for epoch in 0..report.epochs {
        // One epoch at a time (its own seeded batch order) so each is evaluated as it ends.
        let seed = Rng::stream(spec.seed, &[0x00ce_7a11, u64::from(epoch)]).next_u64();
        let out = net.train(&params, pooled, &config, seed)?;
        params = out.params;
        report.accuracy.push(test.accuracy(&params)?);
        report.loss.push(out.loss);
        report.seconds = started.elapsed().as_secs_f64();
        on_epoch(&report);
    }
    Ok(report)
}

/// Starts the reference for task `task` on a blocking thread, journaling and broadcasting each
/// epoch as it ends; the handle yields the complete report, or `None` when it failed (logged:
/// the reference never stops a task).
pub(crate) fn spawn(
    task: u64,
    spec: TaskSpec,
    pooled: Dataset,
    test: Arc<Evaluator>,
    journal: Arc<dyn Journal>,
    progress: broadcast::Sender<Progress>,
) -> tokio::task::JoinHandle<Option<ReferenceReport>> {
    let (tx, mut rx) = mpsc::unbounded_channel::<ReferenceReport>();
    let training = tokio::task::spawn_blocking(move || {
        train(&spec, &pooled, &test, |report| {
            let _ = tx.send(report.clone());
        })
    });
    tokio::spawn(async move {
        let note = |message: String| {
            let (journal, progress) = (journal.clone(), progress.clone());
            async move {
                tracing::info!(task, "{message}");
                if let Err(e) = journal.log(task, &message).await {
                    tracing::warn!(task, error = %e, "journal: log");
                }
                let _ = progress.send(Progress::Log(message));
            }
        };
        note("centralised reference: training the same model on the pooled data of every block".into()).await;
        while let Some(report) = rx.recv().await {
            if let Err(e) = journal.reference(task, &report).await {
                tracing::warn!(task, error = %e, "journal: reference");
            }
            let _ = progress.send(Progress::Reference(report));
        }
        let outcome = training.await.map_err(|e| Error::Task { task, reason: format!("reference: {e}") });
        match outcome.and_then(|r| r) {
            Ok(report) => {
                let accuracy = report.last_accuracy().unwrap_or(f64::NAN);
                note(format!(
                    "centralised reference: {} epochs on {} samples, test accuracy {accuracy:.4} ({:.1} s)",
                    report.epochs, report.samples, report.seconds
                ))
                .await;
                Some(report)
            }
            Err(e) => {
                note(format!("centralised reference failed: {e}")).await;
                None
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_trains_as_long_as_the_federated_run_within_its_cap() {
        let spec = TaskSpec { rounds: 4, ..TaskSpec::digits_demo(1) };
        assert_eq!(reference_epochs(&spec), 4 * u32::try_from(spec.train.epochs).unwrap());
        let long = TaskSpec { rounds: 50, ..TaskSpec::fashion_mnist(1) };
        assert_eq!(reference_epochs(&long), MAX_REFERENCE_EPOCHS);
        let cnn = TaskSpec { model: ModelKind::Cnn, ..long.clone() };
        assert_eq!(reference_epochs(&cnn), MAX_CNN_REFERENCE_EPOCHS);
        // On 8×8 digits a CNN epoch takes a fraction of a second: the MLP's cap applies.
        let small_cnn = TaskSpec { model: ModelKind::Cnn, rounds: 50, ..TaskSpec::digits_demo(1) };
        assert_eq!(reference_epochs(&small_cnn), MAX_REFERENCE_EPOCHS);
    }
}
