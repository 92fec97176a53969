//! Payment-channel endpoints: vouchers in, channel state and the job log out.

use agora_channels::VoucherError;
use agora_store::{ChannelFilter, ChannelRow, ChannelState};
use alloy::primitives::{B256, hex};
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::ErrorBody;
use crate::{ApiError, AppState, params};

type ApiResult<T> = Result<Json<T>, ApiError>;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/channels", get(list))
        .route("/api/channels/{id}", get(one))
        .route("/api/channels/{id}/vouchers", axum::routing::post(voucher))
}

fn channel_id(raw: &str) -> Result<B256, ApiError> {
    params::b256("channel id", raw)
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Channel)]
struct ChannelDto {
    id: String,
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    payer: String,
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    payee: String,
    /// `0x000…0` for ETH.
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    token: String,
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    signer: String,
    salt: String,
    #[schema(pattern = "^[0-9]+$")]
    deposit: String,
    /// The highest voucher this node accepted (what it can settle for); "0" if none.
    #[schema(pattern = "^[0-9]+$")]
    spent: String,
    expiry: u64,
    /// `Expired`: open on chain but past its expiry (the payer may reclaim).
    state: StateDto,
    #[schema(pattern = "^[0-9]+$")]
    paid_to_payee: Option<String>,
    #[schema(pattern = "^[0-9]+$")]
    refunded_to_payer: Option<String>,
    last_voucher: Option<VoucherDto>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Voucher)]
struct VoucherDto {
    #[schema(pattern = "^[0-9]+$")]
    cumulative_amount: String,
    signature: String,
    vouchers_accepted: u64,
    updated_at: u64,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ChannelState)]
enum StateDto {
    Open,
    Expired,
    Closed,
    Reclaimed,
}

fn dto(r: ChannelRow, now: u64) -> ChannelDto {
    let state = match r.state {
        ChannelState::Open if r.expiry <= now => StateDto::Expired,
        ChannelState::Open => StateDto::Open,
        ChannelState::Closed => StateDto::Closed,
        ChannelState::Reclaimed => StateDto::Reclaimed,
    };
    ChannelDto {
        spent: r.voucher.as_ref().map_or_else(|| "0".to_owned(), |v| v.cumulative_amount.to_string()),
        last_voucher: r.voucher.map(|v| VoucherDto {
            cumulative_amount: v.cumulative_amount.to_string(),
            signature: hex::encode_prefixed(v.signature),
            vouchers_accepted: v.vouchers_accepted,
            updated_at: v.updated_at,
        }),
        id: lower_hex(r.channel_id),
        payer: lower_hex(r.payer),
        payee: lower_hex(r.payee),
        token: lower_hex(r.token),
        signer: lower_hex(r.signer),
        salt: lower_hex(r.salt),
        deposit: r.deposit.to_string(),
        expiry: r.expiry,
        state,
        paid_to_payee: r.paid_to_payee.map(|a| a.to_string()),
        refunded_to_payer: r.refunded_to_payer.map(|a| a.to_string()),
    }
}

/// Addresses and hashes as this API writes them: lower-case `0x` hex.
fn lower_hex(v: impl std::fmt::LowerHex) -> String {
    format!("{v:#x}")
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// paid by (0x hex, either case)
    #[param(pattern = "^0x[0-9a-fA-F]{40}$")]
    payer: Option<String>,
    /// paid to (0x hex, either case)
    #[param(pattern = "^0x[0-9a-fA-F]{40}$")]
    payee: Option<String>,
    /// at most this many (default 100)
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/channels", tag = "channels", params(ListQuery),
    summary = "Payment channels, newest first: all of them, or those of a payer and/or a payee",
    responses(
        (status = 200, description = "ok", body = Vec<ChannelDto>),
        (status = 400, description = "a malformed payer, payee or limit", body = ErrorBody),
    ),
)]
async fn list(State(s): State<AppState>, q: Result<Query<ListQuery>, QueryRejection>) -> ApiResult<Vec<ChannelDto>> {
    let Query(q) = q?;
    let payer = q.payer.as_deref().map(|p| params::address("payer", p)).transpose()?;
    let payee = q.payee.as_deref().map(|p| params::address("payee", p)).transpose()?;
    let limit = params::limit(q.limit, 100, 1000)?;
    let filter = ChannelFilter { payer, payee };
    let rows = s.store.channels(s.network.chain_id, filter, limit).await?;
    let now = chain_now(&s);
    Ok(Json(rows.into_iter().map(|r| dto(r, now)).collect()))
}

