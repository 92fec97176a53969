//! The indexer against a real anvil, on SQLite and PostgreSQL: every event once, re-scans change
//! nothing, and reorgs converge to the new chain.

use agora_chain::anvil::Anvil;
use agora_chain::bindings::ComputeMarket;
use agora_chain::deploy::Deployments;
use agora_chain::testing::send;
use agora_chain::testing::{BUYER, PROVIDER, TestChain};
use agora_indexer::{Indexer, IndexerConfig, Step};
use agora_market::demo::{demo_services, listings};
use agora_store::testing::TestDb;
use agora_store::{BlockRef, TaskStatus};
use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::sol_types::SolCall;

#[path = "board/market.rs"]
mod board_market;
#[path = "fl/market.rs"]
mod fl_market;

const PRICE_1: u64 = 10_000_000_000_000_000;

struct Chain {
    anvil: Anvil,
    d: Deployments,
    provider: DynProvider,
    buyer: DynProvider,
    buyer_addr: Address,
}

async fn chain() -> anyhow::Result<Chain> {
    let c = TestChain::start().await?;
    c.list(&listings(&demo_services())).await?;
    let (provider, buyer, buyer_addr) = (c.provider(PROVIDER), c.provider(BUYER), c.address(BUYER));
    Ok(Chain { anvil: c.anvil, d: c.d, provider, buyer, buyer_addr })
}

async fn buy(c: &Chain, service: u64, price: u64) -> anyhow::Result<U256> {
    let market = ComputeMarket::new(c.d.compute_market, c.buyer.clone());
    let terms = market.getService(U256::from(service)).call().await?;
    assert_eq!(U256::from(terms.price), U256::from(price), "the price the test pays is the service's");
    let r = send(
        market
            .buyCompute(U256::from(service), "bafy-input".into(), U256::from(price), terms.maxRunTime)
            .value(U256::from(price)),
    )
    .await?;
    Ok(r.decoded_log::<ComputeMarket::TaskCreated>().expect("TaskCreated").data.taskId)
}

fn indexer(c: &Chain, db: &TestDb) -> Indexer {
    let mut cfg = IndexerConfig::for_deployments(&c.d);
    cfg.batch_blocks = 3;
    Indexer::new(agora_chain::read_provider(c.anvil.url()).expect("url"), db.store.clone(), cfg)
}

async fn head(c: &Chain) -> anyhow::Result<u64> {
    Ok(c.provider.get_block_number().await?)
}

