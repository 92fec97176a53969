//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` attributes and the DTOs'
//! `ToSchema` derives. `openapi.json` beside `Cargo.toml` is its committed copy (served at
//! `/api/openapi.json`, and read by the web app's type generator); `tests/openapi.rs` fails when
//! the two differ and rewrites the file when run with `AGORA_WRITE_OPENAPI=1`.

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{
    admin, assistant, auth, board, channels, community, content, data_market, email, events, faucet, fl_account,
    fl_listing, fl_market, fl_predict, fl_runs, graphql, moderation, notifications, posts, profiles, routes,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Agora API",
        version = "0.1.0",
        description = "Agora's node API. Amounts are decimal strings of the smallest unit; addresses lower-case hex; errors are {error:{code,message}}.",
    ),
    paths(
        routes::health,
        routes::network,
        routes::services,
        routes::service,
        routes::tasks,
        routes::task,
        routes::simulate,
        events::events,
        channels::list,
        channels::one,
        channels::voucher,
        data_market::sellers,
        data_market::seller,
        data_market::orders,
        data_market::order,
        fl_market::tasks,
        fl_market::task,
        fl_listing::listing,
        fl_account::account,
        fl_runs::rounds,
        fl_runs::logs,
        fl_runs::result,
        fl_runs::reference,
        fl_predict::put_spec,
        fl_predict::predict,
        fl_predict::voucher::fees,
        fl_predict::voucher::channel_account,
        faucet::give,
        board::tasks,
        board::task,
        board::config,
        community::communities,
        community::community,
        community::members,
        community::account,
        admin::users,
        admin::user_action,
        admin::channels,
        admin::settle,
        admin::jobs,
        admin::job_action,
        content::upload,
        content::serve,
        routes::dev_accounts,
        auth::nonce,
        auth::verify,
        auth::session,
        auth::logout,
        auth::my_tasks,
        assistant::models,
        assistant::account,
        profiles::profile,
        profiles::put_my_profile,
        posts::community_threads,
        posts::create_thread,
        posts::thread_page,
        posts::create_reply,
        posts::edit_post,
        posts::delete_post,
        moderation::report_post,
        moderation::moderate_post,
        moderation::resolve_reports,
        moderation::community_queue,
        moderation::community_moderation_log,
        moderation::admin_moderation_queue,
        notifications::list,
        notifications::mark_read,
        notifications::stream,
        notifications::prefs,
        notifications::put_prefs,
        email::my_email,
        email::set_email,
        email::verify,
        graphql::execute,
        graphql::sdl,
        document,
    ),
    modifiers(&SessionCookie),
)]
struct ApiDoc;

/// The session cookie as a security scheme (`security(("session" = []))` on an operation).
struct SessionCookie;

impl Modify for SessionCookie {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        let cookie = ApiKey::Cookie(ApiKeyValue::new(crate::SESSION_COOKIE));
        components.add_security_scheme("session", SecurityScheme::ApiKey(cookie));
    }
}

/// The document as `openapi.json` holds it: pretty JSON and a final newline.
pub fn openapi_document() -> String {
    let json = ApiDoc::openapi().to_pretty_json().unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    format!("{json}\n")
}

/// This document
#[utoipa::path(get, path = "/api/openapi.json", tag = "node", responses((status = 200, description = "ok", body = Object)))]
pub(crate) async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], crate::OPENAPI)
}
