//! The stored encoding pinned: today's rows, the rows written before versions, and a database
//! holding the latter rebuilt to the same state on both backends.

use std::collections::BTreeSet;

use sqlx::Row;

use super::board_tests::board_history;
use super::fixture::{data_history, fl_history, history};
use super::{decode, encode};
use crate::testing::TestDb;
use crate::{Batch, BlockRef, ChannelFilter, Error, IndexedLog, LogMeta, MarketEvent, Store};

/// [`history`] as the code before versions stored it (serde's derive, `#[serde(tag = "kind")]`),
/// captured from that code's `serde_json::to_string` before the encoding changed. Never edit these:
/// databases hold them.
const LEGACY: [&str; 17] = [
    r#"{"kind":"ServiceListed","service_id":1,"provider":"0x70997970c51812dc3a010c7d01b50e0d17dc79c8","token":"0x5fbdb2315678afecb367f032d93f642f64180aa3","price":"10000000000000000","max_run_time":300,"metadata_uri":"data:application/json,{\"kind\":\"wordcount\",\"name\":{\"en\":\"Word count\"}}"}"#,
    r#"{"kind":"ServiceUpdated","service_id":1,"price":"20000000000000000","max_run_time":600,"metadata_uri":"ipfs://bafkreido7yr2jtq3ebxpkwxg7d5n3hjoxyd3eyluohjuggepkwzpiq73mi"}"#,
    r#"{"kind":"TaskCreated","task_id":1,"user":"0x90f79bf6eb2c4f870365e785982e1f101e93b906","service_id":1,"amount":"115792089237316195423570985008687907853269984665640564039457584007913129639935"}"#,
    r#"{"kind":"TaskInput","task_id":1,"deadline":1700000900,"input":"{\"text\":\"héllo \\\"wörld\\\"\\n\",\"tab\":\"\t\"} 你好"}"#,
    r#"{"kind":"TaskStarted","task_id":1}"#,
    r#"{"kind":"TaskCompleted","task_id":1,"result_hash":"bafkreido7yr2jtq3ebxpkwxg7d5n3hjoxyd3eyluohjuggepkwzpiq73mi"}"#,
    r#"{"kind":"TaskCreated","task_id":9007199254740993,"user":"0x90f79bf6eb2c4f870365e785982e1f101e93b906","service_id":1,"amount":"115792089237316195423570985008687907853269984665640564039457584007913129639935"}"#,
    r#"{"kind":"TaskInput","task_id":9007199254740993,"deadline":1700000950,"input":""}"#,
    r#"{"kind":"TaskFailed","task_id":9007199254740993,"reason":"input: not a CID — «refused»"}"#,
    r#"{"kind":"TaskRefunded","task_id":9007199254740993}"#,
    r#"{"kind":"ServiceDelisted","service_id":1}"#,
    r#"{"kind":"ChannelOpened","channel_id":"0x1111111111111111111111111111111111111111111111111111111111111111","payer":"0x90f79bf6eb2c4f870365e785982e1f101e93b906","payee":"0x70997970c51812dc3a010c7d01b50e0d17dc79c8","token":"0x5fbdb2315678afecb367f032d93f642f64180aa3","signer":"0x90f79bf6eb2c4f870365e785982e1f101e93b906","salt":"0x0000000000000000000000000000000000000000000000000000000000000001","deposit":"1000000000000000000","expiry":1700086400}"#,
    r#"{"kind":"ChannelToppedUp","channel_id":"0x1111111111111111111111111111111111111111111111111111111111111111","amount":"500","deposit":"1000000000000000500"}"#,
    r#"{"kind":"ChannelExtended","channel_id":"0x1111111111111111111111111111111111111111111111111111111111111111","expiry":1700172800}"#,
    r#"{"kind":"ChannelClosed","channel_id":"0x1111111111111111111111111111111111111111111111111111111111111111","paid_to_payee":"250","refunded_to_payer":"1000000000000000250"}"#,
    r#"{"kind":"ChannelOpened","channel_id":"0x2222222222222222222222222222222222222222222222222222222222222222","payer":"0x90f79bf6eb2c4f870365e785982e1f101e93b906","payee":"0x70997970c51812dc3a010c7d01b50e0d17dc79c8","token":"0x5fbdb2315678afecb367f032d93f642f64180aa3","signer":"0x90f79bf6eb2c4f870365e785982e1f101e93b906","salt":"0x0000000000000000000000000000000000000000000000000000000000000002","deposit":"1000000000000000000","expiry":1700086400}"#,
    r#"{"kind":"ChannelReclaimed","channel_id":"0x2222222222222222222222222222222222222222222222222222222222222222","refunded_to_payer":"1000000000000000000"}"#,
];

