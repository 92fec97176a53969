//! Federated-learning market endpoints, as indexed from the `FederatedMarket` contract: tasks with
//! their terms and state, a task's members, block purchases, shares, claims and predictions, and an
//! account's assets across the market (`fl_account`). Read only: investors, trainers and payers act on
//! chain. The coordinator's own records (rounds, logs, results) are in `fl_runs`.

use agora_store::{FlClaimRow, FlMemberRow, FlMode, FlPurchaseRow, FlShareRow, FlTaskFilter, FlTaskRow, FlTaskState};
use alloy::primitives::U256;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::cached::{CachedJson, cached};
use crate::error::ErrorBody;
use crate::{ApiError, AppState, params};

type ApiResult<T> = Result<Json<T>, ApiError>;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/fl/tasks", get(tasks))
        .route("/api/fl/tasks/{id}", get(task))
        .route("/api/fl/accounts/{address}", get(crate::fl_account::account))
        .merge(crate::fl_runs::router())
        .merge(crate::fl_listing::router())
}

/// Addresses and hashes as this API writes them: lower-case `0x` hex.
pub(crate) fn lower_hex(v: impl std::fmt::LowerHex) -> String {
    format!("{v:#x}")
}

pub(crate) fn dec(v: U256) -> String {
    v.to_string()
}

/// How a task's trainers are paid.
#[derive(Serialize, Deserialize, Clone, Copy, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = FlMode)]
enum ModeDto {
    /// From the investor's escrowed pool, by contribution; the investor owns the model.
    RewardPool,
    /// With shares of the model, by contribution; shareholders earn the prediction fees.
    Shareholding,
}

/// Where a task stands on chain.
#[derive(Serialize, Deserialize, Clone, Copy, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = FlTaskState)]
enum StateDto {
    Open,
    Training,
    Finished,
    Cancelled,
    Abandoned,
}

/// A task with its terms and where it stands.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlTask)]
pub(crate) struct TaskDto {
    id: u64,
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    investor: String,
    /// Who starts the task and posts its results.
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    coordinator: String,
    mode: ModeDto,
    /// The pool's and the prediction fees' token; `0x000…0` for ETH.
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    token: String,
    /// The reward pool, smallest unit (0 in shareholding mode).
    #[schema(pattern = "^[0-9]+$")]
    pool: String,
    /// The fee per paid prediction (0: not offered).
    #[schema(pattern = "^[0-9]+$")]
    prediction_fee: String,
    /// Where the task's description lives (model, data set, rounds, split).
    spec: String,
    /// The token data blocks are paid in; `0x000…0` for ETH.
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    block_token: String,
    /// The price of one block (0: blocks are not sold).
    #[schema(pattern = "^[0-9]+$")]
    block_price: String,
    total_blocks: u64,
    blocks_sold: u64,
    min_participants: u64,
    /// Unix seconds: training must start before it.
    start_deadline: u64,
    /// Unix seconds: results must be posted before it.
    finish_deadline: u64,
    state: StateDto,
    members: u64,
    /// What the start paid the investor for blocks bought before it; absent until started.
    #[schema(pattern = "^[0-9]+$")]
    block_payments: Option<String>,
    /// Every block payment the investor received.
    #[schema(pattern = "^[0-9]+$")]
    block_revenue: String,
    /// The Merkle root rewards are claimed against (reward-pool mode, once finished).
    #[schema(pattern = "^0x[0-9a-f]{64}$")]
    rewards_root: Option<String>,
    /// The contribution record's content id, once finished.
    record_cid: Option<String>,
    /// Unix seconds until which rewards may be claimed.
    claim_deadline: Option<u64>,
    /// How many accounts received shares (shareholding mode, once finished).
    holders: Option<u64>,
    /// The part of the pool paid to claimants.
    #[schema(pattern = "^[0-9]+$")]
    claimed: String,
    /// What went back to the investor after the claim period.
    #[schema(pattern = "^[0-9]+$")]
    reclaimed: Option<String>,
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    cancelled_by: Option<String>,
    /// The part of the pool a cancellation paid back.
    #[schema(pattern = "^[0-9]+$")]
    pool_refunded: Option<String>,
    created_block: u64,
    #[schema(pattern = "^0x[0-9a-f]{64}$")]
    created_tx: String,
    created_at: u64,
}

