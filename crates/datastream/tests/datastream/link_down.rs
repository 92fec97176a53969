//! The link between a buyer and a seller taken down mid-transfer and brought up again: two network
//! namespaces joined by a veth pair, the seller's socket in `A`, the buyer's in `B`, everything else
//! (the sessions, anvil's RPC) in the root namespace; only the data link (shaped to 100 Mbit/s) is
//! cut. Both sides give up on the dead connection by their own timeouts, the buyer resumes from its
//! last ACK on a new connection, and the order settles on chain (`DataMarket` on anvil) with the
//! exact split.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use agora_chain::bindings::DataMarket;
use agora_chain::testing::{BUYER, PROVIDER, TestChain, send};
use agora_datastream::{
    Buyer, BuyerConfig, Catalogue, ChainOrderBook, Error, Limits, MarketRef, Price, Seller, SellerConfig, SignedAck,
    State, Terms, Timeouts, Window, hash_file,
};
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolInterface;
use anyhow::Context as _;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::link::{self, Link, Side};

const CHUNK: u64 = 64 * 1024;
/// 64 whole chunks and a short last one.
const SIZE: u64 = 64 * CHUNK + 1234;
/// Four chunks in flight at most, all through the transfer (no growth): the most the seller can
/// have sent that the cut makes it send again.
const WINDOW: u64 = 4 * CHUNK;
/// The buyer's journal takes the link down when it keeps the ACK for this many bytes, before that
/// ACK is sent.
const CUT_AT: u64 = 16 * CHUNK;
/// How long either side waits on a silent peer (the seller for an ACK, the buyer for data).
const SILENCE: Duration = Duration::from_secs(2);
/// In wei; odd, so a split that is not exact shows.
const PRICE: u64 = 1_000_000_007;
/// `IDataMarket.OrderState.Settled`.
const SETTLED: u8 = 3;

fn timeouts() -> Timeouts {
    let long = Duration::from_secs(20);
    Timeouts {
        handshake: long,
        order: long,
        escrow: long,
        escrow_poll: Duration::from_millis(10),
        ack: SILENCE,
        data: SILENCE,
        exit: long,
    }
}

/// Deterministic bytes that are not all alike (xorshift).
fn content(len: u64) -> Vec<u8> {
    let mut x = 0x1ee7_c0de_u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Counts the body bytes of the frames written through it (only `data` frames have a body: these
/// are the chunk bytes a connection handed to the network), parsing each frame's length and header
/// length as they go by.
#[derive(Debug, Default)]
struct Bodies {
    head: [u8; 8],
    have: usize,
    header_left: u64,
    body_left: u64,
    total: Arc<AtomicU64>,
}

impl Bodies {
    fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.have < 8 {
                let n = (8 - self.have).min(bytes.len());
                self.head[self.have..self.have + n].copy_from_slice(&bytes[..n]);
                self.have += n;
                bytes = &bytes[n..];
                if self.have == 8 {
                    let [a, b, c, d, e, f, g, h] = self.head;
                    let len = u64::from(u32::from_be_bytes([a, b, c, d]));
                    self.header_left = u64::from(u32::from_be_bytes([e, f, g, h]));
                    self.body_left = len.saturating_sub(4 + self.header_left);
                }
            } else if self.header_left > 0 {
                let n = self.header_left.min(bytes.len() as u64);
                self.header_left -= n;
                bytes = &bytes[n as usize..];
            } else {
                let n = self.body_left.min(bytes.len() as u64);
                self.body_left -= n;
                bytes = &bytes[n as usize..];
                self.total.fetch_add(n, Ordering::SeqCst);
            }
            if self.have == 8 && self.header_left == 0 && self.body_left == 0 {
                self.have = 0;
            }
        }
    }
}

/// The seller's end of a connection, counting the chunk bytes it writes.
struct Counted {
    inner: TcpStream,
    bodies: Bodies,
}

