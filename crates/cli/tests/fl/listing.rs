//! A finished reward-pool task's model on the compute market. Another account lists it (by cast,
//! after `agora fl list-model` refused its key): the node refuses that service's job and the buyer
//! is refunded with the reason. The investor lists it with `agora fl list-model`: a job bought on
//! that service is answered by the model with the class of the buyer's image.

use std::time::{Duration, Instant};

use agora_chain::bindings::ComputeMarket;
use alloy::primitives::{B256, U256};
use alloy::sol_types::SolEvent;
use serde_json::Value;

use crate::{INVESTOR, Market, PREDICTOR, support};

/// A handwritten 7 from the digits data set (8×8, intensities 0..16).
const DIGIT_SEVEN: &str = r#"{"pixels":[0,0,7,8,13,16,15,1,0,0,7,7,4,11,12,0,0,0,0,0,8,13,1,0,0,4,8,8,15,15,6,0,0,2,11,15,15,4,0,0,0,0,0,16,5,0,0,0,0,0,9,15,1,0,0,0,0,0,13,5,0,0,0,0]}"#;
const ETH: &str = "0x0000000000000000000000000000000000000000";
const PRICE: &str = "1000";

/// The first log of `event` in a `cast send --json` receipt: its topics and data.
fn log_of(receipt: &Value, event: B256) -> anyhow::Result<(Vec<B256>, Vec<u8>)> {
    let logs = receipt["logs"].as_array().cloned().unwrap_or_default();
    for log in logs {
        let topics: Vec<B256> =
            log["topics"].as_array().into_iter().flatten().filter_map(|t| t.as_str()?.parse().ok()).collect();
        if topics.first() == Some(&event) {
            let data = alloy::primitives::hex::decode(log["data"].as_str().unwrap_or_default())?;
            return Ok((topics, data));
        }
    }
    anyhow::bail!("no {event} log in {receipt}")
}

/// Buys a job of `service` with the seven as its input: the compute task's id.
fn buy(m: &Market, service: u64, market: &str) -> anyhow::Result<u64> {
    let receipt = support::cast_send(
        &m.rpc,
        &m.dev_key(PREDICTOR),
        &[
            market,
            "buyCompute(uint256,string,uint256,uint64)",
            &service.to_string(),
            DIGIT_SEVEN,
            PRICE,
            "60",
            "--value",
            PRICE,
        ],
    )?;
    let (_, data) = log_of(&receipt, ComputeMarket::TaskCreated::SIGNATURE_HASH)?;
    anyhow::ensure!(data.len() >= 32, "short TaskCreated data");
    Ok(U256::from_be_slice(&data[..32]).to::<u64>())
}

/// The compute task once it is completed or refunded.
async fn settled(m: &Market, id: u64) -> anyhow::Result<Value> {
    let start = Instant::now();
    loop {
        let (_, t) = support::get_json(&format!("{}/api/tasks/{id}", m.up.api)).await?;
        if t["status"] == "Completed" || t["status"] == "Refunded" {
            return Ok(t);
        }
        anyhow::ensure!(
            start.elapsed() < Duration::from_secs(60),
            "compute task {id} not settled: {t}\nnode log:\n{}",
            support::tail(&m.dir().join("agora.stderr.log"), 40)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The scenario of the module documentation, on finished reward-pool task `task`.
pub(crate) async fn sold_on_the_compute_market(m: &Market, task: u64) -> anyhow::Result<()> {
    let (status, listing) = support::get_json(&format!("{}/api/fl/tasks/{task}/listing", m.up.api)).await?;
    anyhow::ensure!(status == 200, "no listing: {listing}");
    let market = listing["computeMarket"].as_str().expect("computeMarket").to_owned();
    let uri = listing["metadataUri"].as_str().expect("metadataUri").to_owned();
    let task_arg = task.to_string();

    let stranger = m.dev_key(PREDICTOR);
    let (status, lines) = m.agora(&["fl", "list-model", &task_arg, "--price", PRICE, "--key", &stranger])?;
    assert!(!status.success());
    assert_eq!(lines.last().map(|l| l["error"]["code"].clone()), Some("not_investor".into()), "{lines:?}");
    let receipt = support::cast_send(
        &m.rpc,
        &stranger,
        &[&market, "listService(address,uint256,uint64,string)", ETH, PRICE, "60", &uri],
    )?;
    let (topics, _) = log_of(&receipt, ComputeMarket::ServiceListed::SIGNATURE_HASH)?;
    let theirs = U256::from_be_bytes(topics[1].0).to::<u64>();

    let v = m.ok(&[
        "fl",
        "list-model",
        &task_arg,
        "--price",
        PRICE,
        "--token",
        "eth",
        "--max-run-time",
        "60",
        "--key",
        &m.dev_key(INVESTOR),
    ])?;
    let ours = v["listed"]["service"].as_u64().expect("service id");
    assert_ne!(ours, theirs);

    let refused = settled(m, buy(m, theirs, &market)?).await?;
    assert_eq!(refused["status"], "Refunded", "{refused}");
    let reason = refused["failureReason"].as_str().unwrap_or_default();
    assert!(reason.contains("investor"), "{refused}");

    let answered = settled(m, buy(m, ours, &market)?).await?;
    assert_eq!(answered["status"], "Completed", "{answered}");
    let cid = answered["resultHash"].as_str().expect("resultHash");
    let output = reqwest::get(format!("{}/ipfs/{cid}", m.up.api)).await?.text().await?;
    let answer: Value = serde_json::from_str(output.trim())?;
    assert_eq!(answer["task"], task, "{answer}");
    assert!(answer["class"].as_u64().is_some_and(|c| c < 10), "{answer}");

    let (_, listing) = support::get_json(&format!("{}/api/fl/tasks/{task}/listing", m.up.api)).await?;
    let runs: Vec<(u64, bool)> = listing["listed"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| (s["id"].as_u64().unwrap_or_default(), s["runs"] == true))
        .collect();
    assert_eq!(runs, vec![(theirs, false), (ours, true)], "{listing}");
    Ok(())
}
