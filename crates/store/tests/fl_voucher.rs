//! Predictions paid by vouchers on SQLite and PostgreSQL: a charge moves the channel's billed total
//! and records the prediction in one transaction (a stale billed total or a taken key records
//! nothing), a channel's predictions newest first, and each task's fees recorded against what the
//! fee receiver forwarded (indexed `PredictionFeesPaid`, only the receiver's own).

use agora_store::testing::TestDb;
use agora_store::{Batch, BlockRef, FlEvent, FlVoucherPrediction, IndexedLog, LogMeta, MarketEvent, Store};
use alloy::primitives::{Address, B256, U256};

const CHAIN: u64 = 31337;
const RECEIVER: &str = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
const OTHER: &str = "0x90f79bf6eb2c4f870365e785982e1f101e93b906";

fn prediction(key: &str, task_id: u64, channel: B256, fee: u64, cumulative: u64, at: u64) -> FlVoucherPrediction {
    FlVoucherPrediction {
        request_key: key.into(),
        task_id,
        channel_id: channel,
        payer: Address::repeat_byte(0xab),
        input_hash: B256::repeat_byte(0x66),
        token: Address::ZERO,
        fee: U256::from(fee),
        cumulative: U256::from(cumulative),
        answer: format!(r#"{{"class":{task_id},"key":"{key}"}}"#),
        created_at: at,
    }
}

fn block(n: u64) -> BlockRef {
    BlockRef {
        number: n,
        hash: format!("0x{n:064x}"),
        parent_hash: format!("0x{:064x}", n.saturating_sub(1)),
        timestamp: 1_700_000_000 + n,
    }
}

/// Indexes a finished reward-pool task 7 with a fee of 5, and fees forwarded for it: 2 by the
/// receiver, then 1 by someone else, then 1 more by the receiver.
async fn index_forwards(s: &Store) -> anyhow::Result<()> {
    use FlEvent::*;
    let task_id = 7;
    let events = [
        TaskCreated {
            task_id,
            investor: OTHER.into(),
            coordinator: OTHER.into(),
            mode: "RewardPool".into(),
            token: "0x0000000000000000000000000000000000000000".into(),
            pool: "100".into(),
            prediction_fee: "5".into(),
            spec: "ipfs://bafkreispec".into(),
        },
        TaskTerms {
            task_id,
            block_token: "0x5fbdb2315678afecb367f032d93f642f64180aa3".into(),
            block_price: "0".into(),
            total_blocks: 1,
            min_participants: 1,
            start_deadline: 1_700_100_000,
            finish_deadline: 1_700_200_000,
        },
        MemberJoined { task_id, account: OTHER.into(), members: 1 },
        TaskStarted { task_id, members: 1, block_payments: "0".into() },
        RewardsPosted { task_id, root: format!("0x{}", "55".repeat(32)), record_cid: "bafy".into(), claim_deadline: 1 },
        PredictionFeesPaid { task_id, payer: RECEIVER.into(), count: 2, amount: "10".into() },
        PredictionFeesPaid { task_id, payer: OTHER.into(), count: 1, amount: "5".into() },
        PredictionFeesPaid { task_id, payer: RECEIVER.into(), count: 1, amount: "5".into() },
    ];
    let blocks: Vec<_> = (0..=events.len() as u64).map(block).collect();
    let logs = events
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
            event: MarketEvent::Fl(event),
        })
        .collect();
    s.init_cursor(CHAIN, &blocks[0]).await?;
    s.apply_batch(&Batch { chain_id: CHAIN, expected_cursor: 0, blocks: blocks[1..].to_vec(), logs }).await?;
    Ok(())
}

#[tokio::test]
async fn voucher_predictions_and_fee_balances_on_both_databases() -> anyhow::Result<()> {
    for db in TestDb::both().await? {
        let label = db.label;
        scenario(&db.store).await.map_err(|e| e.context(format!("backend {label}")))?;
        db.finish().await?;
    }
    Ok(())
}

