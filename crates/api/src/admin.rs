//! `/api/admin/*`: for wallets listed in `[api] admins` that signed in (401 without a session, 403
//! for anyone else). Users — of the assistant, with a profile or who posted (disable / enable: a
//! disabled user's assistant requests and every post, report and profile change are refused) —, the channels this node collects for (billed, accepted; settle now), and the payee's
//! background jobs (run now, pause / resume, their runs).

use agora_store::{BackgroundRun, ChannelFilter};
use alloy::primitives::Address;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::auth::SignedIn;
use crate::error::ErrorBody;
use crate::{ApiError, AppState, params};

type ApiResult<T> = Result<Json<T>, ApiError>;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/users", get(users))
        .route("/api/admin/users/{address}/{action}", post(user_action))
        .route("/api/admin/channels", get(channels))
        .route("/api/admin/channels/{id}/settle", post(settle))
        .route("/api/admin/jobs", get(jobs))
        .route("/api/admin/jobs/{name}/{action}", post(job_action))
}

/// A signed-in admin.
pub(crate) struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, ApiError> {
        let who = SignedIn::from_request_parts(parts, s).await?;
        let address: Address =
            who.address.parse().map_err(|_| ApiError::Internal("a session holds a bad address".into()))?;
        if !s.admins.contains(&address) {
            return Err(ApiError::Forbidden {
                code: "not_admin",
                message: format!("{address} is not an admin of this node"),
            });
        }
        Ok(Self)
    }
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

fn no_jobs() -> ApiError {
    ApiError::NotFound("this node collects for no channel, so it runs no background job".into())
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AdminUser)]
struct UserDto {
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    address: String,
    disabled: bool,
    first_seen: u64,
    /// Assistant replies.
    replies: u64,
    completion_tokens: u64,
    /// Threads and replies written in communities.
    posts: u64,
}

/// Users: of the assistant, with a profile, or who posted
#[utoipa::path(get, path = "/api/admin/users", tag = "admin", security(("session" = [])), responses(
    (status = 200, description = "ok", body = Vec<UserDto>),
    (status = 401, description = "not signed in", body = ErrorBody),
    (status = 403, description = "not_admin", body = ErrorBody),
))]
async fn users(State(s): State<AppState>, _: Admin) -> ApiResult<Vec<UserDto>> {
    let users = s.store.assistant_users(s.network.chain_id, 1000).await?;
    Ok(Json(
        users
            .into_iter()
            .map(|u| UserDto {
                address: format!("{:#x}", u.address),
                disabled: u.disabled,
                first_seen: u.first_seen,
                replies: u.replies,
                completion_tokens: u.completion_tokens,
                posts: u.posts,
            })
            .collect(),
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AdminUserState)]
struct UserStateDto {
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    address: String,
    disabled: bool,
}

/// Disable or enable a user (a disabled user's requests are refused)
#[utoipa::path(post, path = "/api/admin/users/{address}/{action}", tag = "admin", security(("session" = [])),
    params(
        ("address" = String, Path, pattern = "^0x[0-9a-fA-F]{40}$"),
        ("action" = String, Path, description = "`disable` or `enable`", pattern = "^(disable|enable)$"),
    ),
    responses(
        (status = 200, description = "ok", body = UserStateDto),
        (status = 400, description = "malformed address", body = ErrorBody),
        (status = 401, description = "not signed in", body = ErrorBody),
        (status = 403, description = "not_admin", body = ErrorBody),
        (status = 404, description = "no such action", body = ErrorBody),
    ),
)]
async fn user_action(
    State(s): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    _: Admin,
) -> ApiResult<UserStateDto> {
    let Path((raw, action)) = path?;
    let address = params::address("address", &raw)?;
    let disabled = match action.as_str() {
        "disable" => true,
        "enable" => false,
        other => return Err(ApiError::NotFound(format!("no user action {other:?}; use disable or enable"))),
    };
    s.store.set_assistant_user_disabled(address, disabled, now()).await?;
    Ok(Json(UserStateDto { address: format!("{address:#x}"), disabled }))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AdminChannel)]
struct ChannelDto {
    channel_id: String,
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    payer: String,
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    token: String,
    #[schema(pattern = "^[0-9]+$")]
    deposit: String,
    expiry: u64,
    /// As on chain: `Open`, `Closed` or `Reclaimed`.
    state: String,
    /// What the assistant delivered, priced.
    #[schema(pattern = "^[0-9]+$")]
    billed: String,
    /// The highest voucher stored.
    #[schema(pattern = "^[0-9]+$")]
    accepted: String,
    /// The latest settlement attempt: `sending`, `closed`, `already-finished`, `failed`, `expired`.
    settlement: Option<String>,
}

/// The channels paying this node's assistant, newest first
#[utoipa::path(get, path = "/api/admin/channels", tag = "admin", security(("session" = [])), responses(
    (status = 200, description = "ok", body = Vec<ChannelDto>),
    (status = 401, description = "not signed in", body = ErrorBody),
    (status = 403, description = "not_admin", body = ErrorBody),
))]
async fn channels(State(s): State<AppState>, _: Admin) -> ApiResult<Vec<ChannelDto>> {
    let Some(a) = &s.assistant else { return Ok(Json(Vec::new())) };
    let chain = s.network.chain_id;
    let filter = ChannelFilter { payer: None, payee: Some(a.config().payee) };
    let mut out = Vec::new();
    for ch in s.store.channels(chain, filter, 500).await? {
        let billed = s.store.assistant_billed(chain, ch.channel_id).await?;
        let settlement = s.store.settlement(chain, ch.channel_id).await?;
        out.push(ChannelDto {
            channel_id: ch.channel_id.to_string(),
            payer: format!("{:#x}", ch.payer),
            token: format!("{:#x}", ch.token),
            deposit: ch.deposit.to_string(),
            expiry: ch.expiry,
            state: format!("{:?}", ch.state),
            billed: billed.to_string(),
            accepted: ch.voucher.map_or_else(|| "0".into(), |v| v.cumulative_amount.to_string()),
            settlement: settlement.map(|st| st.outcome.as_str().to_string()),
        });
    }
    Ok(Json(out))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = JobRun)]
