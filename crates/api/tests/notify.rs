//! Notifications through the router: each signed-in person reads, marks and hears only their own;
//! preferences are checked and replaced whole; an e-mail address is verified by the mailed link,
//! once.

mod common;

use std::time::Duration;

use agora_api::router;
use agora_chain::read_provider;
use agora_notify::{Notice, Reach};
use agora_store::Session;
use agora_store::testing::TestDb;
use alloy::primitives::{Address, keccak256};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{CHAIN, state};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const ADA: Address = Address::repeat_byte(0xad);
const BOB: Address = Address::repeat_byte(0xb0);

/// A session for `who` straight in the store (sign-in itself is tested in `session.rs`).
async fn session_for(db: &TestDb, who: Address) -> anyhow::Result<String> {
    let token = format!("token-{who:#x}");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let session = Session { address: format!("{who:#x}"), chain_id: CHAIN, created_at: now, expires_at: now + 3600 };
    db.store.create_session(&keccak256(token.as_bytes()).to_string(), &session).await?;
    Ok(format!("agora_session={token}"))
}

async fn send(
    app: &axum::Router,
    method: &str,
    uri: &str,
    cookie: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri).header(header::HOST, "agora.test:8080");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let req = req
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.map(|b| Body::from(b.to_string())).unwrap_or_else(Body::empty))
        .expect("request");
    let resp = app.clone().oneshot(req).await.expect("response");
    let status = resp.status();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn notice(to: Address, key: &str) -> Notice {
    Notice {
        recipient: to,
        kind: "board-accepted".into(),
        subject: "board-task:7".into(),
        scopes: vec!["task:7".into()],
        title: "Your task #7 was accepted".into(),
        payload: json!({"taskId": 7}),
        key: key.into(),
        reach: Reach::Direct,
    }
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn each_person_reads_and_marks_only_their_own_notifications() -> anyhow::Result<()> {
    let db = TestDb::sqlite().await?;
    let st = state(db.store.clone(), read_provider("http://127.0.0.1:1")?).await.0;
    let notifier = st.notifier.clone();
    let app = router(st);
    let (ada, bob) = (session_for(&db, ADA).await?, session_for(&db, BOB).await?);
    for uri in ["/api/me/notifications", "/api/me/notification-prefs", "/api/me/email"] {
        let (status, body) = send(&app, "GET", uri, None, None).await;
        assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "unauthenticated"), "{uri}");
    }
    let first = notifier.notify(&notice(ADA, "a1")).await?.expect("told");
    let second = notifier.notify(&notice(ADA, "a2")).await?.expect("told");
    let bobs = notifier.notify(&notice(BOB, "b1")).await?.expect("told");

    let (status, page) = send(&app, "GET", "/api/me/notifications", Some(&ada), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["unread"], 2);
    let ids: Vec<u64> = page["items"].as_array().expect("items").iter().filter_map(|n| n["id"].as_u64()).collect();
    assert_eq!(ids, vec![second.id, first.id], "newest first, only Ada's");
    assert_eq!(page["items"][0]["kind"], "board-accepted");
    assert_eq!(page["items"][0]["payload"]["taskId"], 7);
    assert!(page["items"][0].get("readAt").is_none());
    let (_, older) =
        send(&app, "GET", &format!("/api/me/notifications?before={}&limit=5", second.id), Some(&ada), None).await;
    assert_eq!(older["items"].as_array().map(Vec::len), Some(1));
    let (status, body) = send(&app, "GET", "/api/me/notifications?limit=0", Some(&ada), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (status, marked) =
        send(&app, "POST", "/api/me/notifications/read", Some(&ada), Some(json!({"ids": [first.id, bobs.id]}))).await;
    assert_eq!((status, &marked), (StatusCode::OK, &json!({"marked": 1, "unread": 1})));
    let (_, bob_page) = send(&app, "GET", "/api/me/notifications", Some(&bob), None).await;
    assert_eq!(bob_page["unread"], 1, "Ada cannot mark Bob's");
    for bad in [json!({}), json!({"ids": [1], "all": true}), json!({"ids": "1"})] {
        let (status, body) = send(&app, "POST", "/api/me/notifications/read", Some(&ada), Some(bad.clone())).await;
        assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "bad_request"), "{bad}");
    }
    let (_, marked) = send(&app, "POST", "/api/me/notifications/read", Some(&ada), Some(json!({"all": true}))).await;
    assert_eq!(marked, json!({"marked": 1, "unread": 0}));
    db.finish().await?;
    Ok(())
}

