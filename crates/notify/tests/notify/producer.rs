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

const PUBLISHER: Address = Address::repeat_byte(0x11);
const WORKER: Address = Address::repeat_byte(0x22);
const ARBITER: Address = Address::repeat_byte(0x33);
const WATCHER: Address = Address::repeat_byte(0x44);

#[tokio::test]
async fn task_board_events_tell_the_publisher_the_worker_the_arbiter_and_the_watchers() -> anyhow::Result<()> {
    use agora_store::{BoardEvent, NotifyLevel, PrefRow};
    for db in TestDb::both().await? {
        let b0 = BlockRef { number: 0, hash: "0x00".into(), parent_hash: "0x".into(), timestamp: 1 };
        let b1 = BlockRef { number: 1, hash: "0x01".into(), parent_hash: "0x00".into(), timestamp: 1_700_000_000 };
        db.store.init_cursor(CHAIN, &b0).await?;
        let (publisher, worker, arbiter) = (format!("{PUBLISHER:#x}"), format!("{WORKER:#x}"), format!("{ARBITER:#x}"));
        let events = vec![
            BoardEvent::TaskPublished {
                task_id: 1,
                publisher: publisher.clone(),
                community_id: 0,
                token: format!("{:#x}", Address::ZERO),
                reward: "30".into(),
                reward_per_slot: "10".into(),
                slots: 3,
                points: "0".into(),
                deadline: 2_000_000_000,
                review_window: 3600,
                work_timeout: 3600,
                max_revisions: 2,
                arbiter: arbiter.clone(),
                spec: "ipfs://spec".into(),
            },
            BoardEvent::TaskAccepted { task_id: 1, worker: worker.clone(), free_slots: 2 },
            BoardEvent::WorkSubmitted {
                task_id: 1,
                worker: worker.clone(),
                revision: 0,
                deliverable: "ipfs://work".into(),
                review_ends_at: 1_700_003_600,
            },
            BoardEvent::SubmissionRejected {
                task_id: 1,
                worker: worker.clone(),
                reason: "incomplete".into(),
                revisions_left: 2,
                answer_ends_at: 1_700_007_200,
            },
            BoardEvent::DisputeOpened {
                task_id: 1,
                worker: worker.clone(),
                arbiter: arbiter.clone(),
                reason: "it is complete".into(),
            },
        ];
        let logs: Vec<IndexedLog> =
            events.into_iter().enumerate().map(|(i, e)| log(i as u64, MarketEvent::Board(e))).collect();
        db.store
            .apply_batch(&Batch { chain_id: CHAIN, expected_cursor: 0, blocks: vec![b1], logs: logs.clone() })
            .await?;
        db.store
            .set_notification_prefs(WATCHER, &[PrefRow { scope: "task:1".into(), level: NotifyLevel::Watching }], 1)
            .await?;
        let producer = Producer::new(Notifier::new(db.store.clone(), &MailSettings::default(), None)?, CHAIN);
        for l in &logs {
            producer.on_log(l).await?;
            producer.on_log(l).await?;
        }
        let kinds = |who| {
            let store = db.store.clone();
            async move {
                let page = store.notifications(who, None, None, 50).await?;
                Ok::<_, anyhow::Error>(page.items.into_iter().rev().map(|n| n.kind).collect::<Vec<_>>())
            }
        };
        assert_eq!(
            kinds(PUBLISHER).await?,
            ["board-accepted", "board-submitted", "board-dispute-opened"],
            "{}",
            db.label
        );
        assert_eq!(kinds(WORKER).await?, ["board-rejected"], "{}", db.label);
        assert_eq!(kinds(ARBITER).await?, ["board-dispute-opened"], "{}", db.label);
        assert_eq!(
            kinds(WATCHER).await?,
            ["board-published", "board-accepted", "board-submitted", "board-rejected", "board-dispute-opened"],
            "{}: a watcher hears of every event on the task, once",
            db.label
        );
        let rejected = db.store.notifications(WORKER, None, None, 1).await?.items.remove(0);
        assert_eq!(rejected.payload["reason"], "incomplete", "{}", db.label);
        assert_eq!(rejected.subject, "board-task:1", "{}", db.label);
        db.finish().await?;
    }
    Ok(())
}
