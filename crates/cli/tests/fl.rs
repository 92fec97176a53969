//! The federated-learning market end to end: `agora up` on the embedded chain coordinates, the
//! investor creates tasks with `agora fl create`, and every participant is its own
//! `agora fl-client` process training on the digits data set. A reward-pool task pays out exactly
//! its pool by contribution (the participant with shuffled labels gets the least) and
//! `agora fl verify` recomputes the figures; a shareholding task's shares sum to 10^18 and the
//! dividends withdrawn after paid predictions (on chain, and by vouchers on a channel to the node's
//! fee receiver, which `agora fl forward-fees` and the node's `fl-fee-forward` job pay into the
//! contract, each fee once) are exactly the contract's formula; a participant
//! killed in the middle of a round does not stall its task. The reward-pool task's model is then
//! sold on the compute market, by its investor only (`listing`). A node killed in the middle of a
//! task's training resumes it when started again (`restart`).

#[path = "fl/listing.rs"]
mod listing;
#[path = "fl/restart.rs"]
mod restart;
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use alloy::primitives::U256;
use alloy::signers::local::PrivateKeySigner;
use serde_json::Value;

/// The investor and the predictor: dev accounts no service of the node sends from.
const INVESTOR: usize = 3;
const PREDICTOR: usize = 4;

/// How long a whole digits task may take on two busy cores.
const TASK_LIMIT: Duration = Duration::from_secs(300);

struct Market {
    up: support::Up,
    rpc: String,
}

impl Market {
    /// `agora up`, once its API names the federated-learning coordinator and its endpoint.
    async fn start() -> anyhow::Result<Self> {
        let up = support::Up::start()?;
        let (_, net) = support::get_json(&format!("{}/api/network", up.api)).await?;
        anyhow::ensure!(
            net["flCoordinator"].is_string() && net["flEndpoint"].is_string(),
            "the node advertises no federated-learning coordinator: {net}"
        );
        let rpc = net["rpcUrl"].as_str().expect("rpcUrl").to_owned();
        Ok(Self { up, rpc })
    }

    fn dev_key(&self, i: usize) -> String {
        self.up.dev["accounts"][i]["private_key"].as_str().expect("key").to_owned()
    }

    /// A fresh participant with 1 ETH for its gas, sent by the investor.
    fn participant(&self) -> anyhow::Result<PrivateKeySigner> {
        let key = PrivateKeySigner::random();
        support::cast_send(&self.rpc, &self.dev_key(INVESTOR), &[&key.address().to_string(), "--value", "1ether"])?;
        Ok(key)
    }

