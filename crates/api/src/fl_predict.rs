//! The federated-learning market's two writes through the node: a task's spec put in the content
//! store (its CID is what `createTask` records, and where the coordinator reads it), and a paid
//! prediction answered by a finished task's model. The payment is on chain
//! (`requestPrediction(taskId, keccak256(pixels))`: the node answers a request it has indexed, for
//! the input whose hash the payer committed to) or a voucher on a payment channel to the node's fee
//! receiver ([`voucher`]: checked by the ledger, charged once per idempotency key).

use agora_content::ContentStore;
use agora_federated::TaskSpec;
use agora_federated::serving::{ModelCache, ServeError, ServedModel};
use agora_store::FlTaskState;
use alloy::primitives::keccak256;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::ErrorBody;
use crate::{ApiError, AppState, params};

pub(crate) mod voucher;

/// Finished tasks' models kept ready to answer, by (spec CID, model CID). A model is 199k
/// parameters (0.8 MB).
static MODELS: ModelCache = ModelCache::new(8);

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/fl/specs", post(put_spec))
        .route("/api/fl/tasks/{id}/predict", post(predict))
        .route("/api/fl/fees", axum::routing::get(voucher::fees))
        .route("/api/fl/channels/{id}/predictions", axum::routing::get(voucher::channel_account))
}

/// A spec's content id.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = FlSpecCid)]
pub(crate) struct SpecCid {
    /// Pass it as `spec` to `createTask`.
    cid: String,
}

/// Store a task spec (the TaskSpec JSON, version 2; version 1 is still read) and get its CID
#[utoipa::path(post, path = "/api/fl/specs", tag = "fl", operation_id = "fl_put_spec", request_body = Object, responses(
    (status = 200, description = "stored", body = SpecCid),
    (status = 400, description = "not a valid spec", body = ErrorBody),
))]
pub(crate) async fn put_spec(
    State(s): State<AppState>,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Json<SpecCid>, ApiError> {
    let Json(body) = body?;
    let invalid = |message: String| ApiError::Invalid { code: "invalid_spec", message };
    let spec: TaskSpec = serde_json::from_value(body).map_err(|e| invalid(format!("not a task spec: {e}")))?;
    spec.validate().map_err(|e| invalid(e.to_string()))?;
    // The canonical bytes, so the same spec always has the same CID.
    let bytes = spec.to_bytes().map_err(|e| invalid(e.to_string()))?;
    let cid = s.content.put(bytes).await.map_err(|e| ApiError::Internal(format!("content store: {e}")))?;
    Ok(Json(SpecCid { cid: cid.to_string() }))
}

/// A paid request's input: paid on chain (`requestId`) or by a voucher (`voucher`), one of the two.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlPredictRequest)]
pub(crate) struct PredictRequest {
    /// `requestPrediction`'s id (decimal), when the fee was paid on chain.
    #[serde(alias = "request_id", default)]
    #[schema(pattern = "^[0-9]{1,18}$")]
    request_id: Option<String>,
    /// The fee paid by a voucher on a channel to the node's fee receiver.
    #[serde(default)]
    voucher: Option<voucher::VoucherPayment>,
    /// Base64 of the input: 784 bytes (28×28 grayscale, row-major, 0 = background) for
    /// Fashion-MNIST tasks, 64 bytes of 0–16 (8×8) for digits tasks. Its keccak256 is the request's
    /// `inputHash`.
    pixels: String,
}

/// The model's answer.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlPrediction)]
pub(crate) struct Prediction {
    /// The on-chain request id, or the voucher payment's idempotency key.
    request_id: String,
    /// The class index.
    class: usize,
    /// Its name (English).
    label: String,
    /// The class's probability.
    confidence: f32,
    /// Every class's probability.
    probabilities: Vec<f32>,
    /// How a voucher paid for it (absent when paid on chain).
    #[serde(skip_serializing_if = "Option::is_none")]
    payment: Option<voucher::PaymentDto>,
}

/// What the model said about an input.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Answer {
    class: usize,
    label: String,
    confidence: f32,
    probabilities: Vec<f32>,
}

