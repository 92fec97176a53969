//! Vouchers verified and durably stored per second on one core (SQLite, group commit), and the same
//! verification by viem in Node, with the ratio.
//!
//! `cargo bench -p agora-channels --bench vouchers` (needs `npm ci` for viem).
//! Targets: ≥ 10,000 vouchers/s stored; ≥ 8× the JavaScript verifier.

// A benchmark binary: its figures are its output.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Instant;

use agora_channels::{Ledger, LedgerConfig, VoucherDomain};
use agora_store::{Batch, BlockRef, IndexedLog, LogMeta, MarketEvent, Store};
use alloy::primitives::{Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;

const CHAIN: u64 = 31337;
const CHANNELS: usize = 100;
const PER_CHANNEL: usize = 200;
const JS_SAMPLE: usize = 1000;

fn main() -> anyhow::Result<()> {
    // One core: everything — verification, the writer, SQLite — on a single-threaded runtime.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("bench.db").display())).await?;
    let contract = Address::repeat_byte(0xcc);
    let payee = Address::repeat_byte(0xbb);
    let domain = VoucherDomain::new(CHAIN, contract);

    // Channels as the indexer would have stored them.
    let keys: Vec<PrivateKeySigner> = (0..CHANNELS).map(|_| PrivateKeySigner::random()).collect();
    let ids: Vec<B256> = (0..CHANNELS).map(|i| alloy::primitives::keccak256((i as u64).to_be_bytes())).collect();
    let b0 = BlockRef { number: 0, hash: format!("{:#x}", B256::ZERO), parent_hash: String::new(), timestamp: 0 };
    let b1 = BlockRef {
        number: 1,
        hash: format!("{:#x}", B256::repeat_byte(1)),
        parent_hash: b0.hash.clone(),
        timestamp: 1,
    };
    store.init_cursor(CHAIN, &b0).await?;
    let logs = ids
        .iter()
        .zip(&keys)
        .enumerate()
        .map(|(i, (id, key))| IndexedLog {
            meta: LogMeta {
                block_number: 1,
                block_hash: b1.hash.clone(),
                block_timestamp: 1,
                tx_hash: format!("{:#x}", B256::repeat_byte(2)),
                log_index: i as u64,
                address: contract.to_string().to_ascii_lowercase(),
            },
            event: MarketEvent::ChannelOpened {
                channel_id: id.to_string(),
                payer: Address::repeat_byte(0xaa).to_string().to_ascii_lowercase(),
                payee: payee.to_string().to_ascii_lowercase(),
                token: Address::ZERO.to_string().to_ascii_lowercase(),
                signer: key.address().to_string().to_ascii_lowercase(),
                salt: B256::ZERO.to_string(),
                deposit: U256::MAX.to_string(),
                expiry: u64::from(u32::MAX),
            },
        })
        .collect();
    store.apply_batch(&Batch { chain_id: CHAIN, expected_cursor: 0, blocks: vec![b1], logs }).await?;

    // Vouchers signed up front (signing is the payer's cost, not the payee's).
    let mut vouchers = Vec::with_capacity(CHANNELS * PER_CHANNEL);
    for round in 1..=PER_CHANNEL {
        for (id, key) in ids.iter().zip(&keys) {
            let amount = U256::from(round as u64 * 1000);
            vouchers.push((*id, amount, domain.sign(key, *id, amount)?));
        }
    }

    // Verification alone.
    let start = Instant::now();
    for (id, amount, sig) in &vouchers {
        std::hint::black_box(domain.recover(*id, *amount, sig)?);
    }
    let verify_rate = vouchers.len() as f64 / start.elapsed().as_secs_f64();

    // Verified and durably stored, acknowledged one by one.
    let mut cfg = LedgerConfig::new(CHAIN, contract);
    cfg.payees = vec![payee];
    let ledger = Ledger::start(store.clone(), cfg).await?;
    // Each payer sends its channel's vouchers one after another, waiting for each acknowledgement;
    // the channels run concurrently, so each commit carries up to one voucher per channel.
    let start = Instant::now();
    let mut per_channel: Vec<Vec<(B256, U256, [u8; 65])>> = vec![Vec::new(); CHANNELS];
    for (i, v) in vouchers.iter().enumerate() {
        per_channel[i % CHANNELS].push(*v);
    }
    let mut handles = Vec::with_capacity(CHANNELS);
    for list in per_channel {
        let l = ledger.clone();
        handles.push(tokio::spawn(async move {
            let mut ok = 0usize;
            for (id, amount, sig) in list {
                if l.submit(id, amount, &sig).await.is_ok() {
                    ok += 1;
                }
            }
            ok
        }));
    }
    let mut accepted = 0usize;
    for h in handles {
        accepted += h.await?;
    }
    let stored_rate = vouchers.len() as f64 / start.elapsed().as_secs_f64();
    anyhow::ensure!(accepted == vouchers.len(), "only {accepted} of {} vouchers accepted", vouchers.len());

    // viem on the same kind of vouchers.
    let sample: Vec<_> = vouchers
        .iter()
        .take(JS_SAMPLE)
        .map(|(id, amount, sig)| {
            serde_json::json!({
                "chainId": CHAIN, "contract": contract.to_string(), "channelId": id.to_string(),
                "amount": amount.to_string(), "signature": alloy::primitives::hex::encode_prefixed(sig),
            })
        })
        .collect();
    let file = dir.path().join("vouchers.json");
    std::fs::write(&file, serde_json::to_vec(&sample)?)?;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/viem_voucher.mjs");
    let out = std::process::Command::new("node").arg(script).arg("bench").arg(&file).output()?;
    anyhow::ensure!(out.status.success(), "viem bench failed: {}", String::from_utf8_lossy(&out.stderr));
    let js: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let js_rate = js["count"].as_f64().unwrap_or_default() / js["seconds"].as_f64().unwrap_or(f64::INFINITY);

    println!("vouchers: {} over {CHANNELS} channels, one core", vouchers.len());
    println!("rust verify only (libsecp256k1):      {verify_rate:>10.0} vouchers/s ({:.1} µs each)", 1e6 / verify_rate);
    println!("rust verify + durably stored (SQLite): {stored_rate:>10.0} vouchers/s");
    println!("viem recoverTypedDataAddress (Node):   {js_rate:>10.0} vouchers/s ({:.1} µs each)", 1e6 / js_rate);
    println!("ratio stored/js: {:.1}x   verify/js: {:.1}x", stored_rate / js_rate, verify_rate / js_rate);
    Ok(())
}
