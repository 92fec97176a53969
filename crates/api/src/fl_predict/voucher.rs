//! Predictions paid by a voucher on a payment channel to the node's fee receiver (the payee its
//! ledger collects for). The request carries the image, the channel, a cumulative voucher for
//! everything the channel was billed so far plus this fee, and an idempotency key. The node runs
//! the model first (nothing is charged for an input it cannot answer), has the ledger check and
//! store the voucher, then records the charge and the answer in one transaction that moves the
//! channel's billed total only if it did not move meanwhile. A retried key is answered from the
//! record and never charged again. The receiver forwards the fees on chain with
//! `payPredictionFees` (`agora fl forward-fees`); `GET /api/fl/fees` shows what it owes per task.

use agora_channels::VoucherError;
use agora_store::{FlTaskRow, FlVoucherPrediction};
use alloy::primitives::{Address, B256, U256, keccak256};
use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};

use super::{Answer, Prediction};
use crate::channels::voucher_error;
use crate::error::ErrorBody;
use crate::{ApiError, AppState, params};

/// The longest idempotency key.
const MAX_KEY: usize = 128;

/// A voucher paying for one prediction.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = FlVoucherPayment)]
pub(crate) struct VoucherPayment {
    /// The channel (its payee must be the node's fee receiver, its token the task's).
    #[schema(pattern = "^0x[0-9a-fA-F]{64}$")]
    channel_id: String,
    /// The voucher's cumulative amount: what the channel was billed so far plus this fee, exactly.
    #[schema(pattern = "^[0-9]{1,77}$")]
    cumulative_amount: String,
    /// 65-byte EIP-712 signature by the channel's signer, 0x hex.
    #[schema(pattern = "^0x([0-9a-fA-F]{2})*$")]
    signature: String,
    /// The client's idempotency key (1–128 of `A–Z a–z 0–9 - _`, a UUID say): the same key again is
    /// answered without a second charge.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,128}$")]
    key: String,
}

/// How a voucher paid for a prediction.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlVoucherPaid)]
pub(crate) struct PaymentDto {
    channel_id: String,
    /// The task's fee.
    #[schema(pattern = "^[0-9]+$")]
    fee: String,
    /// The channel's billed total with this fee (the voucher's amount).
    #[schema(pattern = "^[0-9]+$")]
    cumulative: String,
    /// False when this answers a retried key: nothing was charged this time.
    charged: bool,
}

fn refuse(code: &'static str, message: String) -> ApiError {
    ApiError::Rejected { code, message }
}

fn checked_key(raw: &str) -> Result<String, ApiError> {
    let ok = !raw.is_empty()
        && raw.len() <= MAX_KEY
        && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(ApiError::BadRequest(format!("voucher.key: 1 to {MAX_KEY} of A-Z a-z 0-9 - _, got {raw:?}")))
    }
}

/// The fee receiver: the one payee the node's ledger collects for.
fn receiver(s: &AppState) -> Result<(&agora_channels::Ledger, Address), ApiError> {
    let ledger = s.ledger.as_ref().ok_or_else(|| ApiError::NotFound("this node takes no payment by voucher".into()))?;
    let payee =
        ledger.payees().first().copied().ok_or_else(|| {
            ApiError::Internal("the ledger collects for any payee: no fee receiver is configured".into())
        })?;
    Ok((ledger, payee))
}

fn prediction(p: &FlVoucherPrediction, charged: bool) -> Result<Prediction, ApiError> {
    let a: Answer = serde_json::from_str(&p.answer)
        .map_err(|e| ApiError::Internal(format!("stored answer {}: {e}", p.request_key)))?;
    Ok(Prediction {
        request_id: p.request_key.clone(),
        class: a.class,
        label: a.label,
        confidence: a.confidence,
        probabilities: a.probabilities,
        payment: Some(PaymentDto {
            channel_id: p.channel_id.to_string(),
            fee: p.fee.to_string(),
            cumulative: p.cumulative.to_string(),
            charged,
        }),
    })
}

