//! Repository tests, run against both SQLite and PostgreSQL.

use agora_store::testing::TestDb;
use agora_store::{Batch, BlockRef, Error, IndexedLog, LogMeta, MarketEvent, Session, TaskStatus};

const CHAIN: u64 = 31337;

fn block(n: u64, fork: &str) -> BlockRef {
    BlockRef {
        number: n,
        hash: format!("0x{fork}{n:063x}"),
        parent_hash: format!("0x{fork}{:063x}", n.saturating_sub(1)),
        timestamp: 1_700_000_000 + n,
    }
}

/// A log of the transaction labelled `tx` (its hash is the label's keccak, 32 bytes like a real one).
fn log(b: &BlockRef, tx: &str, index: u64, event: MarketEvent) -> IndexedLog {
    let tx = format!("{:#x}", alloy::primitives::keccak256(tx));
    IndexedLog {
        meta: LogMeta {
            block_number: b.number,
            block_hash: b.hash.clone(),
            block_timestamp: b.timestamp,
            tx_hash: tx,
            log_index: index,
            address: "0x5fbdb2315678afecb367f032d93f642f64180aa3".into(),
        },
        event,
    }
}

fn listed(id: u64) -> MarketEvent {
    MarketEvent::ServiceListed {
        service_id: id,
        provider: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8".into(),
        token: "0x0000000000000000000000000000000000000000".into(),
        price: "10000000000000000".into(),
        max_run_time: 300,
        metadata_uri: "data:application/json,{}".into(),
    }
}

fn created(task: u64, service: u64) -> MarketEvent {
    MarketEvent::TaskCreated {
        task_id: task,
        user: "0x90f79bf6eb2c4f870365e785982e1f101e93b906".into(),
        service_id: service,
        amount: "10000000000000000".into(),
    }
}

/// Blocks 1..=3 on fork "a": a service in block 1, task 1 bought in block 2, completed in block 3.
fn history() -> (Vec<BlockRef>, Vec<IndexedLog>) {
    let blocks: Vec<_> = (1..=3).map(|n| block(n, "a")).collect();
    let logs = vec![
        log(&blocks[0], "0xt1", 0, listed(1)),
        log(&blocks[1], "0xt2", 0, created(1, 1)),
        log(
            &blocks[1],
            "0xt2",
            1,
            MarketEvent::TaskInput { task_id: 1, deadline: 1_700_000_902, input: "bafy-in".into() },
        ),
        log(&blocks[2], "0xt3", 0, MarketEvent::TaskStarted { task_id: 1 }),
        log(&blocks[2], "0xt3", 1, MarketEvent::TaskCompleted { task_id: 1, result_hash: "bafy-out".into() }),
    ];
    (blocks, logs)
}

async fn for_each_backend<F, Fut>(f: F) -> anyhow::Result<()>
where
    F: Fn(TestDb) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<TestDb>>,
{
    for db in TestDb::both().await? {
        let label = db.label;
        let db = f(db).await.map_err(|e| e.context(format!("backend {label}")))?;
        db.finish().await?;
    }
    Ok(())
}

#[tokio::test]
async fn applying_a_range_twice_changes_nothing() -> anyhow::Result<()> {
    for_each_backend(|db| async move {
        let s = &db.store;
        s.init_cursor(CHAIN, &block(0, "a")).await?;
        let (blocks, logs) = history();
        let batch = Batch { chain_id: CHAIN, expected_cursor: 0, blocks: blocks.clone(), logs: logs.clone() };
        let first = s.apply_batch(&batch).await?;
        assert_eq!(first.applied.len(), 5);
        assert_eq!(first.duplicates, 0);

        // An operator's re-scan sends the same logs again.
        s.rewind_cursor(CHAIN, &block(0, "a")).await?;
        let again = s.apply_batch(&batch).await?;
        assert!(again.applied.is_empty(), "{} logs applied twice", again.applied.len());
        assert_eq!(again.duplicates, 5);
        assert_eq!(s.log_count(CHAIN).await?, 5);
        assert_eq!(s.tasks(CHAIN, None, 10).await?.len(), 1);

        let task = s.task(CHAIN, 1).await?.expect("task 1");
        assert_eq!(task.status, TaskStatus::Completed);
        assert_eq!(task.result_hash.as_deref(), Some("bafy-out"));
        assert_eq!(task.input.as_deref(), Some("bafy-in"));
        assert_eq!(task.deadline, Some(1_700_000_902));
        assert_eq!(task.token, alloy::primitives::Address::ZERO, "token comes from the service");
        let kinds: Vec<_> = s.task_timeline(CHAIN, 1).await?.into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["TaskCreated", "TaskInput", "TaskStarted", "TaskCompleted"]);
        Ok(db)
    })
    .await
}

