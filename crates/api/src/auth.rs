//! Sign-In with Ethereum (EIP-4361) and the sessions it opens.
//!
//! `GET /api/auth/nonce` issues a random nonce, stored with an expiry and usable once.
//! `POST /api/auth/verify` takes the message the wallet signed and its signature: the message must
//! name this site (the request's `Host`) in its domain and URI, this market's chain id, a nonce the
//! server issued and nobody used, and be within its validity window; the signature must come from
//! the message's address (an EOA by ECDSA recovery, a contract wallet by ERC-1271). The answer sets
//! an HttpOnly, SameSite=Lax cookie holding a random session token; the store keeps only its hash.

use std::time::{SystemTime, UNIX_EPOCH};

use agora_store::Session;
use alloy::primitives::{Address, B256, Bytes, FixedBytes, Signature, eip191_hash_message, keccak256};
use alloy::providers::Provider;
use alloy::sol;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::ErrorBody;
use crate::routes::TaskDto;
use crate::siwe::{Expectations, SiweMessage};
use crate::{ApiError, AppState};

/// The cookie holding the session token.
pub const SESSION_COOKIE: &str = "agora_session";
/// How long a nonce can be used after it is issued.
const NONCE_TTL_SECS: u64 = 10 * 60;
/// How long a session lasts.
const SESSION_TTL_SECS: u64 = 24 * 60 * 60;
/// Tolerated difference between the wallet's clock and ours.
const CLOCK_SKEW_SECS: i64 = 5 * 60;

sol! {
    #[sol(rpc)]
    interface IERC1271 {
        function isValidSignature(bytes32 hash, bytes signature) external view returns (bytes4 magicValue);
    }
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/nonce", get(nonce))
        .route("/api/auth/verify", post(verify))
        .route("/api/auth/session", get(session))
        .route("/api/auth/logout", post(logout))
        .route("/api/me/tasks", get(my_tasks))
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

pub(crate) fn random_hex<const N: usize>() -> Result<String, ApiError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::Internal(format!("no random source: {e}")))?;
    Ok(alloy::hex::encode(bytes))
}

fn token_hash(token: &str) -> String {
    keccak256(token.as_bytes()).to_string()
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Nonce)]
struct NonceDto {
    nonce: String,
    /// Unix seconds after which the nonce is refused.
    expires_at: u64,
}

/// A single-use SIWE nonce (10 minutes)
#[utoipa::path(get, path = "/api/auth/nonce", tag = "auth", responses((status = 200, description = "ok", body = NonceDto)))]
async fn nonce(State(s): State<AppState>) -> Result<Json<NonceDto>, ApiError> {
    let nonce = random_hex::<16>()?;
    let now = now();
    s.store.issue_nonce(&nonce, now + NONCE_TTL_SECS, now).await?;
    Ok(Json(NonceDto { nonce, expires_at: now + NONCE_TTL_SECS }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SiweVerify)]
struct VerifyRequest {
    /// The EIP-4361 message exactly as signed.
    message: String,
    /// 65 bytes `r ‖ s ‖ v` as `0x` hex (or whatever a contract wallet's ERC-1271 accepts).
    #[schema(value_type = String, pattern = "^0x([0-9a-fA-F]{2})*$")]
    signature: Bytes,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Session)]
struct SessionDto {
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    address: String,
    chain_id: u64,
    expires_at: u64,
}

fn refused(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::Unauthorized { code, message: message.into() }
}

