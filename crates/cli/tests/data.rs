//! `agora seller` and `agora buyer` as two processes beside a real `agora up` on the embedded
//! chain: a generated file bought whole, byte for byte; the order settled on chain with all of the
//! price to the seller; both parties' ratings indexed and served by the API.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// The dev accounts the tests' own seller and buyer use: no service of the node sends from them
/// (account 7 is `agora up`'s demo data seller).
const SELLER: usize = 8;
const BUYER: usize = 3;
/// `agora up`'s demo data seller, selling Fashion-MNIST.
const DEMO_SELLER: usize = 7;

/// Deterministic bytes that are not all alike (xorshift).
fn content(len: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// `agora seller` serving `catalogue`: the process, and its first line once it listens.
fn start_seller(api: &str, key: &str, catalogue: &Path, dir: &Path) -> anyhow::Result<(support::Proc, Value)> {
    start_seller_with(api, key, catalogue, dir, &[])
}

/// [`start_seller`] with more environment; its log is appended to `<dir>/seller.stderr.log`.
fn start_seller_with(
    api: &str,
    key: &str,
    catalogue: &Path,
    dir: &Path,
    envs: &[(&str, &str)],
) -> anyhow::Result<(support::Proc, Value)> {
    std::fs::create_dir_all(dir)?;
    let log = dir.join("seller.stderr.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_agora"))
        .current_dir(support::repo_root())
        .args(["seller", "--api", api, "--listen", "127.0.0.1:0", "--json", "--price-per-mib", "1000000"])
        .arg("--catalogue")
        .arg(catalogue)
        .arg("--data-dir")
        .arg(dir)
        .env("AGORA_DATA__SELLER_KEY", key)
        .env("AGORA_DATA__SETTLE_INTERVAL_MS", "100")
        .env("RUST_LOG", "info")
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .stderr(std::fs::OpenOptions::new().create(true).append(true).open(&log)?)
        .spawn()?;
    let stdout = child.stdout.take().expect("stdout");
    let mut proc = support::Proc(child);
    if let Some(line) = BufReader::new(stdout).lines().next() {
        let v: Value = serde_json::from_str(&line?)?;
        anyhow::ensure!(!v["seller"].is_null(), "agora seller said {v}; its log:\n{}", support::tail(&log, 40));
        return Ok((proc, v["seller"].clone()));
    }
    let status = proc.0.wait()?;
    anyhow::bail!("agora seller exited ({status}) before it listened; its log:\n{}", support::tail(&log, 40))
}

/// `agora buyer --json` buying `item` from `seller` with `key` into `out`; `extra` flags after.
fn buyer(api: &str, seller: &str, item: &str, key: &str, out: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_agora"));
    c.args(["buyer", "--api", api, "--json", "--seller", seller, "--item", item, "--key", key, "--out"])
        .arg(out)
        .args(extra)
        .env("RUST_LOG", "warn");
    c
}