/// [`history`] in version 1. Never edit these either: a change to the encoding is a new version.
const V1: [&str; 17] = [
    r#"{"v":1,"kind":"ServiceListed","service_id":1,"provider":"0x70997970c51812dc3a010c7d01b50e0d17dc79c8","token":"0x5fbdb2315678afecb367f032d93f642f64180aa3","price":"10000000000000000","max_run_time":300,"metadata_uri":"data:application/json,{\"kind\":\"wordcount\",\"name\":{\"en\":\"Word count\"}}"}"#,
    r#"{"v":1,"kind":"ServiceUpdated","service_id":1,"price":"20000000000000000","max_run_time":600,"metadata_uri":"ipfs://bafkreido7yr2jtq3ebxpkwxg7d5n3hjoxyd3eyluohjuggepkwzpiq73mi"}"#,
    r#"{"v":1,"kind":"TaskCreated","task_id":1,"user":"0x90f79bf6eb2c4f870365e785982e1f101e93b906","service_id":1,"amount":"115792089237316195423570985008687907853269984665640564039457584007913129639935"}"#,
    r#"{"v":1,"kind":"TaskInput","task_id":1,"deadline":1700000900,"input":"{\"text\":\"héllo \\\"wörld\\\"\\n\",\"tab\":\"\t\"} 你好"}"#,
    r#"{"v":1,"kind":"TaskStarted","task_id":1}"#,
    r#"{"v":1,"kind":"TaskCompleted","task_id":1,"result_hash":"bafkreido7yr2jtq3ebxpkwxg7d5n3hjoxyd3eyluohjuggepkwzpiq73mi"}"#,
    r#"{"v":1,"kind":"TaskCreated","task_id":9007199254740993,"user":"0x90f79bf6eb2c4f870365e785982e1f101e93b906","service_id":1,"amount":"115792089237316195423570985008687907853269984665640564039457584007913129639935"}"#,
    r#"{"v":1,"kind":"TaskInput","task_id":9007199254740993,"deadline":1700000950,"input":""}"#,
    r#"{"v":1,"kind":"TaskFailed","task_id":9007199254740993,"reason":"input: not a CID — «refused»"}"#,
    r#"{"v":1,"kind":"TaskRefunded","task_id":9007199254740993}"#,
    r#"{"v":1,"kind":"ServiceDelisted","service_id":1}"#,
    r#"{"v":1,"kind":"ChannelOpened","channel_id":"0x1111111111111111111111111111111111111111111111111111111111111111","payer":"0x90f79bf6eb2c4f870365e785982e1f101e93b906","payee":"0x70997970c51812dc3a010c7d01b50e0d17dc79c8","token":"0x5fbdb2315678afecb367f032d93f642f64180aa3","signer":"0x90f79bf6eb2c4f870365e785982e1f101e93b906","salt":"0x0000000000000000000000000000000000000000000000000000000000000001","deposit":"1000000000000000000","expiry":1700086400}"#,
    r#"{"v":1,"kind":"ChannelToppedUp","channel_id":"0x1111111111111111111111111111111111111111111111111111111111111111","amount":"500","deposit":"1000000000000000500"}"#,
    r#"{"v":1,"kind":"ChannelExtended","channel_id":"0x1111111111111111111111111111111111111111111111111111111111111111","expiry":1700172800}"#,
    r#"{"v":1,"kind":"ChannelClosed","channel_id":"0x1111111111111111111111111111111111111111111111111111111111111111","paid_to_payee":"250","refunded_to_payer":"1000000000000000250"}"#,
    r#"{"v":1,"kind":"ChannelOpened","channel_id":"0x2222222222222222222222222222222222222222222222222222222222222222","payer":"0x90f79bf6eb2c4f870365e785982e1f101e93b906","payee":"0x70997970c51812dc3a010c7d01b50e0d17dc79c8","token":"0x5fbdb2315678afecb367f032d93f642f64180aa3","signer":"0x90f79bf6eb2c4f870365e785982e1f101e93b906","salt":"0x0000000000000000000000000000000000000000000000000000000000000002","deposit":"1000000000000000000","expiry":1700086400}"#,
    r#"{"v":1,"kind":"ChannelReclaimed","channel_id":"0x2222222222222222222222222222222222222222222222222222222222222222","refunded_to_payer":"1000000000000000000"}"#,
];

