//! The task board and communities through the router: a task list with its claims counted by state,
//! a task with its claims and timeline, communities with admins, members, points and the
//! leaderboard, an account's board, in the document's shapes; malformed input 400, unknown ids 404.

use agora_store::{Batch, BlockRef, BoardEvent, CommunityEvent, IndexedLog, LogMeta, MarketEvent};
use axum::http::StatusCode;
use serde_json::json;

use super::{assert_has_required, seeded};
use crate::common::{CHAIN, call};

pub(super) const OWNER: &str = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
pub(super) const WORKER: &str = "0x976ea74026e726554db657fa54763abd0c3a0aa9";
pub(super) const SECOND: &str = "0x14dc79964da2c08b23698b3d3cc7ca32193d9955";
const ADMIN: &str = "0x23618e81e3f5cdf7f54c3d65f7fbc0abf5b21e8f";
const ZERO: &str = "0x0000000000000000000000000000000000000000";
const POINTS: &str = "0x1111111111111111111111111111111111111111";
const AMT: &str = "0x2222222222222222222222222222222222222222";

fn history() -> Vec<MarketEvent> {
    use BoardEvent::*;
    use CommunityEvent::*;
    let published = |task_id, community_id, token: &str, reward: &str, per_slot: &str, slots| TaskPublished {
        task_id,
        publisher: OWNER.into(),
        community_id,
        token: token.into(),
        reward: reward.into(),
        reward_per_slot: per_slot.into(),
        slots,
        points: "0".into(),
        deadline: 1_700_100_000,
        review_window: 3600,
        work_timeout: 7200,
        max_revisions: 1,
        arbiter: OWNER.into(),
        spec: "bafyspec".into(),
    };
    let c = |e| MarketEvent::Community(e);
    let b = |e| MarketEvent::Board(e);
    vec![
        c(CommunityCreated {
            community_id: 1,
            owner: OWNER.into(),
            points_token: POINTS.into(),
            arbiter: OWNER.into(),
            name: "Makers".into(),
            symbol: "MK".into(),
            metadata_uri: "ipfs://makers".into(),
        }),
        c(MemberJoined { community_id: 1, account: OWNER.into(), member_count: 1 }),
        c(MemberJoined { community_id: 1, account: WORKER.into(), member_count: 2 }),
        c(AdminAdded { community_id: 1, account: ADMIN.into() }),
        c(PointsTransfer { community_id: 1, from: ZERO.into(), to: WORKER.into(), amount: "7".into() }),
        c(PointsMinted {
            community_id: 1,
            to: WORKER.into(),
            by: OWNER.into(),
            amount: "7".into(),
            reason: format!("0x{}", "00".repeat(32)),
        }),
        b(published(1, 1, ZERO, "30", "10", 3)),
        b(TaskAccepted { task_id: 1, worker: WORKER.into(), free_slots: 2 }),
        b(WorkSubmitted {
            task_id: 1,
            worker: WORKER.into(),
            revision: 0,
            deliverable: "bafywork".into(),
            review_ends_at: 1_700_003_700,
        }),
        b(SubmissionApproved {
            task_id: 1,
            worker: WORKER.into(),
            by: OWNER.into(),
            lapsed: false,
            amount: "10".into(),
            points: "0".into(),
        }),
        b(TaskAccepted { task_id: 1, worker: SECOND.into(), free_slots: 1 }),
        b(WorkSubmitted {
            task_id: 1,
            worker: SECOND.into(),
            revision: 0,
            deliverable: "bafydraft".into(),
            review_ends_at: 1_700_003_700,
        }),
        b(SubmissionRejected {
            task_id: 1,
            worker: SECOND.into(),
            reason: "typos".into(),
            revisions_left: 1,
            answer_ends_at: 1_700_007_300,
        }),
        b(published(2, 0, AMT, "40", "40", 1)),
        b(TaskCancelled { task_id: 2, slots: 1, refunded: "40".into() }),
    ]
}

