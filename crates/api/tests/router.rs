//! The API through its router: shapes, filters, and errors a person can read.

use agora_api::router;
use agora_chain::anvil::{Anvil, locate_anvil};
use agora_chain::deploy::{deploy_contracts, list_services};
use agora_chain::{SendPolicy, Sender, read_provider, signer_from_key};
use agora_market::demo::{demo_services, listings};
use agora_store::testing::TestDb;
use agora_store::{Batch, BlockRef, IndexedLog, LogMeta, MarketEvent};
use alloy::primitives::U256;
use alloy::sol_types::SolCall;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

#[path = "router/board.rs"]
mod board;
mod common;
#[path = "router/fl_listing.rs"]
mod fl_listing;
#[path = "router/fl_market.rs"]
mod fl_market;
#[path = "router/fl_voucher.rs"]
mod fl_voucher;
#[path = "router/fl_writes.rs"]
mod fl_writes;
#[path = "router/graphql.rs"]
mod graphql;

use common::{CHAIN, call, state};

const USER: &str = "0x90f79bf6eb2c4f870365e785982e1f101e93b906";

async fn seeded() -> anyhow::Result<(TestDb, axum::Router)> {
    let db = TestDb::sqlite().await?;
    let b0 = BlockRef { number: 0, hash: "0x00".into(), parent_hash: "0x".into(), timestamp: 1 };
    let b1 = BlockRef { number: 1, hash: "0x01".into(), parent_hash: "0x00".into(), timestamp: 1_700_000_000 };
    db.store.init_cursor(CHAIN, &b0).await?;
    let meta = |i: u64| LogMeta {
        block_number: 1,
        block_hash: "0x01".into(),
        block_timestamp: 1_700_000_000,
        tx_hash: format!("0x{:064x}", 0xabc),
        log_index: i,
        address: "0x00".into(),
    };
    let logs = vec![
        IndexedLog {
            meta: meta(0),
            event: MarketEvent::ServiceListed {
                service_id: 1,
                provider: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8".into(),
                token: "0x0000000000000000000000000000000000000000".into(),
                price: "10000000000000000".into(),
                max_run_time: 300,
                metadata_uri: demo_services()[0].metadata.to_uri(),
            },
        },
        IndexedLog {
            meta: meta(1),
            event: MarketEvent::TaskCreated {
                task_id: 1,
                user: USER.into(),
                service_id: 1,
                amount: "10000000000000000".into(),
            },
        },
        IndexedLog {
            meta: meta(2),
            event: MarketEvent::TaskInput { task_id: 1, deadline: 1_700_000_900, input: "bafy".into() },
        },
    ];
    db.store.apply_batch(&Batch { chain_id: CHAIN, expected_cursor: 0, blocks: vec![b1], logs }).await?;
    let app = router(state(db.store.clone(), read_provider("http://127.0.0.1:1")?).await.0);
    Ok((db, app))
}

