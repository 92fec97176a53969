//! The `agora` binary as a user runs it: `agora up` on the embedded defaults with a purchase sent
//! by an independent client (Foundry's `cast`), and an indexer process killed mid-range.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use agora_chain::anvil::{Anvil, locate_anvil};
use agora_chain::bindings::ComputeMarket;
use agora_chain::deploy::list_services;
use agora_chain::testing::{BUYER, PROVIDER, TestChain, send};
use agora_chain::{SendPolicy, Sender, signer_from_key};
use agora_market::demo::{demo_services, listings};
use agora_store::TaskStatus;
use agora_store::testing::TestDb;
use alloy::primitives::U256;
use alloy::providers::Provider;

/// A handwritten 7 from the digits dataset (8×8, intensities 0..16).
const DIGIT_SEVEN: &str = r#"{"pixels":[0,0,7,8,13,16,15,1,0,0,7,7,4,11,12,0,0,0,0,0,8,13,1,0,0,4,8,8,15,15,6,0,0,2,11,15,15,4,0,0,0,0,0,16,5,0,0,0,0,0,9,15,1,0,0,0,0,0,13,5,0,0,0,0]}"#;

async fn wait_for_status(api: &str, id: u64, status: &str) -> anyhow::Result<(serde_json::Value, Duration)> {
    let start = Instant::now();
    loop {
        let (_, t) = support::get_json(&format!("{api}/api/tasks/{id}")).await?;
        if t["status"] == status {
            return Ok((t, start.elapsed()));
        }
        anyhow::ensure!(start.elapsed() < Duration::from_secs(30), "task {id} did not reach {status}: {t}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn up_serves_purchases_made_by_an_independent_client() -> anyhow::Result<()> {
    let up = support::Up::start()?;
    let (dev, api) = (up.dev.clone(), up.api.clone());
    let rpc = dev["rpc_url"].as_str().expect("rpc_url").to_owned();
    let market = dev["contracts"]["compute_market"].as_str().expect("market").to_owned();
    let token = dev["contracts"]["market_token"].as_str().expect("token").to_owned();
    let buyer = &dev["accounts"][dev["roles"]["first_buyer"].as_u64().expect("role") as usize];
    let buyer_key = buyer["private_key"].as_str().expect("key").to_owned();
    let buyer_addr = buyer["address"].as_str().expect("address").to_ascii_lowercase();
    assert_eq!(dev["api_url"].as_str(), Some(api.as_str()));

    let (_, services) = support::get_json(&format!("{api}/api/services")).await?;
    let services = services.as_array().expect("array");
    assert_eq!(services.len(), 3, "{services:?}");
    assert_eq!(services[0]["metadata"]["name"]["zh-CN"], "AI 推理算力");
    assert_eq!(services[0]["price"], "10000000000000000");
    assert_eq!(services[2]["token"].as_str(), Some(token.to_ascii_lowercase().as_str()));

    // An ETH purchase by cast, not by our code.
    let receipt = support::cast_send(
        &rpc,
        &buyer_key,
        &[
            &market,
            "buyCompute(uint256,string,uint256,uint64)",
            "1",
            DIGIT_SEVEN,
            "10000000000000000",
            "300",
            "--value",
            "0.01ether",
        ],
    )?;
    assert_eq!(receipt["status"], "0x1");
    let (task, waited) = support::wait_for(&format!("{api}/api/tasks/1"), Duration::from_secs(5)).await?;
    // Latency is measured by `cargo bench -p agora-cli --bench visibility`; here it only has to show up.
    println!("task visible {waited:?} after its receipt");
    // The scheduler may already have moved it on; the purchase itself is what is checked here.
    assert!(["Created", "Running", "Completed"].contains(&task["status"].as_str().unwrap_or_default()), "{task}");
    assert_eq!(task["user"], buyer_addr);
    assert_eq!(task["amount"], "10000000000000000");
    assert_eq!(task["input"], DIGIT_SEVEN);
    assert_eq!(task["createdTx"], receipt["transactionHash"]);

    // An ERC-20 purchase: approve, then buy.
    support::cast_send(&rpc, &buyer_key, &[&token, "approve(address,uint256)", &market, "5000000000000000000"])?;
    support::cast_send(
        &rpc,
        &buyer_key,
        &[
            &market,
            "buyCompute(uint256,string,uint256,uint64)",
            "3",
            "{\"op\":\"wordcount\"}",
            "5000000000000000000",
            "300",
        ],
    )?;
    let (task2, _) = support::wait_for(&format!("{api}/api/tasks/2"), Duration::from_secs(5)).await?;
    assert_eq!(task2["amount"], "5000000000000000000");
    assert_eq!(task2["token"].as_str(), Some(token.to_ascii_lowercase().as_str()));
    // AI inference classifies the handwritten 7 with the digits model.
    let (seven, _) = wait_for_status(&api, 1, "Completed").await?;
    let result = seven["resultHash"].as_str().expect("result CID");
    let answer: serde_json::Value = reqwest::get(format!("{api}/ipfs/{result}")).await?.json().await?;
    assert_eq!(answer["digit"], 7, "{answer}");

    // Data processing runs for real and completes: on the dev chain it is served through iExec (the
    // iexec CLI makes a deal that the Agora workerpool computes in the wasm sandbox), which takes a
    // few CLI calls of 2-3 s each, longer on a busy machine.
    let start = Instant::now();
    let done = loop {
        let (_, t) = support::get_json(&format!("{api}/api/tasks/2")).await?;
        if t["status"] == "Completed" {
            break t;
        }
        anyhow::ensure!(start.elapsed() < Duration::from_secs(180), "task 2 did not complete: {t}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let result = done["resultHash"].as_str().expect("result CID");
    let output = reqwest::get(format!("{api}/ipfs/{result}")).await?.text().await?;
    assert_eq!(output, "{\"lines\":0,\"words\":1,\"bytes\":18}\n");
    let kinds: Vec<_> = done["timeline"].as_array().expect("timeline").iter().map(|e| e["event"].clone()).collect();
    assert_eq!(kinds, ["TaskCreated", "TaskInput", "TaskStarted", "TaskCompleted"]);

    let (_, mine) = support::get_json(&format!("{api}/api/tasks?user={buyer_addr}")).await?;
    assert_eq!(mine.as_array().map(Vec::len), Some(2));
    let (status, health) = support::get_json(&format!("{api}/api/health")).await?;
    assert_eq!(status, 200);
    assert_eq!(health["chainId"], 31337);

    // A payment channel opened by cast, a voucher signed by viem, collected by the node's ledger.
    let payee = dev["accounts"][dev["roles"]["provider"].as_u64().expect("role") as usize]["address"]
        .as_str()
        .expect("payee")
        .to_owned();
    let channel_contract = dev["contracts"]["payment_channel"].as_str().expect("channel contract").to_owned();
    let now = Command::new(support::cast()).args(["block", "latest", "-f", "timestamp", "--rpc-url", &rpc]).output()?;
    let expiry = String::from_utf8(now.stdout)?.trim().parse::<u64>()? + 3600;
    let salt = format!("0x{}", "07".repeat(32));
    let signer = buyer["address"].as_str().expect("address").to_owned();
    support::cast_send(
        &rpc,
        &buyer_key,
        &[
            &channel_contract,
            "open(address,address,uint256,uint64,bytes32,address)",
            &payee,
            "0x0000000000000000000000000000000000000000",
            "1000000000000000000",
            &expiry.to_string(),
            &salt,
            &signer,
            "--value",
            "1ether",
        ],
    )?;
    let id = Command::new(support::cast())
        .args(["call", &channel_contract, "computeChannelId(address,address,address,address,bytes32)(bytes32)"])
        .args([&signer, &payee, "0x0000000000000000000000000000000000000000", &signer, &salt, "--rpc-url", &rpc])
        .output()?;
    let id = String::from_utf8(id.stdout)?.trim().to_owned();
    let (channel, _) = support::wait_for(&format!("{api}/api/channels/{id}"), Duration::from_secs(5)).await?;
    assert_eq!(channel["state"], "Open");
    assert_eq!(channel["spent"], "0");
    let viem = Command::new("node")
        .arg(support::repo_root().join("crates/channels/tests/viem_voucher.mjs"))
        .args(["sign", &buyer_key, "31337", &channel_contract, &id, "250000000000000000"])
        .output()?;
    anyhow::ensure!(viem.status.success(), "{}", String::from_utf8_lossy(&viem.stderr));
    let signed: serde_json::Value = serde_json::from_slice(&viem.stdout)?;
    let client = reqwest::Client::new();
    let post = |amount: &'static str| {
        client
            .post(format!("{api}/api/channels/{id}/vouchers"))
            .json(&serde_json::json!({ "cumulativeAmount": amount, "signature": signed["signature"] }))
            .send()
    };
    let accepted = post("250000000000000000").await?;
    assert_eq!(accepted.status(), 200);
    let body: serde_json::Value = accepted.json().await?;
    assert_eq!(body["acceptedTotal"], "250000000000000000");
    let replay = post("250000000000000000").await?;
    assert_eq!(replay.status(), 409);
    let body: serde_json::Value = replay.json().await?;
    assert_eq!(body["error"]["code"], "stale_voucher");
    let (channel, _) = support::wait_for(&format!("{api}/api/channels/{id}"), Duration::from_secs(5)).await?;
    assert_eq!(channel["spent"], "250000000000000000");
    let (_, listed) = support::get_json(&format!("{api}/api/channels?payer={signer}")).await?;
    assert_eq!(listed.as_array().map(Vec::len), Some(1));

    // Stopping agora stops its anvil too.
    let exit = up.stop()?;
    assert!(exit.success(), "agora up exited with {exit}");
    let rpc_gone = reqwest::Client::new()
        .post(&rpc)
        .json(&serde_json::json!({"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}))
        .send()
        .await;
    assert!(rpc_gone.is_err(), "anvil still answers after agora stopped");
    Ok(())
}

#[tokio::test]
async fn an_indexer_killed_mid_range_resumes_with_no_gap_and_no_duplicate() -> anyhow::Result<()> {
    let chain = TestChain::start().await?;
    chain.list(&listings(&demo_services())).await?;
    let (anvil, d, provider) = (&chain.anvil, &chain.d, chain.provider(PROVIDER));
    let buyer = ComputeMarket::new(d.compute_market, chain.provider(BUYER));
    const TASKS: u64 = 150;
    for _ in 0..TASKS {
        let price = U256::from(10_000_000_000_000_000u64);
        send(buyer.buyCompute(U256::from(1), "bafy".into(), price, 300).value(price)).await?;
    }
    let head = provider.get_block_number().await?;
    // The board's PlatformArbiterSet at deployment, 3 listings, then created + input per task.
    let expected_logs = 1 + 3 + 2 * TASKS;
    let dir = support::tempdir()?;
    let deployments = dir.path().join("deployments.json");
    d.save(&deployments)?;

    for db in TestDb::both().await? {
        let spawn = || -> anyhow::Result<support::Proc> {
            Ok(support::Proc(
                Command::new(env!("CARGO_BIN_EXE_agora"))
                    .args([
                        "index",
                        "--rpc-url",
                        anvil.url(),
                        "--confirmations",
                        "0",
                        "--batch-blocks",
                        "1",
                        "--database-url",
                        &db.url,
                    ])
                    .arg("--deployments")
                    .arg(&deployments)
                    .arg("--data-dir")
                    .arg(dir.path())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()?,
            ))
        };
        let mut first = spawn()?;
        let start = Instant::now();
        let killed_at = loop {
            let n = db.store.log_count(d.chain_id).await?;
            if n >= 20 {
                first.0.kill()?; // SIGKILL
                first.0.wait()?;
                break db.store.log_count(d.chain_id).await?;
            }
            anyhow::ensure!(start.elapsed() < Duration::from_secs(60), "indexer made no progress");
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        assert!(killed_at < expected_logs, "{}: the indexer finished before it could be killed", db.label);

        let _second = spawn()?;
        let start = Instant::now();
        while db.store.cursor(d.chain_id).await?.map(|c| c.block_number) != Some(head) {
            anyhow::ensure!(start.elapsed() < Duration::from_secs(60), "restarted indexer did not catch up");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(db.store.log_count(d.chain_id).await?, expected_logs, "{}", db.label);
        let tasks = db.store.tasks(d.chain_id, None, 1000).await?;
        assert_eq!(tasks.len() as u64, TASKS);
        let mut ids: Vec<u64> = tasks.iter().map(|t| t.task_id).collect();
        ids.sort_unstable();
        assert_eq!(ids, (1..=TASKS).collect::<Vec<_>>(), "{}: a gap or a duplicate", db.label);
        assert!(tasks.iter().all(|t| t.status == TaskStatus::Created && t.input.as_deref() == Some("bafy")));
        println!("{}: killed after {killed_at} of {expected_logs} logs; resumed to all of them", db.label);
        drop(_second);
        db.finish().await?;
    }
    chain.stop().await?;
    Ok(())
}

#[tokio::test]
async fn deploy_then_up_against_an_external_rpc() -> anyhow::Result<()> {
    let anvil = Anvil::spawn_default(locate_anvil(&support::repo_root()).expect("anvil")).await?;
    let dir = support::tempdir()?;
    let out = dir.path().join("deployments.json");
    let operator = anvil.accounts()[2].address.clone();
    let deploy = Command::new(env!("CARGO_BIN_EXE_agora"))
        .args(["deploy", "--rpc-url", anvil.url(), "--operator", &operator, "--out"])
        .arg(&out)
        .env("AGORA_DEPLOYER_KEY", &anvil.accounts()[0].private_key)
        .output()?;
    assert!(deploy.status.success(), "{}", String::from_utf8_lossy(&deploy.stderr));
    let d = agora_chain::deploy::Deployments::load(&out)?;
    assert_eq!(d.operator.to_string().to_ascii_lowercase(), operator.to_ascii_lowercase());
    let provider =
        Sender::connect(anvil.url(), signer_from_key(&anvil.accounts()[1].private_key)?, SendPolicy::dev()).await?;
    list_services(&provider, &d, &listings(&demo_services()[..1])).await?;

    let deployments = out.to_str().expect("utf-8 path").to_owned();
    let up = support::Up::start_with(
        support::tempdir()?,
        &["--rpc-url", anvil.url(), "--deployments", &deployments, "--confirmations", "0"],
    )?;
    let (_, network) = support::get_json(&format!("{}/api/network", up.api)).await?;
    assert_eq!(network["embeddedChain"], false);
    assert_eq!(
        network["computeMarket"].as_str().map(str::to_ascii_lowercase),
        Some(d.compute_market.to_string().to_ascii_lowercase())
    );
    let start = Instant::now();
    loop {
        let (_, services) = support::get_json(&format!("{}/api/services", up.api)).await?;
        if services.as_array().map(Vec::len) == Some(1) {
            break;
        }
        anyhow::ensure!(start.elapsed() < Duration::from_secs(10), "service never indexed: {services}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(up.stop()?.success());

    // The same deployments claimed for another chain: refused with a clear message.
    let mut wrong = d.clone();
    wrong.chain_id = 1;
    wrong.save(&out)?;
    let refused = Command::new(env!("CARGO_BIN_EXE_agora"))
        .args([
            "up",
            "--rpc-url",
            anvil.url(),
            "--deployments",
            &deployments,
            "--http-addr",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()?;
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("connected to chain 31337, expected chain 1"), "{stderr}");
    anvil.stop().await?;
    Ok(())
}

/// Kills (aborts) `agora up` right after each step of a job, restarts it on the same data
/// directory, and checks that the task ends settled exactly once.
#[tokio::test]
async fn a_node_killed_at_each_step_of_a_job_settles_it_exactly_once() -> anyhow::Result<()> {
    use std::os::unix::process::ExitStatusExt;

    let chain = TestChain::start().await?;
    chain.list(&listings(&demo_services())).await?;
    let amt = U256::from(10u64).pow(U256::from(21u64));
    chain.mint(&[chain.address(BUYER)], amt).await?;
    let token = agora_chain::bindings::MarketToken::new(chain.d.market_token, chain.provider(BUYER));
    send(token.approve(chain.d.compute_market, amt)).await?;
    let market = ComputeMarket::new(chain.d.compute_market, chain.provider(BUYER));
    let dir = support::tempdir()?;
    let deployments = dir.path().join("deployments.json");
    chain.d.save(&deployments)?;
    let deployments = deployments.to_str().expect("utf-8 path").to_owned();
    let operator_key = chain.anvil.accounts()[agora_chain::testing::OPERATOR].private_key.clone();
    let args = ["--rpc-url", chain.url(), "--deployments", &deployments, "--confirmations", "0"];
    let env = [("AGORA_COMPUTE__OPERATOR_KEY", operator_key.as_str())];
    // Content nobody uploaded: a task with its CID as input fails with "not in the content store".
    let missing = agora_content::cid_of(b"nobody uploaded this").to_string();

    for (point, input, outcome) in [
        ("accepted", "one two", "Completed"),
        ("start-sent", "one two", "Completed"),
        ("started", "one two", "Completed"),
        ("executed", "one two", "Completed"),
        ("complete-sent", "one two", "Completed"),
        ("failing", missing.as_str(), "Refunded"),
        ("fail-sent", missing.as_str(), "Refunded"),
    ] {
        let receipt =
            send(market.buyCompute(U256::from(3), input.into(), U256::from(5_000_000_000_000_000_000u64), 300)).await?;
        let id = receipt.decoded_log::<ComputeMarket::TaskCreated>().expect("TaskCreated").data.taskId;

        // First life: aborts at the failpoint, like a kill -9 at that instant.
        let envs = [env[0], ("AGORA_COMPUTE__FAILPOINT", point)];
        let (mut doomed, _) = support::spawn_up(dir.path(), &args, &envs)?;
        let start = Instant::now();
        let status = loop {
            if let Some(status) = doomed.0.try_wait()? {
                break status;
            }
            anyhow::ensure!(start.elapsed() < Duration::from_secs(60), "{point}: the node never reached its failpoint");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(status.signal(), Some(6), "{point}: expected SIGABRT, got {status}");

        // Second life: picks the job up where the record says and settles it.
        let (node, api) = support::spawn_up(dir.path(), &args, &env)?;
        let start = Instant::now();
        loop {
            let (_, t) = support::get_json(&format!("{api}/api/tasks/{id}")).await?;
            if t["status"] == outcome {
                break;
            }
            anyhow::ensure!(start.elapsed() < Duration::from_secs(60), "{point}: task {id} is {}", t["status"]);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Let anything still in flight land, then count what the chain recorded.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (_, events) = support::task_events(&api, id).await?;
        let count = |k: &str| events.iter().filter(|e| *e == k).count();
        assert_eq!(count("TaskStarted"), 1, "{point}: {events:?}");
        assert_eq!(count("TaskCompleted") + count("TaskRefunded"), 1, "{point}: settled more than once: {events:?}");
        println!("{point}: task {id} {outcome} once after a crash there");
        drop(node);
    }
    chain.stop().await?;
    Ok(())
}