/// The router over a store holding [`history`]: two tasks, one community with members and points.
pub(super) async fn seeded_board() -> anyhow::Result<(agora_store::testing::TestDb, axum::Router)> {
    let (db, app) = seeded().await?;
    let b2 = BlockRef { number: 2, hash: "0x02".into(), parent_hash: "0x01".into(), timestamp: 1_700_000_100 };
    let meta = |i: u64| LogMeta {
        block_number: 2,
        block_hash: "0x02".into(),
        block_timestamp: 1_700_000_100,
        tx_hash: format!("0x{:064x}", 0xb0),
        log_index: i,
        address: "0x00".into(),
    };
    let logs = history().into_iter().enumerate().map(|(i, event)| IndexedLog { meta: meta(i as u64), event }).collect();
    db.store.apply_batch(&Batch { chain_id: CHAIN, expected_cursor: 1, blocks: vec![b2], logs }).await?;
    Ok((db, app))
}

#[tokio::test]
async fn the_board_and_communities_read_as_json() -> anyhow::Result<()> {
    let (db, app) = seeded_board().await?;
    let (_, doc) = call(&app, "GET", "/api/openapi.json", None).await;

    let (status, list) = call(&app, "GET", "/api/board/tasks", None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let tasks = list["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.iter().map(|t| t["id"].as_u64()).collect::<Vec<_>>(), [Some(2), Some(1)], "newest first");
    for t in tasks {
        assert_has_required(&doc, "BoardTask", t, "a listed task");
    }
    let one = &tasks[1];
    assert_eq!(one["reward"], "30");
    assert_eq!(one["rewardPerSlot"], "10");
    assert_eq!(one["freeSlots"], 1);
    assert_eq!(one["communityId"], 1);
    assert_eq!(one["submitted"], true);
    assert_eq!(one["paid"], "10");
    assert_eq!(
        one["counts"],
        json!({"working": 0, "submitted": 0, "rejected": 1, "disputed": 0, "approved": 1, "resolved": 0, "removed": 0, "closed": 0})
    );
    assert_eq!(tasks[0]["state"], "cancelled");
    assert_eq!(tasks[0]["refunded"], "40");
    assert_eq!(tasks[0]["communityId"], json!(null));

    for (query, ids) in [
        ("community=1", vec![1]),
        ("state=open", vec![1]),
        (&format!("worker={SECOND}") as &str, vec![1]),
        (&format!("token={AMT}"), vec![2]),
        (&format!("publisher={WORKER}"), vec![]),
        ("limit=1&offset=1", vec![1]),
    ] {
        let (status, list) = call(&app, "GET", &format!("/api/board/tasks?{query}"), None).await;
        assert_eq!(status, StatusCode::OK, "{query}: {list}");
        let got: Vec<u64> = list["tasks"].as_array().expect("tasks").iter().filter_map(|t| t["id"].as_u64()).collect();
        assert_eq!(got, ids, "{query}");
    }

    let (status, detail) = call(&app, "GET", "/api/board/tasks/1", None).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_has_required(&doc, "BoardTaskDetail", &detail, "a task's detail");
    let claims = detail["claims"].as_array().expect("claims");
    assert_eq!(claims.len(), 2);
    assert_eq!(claims[0]["worker"], WORKER);
    assert_eq!(claims[0]["state"], "approved");
    assert_eq!(claims[0]["paid"], "10");
    assert_eq!(claims[0]["deliverable"], "bafywork");
    assert_eq!(claims[0]["reviewEndsAt"], json!(null), "only a submitted claim has a review running");
    assert_eq!(claims[1]["state"], "rejected");
    assert_eq!(claims[1]["rejectionReason"], "typos");
    assert_eq!(claims[1]["answerEndsAt"], 1_700_007_300);
    let kinds: Vec<&str> =
        detail["timeline"].as_array().expect("timeline").iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, ["published", "accepted", "submitted", "approved", "accepted", "submitted", "rejected"]);
    assert_eq!(detail["timeline"][6]["detail"]["reason"], "typos");
    assert_eq!(detail["timeline"][6]["worker"], SECOND);

    let (status, communities) = call(&app, "GET", "/api/communities", None).await;
    assert_eq!(status, StatusCode::OK, "{communities}");
    let c = &communities["communities"][0];
    assert_has_required(&doc, "Community", c, "a community");
    assert_eq!(c["name"], "Makers");
    assert_eq!(c["memberCount"], 2);
    assert_eq!(c["admins"], json!([ADMIN]));
    let (status, one) = call(&app, "GET", "/api/communities/1", None).await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one["leaderboard"], json!([{"account": WORKER, "balance": "7"}]));
    let (status, members) = call(&app, "GET", "/api/communities/1/members", None).await;
    assert_eq!(status, StatusCode::OK, "{members}");
    assert_eq!(
        members["members"][1],
        json!({"account": WORKER, "joinedAt": 1_700_000_100, "points": "7", "admin": false})
    );
    assert_eq!(members["members"][0]["admin"], true, "the owner is an admin by the contract's rule");

    let (status, account) = call(&app, "GET", &format!("/api/accounts/{WORKER}/board"), None).await;
    assert_eq!(status, StatusCode::OK, "{account}");
    assert_has_required(&doc, "AccountBoard", &account, "an account's board");
    assert_eq!(account["published"], json!([]));
    assert_eq!(account["working"][0]["task"]["id"], 1);
    assert_eq!(account["working"][0]["claim"]["state"], "approved");
    assert_eq!(account["points"], json!([{"communityId": 1, "name": "Makers", "symbol": "MK", "balance": "7"}]));
    assert_eq!(account["communities"], json!([1]));
    let (_, publisher) = call(&app, "GET", &format!("/api/accounts/{OWNER}/board"), None).await;
    assert_eq!(publisher["published"].as_array().map(Vec::len), Some(2));

    for (uri, status) in [
        ("/api/board/tasks/99", StatusCode::NOT_FOUND),
        ("/api/board/tasks/abc", StatusCode::BAD_REQUEST),
        ("/api/board/tasks?state=done", StatusCode::BAD_REQUEST),
        ("/api/board/tasks?community=0", StatusCode::BAD_REQUEST),
        ("/api/board/tasks?community=9223372036854775808", StatusCode::BAD_REQUEST),
        ("/api/board/tasks?limit=0", StatusCode::BAD_REQUEST),
        ("/api/board/tasks?worker=bob", StatusCode::BAD_REQUEST),
        ("/api/board/tasks?colour=red", StatusCode::BAD_REQUEST),
        ("/api/communities/7", StatusCode::NOT_FOUND),
        ("/api/communities/7/members", StatusCode::NOT_FOUND),
        ("/api/communities?limit=101", StatusCode::BAD_REQUEST),
        ("/api/accounts/0x12/board", StatusCode::BAD_REQUEST),
        ("/api/board/config", StatusCode::NOT_FOUND),
    ] {
        let (got, body) = call(&app, "GET", uri, None).await;
        assert_eq!(got, status, "{uri}: {body}");
        assert!(body["error"]["message"].is_string(), "{uri}: {body}");
    }
    db.finish().await?;
    Ok(())
}

