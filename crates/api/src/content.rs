//! Content-addressed files: uploads in, `/ipfs/{cid}` out (content type, ranges, immutable caching).

use agora_content::{Cid, ContentStore};
use axum::body::{Body, Bytes};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};

use crate::error::ErrorBody;
use crate::{ApiError, AppState};

/// Largest upload accepted in one request.
pub(crate) const MAX_UPLOAD: usize = 64 * 1024 * 1024;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/uploads", post(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD)))
        .route("/ipfs/{cid}", get(serve))
}

fn store_error(e: agora_content::Error) -> ApiError {
    match e {
        agora_content::Error::InvalidCid { .. } => ApiError::BadRequest(e.to_string()),
        other => ApiError::Internal(other.to_string()),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Upload)]
struct Uploaded {
    cid: String,
    size: usize,
}

/// Stores the request body as it is and answers its CID (CIDv1, as `ipfs add --cid-version=1
/// --raw-leaves` would give). An empty body is refused: it is almost always a client that forgot
/// to attach the file, and a task given the CID of nothing would only fail later.
#[utoipa::path(post, path = "/api/uploads", tag = "content", summary = "Store a file; answers its CIDv1",
    request_body(content = inline(FileBytes), content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "stored", body = Uploaded),
        (status = 400, description = "empty_upload: the body is empty", body = ErrorBody),
        (status = 413, description = "too large", body = ErrorBody),
    ),
)]
async fn upload(State(s): State<AppState>, body: Bytes) -> Result<(StatusCode, Json<Uploaded>), ApiError> {
    if body.is_empty() {
        return Err(ApiError::Invalid {
            code: "empty_upload",
            message: "the upload is empty: send the file's bytes as the request body".into(),
        });
    }
    let size = body.len();
    let cid = s.content.put(body).await.map_err(store_error)?;
    Ok((StatusCode::CREATED, Json(Uploaded { cid: cid.to_string(), size })))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ServeQuery {
    /// serve as an attachment with this file name
    download: Option<String>,
}

/// A file's bytes as the document describes them (the handlers read and write raw bodies).
struct FileBytes;

impl utoipa::PartialSchema for FileBytes {
    fn schema() -> RefOr<Schema> {
        let binary = SchemaFormat::KnownFormat(KnownFormat::Binary);
        ObjectBuilder::new().schema_type(Type::String).format(Some(binary)).min_length(Some(1)).into()
    }
}

impl utoipa::ToSchema for FileBytes {}

/// What the first bytes say the content is.
pub(crate) fn sniff(head: &[u8]) -> &'static str {
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if starts(b"\xff\xd8\xff") {
        "image/jpeg"
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        "image/gif"
    } else if head.len() >= 12 && &head[4..8] == b"ftyp" {
        "video/mp4"
    } else if starts(b"\x1a\x45\xdf\xa3") {
        "video/webm"
    } else if starts(b"%PDF-") {
        "application/pdf"
    } else if starts(b"\0asm") {
        "application/wasm"
    } else if let Some(text) = utf8_prefix(head) {
        let t = text.trim_start();
        if t.starts_with('{') || t.starts_with('[') {
            "application/json"
        } else if t.contains('\0') {
            "application/octet-stream"
        } else {
            "text/plain; charset=utf-8"
        }
    } else {
        "application/octet-stream"
    }
}

/// `head` as text if it is UTF-8, allowing only a multi-byte character cut off at its end.
fn utf8_prefix(head: &[u8]) -> Option<&str> {
    match std::str::from_utf8(head) {
        Ok(t) => Some(t),
        Err(e) if e.error_len().is_none() && head.len() - e.valid_up_to() < 4 => {
            std::str::from_utf8(&head[..e.valid_up_to()]).ok()
        }
        Err(_) => None,
    }
}

/// A single `bytes=` range against `size`: `Ok(None)` for no (or an ignorable) Range header,
/// `Err(())` for one that cannot be satisfied.
fn parse_range(headers: &HeaderMap, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(raw) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else { return Ok(None) };
    let Some(spec) = raw.trim().strip_prefix("bytes=") else { return Ok(None) };
    if spec.contains(',') {
        return Ok(None); // several ranges: serve the whole content instead
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", "") => return Err(()),
        ("", suffix) => {
            let n: u64 = suffix.parse().map_err(|_| ())?;
            if n == 0 {
                return Err(());
            }
            (size.saturating_sub(n), size)
        }
        (from, "") => (from.parse().map_err(|_| ())?, size),
        (from, to) => {
            let from: u64 = from.parse().map_err(|_| ())?;
            let to: u64 = to.parse().map_err(|_| ())?;
            if to < from {
                return Err(());
            }
            (from, to.saturating_add(1).min(size))
        }
    };
    if start >= size {
        return Err(());
    }
    Ok(Some((start, end)))
}

