//! GraphQL and REST agree: every board and community read through `/api/graphql`, selecting every
//! field the schema has, equals the REST endpoint's JSON for the same arguments — including the
//! refusals (REST's 400 is a GraphQL error with the same code) and the misses (REST's 404 is
//! `null`). Queries past the depth or complexity bound are refused before they run.

use axum::http::StatusCode;
use serde_json::Value;

use super::board::{OWNER, SECOND, WORKER, seeded_board};
use crate::common::call;
use crate::common::graphql::{graphql, schema_types, selection};

/// REST's body at `uri` and GraphQL's `data.field` for `field(args)` selecting all of `ty`.
async fn both(app: &axum::Router, types: &Value, uri: &str, field: &str, args: &str, ty: &str) -> (Value, Value) {
    let (status, rest) = call(app, "GET", uri, None).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {rest}");
    let args = if args.is_empty() { String::new() } else { format!("({args})") };
    let q = format!("{{ {field}{args} {} }}", selection(types, ty));
    let r = graphql(app, &q, None).await;
    assert!(r["errors"].is_null(), "{q}: {r}");
    (rest, r["data"][field].clone())
}

#[tokio::test]
async fn graphql_answers_what_rest_answers() -> anyhow::Result<()> {
    let (db, app) = seeded_board().await?;
    let types = schema_types(&app).await;
    let cases: Vec<(String, &str, String, &str)> = vec![
        ("/api/board/tasks".into(), "boardTasks", String::new(), "BoardTaskList"),
        ("/api/board/tasks?community=1".into(), "boardTasks", "community: 1".into(), "BoardTaskList"),
        ("/api/board/tasks?state=cancelled".into(), "boardTasks", "state: cancelled".into(), "BoardTaskList"),
        (format!("/api/board/tasks?worker={SECOND}"), "boardTasks", format!("worker: \"{SECOND}\""), "BoardTaskList"),
        ("/api/board/tasks?limit=1&offset=1".into(), "boardTasks", "limit: 1, offset: 1".into(), "BoardTaskList"),
        ("/api/board/tasks/1".into(), "boardTask", "id: 1".into(), "BoardTaskDetail"),
        ("/api/board/tasks/2".into(), "boardTask", "id: 2".into(), "BoardTaskDetail"),
        ("/api/communities".into(), "communities", String::new(), "CommunityList"),
        ("/api/communities/1".into(), "community", "id: 1".into(), "CommunityDetail"),
        ("/api/communities/1/members?limit=2".into(), "communityMembers", "id: 1, limit: 2".into(), "CommunityMembers"),
        (format!("/api/accounts/{WORKER}/board"), "accountBoard", format!("address: \"{WORKER}\""), "AccountBoard"),
        (format!("/api/accounts/{OWNER}/board"), "accountBoard", format!("address: \"{OWNER}\""), "AccountBoard"),
    ];
    for (uri, field, args, ty) in &cases {
        let (rest, gql) = both(&app, &types, uri, field, args, ty).await;
        assert_eq!(gql, rest, "{uri} and {field}({args})");
    }
    // The cases compare something: the task detail carries claims and a timeline with details.
    let (rest, _) = both(&app, &types, "/api/board/tasks/1", "boardTask", "id: 1", "BoardTaskDetail").await;
    assert_eq!(rest["claims"].as_array().map(Vec::len), Some(2), "{rest}");
    assert_eq!(rest["timeline"][0]["detail"]["reward"], "30", "{rest}");

    // A miss is null where REST says 404; a malformed argument is REST's error, code included.
    let (status, _) = call(&app, "GET", "/api/board/tasks/99", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let r = graphql(&app, "{ boardTask(id: 99) { task { id } } community(id: 42) { community { id } } }", None).await;
    assert_eq!((r["data"]["boardTask"].clone(), r["data"]["community"].clone()), (Value::Null, Value::Null), "{r}");
    for (q, status) in [
        ("{ boardTasks(limit: 0) { tasks { id } } }", 400),
        ("{ boardTasks(publisher: \"0x12\") { tasks { id } } }", 400),
        ("{ boardTasks(community: 0) { tasks { id } } }", 400),
        ("{ accountBoard(address: \"nobody\") { communities } }", 400),
    ] {
        let r = graphql(&app, q, None).await;
        assert_eq!(r["errors"][0]["extensions"]["status"], status, "{q}: {r}");
        assert_eq!(r["errors"][0]["extensions"]["code"], "bad_request", "{q}: {r}");
    }
    // A literal GraphQL's Int cannot hold is refused by GraphQL's own validation, naming the argument.
    let r = graphql(&app, "{ boardTasks(community: 9223372036854775808) { tasks { id } } }", None).await;
    assert!(r["data"].is_null() && r["errors"][0]["message"].as_str().unwrap_or_default().contains("community"), "{r}");
    db.finish().await?;
    Ok(())
}

#[tokio::test]
async fn deep_or_costly_queries_are_refused_before_they_run() -> anyhow::Result<()> {
    let (db, app) = seeded_board().await?;
    // Thirteen levels of nesting through the introspection types.
    let deep = "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } }";
    let r = graphql(&app, deep, None).await;
    let message = r["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(r["data"].is_null() && message.contains("nested too deep"), "{r}");
    assert_eq!(agora_api::MAX_DEPTH, 10);

    // A full page of tasks costs its limit times its fields; four aliases of it exceed the bound,
    // one does not.
    let types = schema_types(&app).await;
    let page = format!("boardTasks(limit: 100) {}", selection(&types, "BoardTaskList"));
    let one = graphql(&app, &format!("{{ {page} }}"), None).await;
    assert!(one["errors"].is_null(), "{one}");
    let four = format!("{{ a: {page} b: {page} c: {page} d: {page} }}");
    let r = graphql(&app, &four, None).await;
    let message = r["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(r["data"].is_null() && message.contains("too complex"), "{r}");
    db.finish().await?;
    Ok(())
}

#[tokio::test]
async fn the_committed_schema_is_the_generated_one_and_is_served() -> anyhow::Result<()> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let generated = agora_api::graphql_sdl();
    if std::env::var_os("AGORA_WRITE_GRAPHQL").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated)?;
        return Ok(());
    }
    assert!(
        std::fs::read_to_string(&path)? == generated,
        "crates/api/schema.graphql is stale: rewrite it with \
         AGORA_WRITE_GRAPHQL=1 cargo nextest run -p agora-api --test router graphql::the_committed_schema"
    );
    assert_eq!(agora_api::GRAPHQL_SCHEMA, generated);
    assert!(generated.contains("boardTasks(") && generated.contains("createThread("), "{generated}");
    let (db, app) = seeded_board().await?;
    let req = axum::http::Request::get("/api/graphql/schema.graphql").body(axum::body::Body::empty())?;
    let resp = tower::ServiceExt::oneshot(app, req).await?;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = http_body_util::BodyExt::collect(resp.into_body()).await?.to_bytes();
    assert_eq!(body, generated.as_bytes());
    db.finish().await?;
    Ok(())
}
