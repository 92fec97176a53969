//! Community posts: threads and replies per community (an on-chain `Communities` id, as indexed).
//! Anyone reads; only members write (403 `not_member`); authors edit and delete their own posts
//! (a deleted post stays as a tombstone with no title and no body); a locked thread takes no reply
//! or edit; each author's posts are rate limited (`[social]`, counted in the database, 429 with
//! `Retry-After`). Hidden posts are left out for everyone but their author and the community's
//! moderators (its owner, its admins and the node's admins), who see them marked `hidden`.
//! Markdown is stored exactly as sent; the web app renders it safely.
//!
//! Lists are pages of `limit` (1 to 100, default 20) from `offset`; `order` is `newest` (the
//! default for threads: pinned threads first, then newest) or `oldest` (the default for replies).

use agora_store::{CommunityAccess, NewPost, PostOrder, PostRefusal, PostRow, RateLimit, Viewer};
use alloy::primitives::Address;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::auth::SignedIn;
use crate::error::ErrorBody;
use crate::params::{self, TextKind};
pub(crate) use crate::posts_dto::{PageQuery, PostDto, post_dto};
use crate::posts_dto::{ThreadListDto, ThreadPageDto, page};
use crate::{ApiError, AppState};

/// The longest thread title, in characters, once trimmed.
pub(crate) const MAX_TITLE: usize = 120;
/// The longest post body, in characters (Unicode scalar values) of markdown.
pub(crate) const MAX_BODY: usize = 20_000;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/communities/{id}/threads", get(community_threads).post(create_thread))
        .route("/api/threads/{id}", get(thread_page))
        .route("/api/threads/{id}/replies", post(create_reply))
        .route("/api/posts/{id}", patch(edit_post).delete(delete_post))
        .merge(crate::moderation::router())
}

pub(crate) fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

/// The signed-in wallet when there is a valid session, else nobody (reading needs no sign-in).
pub(crate) struct MaybeSignedIn(pub Option<Address>);

impl FromRequestParts<AppState> for MaybeSignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, ApiError> {
        match SignedIn::from_request_parts(parts, s).await {
            Ok(who) => Ok(Self(Some(account(&who)?))),
            Err(ApiError::Unauthorized { .. }) => Ok(Self(None)),
            Err(e) => Err(e),
        }
    }
}

pub(crate) fn account(who: &SignedIn) -> Result<Address, ApiError> {
    who.address.parse().map_err(|_| ApiError::Internal("a session holds a bad address".into()))
}

/// Community `community_id` and how `who` stands in it: 404 when the indexer knows no such
/// community. Its owner, its admins and the node's admins moderate it.
pub(crate) async fn standing(
    s: &AppState,
    community_id: u64,
    who: Option<Address>,
) -> Result<(CommunityAccess, Viewer), ApiError> {
    let access = s
        .store
        .community_access(s.network.chain_id, community_id, who)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no community {community_id}")))?;
    let moderator = who.is_some_and(|a| a == access.owner || access.admin || s.admins.contains(&a));
    Ok((access, Viewer { account: who, moderator }))
}

/// Post `id` as `who` may see it (404 when it does not exist or is hidden from them), with how
/// `who` stands in its community.
pub(crate) async fn visible_post(s: &AppState, id: u64, who: Option<Address>) -> Result<Visible, ApiError> {
    let chain = s.network.chain_id;
    let missing = || ApiError::NotFound(format!("no post {id}"));
    let first = s.store.post(chain, id, &Viewer { account: who, moderator: false }).await?.ok_or_else(missing)?;
    let (access, viewer) = standing(s, first.community_id, who).await?;
    if !viewer.sees(&first) {
        return Err(missing());
    }
    // A moderator's reply count includes the hidden replies.
    let post = if viewer.moderator { s.store.post(chain, id, &viewer).await?.ok_or_else(missing)? } else { first };
    Ok(Visible { post, access, viewer })
}

/// A post someone may see, and where they stand in its community.
pub(crate) struct Visible {
    pub post: PostRow,
    pub access: CommunityAccess,
    pub viewer: Viewer,
}