#[tokio::test]
async fn services_and_tasks_read_as_json() -> anyhow::Result<()> {
    let (db, app) = seeded().await?;
    let (status, services) = call(&app, "GET", "/api/services", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(services[0]["id"], 1);
    assert_eq!(services[0]["price"], "10000000000000000", "amounts are decimal strings");
    assert_eq!(services[0]["metadata"]["name"]["en"], "AI inference");
    assert_eq!(services[0]["metadata"]["kind"], "ai-inference");
    assert_eq!(services[0]["metadata"]["runtime"], json!({"type": "local", "app": "digits"}));
    assert_eq!(services[0]["input"], json!({"modes": ["draw", "file"], "accept": "image/png", "options": []}));
    assert_eq!(services[0]["active"], true);

    let (status, task) = call(&app, "GET", "/api/tasks/1", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(task["status"], "Created");
    assert_eq!(task["deadline"], 1_700_000_900);
    assert_eq!(task["timeline"][0]["event"], "TaskCreated");
    assert_eq!(task["timeline"][1]["event"], "TaskInput");

    let upper = USER.to_ascii_uppercase().replacen("0X", "0x", 1);
    let (_, mine) = call(&app, "GET", &format!("/api/tasks?user={upper}"), None).await;
    assert_eq!(mine.as_array().map(Vec::len), Some(1), "address case does not matter");
    let (_, none) = call(&app, "GET", "/api/tasks?user=0x0000000000000000000000000000000000000001", None).await;
    assert_eq!(none.as_array().map(Vec::len), Some(0));
    db.finish().await?;
    Ok(())
}

#[tokio::test]
async fn bad_requests_get_clear_errors_in_one_shape() -> anyhow::Result<()> {
    let (db, app) = seeded().await?;
    for (method, uri, body, status, code) in [
        ("GET", "/api/tasks/99".to_owned(), None, StatusCode::NOT_FOUND, "not_found"),
        ("GET", "/api/tasks/abc".to_owned(), None, StatusCode::BAD_REQUEST, "bad_request"),
        ("GET", "/api/tasks?user=alice".to_owned(), None, StatusCode::BAD_REQUEST, "bad_request"),
        ("GET", "/api/tasks?colour=red".to_owned(), None, StatusCode::BAD_REQUEST, "bad_request"),
        ("GET", "/api/nothing-here".to_owned(), None, StatusCode::NOT_FOUND, "not_found"),
        ("POST", "/api/tx/simulate".to_owned(), Some(json!({"from": "0x1"})), StatusCode::BAD_REQUEST, "bad_request"),
        ("GET", "/api/health".to_owned(), None, StatusCode::BAD_GATEWAY, "chain_unavailable"),
        ("GET", "/api/channels?payer=0x12".to_owned(), None, StatusCode::BAD_REQUEST, "bad_request"),
        ("GET", "/api/channels/0x1234".to_owned(), None, StatusCode::BAD_REQUEST, "bad_request"),
        ("GET", format!("/api/channels/0x{}", "ab".repeat(32)), None, StatusCode::NOT_FOUND, "not_found"),
        (
            "POST",
            format!("/api/channels/0x{}/vouchers", "ab".repeat(32)),
            Some(json!({"cumulativeAmount": "1.5", "signature": "0x00"})),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "POST",
            format!("/api/channels/0x{}/vouchers", "ab".repeat(32)),
            Some(json!({"cumulativeAmount": "1", "signature": "0x00"})),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ] {
        let (got, body) = call(&app, method, &uri, body).await;
        assert_eq!(got, status, "{method} {uri}: {body}");
        assert_eq!(body["error"]["code"], code, "{method} {uri}: {body}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{method} {uri}: {body}");
    }
    let (_, body) = call(&app, "GET", "/api/tasks?user=alice", None).await;
    assert_eq!(body["error"]["message"], "user \"alice\" is not a 0x-prefixed 20-byte address");
    db.finish().await?;
    Ok(())
}

#[tokio::test]
async fn a_simulated_revert_reads_as_a_sentence() -> anyhow::Result<()> {
    let bin = locate_anvil(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))).expect("anvil in node_modules (npm ci)");
    let anvil = Anvil::spawn_default(bin).await?;
    let owner = signer_from_key(&anvil.accounts()[0].private_key)?;
    let sender = Sender::connect(anvil.url(), owner.clone(), SendPolicy::dev()).await?;
    let d = deploy_contracts(&sender, owner.address(), owner.address()).await?;
    list_services(&sender, &d, &listings(&demo_services())).await?;
    let db = TestDb::sqlite().await?;
    let app = router(state(db.store.clone(), read_provider(anvil.url())?).await.0);

    let data = agora_chain::bindings::ComputeMarket::buyComputeCall {
        serviceId: U256::from(1),
        input: "x".into(),
        price: U256::from(10_000_000_000_000_000u64),
        maxRunTime: 300,
    };
    let data = alloy::primitives::Bytes::from(data.abi_encode());
    let req = json!({ "from": owner.address(), "to": d.compute_market, "data": data, "value": "5" });
    let (status, body) = call(&app, "POST", "/api/tx/simulate", Some(req.clone())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "InsufficientPayment");
    assert_eq!(body["error"]["message"], "payment of 5 wei does not match the service price of 10000000000000000 wei");

    let mut ok = req;
    ok["value"] = json!("10000000000000000");
    let (status, body) = call(&app, "POST", "/api/tx/simulate", Some(ok)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ok"], true);

    // A call the chain node will not run at all (an empty account sending value) would fail too.
    let poor =
        json!({ "from": "0x0000000000000000000000000000000000000bad", "to": USER, "data": "0x", "value": "1000" });
    let (status, body) = call(&app, "POST", "/api/tx/simulate", Some(poor)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("call_failed")),
        "{body}"
    );
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("the call would fail: ") && message.to_lowercase().contains("insufficient funds"),
        "{message}"
    );
    db.finish().await?;
    anvil.stop().await?;
    Ok(())
}

