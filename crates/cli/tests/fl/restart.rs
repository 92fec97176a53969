//! A node killed (SIGKILL) in the middle of a task's training and started again on the same data
//! directory resumes the task after the last round it journaled: the `agora fl-client` processes
//! connect again by themselves, every round is aggregated once, and the record verifies and pays
//! out the pool exactly. The chain is an anvil of the test's own, outliving both node processes.

use std::time::{Duration, Instant};

use agora_chain::anvil::{Anvil, locate_anvil};
use agora_federated::ClientOptions;
use alloy::primitives::{Address, U256};
use serde_json::{Value, json};

use super::{Market, TASK_LIMIT, amount, support};

const POOL: &str = "2000000000000000003";
const ROUNDS: u64 = 5;
/// The anvil account the node coordinates with (one no other actor of the test sends from).
const COORDINATOR: usize = 5;

/// `agora up` against `anvil` with Agora deployed on it, coordinating with a fixed key on a fixed
/// port (the address its participants connect again to), and the arguments to start it again.
fn up_on(anvil: &Anvil) -> anyhow::Result<(Market, Vec<String>)> {
    let dir = support::tempdir()?;
    let deployments = dir.path().join("deployments.json");
    let deploy = std::process::Command::new(env!("CARGO_BIN_EXE_agora"))
        .args(["deploy", "--rpc-url", anvil.url(), "--operator", &anvil.accounts()[2].address, "--out"])
        .arg(&deployments)
        .env("AGORA_DEPLOYER_KEY", &anvil.accounts()[0].private_key)
        .output()?;
    anyhow::ensure!(deploy.status.success(), "agora deploy: {}", String::from_utf8_lossy(&deploy.stderr));
    let port = free_port_below_ephemeral()?;
    let config = dir.path().join("agora.toml");
    std::fs::write(
        &config,
        format!(
            "[fl]\ncoordinator_key = \"{}\"\nlisten = \"127.0.0.1:{port}\"\n",
            anvil.accounts()[COORDINATOR].private_key
        ),
    )?;
    let path = |p: &std::path::Path| p.to_str().expect("utf-8 path").to_owned();
    let args: Vec<String> = ["--rpc-url", anvil.url(), "--confirmations", "0"]
        .into_iter()
        .map(str::to_owned)
        .chain(["--deployments".into(), path(&deployments), "--config".into(), path(&config)])
        .collect();
    let mut up = support::Up::start_with(dir, &args.iter().map(String::as_str).collect::<Vec<_>>())?;
    let accounts: Vec<Value> = anvil.accounts().iter().map(|a| json!({ "private_key": a.private_key })).collect();
    up.dev = json!({ "accounts": accounts });
    Ok((Market { up, rpc: anvil.url().to_owned() }, args))
}

/// A port free now, below Linux's ephemeral range (32768 and up), so that no outgoing connection
/// made meanwhile can hold it when the node binds it again after the restart.
fn free_port_below_ephemeral() -> anyhow::Result<u16> {
    let start = 20_000 + (std::process::id() % 10_000) as u16;
    (start..32_000)
        .chain(20_000..start)
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .ok_or_else(|| anyhow::anyhow!("no free port between 20000 and 32000"))
}

/// The node's log of `task` (`/api/fl/tasks/{id}/logs`), every line.
async fn logs(m: &Market, task: u64) -> anyhow::Result<Vec<String>> {
    let (_, lines) = support::get_json(&format!("{}/api/fl/tasks/{task}/logs?limit=1000", m.up.api)).await?;
    Ok(lines.as_array().into_iter().flatten().filter_map(|l| l["message"].as_str().map(str::to_owned)).collect())
}