/// [`data_history`] in version 1. Never edit these.
const V1_DATA: [&str; 13] = [
    r#"{"v":1,"kind":"SellerRegistered","seller":"0x15d34aaf54267db7d7c367839aaf71a00a2c6a65","endpoint":"127.0.0.1:7070","message_signer":"0x15d34aaf54267db7d7c367839aaf71a00a2c6a65","menu_hash":"0x3333333333333333333333333333333333333333333333333333333333333333","menu_uri":"ipfs://bafkreido7yr2jtq3ebxpkwxg7d5n3hjoxyd3eyluohjuggepkwzpiq73mi"}"#,
    r#"{"v":1,"kind":"SellerUpdated","seller":"0x15d34aaf54267db7d7c367839aaf71a00a2c6a65","endpoint":"data.example:7070","message_signer":"0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc","menu_hash":"0x3333333333333333333333333333333333333333333333333333333333333333","menu_uri":"https://data.example/menu.json"}"#,
    r#"{"v":1,"kind":"OrderOpened","order_id":"0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","buyer":"0x90f79bf6eb2c4f870365e785982e1f101e93b906","seller":"0x15d34aaf54267db7d7c367839aaf71a00a2c6a65","token":"0x5fbdb2315678afecb367f032d93f642f64180aa3","price":"1000000000000000001","total_bytes":10485760,"deadline":1700003600,"started_from":1700000000,"nonce":"1","ack_signer":"0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc","method":"Escrow"}"#,
    r#"{"v":1,"kind":"OrderEnded","order_id":"0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","by":"0x90f79bf6eb2c4f870365e785982e1f101e93b906","received":1048576,"settle_at":1700004000}"#,
    r#"{"v":1,"kind":"OrderChallenged","order_id":"0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","by":"0x15d34aaf54267db7d7c367839aaf71a00a2c6a65","received":5242880}"#,
    r#"{"v":1,"kind":"OrderSettled","order_id":"0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","received":5242880,"paid_to_seller":"500000000000000000","refunded_to_buyer":"500000000000000001"}"#,
    r#"{"v":1,"kind":"OrderRated","order_id":"0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","rater":"0x90f79bf6eb2c4f870365e785982e1f101e93b906","rated":"0x15d34aaf54267db7d7c367839aaf71a00a2c6a65","score":4,"comment_hash":"0x4444444444444444444444444444444444444444444444444444444444444444"}"#,
    r#"{"v":1,"kind":"OrderRated","order_id":"0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","rater":"0x15d34aaf54267db7d7c367839aaf71a00a2c6a65","rated":"0x90f79bf6eb2c4f870365e785982e1f101e93b906","score":5,"comment_hash":"0x4444444444444444444444444444444444444444444444444444444444444444"}"#,
    r#"{"v":1,"kind":"OrderOpened","order_id":"0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","buyer":"0x90f79bf6eb2c4f870365e785982e1f101e93b906","seller":"0x15d34aaf54267db7d7c367839aaf71a00a2c6a65","token":"0x5fbdb2315678afecb367f032d93f642f64180aa3","price":"1000000000000000001","total_bytes":10485760,"deadline":1700003600,"started_from":1700000000,"nonce":"115792089237316195423570985008687907853269984665640564039457584007913129639935","ack_signer":"0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc","method":"OffChain"}"#,
    r#"{"v":1,"kind":"OrderConfirmedPaid","order_id":"0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}"#,
    r#"{"v":1,"kind":"OrderOpened","order_id":"0xcccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc","buyer":"0x90f79bf6eb2c4f870365e785982e1f101e93b906","seller":"0x15d34aaf54267db7d7c367839aaf71a00a2c6a65","token":"0x5fbdb2315678afecb367f032d93f642f64180aa3","price":"1000000000000000001","total_bytes":10485760,"deadline":1700003600,"started_from":1700000000,"nonce":"3","ack_signer":"0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc","method":"OffChain"}"#,
    r#"{"v":1,"kind":"OrderExpired","order_id":"0xcccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"}"#,
    r#"{"v":1,"kind":"SellerDeregistered","seller":"0x15d34aaf54267db7d7c367839aaf71a00a2c6a65"}"#,
];

