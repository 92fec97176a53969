//! iExec-backed compute through the real `agora` binary, the real `iexec` CLI and PoCo on anvil:
//! a purchase on ComputeMarket becomes an iExec deal computed by the Agora workerpool and settles
//! with the job's real output; a deal nobody finishes is claimed after its deadline and refunded;
//! a node killed after any step of the deal settles the task exactly once, with exactly one deal.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agora_chain::bindings::{ComputeMarket, MarketToken};
use agora_chain::deploy::list_services;
use agora_chain::testing::{BUYER, OPERATOR, PROVIDER, TestChain, send};
use agora_iexec::bindings::IexecHub;
use agora_market::demo::{demo_services, listings};
use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;
use serde_json::Value;

/// Dev accounts with iExec roles (see dev.json's roles).
const WORKERPOOL_OWNER: usize = 5;
const REQUESTER: usize = 6;
const POCO_ADMIN: usize = 9;

fn iexec_bin() -> std::path::PathBuf {
    support::repo_root().join("node_modules/.bin/iexec")
}

/// `agora up` whose log lines are kept (colour codes removed) for the test to read.
struct LoggedUp {
    proc: support::Proc,
    api: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl LoggedUp {
    fn start(data_dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)?;
        let mut child = Command::new(env!("CARGO_BIN_EXE_agora"))
            .current_dir(support::repo_root())
            .args(["up", "--data-dir"])
            .arg(data_dir)
            .args(["--http-addr", "127.0.0.1:0"])
            .args(args)
            .envs(envs.iter().copied())
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let proc = support::Proc(child);
        // The URL on standard output, the log on standard error: both read into one list of lines.
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let read = |stream: Box<dyn std::io::Read + Send>, tx: std::sync::mpsc::Sender<String>| {
            let sink = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let line = strip_ansi(&line);
                    if let Some(url) = line.strip_prefix("Agora is up: ") {
                        let _ = tx.send(url.to_owned());
                    }
                    sink.lock().expect("log").push(line);
                }
            });
        };
        read(Box::new(stdout), tx.clone());
        read(Box::new(stderr), tx);
        let mut proc = proc;
        let api = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(api) => api,
            // A node meant to abort at a failpoint may get there before it says it is up.
            Err(_) if proc.0.try_wait()?.is_some() => String::new(),
            Err(_) => {
                let lines = log.lock().expect("log");
                let end = lines[lines.len().saturating_sub(40)..].join("\n");
                anyhow::bail!("agora up never came up; its log ends:\n{end}")
            }
        };
        Ok(Self { proc, api, log })
    }

    fn lines(&self, needle: &str) -> Vec<String> {
        self.log.lock().expect("log").iter().filter(|l| l.contains(needle)).cloned().collect()
    }

    /// Waits until the node has logged a line containing `needle` (the node logs a step after the
    /// chain shows it, so a test that saw the chain must wait for the log).
    async fn wait_line(&self, needle: &str) -> anyhow::Result<String> {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(line) = self.lines(needle).into_iter().next() {
                return Ok(line);
            }
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "no log line {needle:?}; the log ends:\n{}",
                self.tail(40)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The last `n` lines of the log, for failure messages.
    fn tail(&self, n: usize) -> String {
        let log = self.log.lock().expect("log");
        log[log.len().saturating_sub(n)..].join("\n")
    }
}