async fn raw(app: &axum::Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let resp = app.clone().oneshot(req).await.expect("response");
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, headers, resp.into_body().collect().await.expect("body").to_bytes().to_vec())
}

#[tokio::test]
async fn uploads_come_back_by_cid_with_ranges_and_caching() -> anyhow::Result<()> {
    let (db, app) = seeded().await?;
    let text = "hello, 世界\n".repeat(1000);
    let req = Request::builder().method("POST").uri("/api/uploads").body(Body::from(text.clone()))?;
    let (status, _, body) = raw(&app, req).await;
    assert_eq!(status, StatusCode::CREATED);
    let up: Value = serde_json::from_slice(&body)?;
    let cid = up["cid"].as_str().expect("cid").to_owned();
    assert_eq!(cid, agora_content::cid_of(text.as_bytes()).to_string());
    assert_eq!(up["size"], text.len());

    let get = |range: Option<&str>, etag: Option<&str>| {
        let mut b = Request::builder().uri(format!("/ipfs/{cid}"));
        if let Some(r) = range {
            b = b.header("range", r);
        }
        if let Some(e) = etag {
            b = b.header("if-none-match", e);
        }
        b.body(Body::empty()).expect("request")
    };
    let (status, headers, body) = raw(&app, get(None, None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, text.as_bytes());
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(headers["cache-control"], "public, max-age=31536000, immutable");
    let etag = headers["etag"].to_str()?.to_owned();

    let (status, headers, body) = raw(&app, get(Some("bytes=0-4"), None)).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body, b"hello");
    assert_eq!(headers["content-range"], format!("bytes 0-4/{}", text.len()));
    let (status, _, _) = raw(&app, get(Some("bytes=999999-"), None)).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    let (status, _, body) = raw(&app, get(None, Some(&etag))).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());

    let (status, body) = call(&app, "GET", "/ipfs/QmNotACidv1", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let missing = agora_content::cid_of(b"never uploaded");
    let (status, body) = call(&app, "GET", &format!("/ipfs/{missing}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    db.finish().await?;
    Ok(())
}

/// The operation `method path` of the served document.
fn operation<'a>(doc: &'a Value, method: &str, path: &str) -> &'a Value {
    &doc["paths"][path][method.to_ascii_lowercase()]
}

/// Every field the document's schema `name` marks required, present in `value`.
fn assert_has_required(doc: &Value, name: &str, value: &Value, what: &str) {
    let required = doc["components"]["schemas"][name]["required"].as_array().expect("required fields");
    for field in required.iter().filter_map(Value::as_str) {
        assert!(value.get(field).is_some(), "{what} lacks {field}, which the document requires: {value}");
    }
}

