//! The federated-learning market through the router: tasks, a task's detail, an account's assets
//! and the coordinator's rounds, logs and result, in the document's shapes; malformed input 400,
//! unknown tasks 404.

use agora_store::{
    Batch, BlockRef, FlEvent, FlLogLevel, FlReferenceRow, FlResultEntry, FlResultKind, FlResultRow, FlRoundParticipant,
    FlRoundRow, IndexedLog, LogMeta, MarketEvent,
};
use alloy::primitives::{Address, B256, U256};
use axum::http::StatusCode;
use serde_json::json;

use super::{USER, assert_has_required, seeded};
use crate::common::{CHAIN, call};

const TRAINER: &str = "0x976ea74026e726554db657fa54763abd0c3a0aa9";
const INVESTOR: &str = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";

fn history() -> Vec<FlEvent> {
    use FlEvent::*;
    let created = |task_id, mode: &str, pool: &str| TaskCreated {
        task_id,
        investor: INVESTOR.into(),
        coordinator: INVESTOR.into(),
        mode: mode.into(),
        token: "0x0000000000000000000000000000000000000000".into(),
        pool: pool.into(),
        prediction_fee: "5".into(),
        spec: "ipfs://spec".into(),
    };
    let terms = |task_id| TaskTerms {
        task_id,
        block_token: "0x0000000000000000000000000000000000000000".into(),
        block_price: "10".into(),
        total_blocks: 100,
        min_participants: 1,
        start_deadline: 1_700_100_000,
        finish_deadline: 1_700_200_000,
    };
    vec![
        created(1, "RewardPool", "1000000000000000000000"),
        terms(1),
        MemberJoined { task_id: 1, account: TRAINER.into(), members: 1 },
        BlocksBought { task_id: 1, buyer: TRAINER.into(), count: 2, cost: "20".into(), blocks_sold: 2 },
        TaskStarted { task_id: 1, members: 1, block_payments: "20".into() },
        RewardsPosted {
            task_id: 1,
            root: format!("0x{}", "55".repeat(32)),
            record_cid: "bafyrec".into(),
            claim_deadline: 1_707_876_000,
        },
        RewardClaimed { task_id: 1, account: TRAINER.into(), amount: "1000000000000000000000".into() },
        PredictionRequested {
            request_id: 1,
            task_id: 1,
            payer: USER.into(),
            fee: "5".into(),
            input_hash: format!("0x{}", "66".repeat(32)),
        },
        created(2, "Shareholding", "0"),
        terms(2),
    ]
}