    fn dir(&self) -> &Path {
        self.up.dir.path()
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

    /// `agora fl create` as the investor: the task id.
    fn create(&self, extra: &[&str]) -> anyhow::Result<u64> {
        let key = self.dev_key(INVESTOR);
        // 30 blocks: 1 for sale, 8 given to each member at joining (enough data to tell noise apart).
        let mut args = vec![
            "fl",
            "create",
            "--key",
            &key,
            "--dataset",
            "digits",
            "--for-sale",
            "1",
            "--per-member",
            "8",
            "--seed",
            "7",
        ];
        args.extend(extra);
        let v = self.ok(&args)?;
        Ok(v["created"]["taskId"].as_u64().expect("taskId"))
    }

    /// An `agora fl-client --join` process; its output goes to `<dir>/client-<name>.{out,err}`.
    fn client(&self, task: u64, key: &PrivateKeySigner, name: &str, extra: &[&str]) -> anyhow::Result<Client> {
        let out = self.dir().join(format!("client-{name}.out"));
        let err = self.dir().join(format!("client-{name}.err"));
        let child = Command::new(env!("CARGO_BIN_EXE_agora"))
            .args(["fl-client", "--json", "--join", "--api", &self.up.api, "--task", &task.to_string()])
            .args(["--key", &alloy::primitives::hex::encode_prefixed(key.to_bytes())])
            .args(extra)
            .env("RUST_LOG", "info")
            .stdout(std::fs::File::create(&out)?)
            .stderr(std::fs::File::create(&err)?)
            .stdin(Stdio::null())
            .spawn()?;
        Ok(Client { proc: support::Proc(child), out, err, account: key.address() })
    }

    /// The task (`/api/fl/tasks/{id}`'s `task`) once `ready` holds for it.
    async fn task_when(&self, task: u64, ready: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
        let url = format!("{}/api/fl/tasks/{task}", self.up.api);
        let deadline = Instant::now() + TASK_LIMIT;
        loop {
            let (status, body) = support::get_json(&url).await?;
            if status == 200 && ready(&body["task"]) {
                return Ok(body["task"].clone());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "task {task} not ready: {body}\nnode log:\n{}",
                support::tail(&self.dir().join("agora.stderr.log"), 40)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

struct Client {
    proc: support::Proc,
    out: PathBuf,
    err: PathBuf,
    account: alloy::primitives::Address,
}

impl Client {
    /// Waits for the process to end; its exit status and its last JSON line.
    async fn finish(&mut self) -> anyhow::Result<(ExitStatus, Value)> {
        let deadline = Instant::now() + TASK_LIMIT;
        let status = loop {
            if let Some(status) = self.proc.0.try_wait()? {
                break status;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "fl-client still running; its log:\n{}",
                support::tail(&self.err, 30)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let text = std::fs::read_to_string(&self.out)?;
        let last = text.lines().last().map(serde_json::from_str).transpose()?.unwrap_or(Value::Null);
        Ok((status, last))
    }

    /// [`Self::finish`], which must succeed with a report naming the record.
    async fn report(&mut self) -> anyhow::Result<Value> {
        let (status, last) = self.finish().await?;
        anyhow::ensure!(
            status.success() && last["report"]["record"].is_string(),
            "fl-client ended {status} with {last}; its log:\n{}",
            support::tail(&self.err, 30)
        );
        Ok(last["report"].clone())
    }
}

fn amount(v: &Value) -> U256 {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not an amount: {v}"))
}

#[tokio::test]
async fn a_reward_pool_pays_out_exactly_by_contribution_and_verifies() -> anyhow::Result<()> {
    let m = Market::start().await?;
    let pool = "1000000000000000001"; // 1 ETH and a wei: the remainder rule is exercised
    let task = m.create(&["--mode", "reward", "--pool", pool, "--pool-token", "eth", "--min", "3", "--rounds", "3"])?;
    let keys = [m.participant()?, m.participant()?, m.participant()?];
    let mut clients = vec![
        m.client(task, &keys[0], "a", &[])?,
        m.client(task, &keys[1], "b", &[])?,
        m.client(task, &keys[2], "noise", &["--shuffle-labels"])?,
    ];
    for c in &mut clients {
        let report = c.report().await?;
        assert_eq!(report["trained"], serde_json::json!([1, 2, 3]), "{report}");
    }
    m.task_when(task, |t| t["state"] == "finished").await?;

    let mut claimed = Vec::new();
    for (key, c) in keys.iter().zip(&clients) {
        let hex = alloy::primitives::hex::encode_prefixed(key.to_bytes());
        let (status, lines) = m.agora(&["fl", "claim", &task.to_string(), "--key", &hex])?;
        let last = lines.last().cloned().unwrap_or(Value::Null);
        if status.success() {
            claimed.push((c.account, amount(&last["claimed"]["amount"])));
        } else {
            // A participant whose clipped contribution is zero is in no leaf: nothing to claim.
            let message = last["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains("no part") || message.contains("no reward"), "{last}");
            claimed.push((c.account, U256::ZERO));
        }
    }
    let total: U256 = claimed.iter().map(|(_, a)| *a).sum();
    assert_eq!(total, amount(&Value::from(pool)), "claims {claimed:?}");
    let noise = claimed[2].1;
    assert!(claimed[..2].iter().all(|(_, a)| *a > noise), "the shuffled-label participant gets the least: {claimed:?}");
    assert!(claimed[..2].iter().all(|(_, a)| !a.is_zero()));
    let t = m.task_when(task, |t| t["claimed"] == pool).await?;
    assert_eq!(t["claimed"], pool);

    let v = m.ok(&["fl", "verify", &task.to_string(), "--deep"])?;
    assert!(v["verified"]["mismatch"].is_null(), "{v}");
    assert_eq!(v["verified"]["participants"].as_array().map(Vec::len), Some(3), "{v}");
    // Exact Shapley over three participants: 2³ coalitions a round, each evaluated again.
    assert_eq!(v["verified"]["utilitiesReplayed"].as_u64(), Some(3 * 8), "{v}");
    // Every update of the three rounds was kept and hashes to the record's name for it.
    assert_eq!(
        (v["verified"]["updatesChecked"].as_u64(), v["verified"]["updatesMissing"].as_u64()),
        (Some(9), Some(0)),
        "{v}"
    );
    // A claim made twice is refused by the contract, by name.
    let hex = alloy::primitives::hex::encode_prefixed(keys[0].to_bytes());
    let (status, lines) = m.agora(&["fl", "claim", &task.to_string(), "--key", &hex])?;
    assert!(!status.success());
    assert_eq!(lines.last().map(|l| l["error"]["code"].clone()), Some("AlreadyClaimed".into()), "{lines:?}");
    // The investor owns the model: sold on the compute market, by the investor only.
    listing::sold_on_the_compute_market(&m, task).await
}

/// `fee` paid `n` times, accrued as FederatedMarket does: the magnified fee per share and what
/// `shares` of it are worth.
fn dividends(fee: U256, n: usize, shares: U256) -> U256 {
    let (magnitude, total) = (U256::from(1u8) << 128, U256::from(10u64).pow(U256::from(18u8)));
    let (mut per_share, mut remainder) = (U256::ZERO, U256::ZERO);
    for _ in 0..n {
        let magnified = fee * magnitude + remainder;
        per_share += magnified / total;
        remainder = magnified % total;
    }
    per_share * shares / magnitude
}

#[tokio::test]
async fn shareholders_withdraw_the_prediction_fees_split_by_shares() -> anyhow::Result<()> {
    let m = market_forwarding_fees().await?;
    let fee = "333333333333333"; // 1/3000 ETH: the division leaves remainders
    let task = m.create(&["--mode", "shares", "--fee", fee, "--pool-token", "eth", "--min", "2", "--rounds", "2"])?;
    let keys = [m.participant()?, m.participant()?];
    let mut clients = vec![m.client(task, &keys[0], "a", &[])?, m.client(task, &keys[1], "b", &[])?];
    for c in &mut clients {
        c.report().await?;
    }
    m.task_when(task, |t| t["state"] == "finished").await?;
    let v = m.ok(&["fl", "verify", &task.to_string()])?;
    assert!(v["verified"]["mismatch"].is_null(), "{v}");
    let holders: Vec<(String, U256)> = v["verified"]["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .map(|p| (p["account"].as_str().expect("account").to_lowercase(), amount(&p["posted"])))
        .collect();
    assert_eq!(holders.iter().map(|(_, s)| *s).sum::<U256>(), U256::from(10u64).pow(U256::from(18u8)));

    // Three paid predictions on an 8×8 image.
    let image = m.dir().join("digit.pgm");
    let mut pgm = b"P5\n8 8\n16\n".to_vec();
    pgm.extend((0..64u8).map(|i| if (2..6).contains(&(i % 8)) { 16 } else { 0 }));
    std::fs::write(&image, pgm)?;
    let predictor = m.dev_key(PREDICTOR);
    let n = 3;
    for _ in 0..n {
        let p = m.ok(&[
            "fl",
            "predict",
            &task.to_string(),
            "--key",
            &predictor,
            "--image",
            image.to_str().expect("utf-8"),
        ])?;
        assert!(p["prediction"]["class"].as_u64().is_some_and(|c| c < 10), "{p}");
        assert_eq!(p["prediction"]["fee"], fee);
    }
    // Four more paid by vouchers on an ETH channel to the node's fee receiver: two forwarded with
    // `agora fl forward-fees` (or by the node's job, whichever comes first: never both), then two
    // more once the channel is settled, which only the node's fl-fee-forward job forwards.
    let (_, terms) = support::get_json(&format!("{}/api/fl/fees", m.up.api)).await?;
    let receiver = terms["feeReceiver"].as_str().expect("fee receiver").to_owned();
    let data = m.dir().join("client");
    let data = data.to_str().expect("utf-8");
    let opened = m.ok(&[
        "channel",
        "open",
        "--key",
        &predictor,
        "--amount",
        "2000000000000000",
        "--token",
        "eth",
        "--payee",
        &receiver,
        "--data-dir",
        data,
    ])?;
    let channel = opened["channelId"].as_str().expect("channel id").to_owned();
    support::wait_for(&format!("{}/api/channels/{channel}", m.up.api), Duration::from_secs(10)).await?;
    let by_voucher = |i: u64| -> anyhow::Result<()> {
        let p = m.ok(&[
            "fl",
            "predict",
            &task.to_string(),
            "--channel",
            &channel,
            "--image",
            image.to_str().expect("utf-8"),
            "--data-dir",
            data,
        ])?;
        assert!(p["prediction"]["class"].as_u64().is_some_and(|c| c < 10), "{p}");
        assert_eq!(p["prediction"]["payment"]["charged"], true, "{p}");
        assert_eq!(amount(&p["prediction"]["payment"]["cumulative"]), amount(&Value::from(fee)) * U256::from(i));
        Ok(())
    };
    for i in 1..=2u64 {
        by_voucher(i)?;
    }
    let forwarded = m.ok(&["fl", "forward-fees", "--key", &m.dev_key(1)])?;
    let by_hand: u64 =
        forwarded["forwarded"].as_array().expect("forwarded").iter().filter_map(|f| f["count"].as_u64()).sum();
    assert!(by_hand <= 2, "{forwarded}");
    forwarded_fees(&m, 2).await?;
    for i in 3..=4u64 {
        by_voucher(i)?;
    }
    let settled = m.ok(&["channel", "settle", &channel, "--key", &m.dev_key(1), "--data-dir", data])?;
    assert_eq!(amount(&settled["paidToPayee"]), amount(&Value::from(fee)) * U256::from(4u8), "{settled}");
    forwarded_fees(&m, 4).await?;
    let n = n + 4;
    let mut paid = U256::ZERO;
    for key in &keys {
        let hex = alloy::primitives::hex::encode_prefixed(key.to_bytes());
        let address = key.address().to_string().to_lowercase();
        let shares = holders.iter().find(|(a, _)| *a == address).map(|(_, s)| *s).unwrap_or_default();
        let (status, lines) = m.agora(&["fl", "withdraw", &task.to_string(), "--key", &hex])?;
        let last = lines.last().cloned().unwrap_or(Value::Null);
        let expected = dividends(amount(&Value::from(fee)), n, shares);
        if expected.is_zero() {
            assert!(!status.success(), "{last}");
            continue;
        }
        assert!(status.success(), "{last}");
        assert_eq!(amount(&last["withdrawn"]["amount"]), expected, "{address} with {shares} shares");
        paid += expected;
    }
    let fees = amount(&Value::from(fee)) * U256::from(n);
    assert!(paid <= fees && fees - paid < U256::from(keys.len() + 1), "paid {paid} of {fees}");
    Ok(())
}

#[tokio::test]
async fn a_participant_killed_mid_round_does_not_stall_its_task() -> anyhow::Result<()> {
    let m = Market::start().await?;
    let task = m.create(&[
        "--mode",
        "reward",
        "--pool",
        "1000000",
        "--pool-token",
        "eth",
        "--min",
        "3",
        "--rounds",
        "3",
        "--round-timeout",
        "20",
    ])?;
    let keys = [m.participant()?, m.participant()?, m.participant()?];
    let mut a = m.client(task, &keys[0], "a", &[])?;
    let mut b = m.client(task, &keys[1], "b", &[])?;
    // Receives round 2's model and never answers: it is in the middle of round 2 when killed.
    let mut dropped = m.client(task, &keys[2], "dropped", &["--drop-after-round", "1"])?;
    let rounds_url = format!("{}/api/fl/tasks/{task}/rounds", m.up.api);
    let deadline = Instant::now() + TASK_LIMIT;
    loop {
        let (_, rounds) = support::get_json(&rounds_url).await?;
        if rounds.as_array().is_some_and(|r| !r.is_empty()) {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "no round aggregated: {rounds}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    dropped.proc.0.kill()?;
    let _ = dropped.finish().await?;
    a.report().await?;
    b.report().await?;
    m.task_when(task, |t| t["state"] == "finished").await?;
    let (_, rounds) = support::get_json(&rounds_url).await?;
    let rounds = rounds.as_array().cloned().unwrap_or_default();
    assert_eq!(rounds.len(), 3, "{rounds:?}");
    let gone = dropped.account.to_string().to_lowercase();
    for r in &rounds[1..] {
        let who: Vec<&str> =
            r["participants"].as_array().expect("participants").iter().filter_map(|p| p["account"].as_str()).collect();
        assert!(!who.contains(&gone.as_str()), "round {}: {who:?}", r["round"]);
        // Each aggregated update is weighted by the samples its participant trained on.
        for p in r["participants"].as_array().expect("participants") {
            assert!(p["samples"].as_u64().is_some_and(|n| n > 0), "round {}: {p}", r["round"]);
        }
    }
    Ok(())
}

/// [`Market::start`] with the node's fee receiver forwarding voucher-paid prediction fees every 10
/// seconds (its `fl-fee-forward` job).
async fn market_forwarding_fees() -> anyhow::Result<Market> {
    let dir = support::tempdir()?;
    let every = [("AGORA_FL__FORWARD_FEES_EVERY_SECS", "10")];
    let (proc, api) = support::spawn_up(dir.path(), &["--anvil-port", "0"], &every)?;
    let dev = serde_json::from_slice(&std::fs::read(dir.path().join("dev.json"))?)?;
    let up = support::Up { proc, dir, api, dev };
    let (_, net) = support::get_json(&format!("{}/api/network", up.api)).await?;
    let rpc = net["rpcUrl"].as_str().expect("rpcUrl").to_owned();
    Ok(Market { up, rpc })
}

/// Waits until the node has indexed exactly `count` forwarded fees of the one task with voucher-paid
/// predictions, all it recorded: none owed, none paid twice.
async fn forwarded_fees(m: &Market, count: u64) -> anyhow::Result<()> {
    let start = Instant::now();
    loop {
        let (_, f) = support::get_json(&format!("{}/api/fl/fees", m.up.api)).await?;
        let t = &f["tasks"][0];
        if t["forwarded"].as_u64().is_some_and(|n| n >= count) {
            assert_eq!(
                (t["recorded"].as_u64(), t["forwarded"].as_u64(), t["owed"].as_u64()),
                (Some(count), Some(count), Some(0)),
                "{f}"
            );
            assert_eq!(t["recordedAmount"], t["forwardedAmount"], "{f}");
            return Ok(());
        }
        anyhow::ensure!(start.elapsed() < Duration::from_secs(60), "{count} forwarded fees were never indexed: {f}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