#[tokio::test]
async fn answers_carry_what_the_document_requires() -> anyhow::Result<()> {
    let (db, app) = seeded().await?;
    let (_, doc) = call(&app, "GET", "/api/openapi.json", None).await;

    let (_, services) = call(&app, "GET", "/api/services", None).await;
    let (_, one) = call(&app, "GET", "/api/services/1", None).await;
    for service in services.as_array().expect("a list").iter().chain([&one]) {
        assert_has_required(&doc, "Service", service, "a service");
        assert!(service["input"].is_object(), "a service whose metadata parses says what input it takes: {service}");
    }

    let (_, tasks) = call(&app, "GET", "/api/tasks", None).await;
    let listed = &tasks[0];
    assert_has_required(&doc, "Task", listed, "a listed task");
    assert!(listed.get("timeline").is_none(), "lists leave the timeline out: {listed}");
    let (_, full) = call(&app, "GET", "/api/tasks/1", None).await;
    assert_has_required(&doc, "Task", &full, "a task");
    assert!(full["timeline"].is_array(), "one task comes with its timeline: {full}");
    db.finish().await?;
    Ok(())
}

#[tokio::test]
async fn ids_and_amounts_out_of_range_are_refused_at_the_edge() -> anyhow::Result<()> {
    let (db, app) = seeded().await?;
    let past_i64 = "9223372036854775808";
    for path in ["/api/services", "/api/tasks"] {
        let (status, body) = call(&app, "GET", &format!("{path}/{past_i64}"), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}/{past_i64}: {body}");
        assert_eq!(body["error"]["code"], "bad_request");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(past_i64) && message.contains("9223372036854775807"), "{message}");
        let (status, body) = call(&app, "GET", &format!("{path}/9223372036854775807"), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "the largest id is an id: {body}");
    }

    let channel = format!("/api/channels/0x{}/vouchers", "ab".repeat(32));
    let too_long = "1".repeat(78);
    for (uri, body) in [
        (channel.clone(), json!({"cumulativeAmount": too_long, "signature": "0x00"})),
        (channel.clone(), json!({"cumulativeAmount": "1", "signature": "00"})),
        (channel, json!({"cumulativeAmount": "1", "signature": "0x00", "extra": 1})),
        ("/api/tx/simulate".into(), json!({"from": USER, "to": USER, "data": "0x", "value": "-1"})),
        ("/api/tx/simulate".into(), json!({"from": USER, "to": USER, "data": "0x", "value": too_long})),
        ("/api/tx/simulate".into(), json!({"from": USER, "to": USER, "data": "00"})),
        ("/api/tx/simulate".into(), json!({"from": &USER[2..], "to": USER, "data": "0x"})),
    ] {
        let (status, answer) = call(&app, "POST", &uri, Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri} {body}: {answer}");
        assert!(answer["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{answer}");
    }
    for uri in ["/api/tasks?limit=0", "/api/tasks?limit=1001", "/api/channels?limit=0"] {
        let (status, body) = call(&app, "GET", uri, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("limit")), "{uri}: {body}");
    }
    db.finish().await?;
    Ok(())
}

#[tokio::test]
async fn requests_the_document_allows_are_accepted() -> anyhow::Result<()> {
    let (db, app) = seeded().await?;
    let (status, body) = call(&app, "GET", "/api/channels", None).await;
    assert_eq!((status, body.as_array().map(Vec::len)), (StatusCode::OK, Some(0)), "every channel, none yet: {body}");
    let (status, body) = call(&app, "GET", "/api/channels?limit=1000", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A well-formed CID of nothing stored is unknown, not malformed.
    let unknown = format!("/ipfs/bafkreia{}", "a".repeat(51));
    let (status, body) = call(&app, "GET", &unknown, None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{body}");

    // Checksummed addresses and a null value pass validation; this router's chain is unreachable.
    let checksummed = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
    let req = json!({"from": checksummed, "to": checksummed, "data": "0xABcd", "value": null});
    let (status, body) = call(&app, "POST", "/api/tx/simulate", Some(req)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_GATEWAY, Some("chain_unavailable")),
        "{body}"
    );
    db.finish().await?;
    Ok(())
}

#[tokio::test]
async fn an_empty_upload_is_refused() -> anyhow::Result<()> {
    let (db, app) = seeded().await?;
    let req = Request::builder().method("POST").uri("/api/uploads").body(Body::empty())?;
    let (status, _, body) = raw(&app, req).await;
    let body: Value = serde_json::from_slice(&body)?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "empty_upload");
    assert_eq!(body["error"]["message"], "the upload is empty: send the file's bytes as the request body");
    db.finish().await?;
    Ok(())
}