#[tokio::test]
async fn the_fl_market_reads_as_json() -> anyhow::Result<()> {
    let (db, app) = seeded().await?;
    let b2 = BlockRef { number: 2, hash: "0x02".into(), parent_hash: "0x01".into(), timestamp: 1_700_000_100 };
    let meta = |i: u64| LogMeta {
        block_number: 2,
        block_hash: "0x02".into(),
        block_timestamp: 1_700_000_100,
        tx_hash: format!("0x{:064x}", 0xf1),
        log_index: i,
        address: "0x00".into(),
    };
    let logs = history()
        .into_iter()
        .enumerate()
        .map(|(i, e)| IndexedLog { meta: meta(i as u64), event: MarketEvent::Fl(e) })
        .collect();
    db.store.apply_batch(&Batch { chain_id: CHAIN, expected_cursor: 1, blocks: vec![b2], logs }).await?;
    let trainer: Address = TRAINER.parse()?;
    let round = FlRoundRow {
        task_id: 1,
        round: 1,
        accuracy: 0.8612,
        loss: f64::NAN,
        participants: vec![FlRoundParticipant {
            account: trainer,
            samples: 1200,
            loss: Some(0.42),
            contribution: Some(0.031),
            refused: None,
            update_cid: Some("bafkreiupdate".into()),
        }],
        aggregated_at: 1_700_000_050,
        record_cid: Some("bafkreirecord".into()),
        model_cid: None,
    };
    db.store.fl_record_round(CHAIN, &round).await?;
    for line in ["round 1 started", "round 1 aggregated"] {
        db.store.fl_append_log(CHAIN, 1, 1_700_000_060, FlLogLevel::Info, line).await?;
    }
    let proof = vec![B256::repeat_byte(0x77)];
    let result = FlResultRow {
        task_id: 1,
        record_cid: "bafyrec".into(),
        model_cid: None,
        kind: FlResultKind::Rewards,
        root: Some(B256::repeat_byte(0x55)),
        entries: vec![
            FlResultEntry { account: trainer, amount: U256::from(10).pow(U256::from(21)), proof: proof.clone() },
            FlResultEntry { account: Address::repeat_byte(1), amount: U256::ZERO, proof },
        ],
        posted_tx: None,
        saved_at: 1_700_000_070,
    };
    db.store.fl_save_result(CHAIN, &result).await?;
    let reference = FlReferenceRow {
        task_id: 1,
        epochs: 3,
        epochs_per_round: 1,
        samples: 1200,
        accuracy: vec![0.81, f64::NAN],
        loss: vec![0.6, 0.4],
        seconds: 2.5,
        updated_at: 1_700_000_080,
    };
    db.store.fl_save_reference(CHAIN, &reference).await?;

    let (_, doc) = call(&app, "GET", "/api/openapi.json", None).await;
    let (status, tasks) = call(&app, "GET", "/api/fl/tasks", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tasks.as_array().map(Vec::len), Some(2));
    assert_has_required(&doc, "FlTask", &tasks[0], "a task");
    assert_eq!(
        (&tasks[0]["id"], &tasks[0]["mode"], &tasks[0]["state"]),
        (&json!(2), &json!("shareholding"), &json!("open"))
    );
    let (_, finished) = call(&app, "GET", "/api/fl/tasks?state=finished&mode=reward_pool", None).await;
    assert_eq!(finished[0]["pool"], "1000000000000000000000", "amounts are decimal strings");
    assert_eq!(finished[0]["claimed"], "1000000000000000000000");
    let upper = TRAINER.to_ascii_uppercase().replacen("0X", "0x", 1);
    let (_, joined) = call(&app, "GET", &format!("/api/fl/tasks?account={upper}"), None).await;
    assert_eq!(joined.as_array().map(|t| t.iter().map(|t| t["id"].clone()).collect::<Vec<_>>()), Some(vec![json!(1)]));

    let (status, detail) = call(&app, "GET", "/api/fl/tasks/1", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_has_required(&doc, "FlTaskDetail", &detail, "a task's detail");
    assert_eq!(detail["task"]["rewardsRoot"], format!("0x{}", "55".repeat(32)));
    assert_eq!(detail["members"][0]["account"], TRAINER);
    assert_eq!(detail["members"][0]["blocks"], 2);
    assert_eq!(detail["purchases"][0]["held"], true);
    assert_eq!(detail["claims"][0]["amount"], "1000000000000000000000");
    assert_eq!(detail["predictions"], json!({"count": 1, "revenue": "5"}));

    let (_, assets) = call(&app, "GET", &format!("/api/fl/accounts/{upper}"), None).await;
    assert_has_required(&doc, "FlAccount", &assets, "an account's assets");
    assert_eq!(
        (assets["memberships"][0]["taskId"].clone(), assets["claims"][0]["taskId"].clone()),
        (json!(1), json!(1))
    );
    let (_, payer) = call(&app, "GET", &format!("/api/fl/accounts/{USER}"), None).await;
    assert_eq!(payer["predictions"][0]["fee"], "5");
    let (_, investor) = call(&app, "GET", &format!("/api/fl/accounts/{INVESTOR}"), None).await;
    assert_eq!(
        investor["revenue"][1],
        json!({"taskId": 1, "predictions": 1, "predictionFees": "5", "blockRevenue": "20"})
    );

    let (_, rounds) = call(&app, "GET", "/api/fl/tasks/1/rounds", None).await;
    assert_has_required(&doc, "FlRound", &rounds[0], "a round");
    assert_eq!((&rounds[0]["accuracy"], &rounds[0]["loss"]), (&json!(0.8612), &json!(null)), "NaN is null");
    assert_eq!(rounds[0]["participants"][0]["contribution"], 0.031);
    assert_eq!(rounds[0]["participants"][0]["updateCid"], "bafkreiupdate");
    assert_eq!((&rounds[0]["recordCid"], &rounds[0]["modelCid"]), (&json!("bafkreirecord"), &json!(null)));
    let (_, logs) = call(&app, "GET", "/api/fl/tasks/1/logs?after=1", None).await;
    assert_eq!(logs, json!([{"seq": 2, "at": 1_700_000_060, "level": "info", "message": "round 1 aggregated"}]));
    let (_, all) = call(&app, "GET", "/api/fl/tasks/1/result", None).await;
    assert_has_required(&doc, "FlResult", &all, "a result");
    assert_eq!(all["entries"].as_array().map(Vec::len), Some(2));
    let (_, mine) = call(&app, "GET", &format!("/api/fl/tasks/1/result?account={upper}"), None).await;
    assert_eq!(
        mine["entries"],
        json!([{"account": TRAINER, "amount": "1000000000000000000000", "proof": [format!("0x{}", "77".repeat(32))]}])
    );
    let (status, central) = call(&app, "GET", "/api/fl/tasks/1/reference", None).await;
    assert_eq!(status, StatusCode::OK, "{central}");
    assert_has_required(&doc, "FlReference", &central, "a reference");
    assert_eq!(
        central,
        json!({"taskId": 1, "epochs": 3, "epochsPerRound": 1, "samples": 1200, "accuracy": [0.81, null],
               "loss": [0.6, 0.4], "seconds": 2.5, "complete": false, "updatedAt": 1_700_000_080_u64})
    );

    for (path, want) in [
        ("/api/fl/tasks/9".to_owned(), StatusCode::NOT_FOUND),
        ("/api/fl/tasks/x".to_owned(), StatusCode::BAD_REQUEST),
        ("/api/fl/tasks?state=done".to_owned(), StatusCode::BAD_REQUEST),
        ("/api/fl/tasks?mode=pool".to_owned(), StatusCode::BAD_REQUEST),
        ("/api/fl/tasks?account=0x12".to_owned(), StatusCode::BAD_REQUEST),
        ("/api/fl/accounts/nope".to_owned(), StatusCode::BAD_REQUEST),
        ("/api/fl/tasks/9/rounds".to_owned(), StatusCode::NOT_FOUND),
        ("/api/fl/tasks/1/logs?after=-1".to_owned(), StatusCode::BAD_REQUEST),
        ("/api/fl/tasks/2/result".to_owned(), StatusCode::NOT_FOUND),
        ("/api/fl/tasks/2/reference".to_owned(), StatusCode::NOT_FOUND),
        ("/api/fl/tasks/9/reference".to_owned(), StatusCode::NOT_FOUND),
        ("/api/fl/tasks/x/reference".to_owned(), StatusCode::BAD_REQUEST),
        (format!("/api/fl/tasks/1/result?account={INVESTOR}"), StatusCode::NOT_FOUND),
        ("/api/fl/tasks/1/result?account=0xzz".to_owned(), StatusCode::BAD_REQUEST),
    ] {
        let (status, body) = call(&app, "GET", &path, None).await;
        assert_eq!(status, want, "{path}: {body}");
        assert!(body["error"]["message"].is_string(), "{path}: {body}");
    }
    db.finish().await?;
    Ok(())
}

/// Reads server-sent events off `body` until one named `name` arrives.
async fn next_event(body: &mut axum::body::Body, name: &str) -> anyhow::Result<serde_json::Value> {
    use http_body_util::BodyExt;
    let mut text = String::new();
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(5), body.frame()).await?;
        let frame = frame.ok_or_else(|| anyhow::anyhow!("stream ended"))??;
        if let Ok(data) = frame.into_data() {
            text.push_str(std::str::from_utf8(&data)?);
        }
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            let event = block.lines().find_map(|l| l.strip_prefix("event: ")).unwrap_or("message");
            let data: String = block.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
            if event == name {
                return Ok(serde_json::from_str(&data)?);
            }
        }
    }
}

