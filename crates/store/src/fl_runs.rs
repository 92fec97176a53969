//! The federated-learning coordinator's own records (`fl_rounds`, `fl_logs`, `fl_results`,
//! migration 0013): each aggregated round with its accuracy, loss and participants, the task's log,
//! and the result it computed (the payouts or shares with each account's Merkle proof). Node-owned,
//! not derived from the chain: no reorg or rebuild touches them.

use alloy::primitives::{Address, B256, U256};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::column::{self, i64_of, parsed, parsed_opt, stored_enum, u64_of};
use crate::{Error, Result, Store};

stored_enum! {
    /// How much a coordinator's log line matters.
    pub enum FlLogLevel {
        /// Progress.
        Info => "info",
        /// Something went wrong and was handled (an update refused, a participant timed out).
        Warn => "warn",
        /// Something stopped the task.
        Error => "error",
    }
}

stored_enum! {
    /// What a task's result pays: reward amounts (reward-pool mode) or shares (shareholding mode).
    pub enum FlResultKind {
        /// Amounts of the pool, claimed against a Merkle root.
        Rewards => "rewards",
        /// Shares of the model, out of 10^18.
        Shares => "shares",
    }
}

/// One participant's part in a round.
#[derive(Debug, Clone, PartialEq)]
pub struct FlRoundParticipant {
    /// The participant's account.
    pub account: Address,
    /// How many training samples its update was weighted by.
    pub samples: u64,
    /// Its local training loss, when it reported one.
    pub loss: Option<f64>,
    /// Its contribution (the round's Shapley value), when computed.
    pub contribution: Option<f64>,
    /// Why its update was refused (`None`: accepted).
    pub refused: Option<String>,
    /// The CID of its update in the content store, when it sent one and it was kept.
    pub update_cid: Option<String>,
}

/// One aggregated round of a task.
#[derive(Debug, Clone, PartialEq)]
pub struct FlRoundRow {
    /// The task (its on-chain id).
    pub task_id: u64,
    /// The round, from 1.
    pub round: u64,
    /// The global model's test accuracy after the round, 0 to 1.
    pub accuracy: f64,
    /// The global model's test loss after the round.
    pub loss: f64,
    /// Who took part, and how.
    pub participants: Vec<FlRoundParticipant>,
    /// Unix seconds it was aggregated at.
    pub aggregated_at: u64,
    /// The CID of the round's entry of the contribution record (migration 0019; `None` in rows
    /// older nodes wrote).
    pub record_cid: Option<String>,
    /// The CID of the global model after the round, which a restarted coordinator resumes from.
    pub model_cid: Option<String>,
}

/// One line of a task's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlLogRow {
    /// The task.
    pub task_id: u64,
    /// Its number in the task's log, from 1.
    pub seq: u64,
    /// Unix seconds.
    pub at: u64,
    /// How much it matters.
    pub level: FlLogLevel,
    /// What happened.
    pub message: String,
}

/// One account's part of a result: its reward or its shares, and its Merkle proof under the root
/// (empty for shares, which are posted as a list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlResultEntry {
    /// The account.
    pub account: Address,
    /// Its reward (smallest unit of the task's token) or its shares (out of 10^18).
    pub amount: U256,
    /// The sibling hashes from its leaf up to the root.
    pub proof: Vec<B256>,
}

/// A task's result as the coordinator computed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlResultRow {
    /// The task.
    pub task_id: u64,
    /// The contribution record's content id (posted with the result).
    pub record_cid: String,
    /// The final model's parameters in the content store (what answers paid predictions).
    pub model_cid: Option<String>,
    /// Rewards or shares.
    pub kind: FlResultKind,
    /// The Merkle root of the rewards (`None` for shares).
    pub root: Option<B256>,
    /// Every account's amount or shares, with its proof.
    pub entries: Vec<FlResultEntry>,
    /// The `postRewards` / `postShares` transaction, once sent.
    pub posted_tx: Option<B256>,
    /// Unix seconds it was saved at.
    pub saved_at: u64,
}

/// `participants` as stored: floats as their shortest text, so NaN and infinities survive.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParticipantJson {
    account: String,
    samples: u64,
    loss: Option<String>,
    contribution: Option<String>,
    refused: Option<String>,
    /// Absent in rounds recorded before updates were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    update_cid: Option<String>,
}