fn task_dto(t: FlTaskRow) -> TaskDto {
    TaskDto {
        id: t.task_id,
        investor: lower_hex(t.investor),
        coordinator: lower_hex(t.coordinator),
        mode: match t.mode {
            FlMode::RewardPool => ModeDto::RewardPool,
            FlMode::Shareholding => ModeDto::Shareholding,
        },
        token: lower_hex(t.token),
        pool: dec(t.pool),
        prediction_fee: dec(t.prediction_fee),
        spec: t.spec,
        block_token: lower_hex(t.block_token),
        block_price: dec(t.block_price),
        total_blocks: t.total_blocks,
        blocks_sold: t.blocks_sold,
        min_participants: t.min_participants,
        start_deadline: t.start_deadline,
        finish_deadline: t.finish_deadline,
        state: match t.state {
            FlTaskState::Open => StateDto::Open,
            FlTaskState::Training => StateDto::Training,
            FlTaskState::Finished => StateDto::Finished,
            FlTaskState::Cancelled => StateDto::Cancelled,
            FlTaskState::Abandoned => StateDto::Abandoned,
        },
        members: t.members,
        block_payments: t.block_payments.map(dec),
        block_revenue: dec(t.block_revenue),
        rewards_root: t.rewards_root.map(lower_hex),
        record_cid: t.record_cid,
        claim_deadline: t.claim_deadline,
        holders: t.holders,
        claimed: dec(t.claimed),
        reclaimed: t.reclaimed.map(dec),
        cancelled_by: t.cancelled_by.map(lower_hex),
        pool_refunded: t.pool_refunded.map(dec),
        created_block: t.created_block,
        created_tx: lower_hex(t.created_tx),
        created_at: t.created_at,
    }
}

/// An account that joined a task.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlMember)]
pub(crate) struct MemberDto {
    task_id: u64,
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    account: String,
    /// With `joinedLog`: the log position of its latest join (the order blocks are handed out in).
    joined_block: u64,
    joined_log: u64,
    /// `false` once it left.
    active: bool,
    /// Blocks it bought and did not get back.
    blocks: u64,
    /// What it paid for blocks before the start (0 once refunded).
    #[schema(pattern = "^[0-9]+$")]
    escrowed: String,
}

pub(crate) fn member_dto(m: FlMemberRow) -> MemberDto {
    MemberDto {
        task_id: m.task_id,
        account: lower_hex(m.account),
        joined_block: m.joined_block,
        joined_log: m.joined_log,
        active: m.active,
        blocks: m.blocks,
        escrowed: dec(m.escrowed),
    }
}

/// One purchase of data blocks.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlBlockPurchase)]
struct PurchaseDto {
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    buyer: String,
    count: u64,
    /// In the task's block token.
    #[schema(pattern = "^[0-9]+$")]
    cost: String,
    /// The task's blocks sold after it.
    blocks_sold: u64,
    block_number: u64,
    log_index: u64,
    #[schema(pattern = "^0x[0-9a-f]{64}$")]
    tx_hash: String,
    /// Bought before the start.
    held: bool,
    /// The buyer left before the start: paid back, blocks back on sale.
    voided: bool,
}

fn purchase_dto(p: FlPurchaseRow) -> PurchaseDto {
    PurchaseDto {
        buyer: lower_hex(p.buyer),
        count: p.count,
        cost: dec(p.cost),
        blocks_sold: p.blocks_sold,
        block_number: p.block_number,
        log_index: p.log_index,
        tx_hash: lower_hex(p.tx_hash),
        held: p.held,
        voided: p.voided,
    }
}

/// An account's shares of a task's model, out of 10^18.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlShares)]
pub(crate) struct ShareDto {
    task_id: u64,
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    account: String,
    /// What the results assigned it (0 when received by transfer).
    #[schema(pattern = "^[0-9]+$")]
    assigned: String,
    /// What it holds now.
    #[schema(pattern = "^[0-9]+$")]
    shares: String,
}

pub(crate) fn share_dto(h: FlShareRow) -> ShareDto {
    ShareDto { task_id: h.task_id, account: lower_hex(h.account), assigned: dec(h.assigned), shares: dec(h.shares) }
}

/// A reward claimed from a task's pool.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlClaim)]
pub(crate) struct ClaimDto {
    task_id: u64,
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    account: String,
    #[schema(pattern = "^[0-9]+$")]
    amount: String,
    block_number: u64,
    #[schema(pattern = "^0x[0-9a-f]{64}$")]
    tx_hash: String,
}

