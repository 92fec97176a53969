//! How long after its receipt a purchase shows up at `/api/tasks/{id}` (target: under one second).
//! `cargo bench -p agora-cli --bench visibility` — starts `agora up`, buys with `cast`, prints
//! min / median / p95 / max over the purchases.

// A benchmark binary: its figures are its output.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    const PURCHASES: u32 = 30;
    let up = support::Up::start()?;
    let rpc = up.dev["rpc_url"].as_str().expect("rpc").to_owned();
    let market = up.dev["contracts"]["compute_market"].as_str().expect("market").to_owned();
    let key = up.dev["accounts"][3]["private_key"].as_str().expect("key").to_owned();
    let mut waits = Vec::new();
    for id in 1..=PURCHASES {
        support::cast_send(
            &rpc,
            &key,
            &[
                &market,
                "buyCompute(uint256,string,uint256,uint64)",
                "1",
                "bench",
                "10000000000000000",
                "300",
                "--value",
                "0.01ether",
            ],
        )?;
        let (_, waited) = support::wait_for(&format!("{}/api/tasks/{id}", up.api), Duration::from_secs(10)).await?;
        waits.push(waited);
    }
    waits.sort();
    let pct = |p: usize| waits[(waits.len() * p / 100).min(waits.len() - 1)];
    println!(
        "purchase → visible at /api/tasks/{{id}} over {PURCHASES} purchases: min {:?}  median {:?}  p95 {:?}  max {:?}",
        waits[0],
        pct(50),
        pct(95),
        waits[waits.len() - 1]
    );
    up.stop()?;
    Ok(())
}
