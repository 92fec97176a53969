//! Hot list reads through the cache (`agora_bus::Cache`, kept fresh by [`crate::live`]). A list
//! handler wraps its read in one call:
//!
//! ```ignore
//! cached(&s, "task", &format!("tasks?user={user:?}&limit={limit}"), async { Ok(task_list(&s, …).await?) }).await
//! ```
//!
//! The domain is the subject prefix of the events that change the list (`task` for `task:3`,
//! `service`, `fl-task`, …): any such event invalidates every cached list of the domain. The key
//! names the query, normalised (parsed parameters, not the raw query string).

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::{ApiError, AppState};

/// A JSON body, as cached.
pub(crate) struct CachedJson(String);

impl IntoResponse for CachedJson {
    fn into_response(self) -> Response {
        ([(header::CONTENT_TYPE, "application/json")], self.0).into_response()
    }
}

/// The JSON of `load`'s value for `key` in `domain`: from the cache, or loaded and cached.
pub(crate) async fn cached<T: Serialize>(
    s: &AppState,
    domain: &str,
    key: &str,
    load: impl Future<Output = Result<T, ApiError>>,
) -> Result<CachedJson, ApiError> {
    let json = s
        .live
        .cache()
        .get_or_load(domain, key, || async {
            let value = load.await?;
            serde_json::to_string(&value).map_err(|e| ApiError::Internal(e.to_string()))
        })
        .await?;
    Ok(CachedJson(json))
}