pub(crate) fn claim_dto(c: FlClaimRow) -> ClaimDto {
    ClaimDto {
        task_id: c.task_id,
        account: lower_hex(c.account),
        amount: dec(c.amount),
        block_number: c.claimed_block,
        tx_hash: lower_hex(c.claimed_tx),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct TasksQuery {
    /// only tasks in this state
    state: Option<StateDto>,
    /// only tasks of this mode
    mode: Option<ModeDto>,
    /// only tasks this account created or joined (0x hex, either case)
    #[param(pattern = "^0x[0-9a-fA-F]{40}$")]
    account: Option<String>,
    /// at most this many (default 100)
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// Federated-learning tasks
#[utoipa::path(get, path = "/api/fl/tasks", tag = "fl", operation_id = "fl_tasks", params(TasksQuery),
    summary = "Federated-learning tasks, newest first: all, or by state, mode and an account that created or joined them",
    responses(
        (status = 200, description = "ok", body = Vec<TaskDto>),
        (status = 400, description = "a malformed state, mode, account or limit", body = ErrorBody),
    ),
)]
async fn tasks(
    State(s): State<AppState>,
    q: Result<Query<TasksQuery>, QueryRejection>,
) -> Result<CachedJson, ApiError> {
    let Query(q) = q?;
    let account = q.account.as_deref().map(|a| params::address("account", a)).transpose()?;
    let limit = params::limit(q.limit, 100, 1000)?;
    let filter = FlTaskFilter {
        state: q.state.map(|st| match st {
            StateDto::Open => FlTaskState::Open,
            StateDto::Training => FlTaskState::Training,
            StateDto::Finished => FlTaskState::Finished,
            StateDto::Cancelled => FlTaskState::Cancelled,
            StateDto::Abandoned => FlTaskState::Abandoned,
        }),
        mode: q.mode.map(|m| match m {
            ModeDto::RewardPool => FlMode::RewardPool,
            ModeDto::Shareholding => FlMode::Shareholding,
        }),
        account,
        ..FlTaskFilter::default()
    };
    let key = format!("fl-tasks?{filter:?}&limit={limit}");
    cached(&s, "fl-task", &key, async {
        Ok(s.store.fl_tasks(s.network.chain_id, filter, limit).await?.into_iter().map(task_dto).collect::<Vec<_>>())
    })
    .await
}

/// Paid predictions on a task's model.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlPredictionTotals)]
struct PredictionTotalsDto {
    count: u64,
    /// What they paid in all, in the task's token.
    #[schema(pattern = "^[0-9]+$")]
    revenue: String,
}

/// A task with its members, block purchases, shares, claims and predictions.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FlTaskDetail)]
struct TaskDetailDto {
    task: TaskDto,
    /// Everyone who ever joined, in the order of their latest join.
    members: Vec<MemberDto>,
    /// Block purchases in chain order: the order the coordinator assigns blocks in.
    purchases: Vec<PurchaseDto>,
    /// Shareholders, most shares first (shareholding mode).
    shares: Vec<ShareDto>,
    /// Reward claims in chain order (reward-pool mode).
    claims: Vec<ClaimDto>,
    predictions: PredictionTotalsDto,
}

/// A task as `/api/fl/tasks` lists it (`None`: the chain never had it), for the event stream.
pub(crate) async fn load_fl_task(s: &AppState, id: u64) -> Result<Option<TaskDto>, ApiError> {
    Ok(s.store.fl_task(s.network.chain_id, id).await?.map(task_dto))
}

/// The task id of a path, and its row (404 when the chain never had it).
pub(crate) async fn known_task(s: &AppState, raw: &str) -> Result<FlTaskRow, ApiError> {
    let id = params::id("task id", raw)?;
    let row = s.store.fl_task(s.network.chain_id, id).await?;
    row.ok_or_else(|| ApiError::NotFound(format!("federated-learning task {id} does not exist")))
}

/// One federated-learning task
#[utoipa::path(get, path = "/api/fl/tasks/{id}", tag = "fl", operation_id = "fl_task",
    params(("id" = u64, Path, description = "the task's id", maximum = 9223372036854775807_u64)),
    responses(
        (status = 200, description = "ok", body = TaskDetailDto),
        (status = 400, description = "malformed id", body = ErrorBody),
        (status = 404, description = "unknown task", body = ErrorBody),
    ),
)]
async fn task(State(s): State<AppState>, id: Result<Path<String>, PathRejection>) -> ApiResult<TaskDetailDto> {
    let Path(raw) = id?;
    let row = known_task(&s, &raw).await?;
    let (chain, id) = (s.network.chain_id, row.task_id);
    let (count, revenue) = s.store.fl_prediction_totals(chain, id).await?;
    Ok(Json(TaskDetailDto {
        members: s.store.fl_members(chain, id).await?.into_iter().map(member_dto).collect(),
        purchases: s.store.fl_purchases(chain, id, None).await?.into_iter().map(purchase_dto).collect(),
        shares: s.store.fl_shares(chain, id).await?.into_iter().map(share_dto).collect(),
        claims: s.store.fl_claims(chain, id).await?.into_iter().map(claim_dto).collect(),
        predictions: PredictionTotalsDto { count, revenue: dec(revenue) },
        task: task_dto(row),
    }))
}
