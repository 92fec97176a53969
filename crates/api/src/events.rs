//! `GET /api/events`: a server-sent event stream of what the indexer applies, for live pages.
//!
//! Every applied log about a task sends `event: task` with the task as `/api/tasks/{id}` shows it
//! (timeline included); a log about a service sends `event: service`. `?user=0x…` keeps only that
//! user's tasks. A client that falls behind gets `event: resync` and should re-read what it shows.
//! Comments every 15 s keep proxies from closing an idle stream.

use std::convert::Infallible;
use std::time::Duration;

use agora_store::IndexedLog;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use crate::routes::{load_service, load_task, parse_user};
use crate::{ApiError, AppState};

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/events", get(events))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventQuery {
    user: Option<String>,
}

struct Feed {
    state: AppState,
    rx: tokio::sync::broadcast::Receiver<IndexedLog>,
    user: Option<String>,
}

async fn events(
    State(state): State<AppState>,
    q: Result<Query<EventQuery>, QueryRejection>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let Query(q) = q?;
    let user = q.user.as_deref().map(parse_user).transpose()?;
    let rx = state.events.subscribe();
    let feed = Feed { state, rx, user };
    let stream = futures_util::stream::unfold(feed, |mut feed| async move {
        let event = feed.next_event().await?;
        Some((Ok(event), feed))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

impl Feed {
    /// The next event this client should see; `None` when the indexer is gone.
    async fn next_event(&mut self) -> Option<Event> {
        loop {
            let log = match self.rx.recv().await {
                Ok(log) => log,
                Err(RecvError::Lagged(missed)) => {
                    return Some(Event::default().event("resync").data(format!("{{\"missed\":{missed}}}")));
                }
                Err(RecvError::Closed) => return None,
            };
            match self.render(&log).await {
                Ok(Some(event)) => return Some(event),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "event stream could not read the store");
                    return Some(Event::default().event("resync").data("{}"));
                }
            }
        }
    }

    async fn render(&self, log: &IndexedLog) -> Result<Option<Event>, ApiError> {
        let subject = log.event.subject();
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
        Ok(None)
    }
}

fn json(value: &impl serde::Serialize) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(|e| ApiError::Internal(e.to_string()))
}
