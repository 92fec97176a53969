//! The scheduler on a real anvil with the real local executor: a purchase runs and completes with
//! the CID of its real output; bad jobs and bad inputs are refunded with a reason; a restart after a
//! crash at any step settles each task exactly once.

use std::sync::Arc;
use std::time::Duration;

use agora_chain::Sender;
use agora_chain::anvil::Anvil;
use agora_chain::bindings::{ComputeMarket, MarketToken};
use agora_chain::deploy::Deployments;
use agora_chain::testing::{BUYER, OPERATOR, TestChain, send};
use agora_compute::{LocalRunner, Scheduler, SchedulerConfig};
use agora_content::{AnyStore, ContentConfig, ContentStore};
use agora_executor::{Catalogue, Limits, LocalConfig, LocalExecutor, sample_apps};
use agora_indexer::{Indexer, IndexerConfig};
use agora_market::Runtime;
use agora_market::demo::{demo_services, listings};
use agora_store::testing::TestDb;
use agora_store::{ComputeStage, TaskStatus};
use alloy::primitives::U256;
use alloy::providers::{DynProvider, Provider};

const LOOP_FOREVER: &str = r#"(module (memory (export "memory") 1) (func (export "_start") (loop (br 0))))"#;

struct Env {
    anvil: Anvil,
    d: Deployments,
    buyer: DynProvider,
    operator: Sender,
    _dir: tempfile::TempDir,
    content: Arc<AnyStore>,
}

async fn env() -> anyhow::Result<Env> {
    let c = TestChain::start().await?;
    let mut services = demo_services();
    // A fourth service whose app loops forever, and a fifth of a kind no app serves here.
    let mut looping = services[0].clone().with_kind("gpu-rendering");
    looping.metadata.runtime = Some(Runtime::Local { app: "loop".into() });
    services.push(looping);
    services.push(services[0].clone().with_kind("quantum-annealing"));
    c.list(&listings(&services)).await?;
    let amt = U256::from(10u64).pow(U256::from(21u64));
    c.mint(&[c.address(BUYER)], amt).await?;
    let buyer = c.provider(BUYER);
    send(MarketToken::new(c.d.market_token, buyer.clone()).approve(c.d.compute_market, amt)).await?;
    let operator = c.sender(OPERATOR).await?;
    let dir = tempfile::tempdir()?;
    let content =
        Arc::new(agora_content::open(&ContentConfig { dir: dir.path().join("content"), ipfs_api: None }).await?);
    Ok(Env { anvil: c.anvil, d: c.d, buyer, operator, _dir: dir, content })
}

async fn buy(e: &Env, service: u64, input: &str) -> anyhow::Result<u64> {
    let market = ComputeMarket::new(e.d.compute_market, e.buyer.clone());
    let value = match service {
        1 | 4 | 5 => U256::from(10_000_000_000_000_000u64),
        2 => U256::from(20_000_000_000_000_000u64),
        _ => U256::ZERO,
    };
    let terms = market.getService(U256::from(service)).call().await?;
    let r = send(
        market.buyCompute(U256::from(service), input.into(), U256::from(terms.price), terms.maxRunTime).value(value),
    )
    .await?;
    Ok(r.decoded_log::<ComputeMarket::TaskCreated>().expect("TaskCreated").data.taskId.to::<u64>())
}

