use agora_store::{ServiceRow, TaskRow, TimelineEntry};
use alloy::primitives::U256;
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::cached::{CachedJson, cached};
use crate::error::ErrorBody;
use crate::metadata::{InputDto, MetadataDto};
use crate::{ApiError, AppState, params};

type ApiResult<T> = Result<Json<T>, ApiError>;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/network", get(network))
        .route("/api/services", get(services))
        .route("/api/services/{id}", get(service))
        .route("/api/tasks", get(tasks))
        .route("/api/tasks/{id}", get(task))
        .route("/api/tx/simulate", post(simulate))
        .route("/api/dev/accounts", get(dev_accounts))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct Health {
    status: &'static str,
    chain_id: u64,
    head_block: u64,
    indexed_block: Option<u64>,
}

/// Node health: chain head and indexer position
#[utoipa::path(get, path = "/api/health", tag = "node", responses(
    (status = 200, description = "ok", body = Health),
    (status = 502, description = "chain unreachable", body = ErrorBody),
))]
async fn health(State(s): State<AppState>) -> ApiResult<Health> {
    let head_block = s.provider.get_block_number().await.map_err(|e| ApiError::ChainUnavailable(e.to_string()))?;
    let indexed_block = s.store.cursor(s.network.chain_id).await?.map(|c| c.block_number);
    Ok(Json(Health { status: "ok", chain_id: s.network.chain_id, head_block, indexed_block }))
}

/// Chain id, RPC URL and contract addresses
#[utoipa::path(get, path = "/api/network", tag = "node", responses(
    (status = 200, description = "ok", body = crate::NetworkInfo),
))]
async fn network(State(s): State<AppState>) -> Json<crate::NetworkInfo> {
    Json(s.network.clone())
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Service)]
pub(crate) struct ServiceDto {
    id: u64,
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    provider: String,
    /// `0x000…0` for native ETH.
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    token: String,
    /// In the token's smallest unit, as a decimal string.
    #[schema(pattern = "^[0-9]+$")]
    price: String,
    max_run_time: u64,
    metadata_uri: String,
    /// The service's metadata (kind, runtime, names and descriptions per language), or null when
    /// its metadata URI carries no Agora service metadata.
    metadata: Option<MetadataDto>,
    /// What a buyer gives the service (input modes, file types, options), from its kind; null
    /// when its metadata could not be read.
    input: Option<InputDto>,
    active: bool,
}

/// Addresses and hashes as the API shows them: `0x` and lower-case hex.
fn hex(v: impl std::fmt::LowerHex) -> String {
    format!("{v:#x}")
}

impl From<ServiceRow> for ServiceDto {
    fn from(r: ServiceRow) -> Self {
        let input = r.metadata.as_ref().map(|m| m.input().into());
        Self {
            id: r.service_id,
            provider: hex(r.provider),
            token: hex(r.token),
            price: r.price.to_string(),
            max_run_time: r.max_run_time,
            metadata_uri: r.metadata_uri,
            metadata: r.metadata.map(Into::into),
            input,
            active: r.active,
        }
    }
}

/// Listed compute services
#[utoipa::path(get, path = "/api/services", tag = "market", responses(
    (status = 200, description = "ok", body = Vec<ServiceDto>),
))]
async fn services(State(s): State<AppState>) -> Result<CachedJson, ApiError> {
    cached(&s, "service", "services", async {
        Ok(s.store.services(s.network.chain_id).await?.into_iter().map(ServiceDto::from).collect::<Vec<_>>())
    })
    .await
}

/// One service
#[utoipa::path(get, path = "/api/services/{id}", tag = "market",
    params(("id" = u64, Path, description = "service id", maximum = 9223372036854775807_u64)),
    responses(
        (status = 200, description = "ok", body = ServiceDto),
        (status = 400, description = "not an id (an integer from 0 to 9223372036854775807)", body = ErrorBody),
        (status = 404, description = "no such service", body = ErrorBody),
    ),
)]
async fn service(State(s): State<AppState>, id: Result<Path<String>, PathRejection>) -> ApiResult<ServiceDto> {
    let Path(raw) = id?;
    let id = params::id("service id", &raw)?;
    Ok(Json(load_service(&s, id).await?.ok_or_else(|| ApiError::NotFound(format!("service {id} does not exist")))?))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Task)]