#[tokio::test]
async fn a_node_killed_mid_training_resumes_its_task_after_the_last_journaled_round() -> anyhow::Result<()> {
    let anvil = Anvil::spawn_default(locate_anvil(&support::repo_root()).expect("anvil")).await?;
    let (m, args) = up_on(&anvil)?;
    let rounds = ROUNDS.to_string();
    // Round 3 waits up to ten minutes for the member that hangs after round 2: the node is killed
    // while it waits, with rounds 1 and 2 journaled.
    let task = m.create(&[
        "--mode",
        "reward",
        "--pool",
        POOL,
        "--pool-token",
        "eth",
        "--min",
        "3",
        "--rounds",
        &rounds,
        "--round-timeout",
        "600",
    ])?;
    let keys = [m.participant()?, m.participant()?, m.participant()?];
    let mut clients = [
        m.client(task, &keys[0], "a", &[])?,
        m.client(task, &keys[1], "b", &[])?,
        m.client(task, &keys[2], "hangs", &["--drop-after-round", "2"])?,
    ];
    let rounds_url = |m: &Market| format!("{}/api/fl/tasks/{task}/rounds", m.up.api);
    // Killed once round 3 holds: the member that hangs has it (so it leaves when the connection
    // drops, instead of coming back), and rounds 1 and 2 are journaled.
    let deadline = Instant::now() + TASK_LIMIT;
    while !std::fs::read_to_string(&clients[2].err)?.contains("deliberately stalled") {
        anyhow::ensure!(Instant::now() < deadline, "the member never stalled: {}", support::tail(&clients[2].err, 20));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, journaled) = support::get_json(&rounds_url(&m)).await?;
    assert_eq!(journaled.as_array().map(Vec::len), Some(2), "{journaled}");
    assert_eq!(m.task_when(task, |_| true).await?["state"], "training");

    // Killed, and started again on the same data directory and port.
    let Market { up, rpc } = m;
    let dir = up.kill();
    let up = support::Up::start_with(dir, &args.iter().map(String::as_str).collect::<Vec<_>>())?;
    let m = Market { up, rpc };
    // The member that hung leaves when its connection drops; the others come back and finish.
    let (_, hung) = clients[2].finish().await?;
    assert_eq!(hung["report"]["trained"], json!([1, 2]), "{hung}");
    let mut records = Vec::new();
    for c in &mut clients[..2] {
        let report = c.report().await?;
        assert_eq!(report["trained"], json!((1..=ROUNDS).collect::<Vec<_>>()), "{report}");
        records.push(report["record"].clone());
    }
    let t = m.task_when(task, |t| t["state"] == "finished").await?;
    assert_eq!(records, [t["recordCid"].clone(), t["recordCid"].clone()], "{t}");

    // A participant that comes back once the coordinator has gone is told at once that training
    // ended, by the node, with the record (not dropped, which it would retry for minutes).
    let node_log = m.dir().join("agora.stderr.log");
    let deadline = Instant::now() + TASK_LIMIT;
    while !std::fs::read_to_string(&node_log)?.contains("federated task finished") {
        anyhow::ensure!(Instant::now() < deadline, "the coordinator never ended: {}", support::tail(&node_log, 20));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let late = m.client(task, &keys[0], "late", &["--reconnect-for", "0"])?.report().await?;
    assert_eq!((&late["record"], &late["trained"]), (&t["recordCid"], &json!([])), "{late}");
    // A connection for a task the node never heard of is told so, once, and not kept retrying.
    let (_, net) = support::get_json(&format!("{}/api/network", m.up.api)).await?;
    let endpoint = net["flEndpoint"].as_str().expect("the node advertises its fl endpoint");
    let chain_id = net["chainId"].as_u64().expect("chainId");
    let mut unknown = ClientOptions::new(format!("{endpoint}/tasks/999"), 999, chain_id, Address::ZERO, String::new());
    unknown.reconnect = Duration::ZERO;
    match agora_federated::client::run(&keys[0], &unknown).await {
        Err(agora_federated::Error::Dismissed(message)) => {
            assert_eq!(message, "task 999 is not known to this node");
        }
        other => panic!("a connection for an unknown task ended {other:?}"),
    }

    // Every round aggregated once, across both lives of the node; the second said where it resumed.
    let lines = logs(&m, task).await?;
    for round in 1..=ROUNDS {
        let prefix = format!("round {round}: ");
        let aggregated = lines.iter().filter(|l| l.starts_with(&prefix) && l.contains("updates aggregated")).count();
        assert_eq!(aggregated, 1, "round {round} in the log:\n{}", lines.join("\n"));
    }
    let resumed = format!("resumed after round 2 of {ROUNDS}, as journaled before the coordinator stopped");
    assert!(lines.contains(&resumed), "{}", lines.join("\n"));
    let (_, journaled) = support::get_json(&rounds_url(&m)).await?;
    let journaled = journaled.as_array().cloned().unwrap_or_default();
    assert_eq!(
        journaled.iter().map(|r| r["round"].as_u64()).collect::<Vec<_>>(),
        (1..=ROUNDS).map(Some).collect::<Vec<_>>()
    );
    assert!(journaled.iter().all(|r| r["recordCid"].is_string() && r["modelCid"].is_string()));

    // The record verifies, and its payouts are the whole pool.
    let v = m.ok(&["fl", "verify", &task.to_string(), "--deep"])?;
    assert!(v["verified"]["mismatch"].is_null(), "{v}");
    // Rounds 1 and 2 had three updates, the resumed rounds two (the member that hung was gone).
    let updates = 3 * 2 + 2 * (ROUNDS - 2);
    // Replayed from the updates, the first life's rounds and the second's alike: 2³ coalitions a
    // round, then 2².
    assert_eq!(v["verified"]["utilitiesReplayed"].as_u64(), Some(2 * 8 + (ROUNDS - 2) * 4), "{v}");
    assert_eq!(
        (v["verified"]["updatesChecked"].as_u64(), v["verified"]["updatesMissing"].as_u64()),
        (Some(updates), Some(0)),
        "{v}"
    );
    let (_, result) = support::get_json(&format!("{}/api/fl/tasks/{task}/result", m.up.api)).await?;
    let paid: U256 = result["entries"].as_array().into_iter().flatten().map(|e| amount(&e["amount"])).sum();
    assert_eq!(paid, amount(&Value::from(POOL)), "{result}");
    drop(m);
    anvil.stop().await?;
    Ok(())
}