#[utoipa::path(get, path = "/ipfs/{cid}", tag = "content", summary = "Content by CID (ranges, ETag, ?download=name)",
    params(("cid" = String, Path, description = "CIDv1 as uploads answer it: base32, sha2-256, raw or dag-pb (the last character holds two zero padding bits)", pattern = "^baf(krei|ybei)[a-h][a-z2-7]{50}[aeimquy4]$"), ServeQuery),
    responses(
        (status = 200, description = "the bytes, with the content type their first bytes show", content_type = "*/*", body = inline(FileBytes)),
        (status = 206, description = "the requested range of the bytes", content_type = "*/*", body = inline(FileBytes)),
        (status = 304, description = "not modified (If-None-Match named this CID's ETag)"),
        (status = 400, description = "not a CID", body = ErrorBody),
        (status = 404, description = "unknown CID", body = ErrorBody),
        (status = 416, description = "the Range cannot be satisfied"),
    ),
)]
async fn serve(
    State(s): State<AppState>,
    cid: Result<Path<String>, PathRejection>,
    q: Result<Query<ServeQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Path(raw) = cid?;
    let Query(q) = q?;
    let cid: Cid = raw.parse().map_err(store_error)?;
    let etag = format!("\"{cid}\"");
    let size = s
        .content
        .size(&cid)
        .await
        .map_err(store_error)?
        .ok_or_else(|| ApiError::NotFound(format!("no content {cid}")))?;

    let mut out = HeaderMap::new();
    let head = s.content.get_range(&cid, 0, 512).await.map_err(store_error)?.unwrap_or_default();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(sniff(&head)));
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    out.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, v);
    }
    if let Some(name) = q.download {
        let safe: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c)).collect();
        let safe = if safe.is_empty() { cid.to_string() } else { safe };
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
            out.insert(header::CONTENT_DISPOSITION, v);
        }
    }
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return Ok((StatusCode::NOT_MODIFIED, out).into_response());
    }
    match parse_range(&headers, size) {
        Err(()) => {
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                out.insert(header::CONTENT_RANGE, v);
            }
            Ok((StatusCode::RANGE_NOT_SATISFIABLE, out).into_response())
        }
        Ok(Some((start, end))) => {
            let bytes = s.content.get_range(&cid, start, end).await.map_err(store_error)?.unwrap_or_default();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{size}", end.saturating_sub(1))) {
                out.insert(header::CONTENT_RANGE, v);
            }
            Ok((StatusCode::PARTIAL_CONTENT, out, Body::from(bytes)).into_response())
        }
        Ok(None) => {
            let bytes = s
                .content
                .get(&cid)
                .await
                .map_err(store_error)?
                .ok_or_else(|| ApiError::NotFound(format!("no content {cid}")))?;
            Ok((StatusCode::OK, out, Body::from(bytes)).into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(h: &str, size: u64) -> Result<Option<(u64, u64)>, ()> {
        let mut headers = HeaderMap::new();
        headers.insert(header::RANGE, HeaderValue::from_str(h).unwrap());
        parse_range(&headers, size)
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(range("bytes=0-9", 100), Ok(Some((0, 10))));
        assert_eq!(range("bytes=90-", 100), Ok(Some((90, 100))));
        assert_eq!(range("bytes=-5", 100), Ok(Some((95, 100))));
        assert_eq!(range("bytes=95-200", 100), Ok(Some((95, 100))));
        assert_eq!(range("bytes=100-", 100), Err(()));
        assert_eq!(range("bytes=9-3", 100), Err(()));
        assert_eq!(range("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(range("items=0-1", 100), Ok(None));
    }

    #[test]
    fn content_types_are_sniffed() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nxxxx"), "image/png");
        assert_eq!(sniff(b"\0\0\0\x18ftypmp42"), "video/mp4");
        assert_eq!(sniff(b" {\"a\":1}"), "application/json");
        assert_eq!(sniff("词频 统计".as_bytes()), "text/plain; charset=utf-8");
        assert_eq!(sniff(&[0xff, 0xfe, 0x00, 0x01]), "application/octet-stream");
        assert_eq!(sniff(&"统计".as_bytes()[..4]), "text/plain; charset=utf-8", "a character cut at the end");
    }
}