/// A federated-learning task's logs reach live pages as `fl_task` events carrying the task.
#[tokio::test]
async fn the_event_stream_pushes_fl_task_changes() -> anyhow::Result<()> {
    use tower::ServiceExt;
    let db = agora_store::testing::TestDb::sqlite().await?;
    let (state, events) =
        crate::common::state(db.store.clone(), agora_chain::read_provider("http://127.0.0.1:1")?).await;
    let app = agora_api::router(state);
    let req = axum::http::Request::builder().uri("/api/events").body(axum::body::Body::empty())?;
    let mut stream = app.oneshot(req).await?.into_body();
    let b0 = BlockRef { number: 0, hash: "0x00".into(), parent_hash: "0x".into(), timestamp: 1 };
    let b1 = BlockRef { number: 1, hash: "0x01".into(), parent_hash: "0x00".into(), timestamp: 2 };
    db.store.init_cursor(CHAIN, &b0).await?;
    let meta = |i: u64| LogMeta {
        block_number: 1,
        block_hash: "0x01".into(),
        block_timestamp: 2,
        tx_hash: format!("0x{:064x}", 0xf2),
        log_index: i,
        address: "0x00".into(),
    };
    let logs: Vec<_> = history()[..3]
        .iter()
        .enumerate()
        .map(|(i, e)| IndexedLog { meta: meta(i as u64), event: MarketEvent::Fl(e.clone()) })
        .collect();
    let outcome = db
        .store
        .apply_batch(&Batch { chain_id: CHAIN, expected_cursor: 0, blocks: vec![b1], logs: logs.clone() })
        .await?;
    for i in outcome.applied {
        let _ = events.send(logs[i].clone());
    }
    let task = next_event(&mut stream, "fl_task").await?;
    assert_eq!((&task["id"], &task["mode"], &task["state"]), (&json!(1), &json!("reward_pool"), &json!("open")));
    db.finish().await?;
    Ok(())
}
