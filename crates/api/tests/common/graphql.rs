//! GraphQL from tests: a request through the router, and every field of a type as a selection set
//! read from the schema's own introspection, so comparing with REST covers fields added later too.

use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// The whole GraphQL response (`data`, `errors`) to `query`, signed in by `cookie` if given.
pub(crate) async fn graphql(app: &axum::Router, query: &str, cookie: Option<&str>) -> Value {
    let mut req =
        Request::builder().method("POST").uri("/api/graphql").header(header::CONTENT_TYPE, "application/json");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let req = req.body(Body::from(json!({ "query": query }).to_string())).expect("request");
    let resp = app.clone().oneshot(req).await.expect("response");
    assert_eq!(resp.status(), axum::http::StatusCode::OK, "GraphQL answers 200 with data or errors");
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    serde_json::from_slice(&bytes).expect("a JSON response")
}

/// The schema's types by name, from introspection.
pub(crate) async fn schema_types(app: &axum::Router) -> Value {
    let q = "{ __schema { types { name kind fields { name type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";
    let r = graphql(app, q, None).await;
    let types = r["data"]["__schema"]["types"].as_array().unwrap_or_else(|| panic!("introspection: {r}"));
    Value::Object(types.iter().map(|t| (t["name"].as_str().unwrap_or_default().to_owned(), t.clone())).collect())
}

/// `{ a b c { … } }`: every field of object type `ty`, recursing into the object types it holds.
pub(crate) fn selection(types: &Value, ty: &str) -> String {
    let fields = types[ty]["fields"].as_array().unwrap_or_else(|| panic!("{ty} is not an object type"));
    let parts: Vec<String> = fields
        .iter()
        .map(|f| {
            let name = f["name"].as_str().unwrap_or_default();
            // Unwrap NON_NULL and LIST down to the named type.
            let mut t = &f["type"];
            while t["name"].is_null() {
                t = &t["ofType"];
            }
            match t["kind"].as_str() {
                Some("OBJECT") => format!("{name} {}", selection(types, t["name"].as_str().unwrap_or_default())),
                _ => name.to_owned(),
            }
        })
        .collect();
    format!("{{ {} }}", parts.join(" "))
}
