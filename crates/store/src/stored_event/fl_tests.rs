//! FederatedMarket's events: their stored encoding pinned, and the `fl_*` tables derived from a
//! fixed history and rebuilt after a reorg, on both backends.

use std::collections::BTreeSet;

use alloy::primitives::{Address, B256, U256};
use sqlx::Row;

use super::fixture::fl_history;
use super::{decode, encode};
use crate::testing::TestDb;
use crate::{Batch, BlockRef, FlEvent, FlMode, FlTaskFilter, FlTaskState, IndexedLog, LogMeta, MarketEvent, Store};

/// [`fl_history`] in version 1. Never edit these: a change to the encoding is a new version.
const V1_FL: [&str; 38] = [
    r#"{"v":1,"kind":"FlTaskCreated","task_id":1,"investor":"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266","coordinator":"0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc","mode":"RewardPool","token":"0x0000000000000000000000000000000000000000","pool":"1000","prediction_fee":"5","spec":"ipfs://bafkreispec1"}"#,
    r#"{"v":1,"kind":"FlTaskTerms","task_id":1,"block_token":"0x5fbdb2315678afecb367f032d93f642f64180aa3","block_price":"10","total_blocks":100,"min_participants":2,"start_deadline":1700100000,"finish_deadline":1700200000}"#,
    r#"{"v":1,"kind":"FlMemberJoined","task_id":1,"account":"0x976ea74026e726554db657fa54763abd0c3a0aa9","members":1}"#,
    r#"{"v":1,"kind":"FlMemberJoined","task_id":1,"account":"0x14dc79964da2c08b23698b3d3cc7ca32193d9955","members":2}"#,
    r#"{"v":1,"kind":"FlBlocksBought","task_id":1,"buyer":"0x976ea74026e726554db657fa54763abd0c3a0aa9","count":3,"cost":"30","blocks_sold":3}"#,
    r#"{"v":1,"kind":"FlMemberJoined","task_id":1,"account":"0x90f79bf6eb2c4f870365e785982e1f101e93b906","members":3}"#,
    r#"{"v":1,"kind":"FlBlocksBought","task_id":1,"buyer":"0x90f79bf6eb2c4f870365e785982e1f101e93b906","count":2,"cost":"20","blocks_sold":5}"#,
    r#"{"v":1,"kind":"FlMemberLeft","task_id":1,"account":"0x90f79bf6eb2c4f870365e785982e1f101e93b906","members":2,"refunded":"20"}"#,
    r#"{"v":1,"kind":"FlTaskStarted","task_id":1,"members":2,"block_payments":"30"}"#,
    r#"{"v":1,"kind":"FlBlocksBought","task_id":1,"buyer":"0x14dc79964da2c08b23698b3d3cc7ca32193d9955","count":1,"cost":"10","blocks_sold":4}"#,
    r#"{"v":1,"kind":"FlRewardsPosted","task_id":1,"root":"0x5555555555555555555555555555555555555555555555555555555555555555","record_cid":"bafyreirecord1","claim_deadline":1707876000}"#,
    r#"{"v":1,"kind":"FlRewardClaimed","task_id":1,"account":"0x976ea74026e726554db657fa54763abd0c3a0aa9","amount":"600"}"#,
    r#"{"v":1,"kind":"FlPredictionRequested","task_id":1,"request_id":1,"payer":"0x90f79bf6eb2c4f870365e785982e1f101e93b906","fee":"5","input_hash":"0x6666666666666666666666666666666666666666666666666666666666666666"}"#,
    r#"{"v":1,"kind":"FlPredictionFeesPaid","task_id":1,"payer":"0x70997970c51812dc3a010c7d01b50e0d17dc79c8","count":2,"amount":"10"}"#,
    r#"{"v":1,"kind":"FlUnclaimedReclaimed","task_id":1,"amount":"400"}"#,
    r#"{"v":1,"kind":"FlTaskCreated","task_id":2,"investor":"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266","coordinator":"0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc","mode":"Shareholding","token":"0x5fbdb2315678afecb367f032d93f642f64180aa3","pool":"0","prediction_fee":"1000000","spec":"ipfs://bafkreispec2"}"#,
    r#"{"v":1,"kind":"FlTaskTerms","task_id":2,"block_token":"0x5fbdb2315678afecb367f032d93f642f64180aa3","block_price":"0","total_blocks":10,"min_participants":1,"start_deadline":1700100000,"finish_deadline":1700200000}"#,
    r#"{"v":1,"kind":"FlMemberJoined","task_id":2,"account":"0x976ea74026e726554db657fa54763abd0c3a0aa9","members":1}"#,
    r#"{"v":1,"kind":"FlMemberJoined","task_id":2,"account":"0x14dc79964da2c08b23698b3d3cc7ca32193d9955","members":2}"#,
    r#"{"v":1,"kind":"FlTaskStarted","task_id":2,"members":2,"block_payments":"0"}"#,
    r#"{"v":1,"kind":"FlMemberLeft","task_id":2,"account":"0x14dc79964da2c08b23698b3d3cc7ca32193d9955","members":1,"refunded":"0"}"#,
    r#"{"v":1,"kind":"FlSharesAssigned","task_id":2,"account":"0x976ea74026e726554db657fa54763abd0c3a0aa9","shares":"700000000000000000"}"#,
    r#"{"v":1,"kind":"FlSharesAssigned","task_id":2,"account":"0x14dc79964da2c08b23698b3d3cc7ca32193d9955","shares":"300000000000000000"}"#,
    r#"{"v":1,"kind":"FlSharesPosted","task_id":2,"holders":2,"record_cid":"bafyreirecord2"}"#,
    r#"{"v":1,"kind":"FlPredictionRequested","task_id":2,"request_id":2,"payer":"0x90f79bf6eb2c4f870365e785982e1f101e93b906","fee":"1000000","input_hash":"0x6666666666666666666666666666666666666666666666666666666666666666"}"#,
    r#"{"v":1,"kind":"FlSharesTransferred","task_id":2,"from":"0x976ea74026e726554db657fa54763abd0c3a0aa9","to":"0x90f79bf6eb2c4f870365e785982e1f101e93b906","shares":"200000000000000000"}"#,
    r#"{"v":1,"kind":"FlDividendsWithdrawn","task_id":2,"account":"0x976ea74026e726554db657fa54763abd0c3a0aa9","amount":"700000"}"#,
    r#"{"v":1,"kind":"FlTaskCreated","task_id":3,"investor":"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266","coordinator":"0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc","mode":"RewardPool","token":"0x0000000000000000000000000000000000000000","pool":"1","prediction_fee":"0","spec":"ipfs://bafkreispec3"}"#,
    r#"{"v":1,"kind":"FlTaskTerms","task_id":3,"block_token":"0x5fbdb2315678afecb367f032d93f642f64180aa3","block_price":"7","total_blocks":1,"min_participants":1,"start_deadline":1700100000,"finish_deadline":1700200000}"#,
    r#"{"v":1,"kind":"FlMemberJoined","task_id":3,"account":"0x14dc79964da2c08b23698b3d3cc7ca32193d9955","members":1}"#,
    r#"{"v":1,"kind":"FlBlocksBought","task_id":3,"buyer":"0x14dc79964da2c08b23698b3d3cc7ca32193d9955","count":1,"cost":"7","blocks_sold":1}"#,
    r#"{"v":1,"kind":"FlTaskCancelled","task_id":3,"by":"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266","state":"Cancelled","refunded":"1"}"#,
    r#"{"v":1,"kind":"FlBlockPaymentRefunded","task_id":3,"account":"0x14dc79964da2c08b23698b3d3cc7ca32193d9955","amount":"7"}"#,
    r#"{"v":1,"kind":"FlTaskCreated","task_id":4,"investor":"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266","coordinator":"0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc","mode":"Shareholding","token":"0x0000000000000000000000000000000000000000","pool":"0","prediction_fee":"1","spec":"ipfs://bafkreispec4"}"#,
    r#"{"v":1,"kind":"FlTaskTerms","task_id":4,"block_token":"0x5fbdb2315678afecb367f032d93f642f64180aa3","block_price":"0","total_blocks":1,"min_participants":1,"start_deadline":1700100000,"finish_deadline":1700200000}"#,
    r#"{"v":1,"kind":"FlMemberJoined","task_id":4,"account":"0x976ea74026e726554db657fa54763abd0c3a0aa9","members":1}"#,
    r#"{"v":1,"kind":"FlTaskStarted","task_id":4,"members":1,"block_payments":"0"}"#,
    r#"{"v":1,"kind":"FlTaskCancelled","task_id":4,"by":"0x90f79bf6eb2c4f870365e785982e1f101e93b906","state":"Abandoned","refunded":"0"}"#,
];

