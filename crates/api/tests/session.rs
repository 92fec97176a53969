//! Sign-In with Ethereum, the live event stream, the OpenAPI document and the web app, through the
//! router.

mod common;

use std::time::Duration;

use agora_api::router;
use agora_chain::anvil::{Anvil, locate_anvil};
use agora_chain::read_provider;
use agora_store::testing::TestDb;
use agora_store::{Batch, BlockRef, IndexedLog, LogMeta, MarketEvent};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{CHAIN, call, state};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const HOST: &str = "agora.test:8080";

struct Reply {
    status: StatusCode,
    cookie: Option<String>,
    body: Value,
}

async fn send(
    app: &axum::Router,
    method: &str,
    uri: &str,
    host: &str,
    cookie: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let mut req = Request::builder().method(method).uri(uri).header(header::HOST, host);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, format!("theme=dark; {c}"));
    }
    let req = req
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.map(|b| Body::from(b.to_string())).unwrap_or_else(Body::empty))
        .expect("request");
    let resp = app.clone().oneshot(req).await.expect("response");
    let status = resp.status();
    let cookie = resp.headers().get(header::SET_COOKIE).map(|v| v.to_str().expect("ascii").to_owned());
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    Reply { status, cookie, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
}

fn rfc3339(unix: u64) -> String {
    // Enough for tests: whole days since the epoch plus the time of day, UTC.
    let (days, secs) = (unix / 86_400, unix % 86_400);
    let (y, m, d) = civil(days as i64);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs()
}

/// An EIP-4361 message as a wallet would show it, written independently of the parser.
fn siwe(signer: &PrivateKeySigner, domain: &str, chain: u64, nonce: &str, issued: u64) -> String {
    format!(
        "{domain} wants you to sign in with your Ethereum account:\n{}\n\nSign in to Agora.\n\nURI: http://{domain}\n\
         Version: 1\nChain ID: {chain}\nNonce: {nonce}\nIssued At: {}",
        signer.address().to_checksum(None),
        rfc3339(issued)
    )
}

fn sign(signer: &PrivateKeySigner, message: &str) -> String {
    signer.sign_message_sync(message.as_bytes()).expect("sign").to_string()
}

/// Posts `message` signed by `signer` to `/api/auth/verify` as a request to `host`.
async fn sign_in(app: &axum::Router, host: &str, signer: &PrivateKeySigner, message: &str) -> Reply {
    let body = json!({ "message": message, "signature": sign(signer, message) });
    send(app, "POST", "/api/auth/verify", host, None, Some(body)).await
}