#[tokio::test]
async fn every_error_status_is_one_the_document_lists() -> anyhow::Result<()> {
    let (db, app) = seeded().await?;
    let (_, doc) = call(&app, "GET", "/api/openapi.json", None).await;
    let channel = format!("0x{}", "ab".repeat(32));
    let vouchers = format!("/api/channels/{channel}/vouchers");
    for (method, path, uri, body) in [
        ("GET", "/api/services/{id}", "/api/services/x".to_owned(), None),
        ("GET", "/api/services/{id}", "/api/services/99".to_owned(), None),
        ("GET", "/api/tasks/{id}", "/api/tasks/-1".to_owned(), None),
        ("GET", "/api/tasks", "/api/tasks?limit=0".to_owned(), None),
        ("GET", "/api/channels", "/api/channels?payee=0x1".to_owned(), None),
        ("GET", "/api/channels/{id}", "/api/channels/0x12".to_owned(), None),
        ("GET", "/api/channels/{id}", format!("/api/channels/{channel}"), None),
        ("GET", "/api/admin/jobs", "/api/admin/jobs?limit=0".to_owned(), None),
        ("POST", "/api/channels/{id}/vouchers", vouchers.clone(), Some(json!({"cumulativeAmount": "x"}))),
        ("POST", "/api/channels/{id}/vouchers", vouchers, Some(json!({"cumulativeAmount": "1", "signature": "0x00"}))),
        ("POST", "/api/tx/simulate", "/api/tx/simulate".to_owned(), Some(json!({"from": "0x1"}))),
        (
            "POST",
            "/api/tx/simulate",
            "/api/tx/simulate".to_owned(),
            Some(json!({"from": USER, "to": USER, "data": "0x"})),
        ),
        ("POST", "/api/uploads", "/api/uploads".to_owned(), None),
        ("GET", "/ipfs/{cid}", "/ipfs/QmNotACidv1".to_owned(), None),
        ("GET", "/api/auth/session", "/api/auth/session".to_owned(), None),
        ("GET", "/api/me/tasks", "/api/me/tasks".to_owned(), None),
    ] {
        let (status, answer) = call(&app, method, &uri, body).await;
        assert!(status.is_client_error() || status.is_server_error(), "{method} {uri} should fail: {answer}");
        let listed = &operation(&doc, method, path)["responses"][status.as_str()];
        assert!(listed.is_object(), "{method} {uri} answers {status}, which the document does not list for {path}");
    }
    db.finish().await?;
    Ok(())
}

