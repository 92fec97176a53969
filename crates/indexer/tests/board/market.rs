//! The community task market's logs on anvil, from the real TaskBoard, Communities and points
//! tokens through the indexer into the board and community tables, on both databases; every row
//! checked against the contracts' getters, before and after a reorg that replaces a points transfer.

use agora_chain::bindings::{Communities, CommunityPoints, ITaskBoard, MarketToken, TaskBoard};
use agora_chain::deploy::Deployments;
use agora_chain::testing::{BUYER, OPERATOR, OWNER, PROVIDER, TestChain, send};
use agora_indexer::Step;
use agora_store::testing::TestDb;
use agora_store::{BoardClaimState, BoardTaskState, Store};
use alloy::primitives::aliases::{U40, U96};
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::sol_types::SolCall;

use super::{Chain, head, indexer};

const WORKER_B: usize = 4;
const WORKER_C: usize = 5;

/// The contract's `TaskState` and `ClaimState` numbering.
fn task_state(s: BoardTaskState) -> u8 {
    match s {
        BoardTaskState::Open => 1,
        BoardTaskState::Cancelled => 2,
    }
}

fn claim_state(s: BoardClaimState) -> u8 {
    use BoardClaimState::*;
    match s {
        Working => 1,
        Submitted => 2,
        Rejected => 3,
        Disputed => 4,
        Approved => 5,
        Resolved => 6,
        Removed => 7,
        Closed => 8,
    }
}

/// Every task, claim, community, admin, member, budget and balance the store holds equals what the
/// contracts answer.
async fn matches_the_chain(s: &Store, d: &Deployments, p: &DynProvider, accounts: &[Address]) -> anyhow::Result<()> {
    let (chain_id, board_at) = (d.chain_id, d.task_board.expect("board"));
    let board = TaskBoard::new(board_at, p.clone());
    let communities = Communities::new(d.communities.expect("communities"), p.clone());
    let count = board.taskCount().call().await?.to::<u64>();
    let rows = s.board_tasks(chain_id, Default::default(), 100, 0).await?;
    assert_eq!(rows.len() as u64, count, "every task");
    for row in rows {
        let t = board.getTask(U256::from(row.task_id)).call().await?;
        let on_chain = (
            t.publisher,
            t.communityId,
            t.token,
            U256::from(t.rewardPerSlot),
            U256::from(t.points),
            u64::from(t.slots),
            (u64::from(t.working), u64::from(t.active), u64::from(t.settled)),
            t.deadline.to::<u64>(),
            (u64::from(t.reviewWindow), u64::from(t.workTimeout), u64::from(t.maxRevisions)),
            t.arbiter,
            (t.state, t.submitted),
        );
        let stored = (
            row.publisher,
            row.community_id.unwrap_or(0),
            row.token,
            row.reward_per_slot,
            row.points,
            row.slots,
            (row.working, row.active, row.settled),
            row.deadline,
            (row.review_window, row.work_timeout, row.max_revisions),
            row.arbiter,
            (task_state(row.state), row.submitted),
        );
        assert_eq!(stored, on_chain, "task {}", row.task_id);
        assert_eq!(row.reward, row.reward_per_slot * U256::from(row.slots));
        let free = board.freeSlots(U256::from(row.task_id)).call().await?;
        let now = p.get_block(alloy::eips::BlockId::latest()).await?.expect("head").header.timestamp;
        let open = row.state == BoardTaskState::Open && now < row.deadline;
        assert_eq!(if open { row.free_slots } else { 0 }, u64::from(free), "free slots of task {}", row.task_id);
        for account in accounts {
            let c = board.getClaim(U256::from(row.task_id), *account).call().await?;
            let stored = s.board_claim(chain_id, row.task_id, *account).await?;
            match stored {
                None => assert_eq!(c.state, 0, "no claim of {account} on task {}", row.task_id),
                Some(claim) => assert_eq!(
                    (claim_state(claim.state), claim.revisions, claim.accepted_at, claim.since),
                    (c.state, u64::from(c.revisions), c.acceptedAt.to::<u64>(), c.since.to::<u64>()),
                    "claim of {account} on task {}",
                    row.task_id
                ),
            }
        }
    }
    let n = communities.communityCount().call().await?.to::<u64>();
    for id in 1..=n {
        let row = s.community(chain_id, id).await?.expect("community");
        let c = communities.getCommunity(U256::from(id)).call().await?;
        let pending = (c.pendingOwner != Address::ZERO).then_some(c.pendingOwner);
        assert_eq!(
            (row.owner, row.pending_owner, row.arbiter, row.points_token, row.member_count),
            (c.owner, pending, c.arbiter, c.points, u64::from(c.memberCount)),
            "community {id}"
        );
        assert_eq!((row.name.as_str(), row.metadata_uri.as_str()), (c.name.as_str(), c.metadataUri.as_str()));
        let points = CommunityPoints::new(c.points, p.clone());
        assert_eq!(row.points_supply, points.totalSupply().call().await?, "supply of community {id}");
        assert_eq!(row.transfers_enabled, points.transfersEnabled().call().await?);
        let budget = communities.mintBudget(U256::from(id), board_at).call().await?;
        let minters = s.community_minters(chain_id, id).await?;
        let stored = minters.iter().find(|m| m.minter == board_at).map(|m| (m.allowance, m.reserved));
        let on_chain = (U256::from(budget.allowance), U256::from(budget.reserved));
        assert_eq!(stored.unwrap_or_default(), on_chain, "the board's budget in community {id}");
        for account in accounts {
            let at = U256::from(id);
            assert_eq!(
                s.is_community_admin(chain_id, id, *account).await?,
                communities.isAdmin(at, *account).call().await?
            );
            assert_eq!(
                s.is_community_member(chain_id, id, *account).await?,
                communities.isMember(at, *account).call().await?
            );
            let balance = points.balanceOf(*account).call().await?;
            assert_eq!(s.community_points_of(chain_id, id, *account).await?, balance, "{account}'s points in {id}");
        }
    }
    Ok(())
}