async fn fresh_nonce(app: &axum::Router) -> String {
    let r = send(app, "GET", "/api/auth/nonce", HOST, None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    r.body["nonce"].as_str().expect("nonce").to_owned()
}

fn session_cookie(set_cookie: &str) -> String {
    let pair = set_cookie.split(';').next().expect("cookie pair");
    assert!(pair.starts_with("agora_session="), "{set_cookie}");
    pair.to_owned()
}

#[tokio::test]
async fn sign_in_with_ethereum_opens_a_session_once_per_nonce() -> anyhow::Result<()> {
    let bin = locate_anvil(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))).expect("anvil in node_modules (npm ci)");
    let anvil = Anvil::spawn_default(bin).await?;
    let db = TestDb::sqlite().await?;
    let app = router(state(db.store.clone(), read_provider(anvil.url())?).await.0);
    let me = PrivateKeySigner::random();
    let other = PrivateKeySigner::random();

    // Not signed in yet.
    let r = send(&app, "GET", "/api/me/tasks", HOST, None, None).await;
    assert_eq!((r.status, r.body["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthenticated")));

    let nonce = fresh_nonce(&app).await;
    let message = siwe(&me, HOST, CHAIN, &nonce, now());
    let refused = |r: &Reply| (r.status, r.body["error"]["code"].as_str().unwrap_or_default().to_owned());

    // Refusals do not burn the nonce.
    let r = sign_in(&app, HOST, &other, &message).await;
    assert_eq!(refused(&r), (StatusCode::UNAUTHORIZED, "bad_signature".into()), "{}", r.body);
    let r = sign_in(&app, "evil.test", &me, &message).await;
    assert_eq!(refused(&r), (StatusCode::UNAUTHORIZED, "domain_mismatch".into()));
    let r = sign_in(&app, HOST, &me, &siwe(&me, HOST, 1, &nonce, now())).await;
    assert_eq!(refused(&r), (StatusCode::UNAUTHORIZED, "chain_mismatch".into()));
    let r = sign_in(&app, HOST, &me, &siwe(&me, HOST, CHAIN, &nonce, now() - 3600)).await;
    assert_eq!(refused(&r), (StatusCode::UNAUTHORIZED, "expired".into()));
    let r =
        send(&app, "POST", "/api/auth/verify", HOST, None, Some(json!({ "message": "hello", "signature": "0x00" })))
            .await;
    assert_eq!(refused(&r), (StatusCode::BAD_REQUEST, "malformed_message".into()));
    let r = sign_in(&app, HOST, &me, &siwe(&me, HOST, CHAIN, "neverissued1", now())).await;
    assert_eq!(refused(&r), (StatusCode::UNAUTHORIZED, "nonce_unknown".into()));

    // The right signature signs in, once.
    let r = sign_in(&app, HOST, &me, &message).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let me_lower = me.address().to_string().to_ascii_lowercase();
    assert_eq!(r.body["address"], me_lower);
    let set_cookie = r.cookie.expect("a session cookie");
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    let cookie = session_cookie(&set_cookie);
    let r = sign_in(&app, HOST, &me, &message).await; // the same bytes again (RFC 6979 signatures are deterministic)
    assert_eq!(refused(&r), (StatusCode::UNAUTHORIZED, "nonce_unknown".into()), "a replayed sign-in");

    let r = send(&app, "GET", "/api/auth/session", HOST, Some(&cookie), None).await;
    assert_eq!((r.status, r.body["address"].as_str()), (StatusCode::OK, Some(me_lower.as_str())));
    let r = send(&app, "GET", "/api/me/tasks", HOST, Some(&cookie), None).await;
    assert_eq!((r.status, r.body.as_array().map(Vec::len)), (StatusCode::OK, Some(0)));
    let r = send(&app, "GET", "/api/auth/session", HOST, Some("agora_session=forged"), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let r = send(&app, "POST", "/api/auth/logout", HOST, Some(&cookie), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.cookie.expect("cleared").contains("Max-Age=0"));
    let r = send(&app, "GET", "/api/auth/session", HOST, Some(&cookie), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "the session ended on the server too");

    // An independent implementation (viem's SIWE helpers) builds and signs; we accept it.
    let nonce = fresh_nonce(&app).await;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/viem_siwe.mjs");
    let key = alloy::hex::encode_prefixed(me.to_bytes());
    let out = std::process::Command::new("node")
        .arg(script)
        .args([key.as_str(), HOST, &format!("http://{HOST}/market"), &CHAIN.to_string(), &nonce])
        .output()?;
    anyhow::ensure!(out.status.success(), "viem failed: {}", String::from_utf8_lossy(&out.stderr));
    let signed: Value = serde_json::from_slice(&out.stdout)?;
    let body = json!({ "message": signed["message"], "signature": signed["signature"] });
    let r = send(&app, "POST", "/api/auth/verify", HOST, None, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "viem's message refused: {}", r.body);
    assert_eq!(r.body["address"], me_lower);

    db.finish().await?;
    anvil.stop().await?;
    Ok(())
}

fn log(block: &BlockRef, index: u64, event: MarketEvent) -> IndexedLog {
    IndexedLog {
        meta: LogMeta {
            block_number: block.number,
            block_hash: block.hash.clone(),
            block_timestamp: block.timestamp,
            tx_hash: format!("0x{:064x}", block.number * 100 + index),
            log_index: index,
            address: "0x00".into(),
        },
        event,
    }
}

/// Reads server-sent events off `body` until one named `name` arrives.
async fn next_event(body: &mut Body, name: &str) -> anyhow::Result<Value> {
    let mut text = String::new();
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), body.frame()).await?;
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

