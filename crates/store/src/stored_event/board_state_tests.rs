//! The board and community tables derived from [`board_history`] and rebuilt after a reorg, on both
//! backends, and the reads the API serves from them.

use alloy::primitives::{Address, U256};

use super::board_tests::board_history;
use crate::testing::TestDb;
use crate::{
    Batch, BlockRef, BoardClaimState, BoardEvent, BoardTaskFilter, BoardTaskState, CommunityFilter, IndexedLog,
    LogMeta, Store,
};

const CHAIN: u64 = 31337;

fn block(n: u64) -> BlockRef {
    BlockRef {
        number: n,
        hash: format!("0x{n:064x}"),
        parent_hash: format!("0x{:064x}", n.saturating_sub(1)),
        timestamp: 1_700_000_000 + n,
    }
}

fn addr(s: &str) -> Address {
    s.parse().expect("test address")
}

/// Everything the reads give, to compare a rebuild with the original.
#[derive(Debug, PartialEq)]
struct State {
    tasks: Vec<crate::BoardTaskRow>,
    claims: Vec<crate::BoardClaimRow>,
    communities: Vec<crate::CommunityRow>,
    members: Vec<crate::CommunityMemberRow>,
    admins: Vec<crate::CommunityMemberRow>,
    leaderboard: Vec<crate::CommunityPointsRow>,
    minters: Vec<crate::CommunityMinterRow>,
    arbiter: Option<Address>,
}

async fn state(s: &Store) -> anyhow::Result<State> {
    let tasks = s.board_tasks(CHAIN, BoardTaskFilter::default(), 100, 0).await?;
    let mut claims = Vec::new();
    for t in &tasks {
        claims.extend(s.board_claims(CHAIN, t.task_id).await?);
    }
    let communities = s.communities(CHAIN, CommunityFilter::default(), 100, 0).await?;
    let (mut members, mut admins, mut leaderboard, mut minters) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for c in &communities {
        members.extend(s.community_members(CHAIN, c.community_id, 100, 0).await?);
        admins.extend(s.community_admins(CHAIN, c.community_id).await?);
        leaderboard.extend(s.community_leaderboard(CHAIN, c.community_id, 100, 0).await?);
        minters.extend(s.community_minters(CHAIN, c.community_id).await?);
    }
    let arbiter = s.board_platform_arbiter(CHAIN).await?;
    Ok(State { tasks, claims, communities, members, admins, leaderboard, minters, arbiter })
}

#[tokio::test]
async fn the_board_is_derived_from_its_logs_and_rebuilt_after_a_reorg() -> anyhow::Result<()> {
    for db in TestDb::both().await? {
        let label = db.label;
        board(&db.store).await.map_err(|e| e.context(format!("backend {label}")))?;
        db.finish().await?;
    }
    Ok(())
}

