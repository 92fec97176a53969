//! An account's assets across the federated-learning market: its memberships, shares, reward
//! claims, dividends, the predictions it paid for, and its revenue as an investor.

use agora_store::FlAccountAssets;
use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde::Serialize;

use crate::error::ErrorBody;
use crate::fl_market::{ClaimDto, MemberDto, ShareDto, claim_dto, dec, lower_hex, member_dto, share_dto};
use crate::{ApiError, AppState, params};

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Dividends paid to a shareholder.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlDividend)]
struct DividendDto {
    task_id: u64,
    #[schema(pattern = "^[0-9]+$")]
    amount: String,
    block_number: u64,
    #[schema(pattern = "^0x[0-9a-f]{64}$")]
    tx_hash: String,
}

/// A paid prediction.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlPaidPrediction)]
struct PredictionDto {
    request_id: u64,
    task_id: u64,
    #[schema(pattern = "^[0-9]+$")]
    fee: String,
    /// The content hash of the input.
    #[schema(pattern = "^0x[0-9a-f]{64}$")]
    input_hash: String,
    block_number: u64,
    #[schema(pattern = "^0x[0-9a-f]{64}$")]
    tx_hash: String,
    requested_at: u64,
}

/// What one task paid its investor.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlRevenue)]
struct RevenueDto {
    task_id: u64,
    /// Predictions whose fee went to the investor (reward-pool mode only).
    predictions: u64,
    /// What they paid, in the task's token.
    #[schema(pattern = "^[0-9]+$")]
    prediction_fees: String,
    /// Block payments received, in the task's block token.
    #[schema(pattern = "^[0-9]+$")]
    block_revenue: String,
}

/// Everything one account has in the federated-learning market.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlAccount)]
pub(crate) struct AccountDto {
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    address: String,
    /// Tasks it joined (now or before), newest task first.
    memberships: Vec<MemberDto>,
    /// Its shares per task.
    shares: Vec<ShareDto>,
    /// Rewards it claimed.
    claims: Vec<ClaimDto>,
    /// Dividends it withdrew, newest first.
    dividends: Vec<DividendDto>,
    /// Predictions it paid for, newest first.
    predictions: Vec<PredictionDto>,
    /// What the tasks it created paid it, newest task first.
    revenue: Vec<RevenueDto>,
}

fn account_dto(address: String, a: FlAccountAssets) -> AccountDto {
    AccountDto {
        address,
        memberships: a.memberships.into_iter().map(member_dto).collect(),
        shares: a.shares.into_iter().map(share_dto).collect(),
        claims: a.claims.into_iter().map(claim_dto).collect(),
        dividends: a
            .dividends
            .into_iter()
            .map(|d| DividendDto {
                task_id: d.task_id,
                amount: dec(d.amount),
                block_number: d.block_number,
                tx_hash: lower_hex(d.tx_hash),
            })
            .collect(),
        predictions: a
            .predictions
            .into_iter()
            .map(|p| PredictionDto {
                request_id: p.request_id,
                task_id: p.task_id,
                fee: dec(p.fee),
                input_hash: lower_hex(p.input_hash),
                block_number: p.block_number,
                tx_hash: lower_hex(p.tx_hash),
                requested_at: p.requested_at,
            })
            .collect(),
        revenue: a
            .revenue
            .into_iter()
            .map(|r| RevenueDto {
                task_id: r.task_id,
                predictions: r.predictions,
                prediction_fees: dec(r.prediction_fees),
                block_revenue: dec(r.block_revenue),
            })
            .collect(),
    }
}

/// An account's federated-learning assets
#[utoipa::path(get, path = "/api/fl/accounts/{address}", tag = "fl", operation_id = "fl_account",
    summary = "An account's memberships, shares, claims, dividends, paid predictions and revenue as an investor (empty lists for an account with none)",
    params(("address" = String, Path, description = "the account, 0x hex", pattern = "^0x[0-9a-fA-F]{40}$")),
    responses(
        (status = 200, description = "ok", body = AccountDto),
        (status = 400, description = "malformed address", body = ErrorBody),
    ),
)]
pub(crate) async fn account(
    State(s): State<AppState>,
    a: Result<Path<String>, PathRejection>,
) -> ApiResult<AccountDto> {
    let Path(raw) = a?;
    let address = params::address("account", &raw)?;
    let assets = s.store.fl_account(s.network.chain_id, address).await?;
    Ok(Json(account_dto(lower_hex(address), assets)))
}
