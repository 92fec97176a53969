//! The community task market from the command line: `agora up` on the embedded chain, and every
//! step a person takes is an `agora board …` or `agora community …` process with its own key. A
//! community gives the board a points budget; ETH tasks promising points are published, accepted,
//! submitted, approved (the worker's ETH and points rise by exactly the slot's reward and points),
//! rejected and revised, disputed and split by the community's arbiter (exact amounts both ways);
//! cancel is refused once a submission exists; a lapsed review is approved by a stranger after
//! anvil's clock is moved on; a reward the slots do not divide is refused before any transaction;
//! and the node's API shows every task as the chain holds it once the indexer caught up.

mod support;

use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use agora_chain::bindings::TaskBoard;
use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::signers::local::PrivateKeySigner;
use serde_json::Value;

/// The dev account that funds the test's fresh accounts (no service of the node sends from it).
const FUNDER: usize = 3;

/// One wei-exact slot reward: 0.001 ETH.
const SLOT: u128 = 1_000_000_000_000_000;

struct Market {
    up: support::Up,
    rpc: String,
    provider: DynProvider,
    board: Address,
}

/// A fresh account with ETH for its gas.
struct Who {
    key: String,
    addr: Address,
}

impl Market {
    async fn start() -> anyhow::Result<Self> {
        let up = support::Up::start()?;
        let (_, net) = support::get_json(&format!("{}/api/network", up.api)).await?;
        let board = net["taskBoard"].as_str().ok_or_else(|| anyhow::anyhow!("no taskBoard in {net}"))?.parse()?;
        let rpc = net["rpcUrl"].as_str().expect("rpcUrl").to_owned();
        let provider = agora_chain::read_provider(&rpc)?;
        Ok(Self { up, rpc, provider, board })
    }

    fn account(&self) -> anyhow::Result<Who> {
        let signer = PrivateKeySigner::random();
        let funder = self.up.dev["accounts"][FUNDER]["private_key"].as_str().expect("key").to_owned();
        support::cast_send(&self.rpc, &funder, &[&signer.address().to_string(), "--value", "10ether"])?;
        Ok(Who { key: alloy::primitives::hex::encode_prefixed(signer.to_bytes()), addr: signer.address() })
    }

    /// `agora ARGS… --api API --json`: its exit status and its JSON lines.
    fn agora(&self, args: &[&str]) -> anyhow::Result<(ExitStatus, Vec<Value>)> {
        let out = Command::new(env!("CARGO_BIN_EXE_agora"))
            .args(args)
            .args(["--api", &self.up.api, "--json"])
            .env("RUST_LOG", "warn")
            .output()?;
        let lines = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(serde_json::from_str)
            .collect::<Result<Vec<Value>, _>>()
            .map_err(|e| {
                anyhow::anyhow!("agora {args:?}: not JSON lines ({e}): {}", String::from_utf8_lossy(&out.stdout))
            })?;
        Ok((out.status, lines))
    }

    /// [`Self::agora`] that must succeed: its last line.
    fn ok(&self, args: &[&str]) -> anyhow::Result<Value> {
        let (status, lines) = self.agora(args)?;
        let last = lines.last().cloned().unwrap_or(Value::Null);
        anyhow::ensure!(status.success(), "agora {args:?} failed ({status}): {last}");
        Ok(last)
    }

    /// [`Self::agora`] that must fail: its error object.
    fn refused(&self, args: &[&str]) -> anyhow::Result<Value> {
        let (status, lines) = self.agora(args)?;
        let last = lines.last().cloned().unwrap_or(Value::Null);
        anyhow::ensure!(!status.success(), "agora {args:?} succeeded: {last}");
        Ok(last["error"].clone())
    }

    /// `agora board publish` as `who`: the task id.
    fn publish(&self, who: &Who, args: &[&str]) -> anyhow::Result<u64> {
        let mut all = vec!["board", "publish", "--key", &who.key];
        all.extend(args);
        let v = self.ok(&all)?;
        Ok(v["published"]["taskId"].as_u64().expect("taskId"))
    }

