//! The federated-learning market's writes through the router: a spec stored under the CID anyone
//! computes from its canonical bytes (and refused when it is not a spec), malformed prediction
//! requests and unknown tasks refused (the paid path runs in `crates/cli/tests/fl.rs` and the
//! browser test); the faucet refused where the node runs no dev chain.

use agora_federated::TaskSpec;
use agora_store::testing::TestDb;
use axum::http::StatusCode;
use base64::Engine as _;
use serde_json::json;

use super::seeded;
use crate::common::{call, state};

#[tokio::test]
async fn a_spec_is_stored_under_its_canonical_cid() -> anyhow::Result<()> {
    let db = TestDb::sqlite().await?;
    let app = agora_api::router(state(db.store.clone(), agora_chain::read_provider("http://127.0.0.1:1")?).await.0);
    let spec = TaskSpec::digits_demo(7);
    let (status, body) = call(&app, "POST", "/api/fl/specs", Some(serde_json::to_value(&spec)?)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["cid"], spec.cid()?.to_string());
    // What a client stored is served back byte for byte, so the coordinator reads the same spec.
    let served = call(&app, "GET", &format!("/ipfs/{}", body["cid"].as_str().unwrap_or_default()), None).await;
    assert_eq!(served.0, StatusCode::OK);

    let mut bad = serde_json::to_value(&spec)?;
    bad["rounds"] = json!(0);
    let (status, body) = call(&app, "POST", "/api/fl/specs", Some(bad)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_spec")), "{body}");
    let (status, body) = call(&app, "POST", "/api/fl/specs", Some(json!({"name": "not a spec"}))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_spec")), "{body}");
    Ok(())
}

#[tokio::test]
async fn predictions_need_an_indexed_request_for_these_pixels() -> anyhow::Result<()> {
    let (_db, app) = seeded().await?;
    let pixels = vec![7u8; 784];
    let b64 = base64::engine::general_purpose::STANDARD.encode(&pixels);
    let ask = |task: &str, body| {
        let app = app.clone();
        let uri = format!("/api/fl/tasks/{task}/predict");
        async move { call(&app, "POST", &uri, Some(body)).await }
    };
    let (status, body) = ask("1", json!({"requestId": "1", "pixels": "%%%"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "not base64: {body}");
    let (status, body) = ask("x", json!({"requestId": "1", "pixels": b64})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "not a task id: {body}");
    let (status, body) = ask("999", json!({"requestId": "1", "pixels": b64})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no such task: {body}");
    Ok(())
}

#[tokio::test]
async fn the_faucet_serves_only_a_dev_chain() -> anyhow::Result<()> {
    let (_db, app) = seeded().await?;
    let (status, body) =
        call(&app, "POST", "/api/faucet", Some(json!({"address": "0x1111111111111111111111111111111111111111"}))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("no_faucet")), "{body}");
    let (status, body) = call(&app, "POST", "/api/faucet", Some(json!({"address": "nope"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "refused before the address is read: {body}");
    Ok(())
}
