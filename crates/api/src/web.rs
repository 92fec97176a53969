//! The web app: the built front end (`web/dist`) at `/`, with every unknown path answered by its
//! `index.html` so client-side routes survive a reload.

use std::path::Path;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use tower_http::services::{ServeDir, ServeFile};

use crate::AppState;

pub(crate) fn router(dir: Option<&Path>) -> Router<AppState> {
    match dir.filter(|d| d.join("index.html").is_file()) {
        Some(dir) => {
            Router::new().fallback_service(ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html"))))
        }
        None => Router::new().fallback(not_built),
    }
}

async fn not_built() -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        Html(
            "<!doctype html><meta charset=utf-8><title>Agora</title><p>The web app is not built. \
             Run <code>make up</code> (it builds <code>web/dist</code>), or see <a href=/api/openapi.json>the \
             API</a>.</p>",
        ),
    )
}