fn kinds(events: &[MarketEvent]) -> BTreeSet<&'static str> {
    events.iter().map(MarketEvent::kind).collect()
}

#[test]
fn every_fl_kind_round_trips_and_is_pinned() {
    let events = fl_history();
    // Every FlEvent variant, by the exhaustive `kind`.
    let all = kinds(&events);
    assert_eq!(all.len(), 17, "the fixture uses every FederatedMarket event: {all:?}");
    assert!(all.iter().all(|k| k.starts_with("Fl")));
    assert_eq!(events.len(), V1_FL.len());
    for (event, pinned) in events.iter().zip(V1_FL) {
        assert_eq!(encode(event), pinned);
        assert_eq!(decode(pinned).unwrap(), *event);
    }
}

#[test]
fn fl_kinds_refuse_what_they_do_not_hold() {
    for bad in [
        r#"{"v":1,"kind":"FlMemberJoined","task_id":1,"account":"0x00"}"#,
        r#"{"v":1,"kind":"FlMemberJoined","task_id":1,"account":"0x00","members":1,"extra":2}"#,
        r#"{"v":1,"kind":"FlTaskSplit","task_id":1}"#,
        r#"{"v":1,"kind":"Fl","task_id":1}"#,
        r#"{"v":1,"kind":"FlUnclaimedReclaimed","task_id":"1","amount":"1"}"#,
    ] {
        assert!(decode(bad).is_err(), "{bad} was read");
    }
    let started = MarketEvent::Fl(FlEvent::TaskStarted { task_id: 3, members: 2, block_payments: "0".into() });
    assert_eq!(started.subject(), "fl-task:3");
    assert_ne!(started.kind(), MarketEvent::TaskStarted { task_id: 3 }.kind(), "ComputeMarket's name is not reused");
}

