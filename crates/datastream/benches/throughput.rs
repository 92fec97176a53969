//! The protocol's cost on loopback: a whole purchase over TCP on 127.0.0.1 — 1 MiB chunks, each
//! read from the seller's file, hashed (SHA-256) and signed by the seller, checked (signature,
//! hash) by the buyer, written to its file and acknowledged with an EIP-712 voucher that the seller
//! verifies and records, the whole item's hash checked at the end — against plain TCP moving the
//! same bytes (memory to memory, 1 MiB writes) in the same run, interleaved, median of the runs.
//! Per-chunk overhead is (protocol time − plain time) / chunks; the cost of the pieces is measured
//! alone for comparison. Files live in /dev/shm when it exists (so a disk's speed is not measured).
//! The order book is a table of orders (the escrow is confirmed at once), as in the tests.
//!
//! `cargo bench -p agora-datastream --bench throughput` (256 MiB, 5 runs of each).

// A benchmark binary: its figures are its output.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{MARKET, Table, mb_s, median, print_load};

use agora_datastream::{Buyer, BuyerConfig, Catalogue, OnChainOrder, Price, Seller, SellerConfig, Terms, sha256, sign};
use alloy::primitives::{Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const CHUNK: u64 = 1 << 20;
/// The item's size in MiB, and the runs of each kind.
const MIB: u64 = 256;
const RUNS: u64 = 5;

/// Plain TCP: `size` bytes from memory to memory in 1 MiB writes.
async fn plain(size: u64) -> anyhow::Result<Duration> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let sender = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await?;
        s.set_nodelay(true)?;
        let buf = vec![0x5au8; CHUNK as usize];
        let mut left = size;
        while left > 0 {
            let n = left.min(CHUNK);
            s.write_all(&buf[..n as usize]).await?;
            left -= n;
        }
        anyhow::Ok(())
    });
    let t0 = Instant::now();
    let mut s = TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    let mut buf = vec![0u8; CHUNK as usize];
    let mut got = 0u64;
    while got < size {
        let n = s.read(&mut buf).await?;
        anyhow::ensure!(n > 0, "plain TCP ended early");
        got += n as u64;
    }
    let d = t0.elapsed();
    sender.await??;
    Ok(d)
}

struct Rig {
    dir: tempfile::TempDir,
    seller: Arc<Seller<Table>>,
    book: Arc<Table>,
    buyer: Buyer,
    item: agora_datastream::message::Item,
    seller_account: Address,
}

/// One whole purchase over a fresh TCP connection, with a fresh order.
async fn protocol(rig: &Rig, nonce: u64) -> anyhow::Result<Duration> {
    let order = rig.buyer.order_for(&rig.item, rig.seller_account, 1_767_225_600, U256::from(nonce), u64::MAX / 2);
    let on_chain = OnChainOrder {
        buyer: order.buyer,
        seller: order.seller,
        total: order.size,
        price: order.price,
        token: order.token,
        ack_signer: order.ack_signer,
        deadline: order.deadline,
        finished: false,
        payment: agora_datastream::Payment::Escrowed,
        confirmations: 1,
    };
    rig.book.0.lock().map_err(|e| anyhow::anyhow!("{e}"))?.insert(order.order_id, on_chain);
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let seller = rig.seller.clone();
    let served = tokio::spawn(async move {
        let (s, _) = listener.accept().await?;
        s.set_nodelay(true)?;
        anyhow::Ok(seller.serve(s).await?)
    });
    let out = rig.dir.path().join(format!("bought-{nonce}"));
    let t0 = Instant::now();
    let s = TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    let mut session = rig.buyer.connect(s, Some(rig.seller_account), None).await?;
    let bought = session.buy(&order, B256::repeat_byte(1), &out, None).await?;
    let d = t0.elapsed();
    let served = served.await??;
    anyhow::ensure!(bought.complete && served.acked == rig.item.size, "incomplete purchase");
    std::fs::remove_file(&out)?;
    Ok(d)
}

