//! The stored encoding pinned: today's rows, the rows written before versions, and a database
//! holding the latter rebuilt to the same state on both backends.

use std::collections::BTreeSet;

use sqlx::Row;

use super::fixture::history;
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
    }
}

#[test]
fn every_variant_round_trips() {
    let events = history();
    let covered: BTreeSet<_> = events.iter().map(variant).collect();
    assert_eq!(covered, (0..14).collect(), "the fixture uses every variant");
    for event in &events {
        let text = encode(event);
        assert_eq!(decode(&text).unwrap(), *event, "{text}");
        let kind = serde_json::from_str::<serde_json::Value>(&text).unwrap()["kind"].clone();
        assert_eq!(kind, event.kind(), "the stored kind is the chain_logs.kind column's");
    }
}

#[test]
fn todays_encoding_is_pinned() {
    for (event, pinned) in history().iter().zip(V1) {
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