pub(crate) fn refused(refusal: PostRefusal, id: u64) -> ApiError {
    let rejected = |code, message: String| ApiError::Rejected { code, message };
    match refusal {
        PostRefusal::NoSuchPost => ApiError::NotFound(format!("no post {id}")),
        PostRefusal::NotAThread => rejected("not_a_thread", format!("post {id} is a reply, not a thread")),
        PostRefusal::ThreadLocked => rejected("thread_locked", format!("the thread of post {id} is locked")),
        PostRefusal::Deleted => rejected("deleted", format!("post {id} was deleted")),
        PostRefusal::RateLimited { retry_after } => ApiError::TooManyRequests {
            retry_after,
            message: format!("you are posting too often; try again in {retry_after} s"),
        },
        PostRefusal::NoChange => rejected("no_change", format!("post {id} is already in that state")),
        PostRefusal::NoOpenReports => rejected("no_open_reports", format!("post {id} has no open report")),
    }
}

fn forbidden(code: &'static str, message: String) -> ApiError {
    ApiError::Forbidden { code, message }
}

/// A community's threads
#[utoipa::path(get, path = "/api/communities/{id}/threads", tag = "social", operation_id = "community_threads",
    params(("id" = u64, Path, description = "the community's on-chain id", maximum = 9223372036854775807_u64), PageQuery),
    responses(
        (status = 200, description = "pinned threads first, then by order", body = ThreadListDto),
        (status = 400, description = "a malformed id, order, limit or offset", body = ErrorBody),
        (status = 404, description = "no such community", body = ErrorBody),
    ),
)]
async fn community_threads(
    State(s): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    q: Result<Query<PageQuery>, QueryRejection>,
    MaybeSignedIn(who): MaybeSignedIn,
) -> Result<Json<ThreadListDto>, ApiError> {
    let Path(raw) = path?;
    let Query(q) = q?;
    Ok(Json(threads_page(&s, params::id("community id", &raw)?, &q, who).await?))
}

/// A page of community `community_id`'s threads as `who` sees them.
pub(crate) async fn threads_page(
    s: &AppState,
    community_id: u64,
    q: &PageQuery,
    who: Option<Address>,
) -> Result<ThreadListDto, ApiError> {
    let (order, limit, offset) = q.read(PostOrder::Newest)?;
    let (access, viewer) = standing(s, community_id, who).await?;
    let rows = s.store.threads(s.network.chain_id, community_id, &viewer, order, limit + 1, offset).await?;
    let (threads, next_offset) = page(rows, limit, offset);
    Ok(ThreadListDto { threads, next_offset, can_post: access.member, can_moderate: viewer.moderator })
}

/// A new thread.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewThread)]
struct NewThreadDto {
    /// 1 to 120 characters once trimmed, one line.
    #[schema(max_length = 120)]
    title: String,
    /// Markdown, 1 to 20,000 characters, kept exactly as sent.
    #[schema(max_length = 20000)]
    body: String,
}

/// Start a thread in a community (members only)
#[utoipa::path(post, path = "/api/communities/{id}/threads", tag = "social", operation_id = "create_thread",
    security(("session" = [])), request_body = NewThreadDto,
    params(("id" = u64, Path, description = "the community's on-chain id", maximum = 9223372036854775807_u64)),
    responses(
        (status = 201, description = "written", body = PostDto),
        (status = 400, description = "a malformed id, title or body", body = ErrorBody),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 403, description = "not_member, or user_disabled: a node admin disabled the author", body = ErrorBody),
        (status = 404, description = "no such community", body = ErrorBody),
        (status = 429, description = "rate_limited: the author's posts in the window reached `[social] posts_per_window`", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds until the author may post again"))),
    ),
)]
async fn create_thread(
    State(s): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    who: SignedIn,
    body: Result<Json<NewThreadDto>, JsonRejection>,
) -> Result<(StatusCode, Json<PostDto>), ApiError> {
    let Path(raw) = path?;
    let community_id = params::id("community id", &raw)?;
    let Json(new) = body?;
    let post = start_thread(&s, community_id, &new.title, &new.body, account(&who)?).await?;
    Ok((StatusCode::CREATED, Json(post)))
}

/// `author` starts a thread in community `community_id` (members only, rate limited).
pub(crate) async fn start_thread(
    s: &AppState,
    community_id: u64,
    title: &str,
    body: &str,
    author: Address,
) -> Result<PostDto, ApiError> {
    let title = params::text("title", title, MAX_TITLE, TextKind::Line)?;
    let body = params::text("body", body, MAX_BODY, TextKind::Block)?;
    let (access, _) = standing(s, community_id, Some(author)).await?;
    if !access.member {
        return Err(forbidden("not_member", format!("join community {community_id} to post in it")));
    }
    let post = NewPost { community_id, thread_id: None, author, title: Some(title), body };
    Ok(post_dto(write(s, &post).await?))
}

