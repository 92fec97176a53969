//! The GraphQL gateway: `POST /api/graphql` (a JSON body `{query, variables, operationName}`)
//! answers reads of the community task market — tasks, communities, members, an account's board,
//! threads, profiles — and the posting actions of a signed-in member, through the very loaders,
//! rules and JSON shapes the REST endpoints use: a resolver parses its arguments into the REST
//! endpoint's query type and calls the same function, so no rule exists twice. The SIWE session
//! cookie signs the caller in, as for REST.
//!
//! Queries are bounded: nesting deeper than [`MAX_DEPTH`] or costing more than
//! [`MAX_COMPLEXITY`] (a field costs 1; a list multiplies its fields by its `limit`) is refused
//! before anything runs. The schema is committed as `crates/api/schema.graphql` ([`GRAPHQL_SCHEMA`],
//! kept equal by a test) and served at `GET /api/graphql/schema.graphql`.

mod mutation;
mod query;

use std::sync::LazyLock;

use alloy::primitives::Address;
use async_graphql::{EmptySubscription, ErrorExtensions, Schema};
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::error::ErrorBody;
use crate::posts::MaybeSignedIn;
use crate::{ApiError, AppState};

/// The deepest selection a query may nest.
pub const MAX_DEPTH: usize = 10;
/// The most a query may cost: each field 1, lists times their `limit`.
pub const MAX_COMPLEXITY: usize = 10_000;

/// The schema as committed (`crates/api/schema.graphql`); a test keeps it equal to [`graphql_sdl`].
pub const GRAPHQL_SCHEMA: &str = include_str!("../../schema.graphql");

type AgoraSchema = Schema<query::Query, mutation::Mutation, EmptySubscription>;

static SCHEMA: LazyLock<AgoraSchema> = LazyLock::new(|| {
    Schema::build(query::Query, mutation::Mutation, EmptySubscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .finish()
});

/// The schema in GraphQL's schema language.
pub fn graphql_sdl() -> String {
    SCHEMA.sdl()
}

/// Who is asking: the signed-in wallet, if any.
#[derive(Clone, Copy)]
struct Caller(Option<Address>);

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/graphql", post(execute)).route("/api/graphql/schema.graphql", get(sdl))
}

/// A GraphQL request.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = GraphqlRequest)]
pub(crate) struct RequestDto {
    /// The query or mutation document.
    query: String,
    /// Values for the document's variables.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    variables: Option<serde_json::Value>,
    /// Which operation of the document to run, when it holds several.
    #[serde(default)]
    operation_name: Option<String>,
}

/// Run a GraphQL query or mutation
#[utoipa::path(post, path = "/api/graphql", tag = "graphql", operation_id = "graphql",
    request_body = RequestDto,
    summary = "GraphQL over the community market's loaders (see /api/graphql/schema.graphql); errors carry extensions.code and extensions.status as REST's would",
    responses(
        (status = 200, description = "`data` and, when something failed, `errors` (GraphQL's own convention)", body = Object),
        (status = 400, description = "the body is not a GraphQL request", body = ErrorBody),
    ),
)]
pub(crate) async fn execute(
    State(s): State<AppState>,
    MaybeSignedIn(who): MaybeSignedIn,
    body: Result<Json<RequestDto>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(req) = body?;
    let variables = match req.variables {
        None | Some(serde_json::Value::Null) => async_graphql::Variables::default(),
        Some(v @ serde_json::Value::Object(_)) => async_graphql::Variables::from_json(v),
        Some(_) => return Err(ApiError::BadRequest("variables must be a JSON object".into())),
    };
    let mut request = async_graphql::Request::new(req.query).variables(variables).data(s).data(Caller(who));
    if let Some(name) = req.operation_name {
        request = request.operation_name(name);
    }
    let response = SCHEMA.execute(request).await;
    Ok(Json(response))
}

/// The GraphQL schema
#[utoipa::path(get, path = "/api/graphql/schema.graphql", tag = "graphql", operation_id = "graphql_schema",
    responses((status = 200, description = "the schema in GraphQL's schema language", body = String, content_type = "text/plain")),
)]
pub(crate) async fn sdl() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], GRAPHQL_SCHEMA)
}

/// `e` as a GraphQL error with REST's code and status in its extensions (internal details stay
/// in the log, as for REST).
fn gql(e: ApiError) -> async_graphql::Error {
    if let ApiError::Internal(detail) = &e {
        tracing::error!(%detail, "internal error serving a GraphQL request");
    }
    let (status, code) = e.status_and_code();
    async_graphql::Error::new(e.to_string()).extend_with(|_, ext| {
        ext.set("code", code);
        ext.set("status", status.as_u16());
    })
}

/// `Ok(None)` where REST would answer 404: a missing object is `null` in GraphQL.
fn found<T>(r: Result<T, ApiError>) -> async_graphql::Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(ApiError::NotFound(_)) => Ok(None),
        Err(e) => Err(gql(e)),
    }
}

fn state<'a>(ctx: &async_graphql::Context<'a>) -> &'a AppState {
    ctx.data_unchecked::<AppState>()
}

fn caller(ctx: &async_graphql::Context<'_>) -> Option<Address> {
    ctx.data_unchecked::<Caller>().0
}

/// The signed-in caller, or the error REST answers without a session.
fn signed_in(ctx: &async_graphql::Context<'_>) -> async_graphql::Result<Address> {
    caller(ctx)
        .ok_or_else(|| gql(ApiError::Unauthorized { code: "unauthenticated", message: "sign in first (SIWE)".into() }))
}

/// An id argument checked as REST checks a path's id.
fn id(what: &str, raw: u64) -> async_graphql::Result<u64> {
    crate::params::id(what, &raw.to_string()).map_err(gql)
}
