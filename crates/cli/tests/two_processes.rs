//! Two API processes on one PostgreSQL database and one Redis (issue 15): `agora up` (embedded
//! chain, indexer, API) and `agora serve` (the API alone, on the same database, chain and Redis).
//! A page connected to the second hears of a purchase the first one's indexer applied, and a
//! cached list read through the second is fresh as soon as it has; a person whose notification
//! stream is on the second hears of a reply posted through the first.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use agora_store::testing::TestDb;
use serde_json::Value;
use support::{Proc, tail};

/// The Redis at `AGORA_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`).
fn redis_url() -> String {
    std::env::var("AGORA_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// `agora serve` with `args`; returns once it prints its URL (its log in `<dir>/agora.stderr.log`).
fn spawn_serve(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> anyhow::Result<(Proc, String)> {
    use std::io::{BufRead, BufReader};
    let log = dir.join("agora.stderr.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_agora"))
        .current_dir(support::repo_root())
        .args(["serve", "--data-dir"])
        .arg(dir)
        .args(["--http-addr", "127.0.0.1:0"])
        .args(args)
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log)?)
        .spawn()?;
    let stdout = child.stdout.take().expect("stdout");
    let mut proc = Proc(child);
    for line in BufReader::new(stdout).lines() {
        if let Some(url) = line?.strip_prefix("Agora is up: ") {
            return Ok((proc, url.to_owned()));
        }
    }
    let status = proc.0.wait()?;
    anyhow::bail!("agora serve exited ({status}) before it was up; the end of its log:\n{}", tail(&log, 40))
}

/// A server-sent event stream read as a page reads it.
struct EventStream {
    resp: reqwest::Response,
    buf: String,
}

impl EventStream {
    /// Connected once the server answered: from then on it is subscribed.
    async fn open(url: &str) -> anyhow::Result<Self> {
        Self::open_as(url, None).await
    }

    /// The same, signed in by the session `cookie`.
    async fn open_as(url: &str, cookie: Option<&str>) -> anyhow::Result<Self> {
        let mut req = reqwest::Client::new().get(url);
        if let Some(c) = cookie {
            req = req.header(reqwest::header::COOKIE, c);
        }
        let resp = req.send().await?;
        anyhow::ensure!(resp.status() == 200, "{url}: {}", resp.status());
        Ok(Self { resp, buf: String::new() })
    }

    /// The next event's name and data.
    async fn next(&mut self) -> anyhow::Result<(String, String)> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut name, mut data) = (String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if !name.is_empty() {
                    return Ok((name, data));
                }
                continue; // a keep-alive comment
            }
            let chunk = self.resp.chunk().await?.ok_or_else(|| anyhow::anyhow!("the event stream ended"))?;
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The first event named `name`, failing after `limit`.
    async fn named(&mut self, name: &str, limit: Duration) -> anyhow::Result<Value> {
        let wait = async {
            loop {
                let (got, data) = self.next().await?;
                if got == name {
                    return anyhow::Ok(serde_json::from_str::<Value>(&data)?);
                }
            }
        };
        tokio::time::timeout(limit, wait).await.map_err(|_| anyhow::anyhow!("no {name} event within {limit:?}"))?
    }

    /// The first `task` event about task `id`, failing after `limit`.
    async fn task(&mut self, id: u64, limit: Duration) -> anyhow::Result<Value> {
        let wait = async {
            loop {
                let (name, data) = self.next().await?;
                if name == "task" {
                    let task: Value = serde_json::from_str(&data)?;
                    if task["id"].as_u64() == Some(id) {
                        return anyhow::Ok(task);
                    }
                }
            }
        };
        tokio::time::timeout(limit, wait)
            .await
            .map_err(|_| anyhow::anyhow!("no event for task {id} within {limit:?}"))?
    }
}