/// The order as `/api/data/orders/{id}` serves it, once `ready` holds for it: the seller's node
/// settles after the buyer's last line, and the indexer applies it after that. Fails after 60 s with
/// the last answer and `context()`.
async fn wait_for_order(
    api: &str,
    id: &str,
    ready: impl Fn(&Value) -> bool,
    context: impl Fn() -> String,
) -> anyhow::Result<Value> {
    let url = format!("{api}/api/data/orders/{id}");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = support::get_json(&url).await?;
        if status == 200 && ready(&body) {
            return Ok(body);
        }
        assert!(std::time::Instant::now() < deadline, "order {id} not ready within 60 s: {body}\n{}", context());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// [`wait_for_order`] until it is settled; its `order` object.
async fn settled_order(api: &str, id: &str) -> anyhow::Result<Value> {
    let body = wait_for_order(api, id, |b| b["order"]["state"] == "Settled", String::new).await?;
    Ok(body["order"].clone())
}

#[tokio::test]
async fn a_file_bought_between_two_processes_settles_with_ratings() -> anyhow::Result<()> {
    let up = support::Up::start()?;
    let (dev, api) = (up.dev.clone(), up.api.clone());
    let key_of = |i: usize| dev["accounts"][i]["private_key"].as_str().expect("key").to_owned();
    let address_of = |i: usize| dev["accounts"][i]["address"].as_str().expect("address").to_lowercase();
    let (seller_key, buyer_key) = (key_of(SELLER), key_of(BUYER));
    let base = up.dir.path().join("data-market");
    let catalogue = base.join("catalogue");
    std::fs::create_dir_all(&catalogue)?;
    let bytes = content(3 * (1 << 20) + 12_345);
    std::fs::write(catalogue.join("data.bin"), &bytes)?;

    let (seller, said) = start_seller(&api, &seller_key, &catalogue, &base.join("seller"))?;
    assert_eq!(said["account"].as_str().map(str::to_lowercase), Some(address_of(SELLER)), "{said}");
    assert_eq!(said["items"], serde_json::json!(["data.bin"]));

    let out = base.join("bought.bin");
    let run = buyer(&api, &address_of(SELLER), "data.bin", &buyer_key, &out, &["--rate", "4"]).output()?;
    let stdout = String::from_utf8(run.stdout)?;
    let seller_log = support::tail(&base.join("seller").join("seller.stderr.log"), 30);
    assert!(
        run.status.success(),
        "agora buyer failed: {stdout}\n{}\nseller:\n{seller_log}",
        String::from_utf8_lossy(&run.stderr)
    );
    let lines: Vec<Value> = stdout.lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
    assert!(lines.iter().any(|l| !l["progress"].is_null()), "a progress line: {stdout}");
    let bought = lines.last().map(|l| l["bought"].clone()).unwrap_or_default();
    assert_eq!(bought["complete"], Value::Bool(true), "{stdout}");
    assert_eq!(std::fs::read(&out)?, bytes, "the file is the item, byte for byte");

    // The order as indexed: settled, all of the price to the seller, both ratings.
    let id = bought["orderId"].as_str().expect("orderId").to_owned();
    let settled_and_rated =
        |b: &Value| b["order"]["state"] == "Settled" && b["ratings"].as_array().is_some_and(|r| r.len() == 2);
    let seller_log = || format!("seller:\n{}", support::tail(&base.join("seller").join("seller.stderr.log"), 30));
    let detail = wait_for_order(&api, &id, settled_and_rated, seller_log).await?;
    let order = &detail["order"];
    assert_eq!(order["price"], bought["price"]);
    assert_eq!(order["paidToSeller"], bought["price"], "{order}");
    assert_eq!(order["refundedToBuyer"], "0", "{order}");
    assert_eq!(order["received"].as_u64(), Some(bytes.len() as u64));
    let scores: Vec<(String, u64)> = detail["ratings"]
        .as_array()
        .expect("ratings")
        .iter()
        .map(|r| (r["rater"].as_str().unwrap_or_default().to_lowercase(), r["score"].as_u64().unwrap_or_default()))
        .collect();
    assert_eq!(scores, vec![(address_of(BUYER), 4), (address_of(SELLER), 5)], "{detail}");
    drop(seller);
    up.stop()?;
    Ok(())
}

/// The seller killed (SIGKILL) mid-transfer and started again on the same database: `agora buyer
/// --resume` goes on from its last ACK, and the order settles once, for the whole price.
#[tokio::test]
async fn a_seller_killed_mid_transfer_is_resumed_and_paid_once() -> anyhow::Result<()> {
    let up = support::Up::start()?;
    let (dev, api) = (up.dev.clone(), up.api.clone());
    let key_of = |i: usize| dev["accounts"][i]["private_key"].as_str().expect("key").to_owned();
    let address_of = |i: usize| dev["accounts"][i]["address"].as_str().expect("address").to_lowercase();
    let (seller_key, buyer_key) = (key_of(SELLER), key_of(BUYER));
    let base = up.dir.path().join("data-market");
    let catalogue = base.join("catalogue");
    std::fs::create_dir_all(&catalogue)?;
    let bytes = content(16 << 20);
    std::fs::write(catalogue.join("big.bin"), &bytes)?;
    // One 64 KiB chunk in flight at a time: every chunk waits for its ACK, kept in the database.
    let small = [
        ("AGORA_DATA__CHUNK_SIZE", "65536"),
        ("AGORA_DATA__WINDOW_INITIAL", "65536"),
        ("AGORA_DATA__WINDOW_STEP", "0"),
        ("AGORA_DATA__WINDOW_MAX", "65536"),
    ];
    let seller_dir = base.join("seller");
    let (mut seller, _) = start_seller_with(&api, &seller_key, &catalogue, &seller_dir, &small)?;

    let out = base.join("big.out");
    let buyer_args = |resume: bool| {
        let extra: &[&str] = if resume { &["--rate", "3", "--resume"] } else { &["--rate", "3"] };
        buyer(&api, &address_of(SELLER), "big.bin", &buyer_key, &out, extra)
    };
    let mut first = buyer_args(false).stdout(Stdio::piped()).stderr(Stdio::null()).spawn()?;
    let stdout = first.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    // The first progress line past 5 %: the seller is stopped, then killed, mid-transfer.
    let mut seen = 0;
    for line in lines.by_ref() {
        let v: Value = serde_json::from_str(&line?)?;
        seen = v["progress"]["received"].as_u64().unwrap_or(seen);
        if seen * 20 > bytes.len() as u64 {
            break;
        }
    }
    Command::new("kill").args(["-STOP", &seller.0.id().to_string()]).status()?;
    seller.0.kill()?;
    seller.0.wait()?;
    let rest: Vec<String> = lines.collect::<Result<_, _>>()?;
    let status = first.wait()?;
    assert!(!status.success(), "the first purchase cannot complete: {rest:?}");
    let error = rest.iter().filter_map(|l| serde_json::from_str::<Value>(l).ok()).find(|v| !v["error"].is_null());
    assert!(error.is_some(), "a JSON error: {rest:?}");
    assert!(seen < bytes.len() as u64);

    let (_seller, _) = start_seller_with(&api, &seller_key, &catalogue, &seller_dir, &small)?;
    let run = buyer_args(true).output()?;
    let stdout = String::from_utf8(run.stdout)?;
    assert!(
        run.status.success(),
        "agora buyer --resume failed: {stdout}\n{}\nseller:\n{}",
        String::from_utf8_lossy(&run.stderr),
        support::tail(&seller_dir.join("seller.stderr.log"), 30)
    );
    let lines: Vec<Value> = stdout.lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
    let resumed_from = lines.iter().find_map(|l| l["progress"]["received"].as_u64()).unwrap_or_default();
    assert!(resumed_from >= seen && resumed_from > 0, "resumed at {resumed_from}, {seen} seen before the kill");
    assert_eq!(std::fs::read(&out)?, bytes, "the file is the item, byte for byte");
    let bought = lines.last().map(|l| l["bought"].clone()).unwrap_or_default();
    let id = bought["orderId"].as_str().expect("orderId").to_owned();
    let order = settled_order(&api, &id).await?;
    assert_eq!((&order["paidToSeller"], &order["refundedToBuyer"]), (&bought["price"], &Value::from("0")), "{order}");
    assert_eq!(order["received"].as_u64(), Some(bytes.len() as u64));
    up.stop()?;
    Ok(())
}

/// The buyer killed (SIGKILL) mid-transfer: its record beside the file holds its last ACK, and
/// `agora buyer --resume` completes from there; the order settles once, for the whole price.
#[tokio::test]
async fn a_buyer_killed_mid_transfer_resumes_from_its_record() -> anyhow::Result<()> {
    let up = support::Up::start()?;
    let (dev, api) = (up.dev.clone(), up.api.clone());
    let key_of = |i: usize| dev["accounts"][i]["private_key"].as_str().expect("key").to_owned();
    let address_of = |i: usize| dev["accounts"][i]["address"].as_str().expect("address").to_lowercase();
    let base = up.dir.path().join("data-market");
    let catalogue = base.join("catalogue");
    std::fs::create_dir_all(&catalogue)?;
    let bytes = content(16 << 20);
    std::fs::write(catalogue.join("big.bin"), &bytes)?;
    let small = [
        ("AGORA_DATA__CHUNK_SIZE", "65536"),
        ("AGORA_DATA__WINDOW_INITIAL", "65536"),
        ("AGORA_DATA__WINDOW_STEP", "0"),
        ("AGORA_DATA__WINDOW_MAX", "65536"),
    ];
    let seller_dir = base.join("seller");
    let (_seller, _) = start_seller_with(&api, &key_of(SELLER), &catalogue, &seller_dir, &small)?;
    let out = base.join("big.out");
    let buyer_args = |resume: bool| {
        let extra: &[&str] = if resume { &["--resume"] } else { &[] };
        buyer(&api, &address_of(SELLER), "big.bin", &key_of(BUYER), &out, extra)
    };
    let mut first = support::Proc(buyer_args(false).stdout(Stdio::piped()).stderr(Stdio::null()).spawn()?);
    let stdout = first.0.stdout.take().expect("stdout");
    let mut seen = 0;
    for line in BufReader::new(stdout).lines() {
        let v: Value = serde_json::from_str(&line?)?;
        seen = v["progress"]["received"].as_u64().unwrap_or(seen);
        if seen * 20 > bytes.len() as u64 {
            break;
        }
    }
    first.0.kill()?;
    first.0.wait()?;
    assert!(seen > 0 && seen < bytes.len() as u64, "killed mid-transfer at {seen}");

    let run = buyer_args(true).output()?;
    let stdout = String::from_utf8(run.stdout)?;
    assert!(
        run.status.success(),
        "agora buyer --resume failed: {stdout}\n{}\nseller:\n{}",
        String::from_utf8_lossy(&run.stderr),
        support::tail(&seller_dir.join("seller.stderr.log"), 30)
    );
    let lines: Vec<Value> = stdout.lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
    let resumed_from = lines.iter().find_map(|l| l["progress"]["received"].as_u64()).unwrap_or_default();
    assert!(resumed_from >= seen, "resumed at {resumed_from}, {seen} shown before the kill");
    assert_eq!(std::fs::read(&out)?, bytes, "the file is the item, byte for byte");
    let bought = lines.last().map(|l| l["bought"].clone()).unwrap_or_default();
    let order = settled_order(&api, bought["orderId"].as_str().expect("orderId")).await?;
    assert_eq!((&order["paidToSeller"], &order["refundedToBuyer"]), (&bought["price"], &Value::from("0")), "{order}");
    up.stop()?;
    Ok(())
}

/// A seller pricing in MarketToken: the buyer approves the market first, then the order escrows
/// the token and settles with all of it to the seller.
#[tokio::test]
async fn a_token_priced_item_is_approved_escrowed_and_settled() -> anyhow::Result<()> {
    let up = support::Up::start()?;
    let (dev, api) = (up.dev.clone(), up.api.clone());
    let key_of = |i: usize| dev["accounts"][i]["private_key"].as_str().expect("key").to_owned();
    let address_of = |i: usize| dev["accounts"][i]["address"].as_str().expect("address").to_lowercase();
    let token = dev["contracts"]["market_token"].as_str().expect("market_token").to_lowercase();
    let base = up.dir.path().join("data-market");
    let catalogue = base.join("catalogue");
    std::fs::create_dir_all(&catalogue)?;
    let bytes = content(300_000);
    std::fs::write(catalogue.join("small.bin"), &bytes)?;
    let seller_dir = base.join("seller");
    let (_seller, _) =
        start_seller_with(&api, &key_of(SELLER), &catalogue, &seller_dir, &[("AGORA_DATA__TOKEN", token.as_str())])?;
    let out = base.join("small.out");
    let run = buyer(&api, &address_of(SELLER), "small.bin", &key_of(BUYER), &out, &[]).output()?;
    let stdout = String::from_utf8(run.stdout)?;
    assert!(
        run.status.success(),
        "agora buyer failed: {stdout}\n{}\nseller:\n{}",
        String::from_utf8_lossy(&run.stderr),
        support::tail(&seller_dir.join("seller.stderr.log"), 30)
    );
    assert_eq!(std::fs::read(&out)?, bytes);
    let bought =
        stdout.lines().last().map(serde_json::from_str::<Value>).transpose()?.unwrap_or_default()["bought"].clone();
    let order = settled_order(&api, bought["orderId"].as_str().expect("orderId")).await?;
    assert_eq!(order["token"].as_str(), Some(token.as_str()), "{order}");
    assert_eq!((&order["paidToSeller"], &order["refundedToBuyer"]), (&bought["price"], &Value::from("0")), "{order}");
    up.stop()?;
    Ok(())
}

/// `agora up`'s demo seller sells Debian's Fashion-MNIST files: one bought whole without a rating,
/// then rated with `--resume --rate`, which finds everything received and only rates.
#[tokio::test]
async fn the_demo_seller_sells_fashion_mnist_and_a_rating_can_come_later() -> anyhow::Result<()> {
    let item = "t10k-labels-idx1-ubyte.gz";
    let original = std::fs::read(Path::new("/usr/share/datasets/fashion-mnist").join(item))
        .map_err(|e| anyhow::anyhow!("Fashion-MNIST is missing (`make deps` installs it): {e}"))?;
    let up = support::Up::start()?;
    let (dev, api) = (up.dev.clone(), up.api.clone());
    let key_of = |i: usize| dev["accounts"][i]["private_key"].as_str().expect("key").to_owned();
    let address_of = |i: usize| dev["accounts"][i]["address"].as_str().expect("address").to_lowercase();
    assert_eq!(dev["roles"]["data_seller"].as_u64(), Some(DEMO_SELLER as u64), "{}", dev["roles"]);
    let out = up.dir.path().join("labels.gz");
    let buy = |extra: &[&str]| buyer(&api, &address_of(DEMO_SELLER), item, &key_of(BUYER), &out, extra).output();
    let last_line = |run: &std::process::Output| -> anyhow::Result<Value> {
        let stdout = String::from_utf8_lossy(&run.stdout);
        anyhow::ensure!(run.status.success(), "agora buyer failed: {stdout}\n{}", String::from_utf8_lossy(&run.stderr));
        Ok(serde_json::from_str(stdout.lines().last().unwrap_or_default())?)
    };
    let bought = last_line(&buy(&[])?)?["bought"].clone();
    assert_eq!(bought["complete"], Value::Bool(true), "{bought}");
    assert!(bought["rateTx"].is_null(), "no rating asked: {bought}");
    assert_eq!(std::fs::read(&out)?, original, "the file is Debian's, byte for byte");

    let id = bought["orderId"].as_str().expect("orderId").to_owned();
    let rated = last_line(&buy(&["--resume", "--rate", "5"])?)?["bought"].clone();
    assert_eq!((rated["orderId"].as_str(), rated["complete"].as_bool()), (Some(id.as_str()), Some(true)), "{rated}");
    assert!(rated["rateTx"].is_string(), "rated on chain: {rated}");
    let detail = wait_for_order(
        &api,
        &id,
        // The rating may be indexed before the seller's settlement job has ended the order.
        |b| {
            b["order"]["state"] == "Settled"
                && b["ratings"].as_array().is_some_and(|r| r.iter().any(|r| r["score"] == 5))
        },
        String::new,
    )
    .await?;
    assert_eq!(detail["order"]["paidToSeller"], bought["price"], "{detail}");
    // Rated already: asking again changes nothing and sends nothing.
    let again = last_line(&buy(&["--resume", "--rate", "2"])?)?["bought"].clone();
    assert!(again["rateTx"].is_null(), "a second rating is not sent: {again}");
    up.stop()?;
    Ok(())
}

/// Paid off chain (the seed's "alipay"): the buyer opens an order that escrows nothing, the seller
/// (serving off-chain orders) sends nothing until it confirms the payment on chain with
/// `agora seller --confirm-paid`, then the whole item; both rate, and no money moves on chain.
#[tokio::test]
async fn an_off_chain_order_is_served_once_the_seller_confirms_it_paid() -> anyhow::Result<()> {
    let up = support::Up::start()?;
    let (dev, api) = (up.dev.clone(), up.api.clone());
    let key_of = |i: usize| dev["accounts"][i]["private_key"].as_str().expect("key").to_owned();
    let address_of = |i: usize| dev["accounts"][i]["address"].as_str().expect("address").to_lowercase();
    let base = up.dir.path().join("data-market");
    let catalogue = base.join("catalogue");
    std::fs::create_dir_all(&catalogue)?;
    let bytes = content(700_000);
    std::fs::write(catalogue.join("paid.bin"), &bytes)?;
    let seller_dir = base.join("seller");
    let (_seller, _) =
        start_seller_with(&api, &key_of(SELLER), &catalogue, &seller_dir, &[("AGORA_DATA__OFF_CHAIN", "true")])?;
    let seller_log = || format!("seller:\n{}", support::tail(&seller_dir.join("seller.stderr.log"), 30));

    let out = base.join("paid.out");
    let child = buyer(&api, &address_of(SELLER), "paid.bin", &key_of(BUYER), &out, &["--off-chain", "--rate", "4"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(base.join("buyer.stderr.log"))?)
        .spawn()?;
    let mut child = support::Proc(child);

    // The order, as indexed: open, paid off chain, nothing received while unconfirmed.
    let url = format!("{api}/api/data/orders?buyer={}", address_of(BUYER));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let order = loop {
        let (_, list) = support::get_json(&url).await?;
        if let Some(o) = list.as_array().and_then(|l| l.first()) {
            break o.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no order indexed within 60 s: {list}\n{}", seller_log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!((&order["method"], &order["state"]), (&Value::from("OffChain"), &Value::from("Open")), "{order}");
    assert_eq!(order["received"], 0, "{order}");
    let id = order["id"].as_str().expect("id").to_owned();

    let confirm = Command::new(env!("CARGO_BIN_EXE_agora"))
        .current_dir(support::repo_root())
        .args(["seller", "--api", &api, "--json", "--confirm-paid", &id])
        .env("AGORA_DATA__SELLER_KEY", key_of(SELLER))
        .env("RUST_LOG", "warn")
        .output()?;
    let said = String::from_utf8_lossy(&confirm.stdout);
    assert!(confirm.status.success(), "confirm-paid failed: {said}\n{}", String::from_utf8_lossy(&confirm.stderr));
    assert_eq!(serde_json::from_str::<Value>(said.trim())?["confirmedPaid"]["orderId"], Value::from(id.clone()));

    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.0.stdout.take().expect("stdout"), &mut stdout)?;
    let status = child.0.wait()?;
    assert!(
        status.success(),
        "agora buyer failed: {stdout}\n{}\n{}",
        support::tail(&base.join("buyer.stderr.log"), 30),
        seller_log()
    );
    assert_eq!(std::fs::read(&out)?, bytes, "the file is the item, byte for byte");
    let bought =
        stdout.lines().last().map(serde_json::from_str::<Value>).transpose()?.unwrap_or_default()["bought"].clone();
    assert!(bought["rateTx"].is_string(), "the buyer rated: {bought}");

    // Paid, both ratings, and nothing escrowed so nothing paid out on chain.
    let both_rated = |b: &Value| b["order"]["state"] == "Paid" && b["ratings"].as_array().is_some_and(|r| r.len() == 2);
    let detail = wait_for_order(&api, &id, both_rated, seller_log).await?;
    assert_eq!(detail["order"]["paidToSeller"], Value::Null, "{detail}");
    up.stop()?;
    Ok(())
}
