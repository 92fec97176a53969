//! Profiles, community posts and their moderation through the router: who may write, edit, delete,
//! report and moderate, what each viewer sees, the rate limit and malformed input.

mod common;
#[path = "social/graphql.rs"]
mod graphql;
#[path = "social/moderation.rs"]
mod moderation;
#[path = "social/setup.rs"]
mod setup;

use axum::http::StatusCode;
use serde_json::json;
use setup::{Fixture, code};

#[tokio::test]
async fn profiles_hold_a_trimmed_name_and_an_image_avatar_from_the_content_store() -> anyhow::Result<()> {
    let f = Fixture::new().await?;
    let me = f.person(1).await?;
    let path = format!("/api/profiles/{}", me.address);

    let r = f.send("GET", &path, None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body,
        json!({"address": me.address, "displayName": null, "avatar": null, "avatarUrl": null, "updatedAt": null})
    );
    let r = f.send("PUT", "/api/me/profile", None, Some(json!({"displayName": "Ada"}))).await;
    assert_eq!(code(&r), (StatusCode::UNAUTHORIZED, "unauthenticated".into()));

    let png = f.upload(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").await?;
    let r =
        f.send("PUT", "/api/me/profile", Some(&me), Some(json!({"displayName": "  Ada 李  ", "avatar": png}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!((r.body["displayName"].as_str(), r.body["avatar"].as_str()), (Some("Ada 李"), Some(png.as_str())));
    assert_eq!(r.body["avatarUrl"], format!("/ipfs/{png}"));
    let r = f.send("GET", &path.to_uppercase().replace("/API/PROFILES/0X", "/api/profiles/0x"), None, None).await;
    assert_eq!(r.body["displayName"], "Ada 李", "{}: any case of the address", r.body);

    let text = f.upload(b"just words").await?;
    let unknown = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
    for (body, expected) in [
        (json!({"displayName": "   "}), "bad_request"),
        (json!({"displayName": "a".repeat(41)}), "bad_request"),
        (json!({"displayName": "tab\there"}), "bad_request"),
        (json!({"avatar": "not a cid"}), "bad_request"),
        (json!({"avatar": unknown}), "avatar_unknown"),
        (json!({"avatar": text}), "avatar_not_image"),
        (json!({"nickname": "x"}), "bad_request"),
    ] {
        let r = f.send("PUT", "/api/me/profile", Some(&me), Some(body.clone())).await;
        assert_eq!(code(&r), (StatusCode::BAD_REQUEST, expected.into()), "{body}");
    }
    assert_eq!(f.send("GET", &path, None, None).await.body["displayName"], "Ada 李", "refusals changed nothing");
    // A field left out is cleared.
    let r = f.send("PUT", "/api/me/profile", Some(&me), Some(json!({"displayName": "Ada"}))).await;
    assert_eq!((r.body["displayName"].as_str(), r.body["avatar"].as_str()), (Some("Ada"), None));
    assert_eq!(
        code(&f.send("GET", "/api/profiles/0x12", None, None).await),
        (StatusCode::BAD_REQUEST, "bad_request".into())
    );
    f.finish().await
}

#[tokio::test]
async fn members_post_and_reply_and_authors_alone_edit_and_delete() -> anyhow::Result<()> {
    let f = Fixture::new().await?;
    let (owner, member, outsider) = (f.person(1).await?, f.person(2).await?, f.person(3).await?);
    f.community(7, &owner, &[], &[&owner, &member]).await?;
    let threads = "/api/communities/7/threads";
    let new_thread = json!({"title": "  Hello  ", "body": "**hi** <script>alert(1)</script>\n"});

    let r = f.send("POST", threads, Some(&outsider), Some(new_thread.clone())).await;
    assert_eq!(code(&r), (StatusCode::FORBIDDEN, "not_member".into()));
    let r = f.send("POST", "/api/communities/8/threads", Some(&member), Some(new_thread.clone())).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(f.send("GET", "/api/communities/8/threads", None, None).await.status, StatusCode::NOT_FOUND);
    let r = f.send("POST", threads, None, Some(new_thread.clone())).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let r = f.send("POST", threads, Some(&member), Some(new_thread)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let thread = r.body["id"].as_u64().expect("id");
    assert_eq!((r.body["threadId"].as_u64(), r.body["title"].as_str()), (Some(thread), Some("Hello")));
    assert_eq!(r.body["body"], "**hi** <script>alert(1)</script>\n", "markdown is stored exactly as sent");
    assert_eq!(r.body["author"], member.address);

    let replies = format!("/api/threads/{thread}/replies");
    let r = f.send("POST", &replies, Some(&outsider), Some(json!({"body": "me too"}))).await;
    assert_eq!(code(&r), (StatusCode::FORBIDDEN, "not_member".into()));
    let r = f.send("POST", &replies, Some(&owner), Some(json!({"body": "welcome"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let reply = r.body["id"].as_u64().expect("id");
    assert_eq!((r.body["threadId"].as_u64(), r.body["title"].clone()), (Some(thread), json!(null)));

    // Only the author edits; a reply takes no title.
    let post = format!("/api/posts/{reply}");
    let r = f.send("PATCH", &post, Some(&member), Some(json!({"body": "hijacked"}))).await;
    assert_eq!(code(&r), (StatusCode::FORBIDDEN, "not_author".into()));
    let r = f.send("PATCH", &post, Some(&owner), Some(json!({"title": "t", "body": "x"}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = f.send("PATCH", &post, Some(&owner), Some(json!({"body": "welcome, all"}))).await;
    assert_eq!((r.status, r.body["body"].as_str()), (StatusCode::OK, Some("welcome, all")), "{}", r.body);
    assert!(r.body["editedAt"].as_u64().is_some());
    let r = f
        .send(
            "PATCH",
            &format!("/api/posts/{thread}"),
            Some(&member),
            Some(json!({"title": "Hello again", "body": "b"})),
        )
        .await;
    assert_eq!(r.body["title"], "Hello again", "{}", r.body);

    // Delete leaves a tombstone that the thread page still shows.
    let r = f.send("DELETE", &post, Some(&member), None).await;
    assert_eq!(code(&r), (StatusCode::FORBIDDEN, "not_author".into()));
    let r = f.send("DELETE", &post, Some(&owner), None).await;
    assert_eq!(
        (r.status, r.body["deleted"].as_bool(), r.body["body"].clone()),
        (StatusCode::OK, Some(true), json!(null))
    );
    assert_eq!(code(&f.send("DELETE", &post, Some(&owner), None).await), (StatusCode::CONFLICT, "deleted".into()));
    let r = f.send("PATCH", &post, Some(&owner), Some(json!({"body": "back"}))).await;
    assert_eq!(code(&r), (StatusCode::CONFLICT, "deleted".into()));
    let page = f.send("GET", &format!("/api/threads/{thread}"), None, None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(
        (page.body["replies"][0]["id"].as_u64(), page.body["replies"][0]["deleted"].as_bool()),
        (Some(reply), Some(true))
    );
    assert_eq!(page.body["replies"][0]["body"], json!(null));
    assert_eq!((page.body["thread"]["replies"].as_u64(), page.body["canReply"].as_bool()), (Some(1), Some(false)));
    let mine = f.send("GET", &format!("/api/threads/{thread}"), Some(&member), None).await;
    assert_eq!((mine.body["canReply"].as_bool(), mine.body["canModerate"].as_bool()), (Some(true), Some(false)));
    let theirs = f.send("GET", &format!("/api/threads/{thread}"), Some(&owner), None).await;
    assert_eq!(theirs.body["canModerate"], true, "the owner moderates");
    assert_eq!(f.send("GET", &format!("/api/threads/{reply}"), None, None).await.status, StatusCode::NOT_FOUND);
    f.finish().await
}

#[tokio::test]
async fn posting_too_often_is_refused_with_retry_after_counted_in_the_database() -> anyhow::Result<()> {
    let f = Fixture::with_limit(2, 3600).await?;
    let (owner, member) = (f.person(1).await?, f.person(2).await?);
    f.community(7, &owner, &[], &[&owner, &member]).await?;
    let r = f.send("POST", "/api/communities/7/threads", Some(&member), Some(json!({"title": "t", "body": "b"}))).await;
    let replies = format!("/api/threads/{}/replies", r.body["id"]);
    assert_eq!(f.send("POST", &replies, Some(&member), Some(json!({"body": "1"}))).await.status, StatusCode::CREATED);
    let r = f.send("POST", &replies, Some(&member), Some(json!({"body": "2"}))).await;
    assert_eq!(code(&r), (StatusCode::TOO_MANY_REQUESTS, "rate_limited".into()));
    let wait: u64 = r.retry_after.as_deref().expect("Retry-After").parse()?;
    assert!((3590..=3600).contains(&wait), "{wait}");
    // A second API process on the same database counts the same posts.
    let other = f.second_app(2, 3600);
    let r = setup::send(&other, "POST", &replies, Some(&member), Some(json!({"body": "3"}))).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let r = f.send("POST", &replies, Some(&owner), Some(json!({"body": "others may"}))).await;
    assert_eq!(r.status, StatusCode::CREATED);
    f.finish().await
}

#[tokio::test]
async fn malformed_ids_pages_and_texts_are_refused_naming_the_field() -> anyhow::Result<()> {
    let f = Fixture::new().await?;
    let (owner, member) = (f.person(1).await?, f.person(2).await?);
    f.community(7, &owner, &[], &[&member]).await?;
    for uri in [
        "/api/communities/abc/threads",
        "/api/communities/-1/threads",
        "/api/communities/9223372036854775808/threads",
        "/api/communities/7/threads?limit=0",
        "/api/communities/7/threads?limit=101",
        "/api/communities/7/threads?order=sideways",
        "/api/communities/7/threads?offset=9223372036854775808",
        "/api/communities/7/threads?page=2",
        "/api/threads/x",
    ] {
        let r = f.send("GET", uri, None, None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}: {}", r.body);
    }
    let threads = "/api/communities/7/threads";
    for (body, field) in [
        (json!({"title": " ", "body": "b"}), "title"),
        (json!({"title": "a\u{0}b", "body": "b"}), "title"),
        (json!({"title": "t".repeat(121), "body": "b"}), "title"),
        (json!({"title": "t", "body": "x".repeat(20_001)}), "body"),
        (json!({"title": "t", "body": "\n\n"}), "body"),
        (json!({"title": "t", "body": "nul \u{0}"}), "body"),
        (json!({"title": "t"}), "body"),
        (json!({"title": "t", "body": "b", "pinned": true}), "pinned"),
    ] {
        let r = f.send("POST", threads, Some(&member), Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        let message = r.body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(field), "{body}: {message}");
    }
    let r = f.send("POST", threads, Some(&member), Some(json!({"title": "t", "body": "x".repeat(20_000)}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "the longest body is taken");
    let listed = f.send("GET", threads, None, None).await;
    assert_eq!(listed.body["threads"].as_array().map(Vec::len), Some(1), "nothing refused was written");
    f.finish().await
}