/// A task's and a community's pages are served from the cache, and an indexed event about either
/// reaches a client only after their cached copies were dropped: the page it re-reads is fresh. A
/// reorg, announced as a gap, drops everything.
#[tokio::test]
async fn cached_task_and_community_pages_are_fresh_once_their_event_is_heard() -> anyhow::Result<()> {
    let db = agora_store::testing::TestDb::sqlite().await?;
    let b0 = BlockRef { number: 0, hash: "0x00".into(), parent_hash: "0x".into(), timestamp: 1 };
    db.store.init_cursor(CHAIN, &b0).await?;
    let (state, events) =
        crate::common::state(db.store.clone(), agora_chain::read_provider("http://127.0.0.1:1")?).await;
    let mut heard = state.live.subscribe();
    let bus = state.live.bus().clone();
    let app = agora_api::router(state);
    let history = history();
    // The community with its members and points, and task 1 published: everything before its claims.
    let (before, after) = history.split_at(7);
    let mut apply = async |number: u64, events_of: &[MarketEvent]| -> anyhow::Result<()> {
        let block = BlockRef {
            number,
            hash: format!("0x{number:02x}"),
            parent_hash: format!("0x{:02x}", number - 1),
            timestamp: 1_700_000_000 + number,
        };
        let logs: Vec<IndexedLog> = events_of
            .iter()
            .enumerate()
            .map(|(i, event)| IndexedLog {
                meta: LogMeta {
                    block_number: number,
                    block_hash: block.hash.clone(),
                    block_timestamp: block.timestamp,
                    tx_hash: format!("0x{:064x}", number * 100 + i as u64),
                    log_index: i as u64,
                    address: "0x00".into(),
                },
                event: event.clone(),
            })
            .collect();
        db.store
            .apply_batch(&Batch {
                chain_id: CHAIN,
                expected_cursor: number - 1,
                blocks: vec![block],
                logs: logs.clone(),
            })
            .await?;
        for log in logs {
            events.send(log)?;
            // Delivered to clients only after the cache dropped what the event changes.
            heard.recv().await?;
        }
        Ok(())
    };
    apply(1, before).await?;
    let (_, task) = call(&app, "GET", "/api/board/tasks/1", None).await;
    assert_eq!(task["claims"], json!([]), "{task}");
    let (_, community) = call(&app, "GET", "/api/communities/1", None).await;
    let (_, members) = call(&app, "GET", "/api/communities/1/members", None).await;
    assert_eq!(members["members"].as_array().map(Vec::len), Some(2));

    apply(2, &after[..2]).await?; // WORKER accepts and submits
    let (_, task) = call(&app, "GET", "/api/board/tasks/1", None).await;
    assert_eq!(task["claims"][0]["state"], "submitted", "the cached page was dropped: {task}");
    let (_, again) = call(&app, "GET", "/api/communities/1", None).await;
    assert_eq!(again, community, "nothing about the community changed");
    apply(
        3,
        &[MarketEvent::Community(CommunityEvent::MemberJoined {
            community_id: 1,
            account: SECOND.into(),
            member_count: 3,
        })],
    )
    .await?;
    let (_, community) = call(&app, "GET", "/api/communities/1", None).await;
    assert_eq!(community["community"]["memberCount"], 3, "{community}");
    let (_, members) = call(&app, "GET", "/api/communities/1/members", None).await;
    assert_eq!(members["members"].as_array().map(Vec::len), Some(3), "{members}");

    // A reorg drops block 3 (the join): no log replaces it, so the indexer's announcement must.
    let ancestor = BlockRef { number: 2, hash: "0x02".into(), parent_hash: "0x01".into(), timestamp: 1_700_000_002 };
    assert_eq!(db.store.rollback_to(CHAIN, &ancestor).await?, 1);
    let (reorgs, rx) = tokio::sync::broadcast::channel(1);
    agora_api::live::publish_reorgs(bus, rx, std::future::pending());
    reorgs.send(2)?;
    let gap = heard.recv().await?;
    assert!(matches!(gap, agora_bus::Delivery::Gap { .. }), "{gap:?}");
    let (_, community) = call(&app, "GET", "/api/communities/1", None).await;
    assert_eq!(community["community"]["memberCount"], 2, "the cache was dropped: {community}");
    let (_, members) = call(&app, "GET", "/api/communities/1/members", None).await;
    assert_eq!(members["members"].as_array().map(Vec::len), Some(2), "{members}");
    db.finish().await?;
    Ok(())
}
