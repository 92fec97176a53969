//! `GET /api/events`: a server-sent event stream of what the indexer applies, for live pages.
//!
//! Every applied log about a task, and every change of a task's off-chain state (its iExec deal
//! and status), sends `event: task` with the task as `/api/tasks/{id}` shows it
//! (timeline included); a log about a service sends `event: service`; a log about a
//! federated-learning task sends `event: fl_task` with the task as `/api/fl/tasks` lists it; a log
//! about a task-board task `event: board_task` (as `/api/board/tasks` lists it) and one about a
//! community `event: community` (as `/api/communities` lists it).
//! `?user=0x…` keeps only that user's (compute) tasks. The stream follows the bus ([`crate::live`]),
//! so a client of any API process hears what the indexer of another applied. A client that may
//! have missed something — it fell behind, the bus lost its Redis connection for a while, the
//! publisher dropped messages — gets `event: resync` and should re-read what it shows.
//! Comments every 15 s keep proxies from closing an idle stream.

use std::convert::Infallible;
use std::time::Duration;

use agora_bus::Delivery;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use crate::error::ErrorBody;
use crate::routes::{load_service, load_task, parse_user};
use crate::{ApiError, AppState};

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/events", get(events))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct EventQuery {
    /// only this buyer's tasks (0x hex, either case)
    #[param(pattern = "^0x[0-9a-fA-F]{40}$")]
    user: Option<String>,
}

struct Feed {
    state: AppState,
    rx: tokio::sync::broadcast::Receiver<Delivery>,
    user: Option<String>,
}

#[utoipa::path(get, path = "/api/events", tag = "live", params(EventQuery),
    summary = "Server-sent events: `task`, `service`, `fl_task`, `board_task` and `community` as the indexer applies logs; `resync` when the client fell behind",
    responses(
        (status = 200, description = "an event stream", content_type = "text/event-stream", body = String),
        (status = 400, description = "bad query", body = ErrorBody),
    ),
)]
async fn events(
    State(state): State<AppState>,
    q: Result<Query<EventQuery>, QueryRejection>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let Query(q) = q?;
    let user = q.user.as_deref().map(parse_user).transpose()?;
    let rx = state.live.subscribe();
    let feed = Feed { state, rx, user };
    let stream = futures_util::stream::unfold(feed, |mut feed| async move {
        let event = feed.next_event().await?;
        Some((Ok(event), feed))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

impl Feed {
    /// The next event this client should see; `None` when the bus is gone.
    async fn next_event(&mut self) -> Option<Event> {
        loop {
            let rendered = match self.rx.recv().await {
                Ok(Delivery::Message(m)) => self.render(m.subject()).await,
                Ok(Delivery::Gap { missed }) => return Some(resync(missed)),
                Err(RecvError::Lagged(missed)) => return Some(resync(missed)),
                Err(RecvError::Closed) => return None,
            };
            match rendered {
                Ok(Some(event)) => return Some(event),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "event stream could not read the store");
                    return Some(resync(0));
                }
            }
        }
    }

    /// The event for `subject` (`task:3`, `service:1`, `fl-task:2`), if this client should see it.
    async fn render(&self, subject: &str) -> Result<Option<Event>, ApiError> {
        if let Some(id) = subject.strip_prefix("task:").and_then(|id| id.parse::<u64>().ok()) {
            let Some(task) = load_task(&self.state, id).await? else { return Ok(None) };
            if self.user.as_ref().is_some_and(|u| *u != task.user) {
                return Ok(None);
            }
            return Ok(Some(Event::default().event("task").data(json(&task)?)));
        }
        if let Some(id) = subject.strip_prefix("service:").and_then(|id| id.parse::<u64>().ok()) {
            let Some(service) = load_service(&self.state, id).await? else { return Ok(None) };
            return Ok(Some(Event::default().event("service").data(json(&service)?)));
        }
        if let Some(id) = subject.strip_prefix("fl-task:").and_then(|id| id.parse::<u64>().ok()) {
            let Some(task) = crate::fl_market::load_fl_task(&self.state, id).await? else { return Ok(None) };
            return Ok(Some(Event::default().event("fl_task").data(json(&task)?)));
        }
        if let Some(id) = subject.strip_prefix("board-task:").and_then(|id| id.parse::<u64>().ok()) {
            let Some(task) = crate::board::load_board_task(&self.state, id).await? else { return Ok(None) };
            return Ok(Some(Event::default().event("board_task").data(json(&task)?)));
        }
        if let Some(id) = subject.strip_prefix("community:").and_then(|id| id.parse::<u64>().ok()) {
            let Some(c) = crate::community::load_community(&self.state, id).await? else { return Ok(None) };
            return Ok(Some(Event::default().event("community").data(json(&c)?)));
        }
        Ok(None)
    }
}

fn resync(missed: u64) -> Event {
    Event::default().event("resync").data(format!("{{\"missed\":{missed}}}"))
}

fn json(value: &impl serde::Serialize) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(|e| ApiError::Internal(e.to_string()))
}
