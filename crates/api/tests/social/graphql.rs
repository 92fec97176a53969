//! Posts through GraphQL: the same threads as REST for each viewer (hidden posts included for their
//! author and moderators only), mutations signed in by the session cookie and refused by the same
//! rules with the same codes, and a user a node admin disabled refused on both gateways.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::setup::{Fixture, Person, code};
use crate::common::graphql::{graphql, schema_types, selection};

fn error_code(r: &Value) -> (u64, String) {
    let ext = &r["errors"][0]["extensions"];
    (ext["status"].as_u64().unwrap_or_default(), ext["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn graphql_posts_as_rest_does_under_the_same_rules() -> anyhow::Result<()> {
    let f = Fixture::with_node_admins(&[9]).await?;
    let (owner, member, stranger, admin) =
        (f.person(1).await?, f.person(2).await?, f.person(3).await?, f.person(9).await?);
    f.community(7, &owner, &[], &[&owner, &member]).await?;
    let types = schema_types(&f.app).await;

    // A thread by GraphQL, a reply by REST, a second thread hidden by the owner.
    let create = r#"mutation { createThread(community: 7, title: "Hello", body: "**hi** <script>x</script>") { id title body author } }"#;
    let r = graphql(&f.app, create, Some(&member.cookie)).await;
    assert!(r["errors"].is_null(), "{r}");
    let thread = r["data"]["createThread"]["id"].as_u64().expect("an id");
    assert_eq!(r["data"]["createThread"]["author"], member.address.as_str());
    assert_eq!(r["data"]["createThread"]["body"], "**hi** <script>x</script>", "kept exactly as written");
    let reply =
        f.send("POST", &format!("/api/threads/{thread}/replies"), Some(&owner), Some(json!({"body": "welcome"}))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let r = graphql(
        &f.app,
        r#"mutation { createThread(community: 7, title: "Spam", body: "buy") { id } }"#,
        Some(&member.cookie),
    )
    .await;
    let spam = r["data"]["createThread"]["id"].as_u64().expect("an id");
    let hide = json!({"action": "hide", "reason": "spam"});
    let r = f.send("POST", &format!("/api/posts/{spam}/moderation"), Some(&owner), Some(hide)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // Each viewer sees the same on both gateways; the hidden thread only for its author and moderators.
    for who in [None, Some(&member), Some(&stranger), Some(&owner), Some(&admin)] {
        let cookie = who.map(|p: &Person| p.cookie.as_str());
        for (uri, q) in [
            (
                "/api/communities/7/threads".to_owned(),
                format!("{{ communityThreads(community: 7) {} }}", selection(&types, "ThreadList")),
            ),
            (
                format!("/api/threads/{thread}"),
                format!("{{ thread(id: {thread}) {} }}", selection(&types, "ThreadPage")),
            ),
        ] {
            let rest = f.send("GET", &uri, who, None).await;
            let r = graphql(&f.app, &q, cookie).await;
            assert!(r["errors"].is_null(), "{q}: {r}");
            let field = if uri.contains("threads/") { "thread" } else { "communityThreads" };
            assert_eq!(r["data"][field], rest.body, "{uri} as {:?}", who.map(|p| &p.address));
        }
        let rest = f.send("GET", "/api/communities/7/threads", who, None).await;
        let sees_hidden = rest.body["threads"].as_array().is_some_and(|t| t.iter().any(|p| p["id"] == spam));
        let moderator_or_author =
            who.is_some_and(|p| [&owner.address, &admin.address, &member.address].contains(&&p.address));
        assert_eq!(sees_hidden, moderator_or_author, "{:?}", who.map(|p| &p.address));
    }

    // The same refusals with the same codes.
    let post_as = |who: Option<&Person>| {
        let cookie = who.map(|p| p.cookie.clone());
        let app = f.app.clone();
        async move {
            graphql(&app, r#"mutation { createThread(community: 7, title: "t", body: "b") { id } }"#, cookie.as_deref())
                .await
        }
    };
    assert_eq!(error_code(&post_as(None).await), (401, "unauthenticated".into()));
    assert_eq!(error_code(&post_as(Some(&stranger)).await), (403, "not_member".into()));
    let r =
        f.send("POST", "/api/communities/7/threads", Some(&stranger), Some(json!({"title": "t", "body": "b"}))).await;
    assert_eq!(code(&r), (StatusCode::FORBIDDEN, "not_member".into()));
    let r = graphql(
        &f.app,
        r#"mutation { createThread(community: 7, title: " ", body: "b") { id } }"#,
        Some(&member.cookie),
    )
    .await;
    assert_eq!(error_code(&r), (400, "bad_request".into()));
    let report = format!(r#"mutation {{ reportPost(post: {thread}, reason: "rude") {{ postId reporter reason }} }}"#);
    let r = graphql(&f.app, &report, Some(&owner.cookie)).await;
    assert_eq!(r["data"]["reportPost"], json!({"postId": thread, "reporter": owner.address, "reason": "rude"}), "{r}");
    let again =
        f.send("POST", &format!("/api/posts/{thread}/reports"), Some(&owner), Some(json!({"reason": "rude"}))).await;
    assert_eq!(
        code(&again),
        (StatusCode::CONFLICT, "already_reported".into()),
        "the report GraphQL made counts for REST"
    );

    // A user a node admin disabled reads but writes nothing, on either gateway.
    let r = f.send("POST", &format!("/api/admin/users/{}/disable", member.address), Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(error_code(&post_as(Some(&member)).await), (403, "user_disabled".into()));
    let reply = format!(r#"mutation {{ reply(thread: {thread}, body: "x") {{ id }} }}"#);
    assert_eq!(error_code(&graphql(&f.app, &reply, Some(&member.cookie)).await), (403, "user_disabled".into()));
    for (method, uri, body) in [
        ("POST", format!("/api/threads/{thread}/replies"), json!({"body": "x"})),
        ("PATCH", format!("/api/posts/{thread}"), json!({"body": "edited"})),
        ("POST", format!("/api/posts/{}/reports", reply_id(&f, thread).await), json!({"reason": "r"})),
        ("PUT", "/api/me/profile".to_owned(), json!({"displayName": "M"})),
    ] {
        let r = f.send(method, &uri, Some(&member), Some(body)).await;
        assert_eq!(code(&r), (StatusCode::FORBIDDEN, "user_disabled".into()), "{method} {uri}");
    }
    let r = f.send("GET", &format!("/api/threads/{thread}"), Some(&member), None).await;
    assert_eq!(r.status, StatusCode::OK, "a disabled user still reads");
    let r = f.send("POST", &format!("/api/admin/users/{}/enable", member.address), Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(post_as(Some(&member)).await["errors"].is_null(), "enabled again, they post");
    f.finish().await
}

/// The id of the first reply in `thread`.
async fn reply_id(f: &Fixture, thread: u64) -> u64 {
    let r = f.send("GET", &format!("/api/threads/{thread}"), None, None).await;
    r.body["replies"][0]["id"].as_u64().expect("a reply")
}
