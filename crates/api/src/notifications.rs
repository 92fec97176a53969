//! The signed-in person's notifications: the list with its unread count, read marks, preferences
//! (muted / normal / watching per task, per community and by default), and a live stream of new
//! ones (`GET /api/me/notifications/stream`, server-sent events). Every endpoint serves only the
//! session's own account: nobody reads, marks or hears another's notifications.

use std::convert::Infallible;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use agora_bus::Delivery;
use agora_store::{NotificationRow, NotifyLevel, PrefRow};
use alloy::primitives::Address;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;

use crate::auth::SignedIn;
use crate::error::ErrorBody;
use crate::{ApiError, AppState, params};

/// The most ids one read mark may name.
const MAX_READ_IDS: usize = 1000;
/// The most preferences one account may keep.
const MAX_PREFS: usize = 500;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/me/notifications", get(list))
        .route("/api/me/notifications/read", post(mark_read))
        .route("/api/me/notifications/stream", get(stream))
        .route("/api/me/notification-prefs", get(prefs).put(put_prefs))
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

pub(crate) fn account(who: &SignedIn) -> Result<Address, ApiError> {
    // The session's address was checked when it was signed; a bad one is a corrupt session row.
    who.address.parse().map_err(|_| ApiError::Internal(format!("session address {:?} does not parse", who.address)))
}

/// One notification.
#[derive(Serialize, Clone, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Notification)]
pub(crate) struct NotificationDto {
    /// Its number; later notifications have higher ones.
    id: u64,
    /// What happened (`board-accepted`, `board-submitted`, `board-approved`, `board-rejected`,
    /// `board-dispute-opened`, `board-dispute-resolved`, `points-minted`, `post-reply`,
    /// `post-moderated`, …).
    kind: String,
    /// What it is about (`board-task:7`, `community:3`).
    subject: String,
    /// One English sentence (the page renders its own from `kind` and `payload`).
    title: String,
    /// The details, as the kind defines them.
    #[schema(value_type = Object)]
    payload: serde_json::Value,
    /// Unix seconds.
    created_at: u64,
    /// When it was marked read, unix seconds; absent while unread.
    #[serde(skip_serializing_if = "Option::is_none")]
    read_at: Option<u64>,
}

pub(crate) fn notification_dto(n: NotificationRow) -> NotificationDto {
    NotificationDto {
        id: n.id,
        kind: n.kind,
        subject: n.subject,
        title: n.title,
        payload: n.payload,
        created_at: n.created_at,
        read_at: n.read_at,
    }
}

/// A page of notifications, newest first.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = NotificationPage)]
struct PageDto {
    items: Vec<NotificationDto>,
    /// Unread notifications in all (not only on this page).
    unread: u64,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// only notifications with a lower id (the next page back)
    #[param(minimum = 0, maximum = 9223372036854775807_i64)]
    before: Option<u64>,
    /// only notifications with a higher id (what came since)
    #[param(minimum = 0, maximum = 9223372036854775807_i64)]
    after: Option<u64>,
    /// at most this many (default 50)
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

fn id_in_range(what: &str, v: Option<u64>) -> Result<Option<u64>, ApiError> {
    match v {
        Some(v) if v > params::MAX_ID => {
            Err(ApiError::BadRequest(format!("{what} {v} is out of range: give 0 to {}", params::MAX_ID)))
        }
        v => Ok(v),
    }
}

/// The signed-in user's notifications
#[utoipa::path(get, path = "/api/me/notifications", tag = "notifications", operation_id = "my_notifications",
    params(ListQuery), security(("session" = [])),
    summary = "The signed-in user's notifications, newest first, with the unread count",
    responses(
        (status = 200, description = "ok", body = PageDto),
        (status = 400, description = "a malformed query", body = ErrorBody),
        (status = 401, description = "unauthenticated", body = ErrorBody),
    ),
)]
async fn list(
    State(s): State<AppState>,
    who: SignedIn,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<PageDto>, ApiError> {
    let Query(q) = q?;
    let limit = params::limit(q.limit, 50, 200)?;
    let (before, after) = (id_in_range("before", q.before)?, id_in_range("after", q.after)?);
    let page = s.store.notifications(account(&who)?, before, after, limit).await?;
    Ok(Json(PageDto { items: page.items.into_iter().map(notification_dto).collect(), unread: page.unread }))
}

/// Which notifications to mark read: `ids`, or `all`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MarkRead)]
struct ReadRequest {
    /// These notifications (at most 1000); ids of someone else's change nothing.
    #[schema(max_items = 1000)]
    ids: Option<Vec<u64>>,
    /// Every notification of the signed-in user.
    all: Option<bool>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = MarkedRead)]