#[tokio::test]
async fn every_event_once_and_a_rescan_changes_nothing() -> anyhow::Result<()> {
    let c = chain().await?;
    let market = ComputeMarket::new(c.d.compute_market, c.provider.clone());
    let t1 = buy(&c, 1, PRICE_1).await?;
    let t2 = buy(&c, 1, PRICE_1).await?;
    let t3 = buy(&c, 2, 2 * PRICE_1).await?;
    send(market.startTask(t1)).await?;
    send(market.completeTask(t1, "bafy-result".into())).await?;
    send(market.failTask(t2, "input is not an image".into())).await?;

    for db in TestDb::both().await? {
        let ix = indexer(&c, &db);
        ix.sync_to(head(&c).await?).await?;
        let s = &db.store;
        let chain_id = c.d.chain_id;
        // The board's platform arbiter (set by its constructor), 3 listings, 3 × (created + input),
        // start, completion, failure + refund.
        let logs = s.log_count(chain_id).await?;
        assert_eq!(logs, 1 + 3 + 6 + 2 + 2, "{}", db.label);
        let get = |id: U256| async move { s.task(chain_id, id.to::<u64>()).await };
        let task1 = get(t1).await?.expect("task 1");
        assert_eq!(task1.status, TaskStatus::Completed);
        assert_eq!(task1.result_hash.as_deref(), Some("bafy-result"));
        assert_eq!(task1.user, c.buyer_addr);
        assert_eq!(task1.amount, U256::from(PRICE_1));
        let task2 = get(t2).await?.expect("task 2");
        assert_eq!(task2.status, TaskStatus::Refunded);
        assert_eq!(task2.failure_reason.as_deref(), Some("input is not an image"));
        assert_eq!(get(t3).await?.expect("task 3").status, TaskStatus::Created);
        assert_eq!(s.services(chain_id).await?.len(), 3);

        // Index the whole range a second time.
        let genesis = c.provider.get_block_by_number((c.d.deploy_block - 1).into()).await?.expect("block");
        s.rewind_cursor(
            chain_id,
            &BlockRef {
                number: genesis.header.number,
                hash: genesis.header.hash.to_string(),
                parent_hash: genesis.header.parent_hash.to_string(),
                timestamp: genesis.header.timestamp,
            },
        )
        .await?;
        let mut duplicates = 0;
        loop {
            match ix.step().await? {
                Step::Indexed { applied, duplicates: d, .. } => {
                    assert_eq!(applied, 0, "a re-scan applied logs again");
                    duplicates += d;
                }
                Step::Idle { .. } => break,
                other => panic!("unexpected step {other:?}"),
            }
        }
        assert_eq!(duplicates as u64, logs);
        assert_eq!(s.log_count(chain_id).await?, logs);
        assert_eq!(s.tasks(chain_id, None, 100).await?.len(), 3);
        db.finish().await?;
    }
    c.anvil.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_reorg_converges_to_the_new_chain() -> anyhow::Result<()> {
    let c = chain().await?;
    let market = ComputeMarket::new(c.d.compute_market, c.provider.clone());
    let task = buy(&c, 1, PRICE_1).await?;
    send(market.completeTask(task, "bafy-old-fork".into())).await?;
    let before = head(&c).await?;

    let dbs = TestDb::both().await?;
    for db in &dbs {
        indexer(&c, db).sync_to(before).await?;
        let t = db.store.task(c.d.chain_id, 1).await?.expect("task");
        assert_eq!(t.status, TaskStatus::Completed, "{}", db.label);
    }

    // Replace the last two blocks (the purchase and the completion) with a block in which the same
    // buyer buys service 2 instead, and an empty one.
    let buy_service_2 = ComputeMarket::buyComputeCall {
        serviceId: U256::from(2),
        input: "bafy-new-fork".into(),
        price: U256::from(20_000_000_000_000_000u64),
        maxRunTime: 600,
    };
    let tx = serde_json::json!({
        "from": c.buyer_addr,
        "to": c.d.compute_market,
        "data": alloy::primitives::Bytes::from(buy_service_2.abi_encode()),
        "value": U256::from(2 * PRICE_1),
        "gas": "0x100000",
    });
    c.provider.raw_request::<_, serde_json::Value>("anvil_reorg".into(), (2u64, vec![(tx, 0u64)])).await?;
    assert_eq!(head(&c).await?, before, "anvil_reorg keeps the height");

    for db in dbs {
        let ix = indexer(&c, &db);
        let mut reorgs = ix.subscribe_reorgs();
        let s = &db.store;
        let chain_id = c.d.chain_id;
        let first = ix.step().await?;
        // Purchase (created + input) and completion were on the dead fork.
        assert!(matches!(first, Step::Reorg { removed_logs: 3, .. }), "{}: {first:?}", db.label);
        let Step::Reorg { ancestor, .. } = first else { unreachable!() };
        assert_eq!(reorgs.try_recv().ok(), Some(ancestor), "{}: the rollback is announced", db.label);
        ix.sync_to(head(&c).await?).await?;
        let t = s.task(chain_id, 1).await?.expect("task 1 on the new fork");
        assert_eq!(t.service_id, 2, "{}", db.label);
        assert_eq!(t.status, TaskStatus::Created);
        assert_eq!(t.input.as_deref(), Some("bafy-new-fork"));
        assert_eq!(t.result_hash, None);
        assert_eq!(s.tasks(chain_id, None, 10).await?.len(), 1);
        let timeline: Vec<_> = s.task_timeline(chain_id, 1).await?.into_iter().map(|e| e.kind).collect();
        assert_eq!(timeline, ["TaskCreated", "TaskInput"]);
        db.finish().await?;
    }
    c.anvil.stop().await?;
    Ok(())
}

/// The data market's logs on anvil become its sellers, orders and ratings: an escrowed order ended
/// by the seller with the buyer's ACK and settled by a third party after the challenge window, an
/// off-chain order confirmed paid, both parties' ratings, on both databases.
#[tokio::test]
async fn the_data_market_is_indexed() -> anyhow::Result<()> {
    use agora_chain::bindings::DataMarket;
    use agora_chain::deploy::DATA_CHALLENGE_WINDOW_SECS;
    use agora_chain::testing::OWNER;
    use agora_store::{OrderFilter, OrderState, PaymentMethod};
    use alloy::primitives::B256;
    use alloy::signers::SignerSync;

    let tc = TestChain::start().await?;
    let address = tc.d.data_market.expect("the dev deployment has a DataMarket");
    let (seller_addr, buyer_key) = (tc.address(PROVIDER), tc.key(BUYER));
    let as_seller = DataMarket::new(address, tc.provider(PROVIDER));
    let as_buyer = DataMarket::new(address, tc.provider(BUYER));
    send(as_seller.register("127.0.0.1:7070".into(), seller_addr, B256::repeat_byte(7), "ipfs://menu".into())).await?;

    let now = tc.provider(OWNER).get_block(alloy::eips::BlockId::latest()).await?.expect("head").header.timestamp;
    let (price, total) = (1_000u64, 1_000u64);
    let open = |nonce: u64, method: u8, value: u64| {
        as_buyer
            .openOrder(
                seller_addr,
                Address::ZERO,
                U256::from(price),
                total,
                now + 600,
                now,
                U256::from(nonce),
                buyer_key.address(),
                method,
            )
            .value(U256::from(value))
    };
    let r = send(open(1, 0, price)).await?;
    let escrowed = r.decoded_log::<DataMarket::OrderOpened>().expect("OrderOpened").data.orderId;
    let r = send(open(2, 1, 0)).await?;
    let off_chain = r.decoded_log::<DataMarket::OrderOpened>().expect("OrderOpened").data.orderId;

    // The seller ends the escrowed order with the buyer's ACK for 400 bytes; after the window a
    // third party settles it.
    let digest = as_seller.ackDigest(escrowed, 400).call().await?;
    let ack = buyer_key.sign_hash_sync(&digest)?.as_bytes();
    send(as_seller.end(escrowed, 400, ack.to_vec().into())).await?;
    let owner = tc.provider(OWNER);
    owner.raw_request::<_, serde_json::Value>("evm_increaseTime".into(), (DATA_CHALLENGE_WINDOW_SECS + 1,)).await?;
    send(DataMarket::new(address, owner.clone()).settle(escrowed)).await?;
    send(as_buyer.rate(escrowed, 5, B256::repeat_byte(1))).await?;
    send(as_seller.rate(escrowed, 3, B256::repeat_byte(2))).await?;
    send(as_seller.confirmPaid(off_chain)).await?;

    let c = Chain {
        provider: tc.provider(PROVIDER),
        buyer: tc.provider(BUYER),
        buyer_addr: tc.address(BUYER),
        anvil: tc.anvil,
        d: tc.d,
    };
    for db in TestDb::both().await? {
        let ix = indexer(&c, &db);
        ix.sync_to(head(&c).await?).await?;
        let (s, chain_id) = (&db.store, c.d.chain_id);
        let sellers = s.data_sellers(chain_id, true, 10).await?;
        assert_eq!(sellers.len(), 1, "{}", db.label);
        assert_eq!((sellers[0].seller, sellers[0].endpoint.as_str()), (seller_addr, "127.0.0.1:7070"));
        assert_eq!((sellers[0].rating.count, sellers[0].rating.score_sum), (1, 5));
        let o = s.data_order(chain_id, escrowed).await?.expect("escrowed order");
        assert_eq!((o.state, o.method, o.received), (OrderState::Settled, PaymentMethod::Escrow, 400));
        assert_eq!((o.paid_to_seller, o.refunded_to_buyer), (Some(U256::from(400)), Some(U256::from(600))));
        assert_eq!((o.buyer, o.ended_by), (c.buyer_addr, Some(seller_addr)));
        let p = s.data_order(chain_id, off_chain).await?.expect("off-chain order");
        assert_eq!((p.state, p.method), (OrderState::Paid, PaymentMethod::OffChain));
        let mine = s.data_orders(chain_id, OrderFilter { buyer: Some(c.buyer_addr), seller: None }, 10).await?;
        assert_eq!(mine.len(), 2);
        let ratings = s.data_order_ratings(chain_id, escrowed).await?;
        assert_eq!(ratings.iter().map(|r| (r.as_seller, r.score)).collect::<Vec<_>>(), [(true, 5), (false, 3)]);
        db.finish().await?;
    }
    c.anvil.stop().await?;
    Ok(())
}