#[tokio::test]
async fn a_batch_for_a_moved_cursor_writes_nothing() -> anyhow::Result<()> {
    for_each_backend(|db| async move {
        let s = &db.store;
        s.init_cursor(CHAIN, &block(0, "a")).await?;
        let (blocks, logs) = history();
        let stale = Batch { chain_id: CHAIN, expected_cursor: 7, blocks, logs };
        match s.apply_batch(&stale).await {
            Err(Error::CursorMoved { expected: 7, found: Some(0), .. }) => {}
            other => panic!("expected CursorMoved, got {other:?}"),
        }
        assert_eq!(s.log_count(CHAIN).await?, 0);
        assert!(s.services(CHAIN).await?.is_empty());
        assert_eq!(s.cursor(CHAIN).await?.map(|c| c.block_number), Some(0));
        Ok(db)
    })
    .await
}

#[tokio::test]
async fn rollback_rebuilds_state_from_surviving_logs() -> anyhow::Result<()> {
    for_each_backend(|db| async move {
        let s = &db.store;
        s.init_cursor(CHAIN, &block(0, "a")).await?;
        let (blocks, logs) = history();
        s.apply_batch(&Batch { chain_id: CHAIN, expected_cursor: 0, blocks: blocks.clone(), logs }).await?;

        // Block 3 (start + completion) is reorged away; block 2 survives.
        let removed = s.rollback_to(CHAIN, &blocks[1]).await?;
        assert_eq!(removed, 2);
        let task = s.task(CHAIN, 1).await?.expect("task 1 survives");
        assert_eq!(task.status, TaskStatus::Created);
        assert_eq!(task.result_hash, None);
        assert_eq!(s.cursor(CHAIN).await?.map(|c| c.block_number), Some(2));
        assert_eq!(s.recent_blocks(CHAIN, 10).await?.first().map(|b| b.number), Some(2));

        // The new fork's block 3 refunds the task instead.
        let b3 = block(3, "b");
        let refund = vec![
            log(&b3, "0xt3b", 0, MarketEvent::TaskFailed { task_id: 1, reason: "bad input".into() }),
            log(&b3, "0xt3b", 1, MarketEvent::TaskRefunded { task_id: 1 }),
        ];
        s.apply_batch(&Batch { chain_id: CHAIN, expected_cursor: 2, blocks: vec![b3], logs: refund }).await?;
        let task = s.task(CHAIN, 1).await?.expect("task 1");
        assert_eq!(task.status, TaskStatus::Refunded);
        assert_eq!(task.failure_reason.as_deref(), Some("bad input"));
        assert_eq!(s.log_count(CHAIN).await?, 5);
        Ok(db)
    })
    .await
}

#[tokio::test]
async fn a_task_for_an_unknown_service_is_rejected_whole() -> anyhow::Result<()> {
    for_each_backend(|db| async move {
        let s = &db.store;
        s.init_cursor(CHAIN, &block(0, "a")).await?;
        let b1 = block(1, "a");
        let bad = vec![log(&b1, "0xt1", 0, created(1, 99))];
        let err = s.apply_batch(&Batch { chain_id: CHAIN, expected_cursor: 0, blocks: vec![b1], logs: bad }).await;
        assert!(matches!(err, Err(Error::Inconsistent(_))), "{err:?}");
        assert_eq!(s.log_count(CHAIN).await?, 0, "nothing of the failed batch is kept");
        assert_eq!(s.cursor(CHAIN).await?.map(|c| c.block_number), Some(0));
        Ok(db)
    })
    .await
}

#[tokio::test]
async fn tasks_filter_by_user_and_chains_stay_apart() -> anyhow::Result<()> {
    for_each_backend(|db| async move {
        let s = &db.store;
        s.init_cursor(CHAIN, &block(0, "a")).await?;
        let (blocks, logs) = history();
        s.apply_batch(&Batch { chain_id: CHAIN, expected_cursor: 0, blocks, logs }).await?;
        assert_eq!(s.tasks(CHAIN, Some("0x90F79bf6EB2c4f870365E785982E1f101E93b906"), 10).await?.len(), 1);
        assert!(s.tasks(CHAIN, Some("0x0000000000000000000000000000000000000001"), 10).await?.is_empty());
        assert!(s.tasks(1, None, 10).await?.is_empty());
        s.reset_chain(CHAIN).await?;
        assert!(s.cursor(CHAIN).await?.is_none());
        assert_eq!(s.log_count(CHAIN).await?, 0);
        Ok(db)
    })
    .await
}

