//! The community task market's endpoints, as indexed from the `TaskBoard` contract: tasks with their
//! terms, slot counts and what left their escrow, a task's claims and timeline, and the board's
//! fixed rules. Read only: publishers, workers and arbiters act on chain from their own wallets.
//! Communities and an account's board are in `community`; the shapes are in `board_dto`.

use agora_chain::bindings::TaskBoard;
use agora_store::{BoardTaskFilter, BoardTaskState};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::board_dto::{ClaimDto, TaskDetailDto, TaskDto, TaskStateDto, TimelineDto, claim_dto, tasks_with_counts};
use crate::cached::{CachedJson, cached};
use crate::error::ErrorBody;
use crate::fl_market::lower_hex;
use crate::{ApiError, AppState, params};

type ApiResult<T> = Result<Json<T>, ApiError>;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/board/tasks", get(tasks))
        .route("/api/board/tasks/{id}", get(task))
        .route("/api/board/config", get(config))
        .merge(crate::community::router())
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct TasksQuery {
    /// only tasks of this community
    #[param(minimum = 1, maximum = 9223372036854775807_u64)]
    pub(crate) community: Option<u64>,
    /// only tasks in this state
    pub(crate) state: Option<TaskStateDto>,
    /// only tasks this account published (0x hex, either case)
    #[param(pattern = "^0x[0-9a-fA-F]{40}$")]
    pub(crate) publisher: Option<String>,
    /// only tasks this account holds or held a slot of (0x hex, either case)
    #[param(pattern = "^0x[0-9a-fA-F]{40}$")]
    pub(crate) worker: Option<String>,
    /// only tasks paying in this token (`0x000…0`: ETH)
    #[param(pattern = "^0x[0-9a-fA-F]{40}$")]
    pub(crate) token: Option<String>,
    /// at most this many (default 50)
    #[param(minimum = 1, maximum = 100)]
    pub(crate) limit: Option<u32>,
    /// skip this many first
    #[param(minimum = 0, maximum = 9223372036854775807_u64)]
    pub(crate) offset: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema, async_graphql::SimpleObject)]
#[schema(as = BoardTaskList)]
#[graphql(name = "BoardTaskList")]
pub(crate) struct TaskListDto {
    tasks: Vec<TaskDto>,
}

/// A validated task-list query: the store's filter, the page's size and start.
pub(crate) struct TaskPage {
    filter: BoardTaskFilter,
    limit: u32,
    offset: u64,
}

impl TasksQuery {
    pub(crate) fn read(&self) -> Result<TaskPage, ApiError> {
        let address = |what: &str, raw: &Option<String>| raw.as_deref().map(|a| params::address(what, a)).transpose();
        if let Some(c) = self.community
            && !(1..=params::MAX_ID).contains(&c)
        {
            return Err(ApiError::BadRequest(format!("community {c} is out of range: give 1 to {}", params::MAX_ID)));
        }
        let filter = BoardTaskFilter {
            community_id: self.community,
            state: self.state.map(|st| match st {
                TaskStateDto::Open => BoardTaskState::Open,
                TaskStateDto::Cancelled => BoardTaskState::Cancelled,
            }),
            publisher: address("publisher", &self.publisher)?,
            worker: address("worker", &self.worker)?,
            token: address("token", &self.token)?,
        };
        Ok(TaskPage { filter, limit: params::limit(self.limit, 50, 100)?, offset: params::offset(self.offset)? })
    }
}

/// A page of tasks with their claims counted (REST caches it; GraphQL reads it directly).
pub(crate) async fn load_tasks(s: &AppState, page: &TaskPage) -> Result<TaskListDto, ApiError> {
    let rows = s.store.board_tasks(s.network.chain_id, page.filter, page.limit, page.offset).await?;
    Ok(TaskListDto { tasks: tasks_with_counts(s, rows).await? })
}

/// Task-board tasks
#[utoipa::path(get, path = "/api/board/tasks", tag = "board", operation_id = "board_tasks", params(TasksQuery),
    summary = "Task-board tasks, newest first, filtered by community, state, publisher, worker and token",
    responses(
        (status = 200, description = "ok", body = TaskListDto),
        (status = 400, description = "a malformed filter, limit or offset", body = ErrorBody),
    ),
)]
async fn tasks(
    State(s): State<AppState>,
    q: Result<Query<TasksQuery>, QueryRejection>,
) -> Result<CachedJson, ApiError> {
    let Query(q) = q?;
    let page = q.read()?;
    let key = format!("board-tasks?{:?}&limit={}&offset={}", page.filter, page.limit, page.offset);
    cached(&s, "board-task", &key, load_tasks(&s, &page)).await
}