fn scheduler(e: &Env, db: &TestDb, executor: &LocalExecutor) -> anyhow::Result<Arc<Scheduler>> {
    let apps = sample_apps();
    let wordcount = executor.register_app(apps.iter().find(|a| a.name == "wordcount").expect("wordcount").source)?;
    let looping = executor.register_app(LOOP_FOREVER.as_bytes())?;
    let limits = Limits { fuel: 50_000_000, ..Limits::default() };
    let video = Limits { memory_bytes: 2 << 30, output_bytes: 64 << 20, ..Limits::default() };
    let dispatch = agora_executor::ffmpeg::Dispatch {
        wasm: executor.clone(),
        ffmpeg: Some(agora_executor::ffmpeg::FfmpegExecutor::new("ffmpeg", std::env::temp_dir())),
        model: Some(Arc::new(agora_inference::DigitsExecutor::new(agora_inference::DigitModel::train(200)?.0))),
    };
    let mut catalogue = Catalogue::new(Arc::new(dispatch), Some(executor.clone()));
    catalogue.install("wordcount", wordcount, limits.clone());
    catalogue.install("loop", looping, limits.clone());
    catalogue.install("digits", agora_executor::AppId::new(agora_inference::DIGITS_APP), limits);
    catalogue.install_transcode("transcode", video);
    let local = LocalRunner::new(Arc::new(catalogue), e.content.clone());
    Ok(Scheduler::new(
        db.store.clone(),
        e.operator.clone(),
        vec![Arc::new(local)],
        SchedulerConfig {
            chain_id: e.d.chain_id,
            market: e.d.compute_market,
            services: Vec::new(),
            poll: Duration::from_millis(50),
            failpoint: None,
        },
    ))
}

async fn sync(e: &Env, db: &TestDb) -> anyhow::Result<()> {
    let ix = Indexer::new(
        agora_chain::read_provider(e.anvil.url())?,
        db.store.clone(),
        IndexerConfig::new(e.d.chain_id, e.d.indexed_contracts(), e.d.deploy_block),
    );
    ix.sync_to(e.buyer.get_block_number().await?).await?;
    Ok(())
}