pub(crate) struct TaskDto {
    id: u64,
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    pub(crate) user: String,
    service_id: u64,
    /// In the token's smallest unit, as a decimal string.
    #[schema(pattern = "^[0-9]+$")]
    amount: String,
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    token: String,
    status: TaskStatusDto,
    deadline: Option<u64>,
    input: Option<String>,
    result_hash: Option<String>,
    failure_reason: Option<String>,
    created_block: u64,
    created_tx: String,
    created_at: u64,
    updated_block: u64,
    updated_at: u64,
    /// The iExec deal that runs the task, for tasks of iExec-backed services; `null` otherwise.
    iexec: Option<IexecDto>,
    /// The task's events in order. Present on /api/tasks/{id} and in the event stream; lists
    /// (/api/tasks, /api/me/tasks) leave it out.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    timeline: Option<Vec<TimelineDto>>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = TaskStatus)]
enum TaskStatusDto {
    Created,
    Running,
    Completed,
    Refunded,
}

impl From<agora_store::TaskStatus> for TaskStatusDto {
    fn from(s: agora_store::TaskStatus) -> Self {
        match s {
            agora_store::TaskStatus::Created => Self::Created,
            agora_store::TaskStatus::Running => Self::Running,
            agora_store::TaskStatus::Completed => Self::Completed,
            agora_store::TaskStatus::Refunded => Self::Refunded,
        }
    }
}

/// The iExec side of a task: `status` is `NEW`/`SIGNED` before the deal, then PoCo's task status
/// (`UNSET`, `ACTIVE`, `REVEALING`, `COMPLETED`, `FAILED` = claimed after its deadline).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Iexec)]
pub(crate) struct IexecDto {
    deal_id: Option<String>,
    task_id: Option<String>,
    /// NEW or SIGNED before the deal; then PoCo's task status: UNSET, ACTIVE, REVEALING,
    /// COMPLETED, FAILED
    status: String,
}

impl From<agora_store::IexecJobRow> for IexecDto {
    fn from(j: agora_store::IexecJobRow) -> Self {
        Self { deal_id: j.deal_id.map(hex), task_id: j.iexec_task_id.map(hex), status: j.status.to_string() }
    }
}

impl From<TaskRow> for TaskDto {
    fn from(r: TaskRow) -> Self {
        Self {
            id: r.task_id,
            user: hex(r.user),
            service_id: r.service_id,
            amount: r.amount.to_string(),
            token: hex(r.token),
            status: r.status.into(),
            deadline: r.deadline,
            input: r.input,
            result_hash: r.result_hash,
            failure_reason: r.failure_reason,
            created_block: r.created_block,
            created_tx: hex(r.created_tx),
            created_at: r.created_at,
            updated_block: r.updated_block,
            updated_at: r.updated_at,
            iexec: None,
            timeline: None,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = TimelineEntry)]
pub(crate) struct TimelineDto {
    event: String,
    block_number: u64,
    block_timestamp: u64,
    tx_hash: String,
}

impl From<TimelineEntry> for TimelineDto {
    fn from(e: TimelineEntry) -> Self {
        Self {
            event: e.kind,
            block_number: e.block_number,
            block_timestamp: e.block_timestamp,
            tx_hash: hex(e.tx_hash),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct TaskQuery {
    /// only this buyer's tasks (0x hex, either case)
    #[param(pattern = "^0x[0-9a-fA-F]{40}$")]
    user: Option<String>,
    /// at most this many (default 100)
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// Tasks, newest first
#[utoipa::path(get, path = "/api/tasks", tag = "market", params(TaskQuery), responses(
    (status = 200, description = "ok", body = Vec<TaskDto>),
    (status = 400, description = "bad query", body = ErrorBody),
))]
async fn tasks(State(s): State<AppState>, q: Result<Query<TaskQuery>, QueryRejection>) -> Result<CachedJson, ApiError> {
    let Query(q) = q?;
    let user = q.user.as_deref().map(parse_user).transpose()?;
    let limit = params::limit(q.limit, 100, 1000)?;
    let key = format!("tasks?user={}&limit={limit}", user.as_deref().unwrap_or(""));
    cached(&s, "task", &key, task_list(&s, user.as_deref(), limit)).await
}

/// A `user` query parameter as the store keys it (lower-case hex).
pub(crate) fn parse_user(u: &str) -> Result<String, ApiError> {
    params::address_key("user", u)
}

/// Tasks, newest first, of `user` (lower-case hex) or of everyone: at most `limit` of them.
pub(crate) async fn task_list(s: &AppState, user: Option<&str>, limit: u32) -> Result<Vec<TaskDto>, ApiError> {
    let rows = s.store.tasks(s.network.chain_id, user, limit).await?;
    let ids: Vec<u64> = rows.iter().map(|r| r.task_id).collect();
    let mut iexec: std::collections::HashMap<u64, agora_store::IexecJobRow> =
        s.store.iexec_jobs(s.network.chain_id, &ids).await?.into_iter().map(|j| (j.task_id, j)).collect();
    Ok(rows
        .into_iter()
        .map(|r| {
            let id = r.task_id;
            let mut dto = TaskDto::from(r);
            dto.iexec = iexec.remove(&id).map(Into::into);
            dto
        })
        .collect())
}

/// One task with its timeline, as `/api/tasks/{id}` and the event stream show it.
pub(crate) async fn load_task(s: &AppState, id: u64) -> Result<Option<TaskDto>, ApiError> {
    let chain_id = s.network.chain_id;
    let Some(row) = s.store.task(chain_id, id).await? else { return Ok(None) };
    let mut dto = TaskDto::from(row);
    dto.iexec = s.store.iexec_job(chain_id, id).await?.map(Into::into);
    dto.timeline = Some(s.store.task_timeline(chain_id, id).await?.into_iter().map(Into::into).collect());
    Ok(Some(dto))
}

/// One service as `/api/services/{id}` and the event stream show it.
pub(crate) async fn load_service(s: &AppState, id: u64) -> Result<Option<ServiceDto>, ApiError> {
    Ok(s.store.service(s.network.chain_id, id).await?.map(Into::into))
}

/// One task with its timeline
#[utoipa::path(get, path = "/api/tasks/{id}", tag = "market",
    params(("id" = u64, Path, description = "task id", maximum = 9223372036854775807_u64)),
    responses(
        (status = 200, description = "ok", body = TaskDto),
        (status = 400, description = "not an id (an integer from 0 to 9223372036854775807)", body = ErrorBody),
        (status = 404, description = "no such task", body = ErrorBody),
    ),
)]
async fn task(State(s): State<AppState>, id: Result<Path<String>, PathRejection>) -> ApiResult<TaskDto> {
    let Path(raw) = id?;
    let id = params::id("task id", &raw)?;
    Ok(Json(load_task(&s, id).await?.ok_or_else(|| ApiError::NotFound(format!("task {id} does not exist")))?))
}

/// The funded accounts of the embedded dev chain, so a person without a wallet can try the market.
/// Their keys are public knowledge (anvil's defaults); elsewhere this endpoint does not exist.
#[utoipa::path(get, path = "/api/dev/accounts", tag = "node",
    summary = "Funded accounts of the embedded dev chain (local only; 404 elsewhere)",
    responses(
        (status = 200, description = "ok", body = Vec<crate::DevAccountInfo>),
        (status = 404, description = "not a dev chain", body = ErrorBody),
    ),
)]
async fn dev_accounts(State(s): State<AppState>) -> ApiResult<Vec<crate::DevAccountInfo>> {
    if !s.network.embedded_chain || s.dev_accounts.is_empty() {
        return Err(ApiError::NotFound("this node does not run a local dev chain".into()));
    }
    Ok(Json(s.dev_accounts.as_ref().clone()))
}