/// The pieces alone, per chunk: hashing 1 MiB, signing an envelope, signing an ACK, recovering one.
fn pieces(body: &[u8]) -> anyhow::Result<[(&'static str, Duration); 4]> {
    let key = PrivateKeySigner::random();
    let n = 200u32;
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(sha256(std::hint::black_box(body)));
    }
    let hash = t.elapsed() / n;
    let t = Instant::now();
    for i in 0..n {
        std::hint::black_box(sign::personal_sign(&key, B256::from(U256::from(i)))?);
    }
    let envelope = t.elapsed() / n;
    let t = Instant::now();
    let mut sig = [0u8; 65];
    for i in 0..n {
        sig = MARKET.sign_ack(&key, B256::ZERO, u64::from(i))?;
    }
    let ack = t.elapsed() / n;
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(MARKET.recover_ack(B256::ZERO, u64::from(n - 1), &sig)?);
    }
    let recover = t.elapsed() / n;
    Ok([
        ("SHA-256 of 1 MiB", hash),
        ("sign an envelope", envelope),
        ("sign an ACK", ack),
        ("recover a signature", recover),
    ])
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let (mib, runs) = (MIB, RUNS);
    let size = mib << 20;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("`cargo bench -p agora-datastream --bench throughput`");
    println!("{cores} cores; {mib} MiB in 1 MiB chunks over TCP loopback, {runs} runs each, interleaved, median");
    print_load("before the run");

    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() { tempfile::tempdir_in(shm)? } else { tempfile::tempdir()? };
    let path = dir.path().join("item.bin");
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let data: Vec<u8> = (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(&path, &data)?;
    let mut catalogue = Catalogue::new();
    let terms = Terms { price: Price::PerMiB(U256::from(1000)), token: Address::ZERO, chunk_size: CHUNK };
    let item = catalogue.add_file("item.bin", &path, terms).await?.clone();
    let seller_key = PrivateKeySigner::random();
    let seller_account = seller_key.address();
    let book = Arc::new(Table::default());
    let config = SellerConfig { confirmations: 1, ..SellerConfig::default() };
    let seller = Arc::new(Seller::new(seller_key, seller_account, MARKET, Arc::new(catalogue), book.clone(), config)?);
    let buyer_key = PrivateKeySigner::random();
    let buyer = Buyer {
        account: buyer_key.address(),
        message_key: buyer_key,
        ack_key: PrivateKeySigner::random(),
        market: MARKET,
        config: BuyerConfig::default(),
    };
    let rig = Rig { dir, seller, book, buyer, item, seller_account };

    // One of each to warm up (page cache, allocator, connections).
    protocol(&rig, 0).await?;
    plain(size).await?;
    let (mut p, mut t) = (Vec::new(), Vec::new());
    for run in 1..=runs {
        p.push(protocol(&rig, run).await?);
        t.push(plain(size).await?);
    }
    let (p, t) = (median(p), median(t));
    let chunks = size.div_ceil(CHUNK);
    let overhead = p.saturating_sub(t) / u32::try_from(chunks)?;
    println!("protocol:  {:>8.1} MB/s  ({:.3} s)", mb_s(size, p), p.as_secs_f64());
    println!("plain TCP: {:>8.1} MB/s  ({:.3} s)", mb_s(size, t), t.as_secs_f64());
    println!("ratio protocol / plain TCP: {:.3}", t.as_secs_f64() / p.as_secs_f64());
    println!("per-chunk overhead: {:.1} µs per 1 MiB chunk ({chunks} chunks)", overhead.as_secs_f64() * 1e6);
    println!("the pieces alone, per chunk (one core):");
    for (name, d) in pieces(&data[..CHUNK as usize])? {
        println!("  {name:<22} {:>8.1} µs", d.as_secs_f64() * 1e6);
    }
    print_load("after the run");
    Ok(())
}