/// Create a community, join, appoint an admin, mint points, give the board a budget; tasks in ETH
/// with points (approve; reject, revise, reject, dispute, resolve; refund after the deadline) and in
/// MarketToken (cancel before any submission; approve, then refund after the deadline); points
/// transfers turned on and a transfer — then a reorg replacing that transfer with a smaller one.
#[tokio::test]
async fn the_task_board_is_indexed() -> anyhow::Result<()> {
    let tc = TestChain::start().await?;
    let (board_at, communities_at) = (tc.d.task_board.expect("board"), tc.d.communities.expect("communities"));
    let (owner, admin, a, b, c) =
        (tc.address(OWNER), tc.address(PROVIDER), tc.address(BUYER), tc.address(WORKER_B), tc.address(WORKER_C));
    let arbiter = tc.address(OPERATOR);
    let board = |account: usize| TaskBoard::new(board_at, tc.provider(account));
    let community = |account: usize| Communities::new(communities_at, tc.provider(account));
    let now = tc.provider(OWNER).get_block(alloy::eips::BlockId::latest()).await?.expect("head").header.timestamp;
    let deadline = now + 1_000;

    // The community.
    let r = send(community(OWNER).createCommunity("Makers".into(), "MKR".into(), "ipfs://c".into(), arbiter)).await?;
    let created = r.decoded_log::<Communities::CommunityCreated>().expect("CommunityCreated").data;
    let (id, points_at) = (created.communityId, created.points);
    send(community(BUYER).join(id)).await?;
    send(community(WORKER_B).join(id)).await?;
    send(community(WORKER_C).join(id)).await?;
    send(community(WORKER_C).leave(id)).await?;
    send(community(OWNER).addAdmin(id, admin)).await?;
    send(community(PROVIDER).mint(id, a, U256::from(30), B256::repeat_byte(1))).await?;
    send(community(OWNER).setMinterAllowance(id, board_at, 100)).await?;
    send(community(OWNER).setMetadataUri(id, "ipfs://c2".into())).await?;

    let params = |token: Address, reward: u64, slots: u16, community_id: u64, points: u64| ITaskBoard::TaskParams {
        token,
        reward: U96::from(reward),
        slots,
        communityId: community_id,
        points: U96::from(points),
        deadline: U40::from(deadline),
        reviewWindow: 600,
        workTimeout: 100,
        maxRevisions: 1,
        spec: "ipfs://bafkreispec".into(),
    };
    let terms = |per_slot: u64| (U96::from(per_slot), U40::from(deadline));

    // Task 1, ETH with points: three slots of 100.
    send(board(OWNER).publish(params(Address::ZERO, 300, 3, 1, 5)).value(U256::from(300))).await?;
    let t1 = U256::from(1);
    let (per, dl) = terms(100);
    send(board(BUYER).accept(t1, per, dl)).await?;
    send(board(WORKER_B).accept(t1, per, dl)).await?;
    send(board(BUYER).submit(t1, "ipfs://work-a".into())).await?;
    send(board(OWNER).approve(t1, a)).await?;
    send(board(WORKER_B).submit(t1, "ipfs://work-b".into())).await?;
    send(board(OWNER).reject(t1, b, "missing tests".into())).await?;
    send(board(WORKER_B).submit(t1, "ipfs://work-b2".into())).await?;
    send(board(OWNER).reject(t1, b, "still missing".into())).await?;
    send(board(WORKER_B).openDispute(t1, "they are there".into())).await?;
    send(board(OPERATOR).resolveDispute(t1, b, 6_000)).await?;

    // Task 2, MarketToken without a community: a worker, then cancelled before any submission.
    let token = tc.d.market_token;
    tc.mint(&[owner], U256::from(1_000)).await?;
    send(MarketToken::new(token, tc.provider(OWNER)).approve(board_at, U256::from(1_000))).await?;
    send(board(OWNER).publish(params(token, 50, 1, 0, 0))).await?;
    let (per, dl) = terms(50);
    send(board(WORKER_C).accept(U256::from(2), per, dl)).await?;
    send(board(OWNER).cancel(U256::from(2))).await?;

    // Task 3, MarketToken in the community: one slot approved, the other refunded after the deadline.
    send(board(OWNER).publish(params(token, 40, 2, 1, 0))).await?;
    let (per, dl) = terms(20);
    send(board(WORKER_C).accept(U256::from(3), per, dl)).await?;
    send(board(WORKER_C).submit(U256::from(3), "ipfs://work-c".into())).await?;
    send(board(OWNER).approve(U256::from(3), c)).await?;
    let p = tc.provider(OWNER);
    p.raw_request::<_, serde_json::Value>("evm_increaseTime".into(), (1_001u64,)).await?;
    send(board(PROVIDER).refund(t1)).await?;
    send(board(PROVIDER).refund(U256::from(3))).await?;

    // Transfers on, and one transfer.
    send(community(OWNER).setPointsTransfers(id, true)).await?;
    send(CommunityPoints::new(points_at, tc.provider(BUYER)).transfer(b, U256::from(7))).await?;

    let accounts = [owner, admin, a, b, c, arbiter];
    let d = tc.d.clone();
    let chain =
        Chain { provider: tc.provider(PROVIDER), buyer: tc.provider(BUYER), buyer_addr: a, anvil: tc.anvil, d: tc.d };
    let dbs = TestDb::both().await?;
    for db in &dbs {
        indexer(&chain, db).sync_to(head(&chain).await?).await?;
        let (s, chain_id, label) = (&db.store, d.chain_id, db.label);
        matches_the_chain(s, &d, &p, &accounts).await.map_err(|e| e.context(label))?;
        let t1 = s.board_task(chain_id, 1).await?.expect("task 1");
        assert_eq!(
            (t1.paid_to_workers, t1.refunded, t1.points_minted),
            (U256::from(160), U256::from(140), U256::from(8))
        );
        let t2 = s.board_task(chain_id, 2).await?.expect("task 2");
        assert_eq!((t2.state, t2.refunded, t2.community_id), (BoardTaskState::Cancelled, U256::from(50), None));
        let t3 = s.board_task(chain_id, 3).await?.expect("task 3");
        assert_eq!((t3.paid_to_workers, t3.refunded), (U256::from(20), U256::from(20)));
        let timeline: Vec<_> = s.board_task_timeline(chain_id, 1).await?.into_iter().map(|e| e.event.kind()).collect();
        assert_eq!(timeline.len(), 12, "{timeline:?}");
        let leaders: Vec<_> =
            s.community_leaderboard(chain_id, 1, 10, 0).await?.into_iter().map(|r| (r.account, r.balance)).collect();
        assert_eq!(leaders, [(a, U256::from(28)), (b, U256::from(10))], "30 + 5 - 7 and 3 + 7");
        let members = s.community_members(chain_id, 1, 10, 0).await?;
        assert_eq!(members.iter().map(|m| m.account).collect::<Vec<_>>(), [owner, a, b]);
    }

    // A reorg replaces the block of the transfer with one moving 2 points instead.
    let transfer = CommunityPoints::transferCall { to: b, value: U256::from(2) };
    let tx = serde_json::json!({
        "from": a,
        "to": points_at,
        "data": alloy::primitives::Bytes::from(transfer.abi_encode()),
        "gas": "0x100000",
    });
    p.raw_request::<_, serde_json::Value>("anvil_reorg".into(), (1u64, vec![(tx, 0u64)])).await?;
    for db in dbs {
        let ix = indexer(&chain, &db);
        let first = ix.step().await?;
        assert!(matches!(first, Step::Reorg { removed_logs: 1, .. }), "{}: {first:?}", db.label);
        ix.sync_to(head(&chain).await?).await?;
        matches_the_chain(&db.store, &d, &p, &accounts).await.map_err(|e| e.context(db.label))?;
        assert_eq!(db.store.community_points_of(d.chain_id, 1, b).await?, U256::from(5), "3 + 2");
        db.finish().await?;
    }
    chain.anvil.stop().await?;
    Ok(())
}
