//! The producer on indexed logs: a compute task's buyer hears of its completion once, however
//! often the log is replayed.

use agora_notify::{MailSettings, Notifier, Producer};
use agora_store::testing::TestDb;
use agora_store::{Batch, BlockRef, IndexedLog, LogMeta, MarketEvent};
use alloy::primitives::Address;

const CHAIN: u64 = 31337;
const BUYER: Address = Address::repeat_byte(0x90);

fn log(index: u64, event: MarketEvent) -> IndexedLog {
    IndexedLog {
        meta: LogMeta {
            block_number: 1,
            block_hash: "0x01".into(),
            block_timestamp: 1_700_000_000,
            tx_hash: format!("0x{:064x}", 0xabc),
            log_index: index,
            address: "0x00".into(),
        },
        event,
    }
}

#[tokio::test]
async fn a_replayed_log_tells_the_buyer_once() -> anyhow::Result<()> {
    for db in TestDb::both().await? {
        let b0 = BlockRef { number: 0, hash: "0x00".into(), parent_hash: "0x".into(), timestamp: 1 };
        let b1 = BlockRef { number: 1, hash: "0x01".into(), parent_hash: "0x00".into(), timestamp: 1_700_000_000 };
        db.store.init_cursor(CHAIN, &b0).await?;
        let logs = vec![
            log(
                0,
                MarketEvent::ServiceListed {
                    service_id: 1,
                    provider: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8".into(),
                    token: "0x0000000000000000000000000000000000000000".into(),
                    price: "10".into(),
                    max_run_time: 300,
                    metadata_uri: "data:,{}".into(),
                },
            ),
            log(
                1,
                MarketEvent::TaskCreated {
                    task_id: 1,
                    user: format!("{BUYER:#x}"),
                    service_id: 1,
                    amount: "10".into(),
                },
            ),
            log(2, MarketEvent::TaskCompleted { task_id: 1, result_hash: "bafyresult".into() }),
        ];
        db.store
            .apply_batch(&Batch { chain_id: CHAIN, expected_cursor: 0, blocks: vec![b1], logs: logs.clone() })
            .await?;
        let notifier = Notifier::new(db.store.clone(), &MailSettings::default(), None)?;
        let producer = Producer::new(notifier, CHAIN);
        assert_eq!(producer.on_log(&logs[0]).await?, 0, "{}: a listing tells nobody", db.label);
        assert_eq!(producer.on_log(&logs[2]).await?, 1, "{}", db.label);
        assert_eq!(producer.on_log(&logs[2]).await?, 0, "{}: a replay tells nobody again", db.label);
        let page = db.store.notifications(BUYER, None, None, 10).await?;
        assert_eq!(page.items.len(), 1, "{}", db.label);
        assert_eq!(page.items[0].kind, "compute-completed");
        assert_eq!(page.items[0].payload["result"], "bafyresult");
        db.finish().await?;
    }
    Ok(())
}