#[tokio::test]
async fn the_event_stream_pushes_each_applied_task_change() -> anyhow::Result<()> {
    let db = TestDb::sqlite().await?;
    let (state, events) = state(db.store.clone(), read_provider("http://127.0.0.1:1")?).await;
    let app = router(state);
    let buyer = "0x90f79bf6eb2c4f870365e785982e1f101e93b906";
    let someone = "0x15d34aaf54267db7d7c367839aaf71a00a2c6a65";
    let req = |uri: &str| Request::builder().uri(uri).body(Body::empty()).expect("request");
    let all = app.clone().oneshot(req("/api/events")).await?;
    assert_eq!(all.headers()[header::CONTENT_TYPE], "text/event-stream");
    let mine = app
        .clone()
        .oneshot(req(&format!("/api/events?user={}", buyer.to_ascii_uppercase().replace("0X", "0x"))))
        .await?;
    let (mut all, mut mine) = (all.into_body(), mine.into_body());
    let (status, _) = call(&app, "GET", "/api/events?user=nobody", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let b0 = BlockRef { number: 0, hash: "0x00".into(), parent_hash: "0x".into(), timestamp: 1 };
    db.store.init_cursor(CHAIN, &b0).await?;
    let mut cursor = 0;
    let mut apply = |logs: Vec<(u64, MarketEvent)>| {
        cursor += 1;
        let block = BlockRef {
            number: cursor,
            hash: format!("0x{cursor:02x}"),
            parent_hash: format!("0x{:02x}", cursor - 1),
            timestamp: 1_700_000_000 + cursor,
        };
        let logs: Vec<IndexedLog> = logs.into_iter().map(|(i, e)| log(&block, i, e)).collect();
        let batch = Batch { chain_id: CHAIN, expected_cursor: cursor - 1, blocks: vec![block], logs };
        let (store, events) = (db.store.clone(), events.clone());
        async move {
            let outcome = store.apply_batch(&batch).await?;
            for i in outcome.applied {
                let _ = events.send(batch.logs[i].clone());
            }
            anyhow::Ok(())
        }
    };
    let listed = MarketEvent::ServiceListed {
        service_id: 1,
        provider: someone.into(),
        token: "0x0000000000000000000000000000000000000000".into(),
        price: "10".into(),
        max_run_time: 60,
        metadata_uri: "ipfs://x".into(),
    };
    apply(vec![(0, listed)]).await?;
    let service = next_event(&mut all, "service").await?;
    assert_eq!((service["id"].as_u64(), service["price"].as_str()), (Some(1), Some("10")));

    let created = |task_id, user: &str| MarketEvent::TaskCreated {
        task_id,
        user: user.into(),
        service_id: 1,
        amount: "10".into(),
    };
    apply(vec![(0, created(1, someone)), (1, created(2, buyer))]).await?;
    let first = next_event(&mut all, "task").await?;
    assert_eq!(first["id"], 1);
    let task = next_event(&mut mine, "task").await?;
    assert_eq!(
        (task["id"].as_u64(), task["status"].as_str()),
        (Some(2), Some("Created")),
        "someone else's task 1 skipped"
    );

    apply(vec![
        (0, MarketEvent::TaskStarted { task_id: 2 }),
        (1, MarketEvent::TaskCompleted { task_id: 2, result_hash: "bafyres".into() }),
    ])
    .await?;
    let running = next_event(&mut mine, "task").await?;
    assert_eq!(running["status"], "Completed", "the task is read after its whole block applied");
    let done = next_event(&mut mine, "task").await?;
    assert_eq!(done["resultHash"], "bafyres");
    let events: Vec<&str> =
        done["timeline"].as_array().expect("timeline").iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(events, ["TaskCreated", "TaskStarted", "TaskCompleted"]);
    db.finish().await?;
    Ok(())
}

#[tokio::test]
async fn the_openapi_document_describes_the_routes_that_exist() -> anyhow::Result<()> {
    let db = TestDb::sqlite().await?;
    let app = router(state(db.store.clone(), read_provider("http://127.0.0.1:1")?).await.0);
    let (status, doc) = call(&app, "GET", "/api/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    for (path, ops) in paths {
        for method in ops.as_object().expect("operations").keys() {
            let uri = path
                .replace("{id}", "1")
                .replace("{cid}", "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy");
            let req = Request::builder().method(method.to_uppercase().as_str()).uri(&uri).body(Body::empty())?;
            let resp = app.clone().oneshot(req).await?;
            let status = resp.status();
            // Only JSON answers are read: the event stream never ends.
            let json = resp.headers().get(header::CONTENT_TYPE).is_some_and(|v| v == "application/json");
            let body = if json { resp.into_body().collect().await?.to_bytes() } else { Default::default() };
            let generic_404 = String::from_utf8_lossy(&body).contains("no such endpoint");
            assert!(
                !generic_404 && status != StatusCode::METHOD_NOT_ALLOWED,
                "{} {path} is documented but not routed ({status})",
                method.to_uppercase()
            );
        }
    }
    for route in [
        "/api/auth/verify",
        "/api/events",
        "/api/me/tasks",
        "/api/tasks/{id}",
        "/ipfs/{cid}",
        "/api/channels/{id}/vouchers",
    ] {
        assert!(paths.contains_key(route), "{route} missing from the document");
    }
    let (status, body) = call(&app, "GET", "/api/nothing/here", None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    db.finish().await?;
    Ok(())
}

#[tokio::test]
async fn the_web_app_is_served_with_a_fallback_to_its_index() -> anyhow::Result<()> {
    let db = TestDb::sqlite().await?;
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("index.html"), "<!doctype html><title>Agora</title><div id=root></div>")?;
    std::fs::create_dir(dir.path().join("assets"))?;
    std::fs::write(dir.path().join("assets/app.js"), "console.log('agora')")?;
    let (mut s, _) = state(db.store.clone(), read_provider("http://127.0.0.1:1")?).await;
    s.web_dir = Some(dir.path().to_owned());
    let app = router(s.clone());
    let get = |uri: &'static str| {
        let app = app.clone();
        async move {
            let resp =
                app.oneshot(Request::builder().uri(uri).body(Body::empty()).expect("request")).await.expect("resp");
            let ct = resp.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap_or_default().to_owned());
            (
                resp.status(),
                ct,
                String::from_utf8(resp.into_body().collect().await.expect("body").to_bytes().to_vec()).expect("utf-8"),
            )
        }
    };
    let (status, ct, body) = get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.unwrap_or_default().starts_with("text/html") && body.contains("id=root"));
    let (status, ct, body) = get("/assets/app.js").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "console.log('agora')"));
    assert!(ct.unwrap_or_default().contains("javascript"));
    let (status, _, body) = get("/tasks/3").await;
    assert_eq!(status, StatusCode::OK, "client-side routes get the index");
    assert!(body.contains("id=root"));
    let (status, ct, _) = get("/api/tasks/x").await;
    assert_eq!((status, ct.as_deref()), (StatusCode::BAD_REQUEST, Some("application/json")), "the API is not shadowed");

    s.web_dir = Some(dir.path().join("missing"));
    let (status, body) = {
        let resp = router(s).oneshot(Request::builder().uri("/").body(Body::empty())?).await?;
        (resp.status(), String::from_utf8(resp.into_body().collect().await?.to_bytes().to_vec())?)
    };
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("make up"), "{body}");
    db.finish().await?;
    Ok(())
}

