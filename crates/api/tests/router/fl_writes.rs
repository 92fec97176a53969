//! The federated-learning market's writes through the router: a spec stored under the CID anyone
//! computes from its canonical bytes (and refused when it is not a spec), malformed prediction
//! requests and unknown tasks refused, a finished task's model answering from memory after its
//! first prediction (the paid path on a chain runs in `crates/cli/tests/fl.rs` and the browser
//! test); the faucet refused where the node runs no dev chain.

use agora_content::ContentStore as _;
use agora_federated::TaskSpec;
use agora_store::testing::TestDb;
use agora_store::{Batch, BlockRef, FlEvent, FlResultKind, FlResultRow, IndexedLog, LogMeta, MarketEvent};
use alloy::primitives::keccak256;
use axum::http::StatusCode;
use base64::Engine as _;
use serde_json::json;

use super::{USER, seeded};
use crate::common::{CHAIN, call, state};

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

/// A finished digits task (id 1) whose spec and final model `content` holds, and a paid request
/// (id 1) for `pixels`.
async fn finished_task(db: &TestDb, spec: &TaskSpec, model_cid: &str, pixels: &[u8]) -> anyhow::Result<()> {
    let investor = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
    let zero = "0x0000000000000000000000000000000000000000";
    let events = vec![
        FlEvent::TaskCreated {
            task_id: 1,
            investor: investor.into(),
            coordinator: investor.into(),
            mode: "RewardPool".into(),
            token: zero.into(),
            pool: "1000".into(),
            prediction_fee: "5".into(),
            spec: spec.cid()?.to_string(),
        },
        FlEvent::TaskTerms {
            task_id: 1,
            block_token: zero.into(),
            block_price: "10".into(),
            total_blocks: 10,
            min_participants: 1,
            start_deadline: 1_700_100_000,
            finish_deadline: 1_700_200_000,
        },
        FlEvent::MemberJoined { task_id: 1, account: investor.into(), members: 1 },
        FlEvent::TaskStarted { task_id: 1, members: 1, block_payments: "0".into() },
        FlEvent::RewardsPosted {
            task_id: 1,
            root: format!("0x{}", "55".repeat(32)),
            record_cid: "bafyrec".into(),
            claim_deadline: 1_707_876_000,
        },
        FlEvent::PredictionRequested {
            request_id: 1,
            task_id: 1,
            payer: USER.into(),
            fee: "5".into(),
            input_hash: keccak256(pixels).to_string(),
        },
    ];
    let b0 = BlockRef { number: 0, hash: "0x00".into(), parent_hash: "0x".into(), timestamp: 1 };
    let b1 = BlockRef { number: 1, hash: "0x01".into(), parent_hash: "0x00".into(), timestamp: 1_700_000_000 };
    db.store.init_cursor(CHAIN, &b0).await?;
    let logs = events
        .into_iter()
        .enumerate()
        .map(|(i, event)| IndexedLog {
            meta: LogMeta {
                block_number: 1,
                block_hash: "0x01".into(),
                block_timestamp: 1_700_000_000,
                tx_hash: format!("0x{:064x}", 0xf1),
                log_index: i as u64,
                address: "0x00".into(),
            },
            event: MarketEvent::Fl(event),
        })
        .collect();
    db.store.apply_batch(&Batch { chain_id: CHAIN, expected_cursor: 0, blocks: vec![b1], logs }).await?;
    let result = FlResultRow {
        task_id: 1,
        record_cid: "bafyrec".into(),
        model_cid: Some(model_cid.into()),
        kind: FlResultKind::Rewards,
        root: None,
        entries: Vec::new(),
        posted_tx: None,
        saved_at: 1_700_000_070,
    };
    db.store.fl_save_result(CHAIN, &result).await?;
    Ok(())
}

#[tokio::test]
async fn a_model_is_read_from_the_content_store_once() -> anyhow::Result<()> {
    let db = TestDb::sqlite().await?;
    let provider = agora_chain::read_provider("http://127.0.0.1:1")?;
    let (st, _) = state(db.store.clone(), provider.clone()).await;
    // A seed no other test uses, so that this spec and model are new to the node's model cache.
    let spec = TaskSpec::digits_demo(14_001);
    st.content.put(spec.to_bytes()?).await?;
    let params = spec.mlp().init(14_001);
    let model_cid = st.content.put(params.iter().flat_map(|p| p.to_le_bytes()).collect::<Vec<u8>>()).await?;
    let pixels: Vec<u8> = (0..64u32).map(|i| (i * 5 % 17) as u8).collect();
    finished_task(&db, &spec, &model_cid.to_string(), &pixels).await?;
    let body = json!({"requestId": "1", "pixels": base64::engine::general_purpose::STANDARD.encode(&pixels)});

    let (status, first) = call(&agora_api::router(st), "POST", "/api/fl/tasks/1/predict", Some(body.clone())).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["requestId"], "1");
    // The spec's model on the spec's scaling of these pixels.
    let expected = agora_fl::Model::new(spec.mlp(), &params)?.predict(&spec.scaling().apply(&pixels))?.remove(0);
    let served: Vec<f64> =
        first["probabilities"].as_array().map(|p| p.iter().filter_map(|v| v.as_f64()).collect()).unwrap_or_default();
    assert_eq!(served.len(), expected.len(), "{first}");
    assert!(served.iter().zip(&expected).all(|(a, b)| (a - f64::from(*b)).abs() < 1e-6), "{first} vs {expected:?}");

    // The same node state over a content store that holds neither the spec nor the model: the
    // answer can only come from the model loaded by the first prediction.
    let (mut bare, _) = state(db.store.clone(), provider).await;
    let dir = tempfile::tempdir()?;
    let config = agora_content::ContentConfig { dir: dir.path().to_path_buf(), ipfs_api: None };
    bare.content = std::sync::Arc::new(agora_content::open(&config).await?);
    assert!(!bare.content.has(&model_cid).await?);
    let (status, second) = call(&agora_api::router(bare), "POST", "/api/fl/tasks/1/predict", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second, first);
    Ok(())
}
