//! Moderation through the router: pins, locks, hidden posts per viewer, reports once per member,
//! the queue, resolving, the log, and everyone else refused.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::setup::{Fixture, Person, code};

/// The queue's post ids, checked to be in its order: the oldest open report first, then by id.
fn queue_ids(queue: &Value) -> Vec<u64> {
    let items: Vec<(u64, u64)> = queue
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            let first = i["reports"].as_array().into_iter().flatten().filter_map(|r| r["reportedAt"].as_u64()).min();
            (first.unwrap_or_default(), i["post"]["id"].as_u64().unwrap_or_default())
        })
        .collect();
    let mut sorted = items.clone();
    sorted.sort();
    assert_eq!(items, sorted, "the queue is ordered by its oldest open report");
    items.into_iter().map(|(_, id)| id).collect()
}

fn ids(list: &Value) -> Vec<u64> {
    list.as_array().into_iter().flatten().filter_map(|p| p["id"].as_u64()).collect()
}

async fn post(f: &Fixture, uri: &str, who: &Person, body: Value) -> anyhow::Result<u64> {
    let r = f.send("POST", uri, Some(who), Some(body)).await;
    anyhow::ensure!(r.status == StatusCode::CREATED, "{uri}: {} {}", r.status, r.body);
    r.body["id"].as_u64().ok_or_else(|| anyhow::anyhow!("no id in {}", r.body))
}

async fn page(f: &Fixture, thread: u64, who: Option<&Person>) -> super::setup::Reply {
    f.send("GET", &format!("/api/threads/{thread}"), who, None).await
}

async fn report(f: &Fixture, id: u64, who: &Person, reason: &str) -> super::setup::Reply {
    f.send("POST", &format!("/api/posts/{id}/reports"), Some(who), Some(json!({"reason": reason}))).await
}

async fn moderate(f: &Fixture, id: u64, who: &Person, action: &str) -> super::setup::Reply {
    f.send(
        "POST",
        &format!("/api/posts/{id}/moderation"),
        Some(who),
        Some(json!({"action": action, "reason": "because"})),
    )
    .await
}

