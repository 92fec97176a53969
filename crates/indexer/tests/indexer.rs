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
    let mut cfg = IndexerConfig::new(c.d.chain_id, c.d.indexed_contracts(), c.d.deploy_block);
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
        // 3 listings, 3 × (created + input), start, completion, failure + refund.
        let logs = s.log_count(chain_id).await?;
        assert_eq!(logs, 3 + 6 + 2 + 2, "{}", db.label);
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
        let s = &db.store;
        let chain_id = c.d.chain_id;
        let first = ix.step().await?;
        // Purchase (created + input) and completion were on the dead fork.
        assert!(matches!(first, Step::Reorg { removed_logs: 3, .. }), "{}: {first:?}", db.label);
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