/// Answer a paid prediction with the task's final model
#[utoipa::path(post, path = "/api/fl/tasks/{id}/predict", tag = "fl", operation_id = "fl_predict",
    params(("id" = u64, Path, description = "task id", maximum = 9223372036854775807_u64)),
    request_body = PredictRequest,
    responses(
        (status = 200, description = "the model's answer", body = Prediction),
        (status = 400, description = "malformed request or input", body = ErrorBody),
        (status = 404, description = "no such task, the paid request is not indexed yet, or the channel is unknown", body = ErrorBody),
        (status = 409, description = "the request pays for another task or another input, the task has no model, or the voucher was refused: wrong_amount, over_deposit, stale_voucher, bad_signature, not_payee, wrong_token, busy, idempotency_conflict, channel_closed, channel_expiring, channel_expired", body = ErrorBody),
    ),
)]
pub(crate) async fn predict(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    body: Result<Json<PredictRequest>, JsonRejection>,
) -> Result<Json<Prediction>, ApiError> {
    let Path(raw) = id?;
    let task_id = params::id("task id", &raw)?;
    let Json(body) = body?;
    let pixels = base64::engine::general_purpose::STANDARD
        .decode(body.pixels.trim())
        .map_err(|e| ApiError::BadRequest(format!("pixels: not base64 ({e})")))?;
    let chain = s.network.chain_id;
    let task = s
        .store
        .fl_task(chain, task_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("task {task_id} does not exist")))?;
    let raw_request = match (body.request_id, body.voucher) {
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest("pay either on chain (requestId) or by voucher, not both".into()));
        }
        (None, None) => {
            return Err(ApiError::BadRequest("requestId or voucher: how the prediction is paid".into()));
        }
        (None, Some(v)) => return voucher::pay_and_answer(&s, &task, pixels, v).await.map(Json),
        (Some(r), None) => r,
    };
    let request_id = params::id("request id", &raw_request)?;
    let refuse = |code: &'static str, message: String| ApiError::Rejected { code, message };
    let request = s.store.fl_prediction(chain, request_id).await?.ok_or_else(|| {
        ApiError::NotFound(format!(
            "prediction request {request_id} is not indexed (yet): ask again once its transaction is mined"
        ))
    })?;
    if request.task_id != task_id {
        return Err(refuse(
            "wrong_task",
            format!("request {request_id} paid for task {}, not {task_id}", request.task_id),
        ));
    }
    if keccak256(&pixels) != request.input_hash {
        return Err(refuse(
            "wrong_input",
            format!(
                "these pixels hash to {}, request {request_id} paid for {}",
                keccak256(&pixels),
                request.input_hash
            ),
        ));
    }
    let a = answer(&s, &task, &pixels).await?;
    Ok(Json(Prediction {
        request_id: request_id.to_string(),
        class: a.class,
        label: a.label,
        confidence: a.confidence,
        probabilities: a.probabilities,
        payment: None,
    }))
}

/// Runs the task's final model on `pixels` (refused before anything is charged when the task has
/// no model here or the input does not fit it).
pub(crate) async fn answer(s: &AppState, task: &agora_store::FlTaskRow, pixels: &[u8]) -> Result<Answer, ApiError> {
    let task_id = task.task_id;
    let chain = s.network.chain_id;
    let refuse = |code: &'static str, message: String| ApiError::Rejected { code, message };
    if task.state != FlTaskState::Finished {
        return Err(refuse("no_model", format!("task {task_id} has not finished training")));
    }
    let result = s.store.fl_result(chain, task_id).await?;
    let model_cid = result.and_then(|r| r.model_cid).ok_or_else(|| {
        refuse("no_model", format!("this node holds no model for task {task_id} (it did not coordinate it)"))
    })?;
    let served = MODELS
        .get_or_load((task.spec.clone(), model_cid.clone()), || ServedModel::load(&*s.content, &task.spec, &model_cid))
        .await
        .map_err(served_error)?;
    let pixels = pixels.to_vec();
    let a = tokio::task::spawn_blocking(move || served.answer(&pixels))
        .await
        .map_err(|e| ApiError::Internal(format!("prediction task: {e}")))?
        .map_err(served_error)?;
    Ok(Answer { class: a.class, label: a.label, confidence: a.confidence, probabilities: a.probabilities })
}

/// A served model's refusal as the API's: content missing here is `no_model`, an input that does
/// not fit is the caller's, anything else the node's.
fn served_error(e: ServeError) -> ApiError {
    match e {
        ServeError::Missing(message) => ApiError::Rejected { code: "no_model", message },
        ServeError::BadInput(message) => ApiError::BadRequest(message),
        ServeError::Broken(message) => ApiError::Internal(message),
    }
}
