//! The protocol on a shaped link: two network namespaces joined by a veth pair, `tc tbf rate
//! 100mbit` on both ends, and 20 ms of round-trip time added by a delaying TCP proxy inside the
//! buyer's namespace (this kernel has no `netem`). The proxy holds every piece of data it reads
//! for `DELAY` and then writes it on, in each direction; pieces are timed independently (a queue
//! of due times), so it delays without capping the rate. The seller's socket is in `A`, the buyer's
//! and the proxy in `B`; the data crosses the shaped veth, then the proxy.
//!
//! Measured in the same run, interleaved, median of `RUNS`: plain TCP moving the item's bytes
//! (memory to memory, 1 MiB writes) through the proxy, and a whole purchase through the same proxy
//! — 1 MiB chunks, each read from the seller's file, hashed, signed, checked and written by the
//! buyer and acknowledged with an EIP-712 voucher, the default window — then the ratio (the target
//! is 0.90). For comparison, one purchase with a window of one chunk shows what an uncovered
//! bandwidth-delay product costs. The round-trip time is measured through the proxy (1-byte
//! echoes). The order book is a table of orders confirmed at once: this measures the link, not
//! the chain. Files live in /dev/shm when it exists.
//!
//! `cargo bench -p agora-datastream --bench shaped` (needs root and `ip`; says why and exits when
//! either is missing).

// A benchmark binary: its figures are its output.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/datastream/link.rs"]
#[allow(dead_code, unreachable_pub)]
mod link;

#[path = "common/mod.rs"]
mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{MARKET, Table, mb_s, median, print_load};

use agora_datastream::{Buyer, BuyerConfig, Catalogue, OnChainOrder, Price, Seller, SellerConfig, Terms, Window};
use alloy::primitives::{Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use link::{Link, Ns, Side};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

const CHUNK: u64 = 1 << 20;
/// The item's size in MiB, and the runs of each kind.
const MIB: u64 = 64;
const RUNS: usize = 3;
/// How long the proxy holds each piece, in each direction.
const DELAY: Duration = Duration::from_millis(10);
/// The shaping on each end of the veth.
const TBF: &[&str] = &["tbf", "rate", "100mbit", "burst", "32kbit", "latency", "400ms"];
/// A listener inside `ns` on `ip`, any port.
fn listen(ns: &Ns, ip: Ipv4Addr) -> anyhow::Result<TcpListener> {
    let socket = ns.socket()?;
    socket.bind(SocketAddr::from((ip, 0)))?;
    Ok(socket.listen(64)?)
}

/// A connection from inside `ns` to `to`, Nagle off.
async fn connect(ns: &Ns, to: SocketAddr) -> anyhow::Result<tokio::net::TcpStream> {
    let stream = ns.socket()?.connect(to).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// The delaying proxy: listens inside `ns` on its loopback and forwards every connection to `target`
/// (opened from inside `ns`), holding each piece `DELAY` in each direction.
fn proxy(ns: &Ns, target: SocketAddr) -> anyhow::Result<SocketAddr> {
    let listener = listen(ns, Ipv4Addr::LOCALHOST)?;
    let addr = listener.local_addr()?;
    let ns = ns.clone();
    tokio::spawn(async move {
        while let Ok((inbound, _)) = listener.accept().await {
            let outbound = match connect(&ns, target).await {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("proxy: cannot reach {target}: {e}");
                    continue;
                }
            };
            let _ = inbound.set_nodelay(true);
            let (ir, iw) = inbound.into_split();
            let (or, ow) = outbound.into_split();
            tokio::spawn(delayed(ir, ow));
            tokio::spawn(delayed(or, iw));
        }
    });
    Ok(addr)
}

/// Copies `from` to `to`, each piece written `DELAY` after it was read: the reader never waits for
/// the writer, so pieces queue with their due times and the rate is whatever arrives.
async fn delayed(mut from: OwnedReadHalf, mut to: OwnedWriteHalf) -> std::io::Result<()> {
    let (queue, mut due) = tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
    let read = async move {
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = from.read(&mut buf).await?;
            if n == 0 || queue.send((tokio::time::Instant::now() + DELAY, buf[..n].to_vec())).is_err() {
                return Ok::<_, std::io::Error>(());
            }
        }
    };
    let write = async move {
        while let Some((at, piece)) = due.recv().await {
            tokio::time::sleep_until(at).await;
            to.write_all(&piece).await?;
        }
        to.shutdown().await
    };
    tokio::try_join!(read, write).map(|_| ())
}

/// An echo server inside A and the median round trip of 1-byte messages through the proxy.
async fn round_trip(link: &Link) -> anyhow::Result<Duration> {
    let listener = listen(link.ns(Side::A), Side::A.addr())?;
    let via = proxy(link.ns(Side::B), listener.local_addr()?)?;
    let echo = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await?;
        s.set_nodelay(true)?;
        let mut b = [0u8; 1];
        while s.read(&mut b).await? == 1 {
            s.write_all(&b).await?;
        }
        anyhow::Ok(())
    });
    let mut s = connect(link.ns(Side::B), via).await?;
    let mut times = Vec::new();
    let mut b = [7u8; 1];
    for _ in 0..21 {
        let t0 = Instant::now();
        s.write_all(&b).await?;
        s.read_exact(&mut b).await?;
        times.push(t0.elapsed());
    }
    drop(s);
    echo.await??;
    Ok(median(times))
}