#[tokio::test]
async fn off_chain_task_changes_reach_the_event_stream() -> anyhow::Result<()> {
    let db = TestDb::sqlite().await?;
    let (s, _) = state(db.store.clone(), read_provider("http://127.0.0.1:1")?).await;
    let bus = s.live.bus().clone();
    let app = router(s);
    let resp = app.clone().oneshot(Request::builder().uri("/api/events").body(Body::empty())?).await?;
    let mut body = resp.into_body();
    let b0 = BlockRef { number: 0, hash: "0x00".into(), parent_hash: "0x".into(), timestamp: 1 };
    db.store.init_cursor(CHAIN, &b0).await?;
    let b1 = BlockRef { number: 1, hash: "0x01".into(), parent_hash: "0x00".into(), timestamp: 2 };
    let listed = MarketEvent::ServiceListed {
        service_id: 1,
        provider: "0x15d34aaf54267db7d7c367839aaf71a00a2c6a65".into(),
        token: "0x0000000000000000000000000000000000000000".into(),
        price: "10".into(),
        max_run_time: 60,
        metadata_uri: "ipfs://x".into(),
    };
    let created = MarketEvent::TaskCreated {
        task_id: 7,
        user: "0x90f79bf6eb2c4f870365e785982e1f101e93b906".into(),
        service_id: 1,
        amount: "10".into(),
    };
    let logs = vec![log(&b1, 0, listed), log(&b1, 1, created)];
    db.store.apply_batch(&Batch { chain_id: CHAIN, expected_cursor: 0, blocks: vec![b1], logs }).await?;
    // Nothing was broadcast for the logs: only the off-chain update can produce this event.
    bus.publish(agora_bus::Message::Changed { subject: "task:7".into() });
    let task = next_event(&mut body, "task").await?;
    assert_eq!((task["id"].as_u64(), task["status"].as_str()), (Some(7), Some("Created")));
    db.finish().await?;
    Ok(())
}