struct ReadDto {
    /// How many were unread and are read now.
    marked: u64,
    /// Unread notifications left.
    unread: u64,
}

/// Mark notifications read
#[utoipa::path(post, path = "/api/me/notifications/read", tag = "notifications", operation_id = "mark_notifications_read",
    request_body = ReadRequest, security(("session" = [])),
    responses(
        (status = 200, description = "ok", body = ReadDto),
        (status = 400, description = "neither ids nor all=true, both, or too many ids", body = ErrorBody),
        (status = 401, description = "unauthenticated", body = ErrorBody),
    ),
)]
async fn mark_read(
    State(s): State<AppState>,
    who: SignedIn,
    body: Result<Json<ReadRequest>, JsonRejection>,
) -> Result<Json<ReadDto>, ApiError> {
    let Json(req) = body?;
    let me = account(&who)?;
    let ids = match (req.ids, req.all.unwrap_or(false)) {
        (Some(_), true) => return Err(ApiError::BadRequest("give ids or all=true, not both".into())),
        (None, false) => return Err(ApiError::BadRequest("give ids (a list of notification ids) or all=true".into())),
        (Some(ids), false) if ids.len() > MAX_READ_IDS => {
            return Err(ApiError::BadRequest(format!("at most {MAX_READ_IDS} ids at once")));
        }
        (Some(ids), false) => {
            for id in &ids {
                id_in_range("id", Some(*id))?;
            }
            Some(ids)
        }
        (None, true) => None,
    };
    let marked = s.store.mark_notifications_read(me, ids.as_deref(), now()).await?;
    let unread = s.store.notifications(me, None, None, 1).await?.unread;
    Ok(Json(ReadDto { marked, unread }))
}

/// One preference: how much to hear about a scope.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NotificationPref)]
struct PrefDto {
    /// `default`, `community:{id}` or `task:{id}` (a task-board task).
    #[schema(pattern = "^(default|community:[0-9]{1,19}|task:[0-9]{1,19})$")]
    scope: String,
    /// `muted`: nothing; `normal`: what concerns you, in the page, and by mail what matters most;
    /// `watching`: also every event on the task or community, in the page and by mail.
    #[schema(value_type = String, pattern = "^(muted|normal|watching)$")]
    level: String,
}

/// Every preference of the signed-in user; a scope not listed follows `default`, and `default`
/// not listed is `normal`.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NotificationPrefs)]
struct PrefsDto {
    #[schema(max_items = 500)]
    prefs: Vec<PrefDto>,
}

fn prefs_dto(rows: Vec<PrefRow>) -> PrefsDto {
    PrefsDto { prefs: rows.into_iter().map(|p| PrefDto { scope: p.scope, level: p.level.as_str().into() }).collect() }
}

fn check_scope(raw: &str) -> Result<String, ApiError> {
    if raw == "default" {
        return Ok(raw.into());
    }
    let bad = || ApiError::Invalid {
        code: "invalid_scope",
        message: format!("scope {raw:?} is not default, community:{{id}} or task:{{id}}"),
    };
    let (kind, id) = raw.split_once(':').ok_or_else(bad)?;
    if kind != "community" && kind != "task" {
        return Err(bad());
    }
    let id = params::id("scope id", id).map_err(|_| bad())?;
    Ok(format!("{kind}:{id}"))
}

/// The signed-in user's notification preferences
#[utoipa::path(get, path = "/api/me/notification-prefs", tag = "notifications", operation_id = "my_notification_prefs",
    security(("session" = [])),
    responses(
        (status = 200, description = "ok", body = PrefsDto),
        (status = 401, description = "unauthenticated", body = ErrorBody),
    ),
)]
async fn prefs(State(s): State<AppState>, who: SignedIn) -> Result<Json<PrefsDto>, ApiError> {
    Ok(Json(prefs_dto(s.store.notification_prefs(account(&who)?).await?)))
}