/// Which variant an event is; exhaustive, so a new variant fails to compile here until the fixture
/// (and the encoding) covers it.
fn variant(event: &MarketEvent) -> usize {
    use MarketEvent::*;
    match event {
        ServiceListed { .. } => 0,
        ServiceUpdated { .. } => 1,
        ServiceDelisted { .. } => 2,
        TaskCreated { .. } => 3,
        TaskInput { .. } => 4,
        TaskStarted { .. } => 5,
        TaskCompleted { .. } => 6,
        TaskFailed { .. } => 7,
        TaskRefunded { .. } => 8,
        ChannelOpened { .. } => 9,
        ChannelToppedUp { .. } => 10,
        ChannelExtended { .. } => 11,
        ChannelClosed { .. } => 12,
        ChannelReclaimed { .. } => 13,
        SellerRegistered { .. } => 14,
        SellerUpdated { .. } => 15,
        SellerDeregistered { .. } => 16,
        OrderOpened { .. } => 17,
        OrderEnded { .. } => 18,
        OrderChallenged { .. } => 19,
        OrderSettled { .. } => 20,
        OrderConfirmedPaid { .. } => 21,
        OrderExpired { .. } => 22,
        OrderRated { .. } => 23,
        Fl(_) => 24,
        Board(_) => 25,
        Community(_) => 26,
    }
}

#[test]
fn every_variant_round_trips() {
    let events: Vec<_> =
        history().into_iter().chain(data_history()).chain(fl_history()).chain(board_history()).collect();
    let covered: BTreeSet<_> = events.iter().map(variant).collect();
    assert_eq!(covered, (0..27).collect(), "the fixtures use every variant");
    for event in &events {
        let text = encode(event);
        assert_eq!(decode(&text).unwrap(), *event, "{text}");
        let kind = serde_json::from_str::<serde_json::Value>(&text).unwrap()["kind"].clone();
        assert_eq!(kind, event.kind(), "the stored kind is the chain_logs.kind column's");
    }
}

#[test]
fn todays_encoding_is_pinned() {
    assert_eq!(data_history().len(), V1_DATA.len());
    for (event, pinned) in history().iter().zip(V1).chain(data_history().iter().zip(V1_DATA)) {
        assert_eq!(encode(event), pinned);
        assert_eq!(decode(pinned).unwrap(), *event);
    }
}

