//! The centralised reference a federated-learning coordinator trains beside a task
//! (`fl_references`, migration 0018): the same model trained on the pooled data of every block,
//! its test accuracy after each epoch. Node-owned: kept as the coordinator reports it, rewritten
//! after every epoch.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::column::{i64_of, u64_of};
use crate::{Error, Result, Store};

/// A task's centralised reference so far.
#[derive(Debug, Clone, PartialEq)]
pub struct FlReferenceRow {
    /// The task (its on-chain id).
    pub task_id: u64,
    /// Epochs it trains in all.
    pub epochs: u64,
    /// The federated run's local epochs per round (epoch `k × this` ends with round `k`).
    pub epochs_per_round: u64,
    /// Training samples pooled from every block.
    pub samples: u64,
    /// Test accuracy after each epoch trained so far, 0 to 1.
    pub accuracy: Vec<f64>,
    /// Mean training loss of each epoch trained so far.
    pub loss: Vec<f64>,
    /// Seconds spent so far.
    pub seconds: f64,
    /// Unix seconds of the last epoch recorded.
    pub updated_at: u64,
}

/// `payload` as stored: floats as their shortest text, so they read back bit for bit.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PayloadJson {
    epochs_per_round: u64,
    samples: u64,
    accuracy: Vec<String>,
    loss: Vec<String>,
    seconds: String,
}

fn floats(what: &str, list: &[String]) -> Result<Vec<f64>> {
    list.iter().map(|v| float(what, v)).collect()
}

fn float(what: &str, text: &str) -> Result<f64> {
    text.parse().map_err(|_| Error::Inconsistent(format!("stored {what} {text:?} does not parse")))
}

impl Store {
    /// Keeps the task's reference as it stands (a later report replaces the earlier one).
    pub async fn fl_save_reference(&self, chain_id: u64, reference: &FlReferenceRow) -> Result<()> {
        let payload = PayloadJson {
            epochs_per_round: reference.epochs_per_round,
            samples: reference.samples,
            accuracy: reference.accuracy.iter().map(f64::to_string).collect(),
            loss: reference.loss.iter().map(f64::to_string).collect(),
            seconds: reference.seconds.to_string(),
        };
        sqlx::query(
            "INSERT INTO fl_references (chain_id, task_id, epochs, payload, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (chain_id, task_id) DO UPDATE SET epochs = excluded.epochs, payload = excluded.payload, \
             updated_at = excluded.updated_at",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(reference.task_id)?)
        .bind(i64_of(reference.epochs)?)
        .bind(serde_json::to_string(&payload)?)
        .bind(i64_of(reference.updated_at)?)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The task's reference, once its first epoch is recorded.
    pub async fn fl_reference(&self, chain_id: u64, task_id: u64) -> Result<Option<FlReferenceRow>> {
        let row = sqlx::query(
            "SELECT task_id, epochs, payload, updated_at FROM fl_references WHERE chain_id = $1 AND task_id = $2",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(task_id)?)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(None) };
        let payload: PayloadJson = serde_json::from_str(&r.try_get::<String, _>(2)?)?;
        Ok(Some(FlReferenceRow {
            task_id: u64_of(r.try_get(0)?),
            epochs: u64_of(r.try_get(1)?),
            epochs_per_round: payload.epochs_per_round,
            samples: payload.samples,
            accuracy: floats("reference accuracy", &payload.accuracy)?,
            loss: floats("reference loss", &payload.loss)?,
            seconds: float("reference seconds", &payload.seconds)?,
            updated_at: u64_of(r.try_get(3)?),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::FlReferenceRow;
    use crate::testing::TestDb;

    const CHAIN: u64 = 31337;

    #[tokio::test]
    async fn a_reference_is_kept_per_task_and_replaced_by_later_epochs() -> anyhow::Result<()> {
        for db in TestDb::both().await? {
            let (s, label) = (&db.store, db.label);
            assert_eq!(s.fl_reference(CHAIN, 7).await?, None, "{label}: nothing before the first epoch");
            let mut reference = FlReferenceRow {
                task_id: 7,
                epochs: 3,
                epochs_per_round: 1,
                samples: 59_000,
                accuracy: vec![0.1 + 0.2],
                loss: vec![0.4321],
                seconds: 3.25,
                updated_at: 1_700_000_000,
            };
            s.fl_save_reference(CHAIN, &reference).await?;
            assert_eq!(s.fl_reference(CHAIN, 7).await?.as_ref(), Some(&reference), "{label}: floats bit for bit");
            reference.accuracy.push(0.8571);
            reference.loss.push(0.35);
            reference.seconds = 6.5;
            reference.updated_at += 3;
            s.fl_save_reference(CHAIN, &reference).await?;
            assert_eq!(s.fl_reference(CHAIN, 7).await?, Some(reference), "{label}: the later epoch replaces");
            assert_eq!(s.fl_reference(CHAIN, 8).await?, None, "{label}: per task");
            assert_eq!(s.fl_reference(CHAIN + 1, 7).await?, None, "{label}: per chain");
        }
        Ok(())
    }
}
