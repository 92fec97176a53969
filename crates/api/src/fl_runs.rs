//! The federated-learning coordinator's records of a task, as its node kept them: the rounds with
//! their accuracy, loss and participants, the task's log, the result it computed (every account's
//! reward or shares with its Merkle proof), and the centralised reference it trained beside the
//! task (the same model on the pooled data, its test accuracy per epoch).

use agora_store::{FlLogLevel, FlResultKind, FlRoundRow};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::ErrorBody;
use crate::fl_market::{known_task, lower_hex};
use crate::{ApiError, AppState, params};

type ApiResult<T> = Result<Json<T>, ApiError>;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/fl/tasks/{id}/rounds", get(rounds))
        .route("/api/fl/tasks/{id}/logs", get(logs))
        .route("/api/fl/tasks/{id}/result", get(result))
        .route("/api/fl/tasks/{id}/reference", get(reference))
}

/// A float as JSON: `null` for NaN and the infinities, which JSON has no number for.
fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// One participant's part in a round.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlRoundParticipant)]
struct ParticipantDto {
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    account: String,
    /// The training samples its update was weighted by.
    samples: u64,
    /// Its local training loss (null: none reported, or not a finite number).
    loss: Option<f64>,
    /// Its contribution in the round (Shapley value).
    contribution: Option<f64>,
    /// Why its update was refused; absent when it was accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    refused: Option<String>,
    /// Its update in the content store (`GET /ipfs/{cid}`: the delta as little-endian f32, then the
    /// samples as a little-endian u64; their SHA-256 is the record's `update_hash`); null when none
    /// was received or kept.
    update_cid: Option<String>,
}

/// One aggregated round.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlRound)]
struct RoundDto {
    round: u64,
    /// The global model's test accuracy after the round, 0 to 1 (null: not a finite number).
    accuracy: Option<f64>,
    /// The global model's test loss after the round.
    loss: Option<f64>,
    participants: Vec<ParticipantDto>,
    /// Unix seconds.
    aggregated_at: u64,
    /// The round's entry of the contribution record (its coalition utilities) in the content store
    /// (`GET /ipfs/{cid}`); null in rounds an older node recorded.
    record_cid: Option<String>,
    /// The global model after the round (little-endian f32), likewise.
    model_cid: Option<String>,
}

fn round_dto(r: FlRoundRow) -> RoundDto {
    RoundDto {
        round: r.round,
        accuracy: finite(r.accuracy),
        loss: finite(r.loss),
        participants: r
            .participants
            .into_iter()
            .map(|p| ParticipantDto {
                account: lower_hex(p.account),
                samples: p.samples,
                loss: p.loss.and_then(finite),
                contribution: p.contribution.and_then(finite),
                refused: p.refused,
                update_cid: p.update_cid,
            })
            .collect(),
        aggregated_at: r.aggregated_at,
        record_cid: r.record_cid,
        model_cid: r.model_cid,
    }
}

/// A task's rounds
#[utoipa::path(get, path = "/api/fl/tasks/{id}/rounds", tag = "fl", operation_id = "fl_rounds",
    summary = "The task's aggregated rounds, first to last, as its coordinator recorded them (empty on a node that does not coordinate it)",
    params(("id" = u64, Path, description = "the task's id", maximum = 9223372036854775807_u64)),
    responses(
        (status = 200, description = "ok", body = Vec<RoundDto>),
        (status = 400, description = "malformed id", body = ErrorBody),
        (status = 404, description = "unknown task", body = ErrorBody),
    ),
)]
async fn rounds(State(s): State<AppState>, id: Result<Path<String>, PathRejection>) -> ApiResult<Vec<RoundDto>> {
    let Path(raw) = id?;
    let task = known_task(&s, &raw).await?;
    let rows = s.store.fl_rounds(s.network.chain_id, task.task_id).await?;
    Ok(Json(rows.into_iter().map(round_dto).collect()))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = FlLogLevel)]
enum LevelDto {
    Info,
    Warn,
    Error,
}