impl Drop for LoggedUp {
    /// SIGTERM first, so `agora up` stops its embedded anvil too; SIGKILL (by `Proc`) if it lingers.
    fn drop(&mut self) {
        if matches!(self.proc.0.try_wait(), Ok(None)) {
            let _ = Command::new("kill").args(["-TERM", &self.proc.0.id().to_string()]).status();
            let start = Instant::now();
            while matches!(self.proc.0.try_wait(), Ok(None)) && start.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

async fn wait_status(api: &str, id: u64, statuses: &[&str], limit: Duration) -> anyhow::Result<Value> {
    let start = Instant::now();
    loop {
        let (_, t) = support::get_json(&format!("{api}/api/tasks/{id}")).await?;
        if statuses.iter().any(|s| t["status"] == *s) {
            return Ok(t);
        }
        anyhow::ensure!(start.elapsed() < limit, "task {id} did not reach {statuses:?} within {limit:?}: {t}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs the `iexec` CLI in `dir` with `--raw`; its JSON answer, which must say `ok`.
fn iexec(dir: &Path, args: &[&str]) -> anyhow::Result<Value> {
    let out = Command::new(iexec_bin()).args(args).arg("--raw").current_dir(dir).output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let answer: Value = text
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| anyhow::anyhow!("iexec {args:?}: {text} {}", String::from_utf8_lossy(&out.stderr)))?;
    anyhow::ensure!(out.status.success() && answer["ok"] == true, "iexec {args:?}: {answer}");
    Ok(answer)
}

/// The output an iExec result archive holds (computed.json's deterministic output path).
fn output_of_zip(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))?;
    let mut computed = String::new();
    zip.by_name("computed.json")?.read_to_string(&mut computed)?;
    let computed: Value = serde_json::from_str(&computed)?;
    let path = computed["deterministic-output-path"].as_str().expect("deterministic-output-path");
    let mut out = Vec::new();
    zip.by_name(path.trim_start_matches("/iexec_out/"))?.read_to_end(&mut out)?;
    Ok(out)
}

/// The requester's view with the CLI: a directory holding `chain_json` and the requester's wallet.
fn cli_dir(chain_json: &Path, requester_key: &str) -> anyhow::Result<tempfile::TempDir> {
    let dir = support::tempdir()?;
    std::fs::copy(chain_json, dir.path().join("chain.json"))?;
    iexec(dir.path(), &["wallet", "import", requester_key, "--unencrypted"])?;
    Ok(dir)
}

#[tokio::test]
async fn an_iexec_backed_purchase_runs_through_the_iexec_cli_and_the_agora_workerpool() -> anyhow::Result<()> {
    let dir = support::tempdir()?;
    let up = LoggedUp::start(dir.path(), &["--anvil-port", "0"], &[])?;
    let api = up.api.clone();
    let dev: Value = serde_json::from_slice(&std::fs::read(dir.path().join("dev.json"))?)?;
    let rpc = dev["rpc_url"].as_str().expect("rpc").to_owned();
    let market = dev["contracts"]["compute_market"].as_str().expect("market").to_owned();
    let token = dev["contracts"]["market_token"].as_str().expect("token").to_owned();
    let key = |i: usize| dev["accounts"][i]["private_key"].as_str().expect("key").to_owned();

    // The seed's data-processing service is served through iExec on the dev chain.
    let (_, service) = support::get_json(&format!("{api}/api/services/3")).await?;
    assert_eq!(
        service["metadata"]["runtime"],
        serde_json::json!({"type": "iexec", "app": "wordcount", "category": 0}),
        "{service}"
    );

    // (cast trims trailing whitespace from string arguments, so the text ends without a newline)
    let text = "the quick brown fox\njumps over the lazy dog";
    support::cast_send(&rpc, &key(BUYER), &[&token, "approve(address,uint256)", &market, "5000000000000000000"])?;
    let bought = Instant::now();
    support::cast_send(
        &rpc,
        &key(BUYER),
        &[&market, "buyCompute(uint256,string,uint256,uint64)", "3", text, "5000000000000000000", "300"],
    )?;
    let task = wait_status(&api, 1, &["Completed", "Refunded"], Duration::from_secs(300)).await?;
    let took = bought.elapsed();
    assert_eq!(task["status"], "Completed", "{task}");
    println!("iExec-backed task completed {took:?} after its purchase");

    // ComputeMarket holds the CID of the job's real output, served by the node.
    let expected = "{\"lines\":1,\"words\":9,\"bytes\":43}\n";
    let cid = task["resultHash"].as_str().expect("result CID");
    let served = reqwest::get(format!("{api}/ipfs/{cid}")).await?.text().await?;
    assert_eq!(served, expected);
    let kinds: Vec<_> = task["timeline"].as_array().expect("timeline").iter().map(|e| e["event"].clone()).collect();
    assert_eq!(kinds, ["TaskCreated", "TaskInput", "TaskStarted", "TaskCompleted"]);

    // The task shows its iExec deal.
    let ix = &task["iexec"];
    assert_eq!(ix["status"], "COMPLETED", "{task}");
    let deal = ix["dealId"].as_str().expect("deal id").to_owned();
    let iexec_task = ix["taskId"].as_str().expect("task id").to_owned();
    let (_, list) = support::get_json(&format!("{api}/api/tasks")).await?;
    assert_eq!(list[0]["iexec"]["dealId"], deal.as_str(), "{list}");

    // Anyone with the CLI sees the same deal and fetches the same output from the node's gateway.
    let cli = cli_dir(&dir.path().join("chain.json"), &key(REQUESTER))?;
    let shown = iexec(cli.path(), &["deal", "show", &deal])?;
    assert_eq!(
        shown["deal"]["requester"].as_str().map(str::to_ascii_lowercase),
        dev["accounts"][REQUESTER]["address"].as_str().map(str::to_ascii_lowercase)
    );
    assert_eq!(
        shown["deal"]["workerpool"]["pointer"].as_str().map(str::to_ascii_lowercase),
        dev["iexec"]["workerpool"].as_str().map(str::to_ascii_lowercase),
        "{shown}"
    );
    let downloaded = iexec(cli.path(), &["task", "show", &iexec_task, "--download", "result"])?;
    assert_eq!(downloaded["task"]["status"], 3);
    let location = downloaded["task"]["results"]["location"].as_str().expect("location").to_owned();
    let archive = std::fs::read(cli.path().join("result.zip"))?;
    assert_eq!(String::from_utf8(output_of_zip(&archive)?)?, expected);
    assert_eq!(format!("/ipfs/{}", agora_content::cid_of(&archive)), location);

    // The node's log tells the story as the seed's demo does.
    up.wait_line(&format!("iExec deal {deal} task {iexec_task} status=")).await?;
    up.wait_line(&format!("iExec task {iexec_task} COMPLETED result={location}")).await?;
    up.wait_line(&format!("Task 1 completed: result={cid}")).await?;
    for line in up.lines("iExec") {
        println!("{line}");
    }
    drop(up);
    Ok(())
}

/// What a crash test needs: an external anvil with Agora's contracts and PoCo (pool owned by
/// account 5), a one-second iExec category, and two iExec-backed services.
struct IexecChain {
    chain: TestChain,
    hub: Address,
    pool: Address,
    quick: u64,
    wordcount: u64,
    csv: u64,
}

impl IexecChain {
    async fn start() -> anyhow::Result<Self> {
        let chain = TestChain::start().await?;
        let artifacts = agora_iexec::artifacts::PocoArtifacts::locate(&support::repo_root())?;
        let setup = agora_iexec::poco::DevSetup {
            funded: vec![chain.address(PROVIDER), chain.address(WORKERPOOL_OWNER), chain.address(REQUESTER)],
            rlc_each: U256::from(1_000_000_000_000u64),
            workerpools: vec![(chain.address(WORKERPOOL_OWNER), "Agora workerpool".into())],
        };
        let poco = agora_iexec::poco::deploy_dev(&chain.sender(POCO_ADMIN).await?, &setup, &artifacts).await?;
        let hub = poco.deployment.hub;
        // A category with a one-second work clock: its deals' final deadline is ten seconds on.
        let admin = IexecHub::new(hub, chain.provider(POCO_ADMIN));
        send(admin.createCategory("AGORA_QUICK".into(), "\"\"".into(), U256::from(1))).await?;
        let quick = u64::try_from(admin.countCategory().call().await?)? - 1;
        let base = demo_services()[2].clone();
        let ids = list_services(
            &chain.sender(PROVIDER).await?,
            &chain.d,
            &listings(&[
                base.clone().on_iexec("wordcount", 0),
                base.with_kind("csv-statistics").on_iexec("csvstats", quick),
            ]),
        )
        .await?;
        let amt = U256::from(10u64).pow(U256::from(21u64));
        chain.mint(&[chain.address(BUYER)], amt).await?;
        send(MarketToken::new(chain.d.market_token, chain.provider(BUYER)).approve(chain.d.compute_market, amt))
            .await?;
        Ok(Self { hub, pool: poco.workerpools[0], quick, wordcount: ids[0].to(), csv: ids[1].to(), chain })
    }

    /// Deals made on the hub so far.
    async fn deals(&self) -> anyhow::Result<usize> {
        let filter =
            Filter::new().address(self.hub).event_signature(IexecHub::OrdersMatched::SIGNATURE_HASH).from_block(0u64);
        Ok(self.chain.provider(BUYER).get_logs(&filter).await?.len())
    }

    async fn buy(&self, service: u64, input: &str) -> anyhow::Result<u64> {
        let market = ComputeMarket::new(self.chain.d.compute_market, self.chain.provider(BUYER));
        let terms = market.getService(U256::from(service)).call().await?;
        let receipt =
            send(market.buyCompute(U256::from(service), input.into(), U256::from(terms.price), terms.maxRunTime))
                .await?;
        Ok(receipt.decoded_log::<ComputeMarket::TaskCreated>().expect("TaskCreated").data.taskId.to())
    }
}

/// A deal made with the order of a workerpool that is not running is never finished: after its
/// final deadline (chain time) the backend claims it on iExec and refunds the buyer on ComputeMarket.
#[tokio::test]
async fn a_deal_nobody_finishes_is_claimed_after_its_deadline_and_refunded() -> anyhow::Result<()> {
    let c = IexecChain::start().await?;
    let dir = support::tempdir()?;
    let deployments = dir.path().join("deployments.json");
    c.chain.d.save(&deployments)?;
    // The pool published an order for the one-second category and has stake, then went away.
    let owner = c.chain.key(WORKERPOOL_OWNER);
    let stake = U256::from(10_000_000_000u64);
    let rlc = IexecHub::new(c.hub, c.chain.provider(WORKERPOOL_OWNER)).token().call().await?;
    send(agora_iexec::bindings::Rlc::new(rlc, c.chain.provider(WORKERPOOL_OWNER)).approve(c.hub, stake)).await?;
    send(IexecHub::new(c.hub, c.chain.provider(WORKERPOOL_OWNER)).deposit(stake)).await?;
    let order = agora_iexec::orders::sign_workerpool_order(
        &owner,
        c.chain.d.chain_id,
        c.hub,
        &agora_iexec::orders::WorkerpoolOrderParams {
            workerpool: c.pool,
            price: U256::from(100_000_000u64),
            volume: U256::from(1000),
            tag: agora_iexec::orders::TEE_TDX_TAG,
            category: U256::from(c.quick),
            trust: U256::from(1),
            apprestrict: Address::ZERO,
            datasetrestrict: Address::ZERO,
            requesterrestrict: Address::ZERO,
        },
    )?;
    std::fs::create_dir_all(dir.path().join("iexec"))?;
    std::fs::write(dir.path().join("iexec/workerpoolorders.json"), serde_json::to_vec(&[order])?)?;
    let env: Vec<(&'static str, String)> =
        node_env(&c).into_iter().filter(|(k, _)| *k != "AGORA_IEXEC__WORKERPOOL__OWNER_KEY").collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let deployments = deployments.to_str().expect("utf-8").to_owned();
    let up = LoggedUp::start(
        dir.path(),
        &["--rpc-url", c.chain.url(), "--deployments", &deployments, "--confirmations", "0"],
        &env,
    )?;
    let token = MarketToken::new(c.chain.d.market_token, c.chain.provider(BUYER));
    let before = token.balanceOf(c.chain.address(BUYER)).call().await?;
    let id = c.buy(c.csv, "a,b\n1,2\n").await?;
    assert!(token.balanceOf(c.chain.address(BUYER)).call().await? < before);
    let started = Instant::now();
    let task = match wait_status(&up.api, id, &["Completed", "Refunded"], Duration::from_secs(240)).await {
        Ok(t) => t,
        Err(e) => anyhow::bail!("{e}; the node's log ends:\n{}", up.tail(40)),
    };
    println!("refunded {:?} after the purchase; category {} (work clock 1 s)", started.elapsed(), c.quick);
    assert_eq!(task["status"], "Refunded", "{task}");
    let reason = task["failureReason"].as_str().unwrap_or_default();
    assert!(reason.contains("no result before its deadline and was claimed"), "{reason}");
    assert_eq!(task["iexec"]["status"], "FAILED", "{task}");
    assert_eq!(token.balanceOf(c.chain.address(BUYER)).call().await?, before, "the buyer got the payment back");
    // Claimed on the hub by the backend: PoCo says FAILED, and the requester's stake is unlocked.
    let hub = IexecHub::new(c.hub, c.chain.provider(BUYER));
    let iexec_task = task["iexec"]["taskId"].as_str().expect("task id").parse()?;
    assert_eq!(hub.viewTask(iexec_task).call().await?.status, 4);
    assert_eq!(hub.viewAccount(c.chain.address(REQUESTER)).call().await?.locked, U256::ZERO);
    assert_eq!(c.deals().await?, 1);
    up.wait_line(&format!("iExec task {iexec_task} claimed after its final deadline")).await?;
    up.wait_line(&format!("Task {id} refunded")).await?;
    drop(up);
    c.chain.stop().await?;
    Ok(())
}

fn node_env(c: &IexecChain) -> Vec<(&'static str, String)> {
    let key = |i: usize| c.chain.anvil.accounts()[i].private_key.clone();
    vec![
        ("AGORA_COMPUTE__OPERATOR_KEY", key(OPERATOR)),
        ("AGORA_IEXEC__HUB", c.hub.to_string()),
        ("AGORA_IEXEC__WORKERPOOL_ADDRESS", c.pool.to_string()),
        ("AGORA_IEXEC__WORKERPOOL__OWNER_KEY", key(WORKERPOOL_OWNER)),
        ("AGORA_IEXEC__BACKEND__REQUESTER_KEY", key(REQUESTER)),
        ("AGORA_IEXEC__BACKEND__APP_OWNER_KEY", key(PROVIDER)),
        ("AGORA_IEXEC__BACKEND__POLL_MS", "500".to_owned()),
    ]
}

/// Aborts `agora up` right after each step of an iExec deal, restarts it on the same data
/// directory, and checks that the task settles exactly once, with exactly one deal.
#[tokio::test]
async fn a_node_killed_at_each_step_of_an_iexec_deal_settles_it_once_with_one_deal() -> anyhow::Result<()> {
    use std::os::unix::process::ExitStatusExt;

    let c = IexecChain::start().await?;
    let dir = support::tempdir()?;
    let deployments = dir.path().join("deployments.json");
    c.chain.d.save(&deployments)?;
    let deployments = deployments.to_str().expect("utf-8").to_owned();
    let args = ["--rpc-url", c.chain.url(), "--deployments", &deployments, "--confirmations", "0"];
    let env = node_env(&c);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();

    for (point, service, input, outcome) in [
        ("iexec-app-deployed", c.wordcount, "one two", "Completed"),
        ("iexec-signed", c.wordcount, "one two three", "Completed"),
        ("iexec-filled", c.wordcount, "one two three four", "Completed"),
        ("iexec-deal", c.wordcount, "one", "Completed"),
        ("iexec-completed", c.wordcount, "one two", "Completed"),
        // The workerpool is stopped from here on (its signed orders stay published in the data
        // dir): nobody finishes the deal, and the backend itself claims it after its deadline.
        ("iexec-claim-sent", c.csv, "one,two\n1,2\n", "Refunded"),
    ] {
        let env: Vec<(&str, &str)> = if point == "iexec-claim-sent" {
            env.iter().copied().filter(|(k, _)| *k != "AGORA_IEXEC__WORKERPOOL__OWNER_KEY").collect()
        } else {
            env.clone()
        };
        let deals_before = c.deals().await?;
        let id = c.buy(service, input).await?;

        // First life: aborts at the failpoint, like a kill -9 at that instant.
        let mut envs = env.clone();
        envs.push(("AGORA_IEXEC__BACKEND__FAILPOINT", point));
        let mut doomed = LoggedUp::start(dir.path(), &args, &envs)?;
        let start = Instant::now();
        let status = loop {
            if let Some(status) = doomed.proc.0.try_wait()? {
                break status;
            }
            anyhow::ensure!(
                start.elapsed() < Duration::from_secs(180),
                "{point}: the node never reached its failpoint; its log ends:\n{}",
                doomed.tail(40)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(status.signal(), Some(6), "{point}: expected SIGABRT, got {status}");

        // Second life: picks the deal up where the records say and settles the task.
        let node = LoggedUp::start(dir.path(), &args, &env)?;
        let api = node.api.clone();
        let task = match wait_status(&api, id, &["Completed", "Refunded"], Duration::from_secs(180)).await {
            Ok(t) => t,
            Err(e) => anyhow::bail!("{point}: {e}; the node's log ends:\n{}", node.tail(40)),
        };
        assert_eq!(task["status"], outcome, "{point}: {task}");
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (task, events) = support::task_events(&api, id).await?;
        let count = |k: &str| events.iter().filter(|e| *e == k).count();
        assert_eq!(count("TaskCompleted") + count("TaskRefunded"), 1, "{point}: {events:?}");
        assert_eq!(c.deals().await? - deals_before, 1, "{point}: not exactly one iExec deal for task {id}");
        let expected_iexec = if outcome == "Completed" { "COMPLETED" } else { "FAILED" };
        assert_eq!(task["iexec"]["status"], expected_iexec, "{point}: {task}");
        if outcome == "Completed" {
            let cid = task["resultHash"].as_str().expect("result");
            let served = reqwest::get(format!("{api}/ipfs/{cid}")).await?.text().await?;
            let words = input.split_whitespace().count();
            assert!(served.contains(&format!("\"words\":{words}")), "{point}: {served}");
        }
        println!("{point}: task {id} {outcome} once, with one deal, after a crash there");
        drop(node);
    }
    c.chain.stop().await?;
    Ok(())
}