#[tokio::test]
async fn behind_a_reverse_proxy_the_public_origin_is_the_site() -> anyhow::Result<()> {
    let bin = locate_anvil(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))).expect("anvil in node_modules (npm ci)");
    let anvil = Anvil::spawn_default(bin).await?;
    let db = TestDb::sqlite().await?;
    let mut st = state(db.store.clone(), read_provider(anvil.url())?).await.0;
    st.public_origin = Some("https://agora.example".into());
    let app = router(st);
    let me = PrivateKeySigner::random();
    // The proxy forwards with its own upstream Host; people signed for the public site.
    let upstream = "127.0.0.1:8080";
    let nonce = fresh_nonce(&app).await;
    let for_upstream = siwe(&me, upstream, CHAIN, &nonce, now());
    let r = sign_in(&app, upstream, &me, &for_upstream).await;
    assert_eq!(r.body["error"]["code"], "domain_mismatch", "{}", r.body);
    let r = sign_in(&app, upstream, &me, &siwe(&me, "agora.example", CHAIN, &nonce, now())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    db.finish().await?;
    anvil.stop().await?;
    Ok(())
}

#[tokio::test]
async fn admin_endpoints_are_refused_to_anyone_but_a_signed_in_admin() -> anyhow::Result<()> {
    let bin = locate_anvil(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))).expect("anvil in node_modules (npm ci)");
    let anvil = Anvil::spawn_default(bin).await?;
    let db = TestDb::sqlite().await?;
    let admin = PrivateKeySigner::random();
    let user = PrivateKeySigner::random();
    let mut st = state(db.store.clone(), read_provider(anvil.url())?).await.0;
    st.admins = std::sync::Arc::new(vec![admin.address()]);
    let app = router(st);
    let code = |r: &Reply| (r.status, r.body["error"]["code"].as_str().unwrap_or_default().to_owned());

    let r = send(&app, "GET", "/api/admin/users", HOST, None, None).await;
    assert_eq!(code(&r), (StatusCode::UNAUTHORIZED, "unauthenticated".into()));

    let mut cookies = Vec::new();
    for who in [&user, &admin] {
        let nonce = fresh_nonce(&app).await;
        let r = sign_in(&app, HOST, who, &siwe(who, HOST, CHAIN, &nonce, now())).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        cookies.push(session_cookie(r.cookie.as_deref().expect("cookie")));
    }
    let target = format!("/api/admin/users/{:#x}/disable", user.address());
    for (method, uri) in [("GET", "/api/admin/users"), ("GET", "/api/admin/jobs"), ("POST", target.as_str())] {
        let r = send(&app, method, uri, HOST, Some(&cookies[0]), None).await;
        assert_eq!(code(&r), (StatusCode::FORBIDDEN, "not_admin".into()), "{uri}");
    }
    assert!(!db.store.assistant_user_disabled(user.address()).await?);

    let r = send(&app, "POST", &target, HOST, Some(&cookies[1]), None).await;
    assert_eq!((r.status, r.body["disabled"].as_bool()), (StatusCode::OK, Some(true)), "{}", r.body);
    assert!(db.store.assistant_user_disabled(user.address()).await?);
    let r = send(&app, "GET", "/api/admin/users", HOST, Some(&cookies[1]), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body[0]["disabled"], json!(true));
    let r = send(&app, "POST", "/api/admin/users/0x12/disable", HOST, Some(&cookies[1]), None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    db.finish().await?;
    Ok(())
}