async fn board(s: &Store) -> anyhow::Result<()> {
    let events = board_history();
    let blocks: Vec<_> = (0..=events.len() as u64).map(block).collect();
    let logs: Vec<_> = events
        .into_iter()
        .zip(&blocks[1..])
        .map(|(event, b)| IndexedLog {
            meta: LogMeta {
                block_number: b.number,
                block_hash: b.hash.clone(),
                block_timestamp: b.timestamp,
                tx_hash: format!("0x{:064x}", b.number + 0xb0a),
                log_index: 0,
                address: "0x8a791620dd6260079bf849dc5567adc3f2fdc318".into(),
            },
            event,
        })
        .collect();
    let cut = 22; // task 1: one approval, one worker rejected twice; nothing refunded yet
    s.init_cursor(CHAIN, &blocks[0]).await?;
    let first =
        Batch { chain_id: CHAIN, expected_cursor: 0, blocks: blocks[1..=cut].to_vec(), logs: logs[..cut].to_vec() };
    s.apply_batch(&first).await?;
    let early = state(s).await?;
    let rest = Batch {
        chain_id: CHAIN,
        expected_cursor: cut as u64,
        blocks: blocks[cut + 1..].to_vec(),
        logs: logs[cut..].to_vec(),
    };
    s.apply_batch(&rest).await?;
    let late = state(s).await?;
    let (owner, admin, a, b) = (
        addr("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"),
        addr("0x70997970c51812dc3a010c7d01b50e0d17dc79c8"),
        addr("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc"),
        addr("0x90f79bf6eb2c4f870365e785982e1f101e93b906"),
    );
    let (board, token) =
        (addr("0x8a791620dd6260079bf849dc5567adc3f2fdc318"), addr("0x5fbdb2315678afecb367f032d93f642f64180aa3"));
    assert_eq!(late.arbiter, Some(owner));

    // Task 1: three slots of 100 — one approved, one decided 60/40, one refunded after the deadline.
    let t1 = s.board_task(CHAIN, 1).await?.expect("task 1");
    assert_eq!((t1.publisher, t1.community_id, t1.token, t1.state), (owner, Some(1), token, BoardTaskState::Open));
    assert_eq!((t1.reward, t1.reward_per_slot, t1.points), (U256::from(300), U256::from(100), U256::from(5)));
    assert_eq!((t1.slots, t1.free_slots, t1.working, t1.active, t1.settled), (3, 0, 0, 0, 3));
    assert_eq!((t1.paid_to_workers, t1.refunded, t1.points_minted), (U256::from(160), U256::from(140), U256::from(8)));
    assert_eq!(t1.paid_to_workers + t1.refunded, t1.reward, "the escrow is accounted for");
    assert!(t1.submitted);
    let claims = s.board_claims(CHAIN, 1).await?;
    let summary: Vec<_> = claims.iter().map(|c| (c.worker, c.state, c.revisions, c.paid, c.points)).collect();
    assert_eq!(
        summary,
        [
            (a, BoardClaimState::Approved, 0, U256::from(100), U256::from(5)),
            (b, BoardClaimState::Resolved, 1, U256::from(60), U256::from(3))
        ],
        "in accept order"
    );
    let decided = &claims[1];
    assert_eq!((decided.worker_bps, decided.publisher_share), (Some(6000), U256::from(40)));
    assert_eq!(decided.deliverable.as_deref(), Some("ipfs://bafkreiwork11"));
    assert_eq!(decided.reject_reason.as_deref(), Some("still missing"));
    assert_eq!((decided.revisions_left, decided.dispute_reason.as_deref()), (Some(0), Some("they are there")));
    assert_eq!((claims[0].approved_by, claims[0].lapsed), (Some(owner), Some(false)));
    assert_eq!(claims[0].accepted_at, 1_700_000_013, "the block's time, as the contract records it");

    // Task 2: a worker removed, the deadline extended, cancelled before any submission.
    let t2 = s.board_task(CHAIN, 2).await?.expect("task 2");
    assert_eq!(
        (t2.state, t2.community_id, t2.token, t2.arbiter),
        (BoardTaskState::Cancelled, None, Address::ZERO, owner)
    );
    assert_eq!((t2.deadline, t2.settled, t2.working, t2.refunded), (1_700_000_125, 1, 0, U256::from(50)));
    let c2: Vec<_> = s.board_claims(CHAIN, 2).await?.into_iter().map(|c| (c.worker, c.state)).collect();
    assert_eq!(c2, [(a, BoardClaimState::Removed), (b, BoardClaimState::Working)], "as getClaim has them");

    // Task 3: a lapsed approval by a third party; a rejection closed before the deadline frees the slot.
    let t3 = s.board_task(CHAIN, 3).await?.expect("task 3");
    assert_eq!((t3.free_slots, t3.active, t3.settled, t3.refunded), (1, 0, 1, U256::ZERO));
    let lapsed = s.board_claim(CHAIN, 3, a).await?.expect("a's claim");
    assert_eq!((lapsed.state, lapsed.approved_by, lapsed.lapsed), (BoardClaimState::Approved, Some(b), Some(true)));
    assert_eq!(s.board_claim(CHAIN, 3, b).await?.map(|c| c.state), Some(BoardClaimState::Closed));
    assert_eq!(s.board_claim(CHAIN, 3, owner).await?, None);

    // Lists.
    let ids = |rows: Vec<crate::BoardTaskRow>| rows.into_iter().map(|t| t.task_id).collect::<Vec<_>>();
    let list = |f: BoardTaskFilter, limit: u32, offset: u64| async move {
        s.board_tasks(CHAIN, f, limit, offset).await.map(ids)
    };
    assert_eq!(list(BoardTaskFilter::default(), 10, 0).await?, [3, 2, 1]);
    assert_eq!(list(BoardTaskFilter::default(), 1, 1).await?, [2], "paged");
    assert_eq!(list(BoardTaskFilter { community_id: Some(1), ..Default::default() }, 10, 0).await?, [3, 1]);
    assert_eq!(
        list(BoardTaskFilter { state: Some(BoardTaskState::Cancelled), ..Default::default() }, 10, 0).await?,
        [2]
    );
    assert_eq!(list(BoardTaskFilter { publisher: Some(owner), ..Default::default() }, 10, 0).await?, [3, 2, 1]);
    assert_eq!(list(BoardTaskFilter { worker: Some(b), ..Default::default() }, 10, 0).await?, [3, 2, 1]);
    assert_eq!(list(BoardTaskFilter { token: Some(Address::ZERO), ..Default::default() }, 10, 0).await?, [2]);
    let both = BoardTaskFilter { worker: Some(a), token: Some(token), community_id: Some(1), ..Default::default() };
    assert_eq!(list(both, 10, 0).await?, [3, 1]);
    assert!(list(BoardTaskFilter { publisher: Some(a), ..Default::default() }, 10, 0).await?.is_empty());
    let mine: Vec<_> = s.board_claims_of(CHAIN, a, 10, 0).await?.into_iter().map(|c| c.task_id).collect();
    assert_eq!(mine, [3, 2, 1]);

    // The timeline of task 1, decoded, in chain order.
    let timeline = s.board_task_timeline(CHAIN, 1).await?;
    let kinds: Vec<_> = timeline.iter().map(|e| e.event.kind()).collect();
    assert_eq!(kinds.first(), Some(&"BoardTaskPublished"));
    assert_eq!(kinds.last(), Some(&"BoardTaskRefunded"));
    assert_eq!(kinds.len(), 12);
    assert!(matches!(&timeline[3].event, BoardEvent::WorkSubmitted { revision: 0, .. }));

    // Communities.
    let c1 = s.community(CHAIN, 1).await?.expect("community 1");
    assert_eq!((c1.owner, c1.pending_owner, c1.name.as_str()), (admin, None, "Makers — 创客"));
    assert_eq!(
        (c1.metadata_uri.as_str(), c1.transfers_enabled, c1.member_count),
        ("ipfs://bafkreicommunity2", true, 2)
    );
    assert_eq!(c1.points_supply, U256::from(38));
    let members: Vec<_> = s.community_members(CHAIN, 1, 10, 0).await?.into_iter().map(|m| m.account).collect();
    assert_eq!(members, [owner, admin], "in join order; the one who left is gone");
    assert_eq!(s.community_members(CHAIN, 1, 1, 1).await?.len(), 1);
    assert!(s.community_admins(CHAIN, 1).await?.is_empty(), "the appointed admin was removed");
    assert!(s.is_community_admin(CHAIN, 1, admin).await?, "the owner is an admin by the contract's rule");
    assert!(!s.is_community_admin(CHAIN, 1, owner).await?);
    assert!(s.is_community_member(CHAIN, 1, owner).await? && !s.is_community_member(CHAIN, 1, a).await?);
    let board_rows: Vec<_> = late.leaderboard.iter().map(|p| (p.community_id, p.account, p.balance)).collect();
    assert_eq!(board_rows, [(1, a, U256::from(28)), (1, b, U256::from(10))], "most points first");
    assert_eq!(s.community_points_of(CHAIN, 1, b).await?, U256::from(10));
    assert_eq!(s.community_points_of(CHAIN, 2, b).await?, U256::ZERO);
    assert_eq!(s.account_points(CHAIN, a).await?.iter().map(|p| p.balance).collect::<Vec<_>>(), [U256::from(28)]);
    let budget: Vec<_> = late.minters.iter().map(|m| (m.minter, m.allowance, m.reserved)).collect();
    assert_eq!(budget, [(board, U256::from(92), U256::ZERO)], "allowance + reserved + minted = 100");
    let owned: Vec<_> = s
        .communities(CHAIN, CommunityFilter { owner: Some(b), ..Default::default() }, 10, 0)
        .await?
        .into_iter()
        .map(|c| c.community_id)
        .collect();
    assert_eq!(owned, [2]);
    let joined = s.communities(CHAIN, CommunityFilter { member: Some(owner), ..Default::default() }, 10, 0).await?;
    assert_eq!(joined.iter().map(|c| c.community_id).collect::<Vec<_>>(), [1]);
    let tokens = s.community_points_tokens(CHAIN).await?;
    assert_eq!(tokens.iter().map(|(_, id)| *id).collect::<Vec<_>>(), [1, 2]);

    // Rebuilt from the stored logs, whole or up to a cut.
    let last = blocks.len() - 1;
    assert_eq!(s.rollback_to(CHAIN, &blocks[last]).await?, 0);
    assert_eq!(state(s).await?, late, "rebuilt from every row");
    assert_eq!(s.rollback_to(CHAIN, &blocks[cut]).await?, (last - cut) as u64);
    assert_eq!(state(s).await?, early, "rebuilt from the rows before the cut");
    assert_eq!(early.tasks.len(), 1);
    assert_eq!((early.tasks[0].active, early.tasks[0].settled, early.tasks[0].free_slots), (1, 1, 1));
    assert_eq!(early.claims[1].state, BoardClaimState::Rejected);
    let early_points: Vec<_> = early.leaderboard.iter().map(|p| (p.account, p.balance)).collect();
    assert_eq!(early_points, [(a, U256::from(35))]);
    assert_eq!(early.minters[0].reserved, U256::from(10), "15 reserved, 5 minted from it");
    s.apply_batch(&rest).await?;
    assert_eq!(state(s).await?, late);
    Ok(())
}
