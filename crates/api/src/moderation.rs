//! Moderation of community posts. Members report a post once each, with a reason; the community's
//! moderators (its owner, its admins, and the node's admins from `[api] admins`) hide / unhide any
//! post, lock / unlock and pin / unpin threads, see the queue of posts with open reports (grouped
//! by post, the longest waiting first) and resolve a post's reports. Every action is logged with
//! who, when and why. The node's admins also see every community's queue at
//! `/api/admin/moderation/queue`. Anyone else is refused with 403 `not_moderator`.

use agora_store::{ModerationAction, ModerationEntry, QueueEntry, ReportRow};
use alloy::primitives::Address;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::admin::Admin;
use crate::auth::SignedIn;
use crate::error::ErrorBody;
use crate::params::{self, TextKind};
use crate::posts::{PostDto, Visible, account, now, post_dto, refused, standing, visible_post};
use crate::{ApiError, AppState};

/// The longest reason given with a report or a moderation action, in characters once trimmed.
pub(crate) const MAX_REASON: usize = 500;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/posts/{id}/reports", post(report_post))
        .route("/api/posts/{id}/reports/resolve", post(resolve_reports))
        .route("/api/posts/{id}/moderation", post(moderate_post))
        .route("/api/communities/{id}/moderation/queue", get(community_queue))
        .route("/api/communities/{id}/moderation/log", get(community_moderation_log))
        .route("/api/admin/moderation/queue", get(admin_moderation_queue))
}

fn not_moderator(community_id: u64) -> ApiError {
    ApiError::Forbidden {
        code: "not_moderator",
        message: format!(
            "only the owner and the admins of community {community_id} (or this node's admins) moderate it"
        ),
    }
}

fn reason(raw: &str) -> Result<String, ApiError> {
    params::text("reason", raw, MAX_REASON, TextKind::Line)
}

/// Why a member reports a post.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ReportRequest)]
struct ReportRequest {
    /// 1 to 500 characters once trimmed, one line.
    #[schema(max_length = 500)]
    reason: String,
}

/// A member's report of a post.
#[derive(Serialize, utoipa::ToSchema, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
#[schema(as = Report)]
#[graphql(name = "Report")]
pub(crate) struct ReportDto {
    post_id: u64,
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    reporter: String,
    reason: String,
    reported_at: u64,
}

fn report_dto(r: ReportRow) -> ReportDto {
    ReportDto {
        post_id: r.post_id,
        reporter: format!("{:#x}", r.reporter),
        reason: r.reason,
        reported_at: r.reported_at,
    }
}

fn post_id(path: Result<Path<String>, PathRejection>) -> Result<u64, ApiError> {
    let Path(raw) = path?;
    params::id("post id", &raw)
}

/// Report a post to its community's moderators (members only, once per post)
#[utoipa::path(post, path = "/api/posts/{id}/reports", tag = "social", operation_id = "report_post",
    security(("session" = [])), request_body = ReportRequest,
    params(("id" = u64, Path, maximum = 9223372036854775807_u64)),
    responses(
        (status = 201, description = "reported", body = ReportDto),
        (status = 400, description = "a malformed id or reason", body = ErrorBody),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 403, description = "not_member, or user_disabled: a node admin disabled the reporter", body = ErrorBody),
        (status = 404, description = "no such post", body = ErrorBody),
        (status = 409, description = "already_reported or deleted", body = ErrorBody),
    ),
)]
async fn report_post(
    State(s): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    who: SignedIn,
    body: Result<Json<ReportRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<ReportDto>), ApiError> {
    let id = post_id(path)?;
    let Json(req) = body?;
    Ok((StatusCode::CREATED, Json(report(&s, id, &req.reason, account(&who)?).await?)))
}

/// `me` reports post `id` to its community's moderators (members only, once per post).
pub(crate) async fn report(s: &AppState, id: u64, reason: &str, me: Address) -> Result<ReportDto, ApiError> {
    let reason = self::reason(reason)?;
    crate::posts::active(s, me).await?;
    let Visible { post, access, .. } = visible_post(s, id, Some(me)).await?;
    if !access.member {
        return Err(ApiError::Forbidden {
            code: "not_member",
            message: format!("only members of community {} report its posts", post.community_id),
        });
    }
    if post.deleted_at.is_some() {
        return Err(refused(agora_store::PostRefusal::Deleted, id));
    }
    let at = now();
    if !s.store.report_post(s.network.chain_id, id, post.community_id, me, &reason, at).await? {
        return Err(ApiError::Rejected {
            code: "already_reported",
            message: format!("you already reported post {id}"),
        });
    }
    Ok(report_dto(ReportRow { post_id: id, reporter: me, reason, reported_at: at }))
}

/// What a moderator does to a post.
#[derive(Deserialize, Clone, Copy, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ModerationAction)]
enum ActionDto {
    Hide,
    Unhide,
    Lock,
    Unlock,
    Pin,
    Unpin,
}

