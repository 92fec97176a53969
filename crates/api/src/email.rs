//! The signed-in person's e-mail address and its verification: `PUT /api/me/email` stores it
//! unverified and mails a link (`<origin>/#/verify-email?token=…`, valid 24 hours, usable once);
//! the page the link opens posts the token to `POST /api/email/verify`. Only a verified address
//! receives notification mails.

use agora_store::TokenUse;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::auth::SignedIn;
use crate::error::ErrorBody;
use crate::notifications::account;
use crate::{ApiError, AppState};

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/me/email", get(my_email).put(set_email)).route("/api/email/verify", post(verify))
}

/// A person's e-mail address.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = EmailAddress)]
struct EmailDto {
    /// The address; absent when none was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    /// True once its link was followed: only then do notification mails go to it.
    verified: bool,
    /// When it was verified, unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    verified_at: Option<u64>,
}

fn email_dto(row: Option<agora_store::EmailAddressRow>) -> EmailDto {
    match row {
        Some(r) => EmailDto { email: Some(r.email), verified: r.verified_at.is_some(), verified_at: r.verified_at },
        None => EmailDto { email: None, verified: false, verified_at: None },
    }
}

/// The signed-in user's e-mail address
#[utoipa::path(get, path = "/api/me/email", tag = "notifications", operation_id = "my_email",
    security(("session" = [])),
    responses(
        (status = 200, description = "ok (no email field when none was given)", body = EmailDto),
        (status = 401, description = "unauthenticated", body = ErrorBody),
    ),
)]
async fn my_email(State(s): State<AppState>, who: SignedIn) -> Result<Json<EmailDto>, ApiError> {
    Ok(Json(email_dto(s.notifier.email(account(&who)?).await.map_err(notify_error)?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SetEmail)]
struct SetEmailRequest {
    /// The address notifications should go to.
    #[schema(max_length = 254)]
    email: String,
}

/// Set the signed-in user's e-mail address and mail it a verification link
#[utoipa::path(put, path = "/api/me/email", tag = "notifications", operation_id = "set_my_email",
    request_body = SetEmailRequest, security(("session" = [])),
    responses(
        (status = 200, description = "stored; unverified until the mailed link is followed (an address already verified stays so, and no mail is sent)", body = EmailDto),
        (status = 400, description = "invalid_email, or malformed JSON", body = ErrorBody),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 409, description = "too_many_links: five verification mails in the last hour", body = ErrorBody),
    ),
)]
async fn set_email(
    State(s): State<AppState>,
    who: SignedIn,
    headers: HeaderMap,
    body: Result<Json<SetEmailRequest>, JsonRejection>,
) -> Result<Json<EmailDto>, ApiError> {
    let Json(req) = body?;
    let origin = match &s.public_origin {
        Some(origin) => origin.clone(),
        None => {
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1:8080");
            format!("http://{host}")
        }
    };
    let row = s.notifier.set_email(account(&who)?, &req.email, &origin).await.map_err(notify_error)?;
    Ok(Json(email_dto(Some(row))))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = VerifyEmail)]
struct VerifyEmailRequest {
    /// The token from the mailed link.
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    token: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = EmailVerified)]
struct VerifiedDto {
    /// Whose address it is.
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    account: String,
    /// The address, verified now.
    email: String,
}

/// Follow an e-mail verification link (no session needed: the token is the proof)
#[utoipa::path(post, path = "/api/email/verify", tag = "notifications", operation_id = "verify_email",
    request_body = VerifyEmailRequest,
    responses(
        (status = 200, description = "the address is verified", body = VerifiedDto),
        (status = 400, description = "token_unknown (never issued or mistyped), or malformed JSON", body = ErrorBody),
        (status = 409, description = "token_used, token_expired, or token_superseded (the account set another address since)", body = ErrorBody),
    ),
)]
async fn verify(
    State(s): State<AppState>,
    body: Result<Json<VerifyEmailRequest>, JsonRejection>,
) -> Result<Json<VerifiedDto>, ApiError> {
    let Json(req) = body?;
    let rejected = |code, message: &str| ApiError::Rejected { code, message: message.into() };
    match s.notifier.verify_email(&req.token).await.map_err(notify_error)? {
        TokenUse::Verified { account, email } => {
            Ok(Json(VerifiedDto { account: account.to_string().to_ascii_lowercase(), email }))
        }
        TokenUse::Unknown => Err(ApiError::Invalid {
            code: "token_unknown",
            message: "this link was not issued here or is mistyped: ask for a new one".into(),
        }),
        TokenUse::Used => Err(rejected("token_used", "this link was used already")),
        TokenUse::Expired => Err(rejected("token_expired", "this link has expired: ask for a new one")),
        TokenUse::Superseded => {
            Err(rejected("token_superseded", "the account has set another address since this link was sent"))
        }
    }
}

fn notify_error(e: agora_notify::Error) -> ApiError {
    match e {
        agora_notify::Error::InvalidEmail(message) => ApiError::Invalid { code: "invalid_email", message },
        e @ agora_notify::Error::TooManyLinks(_) => {
            ApiError::Rejected { code: "too_many_links", message: e.to_string() }
        }
        e => ApiError::Internal(e.to_string()),
    }
}