#[tokio::test]
async fn an_event_applied_by_one_process_reaches_a_page_on_the_other() -> anyhow::Result<()> {
    let db = TestDb::postgres().await?;
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos();
    let prefix = format!("agora-test:{}:{nanos}:two-processes", std::process::id());
    let redis = redis_url();
    let envs = [("AGORA_REDIS__URL", redis.as_str()), ("AGORA_REDIS__PREFIX", prefix.as_str())];

    // A: chain, indexer, scheduler and API, on PostgreSQL.
    let dir_a = support::tempdir()?;
    let (_a, api_a) = support::spawn_up(dir_a.path(), &["--anvil-port", "0", "--database-url", &db.url], &envs)?;
    let dev: Value = serde_json::from_slice(&std::fs::read(dir_a.path().join("dev.json"))?)?;
    let rpc = dev["rpc_url"].as_str().expect("rpc_url").to_owned();
    let market = dev["contracts"]["compute_market"].as_str().expect("market").to_owned();
    let buyer = &dev["accounts"][dev["roles"]["first_buyer"].as_u64().expect("role") as usize];
    let buyer_key = buyer["private_key"].as_str().expect("key").to_owned();

    // B: the API alone, on A's database, chain and deployments, with its own data dir.
    let dir_b = support::tempdir()?;
    let deployments = dir_a.path().join("deployments.json");
    let deployments = deployments.to_str().expect("utf-8 path");
    let (_b, api_b) = spawn_serve(
        dir_b.path(),
        &["--rpc-url", &rpc, "--deployments", deployments, "--database-url", &db.url],
        &envs,
    )?;
    assert_ne!(api_a, api_b);
    let (_, network) = support::get_json(&format!("{api_b}/api/network")).await?;
    assert_eq!(
        (network["computeMarket"].as_str(), network["embeddedChain"].as_bool()),
        (Some(market.as_str()), Some(false))
    );

    let mut page_b = EventStream::open(&format!("{api_b}/api/events")).await?;
    let mut page_a = EventStream::open(&format!("{api_a}/api/events")).await?;
    // The lists as B serves them, now cached (in Redis, shared by A and B).
    let (_, services) = support::get_json(&format!("{api_b}/api/services")).await?;
    assert_eq!(services.as_array().map(Vec::len), Some(3), "A's demo services, read through B: {services}");
    for _ in 0..2 {
        let (status, tasks) = support::get_json(&format!("{api_b}/api/tasks")).await?;
        assert_eq!((status, tasks), (200, serde_json::json!([])));
    }

    // A purchase sent by Foundry to A's chain: only A indexes it.
    let receipt = support::cast_send(
        &rpc,
        &buyer_key,
        &[
            &market,
            "buyCompute(uint256,string,uint256,uint64)",
            "1",
            "7",
            "10000000000000000",
            "300",
            "--value",
            "0.01ether",
        ],
    )?;
    assert_eq!(receipt["status"], "0x1");

    let task = page_b.task(1, Duration::from_secs(30)).await?;
    assert_eq!(task["createdTx"], receipt["transactionHash"], "B's page hears of A's purchase: {task}");
    // Right after the event, the cached list read through B already holds the task.
    let (_, tasks) = support::get_json(&format!("{api_b}/api/tasks")).await?;
    let ids: Vec<u64> = tasks.as_array().expect("array").iter().filter_map(|t| t["id"].as_u64()).collect();
    assert_eq!(ids, [1], "the list B serves after the event: {tasks}");
    // A's own page is fed by the same bus.
    let task = page_a.task(1, Duration::from_secs(30)).await?;
    assert_eq!(task["createdTx"], receipt["transactionHash"]);

    // Notifications: X starts a community on chain and Y joins; both have sessions in the shared
    // database. X's notification stream is on B; Y replies to X's thread through A.
    let communities = dev["contracts"]["communities"].as_str().expect("communities").to_owned();
    let (x, y) = (&dev["accounts"][5], &dev["accounts"][6]);
    let key = |a: &Value| a["private_key"].as_str().expect("key").to_owned();
    let create = ["createCommunity(string,string,string,address)", "Club", "CLB", ""];
    let mut args: Vec<&str> = vec![&communities];
    args.extend(create);
    let arbiter = x["address"].as_str().expect("address").to_owned();
    args.push(&arbiter);
    assert_eq!(support::cast_send(&rpc, &key(x), &args)?["status"], "0x1");
    assert_eq!(support::cast_send(&rpc, &key(y), &[&communities, "join(uint256)", "1"])?["status"], "0x1");
    let cookie_x = session(&db, x, network["chainId"].as_u64().expect("chain id")).await?;
    let cookie_y = session(&db, y, network["chainId"].as_u64().expect("chain id")).await?;
    // Posting needs the membership indexed: wait for B to list both members.
    let members = format!("{api_b}/api/communities/1/members");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, m) = support::get_json(&members).await?;
        if m["members"].as_array().map(Vec::len) == Some(2) {
            break;
        }
        anyhow::ensure!(tokio::time::Instant::now() < deadline, "the members were not indexed: {m}");
        // The poll's interval, not a wait for the state: the loop ends on the state itself.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut bell_x = EventStream::open_as(&format!("{api_b}/api/me/notifications/stream"), Some(&cookie_x)).await?;
    let thread =
        post(&format!("{api_b}/api/communities/1/threads"), &cookie_x, serde_json::json!({"title": "Hi", "body": "b"}))
            .await?;
    let thread = thread["id"].as_u64().expect("thread id");
    let reply =
        post(&format!("{api_a}/api/threads/{thread}/replies"), &cookie_y, serde_json::json!({"body": "hello"})).await?;
    let heard = bell_x.named("notification", Duration::from_secs(30)).await?;
    assert_eq!(
        (heard["kind"].as_str(), heard["payload"]["postId"].as_u64()),
        (Some("post-reply"), reply["id"].as_u64()),
        "X's stream on B hears of Y's reply written by A: {heard}"
    );

    db.finish().await?;
    Ok(())
}

/// A session for dev account `who` written to the shared database, as its cookie.
async fn session(db: &TestDb, who: &Value, chain_id: u64) -> anyhow::Result<String> {
    let address = who["address"].as_str().expect("address").to_lowercase();
    let token = format!("two-processes-{address}");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let hash = alloy::primitives::keccak256(token.as_bytes()).to_string();
    let session = agora_store::Session { address, chain_id, created_at: now, expires_at: now + 3600 };
    db.store.create_session(&hash, &session).await?;
    Ok(format!("agora_session={token}"))
}

/// POSTs `body` as JSON with `cookie`; the created object, failing on any other status.
async fn post(url: &str, cookie: &str, body: Value) -> anyhow::Result<Value> {
    let resp = reqwest::Client::new().post(url).header(reqwest::header::COOKIE, cookie).json(&body).send().await?;
    let status = resp.status();
    let body: Value = resp.json().await?;
    anyhow::ensure!(status == 201, "{url}: {status} {body}");
    Ok(body)
}
