use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// Every error the API returns, as `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A malformed request; 400 `bad_request`.
    #[error("{0}")]
    BadRequest(String),
    /// Nothing by that id; 404 `not_found`.
    #[error("{0}")]
    NotFound(String),
    /// A well-formed request the domain refuses (a stale voucher, a closed channel…); 409.
    #[error("{message}")]
    Rejected {
        /// The machine-readable reason (`stale_voucher`, `channel_closed`…).
        code: &'static str,
        /// What a person reads.
        message: String,
    },
    /// The contract would revert; `code` is its custom error's name.
    #[error("{message}")]
    Reverted {
        /// The custom error's name.
        code: String,
        /// The error with its decoded arguments.
        message: String,
    },
    /// The request needs a signed-in session, or a sign-in was refused; 401.
    #[error("{message}")]
    Unauthorized {
        /// Why (`unauthenticated`, `bad_signature`…).
        code: &'static str,
        /// What a person reads.
        message: String,
    },
    /// Signed in, but not allowed (an admin endpoint for a wallet that is no admin); 403.
    #[error("{message}")]
    Forbidden {
        /// Why (`not_admin`).
        code: &'static str,
        /// What a person reads.
        message: String,
    },
    /// A malformed request with a more precise code than `bad_request`; 400.
    #[error("{message}")]
    Invalid {
        /// The precise reason.
        code: &'static str,
        /// What a person reads.
        message: String,
    },
    /// The caller did this too often; 429 `rate_limited` with `Retry-After` (seconds).
    #[error("{message}")]
    TooManyRequests {
        /// Seconds until the caller may try again.
        retry_after: u64,
        /// What a person reads.
        message: String,
    },
    /// The chain's RPC did not answer; 503.
    #[error("the chain node could not be reached: {0}")]
    ChainUnavailable(String),
    /// A fault of this node; 500 with no detail to the client (the detail is logged).
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub(crate) fn status_and_code(&self) -> (StatusCode, String) {
        match self {
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request".into()),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found".into()),
            Self::Rejected { code, .. } => (StatusCode::CONFLICT, (*code).to_owned()),
            Self::Reverted { code, .. } => (StatusCode::UNPROCESSABLE_ENTITY, code.clone()),
            Self::Unauthorized { code, .. } => (StatusCode::UNAUTHORIZED, (*code).to_owned()),
            Self::Forbidden { code, .. } => (StatusCode::FORBIDDEN, (*code).to_owned()),
            Self::Invalid { code, .. } => (StatusCode::BAD_REQUEST, (*code).to_owned()),
            Self::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited".into()),
            Self::ChainUnavailable(_) => (StatusCode::BAD_GATEWAY, "chain_unavailable".into()),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal".into()),
        }
    }
}

/// The body of every error answer.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub(crate) struct ErrorBody {
    #[schema(inline)]
    error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
struct ErrorDetail {
    code: String,
    /// A sentence a person can read.
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(detail) = &self {
            tracing::error!(%detail, "internal error serving a request");
        }
        let (status, code) = self.status_and_code();
        let mut resp =
            (status, Json(ErrorBody { error: ErrorDetail { code, message: self.to_string() } })).into_response();
        if let Self::TooManyRequests { retry_after, .. } = &self {
            resp.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(*retry_after));
        }
        resp
    }
}

impl From<agora_store::Error> for ApiError {
    fn from(e: agora_store::Error) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(e: axum::extract::rejection::QueryRejection) -> Self {
        Self::BadRequest(e.body_text())
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(e: axum::extract::rejection::PathRejection) -> Self {
        Self::BadRequest(e.body_text())
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(e: axum::extract::rejection::JsonRejection) -> Self {
        Self::BadRequest(e.body_text())
    }
}