    /// `agora board ACTION TASK ARGS… --key KEY`.
    fn act(&self, who: &Who, action: &str, task: u64, args: &[&str]) -> anyhow::Result<Value> {
        let task = task.to_string();
        let mut all = vec!["board", action, &task];
        all.extend(args);
        all.extend(["--key", &who.key]);
        self.ok(&all)
    }

    /// `agora board show TASK`'s task.
    fn show(&self, task: u64) -> anyhow::Result<Value> {
        Ok(self.ok(&["board", "show", &task.to_string()])?["task"].clone())
    }

    /// `who`'s points in the community, as `agora community show --account` reads them.
    fn points(&self, community: &str, who: &Who) -> anyhow::Result<U256> {
        let v = self.ok(&["community", "show", community, "--account", &who.addr.to_string()])?;
        Ok(v["community"]["account"]["points"].as_str().expect("points").parse()?)
    }

    async fn eth(&self, who: &Who) -> anyhow::Result<U256> {
        Ok(self.provider.get_balance(who.addr).await?)
    }

    /// Moves anvil's clock on by `secs` and mines a block at the new time.
    async fn pass(&self, secs: u64) -> anyhow::Result<()> {
        self.provider.raw_request::<_, Value>("evm_increaseTime".into(), (secs,)).await?;
        self.provider.raw_request::<_, Value>("evm_mine".into(), ()).await?;
        Ok(())
    }
}

/// The claim of `worker` in a `board show` task.
fn claim<'a>(task: &'a Value, worker: &Who) -> &'a Value {
    let w = format!("{:#x}", worker.addr);
    task["claims"].as_array().and_then(|c| c.iter().find(|c| c["worker"] == w.as_str())).unwrap_or(&Value::Null)
}