#[tokio::test]
async fn moderators_pin_lock_and_hide_and_everyone_else_is_refused() -> anyhow::Result<()> {
    let f = Fixture::with_node_admins(&[9]).await?;
    let (owner, admin, author, member) =
        (f.person(1).await?, f.person(2).await?, f.person(3).await?, f.person(4).await?);
    let (outsider, node_admin) = (f.person(5).await?, f.person(9).await?);
    f.community(7, &owner, &[&admin], &[&owner, &author, &member]).await?;
    let threads = "/api/communities/7/threads";
    let a = post(&f, threads, &author, json!({"title": "A", "body": "a"})).await?;
    let b = post(&f, threads, &author, json!({"title": "B", "body": "b"})).await?;
    let r = post(&f, &format!("/api/threads/{a}/replies"), &member, json!({"body": "r"})).await?;

    // Neither members, outsiders nor the anonymous moderate.
    for who in [&author, &member, &outsider] {
        assert_eq!(code(&moderate(&f, a, who, "pin").await), (StatusCode::FORBIDDEN, "not_moderator".into()));
    }
    let r0 = f
        .send("POST", &format!("/api/posts/{a}/moderation"), None, Some(json!({"action": "pin", "reason": "x"})))
        .await;
    assert_eq!(r0.status, StatusCode::UNAUTHORIZED);
    let bad = f
        .send(
            "POST",
            &format!("/api/posts/{a}/moderation"),
            Some(&admin),
            Some(json!({"action": "burn", "reason": "x"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(moderate(&f, 999, &admin, "pin").await.status, StatusCode::NOT_FOUND);

    // Pinned threads first.
    assert_eq!(ids(&f.send("GET", threads, None, None).await.body["threads"]), [b, a]);
    let pinned = moderate(&f, a, &admin, "pin").await;
    assert_eq!(
        (pinned.status, pinned.body["post"]["pinned"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{}",
        pinned.body
    );
    assert_eq!(pinned.body["entry"]["actor"], admin.address);
    assert_eq!(ids(&f.send("GET", threads, None, None).await.body["threads"]), [a, b]);
    assert_eq!(ids(&f.send("GET", &format!("{threads}?order=oldest"), None, None).await.body["threads"]), [a, b]);
    assert_eq!(code(&moderate(&f, a, &admin, "pin").await), (StatusCode::CONFLICT, "no_change".into()));
    assert_eq!(code(&moderate(&f, r, &admin, "pin").await), (StatusCode::CONFLICT, "not_a_thread".into()));

    // A locked thread takes no replies or edits.
    assert_eq!(moderate(&f, a, &owner, "lock").await.status, StatusCode::OK);
    let reply =
        f.send("POST", &format!("/api/threads/{a}/replies"), Some(&member), Some(json!({"body": "late"}))).await;
    assert_eq!(code(&reply), (StatusCode::CONFLICT, "thread_locked".into()));
    let edit = f.send("PATCH", &format!("/api/posts/{a}"), Some(&author), Some(json!({"body": "changed"}))).await;
    assert_eq!(code(&edit), (StatusCode::CONFLICT, "thread_locked".into()));
    let locked = page(&f, a, Some(&member)).await;
    assert_eq!(
        (locked.body["thread"]["locked"].as_bool(), locked.body["canReply"].as_bool()),
        (Some(true), Some(false))
    );

    // A hidden reply: gone for others, marked for its author and the moderators.
    assert_eq!(moderate(&f, r, &admin, "hide").await.status, StatusCode::OK);
    assert_eq!(ids(&page(&f, a, None).await.body["replies"]), Vec::<u64>::new());
    assert_eq!(ids(&page(&f, a, Some(&author)).await.body["replies"]), Vec::<u64>::new());
    for who in [&member, &admin, &owner, &node_admin] {
        let seen = page(&f, a, Some(who)).await;
        assert_eq!(
            (ids(&seen.body["replies"]), seen.body["replies"][0]["hidden"].as_bool()),
            (vec![r], Some(true)),
            "{}",
            who.address
        );
    }
    // A hidden thread: off the list and 404 for others.
    assert_eq!(moderate(&f, b, &node_admin, "hide").await.status, StatusCode::OK, "the node's admins moderate too");
    assert_eq!(ids(&f.send("GET", threads, Some(&member), None).await.body["threads"]), [a]);
    assert_eq!(f.send("GET", &format!("/api/threads/{b}"), Some(&member), None).await.status, StatusCode::NOT_FOUND);
    let own = f.send("GET", &format!("/api/threads/{b}"), Some(&author), None).await;
    assert_eq!((own.status, own.body["thread"]["hidden"].as_bool()), (StatusCode::OK, Some(true)));
    let r1 = f.send("POST", &format!("/api/threads/{b}/replies"), Some(&member), Some(json!({"body": "?"}))).await;
    assert_eq!(r1.status, StatusCode::NOT_FOUND, "a hidden thread cannot be replied to by others");
    assert_eq!(moderate(&f, b, &admin, "unhide").await.status, StatusCode::OK);
    assert_eq!(ids(&f.send("GET", threads, None, None).await.body["threads"]), [a, b]);

    // Every action is in the log, newest first; only moderators read it.
    let log = f.send("GET", "/api/communities/7/moderation/log", Some(&owner), None).await;
    let actions: Vec<_> =
        log.body.as_array().into_iter().flatten().map(|e| e["action"].as_str().unwrap_or_default()).collect();
    assert_eq!(actions, ["unhide", "hide", "hide", "lock", "pin"], "{}", log.body);
    assert_eq!(log.body[1]["actor"], node_admin.address);
    assert_eq!(log.body[4]["reason"], "because");
    let r = f.send("GET", "/api/communities/7/moderation/log", Some(&member), None).await;
    assert_eq!(code(&r), (StatusCode::FORBIDDEN, "not_moderator".into()));
    f.finish().await
}

#[tokio::test]
async fn members_report_once_and_moderators_work_the_queue() -> anyhow::Result<()> {
    let f = Fixture::with_node_admins(&[9]).await?;
    let (owner, admin, author, member) =
        (f.person(1).await?, f.person(2).await?, f.person(3).await?, f.person(4).await?);
    let (outsider, node_admin) = (f.person(5).await?, f.person(9).await?);
    f.community(7, &owner, &[&admin], &[&owner, &author, &member]).await?;
    f.community(8, &outsider, &[], &[&outsider]).await?;
    let a = post(&f, "/api/communities/7/threads", &author, json!({"title": "A", "body": "a"})).await?;
    let r = post(&f, &format!("/api/threads/{a}/replies"), &author, json!({"body": "rude"})).await?;
    let elsewhere = post(&f, "/api/communities/8/threads", &outsider, json!({"title": "C", "body": "c"})).await?;

    let first = report(&f, r, &member, "  rude  ").await;
    assert_eq!((first.status, first.body["reason"].as_str()), (StatusCode::CREATED, Some("rude")), "{}", first.body);
    assert_eq!(code(&report(&f, r, &member, "again").await), (StatusCode::CONFLICT, "already_reported".into()));
    assert_eq!(code(&report(&f, r, &outsider, "x").await), (StatusCode::FORBIDDEN, "not_member".into()));
    assert_eq!(report(&f, r, &member, " ").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(report(&f, 999, &member, "x").await.status, StatusCode::NOT_FOUND);
    assert_eq!(report(&f, r, &owner, "also rude").await.status, StatusCode::CREATED);
    assert_eq!(report(&f, a, &member, "title").await.status, StatusCode::CREATED);
    assert_eq!(report(&f, elsewhere, &outsider, "mine").await.status, StatusCode::CREATED);

    // The community's queue: grouped by post, the longest waiting first; moderators only.
    let queue = "/api/communities/7/moderation/queue";
    assert_eq!(code(&f.send("GET", queue, Some(&member), None).await), (StatusCode::FORBIDDEN, "not_moderator".into()));
    assert_eq!(f.send("GET", queue, None, None).await.status, StatusCode::UNAUTHORIZED);
    let q = f.send("GET", queue, Some(&admin), None).await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.body);
    let mut posts = queue_ids(&q.body);
    posts.sort();
    assert_eq!(posts, [a, r]);
    let reported = q.body.as_array().into_iter().flatten().find(|i| i["post"]["id"].as_u64() == Some(r)).cloned();
    let mut reporters: Vec<_> = reported.unwrap_or_default()["reports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| {
            (x["reporter"].as_str().unwrap_or_default().to_owned(), x["reason"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    reporters.sort();
    assert_eq!(reporters, [(owner.address.clone(), "also rude".into()), (member.address.clone(), "rude".into())]);

    // The node's admins see every community's queue; nobody else does.
    let all = f.send("GET", "/api/admin/moderation/queue", Some(&node_admin), None).await;
    let mut posts = queue_ids(&all.body);
    posts.sort();
    assert_eq!(posts, [a, r, elsewhere], "{}", all.body);
    for who in [&admin, &owner] {
        let r = f.send("GET", "/api/admin/moderation/queue", Some(who), None).await;
        assert_eq!(code(&r), (StatusCode::FORBIDDEN, "not_admin".into()));
    }
    assert_eq!(
        f.send("GET", "/api/communities/8/moderation/queue", Some(&node_admin), None).await.status,
        StatusCode::OK
    );

    // Resolving empties the post's place in the queue, once, and is logged.
    let resolve = format!("/api/posts/{r}/reports/resolve");
    let res = f.send("POST", &resolve, Some(&member), Some(json!({"resolution": "fine"}))).await;
    assert_eq!(code(&res), (StatusCode::FORBIDDEN, "not_moderator".into()));
    let res = f.send("POST", &resolve, Some(&admin), Some(json!({"resolution": "warned the author"}))).await;
    assert_eq!((res.status, res.body["resolved"].as_u64()), (StatusCode::OK, Some(2)), "{}", res.body);
    assert_eq!(res.body["entry"]["action"], "resolve");
    let again = f.send("POST", &resolve, Some(&admin), Some(json!({"resolution": "again"}))).await;
    assert_eq!(code(&again), (StatusCode::CONFLICT, "no_open_reports".into()));
    let q = f.send("GET", queue, Some(&owner), None).await;
    assert_eq!(q.body.as_array().map(|l| l.len()), Some(1));
    assert_eq!(q.body[0]["post"]["id"].as_u64(), Some(a));
    let log = f.send("GET", "/api/communities/7/moderation/log", Some(&admin), None).await;
    assert_eq!(
        (log.body[0]["action"].as_str(), log.body[0]["reason"].as_str()),
        (Some("resolve"), Some("warned the author"))
    );
    f.finish().await
}

#[tokio::test]
async fn authors_hear_of_replies_and_of_what_moderators_did() -> anyhow::Result<()> {
    let f = Fixture::new().await?;
    let (owner, member) = (f.person(1).await?, f.person(2).await?);
    f.community(7, &owner, &[], &[&owner, &member]).await?;
    let r =
        f.send("POST", "/api/communities/7/threads", Some(&member), Some(json!({"title": "Ideas", "body": "b"}))).await;
    let thread = r.body["id"].as_u64().expect("a thread");
    let replies = format!("/api/threads/{thread}/replies");
    let r = f.send("POST", &replies, Some(&member), Some(json!({"body": "my own reply"}))).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = f.send("POST", &replies, Some(&owner), Some(json!({"body": "welcome"}))).await;
    let reply = r.body["id"].as_u64().expect("a reply");
    let lock = json!({"action": "lock", "reason": "settled"});
    let r = f.send("POST", &format!("/api/posts/{thread}/moderation"), Some(&owner), Some(lock)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let mine = f.send("GET", "/api/me/notifications", Some(&member), None).await;
    let items = mine.body["items"].as_array().cloned().unwrap_or_default();
    let kinds: Vec<(&str, u64)> = items
        .iter()
        .map(|n| (n["kind"].as_str().unwrap_or_default(), n["payload"]["postId"].as_u64().unwrap_or_default()))
        .collect();
    assert_eq!(
        kinds,
        [("post-moderated", thread), ("post-reply", reply)],
        "newest first; not their own reply: {items:?}"
    );
    let title = items[0]["title"].as_str().unwrap_or_default();
    assert!(title.contains("locked") && title.contains("settled"), "{title}");
    assert_eq!(mine.body["unread"], 2);
    let theirs = f.send("GET", "/api/me/notifications", Some(&owner), None).await;
    assert_eq!(theirs.body["items"], json!([]), "the moderator is not told of their own action");
    f.finish().await
}
