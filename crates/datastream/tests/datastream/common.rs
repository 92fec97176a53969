//! What the tests share: anvil's well-known dev keys, an order book that is a table of orders (the
//! test's stand-in for the `DataMarket` contract, answering exactly what the table holds), a seller
//! with a catalogue of one generated file, a buyer, and a hand-driven buyer for what no honest
//! buyer sends.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agora_datastream::frame::{FrameReader, FrameWriter};
use agora_datastream::message::{Chunk, Hello, Item, Menu, Message, Order, PROTOCOL, Received, Resume};
use agora_datastream::{
    Buyer, BuyerConfig, Catalogue, Limits, MarketRef, OnChainOrder, OrderBook, Price, Seller, SellerConfig, SignedAck,
    State, Terms, Timeouts, Window,
};
use alloy::primitives::{Address, B256, U256, address};
use alloy::signers::local::PrivateKeySigner;
use tokio::io::{AsyncRead, AsyncWrite, ReadHalf, WriteHalf};
use tokio::sync::watch;

/// anvil's dev accounts 1, 2 and 3: the seller, the buyer, the buyer's ACK session key.
pub const SELLER_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
pub const BUYER_KEY: &str = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
pub const SESSION_KEY: &str = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";

pub const MARKET: MarketRef =
    MarketRef { chain_id: 31337, address: address!("0x5FbDB2315678afecb367f032d93F642f64180aa3") };

pub fn key(hex: &str) -> PrivateKeySigner {
    hex.parse().expect("a valid dev key")
}

/// The order book as a table: order id and escrow transaction → the order as the chain holds it.
/// Counts the questions, so a test can wait until the seller has asked.
#[derive(Debug)]
pub struct Table {
    orders: Mutex<HashMap<(B256, B256), OnChainOrder>>,
    asked: watch::Sender<u64>,
}

impl Table {
    pub fn new() -> Self {
        Self { orders: Mutex::new(HashMap::new()), asked: watch::channel(0).0 }
    }

    pub fn insert(&self, order_id: B256, tx: B256, order: OnChainOrder) {
        self.orders.lock().expect("table lock").insert((order_id, tx), order);
    }

    pub fn set_confirmations(&self, order_id: B256, tx: B256, confirmations: u64) {
        if let Some(o) = self.orders.lock().expect("table lock").get_mut(&(order_id, tx)) {
            o.confirmations = confirmations;
        }
    }

    /// Waits until the seller has asked at least `n` times.
    pub async fn asked(&self, n: u64) {
        let mut rx = self.asked.subscribe();
        rx.wait_for(|a| *a >= n).await.expect("the table lives");
    }
}

impl OrderBook for Table {
    async fn order(&self, order_id: B256, escrow_tx: B256) -> Result<Option<OnChainOrder>, String> {
        let found = self.orders.lock().map_err(|e| e.to_string())?.get(&(order_id, escrow_tx)).cloned();
        self.asked.send_modify(|a| *a += 1);
        Ok(found)
    }
}

/// Deterministic bytes that are not all alike (xorshift).
pub fn content(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

pub const CHUNK: u64 = 64 * 1024;

pub fn short_timeouts() -> Timeouts {
    Timeouts {
        handshake: Duration::from_secs(20),
        order: Duration::from_secs(20),
        escrow: Duration::from_secs(20),
        escrow_poll: Duration::from_millis(10),
        ack: Duration::from_secs(20),
        data: Duration::from_secs(20),
        exit: Duration::from_secs(20),
    }
}

pub fn seller_config() -> SellerConfig {
    SellerConfig {
        limits: Limits::default(),
        timeouts: short_timeouts(),
        // Two chunks in flight at first, one more per ACK, at most four.
        window: Window { initial: 2 * CHUNK, step: CHUNK, max: 4 * CHUNK },
        confirmations: 1,
        rating_on_complete: Some(agora_datastream::message::Rating { score: 5, comment: "paid promptly".into() }),
        off_chain: false,
    }
}

pub struct Rig {
    _dir: tempfile::TempDir,
    pub seller: Arc<Seller<Table>>,
    pub book: Arc<Table>,
    pub catalogue: Arc<Catalogue>,
    pub buyer: Buyer,
    pub item: Item,
    pub content: Vec<u8>,
    pub order: Order,
    pub tx: B256,
    pub out: PathBuf,
}

impl Rig {
    /// A seller with one file of `size` bytes in `CHUNK` chunks, a buyer, and the buyer's order
    /// escrowed in the table with `confirmations`.
    pub async fn new(size: usize, confirmations: u64, config: SellerConfig) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let content = content(size, 0x5eed);
        let path = dir.path().join("data.bin");
        std::fs::write(&path, &content)?;
        let mut catalogue = Catalogue::new();
        let terms = Terms { price: Price::Fixed(U256::from(1_000_000u64)), token: Address::ZERO, chunk_size: CHUNK };
        let item = catalogue.add_file("data.bin", &path, terms).await?.clone();
        let book = Arc::new(Table::new());
        let seller_key = key(SELLER_KEY);
        let catalogue = Arc::new(catalogue);
        let seller = Arc::new(Seller::new(
            seller_key.clone(),
            seller_key.address(),
            MARKET,
            catalogue.clone(),
            book.clone(),
            config,
        )?);
        let buyer_key = key(BUYER_KEY);
        let buyer = Buyer {
            account: buyer_key.address(),
            message_key: buyer_key,
            ack_key: key(SESSION_KEY),
            market: MARKET,
            config: BuyerConfig { limits: Limits::default(), timeouts: short_timeouts() },
        };
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
        let order = buyer.order_for(&item, seller_key.address(), now, U256::from(1), now + 3600);
        let tx = B256::repeat_byte(0xee);
        book.insert(order.order_id, tx, on_chain(&order, confirmations));
        let out = dir.path().join("bought.bin");
        Ok(Self { _dir: dir, seller, book, catalogue, buyer, item, content, order, tx, out })
    }

    pub fn seller_address(&self) -> Address {
        key(SELLER_KEY).address()
    }

    pub fn chunks(&self) -> u64 {
        self.item.size.div_ceil(CHUNK)
    }
}