/// A moderation action and why.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ModerationRequest)]
struct ModerationRequest {
    /// `lock`, `unlock`, `pin` and `unpin` are for threads only.
    action: ActionDto,
    /// 1 to 500 characters once trimmed, one line: kept in the moderation log.
    #[schema(max_length = 500)]
    reason: String,
}

/// One line of a community's moderation log.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ModerationLogEntry)]
struct EntryDto {
    seq: u64,
    community_id: u64,
    post_id: u64,
    /// The moderator.
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    actor: String,
    /// `hide`, `unhide`, `lock`, `unlock`, `pin`, `unpin` or `resolve`.
    action: String,
    reason: String,
    at: u64,
}

fn entry_dto(e: ModerationEntry) -> EntryDto {
    EntryDto {
        seq: e.seq,
        community_id: e.community_id,
        post_id: e.post_id,
        actor: format!("{:#x}", e.actor),
        action: e.action.as_str().to_owned(),
        reason: e.reason,
        at: e.at,
    }
}

/// A moderation action's result: the post as it is now, and the log entry.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ModerationResult)]
struct ModeratedDto {
    post: PostDto,
    entry: EntryDto,
}

/// Hide, unhide, lock, unlock, pin or unpin a post (moderators only; logged)
#[utoipa::path(post, path = "/api/posts/{id}/moderation", tag = "social", operation_id = "moderate_post",
    security(("session" = [])), request_body = ModerationRequest,
    params(("id" = u64, Path, maximum = 9223372036854775807_u64)),
    responses(
        (status = 200, description = "done and logged", body = ModeratedDto),
        (status = 400, description = "a malformed id, action or reason", body = ErrorBody),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 403, description = "not_moderator", body = ErrorBody),
        (status = 404, description = "no such post", body = ErrorBody),
        (status = 409, description = "no_change (already in that state) or not_a_thread", body = ErrorBody),
    ),
)]
async fn moderate_post(
    State(s): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    who: SignedIn,
    body: Result<Json<ModerationRequest>, JsonRejection>,
) -> Result<Json<ModeratedDto>, ApiError> {
    let id = post_id(path)?;
    let Json(req) = body?;
    let reason = reason(&req.reason)?;
    let me = account(&who)?;
    let community_id = moderated_community(&s, id, me).await?;
    let action = match req.action {
        ActionDto::Hide => ModerationAction::Hide,
        ActionDto::Unhide => ModerationAction::Unhide,
        ActionDto::Lock => ModerationAction::Lock,
        ActionDto::Unlock => ModerationAction::Unlock,
        ActionDto::Pin => ModerationAction::Pin,
        ActionDto::Unpin => ModerationAction::Unpin,
    };
    let done = s.store.moderate_post(s.network.chain_id, id, me, action, &reason, now()).await?;
    let (post, entry) = done.map_err(|r| refused(r, id))?;
    tracing::info!(post = id, community = community_id, action = action.as_str(), moderator = %me, "post moderated");
    crate::post_notices::moderated(&s, &post, &entry).await;
    Ok(Json(ModeratedDto { post: post_dto(post), entry: entry_dto(entry) }))
}

/// The community of post `id` when `me` moderates it: 404 for no such post, 403 otherwise.
async fn moderated_community(s: &AppState, id: u64, me: alloy::primitives::Address) -> Result<u64, ApiError> {
    let anyone = agora_store::Viewer::default();
    let post = s
        .store
        .post(s.network.chain_id, id, &anyone)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no post {id}")))?;
    let (_, viewer) = standing(s, post.community_id, Some(me)).await?;
    if !viewer.moderator {
        return Err(not_moderator(post.community_id));
    }
    Ok(post.community_id)
}

/// How a moderator resolved a post's reports.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ResolveRequest)]
struct ResolveRequest {
    /// 1 to 500 characters once trimmed, one line (e.g. "hidden: spam", "no rule broken").
    #[schema(max_length = 500)]
    resolution: String,
}

/// Reports resolved.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ResolveResult)]
struct ResolvedDto {
    /// How many open reports were resolved.
    resolved: u64,
    entry: EntryDto,
}

