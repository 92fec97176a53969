//! iExec on anvil: PoCo deployed from its published artifacts, and the Agora workerpool serving
//! deals made the way the `iexec` CLI makes them (app, workerpool and request orders signed with
//! the CLI's TEE+TDX tag, matched by the requester).

// Tests print the figures they measure.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use agora_chain::anvil::{Anvil, locate_anvil};
use agora_content::{AnyStore, Cid, ContentConfig, ContentStore};
use agora_executor::{Limits, LocalConfig, LocalExecutor, sample_apps};
use agora_iexec::TaskStatus;
use agora_iexec::artifacts::PocoArtifacts;
use agora_iexec::bindings::{AppOrder, IexecHub, Registry, RequestOrder, Rlc};
use agora_iexec::orders::{SignedAppOrder, SignedRequestOrder, SignedWorkerpoolOrder, TEE_TDX_TAG, no_dataset};
use agora_iexec::poco::{self, DevPoco, DevSetup, RLC};
use agora_iexec::workerpool::{Workerpool, WorkerpoolConfig};
use agora_store::testing::TestDb;
use agora_store::{WorkerOutcome, WorkerScope, WorkerStage, WorkerTaskRow};
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::Filter;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use anyhow::{Context, Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

const APP_OWNER: usize = 1;
const POOL_OWNER: usize = 5;
const REQUESTER: usize = 6;
const SECOND_WORKER: usize = 7;
const DEPLOYER: usize = 9;
const PRICE: u64 = RLC / 10;

fn artifacts() -> PocoArtifacts {
    PocoArtifacts::locate(&std::env::current_dir().expect("cwd")).expect("PoCo artifacts: run `make deps` first")
}

async fn anvil() -> Result<Anvil> {
    let bin = locate_anvil(&std::env::current_dir()?).context("anvil in node_modules")?;
    Ok(Anvil::spawn_default(bin).await?)
}

#[tokio::test]
async fn poco_deploys_and_the_hub_answers() -> Result<()> {
    let anvil = anvil().await?;
    let deployer = agora_chain::signer_from_key(&anvil.accounts()[DEPLOYER].private_key)?;
    let started = Instant::now();
    let sender = agora_chain::Sender::connect(anvil.url(), deployer.clone(), agora_chain::SendPolicy::dev()).await?;
    let d = poco::deploy(&sender, &artifacts()).await?;
    let provider = sender.provider().clone();
    eprintln!("PoCo {} deployed on a fresh anvil in {:?}", d.poco_version, started.elapsed());
    let hub = IexecHub::new(d.hub, provider.clone());
    assert_eq!(hub.countCategory().call().await?, U256::from(6));
    assert_eq!(hub.token().call().await?, d.rlc);
    assert_eq!(hub.workerpoolregistry().call().await?, d.workerpool_registry);
    assert_eq!(hub.appregistry().call().await?, d.app_registry);
    assert_eq!(hub.owner().call().await?, deployer.address());
    assert_eq!(hub.symbol().call().await?, "SRLC");
    let domain = hub.domain().call().await?;
    assert_eq!((domain.name.as_str(), domain.version.as_str()), ("iExecODB", "5.0.0"));
    let xs = hub.viewCategory(U256::ZERO).call().await?;
    assert_eq!((xs.name.as_str(), xs.workClockTimeRef), ("XS", U256::from(300)));
    let short = hub.viewCategory(U256::from(5)).call().await?;
    assert_eq!((short.name.as_str(), short.workClockTimeRef), ("AGORA_TEST", U256::from(20)));
    assert_eq!(d.category("AGORA_TEST"), Some(5));
    let rlc = Rlc::new(d.rlc, provider.clone());
    assert_eq!(rlc.balanceOf(deployer.address()).call().await?, U256::from(87_000_000u64) * U256::from(RLC));
    // The registries answer, and know nothing yet.
    let registry = Registry::new(d.workerpool_registry, provider.clone());
    assert_eq!(registry.owner().call().await?, deployer.address());
    assert!(!registry.isRegistered(d.hub).call().await?);
    poco::verify(&provider, &d).await?;
    // The same deploy on a fresh anvil gives the same addresses.
    let again = anvil_with_poco().await?;
    assert_eq!(again.dev.deployment.hub, d.hub);
    assert_eq!(again.dev.deployment.rlc, d.rlc);
    Ok(())
}

/// A fresh anvil with PoCo and the dev set-up: 1,000 RLC for accounts 0–8, a pool for account 5.
struct Chain {
    anvil: Anvil,
    dev: DevPoco,
}

async fn anvil_with_poco() -> Result<Chain> {
    let anvil = anvil().await?;
    let key = |i: usize| agora_chain::signer_from_key(&anvil.accounts()[i].private_key);
    let setup = DevSetup {
        funded: (0..DEPLOYER).map(|i| Ok(key(i)?.address())).collect::<Result<_>>()?,
        rlc_each: U256::from(1000 * RLC),
        workerpools: vec![(key(POOL_OWNER)?.address(), "Agora workerpool".into())],
    };
    let started = Instant::now();
    let deployer = agora_chain::Sender::connect(anvil.url(), key(DEPLOYER)?, agora_chain::SendPolicy::dev()).await?;
    let dev = poco::deploy_dev(&deployer, &setup, &artifacts()).await?;
    eprintln!("dev set-up (PoCo, 9 RLC transfers, a workerpool) in {:?}", started.elapsed());
    Ok(Chain { anvil, dev })
}

/// Everything a workerpool test needs: the chain, a store, the content store, an HTTP server for
/// `/ipfs/<cid>`, the executor with the sample apps installed.
struct Env {
    chain: Chain,
    db: TestDb,
    _dir: tempfile::TempDir,
    content: Arc<AnyStore>,
    gateway: String,
    wasm: LocalExecutor,
    apps: HashMap<String, (agora_executor::AppId, Limits)>,
    /// One sender per key, shared by every workerpool of the test (as the node shares them).
    senders: std::sync::Mutex<HashMap<usize, agora_chain::Sender>>,
}

impl Env {
    async fn new(db: TestDb) -> Result<Self> {
        let chain = anvil_with_poco().await?;
        let dir = tempfile::tempdir()?;
        let content =
            Arc::new(agora_content::open(&ContentConfig { dir: dir.path().join("content"), ipfs_api: None }).await?);
        let gateway = serve_ipfs(content.clone()).await?;
        let wasm = LocalExecutor::new(LocalConfig { scratch_dir: dir.path().to_owned(), ..LocalConfig::default() })?;
        let mut apps = HashMap::new();
        for app in sample_apps() {
            let id = wasm.register_app(app.source)?;
            apps.insert(app.name.to_owned(), (id, Limits::default()));
        }
        Ok(Self { chain, db, _dir: dir, content, gateway, wasm, apps, senders: Default::default() })
    }

    fn key(&self, i: usize) -> PrivateKeySigner {
        agora_chain::signer_from_key(&self.chain.anvil.accounts()[i].private_key).expect("anvil key")
    }

    /// The one sender of account `i`'s key.
    fn sender(&self, i: usize) -> agora_chain::Sender {
        let mut senders = self.senders.lock().expect("senders");
        senders
            .entry(i)
            .or_insert_with(|| {
                let read = agora_chain::read_provider(self.chain.anvil.url()).expect("anvil URL");
                agora_chain::Sender::new(
                    read,
                    self.chain.dev.deployment.chain_id,
                    self.key(i),
                    agora_chain::SendPolicy::dev(),
                )
            })
            .clone()
    }

    fn provider(&self, i: usize) -> DynProvider {
        agora_chain::testing::signing_provider(self.chain.anvil.url(), self.key(i)).expect("provider")
    }

    fn hub(&self) -> IexecHub::IexecHubInstance<DynProvider> {
        IexecHub::new(self.chain.dev.deployment.hub, self.provider(REQUESTER))
    }

    fn config(&self, worker: usize) -> WorkerpoolConfig {
        let mut cfg =
            WorkerpoolConfig::new(self.chain.anvil.url(), self.chain.dev.deployment.hub, self.sender(POOL_OWNER));
        cfg.worker = self.sender(worker);
        cfg.workerpool = Some(self.chain.dev.workerpools[0]);
        cfg.stake = U256::from(100 * RLC);
        cfg.price = U256::from(PRICE);
        cfg.apps = self.apps.clone();
        cfg.poll = Duration::from_millis(100);
        cfg.from_block = Some(0);
        cfg
    }

    async fn workerpool(&self, cfg: WorkerpoolConfig) -> Result<Arc<Workerpool>> {
        let executor: Arc<dyn agora_executor::Executor> = Arc::new(self.wasm.clone());
        Ok(Workerpool::start(cfg, self.db.store.clone(), self.content.clone(), executor, Some(self.wasm.clone()))
            .await?)
    }

    /// Registers an app owned by account 1 with `multiaddr` (as `iexec app deploy` would).
    async fn app(&self, name: &str, multiaddr: &str, checksum: B256) -> Result<Address> {
        let owner = self.key(APP_OWNER).address();
        let registry = Registry::new(self.chain.dev.deployment.app_registry, self.provider(APP_OWNER));
        let args = (name.to_owned(), "DOCKER".to_owned(), Bytes::from(multiaddr.as_bytes().to_vec()), checksum);
        let address = registry
            .predictApp(owner, args.0.clone(), args.1.clone(), args.2.clone(), args.3, Bytes::new())
            .call()
            .await?;
        agora_chain::testing::send(registry.createApp(owner, args.0, args.1, args.2, args.3, Bytes::new())).await?;
        Ok(address)
    }

    /// Makes a deal as the CLI does: app order (owner 1), the pool's order (for its category),
    /// a request order (requester 6, trust 0) with `params`, all tagged TEE+TDX; the requester
    /// deposits RLC and matches them. Returns the deal id.
    async fn deal(&self, workerpoolorder: &SignedWorkerpoolOrder, app: Address, params: &str) -> Result<B256> {
        let category: u64 = workerpoolorder.category.try_into()?;
        let d = &self.chain.dev.deployment;
        let requester = self.key(REQUESTER);
        let rlc = Rlc::new(d.rlc, self.provider(REQUESTER));
        agora_chain::testing::send(rlc.approve(d.hub, U256::from(PRICE))).await?;
        agora_chain::testing::send(self.hub().deposit(U256::from(PRICE))).await?;
        let apporder = SignedAppOrder::sign(
            &self.key(APP_OWNER),
            d.chain_id,
            d.hub,
            AppOrder {
                app,
                appprice: U256::ZERO,
                volume: U256::from(1000),
                tag: TEE_TDX_TAG,
                datasetrestrict: Address::ZERO,
                workerpoolrestrict: Address::ZERO,
                requesterrestrict: Address::ZERO,
                salt: B256::ZERO,
            },
        )?;
        let requestorder = SignedRequestOrder::sign(
            &requester,
            d.chain_id,
            d.hub,
            RequestOrder {
                app,
                appmaxprice: U256::ZERO,
                dataset: Address::ZERO,
                datasetmaxprice: U256::ZERO,
                workerpool: workerpoolorder.workerpool,
                workerpoolmaxprice: U256::from(PRICE),
                requester: requester.address(),
                volume: U256::from(1),
                tag: TEE_TDX_TAG,
                category: U256::from(category),
                trust: U256::ZERO,
                beneficiary: requester.address(),
                callback: Address::ZERO,
                params: params.to_owned(),
                salt: B256::ZERO,
            },
        )?;
        // The CLI keeps signed orders as JSON: they must survive the trip.
        let requestorder: SignedRequestOrder = serde_json::from_value(serde_json::to_value(&requestorder)?)?;
        let receipt = agora_chain::testing::send(self.hub().matchOrders(
            apporder.to_call(),
            no_dataset(),
            workerpoolorder.to_call(),
            requestorder.to_call(),
        ))
        .await?;
        let matched = receipt.decoded_log::<IexecHub::OrdersMatched>().context("OrdersMatched")?;
        Ok(matched.data.dealid)
    }

    async fn task(&self, task_id: B256) -> Result<IexecHub::Task> {
        Ok(self.hub().viewTask(task_id).call().await?)
    }

    /// Waits (up to 60 s) until the task has `status` on the hub.
    async fn wait_status(&self, task_id: B256, status: TaskStatus) -> Result<IexecHub::Task> {
        let started = Instant::now();
        loop {
            let t = self.task(task_id).await?;
            if TaskStatus::try_from(t.status)? == status {
                return Ok(t);
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!("task {task_id} is {} after 60 s, expected {status}", t.status);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits (up to 30 s) until the worker of `scope` has recorded `task_id` at `stage`: the
    /// worker writes its row after the chain changes, so the chain's state says nothing about
    /// the row's.
    async fn wait_row(&self, scope: &WorkerScope, task_id: B256, stage: WorkerStage) -> Result<WorkerTaskRow> {
        let started = Instant::now();
        loop {
            let row = self.db.store.iexec_worker_task(scope, task_id).await?;
            match row {
                Some(row) if row.stage == stage => return Ok(row),
                _ if started.elapsed() > Duration::from_secs(30) => {
                    bail!("task {task_id}: the worker's row is {row:?} after 30 s, expected stage {stage:?}")
                }
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Contributions made to `task_id`, read from the hub's logs.
    async fn contributions(&self, task_id: B256) -> Result<Vec<Address>> {
        let filter = Filter::new()
            .address(self.chain.dev.deployment.hub)
            .event_signature(IexecHub::TaskContribute::SIGNATURE_HASH)
            .topic1(task_id)
            .from_block(0);
        let logs = self.provider(REQUESTER).get_logs(&filter).await?;
        Ok(logs
            .iter()
            .map(|l| IexecHub::TaskContribute::decode_log(&l.inner).map(|e| e.data.worker))
            .collect::<Result<_, _>>()?)
    }

    async fn advance(&self, secs: u64) -> Result<()> {
        let p = self.provider(REQUESTER);
        let _: serde_json::Value = p.raw_request("evm_increaseTime".into(), (secs,)).await?;
        let _: serde_json::Value = p.raw_request("evm_mine".into(), ()).await?;
        Ok(())
    }
}

/// A minimal HTTP server answering `GET /ipfs/<cid>` from the content store (404 otherwise), as
/// the node's API does for the workerpool's input files.
async fn serve_ipfs(content: Arc<AnyStore>) -> Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let content = content.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = req.split_whitespace().nth(1).unwrap_or("").to_owned();
                let body = match path.strip_prefix("/ipfs/").and_then(|c| c.parse::<Cid>().ok()) {
                    Some(cid) => content.get(&cid).await.ok().flatten(),
                    None => None,
                };
                let head = match &body {
                    Some(b) => format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", b.len()),
                    None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned(),
                };
                let _ = sock.write_all(head.as_bytes()).await;
                if let Some(b) = body {
                    let _ = sock.write_all(&b).await;
                }
            });
        }
    });
    Ok(url)
}

/// The pool's current order for `category`.
fn order(pool: &Workerpool, category: u64) -> Result<SignedWorkerpoolOrder> {
    pool.current_orders()
        .into_iter()
        .find(|o| o.category == U256::from(category))
        .context("the pool signs an order per category")
}

/// Waits (up to 30 s) until the pool offers an order for each of the six categories.
async fn wait_orders(pool: &Workerpool) -> Result<()> {
    let started = Instant::now();
    while pool.current_orders().len() < 6 {
        if started.elapsed() > Duration::from_secs(30) {
            bail!("the pool signed {} orders, expected 6", pool.current_orders().len());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

fn run(pool: &Arc<Workerpool>) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = watch::channel(false);
    let handle = tokio::spawn(Arc::clone(pool).run(rx));
    (tx, handle)
}

async fn wordcount_app(e: &Env) -> Result<Address> {
    let checksum = agora_iexec::apps::sample_app_checksum("wordcount").context("wordcount")?;
    e.app("agora-wordcount", &agora_iexec::apps::multiaddr_for("wordcount"), checksum).await
}

#[tokio::test]
async fn workerpool_completes_deals_on_both_databases() -> Result<()> {
    for db in TestDb::both().await? {
        let label = db.label;
        let e = Env::new(db).await?;
        completes_deals(&e).await.with_context(|| format!("on {label}"))?;
        e.db.finish().await?;
    }
    Ok(())
}

async fn completes_deals(e: &Env) -> Result<()> {
    let orders_file = e._dir.path().join("iexec/workerpoolorders.json");
    let mut cfg = e.config(POOL_OWNER);
    cfg.orders_file = Some(orders_file.clone());
    let pool = e.workerpool(cfg).await?;
    let (stop, handle) = run(&pool);
    // The pool stakes, and offers an order per category.
    let started = Instant::now();
    while pool.current_orders().len() < 6 || !orders_file.exists() {
        if started.elapsed() > Duration::from_secs(30) {
            bail!("the pool signed no orders");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let written: Vec<agora_iexec::orders::SignedWorkerpoolOrder> =
        serde_json::from_slice(&std::fs::read(&orders_file)?)?;
    assert_eq!(written.len(), 6);
    assert!(written.iter().all(|o| o.tag == TEE_TDX_TAG && o.workerpool == pool.address()));
    let owner = e.key(POOL_OWNER).address();
    assert_eq!(e.hub().viewAccount(owner).call().await?.stake, U256::from(100 * RLC));

    let app = wordcount_app(e).await?;
    // Inline input, as iexec_args.
    let text = "to be or not to be\nthat is the question\n";
    let params = serde_json::json!({ "iexec_args": text, "iexec_result_storage_provider": "ipfs" }).to_string();
    let deal = e.deal(&order(&pool, 0)?, app, &params).await?;
    let task_id = poco::task_id(deal, U256::ZERO);
    // Input by URL, as iexec_input_files.
    let file = b"one two three\n".repeat(1000);
    let cid = e.content.put(file.clone()).await?;
    let params = serde_json::json!({ "iexec_input_files": [format!("{}/ipfs/{cid}", e.gateway)] }).to_string();
    let deal2 = e.deal(&order(&pool, 0)?, app, &params).await?;
    let task2 = poco::task_id(deal2, U256::ZERO);

    for (task_id, expected) in [
        (task_id, r#"{"lines":2,"words":10,"bytes":40}"#.to_owned()),
        (task2, format!(r#"{{"lines":1000,"words":3000,"bytes":{}}}"#, file.len())),
    ] {
        let t = e.wait_status(task_id, TaskStatus::Completed).await?;
        assert_eq!(e.contributions(task_id).await?, vec![owner], "one contribution, by the worker");
        let results: serde_json::Value = serde_json::from_slice(&t.results)?;
        assert_eq!(results["storage"], "ipfs");
        let location = results["location"].as_str().context("location")?;
        let zip_cid: Cid = location.strip_prefix("/ipfs/").context("an /ipfs/ location")?.parse()?;
        let zip = e.content.get(&zip_cid).await?.context("the archive is in the content store")?;
        let (computed, output) = agora_iexec::result::read(&zip)?;
        assert_eq!(computed.deterministic_output_path, "/iexec_out/result.json");
        assert_eq!(String::from_utf8(output.clone())?.trim(), expected.trim());
        assert_eq!(t.resultDigest, agora_iexec::apps::checksum_of_module(&output), "digest = sha256(output)");
        let row = e.wait_row(pool.scope(), task_id, WorkerStage::Done).await?;
        assert_eq!(row.outcome, Some(WorkerOutcome::Completed));
        let receipt =
            e.provider(REQUESTER).get_transaction_receipt(row.tx_hash.context("tx")?).await?.context("receipt")?;
        eprintln!("contributeAndFinalize gas used: {}", receipt.gas_used);
    }
    // The requester paid: its locked funds went to the pool (price) and nothing stays locked.
    let requester = e.hub().viewAccount(e.key(REQUESTER).address()).call().await?;
    assert_eq!(requester.locked, U256::ZERO);
    let _ = stop.send(true);
    handle.await?;
    Ok(())
}

#[tokio::test]
async fn tasks_the_pool_cannot_finish_are_claimed_after_their_deadline() -> Result<()> {
    let e = Env::new(TestDb::sqlite().await?).await?;
    let pool = e.workerpool(e.config(POOL_OWNER)).await?;
    let (stop, handle) = run(&pool);
    wait_orders(&pool).await?;
    let short = e.chain.dev.deployment.category("AGORA_TEST").context("short category")?;
    let requester = e.key(REQUESTER).address();
    let before = e.hub().viewAccount(requester).call().await?;
    // An app the pool does not have, and an input file that does not exist.
    let missing_app = e.app("agora-nope", "agora:nope", B256::ZERO).await?;
    let deal = e.deal(&order(&pool, short)?, missing_app, r#"{"iexec_args":"x"}"#).await?;
    let wordcount = wordcount_app(&e).await?;
    let gone = format!("{}/ipfs/{}", e.gateway, agora_content::cid_of(b"never stored"));
    let input = serde_json::json!({ "iexec_input_files": [gone] }).to_string();
    let deal2 = e.deal(&order(&pool, short)?, wordcount, &input).await?;
    let tasks = [poco::task_id(deal, U256::ZERO), poco::task_id(deal2, U256::ZERO)];
    for t in tasks {
        // Initialized, then given up: ACTIVE with no contribution, the reason recorded.
        let row = e.wait_row(pool.scope(), t, WorkerStage::Failed).await?;
        let reason = row.failure_reason.context("a failure reason")?;
        eprintln!("task {t} failed: {reason}");
        assert_eq!(TaskStatus::try_from(e.task(t).await?.status)?, TaskStatus::Active);
        assert!(e.contributions(t).await?.is_empty());
    }
    let locked = e.hub().viewAccount(requester).call().await?;
    assert_eq!(locked.locked, before.locked + U256::from(2 * PRICE), "the deals lock the requester's RLC");
    // Past the final deadline (10 × 20 s after the deal), the pool claims them.
    e.advance(10 * poco::TEST_CATEGORY_TIME_REF + 1).await?;
    for t in tasks {
        e.wait_status(t, TaskStatus::Failed).await?;
        let row = e.wait_row(pool.scope(), t, WorkerStage::Done).await?;
        assert_eq!(row.outcome, Some(WorkerOutcome::Claimed));
    }
    let after = e.hub().viewAccount(requester).call().await?;
    assert_eq!(after.locked, before.locked, "claims release the requester's funds");
    // Each deal deposited its price and locked it; the claims gave it all back.
    assert_eq!(after.stake, before.stake + U256::from(2 * PRICE), "the requester gets back all it paid");
    let _ = stop.send(true);
    handle.await?;
    e.db.finish().await?;
    Ok(())
}

/// Set in the environment of a child process that runs a worker which aborts at a failpoint.
const CHILD: &str = "AGORA_IEXEC_TEST_WORKER";

/// What the child worker process needs, passed as JSON in [`CHILD`].
#[derive(serde::Serialize, serde::Deserialize)]
struct ChildSpec {
    rpc_url: String,
    hub: Address,
    workerpool: Address,
    owner_key: String,
    db_url: String,
    content_dir: std::path::PathBuf,
    orders_file: std::path::PathBuf,
    failpoint: String,
}

/// The child: a worker process (same database, same content store) that aborts at its failpoint.
async fn child_worker(spec: ChildSpec) -> Result<()> {
    let store = agora_store::Store::connect(&spec.db_url).await?;
    let content =
        Arc::new(agora_content::open(&ContentConfig { dir: spec.content_dir.clone(), ipfs_api: None }).await?);
    let wasm = LocalExecutor::new(LocalConfig::default())?;
    let owner = agora_chain::Sender::connect(
        &spec.rpc_url,
        agora_chain::signer_from_key(&spec.owner_key)?,
        agora_chain::SendPolicy::dev(),
    )
    .await?;
    let mut cfg = WorkerpoolConfig::new(&spec.rpc_url, spec.hub, owner);
    for app in sample_apps() {
        cfg.apps.insert(app.name.to_owned(), (wasm.register_app(app.source)?, Limits::default()));
    }
    cfg.workerpool = Some(spec.workerpool);
    cfg.stake = U256::from(100 * RLC);
    cfg.price = U256::from(PRICE);
    cfg.poll = Duration::from_millis(100);
    cfg.from_block = Some(0);
    cfg.orders_file = Some(spec.orders_file);
    cfg.failpoint = Some(spec.failpoint);
    let pool = Workerpool::start(cfg, store, content, Arc::new(wasm.clone()), Some(wasm)).await?;
    let (_stop, rx) = watch::channel(false);
    tokio::time::timeout(Duration::from_secs(60), pool.run(rx)).await.ok();
    bail!("the failpoint never fired")
}

#[tokio::test]
async fn a_worker_process_killed_mid_task_and_restarted_contributes_once() -> Result<()> {
    if let Ok(spec) = std::env::var(CHILD) {
        return child_worker(serde_json::from_str(&spec)?).await;
    }
    for db in TestDb::both().await? {
        let label = db.label;
        let e = Env::new(db).await?;
        restarts(&e).await.with_context(|| format!("on {label}"))?;
        e.db.finish().await?;
    }
    Ok(())
}

async fn restarts(e: &Env) -> Result<()> {
    use std::os::unix::process::ExitStatusExt;
    let app = wordcount_app(e).await?;
    for point in ["initialized", "stored", "contribute-sent"] {
        let orders_file = e._dir.path().join(format!("orders-{point}.json"));
        let spec = ChildSpec {
            rpc_url: e.chain.anvil.url().to_owned(),
            hub: e.chain.dev.deployment.hub,
            workerpool: e.chain.dev.workerpools[0],
            owner_key: e.chain.anvil.accounts()[POOL_OWNER].private_key.clone(),
            db_url: e.db.url.clone(),
            content_dir: e._dir.path().join("content"),
            orders_file: orders_file.clone(),
            failpoint: point.to_owned(),
        };
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .args(["--exact", "a_worker_process_killed_mid_task_and_restarted_contributes_once", "--nocapture"])
            .env(CHILD, serde_json::to_string(&spec)?)
            .kill_on_drop(true)
            .spawn()?;
        // The child stakes and publishes its orders; the requester deals with one of them.
        let started = Instant::now();
        while !orders_file.exists() {
            if started.elapsed() > Duration::from_secs(30) {
                bail!("the child worker published no orders");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let orders: Vec<SignedWorkerpoolOrder> = serde_json::from_slice(&std::fs::read(&orders_file)?)?;
        let deal = e.deal(&orders[0], app, r#"{"iexec_args":"stop and go"}"#).await?;
        let task_id = poco::task_id(deal, U256::ZERO);
        let status = tokio::time::timeout(Duration::from_secs(60), child.wait()).await??;
        assert_eq!(status.signal(), Some(6), "the child aborts (SIGABRT) at {point}: {status}");
        let scope = WorkerScope {
            chain_id: e.chain.dev.deployment.chain_id,
            genesis: e
                .provider(REQUESTER)
                .get_block_by_number(alloy::eips::BlockNumberOrTag::Number(0))
                .await?
                .context("genesis")?
                .header
                .hash,
            hub: e.chain.dev.deployment.hub,
            workerpool: e.chain.dev.workerpools[0],
            worker: e.key(POOL_OWNER).address(),
        };
        let row = e.db.store.iexec_worker_task(&scope, task_id).await?.context("row")?;
        eprintln!("killed after {point}: stage {:?}, task status {}", row.stage, e.task(task_id).await?.status);
        // A new worker process on the same database finishes the task.
        let second = e.workerpool(e.config(POOL_OWNER)).await?;
        assert_eq!(second.scope(), &scope);
        let (stop, handle) = run(&second);
        e.wait_status(task_id, TaskStatus::Completed).await?;
        let row = e.wait_row(&scope, task_id, WorkerStage::Done).await?;
        assert_eq!(row.outcome, Some(WorkerOutcome::Completed), "after {point}");
        assert_eq!(e.contributions(task_id).await?.len(), 1, "exactly one contribution after a kill at {point}");
        let _ = stop.send(true);
        handle.await?;
    }
    Ok(())
}

#[tokio::test]
async fn two_workers_serve_one_pool_and_each_task_is_contributed_once() -> Result<()> {
    let e = Env::new(TestDb::sqlite().await?).await?;
    let a = e.workerpool(e.config(POOL_OWNER)).await?;
    let mut cfg = e.config(SECOND_WORKER);
    cfg.stake = U256::ZERO; // the owner's process keeps the stake
    let b = e.workerpool(cfg).await?;
    assert_eq!(a.address(), b.address());
    let (stop_a, handle_a) = run(&a);
    let (stop_b, handle_b) = run(&b);
    wait_orders(&a).await?;
    let app = wordcount_app(&e).await?;
    let mut tasks = Vec::new();
    for i in 0..4 {
        let deal = e.deal(&order(&a, 0)?, app, &format!(r#"{{"iexec_args":"task {i}"}}"#)).await?;
        tasks.push(poco::task_id(deal, U256::ZERO));
    }
    let workers = [e.key(POOL_OWNER).address(), e.key(SECOND_WORKER).address()];
    for t in &tasks {
        e.wait_status(*t, TaskStatus::Completed).await?;
        let c = e.contributions(*t).await?;
        assert_eq!(c.len(), 1, "task {t}: one contribution");
        assert!(workers.contains(&c[0]));
    }
    // Both workers end with every task done; each task completed by exactly one of them.
    let started = Instant::now();
    loop {
        let ra = e.db.store.iexec_worker_tasks(a.scope()).await?;
        let rb = e.db.store.iexec_worker_tasks(b.scope()).await?;
        let done = |rows: &[WorkerTaskRow]| rows.iter().filter(|r| r.stage == WorkerStage::Done).count();
        if done(&ra) == tasks.len() && done(&rb) == tasks.len() {
            let ours =
                |rows: &[WorkerTaskRow]| rows.iter().filter(|r| r.outcome == Some(WorkerOutcome::Completed)).count();
            assert_eq!(ours(&ra) + ours(&rb), tasks.len());
            eprintln!("worker A completed {}, worker B {}", ours(&ra), ours(&rb));
            break;
        }
        if started.elapsed() > Duration::from_secs(30) {
            bail!("the workers did not both finish: {ra:?} {rb:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop_a.send(true);
    let _ = stop_b.send(true);
    handle_a.await?;
    handle_b.await?;
    e.db.finish().await?;
    Ok(())
}