pub fn on_chain(order: &Order, confirmations: u64) -> OnChainOrder {
    OnChainOrder {
        buyer: order.buyer,
        seller: order.seller,
        total: order.size,
        price: order.price,
        token: order.token,
        ack_signer: order.ack_signer,
        deadline: order.deadline,
        finished: false,
        payment: agora_datastream::Payment::Escrowed,
        confirmations,
    }
}

/// A fresh connection's `hello` from `rig`'s buyer whose messages `message_key` signs.
pub fn hello(rig: &Rig, message_key: &PrivateKeySigner) -> Message {
    let hello = Hello {
        protocol: PROTOCOL.into(),
        chain_id: MARKET.chain_id,
        market: MARKET.address,
        buyer: rig.buyer.account,
        message_key: message_key.address(),
        nonce: B256::repeat_byte(0x42),
        resume: None,
    };
    Message::Hello(hello, None)
}

/// A buyer driven by hand, through the crate's public frames and messages.
pub struct Raw<S> {
    pub r: FrameReader<ReadHalf<S>>,
    pub w: FrameWriter<WriteHalf<S>>,
    pub key: PrivateKeySigner,
}

impl<S: AsyncRead + AsyncWrite> Raw<S> {
    pub fn new(stream: S) -> Self {
        let (r, w) = tokio::io::split(stream);
        Self {
            r: FrameReader::new(r, Limits::default()),
            w: FrameWriter::new(w, Limits::default()),
            key: key(BUYER_KEY),
        }
    }

    pub async fn send(&mut self, m: &Message) -> anyhow::Result<()> {
        let header = m.encode(&self.key)?;
        self.w.send(&header, &[]).await?;
        Ok(())
    }

    pub async fn recv(&mut self) -> anyhow::Result<(Message, Vec<u8>)> {
        let f = self.r.next(State::AwaitingData).await?;
        let signed = Message::decode(f.header(), f.body())?;
        Ok((signed.message, f.body().to_vec()))
    }

    /// hello (optionally resuming) → menu → order.
    pub async fn start(&mut self, rig: &Rig, resume: Option<SignedAck>) -> anyhow::Result<Menu> {
        let mut hello = hello(rig, &self.key);
        if let Message::Hello(h, voucher) = &mut hello {
            h.resume = resume.map(|r| Resume { order_id: r.order_id, acked: r.received });
            *voucher = resume.map(|r| r.signature);
        }
        self.send(&hello).await?;
        let Message::Menu(menu) = self.recv().await?.0 else { anyhow::bail!("expected a menu") };
        self.send(&Message::Order(rig.order.clone(), rig.tx)).await?;
        Ok(menu)
    }

    pub async fn chunk(&mut self) -> anyhow::Result<(Chunk, Vec<u8>)> {
        match self.recv().await? {
            (Message::Data(c), body) => Ok((c, body)),
            (other, _) => anyhow::bail!("expected data, got {other:?}"),
        }
    }

    /// An ACK for `received` bytes whose voucher is signed by `ack_key`.
    pub async fn ack(&mut self, rig: &Rig, received: u64, ack_key: &PrivateKeySigner) -> anyhow::Result<SignedAck> {
        let signature = MARKET.sign_ack(ack_key, rig.order.order_id, received)?;
        self.send(&Message::Ack(Received { order_id: rig.order.order_id, received }, signature)).await?;
        Ok(SignedAck { order_id: rig.order.order_id, received, signature })
    }

    /// Reads until the seller's `error` message and returns its code.
    pub async fn error_code(&mut self) -> anyhow::Result<agora_datastream::ErrorCode> {
        loop {
            match self.recv().await? {
                (Message::Error(f), _) => return Ok(f.code),
                (Message::Data(_), _) => continue,
                (other, _) => anyhow::bail!("expected an error, got {other:?}"),
            }
        }
    }
}