#[tokio::test]
async fn the_task_market_from_the_command_line() -> anyhow::Result<()> {
    let m = Market::start().await?;
    let [publisher, arbiter, w1, w2, stranger] = [m.account()?, m.account()?, m.account()?, m.account()?, m.account()?];
    let board = TaskBoard::new(m.board, m.provider.clone());

    // A community with its own arbiter; two members; a budget of 1000 points for the board.
    let arbiter_at = arbiter.addr.to_string();
    let created = m.ok(&[
        "community",
        "create",
        "--key",
        &publisher.key,
        "--name",
        "Crabs",
        "--symbol",
        "CRB",
        "--arbiter",
        &arbiter_at,
    ])?;
    let community = created["created"]["communityId"].as_u64().expect("communityId").to_string();
    m.ok(&["community", "join", &community, "--key", &w1.key])?;
    m.ok(&["community", "join", &community, "--key", &w2.key])?;
    m.ok(&["community", "allow-board", &community, "1000", "--key", &publisher.key])?;
    let shown = m.ok(&["community", "show", &community, "--account", &w1.addr.to_string()])?["community"].clone();
    assert_eq!(shown["memberCount"], 3, "{shown}");
    assert_eq!(shown["boardAllowance"], "1000", "{shown}");
    assert_eq!(shown["account"]["member"], true, "{shown}");
    let again = m.refused(&["community", "join", &community, "--key", &w1.key])?;
    assert_eq!(again["code"], "AlreadyMember", "{again}");

    // A reward the slots do not divide: refused with the nearest rewards, before any transaction.
    let nonce = m.provider.get_transaction_count(publisher.addr).await?;
    let tasks = board.taskCount().call().await?;
    let uneven = m.refused(&[
        "board",
        "publish",
        "--key",
        &publisher.key,
        "--reward",
        "100",
        "--slots",
        "3",
        "--spec",
        "three ways",
    ])?;
    assert_eq!(uneven["code"], "RewardNotDivisible", "{uneven}");
    assert_eq!(uneven["nearest"], serde_json::json!(["99", "102"]), "{uneven}");
    assert_eq!(m.provider.get_transaction_count(publisher.addr).await?, nonce, "no transaction was sent");
    assert_eq!(board.taskCount().call().await?, tasks);

    // Three slots of 0.001 ETH, 10 points each; the first worker is approved.
    let reward = (3 * SLOT).to_string();
    let t1 = m.publish(
        &publisher,
        &[
            "--reward",
            &reward,
            "--slots",
            "3",
            "--community",
            &community,
            "--points",
            "10",
            "--revisions",
            "1",
            "--spec",
            "Port the parser to Rust",
        ],
    )?;
    let accepted = m.act(&w1, "accept", t1, &[])?;
    assert_eq!(accepted["accepted"]["rewardPerSlot"], SLOT.to_string(), "{accepted}");
    m.act(&w1, "submit", t1, &["--deliverable", "ipfs://w1-first"])?;
    let (eth, points) = (m.eth(&w1).await?, m.points(&community, &w1)?);
    m.act(&publisher, "approve", t1, &[&w1.addr.to_string()])?;
    assert_eq!(m.eth(&w1).await?, eth + U256::from(SLOT), "the worker is paid exactly its slot");
    assert_eq!(m.points(&community, &w1)?, points + U256::from(10), "and minted the task's points");

    // The second worker is rejected, revises, and is approved.
    m.act(&w2, "accept", t1, &[])?;
    m.act(&w2, "submit", t1, &["--deliverable", "ipfs://w2-first"])?;
    m.act(&publisher, "reject", t1, &[&w2.addr.to_string(), "--reason", "no tests"])?;
    assert_eq!(claim(&m.show(t1)?, &w2)["state"], "rejected");
    m.act(&w2, "submit", t1, &["--deliverable", "ipfs://w2-with-tests"])?;
    let revised = m.show(t1)?;
    assert_eq!(claim(&revised, &w2)["state"], "submitted", "{revised}");
    assert_eq!(claim(&revised, &w2)["revisions"], 1, "{revised}");
    let (eth, points) = (m.eth(&w2).await?, m.points(&community, &w2)?);
    m.act(&publisher, "approve", t1, &[&w2.addr.to_string()])?;
    assert_eq!(m.eth(&w2).await?, eth + U256::from(SLOT));
    assert_eq!(m.points(&community, &w2)?, points + U256::from(10));

    // Work was delivered on this task: its publisher cannot take the money back.
    let cancel = m.refused(&["board", "cancel", &t1.to_string(), "--key", &publisher.key])?;
    assert_eq!(cancel["code"], "TaskHasSubmissions", "{cancel}");

    // A rejection taken to the community's arbiter and split 25 / 75.
    let t2 = m.publish(
        &publisher,
        &["--reward", &SLOT.to_string(), "--community", &community, "--points", "10", "--spec", "Write the docs"],
    )?;
    m.act(&w1, "accept", t2, &[])?;
    m.act(&w1, "submit", t2, &["--deliverable", "ipfs://docs"])?;
    m.act(&publisher, "reject", t2, &[&w1.addr.to_string(), "--reason", "half of it"])?;
    m.act(&w1, "dispute", t2, &["--reason", "it is all there"])?;
    let not_arbiter = m.refused(&[
        "board",
        "resolve",
        &t2.to_string(),
        &w1.addr.to_string(),
        "--worker-bps",
        "10000",
        "--key",
        &w1.key,
    ])?;
    assert_eq!(not_arbiter["code"], "NotArbiter", "{not_arbiter}");
    let (worker_eth, publisher_eth, points) = (m.eth(&w1).await?, m.eth(&publisher).await?, m.points(&community, &w1)?);
    m.act(&arbiter, "resolve", t2, &[&w1.addr.to_string(), "--worker-bps", "2500"])?;
    assert_eq!(m.eth(&w1).await?, worker_eth + U256::from(SLOT / 4), "a quarter to the worker");
    assert_eq!(m.eth(&publisher).await?, publisher_eth + U256::from(SLOT - SLOT / 4), "the rest back");
    assert_eq!(m.points(&community, &w1)?, points + U256::from(2), "10 points × 25 %, rounded down");

    // A task without a community: its review window lapses and a stranger approves.
    let spec = m.up.dir.path().join("ci.md");
    std::fs::write(&spec, "# Fix CI\n\nThe nightly job times out.\n")?;
    let spec_file = spec.display().to_string();
    let reward = (2 * SLOT).to_string();
    let published = m.ok(&[
        "board",
        "publish",
        "--key",
        &publisher.key,
        "--reward",
        &reward,
        "--review-window",
        "60",
        "--spec-file",
        &spec_file,
    ])?["published"]
        .clone();
    let t3 = published["taskId"].as_u64().expect("taskId");
    let stored = reqwest::get(format!("{}/ipfs/{}", m.up.api, published["spec"].as_str().expect("spec"))).await?;
    assert_eq!(stored.text().await?, std::fs::read_to_string(&spec)?, "the description is in the content store");
    m.act(&w2, "accept", t3, &[])?;
    m.act(&w2, "submit", t3, &["--deliverable", "ipfs://ci"])?;
    let early =
        m.refused(&["board", "approve-lapsed", &t3.to_string(), &w2.addr.to_string(), "--key", &stranger.key])?;
    assert_eq!(early["code"], "ReviewWindowOpen", "{early}");
    m.pass(61).await?;
    let eth = m.eth(&w2).await?;
    m.act(&stranger, "approve-lapsed", t3, &[&w2.addr.to_string()])?;
    assert_eq!(m.eth(&w2).await?, eth + U256::from(2 * SLOT), "paid as if approved");

    // Before any submission the publisher may cancel, and gets the whole reward back.
    let t4 = m.publish(&publisher, &["--reward", &(2 * SLOT).to_string(), "--slots", "2", "--spec", "Nobody came"])?;
    m.act(&w1, "accept", t4, &[])?;
    m.act(&publisher, "cancel", t4, &[])?;
    assert_eq!(m.show(t4)?["state"], "cancelled");

    // Every payout was pushed: the board owes nobody anything.
    let nothing = m.refused(&["board", "withdraw", "--key", &w1.key])?;
    assert_eq!(nothing["code"], "NothingToWithdraw", "{nothing}");

    // The node's API shows each task as the chain holds it, once the indexer caught up.
    for (task, paid) in [(t1, 2 * SLOT), (t2, SLOT / 4), (t3, 2 * SLOT), (t4, 0)] {
        api_agrees(&m, task, paid).await?;
    }
    m.up.stop()?;
    Ok(())
}