const CHAIN: u64 = 31337;

fn block(n: u64) -> BlockRef {
    BlockRef {
        number: n,
        hash: format!("0x{n:064x}"),
        parent_hash: format!("0x{:064x}", n.saturating_sub(1)),
        timestamp: 1_700_000_000 + n,
    }
}

type FlState = (Vec<crate::FlTaskRow>, Vec<crate::FlMemberRow>, Vec<crate::FlPurchaseRow>, crate::FlAccountAssets);

async fn fl_state(s: &Store, someone: Address) -> anyhow::Result<FlState> {
    let tasks = s.fl_tasks(CHAIN, FlTaskFilter::default(), 100).await?;
    let (mut members, mut purchases) = (Vec::new(), Vec::new());
    for t in &tasks {
        members.extend(s.fl_members(CHAIN, t.task_id).await?);
        purchases.extend(s.fl_purchases(CHAIN, t.task_id, None).await?);
    }
    Ok((tasks, members, purchases, s.fl_account(CHAIN, someone).await?))
}

#[tokio::test]
async fn the_fl_market_is_derived_from_its_logs_and_rebuilt_after_a_reorg() -> anyhow::Result<()> {
    for db in TestDb::both().await? {
        let label = db.label;
        fl_market(&db.store).await.map_err(|e| e.context(format!("backend {label}")))?;
        db.finish().await?;
    }
    Ok(())
}