/// Replace the signed-in user's notification preferences
#[utoipa::path(put, path = "/api/me/notification-prefs", tag = "notifications", operation_id = "set_notification_prefs",
    request_body = PrefsDto, security(("session" = [])),
    responses(
        (status = 200, description = "the preferences now in force", body = PrefsDto),
        (status = 400, description = "invalid_scope, invalid_level, duplicate_scope, too many, or malformed JSON", body = ErrorBody),
        (status = 401, description = "unauthenticated", body = ErrorBody),
    ),
)]
async fn put_prefs(
    State(s): State<AppState>,
    who: SignedIn,
    body: Result<Json<PrefsDto>, JsonRejection>,
) -> Result<Json<PrefsDto>, ApiError> {
    let Json(req) = body?;
    if req.prefs.len() > MAX_PREFS {
        return Err(ApiError::BadRequest(format!("at most {MAX_PREFS} preferences")));
    }
    let mut rows: Vec<PrefRow> = Vec::with_capacity(req.prefs.len());
    for p in req.prefs {
        let scope = check_scope(&p.scope)?;
        let level: NotifyLevel = p.level.parse().map_err(|_| ApiError::Invalid {
            code: "invalid_level",
            message: format!("level {:?} is not muted, normal or watching", p.level),
        })?;
        if rows.iter().any(|r| r.scope == scope) {
            return Err(ApiError::Invalid {
                code: "duplicate_scope",
                message: format!("scope {scope} is given twice"),
            });
        }
        rows.push(PrefRow { scope, level });
    }
    let me = account(&who)?;
    s.store.set_notification_prefs(me, &rows, now()).await?;
    Ok(Json(prefs_dto(s.store.notification_prefs(me).await?)))
}

/// Live notifications of the signed-in user
#[utoipa::path(get, path = "/api/me/notifications/stream", tag = "live", operation_id = "my_notification_stream",
    security(("session" = [])),
    summary = "Server-sent events: `notification` with each new notification of the signed-in user; `resync` when the client fell behind (re-read the list). Ends when the session does",
    responses(
        (status = 200, description = "an event stream", content_type = "text/event-stream", body = String),
        (status = 401, description = "unauthenticated", body = ErrorBody),
    ),
)]
async fn stream(
    State(s): State<AppState>,
    who: SignedIn,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let me = account(&who)?;
    // Notifications arrive through the bus (whichever process wrote them) and are read from the
    // shared database: only this user's, each once.
    let rx = s.live.subscribe();
    let prefix = format!("notice:{me:#x}:");
    let ends = tokio::time::Instant::now() + Duration::from_secs(who.expires_at.saturating_sub(now()));
    let stream = futures_util::stream::unfold((rx, s, prefix), move |(mut rx, s, prefix)| async move {
        loop {
            let got = tokio::select! {
                got = rx.recv() => got,
                // The session ended: so does what it may hear.
                _ = tokio::time::sleep_until(ends) => return None,
            };
            let resync = |missed: u64| Event::default().event("resync").data(format!("{{\"missed\":{missed}}}"));
            let event = match got {
                Ok(Delivery::Message(m)) => {
                    let Some(id) = m.subject().strip_prefix(&prefix).and_then(|id| id.parse::<u64>().ok()) else {
                        continue;
                    };
                    match s.store.notifications(me, Some(id.saturating_add(1)), Some(id.saturating_sub(1)), 1).await {
                        Ok(page) => {
                            match page.items.into_iter().next().map(|n| serde_json::to_string(&notification_dto(n))) {
                                Some(Ok(json)) => Event::default().event("notification").data(json),
                                _ => continue,
                            }
                        }
                        // The database did not answer: the client re-reads its list.
                        Err(_) => resync(0),
                    }
                }
                Ok(Delivery::Gap { missed }) => resync(missed),
                Err(RecvError::Lagged(missed)) => resync(missed),
                Err(RecvError::Closed) => return None,
            };
            return Some((Ok(event), (rx, s, prefix)));
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_default_or_a_kind_and_an_id() {
        assert_eq!(check_scope("default").ok().as_deref(), Some("default"));
        assert_eq!(check_scope("task:7").ok().as_deref(), Some("task:7"));
        assert_eq!(check_scope("community:0").ok().as_deref(), Some("community:0"));
        for bad in ["", "task", "task:", "task:-1", "task:x", "board:1", "community:99999999999999999999", "Default"] {
            assert!(check_scope(bad).is_err(), "{bad:?}");
        }
    }
}
