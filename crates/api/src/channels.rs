//! Payment-channel endpoints: vouchers in, channel state and the job log out.

use agora_channels::VoucherError;
use agora_store::{ChannelFilter, ChannelRow, ChannelState, JobRun};
use alloy::primitives::B256;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::{ApiError, AppState, params};

type ApiResult<T> = Result<Json<T>, ApiError>;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/channels", get(list))
        .route("/api/channels/{id}", get(one))
        .route("/api/channels/{id}/vouchers", axum::routing::post(voucher))
        .route("/api/admin/jobs", get(jobs))
}

fn channel_id(raw: &str) -> Result<B256, ApiError> {
    params::b256("channel id", raw)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChannelDto {
    id: String,
    payer: String,
    payee: String,
    /// `0x000…0` for ETH.
    token: String,
    signer: String,
    salt: String,
    deposit: String,
    /// The highest voucher this node accepted (what it can settle for); "0" if none.
    spent: String,
    expiry: u64,
    /// `Open`, `Closed`, `Reclaimed`, or `Expired` (open on chain but past its expiry: the payer may reclaim).
    state: &'static str,
    paid_to_payee: Option<String>,
    refunded_to_payer: Option<String>,
    last_voucher: Option<VoucherDto>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VoucherDto {
    cumulative_amount: String,
    signature: String,
    vouchers_accepted: u64,
    updated_at: u64,
}

fn dto(r: ChannelRow, now: u64) -> ChannelDto {
    let state = match r.state {
        ChannelState::Open if r.expiry <= now => "Expired",
        s => s.as_str(),
    };
    ChannelDto {
        spent: r.voucher.as_ref().map_or_else(|| "0".to_owned(), |v| v.cumulative_amount.clone()),
        last_voucher: r.voucher.map(|v| VoucherDto {
            cumulative_amount: v.cumulative_amount,
            signature: v.signature,
            vouchers_accepted: v.vouchers_accepted,
            updated_at: v.updated_at,
        }),
        id: r.channel_id,
        payer: r.payer,
        payee: r.payee,
        token: r.token,
        signer: r.signer,
        salt: r.salt,
        deposit: r.deposit,
        expiry: r.expiry,
        state,
        paid_to_payee: r.paid_to_payee,
        refunded_to_payer: r.refunded_to_payer,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    payer: Option<String>,
    payee: Option<String>,
    limit: Option<u32>,
}

/// Channels, newest first: all of them, or those of a payer and/or a payee.
async fn list(State(s): State<AppState>, q: Result<Query<ListQuery>, QueryRejection>) -> ApiResult<Vec<ChannelDto>> {
    let Query(q) = q?;
    let payer = q.payer.as_deref().map(|p| params::address_key("payer", p)).transpose()?;
    let payee = q.payee.as_deref().map(|p| params::address_key("payee", p)).transpose()?;
    let limit = params::limit(q.limit, 100, 1000)?;
    let filter = ChannelFilter { payer: payer.as_deref(), payee: payee.as_deref() };
    let rows = s.store.channels(s.network.chain_id, filter, limit).await?;
    let now = agora_channels::ledger::unix_now();
    Ok(Json(rows.into_iter().map(|r| dto(r, now)).collect()))
}

async fn one(State(s): State<AppState>, id: Result<Path<String>, PathRejection>) -> ApiResult<ChannelDto> {
    let Path(raw) = id?;
    let id = channel_id(&raw)?;
    let row = s.store.channel(s.network.chain_id, &id.to_string()).await?;
    let row = row.ok_or_else(|| ApiError::NotFound(format!("channel {id} is not known on chain")))?;
    Ok(Json(dto(row, agora_channels::ledger::unix_now())))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct VoucherRequest {
    /// Decimal string, smallest unit.
    cumulative_amount: String,
    /// 65-byte `r || s || v`, 0x-hex (checked by `params::bytes`, so a bad one is named).
    signature: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VoucherAccepted {
    channel_id: String,
    accepted_total: String,
}

async fn voucher(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    body: Result<Json<VoucherRequest>, JsonRejection>,
) -> ApiResult<VoucherAccepted> {
    let Path(raw) = id?;
    let id = channel_id(&raw)?;
    let Json(req) = body?;
    let amount = params::amount("cumulativeAmount", &req.cumulative_amount)?;
    let signature = params::bytes("signature", &req.signature)?;
    let ledger = s.ledger.as_ref().ok_or_else(|| ApiError::NotFound("this node collects for no channel".into()))?;
    match ledger.submit(id, amount, &signature).await {
        Ok(total) => Ok(Json(VoucherAccepted { channel_id: id.to_string(), accepted_total: total.to_string() })),
        Err(e) => Err(voucher_error(e)),
    }
}

fn voucher_error(e: VoucherError) -> ApiError {
    let code = match &e {
        VoucherError::UnknownChannel(_) => return ApiError::NotFound(e.to_string()),
        VoucherError::Storage(detail) => return ApiError::Internal(detail.clone()),
        VoucherError::NotPayee { .. } => "not_payee",
        VoucherError::NotOpen { .. } => "channel_closed",
        VoucherError::Expiring { .. } => "channel_expiring",
        VoucherError::OverDeposit { .. } => "over_deposit",
        VoucherError::Stale { .. } => "stale_voucher",
        VoucherError::BadSignature(_) | VoucherError::WrongSigner { .. } => "bad_signature",
    };
    ApiError::Rejected { code, message: e.to_string() }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JobRunDto {
    job: String,
    started_at_ms: u64,
    finished_at_ms: u64,
    channels_touched: u64,
    errors: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobsQuery {
    limit: Option<u32>,
}

async fn jobs(State(s): State<AppState>, q: Result<Query<JobsQuery>, QueryRejection>) -> ApiResult<Vec<JobRunDto>> {
    let Query(q) = q?;
    let runs = s.store.job_runs(params::limit(q.limit, 50, 500)?).await?;
    Ok(Json(
        runs.into_iter()
            .map(|r: JobRun| JobRunDto {
                job: r.job,
                started_at_ms: r.started_at_ms,
                finished_at_ms: r.finished_at_ms,
                channels_touched: r.channels_touched,
                errors: r.errors,
            })
            .collect(),
    ))
}