async fn fl_market(s: &Store) -> anyhow::Result<()> {
    let events = fl_history();
    let blocks: Vec<_> = (0..=events.len() as u64).map(block).collect();
    let logs: Vec<_> = events
        .into_iter()
        .zip(&blocks[1..])
        .map(|(event, b)| IndexedLog {
            meta: LogMeta {
                block_number: b.number,
                block_hash: b.hash.clone(),
                block_timestamp: b.timestamp,
                tx_hash: format!("0x{:064x}", b.number + 0xf00),
                log_index: 0,
                address: "0x8a791620dd6260079bf849dc5567adc3f2fdc318".into(),
            },
            event,
        })
        .collect();
    let cut = 10; // task 1 training, a purchase during training; not yet finished
    s.init_cursor(CHAIN, &blocks[0]).await?;
    let first =
        Batch { chain_id: CHAIN, expected_cursor: 0, blocks: blocks[1..=cut].to_vec(), logs: logs[..cut].to_vec() };
    s.apply_batch(&first).await?;
    let a: Address = "0x976ea74026e726554db657fa54763abd0c3a0aa9".parse()?;
    let b: Address = "0x14dc79964da2c08b23698b3d3cc7ca32193d9955".parse()?;
    let user: Address = "0x90f79bf6eb2c4f870365e785982e1f101e93b906".parse()?;
    let investor: Address = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266".parse()?;
    let early = fl_state(s, a).await?;
    let rest = Batch {
        chain_id: CHAIN,
        expected_cursor: cut as u64,
        blocks: blocks[cut + 1..].to_vec(),
        logs: logs[cut..].to_vec(),
    };
    s.apply_batch(&rest).await?;
    let late = fl_state(s, a).await?;
    let rows = sqlx::query("SELECT event FROM chain_logs WHERE chain_id = $1 ORDER BY block_number, log_index")
        .bind(CHAIN as i64)
        .fetch_all(s.pool())
        .await?;
    let stored: Vec<String> = rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?;
    assert_eq!(stored, V1_FL, "what is written");

    // The reward-pool task.
    let t1 = s.fl_task(CHAIN, 1).await?.expect("task 1");
    assert_eq!((t1.mode, t1.state, t1.investor), (FlMode::RewardPool, FlTaskState::Finished, investor));
    assert_eq!((t1.pool, t1.prediction_fee, t1.block_price), (U256::from(1000), U256::from(5), U256::from(10)));
    assert_eq!((t1.total_blocks, t1.blocks_sold, t1.min_participants, t1.members), (100, 4, 2, 2));
    assert_eq!(
        (t1.block_payments, t1.block_revenue),
        (Some(U256::from(30)), U256::from(40)),
        "30 at the start, 10 later"
    );
    assert_eq!((t1.rewards_root, t1.record_cid.as_deref()), (Some(B256::repeat_byte(0x55)), Some("bafyreirecord1")));
    assert_eq!(
        (t1.claimed, t1.reclaimed, t1.claim_deadline),
        (U256::from(600), Some(U256::from(400)), Some(1_707_876_000))
    );
    assert_eq!(t1.claimed + t1.reclaimed.unwrap(), t1.pool, "the pool is accounted for");
    let members = s.fl_members(CHAIN, 1).await?;
    let summary: Vec<_> = members.iter().map(|m| (m.account, m.active, m.blocks, m.escrowed)).collect();
    assert_eq!(
        summary,
        [(a, true, 3, U256::from(30)), (b, true, 1, U256::ZERO), (user, false, 0, U256::ZERO)],
        "in join order; the one who left before the start got its blocks' payment back"
    );
    let purchases = s.fl_purchases(CHAIN, 1, None).await?;
    let order: Vec<_> = purchases.iter().map(|p| (p.buyer, p.count, p.held, p.voided, p.blocks_sold)).collect();
    assert_eq!(order, [(a, 3, true, false, 3), (user, 2, true, true, 5), (b, 1, false, false, 4)], "chain order");
    assert_eq!(s.fl_purchases(CHAIN, 1, Some(b)).await?.len(), 1);
    let claims = s.fl_claims(CHAIN, 1).await?;
    assert_eq!(claims.iter().map(|c| (c.account, c.amount)).collect::<Vec<_>>(), [(a, U256::from(600))]);
    assert_eq!(s.fl_prediction_totals(CHAIN, 1).await?, (3, U256::from(15)), "one request, two fees forwarded");
    let provider: Address = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8".parse()?;
    let forwarded = s.fl_fee_balances(CHAIN, provider).await?;
    assert_eq!(
        forwarded.iter().map(|f| (f.task_id, f.recorded, f.forwarded, f.forwarded_amount)).collect::<Vec<_>>(),
        [(1, 0, 2, U256::from(10))],
        "what the fee receiver forwarded, with no prediction of this node's behind it"
    );
    assert!(s.fl_fee_balances(CHAIN, user).await?.is_empty(), "only the receiver's own payments count");

    // The shareholding task.
    let t2 = s.fl_task(CHAIN, 2).await?.expect("task 2");
    assert_eq!((t2.mode, t2.state, t2.holders, t2.members), (FlMode::Shareholding, FlTaskState::Finished, Some(2), 1));
    let shares: Vec<_> = s.fl_shares(CHAIN, 2).await?.into_iter().map(|h| (h.account, h.assigned, h.shares)).collect();
    let e17 = U256::from(100_000_000_000_000_000u64);
    assert_eq!(
        shares,
        [
            (a, e17 * U256::from(7), e17 * U256::from(5)),
            (b, e17 * U256::from(3), e17 * U256::from(3)),
            (user, U256::ZERO, e17 * U256::from(2))
        ],
        "most shares first; the receiver of a transfer was assigned none"
    );
    let sum = s.fl_shares(CHAIN, 2).await?.iter().fold(U256::ZERO, |acc, h| acc + h.shares);
    assert_eq!(sum, e17 * U256::from(10), "shares still sum to 10^18");
    let b_member = s.fl_members(CHAIN, 2).await?.into_iter().find(|m| m.account == b).expect("b");
    assert!(!b_member.active, "left during training");

    // The cancelled and the abandoned task.
    let t3 = s.fl_task(CHAIN, 3).await?.expect("task 3");
    assert_eq!(
        (t3.state, t3.cancelled_by, t3.pool_refunded),
        (FlTaskState::Cancelled, Some(investor), Some(U256::from(1)))
    );
    assert_eq!(s.fl_members(CHAIN, 3).await?[0].escrowed, U256::ZERO, "refunded");
    assert_eq!(s.fl_task(CHAIN, 4).await?.expect("task 4").state, FlTaskState::Abandoned);

    // Lists and an account's assets.
    let ids = |rows: Vec<crate::FlTaskRow>| rows.into_iter().map(|t| t.task_id).collect::<Vec<_>>();
    let filter = |f: FlTaskFilter| async move { s.fl_tasks(CHAIN, f, 100).await.map(ids) };
    assert_eq!(filter(FlTaskFilter::default()).await?, [4, 3, 2, 1]);
    assert_eq!(filter(FlTaskFilter { state: Some(FlTaskState::Finished), ..Default::default() }).await?, [2, 1]);
    assert_eq!(filter(FlTaskFilter { mode: Some(FlMode::Shareholding), ..Default::default() }).await?, [4, 2]);
    assert_eq!(filter(FlTaskFilter { member: Some(b), ..Default::default() }).await?, [3, 2, 1]);
    assert_eq!(filter(FlTaskFilter { investor: Some(investor), ..Default::default() }).await?, [4, 3, 2, 1]);
    assert_eq!(filter(FlTaskFilter { account: Some(user), ..Default::default() }).await?, [1]);
    assert!(filter(FlTaskFilter { investor: Some(a), ..Default::default() }).await?.is_empty());
    let assets = &late.3;
    assert_eq!(assets.memberships.iter().map(|m| m.task_id).collect::<Vec<_>>(), [4, 2, 1]);
    assert_eq!(assets.shares.iter().map(|h| (h.task_id, h.shares)).collect::<Vec<_>>(), [(2, e17 * U256::from(5))]);
    assert_eq!(assets.claims.len(), 1);
    assert_eq!(assets.dividends.iter().map(|d| d.amount).collect::<Vec<_>>(), [U256::from(700_000)]);
    let payer = s.fl_account(CHAIN, user).await?;
    assert_eq!(
        payer.predictions.iter().map(|p| (p.request_id, p.fee)).collect::<Vec<_>>(),
        [(2, U256::from(1_000_000)), (1, U256::from(5))]
    );
    let revenue = s.fl_account(CHAIN, investor).await?.revenue;
    let revenue: Vec<_> =
        revenue.iter().map(|r| (r.task_id, r.predictions, r.prediction_fees, r.block_revenue)).collect();
    assert_eq!(
        revenue,
        [
            (4, 0, U256::ZERO, U256::ZERO),
            (3, 0, U256::ZERO, U256::ZERO),
            (2, 0, U256::ZERO, U256::ZERO),
            (1, 3, U256::from(15), U256::from(40))
        ],
        "fees of the reward-pool task only (a request, and two forwarded at once): a shareholding task's go \
         to its shareholders"
    );

    // Rebuilt from the stored logs, whole or up to a cut.
    let last = blocks.len() - 1;
    assert_eq!(s.rollback_to(CHAIN, &blocks[last]).await?, 0);
    assert_eq!(fl_state(s, a).await?, late, "rebuilt from every row");
    assert_eq!(s.rollback_to(CHAIN, &blocks[cut]).await?, (last - cut) as u64);
    assert_eq!(fl_state(s, a).await?, early, "rebuilt from the rows before the cut");
    assert_eq!(early.0.len(), 1);
    assert_eq!(early.0[0].state, FlTaskState::Training);
    assert!(early.3.claims.is_empty());
    s.apply_batch(&rest).await?;
    assert_eq!(fl_state(s, a).await?, late);
    Ok(())
}