async fn scenario(s: &Store) -> anyhow::Result<()> {
    let (ch, other_ch) = (B256::repeat_byte(0x11), B256::repeat_byte(0x22));
    let receiver: Address = RECEIVER.parse()?;
    assert!(s.fl_fee_balances(CHAIN, receiver).await?.is_empty());
    assert_eq!(s.fl_voucher_prediction(CHAIN, "k1").await?, None);

    // The channel's first charge, then the next on top of it.
    let p1 = prediction("k1", 7, ch, 5, 5, 100);
    assert!(s.record_fl_voucher_prediction(CHAIN, &p1, U256::ZERO).await?);
    assert_eq!(s.assistant_billed(CHAIN, ch).await?, U256::from(5));
    let p2 = prediction("k2", 7, ch, 5, 10, 101);
    assert!(s.record_fl_voucher_prediction(CHAIN, &p2, U256::from(5)).await?);
    assert_eq!(s.assistant_billed(CHAIN, ch).await?, U256::from(10));

    // A charge computed on a stale billed total records nothing, the first charge of a channel too.
    let stale = prediction("k3", 7, ch, 5, 10, 102);
    assert!(!s.record_fl_voucher_prediction(CHAIN, &stale, U256::from(5)).await?);
    assert!(!s.record_fl_voucher_prediction(CHAIN, &stale, U256::ZERO).await?);
    assert_eq!(s.fl_voucher_prediction(CHAIN, "k3").await?, None);
    assert_eq!(s.assistant_billed(CHAIN, ch).await?, U256::from(10));
    // A key already taken (on another channel) records nothing, and the billed total is not moved.
    let taken = prediction("k1", 8, other_ch, 3, 3, 103);
    assert!(!s.record_fl_voucher_prediction(CHAIN, &taken, U256::ZERO).await?);
    assert_eq!(s.assistant_billed(CHAIN, other_ch).await?, U256::ZERO, "rolled back with the prediction");
    assert_eq!(s.fl_voucher_prediction(CHAIN, "k1").await?, Some(p1.clone()), "the first one stands");
    let p4 = prediction("k4", 8, other_ch, 3, 3, 104);
    assert!(s.record_fl_voucher_prediction(CHAIN, &p4, U256::ZERO).await?);

    assert_eq!(s.fl_channel_predictions(CHAIN, ch, 10).await?, [p2.clone(), p1], "newest first");
    assert_eq!(s.fl_voucher_prediction(CHAIN, "k2").await?, Some(p2.clone()));
    assert_eq!(s.fl_channel_predictions(CHAIN, ch, 1).await?, [p2]);
    assert_eq!(s.fl_channel_predictions(CHAIN + 1, ch, 10).await?, []);

    // Nothing forwarded yet; then the receiver's indexed payments, not the other payer's.
    let owed = |b: &agora_store::FlFeeBalance| (b.task_id, b.recorded, b.recorded_amount, b.forwarded, b.owed());
    let balances = s.fl_fee_balances(CHAIN, receiver).await?;
    assert_eq!(
        balances.iter().map(owed).collect::<Vec<_>>(),
        [(7, 2, U256::from(10), 0, 2), (8, 1, U256::from(3), 0, 1)]
    );
    index_forwards(s).await?;
    let balances = s.fl_fee_balances(CHAIN, receiver).await?;
    assert_eq!(
        balances.iter().map(owed).collect::<Vec<_>>(),
        [(7, 2, U256::from(10), 3, 0), (8, 1, U256::from(3), 0, 1)],
        "the receiver forwarded more than this node recorded for task 7: nothing owed"
    );
    assert_eq!(balances[0].forwarded_amount, U256::from(15));
    let by_other = s.fl_fee_balances(CHAIN, OTHER.parse()?).await?;
    assert_eq!(by_other.iter().map(|b| (b.task_id, b.forwarded)).collect::<Vec<_>>(), [(7, 1), (8, 0)]);
    assert!(s.fl_fee_balances(CHAIN + 1, receiver).await?.is_empty());
    Ok(())
}