/// Charges `v` for a prediction of `task` on `pixels` and answers it (see the module's note).
pub(super) async fn pay_and_answer(
    s: &AppState,
    task: &FlTaskRow,
    pixels: Vec<u8>,
    v: VoucherPayment,
) -> Result<Prediction, ApiError> {
    let key = checked_key(&v.key)?;
    let channel_id = params::b256("voucher.channelId", &v.channel_id)?;
    let amount = params::amount("voucher.cumulativeAmount", &v.cumulative_amount)?;
    let signature = params::bytes("voucher.signature", &v.signature)?;
    let (ledger, fee_receiver) = receiver(s)?;
    let chain = s.network.chain_id;
    let input_hash = keccak256(&pixels);
    let task_id = task.task_id;
    if let Some(done) = s.store.fl_voucher_prediction(chain, &key).await? {
        if done.task_id != task_id || done.channel_id != channel_id || done.input_hash != input_hash {
            return Err(refuse(
                "idempotency_conflict",
                format!(
                    "key {key} already paid for another prediction (task {}, another input or channel)",
                    done.task_id
                ),
            ));
        }
        return prediction(&done, false);
    }
    let fee = task.prediction_fee;
    if fee.is_zero() {
        return Err(refuse("not_offered", format!("task {task_id}'s model is not offered for paid predictions")));
    }
    let channel = s
        .store
        .channel(chain, channel_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("channel {channel_id} is not known on chain")))?;
    if channel.payee != fee_receiver {
        return Err(refuse(
            "not_payee",
            format!("channel {channel_id} pays {}, but prediction fees are paid to {fee_receiver}", channel.payee),
        ));
    }
    if channel.token != task.token {
        return Err(refuse(
            "wrong_token",
            format!("channel {channel_id} pays in {}, task {task_id}'s fee is in {}", channel.token, task.token),
        ));
    }
    // The model first: nothing is charged for an input it cannot answer.
    let answer = super::answer(s, task, &pixels).await?;
    // While the assistant streams a reply on this channel its billed total must not move.
    let _hold = match &s.assistant {
        Some(a) => Some(a.hold_channel(channel_id, &key).map_err(|r| refuse("busy", r.message))?),
        None => None,
    };
    let billed = s.store.assistant_billed(chain, channel_id).await?;
    let expected = billed + fee;
    if amount != expected {
        return Err(refuse(
            "wrong_amount",
            format!(
                "this prediction costs {fee} and the channel was billed {billed} before it: sign a voucher for \
                 {expected}, not {amount}"
            ),
        ));
    }
    match ledger.submit(channel_id, amount, &signature).await {
        Ok(_) => {}
        // Stored by an earlier try that did not get to record the charge: the same voucher pays it.
        Err(VoucherError::Stale { amount, accepted }) if amount == accepted => {}
        Err(e) => return Err(voucher_error(e)),
    }
    if let Some(a) = &s.assistant {
        // The assistant keeps what the channel paid in memory; the same voucher again (stale but
        // equal, so free) raises it, so its next reply starts from the new total.
        if let Err(r) = a.pay(channel_id, amount, &alloy::primitives::hex::encode_prefixed(&signature)).await {
            tracing::warn!(channel = %channel_id, refusal = %r.message, "the assistant did not take the prediction's voucher");
        }
    }
    let record = FlVoucherPrediction {
        request_key: key.clone(),
        task_id,
        channel_id,
        payer: channel.payer,
        input_hash,
        token: task.token,
        fee,
        cumulative: amount,
        answer: serde_json::to_string(&answer).map_err(|e| ApiError::Internal(format!("answer: {e}")))?,
        created_at: agora_channels::ledger::unix_now(),
    };
    if !s.store.record_fl_voucher_prediction(chain, &record, billed).await? {
        // Another charge on the channel (or this key) landed between the check and the record.
        if let Some(done) = s.store.fl_voucher_prediction(chain, &key).await?
            && done.task_id == task_id
            && done.input_hash == input_hash
            && done.channel_id == channel_id
        {
            return prediction(&done, false);
        }
        return Err(refuse(
            "busy",
            "another payment on this channel was recorded first; ask again with a voucher for the new total".into(),
        ));
    }
    prediction(&record, true)
}

/// Where prediction fees are paid, and per task what the node recorded against what its fee
/// receiver forwarded on chain.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlFees)]
pub(crate) struct FeesDto {
    /// Channels paying for predictions must pay this address.
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    fee_receiver: String,
    chain_id: u64,
    /// The PaymentChannel contract.
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    channel_contract: String,
    /// The last block the indexer stored, read before the figures: `forwarded` counts the
    /// `PredictionFeesPaid` events up to it at least (null before the first block).
    indexed_block: Option<u64>,
    tasks: Vec<FeeBalanceDto>,
}