/// Fields are read as text and checked by [`params`], so that a malformed one is named in the
/// error (and `0x` is required, as documented).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SimulateRequest {
    #[schema(pattern = "^0x[0-9a-fA-F]{40}$")]
    from: String,
    #[schema(pattern = "^0x[0-9a-fA-F]{40}$")]
    to: String,
    /// Call data, `0x` hex.
    #[schema(pattern = "^0x([0-9a-fA-F]{2})*$")]
    data: String,
    /// Wei sent with the call, as a decimal string of at most 77 digits; absent or null: 0.
    #[serde(default)]
    #[schema(pattern = "^[0-9]{1,77}$")]
    value: Option<String>,
}

/// Runs a call against the latest block without sending it; a revert comes back as a 422 whose
/// `code` is the contract's custom error and whose `message` is a sentence, and a call the chain
/// node refuses to run as a 422 `call_failed` with the node's reason.
#[utoipa::path(post, path = "/api/tx/simulate", tag = "market",
    summary = "Simulate a call; a revert comes back decoded as a sentence",
    request_body = SimulateRequest,
    responses(
        (status = 200, description = "the call would succeed", body = Object),
        (status = 400, description = "bad request", body = ErrorBody),
        (status = 422, description = "the call would fail: code is the contract's custom error when it reverts, call_failed when the chain node refuses to run it (e.g. insufficient funds for value and gas)", body = ErrorBody),
        (status = 502, description = "the chain node could not be reached", body = ErrorBody),
    ),
)]
async fn simulate(State(s): State<AppState>, req: Result<Json<SimulateRequest>, JsonRejection>) -> ApiResult<Value> {
    let Json(req) = req?;
    let from = params::address("from", &req.from)?;
    let to = params::address("to", &req.to)?;
    let data = params::bytes("data", &req.data)?;
    let value = req.value.as_deref().map(|v| params::amount("value", v)).transpose()?.unwrap_or(U256::ZERO);
    let tx = TransactionRequest::default().from(from).to(to).input(data.into()).value(value);
    match s.provider.call(tx).await {
        Ok(output) => Ok(Json(json!({ "ok": true, "returnData": output }))),
        Err(e) => match e.as_error_resp().and_then(|r| r.as_revert_data()) {
            Some(data) => {
                let decoded = agora_chain::revert::decode_revert(&data);
                Err(ApiError::Reverted {
                    code: decoded.name().unwrap_or_else(|| "reverted".into()),
                    message: decoded.to_string(),
                })
            }
            // The node refused to run the call (insufficient funds for the value and gas, a gas
            // limit below the intrinsic cost…): the request was well formed, the call would fail.
            None if e.is_error_resp() => Err(ApiError::Reverted {
                code: "call_failed".into(),
                message: format!("the call would fail: {}", call_failure(&e)),
            }),
            None => Err(ApiError::ChainUnavailable(e.to_string())),
        },
    }
}

/// The chain node's own words for a refused call, without the transport's framing.
fn call_failure(e: &alloy::transports::TransportError) -> String {
    e.as_error_resp().map_or_else(|| e.to_string(), |r| r.message.to_string())
}