/// Sign in with an EIP-4361 message and its signature; sets the session cookie
#[utoipa::path(post, path = "/api/auth/verify", tag = "auth", request_body = VerifyRequest, responses(
    (status = 200, description = "signed in", body = SessionDto),
    (status = 400, description = "malformed_message", body = ErrorBody),
    (status = 401, description = "bad_signature, nonce_unknown, domain_mismatch, chain_mismatch, expired or not_yet_valid", body = ErrorBody),
    (status = 502, description = "the chain node could not be reached (checking a contract wallet)", body = ErrorBody),
))]
async fn verify(
    State(s): State<AppState>,
    headers: HeaderMap,
    req: Result<Json<VerifyRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = req?;
    let msg: SiweMessage = req
        .message
        .parse()
        .map_err(|e: crate::siwe::SiweError| ApiError::Invalid { code: e.code, message: e.message })?;
    // Behind a reverse proxy the `Host` it forwards may not be the site people see: the configured
    // public origin names it then.
    let public_host = s.public_origin.as_deref().map(|o| o.split_once("://").map_or(o, |(_, rest)| rest));
    let host = match public_host {
        Some(h) => h.trim_end_matches('/'),
        None => headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default(),
    };
    let now = now();
    let want = Expectations {
        host,
        chain_id: s.network.chain_id,
        now: i64::try_from(now).unwrap_or(i64::MAX),
        max_age_secs: NONCE_TTL_SECS as i64,
        clock_skew_secs: CLOCK_SKEW_SECS,
    };
    msg.check(&want).map_err(|e| refused(e.code, e.message))?;
    verify_signature(&s, &req.message, msg.address, &req.signature).await?;
    // Last, so a message refused for another reason does not burn its nonce.
    if !s.store.consume_nonce(&msg.nonce, now).await? {
        return Err(refused("nonce_unknown", "the nonce was not issued here, has expired, or was already used"));
    }
    let token = random_hex::<32>()?;
    let session = Session {
        address: msg.address.to_string().to_ascii_lowercase(),
        chain_id: msg.chain_id,
        created_at: now,
        expires_at: now + SESSION_TTL_SECS,
    };
    s.store.create_session(&token_hash(&token), &session).await?;
    tracing::info!(address = %session.address, "signed in with Ethereum");
    let secure = if msg.uri.starts_with("https://") { "; Secure" } else { "" };
    let cookie =
        format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={SESSION_TTL_SECS}{secure}");
    let body = SessionDto { address: session.address, chain_id: session.chain_id, expires_at: session.expires_at };
    let mut resp = Json(body).into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|e| ApiError::Internal(e.to_string()))?);
    Ok(resp)
}

/// Accepts `signature` over the EIP-191 hash of `message` when it recovers to `address`, or when
/// `address` is a contract that approves it through ERC-1271.
async fn verify_signature(s: &AppState, message: &str, address: Address, signature: &Bytes) -> Result<(), ApiError> {
    let hash = eip191_hash_message(message.as_bytes());
    if signature.len() == 65 {
        let recovered = Signature::from_raw(signature)
            .ok()
            .filter(|sig| sig.normalize_s().is_none())
            .and_then(|sig| sig.recover_address_from_prehash(&hash).ok());
        if recovered == Some(address) {
            return Ok(());
        }
    }
    let code = s.provider.get_code_at(address).await.map_err(|e| ApiError::ChainUnavailable(e.to_string()))?;
    if !code.is_empty() {
        let wallet = IERC1271::new(address, s.provider.clone());
        const MAGIC: FixedBytes<4> = FixedBytes([0x16, 0x26, 0xba, 0x7e]);
        if wallet.isValidSignature(B256::from(hash), signature.clone()).call().await.is_ok_and(|m| m == MAGIC) {
            return Ok(());
        }
    }
    Err(refused("bad_signature", format!("the signature is not {address}'s signature of this message")))
}

fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
}

/// A request made with a valid session for this market's chain.
pub(crate) struct SignedIn {
    /// Lower-case hex.
    pub address: String,
    pub expires_at: u64,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, ApiError> {
        let token =
            cookie_token(&parts.headers).ok_or_else(|| refused("unauthenticated", "sign in with your wallet first"))?;
        let session = s
            .store
            .session(&token_hash(token), now())
            .await?
            .filter(|session| session.chain_id == s.network.chain_id)
            .ok_or_else(|| refused("unauthenticated", "your session has expired; sign in again"))?;
        Ok(Self { address: session.address, expires_at: session.expires_at })
    }
}

/// Who is signed in
#[utoipa::path(get, path = "/api/auth/session", tag = "auth", security(("session" = [])), responses(
    (status = 200, description = "ok", body = SessionDto),
    (status = 401, description = "unauthenticated", body = ErrorBody),
))]
async fn session(State(s): State<AppState>, who: SignedIn) -> Json<SessionDto> {
    Json(SessionDto { address: who.address, chain_id: s.network.chain_id, expires_at: who.expires_at })
}

/// End the session
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", responses((status = 204, description = "signed out")))]
async fn logout(State(s): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = cookie_token(&headers) {
        s.store.delete_session(&token_hash(token)).await?;
    }
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, HeaderValue::from_str(&clear).map_err(|e| ApiError::Internal(e.to_string()))?);
    Ok(resp)
}

/// The signed-in user's tasks
#[utoipa::path(get, path = "/api/me/tasks", tag = "market", security(("session" = [])), responses(
    (status = 200, description = "ok", body = Vec<TaskDto>),
    (status = 401, description = "unauthenticated", body = ErrorBody),
))]
async fn my_tasks(State(s): State<AppState>, who: SignedIn) -> Result<Json<Vec<TaskDto>>, ApiError> {
    Ok(Json(crate::routes::task_list(&s, Some(&who.address), 1000).await?))
}
