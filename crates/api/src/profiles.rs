//! Profiles: `GET /api/profiles/{address}` (anyone) and `PUT /api/me/profile` (the signed-in
//! wallet's own): a display name and an avatar held in the node's content store (uploaded first
//! through `POST /api/uploads`). E-mail addresses are not part of this.

use agora_content::{Cid, ContentStore};
use agora_store::ProfileRow;
use alloy::primitives::Address;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::auth::SignedIn;
use crate::error::ErrorBody;
use crate::params::{self, TextKind};
use crate::{ApiError, AppState};

/// The longest display name, in characters, once trimmed.
pub(crate) const MAX_DISPLAY_NAME: usize = 40;
/// The largest avatar image, in bytes.
pub(crate) const MAX_AVATAR_BYTES: u64 = 2 * 1024 * 1024;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/profiles/{address}", get(profile)).route("/api/me/profile", put(put_my_profile))
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

/// A person's public profile; every field but the address is `null` until they set it.
#[derive(Serialize, utoipa::ToSchema, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
#[schema(as = Profile)]
#[graphql(name = "Profile")]
pub(crate) struct ProfileDto {
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    address: String,
    /// The name shown beside their posts.
    display_name: Option<String>,
    /// Their avatar's CID in the node's content store.
    avatar: Option<String>,
    /// Where the avatar is served (`/ipfs/{cid}`).
    avatar_url: Option<String>,
    /// Unix seconds of the last change; `null` when they never saved a profile.
    updated_at: Option<u64>,
}

fn profile_dto(address: Address, row: Option<ProfileRow>) -> ProfileDto {
    let row = row.unwrap_or(ProfileRow { address, display_name: None, avatar_cid: None, updated_at: 0 });
    let saved = row.updated_at > 0;
    ProfileDto {
        address: format!("{address:#x}"),
        display_name: row.display_name,
        avatar_url: row.avatar_cid.as_ref().map(|cid| format!("/ipfs/{cid}")),
        avatar: row.avatar_cid,
        updated_at: saved.then_some(row.updated_at),
    }
}

/// A profile as saved whole: a field left out or `null` is cleared.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ProfileUpdate)]
struct ProfileUpdate {
    /// 1 to 40 characters once trimmed, no control characters.
    #[serde(default)]
    #[schema(max_length = 40)]
    display_name: Option<String>,
    /// The CID of an image already in this node's content store (`POST /api/uploads`): PNG, JPEG
    /// or GIF, at most 2 MiB.
    #[serde(default)]
    #[schema(pattern = "^baf[a-z2-7]+$")]
    avatar: Option<String>,
}

/// A person's profile
#[utoipa::path(get, path = "/api/profiles/{address}", tag = "social", operation_id = "profile",
    params(("address" = String, Path, pattern = "^0x[0-9a-fA-F]{40}$")),
    responses(
        (status = 200, description = "ok (all fields null when they never saved one)", body = ProfileDto),
        (status = 400, description = "a malformed address", body = ErrorBody),
    ),
)]
async fn profile(
    State(s): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<ProfileDto>, ApiError> {
    let Path(raw) = path?;
    Ok(Json(load_profile(&s, params::address("address", &raw)?).await?))
}

/// `address`'s public profile (every field but the address `null` when they never saved one).
pub(crate) async fn load_profile(s: &AppState, address: Address) -> Result<ProfileDto, ApiError> {
    Ok(profile_dto(address, s.store.profile(address).await?))
}

/// Checks that `raw` names an image this node holds, small enough for an avatar.
async fn avatar(s: &AppState, raw: &str) -> Result<String, ApiError> {
    let cid: Cid = raw.trim().parse().map_err(|e| ApiError::BadRequest(format!("avatar {raw:?} is not a CID: {e}")))?;
    let invalid = |code, message: String| ApiError::Invalid { code, message };
    let content_error = |e: agora_content::Error| ApiError::Internal(format!("content store: {e}"));
    let Some(size) = s.content.size(&cid).await.map_err(content_error)? else {
        return Err(invalid("avatar_unknown", format!("{cid} is not in this node's content store: upload it first")));
    };
    if size > MAX_AVATAR_BYTES {
        return Err(invalid("avatar_too_large", format!("the avatar has {size} bytes; at most {MAX_AVATAR_BYTES}")));
    }
    let head = s.content.get_range(&cid, 0, 512).await.map_err(content_error)?.unwrap_or_default();
    if !crate::content::sniff(&head).starts_with("image/") {
        return Err(invalid("avatar_not_image", format!("{cid} is not a PNG, JPEG or GIF image")));
    }
    Ok(cid.to_string())
}

/// Save my profile
#[utoipa::path(put, path = "/api/me/profile", tag = "social", operation_id = "put_my_profile",
    security(("session" = [])), request_body = ProfileUpdate,
    responses(
        (status = 200, description = "saved", body = ProfileDto),
        (status = 400, description = "bad_request: a malformed name or CID; avatar_unknown, avatar_too_large or avatar_not_image", body = ErrorBody),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 403, description = "user_disabled: a node admin disabled this user", body = ErrorBody),
    ),
)]
async fn put_my_profile(
    State(s): State<AppState>,
    who: SignedIn,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Json<ProfileDto>, ApiError> {
    let Json(body) = body?;
    // serde would also read a struct from a JSON array of its fields; the document says an object.
    if !body.is_object() {
        return Err(ApiError::BadRequest("the body must be a JSON object".into()));
    }
    let update: ProfileUpdate = serde_json::from_value(body)
        .map_err(|e| ApiError::BadRequest(format!("the body is not a profile update: {e}")))?;
    let address: Address =
        who.address.parse().map_err(|_| ApiError::Internal("a session holds a bad address".into()))?;
    crate::posts::active(&s, address).await?;
    let display_name = update
        .display_name
        .as_deref()
        .map(|name| params::text("displayName", name, MAX_DISPLAY_NAME, TextKind::Line))
        .transpose()?;
    let avatar_cid = match update.avatar.as_deref() {
        Some(raw) => Some(avatar(&s, raw).await?),
        None => None,
    };
    let row = ProfileRow { address, display_name, avatar_cid, updated_at: now().max(1) };
    let saved = s.store.save_profile(&row).await?;
    Ok(Json(profile_dto(address, Some(saved))))
}