/// Waits until `GET /api/board/tasks/{id}` shows what `agora board show` reads from the chain.
async fn api_agrees(m: &Market, task: u64, paid: u128) -> anyhow::Result<()> {
    let chain = m.show(task)?;
    let want = serde_json::json!({
        "publisher": chain["publisher"], "communityId": chain["communityId"], "token": chain["token"],
        "rewardPerSlot": chain["rewardPerSlot"], "slots": chain["slots"], "points": chain["points"],
        "deadline": chain["deadline"], "arbiter": chain["arbiter"], "state": chain["state"],
        "submitted": chain["submitted"], "paid": paid.to_string(),
        "claims": chain["claims"].as_array().expect("claims").iter()
            .map(|c| serde_json::json!([c["worker"], c["state"], c["revisions"]])).collect::<Vec<_>>(),
    });
    let url = format!("{}/api/board/tasks/{task}", m.up.api);
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = support::get_json(&url).await?;
        let t = &body["task"];
        let seen = serde_json::json!({
            "publisher": t["publisher"], "communityId": t["communityId"], "token": t["token"],
            "rewardPerSlot": t["rewardPerSlot"], "slots": t["slots"], "points": t["points"],
            "deadline": t["deadline"], "arbiter": t["arbiter"], "state": t["state"],
            "submitted": t["submitted"], "paid": t["paid"],
            "claims": body["claims"].as_array().map(|cs| cs.iter()
                .map(|c| serde_json::json!([c["worker"], c["state"], c["revisions"]])).collect::<Vec<_>>()),
        });
        if status == 200 && seen == want {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < until, "task {task}: the API shows {seen} ({status}), the chain {want}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