#[test]
fn rows_written_before_versions_decode_to_the_same_events() {
    for (event, old) in history().iter().zip(LEGACY) {
        assert_eq!(decode(old).unwrap(), *event, "{old}");
    }
    // serde's derive ignored fields it did not know and read "kind" wherever it stood.
    let moved = r#"{"task_id":7,"extra":[1],"kind":"TaskStarted"}"#;
    assert_eq!(decode(moved).unwrap(), MarketEvent::TaskStarted { task_id: 7 });
}

#[test]
fn every_character_survives() {
    let mut reason: String = (0u8..=0x7f).map(char::from).collect();
    reason.push_str("é你好🦀\u{2028}\u{2029}\u{feff}\\u0000\"");
    let event = MarketEvent::TaskFailed { task_id: u64::MAX, reason: reason.clone() };
    let stored = encode(&event);
    assert_eq!(decode(&stored).unwrap(), event);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&stored).unwrap()["reason"], reason, "plain JSON");
    assert!(!stored.chars().any(|c| c < ' '), "control characters are escaped: {stored:?}");
    let reason = "\u{1}\t\"\\/".into();
    assert_eq!(
        encode(&MarketEvent::TaskFailed { task_id: 1, reason }),
        r#"{"v":1,"kind":"TaskFailed","task_id":1,"reason":"\u0001\t\"\\/"}"#
    );
}