/// One line of a task's log.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlLogLine)]
struct LogDto {
    /// Its number in the task's log, from 1.
    seq: u64,
    /// Unix seconds.
    at: u64,
    level: LevelDto,
    message: String,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct LogsQuery {
    /// only lines numbered above this (default 0: from the first)
    after: Option<u64>,
    /// at most this many (default 200)
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// A task's log
#[utoipa::path(get, path = "/api/fl/tasks/{id}/logs", tag = "fl", operation_id = "fl_logs",
    summary = "The coordinator's log of the task, in order, after a line number",
    params(("id" = u64, Path, description = "the task's id", maximum = 9223372036854775807_u64), LogsQuery),
    responses(
        (status = 200, description = "ok", body = Vec<LogDto>),
        (status = 400, description = "malformed id, after or limit", body = ErrorBody),
        (status = 404, description = "unknown task", body = ErrorBody),
    ),
)]
async fn logs(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<LogsQuery>, QueryRejection>,
) -> ApiResult<Vec<LogDto>> {
    let Path(raw) = id?;
    let Query(q) = q?;
    let limit = params::limit(q.limit, 200, 1000)?;
    let after = q.after.unwrap_or(0);
    if after > params::MAX_ID {
        return Err(ApiError::BadRequest(format!("after {after} is out of range: give 0 to {}", params::MAX_ID)));
    }
    let task = known_task(&s, &raw).await?;
    let rows = s.store.fl_logs_after(s.network.chain_id, task.task_id, after, limit).await?;
    Ok(Json(
        rows.into_iter()
            .map(|l| LogDto {
                seq: l.seq,
                at: l.at,
                level: match l.level {
                    FlLogLevel::Info => LevelDto::Info,
                    FlLogLevel::Warn => LevelDto::Warn,
                    FlLogLevel::Error => LevelDto::Error,
                },
                message: l.message,
            })
            .collect(),
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = FlResultKind)]
enum KindDto {
    Rewards,
    Shares,
}

/// One account's part of a result.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlResultEntry)]
struct EntryDto {
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    account: String,
    /// Its reward (smallest unit of the task's token) or its shares (out of 10^18).
    #[schema(pattern = "^[0-9]+$")]
    amount: String,
    /// Sibling hashes from its leaf to the root: what `claimReward` takes (empty for shares).
    proof: Vec<String>,
}

/// A task's result as its coordinator computed it.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlResult)]
struct ResultDto {
    task_id: u64,
    /// The contribution record's content id.
    record_cid: String,
    kind: KindDto,
    /// The Merkle root of the rewards (absent for shares).
    #[schema(pattern = "^0x[0-9a-f]{64}$")]
    root: Option<String>,
    /// Every account's part; with `?account=`, that account's only.
    entries: Vec<EntryDto>,
    /// The transaction that posted it, once sent.
    #[schema(pattern = "^0x[0-9a-f]{64}$")]
    posted_tx: Option<String>,
    /// Unix seconds.
    saved_at: u64,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ResultQuery {
    /// only this account's amount and proof (0x hex, either case)
    #[param(pattern = "^0x[0-9a-fA-F]{40}$")]
    account: Option<String>,
}

/// A task's result
#[utoipa::path(get, path = "/api/fl/tasks/{id}/result", tag = "fl", operation_id = "fl_result",
    summary = "The task's payouts or shares with each account's Merkle proof, as its coordinator computed them",
    params(("id" = u64, Path, description = "the task's id", maximum = 9223372036854775807_u64), ResultQuery),
    responses(
        (status = 200, description = "ok", body = ResultDto),
        (status = 400, description = "malformed id or account", body = ErrorBody),
        (status = 404, description = "unknown task, no result yet, or the account has no part in it", body = ErrorBody),
    ),
)]
async fn result(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<ResultQuery>, QueryRejection>,
) -> ApiResult<ResultDto> {
    let Path(raw) = id?;
    let Query(q) = q?;
    let account = q.account.as_deref().map(|a| params::address("account", a)).transpose()?;
    let task = known_task(&s, &raw).await?;
    let row = s.store.fl_result(s.network.chain_id, task.task_id).await?;
    let row = row.ok_or_else(|| ApiError::NotFound(format!("task {} has no result on this node", task.task_id)))?;
    let mut entries = row.entries;
    if let Some(account) = account {
        entries.retain(|e| e.account == account);
        if entries.is_empty() {
            return Err(ApiError::NotFound(format!("{account} has no part in task {}'s result", task.task_id)));
        }
    }
    Ok(Json(ResultDto {
        task_id: row.task_id,
        record_cid: row.record_cid,
        kind: match row.kind {
            FlResultKind::Rewards => KindDto::Rewards,
            FlResultKind::Shares => KindDto::Shares,
        },
        root: row.root.map(lower_hex),
        entries: entries
            .into_iter()
            .map(|e| EntryDto {
                account: lower_hex(e.account),
                amount: e.amount.to_string(),
                proof: e.proof.into_iter().map(lower_hex).collect(),
            })
            .collect(),
        posted_tx: row.posted_tx.map(lower_hex),
        saved_at: row.saved_at,
    }))
}

/// The centralised reference: the task's model trained on the pooled data of every block with the
/// same spec, for as many epochs as the federated run's rounds × local epochs (at most 10).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlReference)]
struct ReferenceDto {
    task_id: u64,
    /// Epochs it trains in all.
    epochs: u64,
    /// The federated run's local epochs per round: epoch `k × epochsPerRound` ends with round `k`.
    epochs_per_round: u64,
    /// Training samples pooled from every block.
    samples: u64,
    /// Test accuracy after each epoch trained so far, 0 to 1 (null: not a finite number).
    accuracy: Vec<Option<f64>>,
    /// Mean training loss of each epoch trained so far.
    loss: Vec<Option<f64>>,
    /// Seconds the coordinator has spent on it.
    seconds: f64,
    /// Every epoch trained.
    complete: bool,
    /// Unix seconds of its last epoch.
    updated_at: u64,
}

/// A task's centralised reference
#[utoipa::path(get, path = "/api/fl/tasks/{id}/reference", tag = "fl", operation_id = "fl_reference",
    summary = "The centralised reference the coordinator trains after the last round: the same model on the pooled data, its test accuracy per epoch so far",
    params(("id" = u64, Path, description = "the task's id", maximum = 9223372036854775807_u64)),
    responses(
        (status = 200, description = "ok", body = ReferenceDto),
        (status = 400, description = "malformed id", body = ErrorBody),
        (status = 404, description = "unknown task, or no epoch of its reference trained on this node yet", body = ErrorBody),
    ),
)]
async fn reference(State(s): State<AppState>, id: Result<Path<String>, PathRejection>) -> ApiResult<ReferenceDto> {
    let Path(raw) = id?;
    let task = known_task(&s, &raw).await?;
    let row = s.store.fl_reference(s.network.chain_id, task.task_id).await?;
    let row = row.ok_or_else(|| {
        ApiError::NotFound(format!("task {} has no centralised reference on this node yet", task.task_id))
    })?;
    Ok(Json(ReferenceDto {
        task_id: row.task_id,
        epochs: row.epochs,
        epochs_per_round: row.epochs_per_round,
        samples: row.samples,
        complete: row.accuracy.len() as u64 >= row.epochs,
        accuracy: row.accuracy.into_iter().map(finite).collect(),
        loss: row.loss.into_iter().map(finite).collect(),
        seconds: row.seconds,
        updated_at: row.updated_at,
    }))
}
