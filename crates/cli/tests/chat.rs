//! `agora channel …` and `agora chat` against a real `agora up`: channels opened by the dev buyer
//! (MarketToken through the approve path, and ETH), a reply streamed with every chunk paid by the
//! session key, top-up and extend, reclaim refused before expiry with the contract's reason, and
//! the payee settling for exactly what the node accepted.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use agora_chain::bindings::MarketToken;
use alloy::primitives::{Address, U256};
use serde_json::Value;

/// Runs `agora ARGS --api API --data-dir DIR --json`: its exit success and its JSON lines.
fn agora(api: &str, dir: &Path, args: &[&str]) -> anyhow::Result<(bool, Vec<Value>)> {
    let out = Command::new(env!("CARGO_BIN_EXE_agora"))
        .args(args)
        .args(["--api", api, "--json", "--data-dir"])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .output()?;
    let stdout = String::from_utf8(out.stdout)?;
    let lines = stdout
        .lines()
        .map(|l| serde_json::from_str(l).map_err(|e| anyhow::anyhow!("not JSON ({e}): {l}")))
        .collect::<anyhow::Result<Vec<Value>>>()?;
    if !out.status.success() && lines.iter().all(|l| l["error"].is_null()) {
        anyhow::bail!("agora {args:?} failed without a JSON error: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok((out.status.success(), lines))
}

/// `agora …` that must succeed; its last line.
fn ok(api: &str, dir: &Path, args: &[&str]) -> anyhow::Result<Value> {
    let (success, lines) = agora(api, dir, args)?;
    let last = lines.last().cloned().unwrap_or_default();
    anyhow::ensure!(success, "agora {args:?} failed: {last}");
    Ok(last)
}

fn amount(v: &Value) -> U256 {
    v.as_str().and_then(|s| U256::from_str_radix(s, 10).ok()).unwrap_or_else(|| panic!("not an amount: {v}"))
}

#[tokio::test]
async fn channels_and_a_paid_chat_from_the_command_line() -> anyhow::Result<()> {
    let up = support::Up::start()?;
    let (dev, api) = (up.dev.clone(), up.api.clone());
    let account = |role: &str| dev["accounts"][dev["roles"][role].as_u64().expect("role") as usize].clone();
    let (buyer, provider) = (account("first_buyer"), account("provider"));
    let buyer_key = buyer["private_key"].as_str().expect("key");
    let provider_key = provider["private_key"].as_str().expect("key");
    let provider_addr: Address = provider["address"].as_str().expect("address").parse()?;
    let dir = up.dir.path().join("client");

    // A MarketToken channel: the allowance is short, so `approve` goes first.
    let opened = ok(&api, &dir, &["channel", "open", "--key", buyer_key, "--amount", "1000000000000000000"])?;
    let id = opened["channelId"].as_str().expect("channel id").to_owned();
    assert!(opened["approveTx"].is_string(), "{opened}");
    assert_eq!(
        opened["token"].as_str().map(str::to_ascii_lowercase),
        dev["contracts"]["market_token"].as_str().map(str::to_ascii_lowercase)
    );
    let file = Path::new(opened["file"].as_str().expect("file"));
    assert_eq!(std::fs::metadata(file)?.permissions().mode() & 0o777, 0o600, "the session key is the owner's only");
    let record: Value = serde_json::from_slice(&std::fs::read(file)?)?;
    assert_eq!(record["signer"], opened["signer"]);
    assert!(record["sessionKey"].as_str().is_some_and(|k| k.len() == 66));

    // An ETH channel: nothing to approve.
    let eth =
        ok(&api, &dir, &["channel", "open", "--key", buyer_key, "--amount", "10000000000000000", "--token", "eth"])?;
    assert!(eth["approveTx"].is_null(), "{eth}");
    let eth_id = eth["channelId"].as_str().expect("id").to_owned();
    let shown = ok(&api, &dir, &["channel", "show", &eth_id])?;
    assert_eq!(
        (shown["chain"]["state"].as_str(), shown["chain"]["deposit"].as_str()),
        (Some("Open"), Some("10000000000000000"))
    );

    // The indexer must have seen the channel before the assistant takes it.
    support::wait_for(&format!("{api}/api/channels/{id}"), Duration::from_secs(10)).await?;
    let (success, lines) =
        agora(&api, &dir, &["chat", "--channel", &id, "--key", buyer_key, "--max-tokens", "24", "Say hello."])?;
    assert!(success, "{lines:?}");
    let of = |kind: &str| lines.iter().filter(|l| l["event"] == kind).cloned().collect::<Vec<_>>();
    let (chunks, vouchers) = (of("chunk"), of("voucher"));
    assert!(!chunks.is_empty(), "{lines:?}");
    assert_eq!(chunks.len(), vouchers.len(), "every chunk is paid: {lines:?}");
    for (c, v) in chunks.iter().zip(&vouchers) {
        assert_eq!((&c["seq"], &c["cumulative"]), (&v["seq"], &v["amount"]));
    }
    let done = of("done").pop().expect("done");
    assert_eq!(done["billed"], done["accepted"], "{done}");
    assert_eq!(done["billed"], chunks.last().expect("chunk")["cumulative"]);
    let text: String = chunks.iter().filter_map(|c| c["text"].as_str()).collect();
    assert_eq!(done["text"].as_str(), Some(text.as_str()));
    let accepted = amount(&done["accepted"]);
    assert!(accepted > U256::ZERO);
    let shown = ok(&api, &dir, &["channel", "show", &id])?;
    assert_eq!((amount(&shown["billed"]), amount(&shown["accepted"])), (accepted, accepted), "{shown}");
    assert_eq!(amount(&shown["highestSigned"]), accepted);

    // Top up and extend, on chain.
    let topped = ok(&api, &dir, &["channel", "top-up", &id, "--key", buyer_key, "--amount", "5"])?;
    assert_eq!(amount(&topped["deposit"]), U256::from(1_000_000_000_000_000_005u64));
    let before = ok(&api, &dir, &["channel", "show", &id])?["chain"]["expiry"].as_u64().expect("expiry");
    let extended = ok(&api, &dir, &["channel", "extend", &id, "--key", buyer_key, "--expires-in", "172800"])?;
    assert!(extended["expiry"].as_u64().expect("expiry") > before);
    let shown = ok(&api, &dir, &["channel", "show", &id])?;
    assert_eq!(shown["chain"]["expiry"], extended["expiry"]);

    // Reclaim before the expiry: refused with the contract's reason, as JSON, non-zero exit.
    let (success, lines) = agora(&api, &dir, &["channel", "reclaim", &id, "--key", buyer_key])?;
    assert!(!success);
    let error = &lines.last().expect("an error line")["error"];
    assert_eq!(error["code"], "ChannelNotExpired", "{error}");
    assert!(error["message"].as_str().is_some_and(|m| m.contains("can be reclaimed only from its expiry")), "{error}");

    // The payee settles with the highest voucher: paid exactly what was accepted.
    let rpc = dev["rpc_url"].as_str().expect("rpc");
    let token: Address = dev["contracts"]["market_token"].as_str().expect("token").parse()?;
    let reader = agora_chain::read_provider(rpc)?;
    let balance = || async { MarketToken::new(token, reader.clone()).balanceOf(provider_addr).call().await };
    let paid_before = balance().await?;
    let settled = ok(&api, &dir, &["channel", "settle", &id, "--key", provider_key])?;
    assert_eq!(amount(&settled["paidToPayee"]), accepted);
    assert_eq!(balance().await? - paid_before, accepted);
    let start = Instant::now();
    loop {
        let (_, ch) = support::get_json(&format!("{api}/api/channels/{id}")).await?;
        if ch["state"] == "Closed" {
            assert_eq!(amount(&ch["paidToPayee"]), accepted, "{ch}");
            break;
        }
        anyhow::ensure!(start.elapsed() < Duration::from_secs(10), "the channel was not indexed as closed: {ch}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A finished channel pays nothing more.
    let (success, lines) = agora(&api, &dir, &["chat", "--channel", &id, "--key", buyer_key, "Again?"])?;
    assert!(!success);
    assert_eq!(lines.last().expect("error")["error"]["code"], "channel_closed");
    Ok(())
}