#[test]
fn what_cannot_be_read_is_an_error() {
    for bad in [
        "not json",
        "[1]",
        r#"{"v":2,"kind":"TaskStarted","task_id":1}"#,
        r#"{"v":"1","kind":"TaskStarted","task_id":1}"#,
        r#"{"v":1,"task_id":1}"#,
        r#"{"v":1,"kind":"TaskSplit","task_id":1}"#,
        r#"{"v":1,"kind":"TaskStarted"}"#,
        r#"{"v":1,"kind":"TaskStarted","task_id":"1"}"#,
        r#"{"v":1,"kind":"TaskStarted","task_id":-1}"#,
        r#"{"v":1,"kind":"TaskStarted","task_id":18446744073709551616}"#,
        r#"{"v":1,"kind":"TaskFailed","task_id":1,"reason":null}"#,
        r#"{"v":1,"kind":"TaskStarted","task_id":1,"extra":0}"#,
        r#"{"kind":"TaskStarted"}"#,
    ] {
        assert!(matches!(decode(bad), Err(Error::StoredEvent(_))), "{bad} was read");
    }
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

/// [`history`], one log in each of blocks 1, 2, …
fn logs(blocks: &[BlockRef]) -> Vec<IndexedLog> {
    history()
        .into_iter()
        .zip(blocks)
        .map(|(event, b)| IndexedLog {
            meta: LogMeta {
                block_number: b.number,
                block_hash: b.hash.clone(),
                block_timestamp: b.timestamp,
                tx_hash: format!("0x{:064x}", b.number + 0xabc),
                log_index: 0,
                address: "0x5fbdb2315678afecb367f032d93f642f64180aa3".into(),
            },
            event,
        })
        .collect()
}

type State = (Vec<crate::ServiceRow>, Vec<crate::TaskRow>, Vec<crate::ChannelRow>);

async fn state(s: &Store) -> anyhow::Result<State> {
    let all = ChannelFilter { payer: None, payee: None };
    Ok((s.services(CHAIN).await?, s.tasks(CHAIN, None, 100).await?, s.channels(CHAIN, all, 100).await?))
}

async fn stored(s: &Store) -> anyhow::Result<Vec<String>> {
    let rows = sqlx::query("SELECT event FROM chain_logs WHERE chain_id = $1 ORDER BY block_number, log_index")
        .bind(CHAIN as i64)
        .fetch_all(s.pool())
        .await?;
    Ok(rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?)
}

/// Rewrites the stored events as the code before versions wrote them; the rest of each row (and
/// the derived state) is the same in both.
async fn write_legacy(s: &Store, logs: &[IndexedLog]) -> anyhow::Result<()> {
    for (log, old) in logs.iter().zip(LEGACY) {
        sqlx::query("UPDATE chain_logs SET event = $1 WHERE chain_id = $2 AND tx_hash = $3 AND log_index = $4")
            .bind(old)
            .bind(CHAIN as i64)
            .bind(&log.meta.tx_hash)
            .bind(log.meta.log_index as i64)
            .execute(s.pool())
            .await?;
    }
    Ok(())
}

#[tokio::test]
async fn a_database_of_rows_written_before_versions_rebuilds_to_the_same_state() -> anyhow::Result<()> {
    for db in TestDb::both().await? {
        let label = db.label;
        rebuild(&db.store).await.map_err(|e| e.context(format!("backend {label}")))?;
        db.finish().await?;
    }
    Ok(())
}

async fn rebuild(s: &Store) -> anyhow::Result<()> {
    let blocks: Vec<_> = (0..=17).map(block).collect();
    let logs = logs(&blocks[1..]);
    let cut = 8; // task 2 bought and its input given, not yet failed; channels not yet opened
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
    assert_eq!(stored(s).await?, V1, "what is written");
    assert_eq!((early.0.len(), early.1.len(), early.2.len()), (1, 2, 0));
    assert_eq!((late.0.len(), late.1.len(), late.2.len()), (1, 2, 2));

    write_legacy(s, &logs).await?;
    assert_eq!(stored(s).await?, LEGACY);
    // A reorg that drops nothing still rebuilds everything from the stored logs.
    assert_eq!(s.rollback_to(CHAIN, &blocks[17]).await?, 0);
    assert_eq!(state(s).await?, late, "rebuilt from every old row");
    assert_eq!(s.rollback_to(CHAIN, &blocks[cut]).await?, 17 - cut as u64);
    assert_eq!(state(s).await?, early, "rebuilt from the old rows before the cut");

    // The chain goes on: old and new rows side by side, rebuilt again.
    s.apply_batch(&rest).await?;
    let mixed: Vec<_> = LEGACY[..cut].iter().chain(&V1[cut..]).map(|s| s.to_string()).collect();
    assert_eq!(stored(s).await?, mixed);
    assert_eq!(state(s).await?, late);
    s.rollback_to(CHAIN, &blocks[17]).await?;
    assert_eq!(state(s).await?, late, "rebuilt from old and new rows");
    Ok(())
}

type DataState = (Vec<crate::SellerRow>, Vec<crate::OrderRow>, Vec<crate::RatingRow>);

async fn data_state(s: &Store) -> anyhow::Result<DataState> {
    let orders = s.data_orders(CHAIN, crate::OrderFilter::default(), 100).await?;
    let mut ratings = Vec::new();
    for o in &orders {
        ratings.extend(s.data_order_ratings(CHAIN, o.order_id).await?);
    }
    Ok((s.data_sellers(CHAIN, false, 100).await?, orders, ratings))
}

#[tokio::test]
async fn the_data_market_is_derived_from_its_logs_and_rebuilt_after_a_reorg() -> anyhow::Result<()> {
    for db in TestDb::both().await? {
        let label = db.label;
        data_market(&db.store).await.map_err(|e| e.context(format!("backend {label}")))?;
        db.finish().await?;
    }
    Ok(())
}

async fn data_market(s: &Store) -> anyhow::Result<()> {
    use crate::{OrderState, PaymentMethod};
    use alloy::primitives::{Address, B256, U256};
    let events = data_history();
    let blocks: Vec<_> = (0..=events.len() as u64).map(block).collect();
    let logs: Vec<_> = events
        .into_iter()
        .zip(&blocks[1..])
        .map(|(event, b)| IndexedLog {
            meta: LogMeta {
                block_number: b.number,
                block_hash: b.hash.clone(),
                block_timestamp: b.timestamp,
                tx_hash: format!("0x{:064x}", b.number + 0xd00),
                log_index: 0,
                address: "0xa513e6e4b8f2a923d98304ec87f64353c4d5c853".into(),
            },
            event,
        })
        .collect();
    let cut = 6; // order A settled, not yet rated; B and C not opened
    s.init_cursor(CHAIN, &blocks[0]).await?;
    s.apply_batch(&Batch {
        chain_id: CHAIN,
        expected_cursor: 0,
        blocks: blocks[1..=cut].to_vec(),
        logs: logs[..cut].to_vec(),
    })
    .await?;
    let early = data_state(s).await?;
    let rest = Batch {
        chain_id: CHAIN,
        expected_cursor: cut as u64,
        blocks: blocks[cut + 1..].to_vec(),
        logs: logs[cut..].to_vec(),
    };
    s.apply_batch(&rest).await?;
    let late = data_state(s).await?;
    assert_eq!(stored(s).await?, V1_DATA, "what is written");

    let seller: Address = "0x15d34aaf54267db7d7c367839aaf71a00a2c6a65".parse()?;
    let buyer: Address = "0x90f79bf6eb2c4f870365e785982e1f101e93b906".parse()?;
    let (sellers, orders, ratings) = &late;
    assert_eq!(sellers.len(), 1);
    assert_eq!(sellers[0].seller, seller);
    assert!(!sellers[0].registered, "it left the registry");
    assert_eq!(sellers[0].endpoint, "data.example:7070", "as updated");
    assert_eq!(sellers[0].rating, crate::RatingSummary { count: 1, score_sum: 4 }, "the buyer's rating only");
    assert!(s.data_sellers(CHAIN, true, 100).await?.is_empty(), "not listed once it left");
    let a = s.data_order(CHAIN, B256::repeat_byte(0xaa)).await?.expect("order A");
    assert_eq!((a.state, a.method, a.received), (OrderState::Settled, PaymentMethod::Escrow, 5_242_880));
    assert_eq!((a.ended_by, a.settle_at), (Some(buyer), Some(1_700_004_000)));
    assert_eq!(a.paid_to_seller.unwrap() + a.refunded_to_buyer.unwrap(), a.price, "the split is the escrow");
    let b = s.data_order(CHAIN, B256::repeat_byte(0xbb)).await?.expect("order B");
    assert_eq!((b.state, b.method, b.nonce), (OrderState::Paid, PaymentMethod::OffChain, U256::MAX));
    let c = s.data_order(CHAIN, B256::repeat_byte(0xcc)).await?.expect("order C");
    assert_eq!(c.state, OrderState::Expired);
    assert_eq!(orders.len(), 3);
    let by_buyer = s.data_orders(CHAIN, crate::OrderFilter { buyer: Some(buyer), seller: None }, 100).await?;
    assert_eq!(by_buyer.len(), 3);
    let none = s.data_orders(CHAIN, crate::OrderFilter { buyer: Some(seller), seller: None }, 100).await?;
    assert!(none.is_empty());
    assert_eq!(ratings.len(), 2);
    assert!(ratings[0].as_seller && ratings[0].rater == buyer && ratings[0].score == 4);
    assert!(!ratings[1].as_seller && ratings[1].rated == buyer && ratings[1].score == 5);
    assert_eq!(s.data_ratings_of(CHAIN, buyer, 10).await?.len(), 1);

    // Rebuilt from the stored logs, whole or up to a cut.
    let last = blocks.len() - 1;
    assert_eq!(s.rollback_to(CHAIN, &blocks[last]).await?, 0);
    assert_eq!(data_state(s).await?, late, "rebuilt from every row");
    assert_eq!(s.rollback_to(CHAIN, &blocks[cut]).await?, (last - cut) as u64);
    assert_eq!(data_state(s).await?, early, "rebuilt from the rows before the cut");
    assert_eq!(early.1.len(), 1);
    assert!(early.2.is_empty() && early.0[0].registered);
    s.apply_batch(&rest).await?;
    assert_eq!(data_state(s).await?, late);
    Ok(())
}