async fn write(s: &AppState, post: &NewPost) -> Result<PostRow, ApiError> {
    active(s, post.author).await?;
    let limit = RateLimit { max_posts: s.social.posts_per_window, window_secs: s.social.window_secs };
    match s.store.create_post(s.network.chain_id, post, now(), limit).await? {
        Ok(row) => Ok(row),
        Err(refusal) => Err(refused(refusal, post.thread_id.unwrap_or_default())),
    }
}

/// Refuses a user a node admin disabled (403 `user_disabled`): they read, but write nothing.
pub(crate) async fn active(s: &AppState, who: Address) -> Result<(), ApiError> {
    if s.store.assistant_user_disabled(who).await? {
        return Err(forbidden("user_disabled", format!("{who:#x} is disabled by an admin of this node")));
    }
    Ok(())
}

/// A thread and its replies
#[utoipa::path(get, path = "/api/threads/{id}", tag = "social", operation_id = "thread_page",
    params(("id" = u64, Path, description = "the thread's post id", maximum = 9223372036854775807_u64), PageQuery),
    responses(
        (status = 200, description = "replies oldest first unless order=newest", body = ThreadPageDto),
        (status = 400, description = "a malformed id, order, limit or offset", body = ErrorBody),
        (status = 404, description = "no such thread (or hidden from the viewer, or the id is a reply's)", body = ErrorBody),
    ),
)]
async fn thread_page(
    State(s): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    q: Result<Query<PageQuery>, QueryRejection>,
    MaybeSignedIn(who): MaybeSignedIn,
) -> Result<Json<ThreadPageDto>, ApiError> {
    let Path(raw) = path?;
    let Query(q) = q?;
    Ok(Json(thread_with_replies(&s, params::id("thread id", &raw)?, &q, who).await?))
}

/// Thread `id` with a page of its replies as `who` sees them; 404 when it is hidden from them or
/// is a reply.
pub(crate) async fn thread_with_replies(
    s: &AppState,
    id: u64,
    q: &PageQuery,
    who: Option<Address>,
) -> Result<ThreadPageDto, ApiError> {
    let (order, limit, offset) = q.read(PostOrder::Oldest)?;
    let Visible { post: thread, access, viewer } = visible_post(s, id, who).await?;
    if !thread.is_thread() {
        return Err(ApiError::NotFound(format!("post {id} is a reply in thread {}", thread.thread_id)));
    }
    let rows = s.store.replies(s.network.chain_id, id, &viewer, order, limit + 1, offset).await?;
    let (replies, next_offset) = page(rows, limit, offset);
    let can_reply = access.member && thread.locked_at.is_none() && thread.deleted_at.is_none();
    Ok(ThreadPageDto { thread: post_dto(thread), replies, next_offset, can_reply, can_moderate: viewer.moderator })
}

/// A reply.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewReply)]
struct NewReplyDto {
    /// Markdown, 1 to 20,000 characters, kept exactly as sent.
    #[schema(max_length = 20000)]
    body: String,
}

/// Reply in a thread (members only)
#[utoipa::path(post, path = "/api/threads/{id}/replies", tag = "social", operation_id = "create_reply",
    security(("session" = [])), request_body = NewReplyDto,
    params(("id" = u64, Path, description = "the thread's post id", maximum = 9223372036854775807_u64)),
    responses(
        (status = 201, description = "written", body = PostDto),
        (status = 400, description = "a malformed id or body", body = ErrorBody),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 403, description = "not_member, or user_disabled: a node admin disabled the author", body = ErrorBody),
        (status = 404, description = "no such thread", body = ErrorBody),
        (status = 409, description = "thread_locked, deleted or not_a_thread", body = ErrorBody),
        (status = 429, description = "rate_limited: the author's posts in the window reached `[social] posts_per_window`", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds until the author may post again"))),
    ),
)]
async fn create_reply(
    State(s): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    who: SignedIn,
    body: Result<Json<NewReplyDto>, JsonRejection>,
) -> Result<(StatusCode, Json<PostDto>), ApiError> {
    let Path(raw) = path?;
    let id = params::id("thread id", &raw)?;
    let Json(new) = body?;
    let post = reply(&s, id, &new.body, account(&who)?).await?;
    Ok((StatusCode::CREATED, Json(post)))
}