/// The task as `/api/board/tasks` lists it, or `None` when no such task is indexed.
pub(crate) async fn load_board_task(s: &AppState, id: u64) -> Result<Option<TaskDto>, ApiError> {
    let Some(row) = s.store.board_task(s.network.chain_id, id).await? else { return Ok(None) };
    Ok(tasks_with_counts(s, vec![row]).await?.pop())
}

/// One task-board task
#[utoipa::path(get, path = "/api/board/tasks/{id}", tag = "board", operation_id = "board_task",
    params(("id" = u64, Path, description = "the task's id", maximum = 9223372036854775807_u64)),
    summary = "A task with its claims (in the order they were taken) and its timeline (every log about it, in chain order)",
    responses(
        (status = 200, description = "ok", body = TaskDetailDto),
        (status = 400, description = "a malformed id", body = ErrorBody),
        (status = 404, description = "no such task", body = ErrorBody),
    ),
)]
async fn task(State(s): State<AppState>, id: Result<Path<String>, PathRejection>) -> Result<CachedJson, ApiError> {
    let Path(raw) = id?;
    let id = params::id("id", &raw)?;
    cached(&s, "board-task", &format!("board-task/{id}"), task_detail(&s, id)).await
}

/// Task `id` with its claims and timeline; 404 when no such task is indexed.
pub(crate) async fn task_detail(s: &AppState, id: u64) -> Result<TaskDetailDto, ApiError> {
    let task = load_board_task(s, id).await?.ok_or_else(|| ApiError::NotFound(format!("no board task {id}")))?;
    let claims: Vec<ClaimDto> =
        s.store.board_claims(s.network.chain_id, id).await?.into_iter().map(claim_dto).collect();
    let timeline = s
        .store
        .board_task_timeline(s.network.chain_id, id)
        .await?
        .into_iter()
        .filter_map(TimelineDto::from_entry)
        .collect();
    Ok(TaskDetailDto { task, claims, timeline })
}

/// The board's fixed rules, read from the contracts.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BoardConfig)]
struct ConfigDto {
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    task_board: String,
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    communities: String,
    /// Seconds a rejected worker has to revise or dispute (fixed at deployment).
    answer_window: u64,
    max_slots: u64,
    /// The longest review window a task may set, seconds.
    max_review_window: u64,
    /// The furthest a deadline may lie from publication, seconds.
    max_task_duration: u64,
    /// Who decides disputes of tasks without a community.
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    platform_arbiter: String,
}

/// The task board's rules
#[utoipa::path(get, path = "/api/board/config", tag = "board", operation_id = "board_config",
    summary = "The task board's and communities' addresses and the rules fixed in the contract (windows, slot limit, platform arbiter)",
    responses(
        (status = 200, description = "ok", body = ConfigDto),
        (status = 404, description = "this deployment has no task board", body = ErrorBody),
        (status = 502, description = "the chain did not answer", body = ErrorBody),
    ),
)]
async fn config(State(s): State<AppState>) -> ApiResult<ConfigDto> {
    let (Some(board), Some(communities)) = (s.network.task_board, s.network.communities) else {
        return Err(ApiError::NotFound("this deployment has no task board".into()));
    };
    let c = TaskBoard::new(board, &s.provider);
    let chain = |e: alloy::contract::Error| ApiError::ChainUnavailable(format!("reading the task board: {e}"));
    let answer_window = c.ANSWER_WINDOW().call().await.map_err(chain)?;
    let max_slots = c.MAX_SLOTS().call().await.map_err(chain)?;
    let max_review_window = c.MAX_REVIEW_WINDOW().call().await.map_err(chain)?;
    let max_task_duration = c.MAX_TASK_DURATION().call().await.map_err(chain)?;
    let platform_arbiter = c.platformArbiter().call().await.map_err(chain)?;
    Ok(Json(ConfigDto {
        task_board: lower_hex(board),
        communities: lower_hex(communities),
        answer_window,
        max_slots: max_slots.into(),
        max_review_window: max_review_window.into(),
        max_task_duration,
        platform_arbiter: lower_hex(platform_arbiter),
    }))
}