/// `payload` as stored: addresses and hashes lower-case hex, amounts decimal.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PayloadJson {
    root: Option<String>,
    /// Absent in results saved before the model was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    model_cid: Option<String>,
    entries: Vec<EntryJson>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryJson {
    account: String,
    amount: String,
    proof: Vec<String>,
}

fn corrupt(what: &str, text: &str) -> Error {
    Error::Inconsistent(format!("stored {what} {text:?} does not parse"))
}

fn float(what: &str, text: &str) -> Result<f64> {
    text.parse().map_err(|_| corrupt(what, text))
}

fn text_parsed<T: std::str::FromStr>(what: &str, text: &str) -> Result<T> {
    text.parse().map_err(|_| corrupt(what, text))
}

fn participants_json(participants: &[FlRoundParticipant]) -> Result<String> {
    let list: Vec<_> = participants
        .iter()
        .map(|p| ParticipantJson {
            account: column::hex(p.account),
            samples: p.samples,
            loss: p.loss.map(|v| v.to_string()),
            contribution: p.contribution.map(|v| v.to_string()),
            refused: p.refused.clone(),
            update_cid: p.update_cid.clone(),
        })
        .collect();
    Ok(serde_json::to_string(&list)?)
}

fn participants_of(text: &str) -> Result<Vec<FlRoundParticipant>> {
    let list: Vec<ParticipantJson> = serde_json::from_str(text)?;
    list.into_iter()
        .map(|p| {
            Ok(FlRoundParticipant {
                account: text_parsed("round participant", &p.account)?,
                samples: p.samples,
                loss: p.loss.as_deref().map(|v| float("participant loss", v)).transpose()?,
                contribution: p.contribution.as_deref().map(|v| float("participant contribution", v)).transpose()?,
                refused: p.refused,
                update_cid: p.update_cid,
            })
        })
        .collect()
}

fn round_row(r: &AnyRow) -> Result<FlRoundRow> {
    Ok(FlRoundRow {
        task_id: u64_of(r.try_get(0)?),
        round: u64_of(r.try_get(1)?),
        accuracy: float("round accuracy", &r.try_get::<String, _>(2)?)?,
        loss: float("round loss", &r.try_get::<String, _>(3)?)?,
        participants: participants_of(&r.try_get::<String, _>(4)?)?,
        aggregated_at: u64_of(r.try_get(5)?),
        record_cid: r.try_get(6)?,
        model_cid: r.try_get(7)?,
    })
}

fn result_row(r: &AnyRow) -> Result<FlResultRow> {
    let payload: PayloadJson = serde_json::from_str(&r.try_get::<String, _>(3)?)?;
    let entries = payload
        .entries
        .into_iter()
        .map(|e| {
            Ok(FlResultEntry {
                account: text_parsed("result account", &e.account)?,
                amount: U256::from_str_radix(&e.amount, 10).map_err(|_| corrupt("result amount", &e.amount))?,
                proof: e.proof.iter().map(|h| text_parsed("proof hash", h)).collect::<Result<_>>()?,
            })
        })
        .collect::<Result<_>>()?;
    Ok(FlResultRow {
        task_id: u64_of(r.try_get(0)?),
        record_cid: r.try_get(1)?,
        kind: parsed(r, 2, "result kind")?,
        root: payload.root.as_deref().map(|h| text_parsed("result root", h)).transpose()?,
        model_cid: payload.model_cid,
        entries,
        posted_tx: parsed_opt(r, 4, "result transaction")?,
        saved_at: u64_of(r.try_get(5)?),
    })
}