#[tokio::test]
async fn bought_tasks_run_for_real_and_settle_once() -> anyhow::Result<()> {
    let e = env().await?;
    let db = TestDb::sqlite().await?;
    let executor = LocalExecutor::new(LocalConfig::default())?;
    let s = scheduler(&e, &db, &executor)?;

    let text = "the quick brown fox\njumps over the lazy dog\n";
    let upload = e.content.put(text.as_bytes().to_vec()).await?;
    let by_cid = buy(&e, 3, &upload.to_string()).await?;
    let inline = buy(&e, 3, "one two three").await?;
    let missing = buy(&e, 3, &agora_content::cid_of(b"never uploaded").to_string()).await?;
    let forever = buy(&e, 4, "{}").await?;
    let not_ours = buy(&e, 5, "{}").await?; // no app for its kind here
    // A handwritten 0 from the digits dataset, as the 8×8 grid the dataset uses.
    let zero = r#"{"pixels":[0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,0,11,8,0,0,4,12,0,0,8,8,0,0,5,8,0,0,9,8,0,0,4,11,0,1,12,7,0,0,2,14,5,10,12,0,0,0,0,6,13,10,0,0,0]}"#;
    let digit = buy(&e, 1, zero).await?;
    let clip = e.content.put(test_clip()?).await?;
    let video = buy(&e, 2, &clip.to_string()).await?;
    let webm = buy(&e, 2, &format!(r#"{{"input":"{clip}","resolution":"360p","codec":"vp9"}}"#)).await?;
    let too_big = buy(&e, 2, &format!(r#"{{"input":"{clip}","resolution":"4320p"}}"#)).await?;
    let not_video = buy(&e, 2, &upload.to_string()).await?;

    sync(&e, &db).await?;
    s.clone().drain(Duration::from_secs(60)).await?;
    sync(&e, &db).await?;

    let chain = e.d.chain_id;
    let task = |id| {
        let store = db.store.clone();
        async move { store.task(chain, id).await.map(|t| t.expect("task")) }
    };
    let t = task(by_cid).await?;
    assert_eq!(t.status, TaskStatus::Completed);
    let result: agora_content::Cid = t.result_hash.as_deref().expect("result").parse()?;
    let output = e.content.get(&result).await?.expect("output stored");
    assert_eq!(std::str::from_utf8(&output)?, "{\"lines\":2,\"words\":9,\"bytes\":44}\n");
    let kinds: Vec<_> = db.store.task_timeline(chain, by_cid).await?.into_iter().map(|x| x.kind).collect();
    assert_eq!(kinds, ["TaskCreated", "TaskInput", "TaskStarted", "TaskCompleted"]);

    let t = task(inline).await?;
    assert_eq!(t.status, TaskStatus::Completed);
    let output = e.content.get(&t.result_hash.expect("result").parse()?).await?.expect("output");
    assert_eq!(std::str::from_utf8(&output)?, "{\"lines\":0,\"words\":3,\"bytes\":13}\n");

    let t = task(missing).await?;
    assert_eq!(t.status, TaskStatus::Refunded);
    assert!(t.failure_reason.as_deref().is_some_and(|r| r.contains("is not in the content store")), "{t:?}");

    let t = task(forever).await?;
    assert_eq!(t.status, TaskStatus::Refunded);
    assert!(t.failure_reason.as_deref().is_some_and(|r| r.contains("fuel")), "{t:?}");

    let t = task(digit).await?;
    assert_eq!(t.status, TaskStatus::Completed, "{t:?}");
    let out = e.content.get(&t.result_hash.expect("result").parse()?).await?.expect("output");
    let answer: serde_json::Value = serde_json::from_slice(&out)?;
    assert_eq!(answer["digit"], 0, "{answer}");

    let t = task(video).await?;
    assert_eq!(t.status, TaskStatus::Completed, "{t:?}");
    let mp4 = e.content.get(&t.result_hash.expect("result").parse()?).await?.expect("output");
    assert_eq!(&mp4[4..8], b"ftyp", "an MP4 came out");
    assert_eq!(probe_height(&mp4)?, 240, "a bare CID takes the default resolution");

    let t = task(webm).await?;
    assert_eq!(t.status, TaskStatus::Completed, "{t:?}");
    let out = e.content.get(&t.result_hash.expect("result").parse()?).await?.expect("output");
    assert_eq!(&out[..4], [0x1a, 0x45, 0xdf, 0xa3], "a WebM (EBML) came out");
    assert_eq!(probe_height(&out)?, 360, "the chosen resolution");

    let t = task(too_big).await?;
    assert_eq!(t.status, TaskStatus::Refunded);
    assert!(t.failure_reason.as_deref().is_some_and(|r| r.contains("is not one of 240p")), "{t:?}");

    let t = task(not_video).await?;
    assert_eq!(t.status, TaskStatus::Refunded);
    assert!(t.failure_reason.as_deref().is_some_and(|r| r.starts_with("ffmpeg: ")), "{t:?}");

    assert_eq!(task(not_ours).await?.status, TaskStatus::Created, "left for another node or the buyer's refund");
    assert_eq!(db.store.compute_record(chain, not_ours).await?.expect("job").stage, ComputeStage::Ignored);

    // A crash after completeTask was mined but before the job was marked done: the restarted
    // scheduler tries again, the market refuses a second settlement, and nothing is paid twice.
    db.store.set_compute_stage(chain, by_cid, ComputeStage::Executed, None, None, 0).await?;
    db.store.set_compute_stage(chain, missing, ComputeStage::Failing, None, None, 0).await?;
    db.store.set_compute_stage(chain, inline, ComputeStage::Accepted, None, None, 0).await?;
    let restarted = scheduler(&e, &db, &executor)?;
    // The indexed status already says final: reconciled without a transaction.
    let head = e.buyer.get_block_number().await?;
    restarted.clone().drain(Duration::from_secs(30)).await?;
    assert_eq!(e.buyer.get_block_number().await?, head, "no transaction was sent for settled tasks");
    for id in [by_cid, inline, missing] {
        assert_eq!(db.store.compute_record(chain, id).await?.expect("job").stage, ComputeStage::Done);
    }
    db.finish().await?;
    e.anvil.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_crash_before_the_index_catches_up_still_settles_once() -> anyhow::Result<()> {
    let e = env().await?;
    let db = TestDb::sqlite().await?;
    let executor = LocalExecutor::new(LocalConfig::default())?;
    let s = scheduler(&e, &db, &executor)?;
    let id = buy(&e, 3, "a b c").await?;
    sync(&e, &db).await?;
    s.clone().drain(Duration::from_secs(30)).await?;
    // Completed on chain; the indexer has not seen it yet and the job is rolled back to
    // "executed", as after a crash between the mined completeTask and the job record.
    db.store.set_compute_stage(e.d.chain_id, id, ComputeStage::Executed, None, None, 0).await?;
    let restarted = scheduler(&e, &db, &executor)?;
    restarted.clone().drain(Duration::from_secs(30)).await?;
    sync(&e, &db).await?;
    let timeline: Vec<_> = db.store.task_timeline(e.d.chain_id, id).await?.into_iter().map(|x| x.kind).collect();
    assert_eq!(timeline.iter().filter(|k| *k == "TaskCompleted").count(), 1, "{timeline:?}");
    assert_eq!(db.store.task(e.d.chain_id, id).await?.expect("task").status, TaskStatus::Completed);
    db.finish().await?;
    e.anvil.stop().await?;
    Ok(())
}

/// A one-second 320×240 test clip from ffmpeg's own test source.
fn test_clip() -> anyhow::Result<Vec<u8>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("clip.mp4");
    let status = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=duration=1:size=320x240:rate=10"])
        .args(["-c:v", "libx264", "-pix_fmt", "yuv420p", "-y"])
        .arg(&path)
        .status()?;
    anyhow::ensure!(status.success(), "ffmpeg could not make the test clip");
    Ok(std::fs::read(path)?)
}

fn probe_height(mp4: &[u8]) -> anyhow::Result<u32> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("out.mp4");
    std::fs::write(&path, mp4)?;
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=height", "-of", "csv=p=0"])
        .arg(&path)
        .output()?;
    Ok(String::from_utf8(out.stdout)?.trim().parse()?)
}

#[tokio::test]
async fn a_result_ready_after_the_deadline_is_refunded_not_paid() -> anyhow::Result<()> {
    let e = env().await?;
    let db = TestDb::sqlite().await?;
    let executor = LocalExecutor::new(LocalConfig::default())?;
    let id = buy(&e, 3, "late late late").await?;
    sync(&e, &db).await?;
    // The job ran, but its result is ready only after the task's deadline (as after a node that
    // was down too long): the market no longer pays for it, so the buyer gets the refund.
    let chain = e.d.chain_id;
    let output = e.content.put(b"{\"words\":3}\n".to_vec()).await?;
    db.store.create_compute_record(chain, id, ComputeStage::Accepted, "local", "wordcount", 0).await?;
    db.store.set_compute_stage(chain, id, ComputeStage::Executed, Some(&output.to_string()), None, 0).await?;
    let deadline = db.store.task(chain, id).await?.expect("task").deadline.expect("deadline");
    let now = e.buyer.get_block(alloy::eips::BlockId::latest()).await?.expect("block").header.timestamp;
    e.buyer.raw_request::<_, serde_json::Value>("evm_increaseTime".into(), (deadline - now + 1,)).await?;
    e.buyer.raw_request::<_, serde_json::Value>("evm_mine".into(), ()).await?;
    scheduler(&e, &db, &executor)?.drain(Duration::from_secs(30)).await?;
    sync(&e, &db).await?;
    let t = db.store.task(chain, id).await?.expect("task");
    assert_eq!(t.status, TaskStatus::Refunded, "{t:?}");
    assert!(t.failure_reason.as_deref().is_some_and(|r| r.contains("after the task's deadline")), "{t:?}");
    db.finish().await?;
    e.anvil.stop().await?;
    Ok(())
}