struct JobRunDto {
    job: String,
    started_at_ms: u64,
    finished_at_ms: u64,
    /// Items acted on: channels for the channel jobs, tasks paid for by `fl-fee-forward`.
    channels_touched: u64,
    errors: Vec<String>,
}

impl From<BackgroundRun> for JobRunDto {
    fn from(r: BackgroundRun) -> Self {
        Self {
            job: r.name,
            started_at_ms: r.started_at_ms,
            finished_at_ms: r.finished_at_ms,
            channels_touched: r.channels_touched,
            errors: r.errors,
        }
    }
}

/// Close a channel now with its highest voucher (recorded as an auto-settle run)
#[utoipa::path(post, path = "/api/admin/channels/{id}/settle", tag = "admin", security(("session" = [])),
    params(("id" = String, Path, description = "channel id, 0x and 32 bytes of hex", pattern = "^0x[0-9a-fA-F]{64}$")),
    responses(
        (status = 200, description = "the run, with its errors if the channel could not be closed", body = JobRunDto),
        (status = 400, description = "malformed channel id", body = ErrorBody),
        (status = 401, description = "not signed in", body = ErrorBody),
        (status = 403, description = "not_admin", body = ErrorBody),
        (status = 404, description = "unknown channel, or no background jobs on this node", body = ErrorBody),
    ),
)]
async fn settle(State(s): State<AppState>, id: Result<Path<String>, PathRejection>, _: Admin) -> ApiResult<JobRunDto> {
    let Path(raw) = id?;
    let id = params::b256("channel id", &raw)?;
    let jobs = s.jobs.as_ref().ok_or_else(no_jobs)?;
    let run = jobs.settle_channel(id).await?.ok_or_else(|| ApiError::NotFound(format!("no channel {id} is known")))?;
    Ok(Json(run.into()))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct JobsQuery {
    /// at most this many runs per job (default 20)
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BackgroundJob)]
struct JobDto {
    name: String,
    paused: bool,
    every_ms: u64,
    /// Newest first.
    runs: Vec<JobRunDto>,
}

/// The background jobs, whether they are paused, and their latest runs
#[utoipa::path(get, path = "/api/admin/jobs", tag = "admin", security(("session" = [])), params(JobsQuery), responses(
    (status = 200, description = "ok", body = Vec<JobDto>),
    (status = 400, description = "bad limit", body = ErrorBody),
    (status = 401, description = "not signed in", body = ErrorBody),
    (status = 403, description = "not_admin", body = ErrorBody),
))]
async fn jobs(
    State(s): State<AppState>,
    q: Result<Query<JobsQuery>, QueryRejection>,
    _: Admin,
) -> ApiResult<Vec<JobDto>> {
    let Query(q) = q?;
    let limit = params::limit(q.limit, 20, 500)?;
    let Some(jobs) = &s.jobs else { return Ok(Json(Vec::new())) };
    let runs = s.store.background_runs(limit.saturating_mul(4)).await?;
    let mut out = Vec::new();
    for j in jobs.status().await? {
        let mine = runs.iter().filter(|r| r.name == j.name).take(limit as usize).cloned().map(JobRunDto::from);
        out.push(JobDto {
            name: j.name.to_string(),
            paused: j.paused,
            every_ms: u64::try_from(j.every.as_millis()).unwrap_or(u64::MAX),
            runs: mine.collect(),
        });
    }
    Ok(Json(out))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BackgroundJobAction)]
struct JobActionDto {
    name: String,
    paused: bool,
    /// The run, for `run`.
    run: Option<JobRunDto>,
}

/// Run a job now, or pause or resume it
#[utoipa::path(post, path = "/api/admin/jobs/{name}/{action}", tag = "admin", security(("session" = [])),
    params(
        ("name" = String, Path, description = "`channel-auto-settle`, `channel-expiry` or `fl-fee-forward` (when the node forwards prediction fees)"),
        ("action" = String, Path, description = "`run`, `pause` or `resume`", pattern = "^(run|pause|resume)$"),
    ),
    responses(
        (status = 200, description = "ok", body = JobActionDto),
        (status = 401, description = "not signed in", body = ErrorBody),
        (status = 403, description = "not_admin", body = ErrorBody),
        (status = 404, description = "no such job or action", body = ErrorBody),
    ),
)]
async fn job_action(
    State(s): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    _: Admin,
) -> ApiResult<JobActionDto> {
    let Path((name, action)) = path?;
    let jobs = s.jobs.as_ref().ok_or_else(no_jobs)?;
    let unknown = || ApiError::NotFound(format!("no background job {name:?}"));
    let run = match action.as_str() {
        "run" => Some(jobs.run_now(&name).await?.ok_or_else(unknown)?.into()),
        "pause" | "resume" => {
            if !jobs.set_paused(&name, action == "pause").await? {
                return Err(unknown());
            }
            None
        }
        other => return Err(ApiError::NotFound(format!("no job action {other:?}; use run, pause or resume"))),
    };
    let paused = s.store.background_job_paused(&name).await?;
    Ok(Json(JobActionDto { name, paused, run }))
}