/// The data market's sellers and orders as indexed, with their ratings, in the document's shapes;
/// unknown and malformed ids answered 404 and 400.
#[tokio::test]
async fn the_data_market_reads_as_json() -> anyhow::Result<()> {
    let (db, app) = seeded().await?;
    let seller = "0x15d34aaf54267db7d7c367839aaf71a00a2c6a65";
    let order = format!("0x{}", "ab".repeat(32));
    let b2 = BlockRef { number: 2, hash: "0x02".into(), parent_hash: "0x01".into(), timestamp: 1_700_000_100 };
    let meta = |i: u64| LogMeta {
        block_number: 2,
        block_hash: "0x02".into(),
        block_timestamp: 1_700_000_100,
        tx_hash: format!("0x{:064x}", 0xdef),
        log_index: i,
        address: "0x00".into(),
    };
    let events = [
        MarketEvent::SellerRegistered {
            seller: seller.into(),
            endpoint: "127.0.0.1:7070".into(),
            message_signer: seller.into(),
            menu_hash: format!("0x{}", "11".repeat(32)),
            menu_uri: "ipfs://menu".into(),
        },
        MarketEvent::OrderOpened {
            order_id: order.clone(),
            buyer: USER.into(),
            seller: seller.into(),
            token: "0x0000000000000000000000000000000000000000".into(),
            price: "1000".into(),
            total_bytes: 4096,
            deadline: 1_700_003_600,
            started_from: 1_700_000_000,
            nonce: "7".into(),
            ack_signer: USER.into(),
            method: "Escrow".into(),
        },
        MarketEvent::OrderSettled {
            order_id: order.clone(),
            received: 1024,
            paid_to_seller: "250".into(),
            refunded_to_buyer: "750".into(),
        },
        MarketEvent::OrderRated {
            order_id: order.clone(),
            rater: USER.into(),
            rated: seller.into(),
            score: 4,
            comment_hash: format!("0x{}", "22".repeat(32)),
        },
    ];
    let logs = events.into_iter().enumerate().map(|(i, event)| IndexedLog { meta: meta(i as u64), event }).collect();
    db.store.apply_batch(&Batch { chain_id: CHAIN, expected_cursor: 1, blocks: vec![b2], logs }).await?;

    let (_, doc) = call(&app, "GET", "/api/openapi.json", None).await;
    let (status, sellers) = call(&app, "GET", "/api/data/sellers", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_has_required(&doc, "DataSeller", &sellers[0], "a seller");
    assert_eq!(sellers[0]["rating"], json!({"count": 1, "scoreSum": 4}));
    let (_, one) =
        call(&app, "GET", &format!("/api/data/sellers/{}", seller.to_ascii_uppercase().replace("0X", "0x")), None)
            .await;
    assert_eq!(one["seller"]["endpoint"], "127.0.0.1:7070");
    assert_eq!(one["ratings"][0]["score"], 4);

    let (_, orders) = call(&app, "GET", &format!("/api/data/orders?buyer={USER}"), None).await;
    assert_has_required(&doc, "DataOrder", &orders[0], "an order");
    assert_eq!(orders[0]["state"], "Settled");
    let (_, none) = call(&app, "GET", &format!("/api/data/orders?seller={USER}"), None).await;
    assert_eq!(none, json!([]));
    let (_, detail) = call(&app, "GET", &format!("/api/data/orders/{order}"), None).await;
    assert_eq!(
        (&detail["order"]["paidToSeller"], &detail["order"]["refundedToBuyer"], &detail["order"]["received"]),
        (&json!("250"), &json!("750"), &json!(1024))
    );
    assert_eq!(detail["ratings"][0]["asSeller"], true);

    for (path, want) in [
        (format!("/api/data/orders/0x{}", "cd".repeat(32)), StatusCode::NOT_FOUND),
        ("/api/data/orders/0x1234".into(), StatusCode::BAD_REQUEST),
        ("/api/data/sellers/0x0000000000000000000000000000000000000001".into(), StatusCode::NOT_FOUND),
        ("/api/data/sellers/nope".into(), StatusCode::BAD_REQUEST),
        ("/api/data/orders?limit=0".into(), StatusCode::BAD_REQUEST),
        ("/api/data/sellers?all=maybe".into(), StatusCode::BAD_REQUEST),
    ] {
        let (status, body) = call(&app, "GET", &path, None).await;
        assert_eq!(status, want, "{path}: {body}");
        assert!(body["error"]["message"].is_string(), "{path}: {body}");
    }
    db.finish().await?;
    Ok(())
}