/// `author` replies in thread `id` (members only, not in a locked thread, rate limited).
pub(crate) async fn reply(s: &AppState, id: u64, body: &str, author: Address) -> Result<PostDto, ApiError> {
    let body = params::text("body", body, MAX_BODY, TextKind::Block)?;
    let Visible { post: thread, access, .. } = visible_post(s, id, Some(author)).await?;
    if !access.member {
        return Err(forbidden("not_member", format!("join community {} to reply in it", thread.community_id)));
    }
    let post = NewPost { community_id: thread.community_id, thread_id: Some(id), author, title: None, body };
    let row = write(s, &post).await?;
    crate::post_notices::replied(s, &thread, &row).await;
    Ok(post_dto(row))
}

/// An edit: the new body, and for a thread optionally a new title.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PostEdit)]
struct PostEditDto {
    /// A thread's new title (1 to 120 characters once trimmed); refused for a reply.
    #[serde(default)]
    #[schema(max_length = 120)]
    title: Option<String>,
    /// Markdown, 1 to 20,000 characters, kept exactly as sent.
    #[schema(max_length = 20000)]
    body: String,
}

/// Edit my post
#[utoipa::path(patch, path = "/api/posts/{id}", tag = "social", operation_id = "edit_post",
    security(("session" = [])), request_body = PostEditDto,
    params(("id" = u64, Path, maximum = 9223372036854775807_u64)),
    responses(
        (status = 200, description = "edited", body = PostDto),
        (status = 400, description = "a malformed id, title or body, or a title for a reply", body = ErrorBody),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 403, description = "not_author, or user_disabled: a node admin disabled the author", body = ErrorBody),
        (status = 404, description = "no such post", body = ErrorBody),
        (status = 409, description = "thread_locked or deleted", body = ErrorBody),
    ),
)]
async fn edit_post(
    State(s): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    who: SignedIn,
    body: Result<Json<PostEditDto>, JsonRejection>,
) -> Result<Json<PostDto>, ApiError> {
    let Path(raw) = path?;
    let id = params::id("post id", &raw)?;
    let Json(edit) = body?;
    let title = edit.title.as_deref().map(|t| params::text("title", t, MAX_TITLE, TextKind::Line)).transpose()?;
    let body = params::text("body", &edit.body, MAX_BODY, TextKind::Block)?;
    let me = account(&who)?;
    active(&s, me).await?;
    let (post, viewer) = own_post(&s, id, me).await?;
    if title.is_some() && !post.is_thread() {
        return Err(ApiError::BadRequest(format!("title: post {id} is a reply, and replies have no title")));
    }
    let edited = s.store.edit_post(s.network.chain_id, id, title.as_deref(), &body, now(), &viewer).await?;
    edited.map(|p| Json(post_dto(p))).map_err(|r| refused(r, id))
}

/// Post `id` when `me` wrote it: 404 when it does not exist or is hidden from them, 403 otherwise.
async fn own_post(s: &AppState, id: u64, me: Address) -> Result<(PostRow, Viewer), ApiError> {
    let Visible { post, viewer, .. } = visible_post(s, id, Some(me)).await?;
    if post.author != me {
        return Err(forbidden("not_author", format!("post {id} is not yours: only its author may change it")));
    }
    Ok((post, viewer))
}

/// Delete my post (a tombstone stays)
#[utoipa::path(delete, path = "/api/posts/{id}", tag = "social", operation_id = "delete_post",
    security(("session" = [])),
    params(("id" = u64, Path, maximum = 9223372036854775807_u64)),
    responses(
        (status = 200, description = "the tombstone: deleted, no title, no body", body = PostDto),
        (status = 400, description = "a malformed id", body = ErrorBody),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 403, description = "not_author", body = ErrorBody),
        (status = 404, description = "no such post", body = ErrorBody),
        (status = 409, description = "deleted: already deleted", body = ErrorBody),
    ),
)]
async fn delete_post(
    State(s): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    who: SignedIn,
) -> Result<Json<PostDto>, ApiError> {
    let Path(raw) = path?;
    let id = params::id("post id", &raw)?;
    let me = account(&who)?;
    let (_, viewer) = own_post(&s, id, me).await?;
    let deleted = s.store.delete_post(s.network.chain_id, id, now(), &viewer).await?;
    deleted.map(|p| Json(post_dto(p))).map_err(|r| refused(r, id))
}