/// Plain TCP: `size` bytes from memory in A to memory in B, 1 MiB writes, through the proxy;
/// timed from the connect to the last byte.
async fn plain(link: &Link, size: u64) -> anyhow::Result<Duration> {
    let listener = listen(link.ns(Side::A), Side::A.addr())?;
    let via = proxy(link.ns(Side::B), listener.local_addr()?)?;
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
        s.shutdown().await?;
        anyhow::Ok(())
    });
    let t0 = Instant::now();
    let mut s = connect(link.ns(Side::B), via).await?;
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
    book: Arc<Table>,
    catalogue: Arc<Catalogue>,
    seller_key: PrivateKeySigner,
    buyer: Buyer,
    item: agora_datastream::message::Item,
}

/// One whole purchase from a seller with `window`, through the proxy, with a fresh order; timed
/// from the connect to the seller's `exit`.
async fn protocol(link: &Link, rig: &Rig, window: Window, nonce: u64) -> anyhow::Result<Duration> {
    let account = rig.seller_key.address();
    let order = rig.buyer.order_for(&rig.item, account, 1_767_225_600, U256::from(nonce), u64::MAX / 2);
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
    let config = SellerConfig { confirmations: 1, window, ..SellerConfig::default() };
    let seller = Seller::new(rig.seller_key.clone(), account, MARKET, rig.catalogue.clone(), rig.book.clone(), config)?;
    let listener = listen(link.ns(Side::A), Side::A.addr())?;
    let via = proxy(link.ns(Side::B), listener.local_addr()?)?;
    let served = tokio::spawn(async move {
        let (s, _) = listener.accept().await?;
        s.set_nodelay(true)?;
        anyhow::Ok(seller.serve(s).await?)
    });
    let out = rig.dir.path().join(format!("bought-{nonce}"));
    let t0 = Instant::now();
    let s = connect(link.ns(Side::B), via).await?;
    let mut session = rig.buyer.connect(s, Some(account), None).await?;
    let bought = session.buy(&order, B256::repeat_byte(1), &out, None).await?;
    let d = t0.elapsed();
    let served = served.await??;
    anyhow::ensure!(bought.complete && served.acked == rig.item.size, "incomplete purchase");
    std::fs::remove_file(&out)?;
    Ok(d)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    println!("`cargo bench -p agora-datastream --bench shaped`");
    if let Some(why) = link::unavailable() {
        println!("skipped: {why}");
        return Ok(());
    }
    let size = MIB << 20;
    let link = Link::new()?;
    link.shape(TBF)?;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "{cores} cores; link: namespaces {} and {} joined by a veth pair, `{}` on both ends; a delaying \
         proxy in {} holds each piece {} ms each way",
        link.ns(Side::A).name(),
        link.ns(Side::B).name(),
        TBF.join(" "),
        link.ns(Side::B).name(),
        DELAY.as_millis(),
    );
    print_load("before the run");
    let rtt = round_trip(&link).await?;
    println!(
        "round-trip time through the proxy: {:.1} ms (median of 21 1-byte echoes); bandwidth-delay \
         product at 100 Mbit/s: {:.0} KB",
        rtt.as_secs_f64() * 1e3,
        100e6 / 8.0 * rtt.as_secs_f64() / 1e3
    );

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
    drop(data);
    let mut catalogue = Catalogue::new();
    let terms = Terms { price: Price::PerMiB(U256::from(1000)), token: Address::ZERO, chunk_size: CHUNK };
    let item = catalogue.add_file("item.bin", &path, terms).await?.clone();
    let buyer_key = PrivateKeySigner::random();
    let buyer = Buyer {
        account: buyer_key.address(),
        message_key: buyer_key,
        ack_key: PrivateKeySigner::random(),
        market: MARKET,
        config: BuyerConfig::default(),
    };
    let rig = Rig {
        dir,
        book: Arc::new(Table::default()),
        catalogue: Arc::new(catalogue),
        seller_key: PrivateKeySigner::random(),
        buyer,
        item,
    };
    let window = Window::default();
    println!(
        "{MIB} MiB in {} KiB chunks; window {} MiB, +{} MiB per ACK, at most {} MiB (the defaults); order \
         book: a table, confirmed at once (this measures the link); {RUNS} runs each, interleaved, median",
        CHUNK >> 10,
        window.initial >> 20,
        window.step >> 20,
        window.max >> 20
    );

    let (mut p, mut t) = (Vec::new(), Vec::new());
    for run in 1..=RUNS {
        t.push(plain(&link, size).await?);
        p.push(protocol(&link, &rig, window, run as u64).await?);
    }
    let (p, t) = (median(p), median(t));
    println!("plain TCP: {:>6.2} MB/s  ({:.2} s)", mb_s(size, t), t.as_secs_f64());
    println!("protocol:  {:>6.2} MB/s  ({:.2} s)", mb_s(size, p), p.as_secs_f64());
    println!("ratio protocol / plain TCP: {:.3} (target ≥ 0.90)", t.as_secs_f64() / p.as_secs_f64());

    let one = Window { initial: CHUNK, step: 0, max: CHUNK };
    let d = protocol(&link, &rig, one, 1000).await?;
    println!(
        "for comparison, a window of one chunk (one run): {:.2} MB/s, ratio {:.3}",
        mb_s(size, d),
        t.as_secs_f64() / d.as_secs_f64()
    );
    print_load("after the run");
    Ok(())
}