#[tokio::test]
async fn sign_in_nonces_are_single_use_and_sessions_expire() -> anyhow::Result<()> {
    for_each_backend(|db| async move {
        let store = &db.store;
        store.issue_nonce("n1", 1_000, 900).await?;
        assert!(!store.consume_nonce("unknown", 950).await?, "a nonce never issued");
        assert!(store.consume_nonce("n1", 950).await?, "first use");
        assert!(!store.consume_nonce("n1", 950).await?, "replayed nonce");

        store.issue_nonce("n2", 1_000, 900).await?;
        assert!(!store.consume_nonce("n2", 1_000).await?, "expired at its expiry time");

        let s = Session { address: "0xabc".into(), chain_id: 31337, created_at: 900, expires_at: 2_000 };
        store.create_session("h1", &s).await?;
        assert_eq!(store.session("h1", 1_999).await?, Some(s.clone()));
        assert_eq!(store.session("h1", 2_000).await?, None, "expired");
        assert_eq!(store.session("other", 1_000).await?, None);
        // Issuing a nonce later sweeps what expired.
        store.issue_nonce("n3", 5_000, 3_000).await?;
        store.create_session("h2", &Session { expires_at: 9_000, ..s }).await?;
        assert!(store.delete_session("h2").await?);
        assert!(!store.delete_session("h2").await?, "already ended");
        assert!(!store.delete_session("h1").await?, "swept when it expired");
        Ok(db)
    })
    .await
}