impl AsyncRead for Counted {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write(cx, data);
        if let Poll::Ready(Ok(n)) = written {
            this.bodies.feed(&data[..n]);
        }
        written
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// A connection's end on the seller's side: how `serve` ended, and the chunk bytes it wrote.
type Ended = (agora_datastream::Result<agora_datastream::Served>, u64);

/// A connection from inside B to the seller at `to`, Nagle off.
async fn connect(link: &Link, to: std::net::SocketAddr) -> anyhow::Result<TcpStream> {
    let stream = link.ns(Side::B).socket()?.connect(to).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// The chunk boundaries from `from` (exclusive) to `to` (inclusive): the ACKs a buyer signs, one
/// per chunk, when it receives those bytes.
fn boundaries(from: u64, to: u64) -> Vec<u64> {
    (from / CHUNK + 1..=to.div_ceil(CHUNK)).map(|i| (i * CHUNK).min(to)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_link_taken_down_mid_transfer_resumes_and_nothing_is_delivered_or_paid_twice() -> anyhow::Result<()> {
    if let Some(why) = link::unavailable() {
        println!("skipped: {why}");
        return Ok(());
    }
    let link = Arc::new(Link::new()?);
    // 100 Mbit/s, as the bench has it: chunks queue in the shaper, so some are on their way when
    // the link goes down.
    link.shape(&["tbf", "rate", "100mbit", "burst", "32kbit", "latency", "400ms"])?;
    let tc = TestChain::start().await?;
    let address = tc.d.data_market.context("no DataMarket deployed")?;
    let market = MarketRef { chain_id: tc.d.chain_id, address };
    let chain = tc.provider(BUYER);

    // The seller: a catalogue of one file, listening inside A.
    let dir = tempfile::tempdir()?;
    let bytes = content(SIZE);
    std::fs::write(dir.path().join("data.bin"), &bytes)?;
    let mut catalogue = Catalogue::new();
    let terms = Terms { price: Price::Fixed(U256::from(PRICE)), token: Address::ZERO, chunk_size: CHUNK };
    let item = catalogue.add_file("data.bin", &dir.path().join("data.bin"), terms).await?.clone();
    let seller_key = tc.key(PROVIDER);
    let config = SellerConfig {
        limits: Limits::default(),
        timeouts: timeouts(),
        window: Window { initial: WINDOW, step: 0, max: WINDOW },
        confirmations: 1,
        rating_on_complete: None,
        off_chain: false,
    };
    let book = Arc::new(ChainOrderBook::new(tc.provider(PROVIDER), address));
    let seller =
        Arc::new(Seller::new(seller_key.clone(), seller_key.address(), market, Arc::new(catalogue), book, config)?);
    let socket = link.ns(Side::A).socket()?;
    socket.bind((Side::A.addr(), 0).into())?;
    let listener = socket.listen(8)?;
    let endpoint = listener.local_addr()?;
    let (done, mut ended) = tokio::sync::mpsc::unbounded_channel::<Ended>();
    let accept = tokio::spawn({
        let seller = seller.clone();
        async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let bodies = Bodies::default();
                let total = bodies.total.clone();
                let (seller, done) = (seller.clone(), done.clone());
                tokio::spawn(async move {
                    let served = seller.serve(Counted { inner: stream, bodies }).await;
                    let _ = done.send((served, total.load(Ordering::SeqCst)));
                });
            }
        }
    });

    // Registered with its endpoint on the link; the buyer's order escrowed on chain.
    let dm = DataMarket::new(address, tc.provider(PROVIDER));
    send(dm.register(endpoint.to_string(), seller_key.address(), B256::repeat_byte(7), String::new())).await?;
    let now = chain.get_block(alloy::eips::BlockId::latest()).await?.context("no head")?.header.timestamp;
    let buyer_key = tc.key(BUYER);
    let buyer = Buyer {
        account: buyer_key.address(),
        message_key: buyer_key,
        ack_key: PrivateKeySigner::random(),
        market,
        config: BuyerConfig { limits: Limits::default(), timeouts: timeouts() },
    };
    let order = buyer.order_for(&item, seller_key.address(), now, U256::from(1), now + 3600);
    let as_buyer = DataMarket::new(address, tc.provider(BUYER));
    let open = as_buyer.openOrder(
        order.seller,
        order.token,
        order.price,
        order.size,
        order.deadline,
        order.started_from,
        order.nonce,
        order.ack_signer,
        0,
    );
    let escrow_tx = send(open.value(order.price)).await?.transaction_hash;
    assert_eq!(chain.get_balance(address).await?, U256::from(PRICE), "the price is escrowed");

    // First connection, from inside B: the journal keeps every ACK and, at CUT_AT, takes A's end
    // of the link down before that ACK goes out.
    let out = dir.path().join("bought.bin");
    let kept = Arc::new(Mutex::new(Vec::new()));
    let mut session = buyer.connect(connect(&link, endpoint).await?, Some(seller_key.address()), None).await?;
    session.keep_acks(Box::new({
        let (kept, link) = (kept.clone(), link.clone());
        move |ack: &SignedAck| {
            kept.lock().expect("kept").push(ack.received);
            if ack.received == CUT_AT {
                link.down(Side::A).map_err(std::io::Error::other)?;
            }
            Ok(())
        }
    }));
    let first = session.buy(&order, escrow_tx, &out, None).await;
    assert!(
        matches!(first, Err(Error::Timeout { state: State::AwaitingData, .. })),
        "the buyer gives up on the silent link: {first:?}"
    );
    let last = session.last_ack().context("no ACK signed")?;
    drop(session);
    // The seller gives up on its own (its window is full and no ACK comes); 10 s is only there so
    // that a seller that never does fails the test instead of hanging it.
    let (served, sent_first) = tokio::time::timeout(Duration::from_secs(10), ended.recv())
        .await
        .context("the seller's first connection did not end with the link down")?
        .context("the seller stopped accepting")?;
    assert!(
        matches!(served, Err(Error::Timeout { state: State::AwaitingAck, .. })),
        "the seller gives up waiting for an ACK: {served:?}"
    );
    let held = seller.acks().highest(order.order_id).map_or(0, |a| a.received);
    let acked = last.received;
    let acks_first = std::mem::take(&mut *kept.lock().expect("kept"));
    assert_eq!(acks_first, boundaries(0, acked), "one ACK per chunk, in order, up to the last");
    assert!(held < CUT_AT && (CUT_AT..SIZE).contains(&acked), "cut mid-transfer: seller {held}, buyer {acked}");
    assert!(
        acked <= sent_first && sent_first <= held + WINDOW,
        "the seller sent {sent_first}: at least what the buyer acknowledged ({acked}), at most its ACK \
         ({held}) and the window ({WINDOW})"
    );
    assert_eq!(std::fs::metadata(&out)?.len(), acked, "the buyer's file holds what it acknowledged");

    // The link back up; the buyer resumes from its last ACK on a new connection.
    link.up(Side::A).await?;
    let mut session = buyer.connect(connect(&link, endpoint).await?, Some(seller_key.address()), Some(last)).await?;
    session.keep_acks(Box::new({
        let kept = kept.clone();
        move |ack: &SignedAck| {
            kept.lock().expect("kept").push(ack.received);
            Ok(())
        }
    }));
    let bought = session.buy(&order, escrow_tx, &out, None).await?;
    drop(session);
    let (served, sent_second) = tokio::time::timeout(Duration::from_secs(10), ended.recv())
        .await
        .context("the seller's second connection did not end")?
        .context("the seller stopped accepting")?;
    accept.abort();
    let served = served?;
    assert!(bought.complete && bought.received == SIZE, "{bought:?}");
    assert_eq!(std::fs::read(&out)?, bytes, "the file is the item, byte for byte");
    assert_eq!(hash_file(&out)?, (SIZE, item.sha256), "and hashes to the menu's hash");
    assert_eq!(
        (served.start, served.sent, served.acked, sent_second),
        (acked, SIZE - acked, SIZE, SIZE - acked),
        "the second connection starts at the buyer's last ACK and sends only what is after it"
    );
    let acks_second = kept.lock().expect("kept").clone();
    assert_eq!(acks_second, boundaries(acked, SIZE), "no chunk acknowledged twice across the connections");
    // Sent twice: what the first connection sent beyond the buyer's last ACK, lost in the cut.
    let resent = sent_first + sent_second - SIZE;
    assert!(resent <= WINDOW, "{resent} bytes sent twice, more than the window ({WINDOW})");
    let highest = seller.acks().highest(order.order_id).context("no ACK held")?;
    assert_eq!(highest.received, SIZE, "the seller's highest ACK is the whole item");
    assert_eq!(market.recover_ack(order.order_id, highest.received, &highest.signature)?, order.ack_signer);
    assert!(seller.acks().accepted(order.order_id) <= SIZE.div_ceil(CHUNK), "no ACK counted twice");
    println!(
        "cut with {held} bytes acknowledged at the seller, {acked} at the buyer; {sent_first} sent on the \
         first connection, {sent_second} on the second: {resent} sent twice (window {WINDOW})"
    );

    // The seller presents its highest ACK: the whole order, settled at once, the price to the seller
    // and nothing back, exactly; the order can be neither ended nor settled again.
    let balance = |a: Address| {
        let chain = chain.clone();
        async move { chain.get_balance(a).await }
    };
    let (seller_before, buyer_before) = (balance(seller_key.address()).await?, balance(buyer.account).await?);
    let receipt = send(dm.end(order.order_id, highest.received, Bytes::copy_from_slice(&highest.signature))).await?;
    let settled = receipt.decoded_log::<DataMarket::OrderSettled>().context("no OrderSettled")?.data;
    assert_eq!(
        (settled.received, settled.paidToSeller, settled.refundedToBuyer),
        (SIZE, U256::from(PRICE), U256::ZERO),
        "price × received / total to the seller, the rest to the buyer"
    );
    let fee = U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
    assert_eq!(balance(seller_key.address()).await?, seller_before + U256::from(PRICE) - fee);
    assert_eq!(balance(buyer.account).await?, buyer_before);
    assert_eq!(balance(address).await?, U256::ZERO, "nothing left in escrow");
    let o = dm.getOrder(order.order_id).call().await?;
    assert_eq!((o.state, o.received), (SETTLED, SIZE));
    let again = dm.end(order.order_id, highest.received, Bytes::copy_from_slice(&highest.signature)).call().await;
    assert!(
        matches!(revert(again.err()), Some(DataMarket::DataMarketErrors::OrderNotOpen(_))),
        "ending it again is refused"
    );
    let again = dm.settle(order.order_id).call().await;
    assert!(
        matches!(revert(again.err()), Some(DataMarket::DataMarketErrors::OrderNotActive(_))),
        "settling it again is refused"
    );
    tc.stop().await?;
    Ok(())
}

/// The contract's custom error in a failed call.
fn revert(e: Option<alloy::contract::Error>) -> Option<DataMarket::DataMarketErrors> {
    DataMarket::DataMarketErrors::abi_decode(&e?.as_revert_data()?).ok()
}