#[tokio::test]
async fn preferences_are_checked_and_replaced_whole() -> anyhow::Result<()> {
    let db = TestDb::sqlite().await?;
    let app = router(state(db.store.clone(), read_provider("http://127.0.0.1:1")?).await.0);
    let ada = session_for(&db, ADA).await?;
    let (_, none) = send(&app, "GET", "/api/me/notification-prefs", Some(&ada), None).await;
    assert_eq!(none, json!({"prefs": []}));
    let prefs = json!({"prefs": [{"scope": "default", "level": "muted"}, {"scope": "task:7", "level": "watching"}]});
    let (status, body) = send(&app, "PUT", "/api/me/notification-prefs", Some(&ada), Some(prefs.clone())).await;
    assert_eq!((status, &body), (StatusCode::OK, &prefs));
    for (bad, want) in [
        (json!({"prefs": [{"scope": "board:1", "level": "muted"}]}), "invalid_scope"),
        (json!({"prefs": [{"scope": "task:x", "level": "muted"}]}), "invalid_scope"),
        (json!({"prefs": [{"scope": "task:1", "level": "loud"}]}), "invalid_level"),
        (
            json!({"prefs": [{"scope": "task:1", "level": "muted"}, {"scope": "task:1", "level": "normal"}]}),
            "duplicate_scope",
        ),
        (json!({"prefs": [{"scope": "task:1"}]}), "bad_request"),
    ] {
        let (status, body) = send(&app, "PUT", "/api/me/notification-prefs", Some(&ada), Some(bad.clone())).await;
        assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, want), "{bad}");
    }
    let (_, kept) = send(&app, "GET", "/api/me/notification-prefs", Some(&ada), None).await;
    assert_eq!(kept, prefs, "a refused change changes nothing");
    db.finish().await?;
    Ok(())
}

#[tokio::test]
async fn an_email_address_is_verified_once_by_its_mailed_link() -> anyhow::Result<()> {
    let db = TestDb::sqlite().await?;
    let app = router(state(db.store.clone(), read_provider("http://127.0.0.1:1")?).await.0);
    let ada = session_for(&db, ADA).await?;
    let (_, none) = send(&app, "GET", "/api/me/email", Some(&ada), None).await;
    assert_eq!(none, json!({"verified": false}));
    let (status, body) = send(&app, "PUT", "/api/me/email", Some(&ada), Some(json!({"email": "not-an-address"}))).await;
    assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "invalid_email"), "{body}");
    let (status, body) =
        send(&app, "PUT", "/api/me/email", Some(&ada), Some(json!({"email": "ada@example.org"}))).await;
    assert_eq!((status, &body), (StatusCode::OK, &json!({"email": "ada@example.org", "verified": false})));

    // The link names the site the request came to, and carries the token.
    let mail = db.store.mails_for(ADA).await?.pop().expect("a verification mail is queued");
    assert_eq!(mail.to, "ada@example.org");
    let link = mail.body.lines().find(|l| l.starts_with("http://agora.test:8080/#/verify-email?token=")).expect("link");
    let token = link.rsplit('=').next().expect("token");
    let (status, body) = send(&app, "POST", "/api/email/verify", None, Some(json!({"token": token}))).await;
    assert_eq!((status, &body), (StatusCode::OK, &json!({"account": format!("{ADA:#x}"), "email": "ada@example.org"})));
    let (status, body) = send(&app, "POST", "/api/email/verify", None, Some(json!({"token": token}))).await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "token_used"));
    let (status, body) = send(&app, "POST", "/api/email/verify", None, Some(json!({"token": "ab".repeat(32)}))).await;
    assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "token_unknown"));
    let (_, mine) = send(&app, "GET", "/api/me/email", Some(&ada), None).await;
    assert_eq!((mine["email"].as_str(), mine["verified"].as_bool()), (Some("ada@example.org"), Some(true)));
    db.finish().await?;
    Ok(())
}

#[tokio::test]
async fn the_live_stream_carries_only_the_signed_in_persons_notifications() -> anyhow::Result<()> {
    let db = TestDb::sqlite().await?;
    let st = state(db.store.clone(), read_provider("http://127.0.0.1:1")?).await.0;
    let notifier = st.notifier.clone();
    let app = router(st);
    let ada = session_for(&db, ADA).await?;
    let (status, _) = send(&app, "GET", "/api/me/notifications/stream", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let req = Request::builder().uri("/api/me/notifications/stream").header(header::COOKIE, &ada).body(Body::empty())?;
    let resp = app.clone().oneshot(req).await?;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = resp.into_body();
    notifier.notify(&notice(BOB, "b1")).await?;
    let adas = notifier.notify(&notice(ADA, "a1")).await?.expect("told");
    let frame = tokio::time::timeout(Duration::from_secs(10), body.frame()).await?.expect("a frame")?;
    let text = String::from_utf8(frame.into_data().map_err(|_| anyhow::anyhow!("not data"))?.to_vec())?;
    assert!(text.starts_with("event: notification\n"), "{text}");
    let data: Value = serde_json::from_str(text.lines().find_map(|l| l.strip_prefix("data: ")).expect("data"))?;
    assert_eq!(data["id"], adas.id, "Bob's notification was never sent to Ada's page");
    db.finish().await?;
    Ok(())
}