impl Store {
    /// Keeps one aggregated round (a round recorded again replaces the earlier record).
    pub async fn fl_record_round(&self, chain_id: u64, round: &FlRoundRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO fl_rounds (chain_id, task_id, round, accuracy, loss, participants, aggregated_at, \
             record_cid, model_cid) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (chain_id, task_id, round) DO UPDATE SET accuracy = excluded.accuracy, \
             loss = excluded.loss, participants = excluded.participants, aggregated_at = excluded.aggregated_at, \
             record_cid = excluded.record_cid, model_cid = excluded.model_cid",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(round.task_id)?)
        .bind(i64_of(round.round)?)
        .bind(round.accuracy.to_string())
        .bind(round.loss.to_string())
        .bind(participants_json(&round.participants)?)
        .bind(i64_of(round.aggregated_at)?)
        .bind(round.record_cid.clone())
        .bind(round.model_cid.clone())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The task's rounds, first to last.
    pub async fn fl_rounds(&self, chain_id: u64, task_id: u64) -> Result<Vec<FlRoundRow>> {
        let rows = sqlx::query(
            "SELECT task_id, round, accuracy, loss, participants, aggregated_at, record_cid, model_cid FROM fl_rounds \
             WHERE chain_id = $1 AND task_id = $2 ORDER BY round",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(task_id)?)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(round_row).collect()
    }

    /// Appends a line to the task's log and returns its number (1, 2, … per task). Two writers
    /// racing for the same number: the loser takes the next one.
    pub async fn fl_append_log(
        &self,
        chain_id: u64,
        task_id: u64,
        at: u64,
        level: FlLogLevel,
        message: &str,
    ) -> Result<u64> {
        let mut attempts = 0;
        loop {
            let seq = sqlx::query_scalar::<_, i64>(
                "INSERT INTO fl_logs (chain_id, task_id, seq, at, level, message) \
                 SELECT $1, $2, COALESCE(MAX(seq), 0) + 1, $3, $4, $5 FROM fl_logs WHERE chain_id = $1 AND task_id = $2 \
                 RETURNING seq",
            )
            .bind(i64_of(chain_id)?)
            .bind(i64_of(task_id)?)
            .bind(i64_of(at)?)
            .bind(level.as_str())
            .bind(message.to_owned())
            .fetch_one(self.pool())
            .await;
            match seq {
                Ok(seq) => return Ok(u64_of(seq)),
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() && attempts < 5 => attempts += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The task's log lines numbered above `after` (0: from the first), at most `limit`, in order.
    pub async fn fl_logs_after(&self, chain_id: u64, task_id: u64, after: u64, limit: u32) -> Result<Vec<FlLogRow>> {
        let rows = sqlx::query(
            "SELECT task_id, seq, at, level, message FROM fl_logs WHERE chain_id = $1 AND task_id = $2 AND seq > $3 \
             ORDER BY seq LIMIT $4",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(task_id)?)
        .bind(i64_of(after)?)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(FlLogRow {
                    task_id: u64_of(r.try_get(0)?),
                    seq: u64_of(r.try_get(1)?),
                    at: u64_of(r.try_get(2)?),
                    level: parsed(r, 3, "log level")?,
                    message: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// Keeps the task's result (saving it again replaces it, posted transaction included).
    pub async fn fl_save_result(&self, chain_id: u64, result: &FlResultRow) -> Result<()> {
        let payload = PayloadJson {
            root: result.root.map(column::hex),
            model_cid: result.model_cid.clone(),
            entries: result
                .entries
                .iter()
                .map(|e| EntryJson {
                    account: column::hex(e.account),
                    amount: e.amount.to_string(),
                    proof: e.proof.iter().map(|h| column::hex(*h)).collect(),
                })
                .collect(),
        };
        sqlx::query(
            "INSERT INTO fl_results (chain_id, task_id, record_cid, kind, payload, posted_tx, saved_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (chain_id, task_id) DO UPDATE SET \
             record_cid = excluded.record_cid, kind = excluded.kind, payload = excluded.payload, \
             posted_tx = excluded.posted_tx, saved_at = excluded.saved_at",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(result.task_id)?)
        .bind(result.record_cid.clone())
        .bind(result.kind.as_str())
        .bind(serde_json::to_string(&payload)?)
        .bind(result.posted_tx.map(column::hex))
        .bind(i64_of(result.saved_at)?)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Notes the transaction that posted the task's result; `false` when no result is saved.
    pub async fn fl_result_posted(&self, chain_id: u64, task_id: u64, tx: B256) -> Result<bool> {
        let done = sqlx::query("UPDATE fl_results SET posted_tx = $1 WHERE chain_id = $2 AND task_id = $3")
            .bind(column::hex(tx))
            .bind(i64_of(chain_id)?)
            .bind(i64_of(task_id)?)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The task's result, once saved.
    pub async fn fl_result(&self, chain_id: u64, task_id: u64) -> Result<Option<FlResultRow>> {
        let row = sqlx::query(
            "SELECT task_id, record_cid, kind, payload, posted_tx, saved_at FROM fl_results \
             WHERE chain_id = $1 AND task_id = $2",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(task_id)?)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(result_row).transpose()
    }
}

#[cfg(test)]
mod tests;