/// One task's fees paid by vouchers.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlFeeBalance)]
pub(crate) struct FeeBalanceDto {
    task_id: u64,
    /// Predictions paid by vouchers, as recorded by this node.
    recorded: u64,
    #[schema(pattern = "^[0-9]+$")]
    recorded_amount: String,
    /// Predictions whose fees the receiver paid into FederatedMarket (indexed `PredictionFeesPaid`).
    forwarded: u64,
    #[schema(pattern = "^[0-9]+$")]
    forwarded_amount: String,
    /// Predictions still to forward.
    owed: u64,
}

/// The fee receiver of predictions paid by vouchers, and what it owes each task
#[utoipa::path(get, path = "/api/fl/fees", tag = "fl", operation_id = "fl_fees", responses(
    (status = 200, description = "ok", body = FeesDto),
    (status = 404, description = "this node takes no payment by voucher", body = ErrorBody),
))]
pub(crate) async fn fees(State(s): State<AppState>) -> Result<Json<FeesDto>, ApiError> {
    let (_, fee_receiver) = receiver(&s)?;
    let chain = s.network.chain_id;
    let indexed_block = s.store.cursor(chain).await?.map(|c| c.block_number);
    let tasks = s
        .store
        .fl_fee_balances(chain, fee_receiver)
        .await?
        .into_iter()
        .map(|b| FeeBalanceDto {
            task_id: b.task_id,
            recorded: b.recorded,
            recorded_amount: b.recorded_amount.to_string(),
            forwarded: b.forwarded,
            forwarded_amount: b.forwarded_amount.to_string(),
            owed: b.owed(),
        })
        .collect();
    Ok(Json(FeesDto {
        fee_receiver: format!("{fee_receiver:#x}"),
        chain_id: chain,
        channel_contract: format!("{:#x}", s.network.payment_channel),
        indexed_block,
        tasks,
    }))
}

/// A channel's account for predictions.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlChannelPredictions)]
pub(crate) struct ChannelAccountDto {
    channel_id: String,
    /// Everything the node billed the channel (predictions and assistant replies).
    #[schema(pattern = "^[0-9]+$")]
    billed: String,
    /// The highest voucher the ledger stored.
    #[schema(pattern = "^[0-9]+$")]
    accepted: String,
    /// Newest first, at most 50.
    predictions: Vec<ChannelPredictionDto>,
}

/// One prediction a channel paid for.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlChannelPrediction)]
pub(crate) struct ChannelPredictionDto {
    key: String,
    task_id: u64,
    #[schema(pattern = "^[0-9]+$")]
    fee: String,
    #[schema(pattern = "^[0-9]+$")]
    cumulative: String,
    input_hash: String,
    created_at: u64,
}

/// A channel's predictions paid by vouchers, and its billed and paid totals
#[utoipa::path(get, path = "/api/fl/channels/{id}/predictions", tag = "fl", operation_id = "fl_channel_predictions",
    params(("id" = String, Path, description = "channel id, 0x and 32 bytes of hex", pattern = "^0x[0-9a-fA-F]{64}$")),
    responses(
        (status = 200, description = "ok", body = ChannelAccountDto),
        (status = 400, description = "malformed channel id", body = ErrorBody),
    ),
)]
pub(crate) async fn channel_account(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<ChannelAccountDto>, ApiError> {
    let Path(raw) = id?;
    let channel_id: B256 = params::b256("channel id", &raw)?;
    let chain = s.network.chain_id;
    let billed: U256 = s.store.assistant_billed(chain, channel_id).await?;
    let accepted = s.store.accepted_voucher(chain, channel_id).await?;
    let predictions = s
        .store
        .fl_channel_predictions(chain, channel_id, 50)
        .await?
        .into_iter()
        .map(|p| ChannelPredictionDto {
            key: p.request_key,
            task_id: p.task_id,
            fee: p.fee.to_string(),
            cumulative: p.cumulative.to_string(),
            input_hash: p.input_hash.to_string(),
            created_at: p.created_at,
        })
        .collect();
    Ok(Json(ChannelAccountDto {
        channel_id: channel_id.to_string(),
        billed: billed.to_string(),
        accepted: accepted.to_string(),
        predictions,
    }))
}