/// Resolve a post's open reports (moderators only; logged)
#[utoipa::path(post, path = "/api/posts/{id}/reports/resolve", tag = "social", operation_id = "resolve_reports",
    security(("session" = [])), request_body = ResolveRequest,
    params(("id" = u64, Path, maximum = 9223372036854775807_u64)),
    responses(
        (status = 200, description = "resolved and logged", body = ResolvedDto),
        (status = 400, description = "a malformed id or resolution", body = ErrorBody),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 403, description = "not_moderator", body = ErrorBody),
        (status = 404, description = "no such post", body = ErrorBody),
        (status = 409, description = "no_open_reports", body = ErrorBody),
    ),
)]
async fn resolve_reports(
    State(s): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    who: SignedIn,
    body: Result<Json<ResolveRequest>, JsonRejection>,
) -> Result<Json<ResolvedDto>, ApiError> {
    let id = post_id(path)?;
    let Json(req) = body?;
    let resolution = params::text("resolution", &req.resolution, MAX_REASON, TextKind::Line)?;
    let me = account(&who)?;
    moderated_community(&s, id, me).await?;
    let done = s.store.resolve_reports(s.network.chain_id, id, me, &resolution, now()).await?;
    let (resolved, entry) = done.map_err(|r| refused(r, id))?;
    Ok(Json(ResolvedDto { resolved, entry: entry_dto(entry) }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ModerationPage {
    /// at most this many (default 50)
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// skip this many (default 0)
    #[param(maximum = 9223372036854775807_u64)]
    offset: Option<u64>,
}

impl ModerationPage {
    fn read(&self) -> Result<(u32, u64), ApiError> {
        Ok((params::limit(self.limit, 50, 100)?, params::offset(self.offset)?))
    }
}

/// A post with open reports.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ModerationQueueItem)]
struct QueueItemDto {
    /// The post as a moderator sees it (hidden ones included, marked).
    post: PostDto,
    /// Its open reports, oldest first.
    reports: Vec<ReportDto>,
}

fn queue_dto(queue: Vec<QueueEntry>) -> Vec<QueueItemDto> {
    queue
        .into_iter()
        .map(|q| QueueItemDto { post: post_dto(q.post), reports: q.reports.into_iter().map(report_dto).collect() })
        .collect()
}

/// The community of path `id` when `who` moderates it.
async fn moderated(s: &AppState, path: Result<Path<String>, PathRejection>, who: &SignedIn) -> Result<u64, ApiError> {
    let Path(raw) = path?;
    let community_id = params::id("community id", &raw)?;
    let (_, viewer) = standing(s, community_id, Some(account(who)?)).await?;
    if !viewer.moderator {
        return Err(not_moderator(community_id));
    }
    Ok(community_id)
}

/// A community's moderation queue (moderators only)
#[utoipa::path(get, path = "/api/communities/{id}/moderation/queue", tag = "social", operation_id = "community_moderation_queue",
    security(("session" = [])),
    params(("id" = u64, Path, description = "the community's on-chain id", maximum = 9223372036854775807_u64), ModerationPage),
    responses(
        (status = 200, description = "posts with open reports, the longest waiting first", body = Vec<QueueItemDto>),
        (status = 400, description = "a malformed id, limit or offset", body = ErrorBody),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 403, description = "not_moderator", body = ErrorBody),
        (status = 404, description = "no such community", body = ErrorBody),
    ),
)]
async fn community_queue(
    State(s): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    q: Result<Query<ModerationPage>, QueryRejection>,
    who: SignedIn,
) -> Result<Json<Vec<QueueItemDto>>, ApiError> {
    let Query(q) = q?;
    let (limit, offset) = q.read()?;
    let community_id = moderated(&s, path, &who).await?;
    let queue = s.store.moderation_queue(s.network.chain_id, Some(community_id), limit, offset).await?;
    Ok(Json(queue_dto(queue)))
}

/// A community's moderation log (moderators only)
#[utoipa::path(get, path = "/api/communities/{id}/moderation/log", tag = "social", operation_id = "community_moderation_log",
    security(("session" = [])),
    params(("id" = u64, Path, description = "the community's on-chain id", maximum = 9223372036854775807_u64), ModerationPage),
    responses(
        (status = 200, description = "newest first", body = Vec<EntryDto>),
        (status = 400, description = "a malformed id, limit or offset", body = ErrorBody),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 403, description = "not_moderator", body = ErrorBody),
        (status = 404, description = "no such community", body = ErrorBody),
    ),
)]
async fn community_moderation_log(
    State(s): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    q: Result<Query<ModerationPage>, QueryRejection>,
    who: SignedIn,
) -> Result<Json<Vec<EntryDto>>, ApiError> {
    let Query(q) = q?;
    let (limit, offset) = q.read()?;
    let community_id = moderated(&s, path, &who).await?;
    let log = s.store.moderation_log(s.network.chain_id, community_id, limit, offset).await?;
    Ok(Json(log.into_iter().map(entry_dto).collect()))
}

/// Every community's moderation queue (the node's admins)
#[utoipa::path(get, path = "/api/admin/moderation/queue", tag = "admin", operation_id = "admin_moderation_queue",
    security(("session" = [])), params(ModerationPage),
    responses(
        (status = 200, description = "posts with open reports in any community, the longest waiting first", body = Vec<QueueItemDto>),
        (status = 400, description = "a malformed limit or offset", body = ErrorBody),
        (status = 401, description = "not signed in", body = ErrorBody),
        (status = 403, description = "not_admin", body = ErrorBody),
    ),
)]
async fn admin_moderation_queue(
    State(s): State<AppState>,
    q: Result<Query<ModerationPage>, QueryRejection>,
    _: Admin,
) -> Result<Json<Vec<QueueItemDto>>, ApiError> {
    let Query(q) = q?;
    let (limit, offset) = q.read()?;
    let queue = s.store.moderation_queue(s.network.chain_id, None, limit, offset).await?;
    Ok(Json(queue_dto(queue)))
}