#[tokio::test]
async fn iexec_records_round_trip_and_a_fresh_chain_clears_them() -> anyhow::Result<()> {
    use agora_store::{IexecAppRow, IexecJobRow, IexecJobStatus};
    use alloy::primitives::{B256, address};
    for_each_backend(|db| async move {
        let store = &db.store;
        let hub = address!("0xe1da8919f262ee86f9be05059c9280142cf23f48");
        assert_eq!(store.iexec_app(CHAIN, 3, hub).await?, None);
        let mut app = IexecAppRow {
            service_id: 3,
            hub,
            app_name: "wordcount".into(),
            address: address!("0xbb167114addfe34ca065f7d2eee0e839dfa63e5b"),
            apporder: None,
        };
        store.put_iexec_app(CHAIN, &app, 10).await?;
        app.apporder = Some(r#"{"app":"0xbb16","sign":"0x01"}"#.into());
        store.put_iexec_app(CHAIN, &app, 11).await?;
        assert_eq!(store.iexec_app(CHAIN, 3, hub).await?, Some(app.clone()));
        assert_eq!(
            store.iexec_app(CHAIN, 3, address!("0x0000000000000000000000000000000000000001")).await?,
            None,
            "other hub"
        );

        let mut job = IexecJobRow::new(7, hub, app.address);
        store.put_iexec_job(CHAIN, &job, 12).await?;
        assert_eq!(store.iexec_job(CHAIN, 7).await?.map(|j| j.status), Some(IexecJobStatus::New));
        job.requestorder = Some("{}".into());
        job.request_hash = Some(B256::repeat_byte(0xab));
        job.deal_id = Some(B256::repeat_byte(0xcd));
        job.iexec_task_id = Some(B256::repeat_byte(0xef));
        job.final_deadline = Some(1_795_326_041);
        job.status = IexecJobStatus::Completed;
        job.result_location = Some("/ipfs/bafkreido7yr2jtq3ebxpkwxg7d5n3hjoxyd3eyluohjuggepkwzpiq73mi".into());
        store.put_iexec_job(CHAIN, &job, 13).await?;
        assert_eq!(store.iexec_job(CHAIN, 7).await?, Some(job.clone()));
        store.put_iexec_job(CHAIN, &IexecJobRow::new(8, hub, app.address), 14).await?;
        let mut listed = store.iexec_jobs(CHAIN, &[7, 8, 9]).await?;
        listed.sort_by_key(|j| j.task_id);
        assert_eq!(listed.iter().map(|j| j.task_id).collect::<Vec<_>>(), [7, 8]);
        assert!(store.iexec_jobs(CHAIN, &[]).await?.is_empty());
        assert!(store.iexec_jobs(CHAIN + 1, &[7]).await?.is_empty(), "chains stay apart");

        store.reset_chain(CHAIN).await?;
        assert_eq!(store.iexec_job(CHAIN, 7).await?, None);
        assert_eq!(store.iexec_app(CHAIN, 3, hub).await?, None);
        Ok(db)
    })
    .await
}

#[tokio::test]
async fn channel_rows_vouchers_and_settlements_come_back_typed() -> anyhow::Result<()> {
    use agora_store::{ChannelFilter, ChannelState, NewVoucher, Settlement, SettlementOutcome};
    use alloy::primitives::{B256, U256, address};
    for_each_backend(|db| async move {
        let store = &db.store;
        let id = B256::repeat_byte(0x1d);
        let payer = address!("0x90f79bf6eb2c4f870365e785982e1f101e93b906");
        let payee = address!("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
        let b0 = block(0, "a");
        let b1 = block(1, "a");
        store.init_cursor(CHAIN, &b0).await?;
        let opened = MarketEvent::ChannelOpened {
            channel_id: format!("{id:#x}"),
            payer: format!("{payer:#x}"),
            payee: format!("{payee:#x}"),
            token: "0x0000000000000000000000000000000000000000".into(),
            signer: format!("{payer:#x}"),
            salt: format!("{:#x}", B256::repeat_byte(7)),
            deposit: "1000".into(),
            expiry: 1_700_000_600,
        };
        let logs = vec![log(&b1, "0xc1", 0, opened)];
        store.apply_batch(&Batch { chain_id: CHAIN, expected_cursor: 0, blocks: vec![b1], logs }).await?;

        let ch = store.channel(CHAIN, id).await?.expect("indexed");
        assert_eq!((ch.payer, ch.payee, ch.signer), (payer, payee, payer));
        assert_eq!((ch.deposit, ch.salt, ch.state), (U256::from(1000), B256::repeat_byte(7), ChannelState::Open));
        assert_eq!(ch.voucher, None);

        let mut signature = [0x11u8; 65];
        signature[64] = 28;
        let voucher =
            |amount: u64, count| NewVoucher { channel_id: id, cumulative_amount: U256::from(amount), signature, count };
        store.store_vouchers(CHAIN, &[voucher(100, 1)], 10).await?;
        store.store_vouchers(CHAIN, &[voucher(250, 2)], 11).await?;
        let stored = store.channel(CHAIN, id).await?.and_then(|c| c.voucher).expect("voucher");
        assert_eq!((stored.cumulative_amount, stored.signature), (U256::from(250), signature));
        assert_eq!((stored.vouchers_accepted, stored.updated_at), (3, 11));
        assert_eq!(store.best_vouchers(CHAIN).await?, [(id, U256::from(250))]);

        let by = |payer, payee| ChannelFilter { payer, payee };
        assert_eq!(store.channels(CHAIN, by(Some(payer), None), 10).await?.len(), 1);
        assert_eq!(store.channels(CHAIN, by(None, Some(payee)), 10).await?.len(), 1);
        assert!(store.channels(CHAIN, by(Some(payee), None), 10).await?.is_empty(), "the payee paid nothing");
        assert_eq!(store.channels_expiring(CHAIN, payee, 1_700_000_000, 600).await?.len(), 1);
        assert!(store.channels_expiring(CHAIN, payee, 1_700_000_000, 599).await?.is_empty());

        assert_eq!(store.settlement(CHAIN, id).await?, None);
        let sending =
            Settlement { cumulative_amount: U256::from(250), tx_hash: None, outcome: SettlementOutcome::Sending };
        store.record_settlement(CHAIN, id, &sending, 20).await?;
        assert_eq!(store.settlement(CHAIN, id).await?, Some(sending.clone()));
        let closed =
            Settlement { tx_hash: Some(B256::repeat_byte(0x7c)), outcome: SettlementOutcome::Closed, ..sending };
        store.record_settlement(CHAIN, id, &closed, 21).await?;
        assert_eq!(store.settlement(CHAIN, id).await?, Some(closed), "one row per channel, replaced");
        Ok(db)
    })
    .await
}

#[tokio::test]
async fn compute_records_and_background_runs_round_trip() -> anyhow::Result<()> {
    use agora_store::{BackgroundRun, ComputeStage};
    for_each_backend(|db| async move {
        let store = &db.store;
        let (blocks, logs) = history();
        store.init_cursor(CHAIN, &block(0, "a")).await?;
        // Task 1 bought (block 2), not yet started: it needs a record.
        let first =
            Batch { chain_id: CHAIN, expected_cursor: 0, blocks: blocks[..2].to_vec(), logs: logs[..3].to_vec() };
        store.apply_batch(&first).await?;
        assert_eq!(store.tasks_without_compute_record(CHAIN, 10).await?, [1]);
        let record = store.create_compute_record(CHAIN, 1, ComputeStage::Accepted, "local", "wordcount", 5).await?;
        assert_eq!(
            (record.stage, record.runner.as_str(), record.app.as_str()),
            (ComputeStage::Accepted, "local", "wordcount")
        );
        let again = store.create_compute_record(CHAIN, 1, ComputeStage::Ignored, "-", "-", 6).await?;
        assert_eq!(again, record, "an existing record is kept");
        assert!(store.tasks_without_compute_record(CHAIN, 10).await?.is_empty());
        assert_eq!(store.open_compute_records(CHAIN).await?, [1]);
        store.set_compute_stage(CHAIN, 1, ComputeStage::Executed, Some("bafy-out"), None, 7).await?;
        store.set_compute_stage(CHAIN, 1, ComputeStage::Done, None, None, 8).await?;
        let done = store.compute_record(CHAIN, 1).await?.expect("record");
        assert_eq!((done.stage, done.result_cid.as_deref()), (ComputeStage::Done, Some("bafy-out")));
        assert!(store.open_compute_records(CHAIN).await?.is_empty());

        let run = |started_at_ms, errors: Vec<String>| BackgroundRun {
            name: "channel-auto-settle".into(),
            started_at_ms,
            finished_at_ms: started_at_ms + 3,
            channels_touched: 1,
            errors,
        };
        store.record_background_run(&run(1_000, vec![])).await?;
        store.record_background_run(&run(2_000, vec!["0x1d: reverted".into()])).await?;
        store.record_background_run(&run(2_000, vec![])).await?;
        assert_eq!(store.background_runs(10).await?, [run(2_000, vec!["0x1d: reverted".into()]), run(1_000, vec![])]);
        assert_eq!(store.background_runs(1).await?.len(), 1);
        Ok(db)
    })
    .await
}

#[tokio::test]
async fn workerpool_tasks_come_back_typed_and_stay_in_their_scope() -> anyhow::Result<()> {
    use agora_store::{NewWorkerTask, WorkerOutcome, WorkerScope, WorkerStage, WorkerTaskUpdate};
    use alloy::primitives::{Address, B256};
    for_each_backend(|db| async move {
        let store = &db.store;
        let scope = WorkerScope {
            chain_id: CHAIN,
            genesis: B256::repeat_byte(0x01),
            hub: Address::repeat_byte(0x02),
            workerpool: Address::repeat_byte(0x03),
            worker: Address::repeat_byte(0x04),
        };
        let task = NewWorkerTask { task_id: B256::repeat_byte(0x7a), deal_id: B256::repeat_byte(0xde), idx: 0 };
        assert_eq!(store.iexec_worker_cursor(&scope).await?, None);
        store.iexec_worker_record_deals(&scope, None, 11, std::slice::from_ref(&task), 1).await?;
        assert_eq!(store.iexec_worker_cursor(&scope).await?, Some(11));
        let seen = store.iexec_worker_task(&scope, task.task_id).await?.expect("recorded");
        assert_eq!((seen.deal_id, seen.stage, seen.outcome), (task.deal_id, WorkerStage::Seen, None));

        let digest = B256::repeat_byte(0xd1);
        let stored =
            WorkerTaskUpdate { result_cid: Some("bafy-zip"), result_digest: Some(digest), ..Default::default() };
        store.iexec_worker_set_stage(&scope, task.task_id, WorkerStage::Stored, &stored, 2).await?;
        let sent = WorkerTaskUpdate { tx_hash: Some(B256::repeat_byte(0x5e)), ..Default::default() };
        store.iexec_worker_set_stage(&scope, task.task_id, WorkerStage::Contributing, &sent, 3).await?;
        let done = WorkerTaskUpdate { outcome: Some(WorkerOutcome::Completed), ..Default::default() };
        store.iexec_worker_set_stage(&scope, task.task_id, WorkerStage::Done, &done, 4).await?;
        let row = store.iexec_worker_task(&scope, task.task_id).await?.expect("row");
        assert_eq!((row.stage, row.outcome), (WorkerStage::Done, Some(WorkerOutcome::Completed)));
        assert_eq!((row.result_digest, row.tx_hash), (Some(digest), Some(B256::repeat_byte(0x5e))));
        assert_eq!(row.result_cid.as_deref(), Some("bafy-zip"));
        assert!(store.iexec_worker_open_tasks(&scope).await?.is_empty());

        let other = WorkerScope { worker: Address::repeat_byte(0x05), ..scope.clone() };
        assert!(store.iexec_worker_tasks(&other).await?.is_empty(), "another worker's scope");
        assert_eq!(store.iexec_worker_forget_other_chains(CHAIN, B256::repeat_byte(0x09)).await?, 2);
        assert!(store.iexec_worker_tasks(&scope).await?.is_empty(), "a fresh chain forgets the old one");
        Ok(db)
    })
    .await
}