/// One payment channel
#[utoipa::path(get, path = "/api/channels/{id}", tag = "channels",
    params(("id" = String, Path, description = "channel id, 0x and 32 bytes of hex", pattern = "^0x[0-9a-fA-F]{64}$")),
    responses(
        (status = 200, description = "ok", body = ChannelDto),
        (status = 400, description = "malformed channel id", body = ErrorBody),
        (status = 404, description = "unknown channel", body = ErrorBody),
    ),
)]
async fn one(State(s): State<AppState>, id: Result<Path<String>, PathRejection>) -> ApiResult<ChannelDto> {
    let Path(raw) = id?;
    let id = channel_id(&raw)?;
    let row = s.store.channel(s.network.chain_id, id).await?;
    let row = row.ok_or_else(|| ApiError::NotFound(format!("channel {id} is not known on chain")))?;
    Ok(Json(dto(row, chain_now(&s))))
}

/// The time a channel's expiry is measured against: the chain's, as the ledger follows it (the wall
/// clock on a node without a ledger).
fn chain_now(s: &AppState) -> u64 {
    s.ledger.as_ref().map_or_else(agora_channels::ledger::unix_now, agora_channels::Ledger::chain_now)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct VoucherRequest {
    /// Decimal string of at most 77 digits, smallest unit.
    #[schema(pattern = "^[0-9]{1,77}$")]
    cumulative_amount: String,
    /// 65-byte EIP-712 signature `r || s || v`, 0x hex (checked by `params::bytes`, so a bad one is named).
    #[schema(pattern = "^0x([0-9a-fA-F]{2})*$")]
    signature: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct VoucherAccepted {
    channel_id: String,
    #[schema(pattern = "^[0-9]+$")]
    accepted_total: String,
}

/// Hand the payee a voucher
#[utoipa::path(post, path = "/api/channels/{id}/vouchers", tag = "channels",
    params(("id" = String, Path, description = "channel id, 0x and 32 bytes of hex", pattern = "^0x[0-9a-fA-F]{64}$")),
    request_body = VoucherRequest,
    responses(
        (status = 200, description = "accepted and stored", body = VoucherAccepted),
        (status = 400, description = "malformed channel id or voucher", body = ErrorBody),
        (status = 404, description = "the channel is not known on chain, or this node collects for no channel", body = ErrorBody),
        (status = 409, description = "stale_voucher, over_deposit, bad_signature, channel_closed, channel_expiring, channel_expired or not_payee", body = ErrorBody),
    ),
)]
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

pub(crate) fn voucher_error(e: VoucherError) -> ApiError {
    let code = match &e {
        VoucherError::UnknownChannel(_) => return ApiError::NotFound(e.to_string()),
        VoucherError::Storage(detail) => return ApiError::Internal(detail.clone()),
        VoucherError::NotPayee { .. } => "not_payee",
        VoucherError::NotOpen { .. } => "channel_closed",
        VoucherError::Expiring { .. } => "channel_expiring",
        VoucherError::Expired { .. } => "channel_expired",
        VoucherError::OverDeposit { .. } => "over_deposit",
        VoucherError::Stale { .. } => "stale_voucher",
        VoucherError::BadSignature(_) | VoucherError::WrongSigner { .. } => "bad_signature",
    };
    ApiError::Rejected { code, message: e.to_string() }
}
