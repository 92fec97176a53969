//! The buyer's side: hello → menu, then (after escrowing) order → data … ack … → exit, written into
//! a file, every chunk verified before it is written and acknowledged.

use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use alloy::primitives::{Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

use crate::catalogue::sha256;
use crate::config::BuyerConfig;
use crate::error::{Error, Result, State};
use crate::escrow::SignedAck;
use crate::message::{Exit, ExitReason, Hello, Item, Menu, Message, Order, PROTOCOL, Rating, Received, Resume};
use crate::session::Conn;
use crate::sign::MarketRef;

/// A buyer: its account, the key that signs its messages, the key that signs its ACKs (the order's
/// `ackSigner`: a session key, or the same key), and the market it buys through.
#[derive(Debug, Clone)]
pub struct Buyer {
    /// The account that escrows (the order's `buyer`).
    pub account: Address,
    /// Signs the buyer's envelopes; must be the account or the ACK signer.
    pub message_key: PrivateKeySigner,
    /// Signs the ACK vouchers.
    pub ack_key: PrivateKeySigner,
    /// The market.
    pub market: MarketRef,
    /// Settings.
    pub config: BuyerConfig,
}

/// How far a purchase is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// Bytes received, verified, written and acknowledged.
    pub received: u64,
    /// The item's size.
    pub total: u64,
    /// The last ACK signed (what a resume after a crash starts from).
    pub ack: Option<SignedAck>,
}

/// How a purchase ended well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bought {
    /// The order.
    pub order_id: B256,
    /// Bytes received (and acknowledged) in all.
    pub received: u64,
    /// Every byte arrived and the whole matches the item's hash.
    pub complete: bool,
    /// The seller's rating of the buyer, from its `exit`.
    pub seller_rating: Option<Rating>,
}

impl Buyer {
    /// The order for `item` from the seller at `seller`: its id derived as the contract derives it,
    /// with the buyer's ACK key as `ackSigner`. Escrow it on chain, then [`BuyerSession::buy`].
    pub fn order_for(&self, item: &Item, seller: Address, started_from: u64, nonce: U256, deadline: u64) -> Order {
        Order {
            order_id: self.market.order_id(self.account, seller, started_from, nonce),
            buyer: self.account,
            seller,
            started_from,
            nonce,
            item: item.name.clone(),
            sha256: item.sha256,
            size: item.size,
            price: item.price,
            token: item.token,
            ack_signer: self.ack_key.address(),
            deadline,
        }
    }

    /// Says hello (resuming from `resume`, the last ACK of an earlier connection, when given) and
    /// reads the menu. With `seller_key`, the menu must be signed by it (the key in the registry).
    pub async fn connect<S: AsyncRead + AsyncWrite>(
        &self,
        stream: S,
        seller_key: Option<Address>,
        resume: Option<SignedAck>,
    ) -> Result<BuyerSession<S>> {
        let mut conn = Conn::new(stream, self.config.limits, self.message_key.clone(), self.config.timeouts.data);
        match self.handshake(&mut conn, seller_key, resume).await {
            Ok(menu) => {
                let (progress, _) = watch::channel(Progress::default());
                Ok(BuyerSession { conn, buyer: self.clone(), menu, resume, last_ack: resume, progress, journal: None })
            }
            Err(e) => Err(conn.fail(e).await),
        }
    }

    async fn handshake<S: AsyncRead + AsyncWrite>(
        &self,
        conn: &mut Conn<S>,
        seller_key: Option<Address>,
        resume: Option<SignedAck>,
    ) -> Result<Menu> {
        let mut nonce = [0u8; 32];
        getrandom::fill(&mut nonce).map_err(|e| Error::Signing(format!("no randomness for the hello's nonce: {e}")))?;
        let hello = Hello {
            protocol: PROTOCOL.into(),
            chain_id: self.market.chain_id,
            market: self.market.address,
            buyer: self.account,
            message_key: self.message_key.address(),
            nonce: B256::from(nonce),
            resume: resume.map(|r| Resume { order_id: r.order_id, acked: r.received }),
        };
        conn.send(&Message::Hello(hello.clone(), resume.map(|r| r.signature)), &[]).await?;
        let got = conn.recv(State::AwaitingMenu, self.config.timeouts.handshake, seller_key).await?;
        let menu = match got.message {
            Message::Menu(menu) => menu,
            other => return Err(Error::UnexpectedMessage { state: State::AwaitingMenu, got: other.kind() }),
        };
        if got.signer != menu.message_key {
            return Err(Error::WrongSigner {
                message: crate::MessageType::Menu,
                expected: menu.message_key,
                got: got.signer,
            });
        }
        if menu.hello_nonce != hello.nonce || (menu.chain_id, menu.market) != (hello.chain_id, hello.market) {
            return Err(Error::OrderRefused("the menu answers another hello or another market".into()));
        }
        Ok(menu)
    }
}

/// A connection to a seller after the menu.
pub struct BuyerSession<S> {
    conn: Conn<S>,
    buyer: Buyer,
    menu: Menu,
    resume: Option<SignedAck>,
    last_ack: Option<SignedAck>,
    progress: watch::Sender<Progress>,
    journal: Option<AckJournal>,
}

/// Keeps each ACK where a later resume reads it, before the ACK is sent (see
/// [`BuyerSession::keep_acks`]).
pub type AckJournal = Box<dyn FnMut(&SignedAck) -> std::io::Result<()> + Send>;

impl<S: AsyncRead + AsyncWrite> BuyerSession<S> {
    /// Hands every ACK to `journal` before it is sent, and sends it only once `journal` kept it:
    /// the seller then never holds an ACK above the one a buyer killed at any moment resumes from
    /// (it would refuse that lower resume as stale).
    pub fn keep_acks(&mut self, journal: AckJournal) {
        self.journal = Some(journal);
    }

    /// The seller's menu.
    pub fn menu(&self) -> &Menu {
        &self.menu
    }

    /// The purchase's progress, updated after every acknowledged chunk.
    pub fn progress(&self) -> watch::Receiver<Progress> {
        self.progress.subscribe()
    }

    /// The last ACK signed (and sent, unless the connection broke while sending it): what to
    /// resume from after a cut.
    pub fn last_ack(&self) -> Option<SignedAck> {
        self.last_ack
    }

    /// Sends `order` with its escrow transaction and receives the item into `out`: each chunk
    /// checked (signer, order, offset, length, hash) before it is written and acknowledged, the
    /// whole checked against the item's hash at the end, then `exit` with `rating`. When resuming,
    /// `out` must hold at least the resumed bytes; anything after them is cut off and received
    /// again.
    pub async fn buy(&mut self, order: &Order, escrow_tx: B256, out: &Path, rating: Option<Rating>) -> Result<Bought> {
        self.buy_until(order, escrow_tx, out, rating, None).await
    }

    /// [`buy`](Self::buy), stopping once `stop_at` bytes (or more) are received and acknowledged:
    /// the buyer sends `exit` (`stopped`), ignores chunks already in flight and waits for the
    /// seller's `exit`. The order then settles for what was acknowledged.
    pub async fn buy_until(
        &mut self,
        order: &Order,
        escrow_tx: B256,
        out: &Path,
        rating: Option<Rating>,
        stop_at: Option<u64>,
    ) -> Result<Bought> {
        match self.run(order, escrow_tx, out, rating, stop_at).await {
            Ok(bought) => {
                self.conn.close().await;
                Ok(bought)
            }
            Err(e) => Err(self.conn.fail(e).await),
        }
    }

    fn item(&self, order: &Order) -> Result<Item> {
        let b = &self.buyer;
        if order.seller != self.menu.seller || order.buyer != b.account || order.ack_signer != b.ack_key.address() {
            return Err(Error::OrderRefused("the order is not between this buyer and this seller".into()));
        }
        if b.market.order_id(order.buyer, order.seller, order.started_from, order.nonce) != order.order_id {
            return Err(Error::OrderRefused("the order id is not the id of its terms".into()));
        }
        let Some(item) = self.menu.items.iter().find(|i| i.name == order.item) else {
            return Err(Error::OrderRefused(format!("the menu has no item {:?}", order.item)));
        };
        if (item.size, item.sha256, item.price, item.token) != (order.size, order.sha256, order.price, order.token) {
            return Err(Error::OrderRefused(format!("the order's terms for {:?} are not the menu's", item.name)));
        }
        if let Some(r) = self.resume
            && (r.order_id != order.order_id || r.received > item.size)
        {
            return Err(Error::Config("the resume ACK is for another order".into()));
        }
        Ok(item.clone())
    }

    async fn run(
        &mut self,
        order: &Order,
        escrow_tx: B256,
        out: &Path,
        rating: Option<Rating>,
        stop_at: Option<u64>,
    ) -> Result<Bought> {
        let item = self.item(order)?;
        let start = self.resume.map_or(0, |r| r.received);
        let (file, mut whole) = blocking({
            let out = out.to_path_buf();
            move || open_output(&out, start)
        })
        .await?;
        self.progress.send_replace(Progress { received: start, total: item.size, ack: self.last_ack });
        self.conn.send(&Message::Order(order.clone(), escrow_tx), &[]).await?;
        let t = self.buyer.config.timeouts;
        let seller = Some(self.menu.message_key);
        let mut received = start;
        // The first chunk comes once the seller sees the escrow deep enough.
        let mut wait = t.escrow + t.data;
        while received < item.size {
            if stop_at.is_some_and(|s| received >= s) {
                return self.stop(order, received, rating).await;
            }
            let got = self.conn.recv(State::AwaitingData, wait, seller).await?;
            wait = t.data;
            let chunk = match got.message {
                Message::Data(chunk) => chunk,
                Message::Exit(exit) => return self.stopped_by_seller(order, received, exit, rating).await,
                other => return Err(Error::UnexpectedMessage { state: State::AwaitingData, got: other.kind() }),
            };
            check_chunk(order.order_id, &item, received, &chunk, got.frame.body())?;
            // Written (on a blocking thread, while this one hashes it into the whole) before it is
            // acknowledged: an ACK promises the bytes are in the file, where a resume starts.
            let frame = Arc::new(got.frame);
            let write = blocking({
                let (file, frame) = (file.clone(), frame.clone());
                move || Ok(file.write_all_at(frame.body(), received)?)
            });
            whole.update(frame.body());
            write.await?;
            received += chunk.length;
            let signature = self.buyer.market.sign_ack(&self.buyer.ack_key, order.order_id, received)?;
            let ack = SignedAck { order_id: order.order_id, received, signature };
            if let Some(journal) = self.journal.as_mut() {
                journal(&ack)?;
            }
            self.last_ack = Some(ack);
            self.progress.send_replace(Progress { received, total: item.size, ack: self.last_ack });
            self.conn.send(&Message::Ack(Received { order_id: order.order_id, received }, signature), &[]).await?;
        }
        blocking({
            let file = file.clone();
            move || Ok(file.sync_all()?)
        })
        .await?;
        let got = B256::from_slice(&whole.finalize());
        if got != item.sha256 {
            return Err(Error::ContentMismatch { expected: item.sha256, got });
        }
        let exit = Exit { order_id: order.order_id, received, reason: ExitReason::Complete, rating };
        self.conn.send(&Message::Exit(exit), &[]).await?;
        let got = self.conn.recv(State::AwaitingExit, t.exit, seller).await?;
        match got.message {
            Message::Exit(e) => {
                Ok(Bought { order_id: order.order_id, received, complete: true, seller_rating: e.rating })
            }
            other => Err(Error::UnexpectedMessage { state: State::AwaitingExit, got: other.kind() }),
        }
    }

    /// Sends `exit` (`stopped`) and waits for the seller's, ignoring chunks already in flight.
    async fn stop(&mut self, order: &Order, received: u64, rating: Option<Rating>) -> Result<Bought> {
        let exit = Exit { order_id: order.order_id, received, reason: ExitReason::Stopped, rating };
        self.conn.send(&Message::Exit(exit), &[]).await?;
        let t = self.buyer.config.timeouts;
        loop {
            let got = self.conn.recv(State::AwaitingExit, t.exit, Some(self.menu.message_key)).await?;
            match got.message {
                Message::Data(_) => continue,
                Message::Exit(e) => {
                    return Ok(Bought { order_id: order.order_id, received, complete: false, seller_rating: e.rating });
                }
                other => return Err(Error::UnexpectedMessage { state: State::AwaitingExit, got: other.kind() }),
            }
        }
    }

    async fn stopped_by_seller(
        &mut self,
        order: &Order,
        received: u64,
        _exit: Exit,
        rating: Option<Rating>,
    ) -> Result<Bought> {
        let exit = Exit { order_id: order.order_id, received, reason: ExitReason::Stopped, rating };
        self.conn.send(&Message::Exit(exit), &[]).await?;
        Ok(Bought { order_id: order.order_id, received, complete: false, seller_rating: None })
    }
}

/// Runs blocking file work off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Error::Io(std::io::Error::other(e)))?
}

/// The output file cut to `start` bytes, and the hash of those bytes so far.
fn open_output(out: &Path, start: u64) -> Result<(Arc<std::fs::File>, Sha256)> {
    let mut file = std::fs::OpenOptions::new().create(true).truncate(false).read(true).write(true).open(out)?;
    let len = file.metadata()?.len();
    if len < start {
        return Err(Error::Config(format!(
            "{} holds {len} bytes, fewer than the {start} acknowledged: it is not this order's output",
            out.display()
        )));
    }
    file.set_len(start)?;
    let mut whole = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut left = start;
    while left > 0 {
        let n = file.read(&mut buf[..left.min(1 << 20) as usize])?;
        if n == 0 {
            return Err(Error::Config(format!("{} ended while reading its first {start} bytes", out.display())));
        }
        whole.update(&buf[..n]);
        left -= n as u64;
    }
    Ok((Arc::new(file), whole))
}

fn check_chunk(order_id: B256, item: &Item, expected: u64, chunk: &crate::message::Chunk, body: &[u8]) -> Result<()> {
    let out_of_order = |reason| Err(Error::ChunkOutOfOrder { expected, got: chunk.offset, reason });
    if chunk.order_id != order_id {
        return Err(Error::OrderRefused(format!("a chunk of order {}, this is {order_id}", chunk.order_id)));
    }
    if chunk.offset != expected {
        return out_of_order("not the next offset");
    }
    if chunk.length == 0 || chunk.length > item.chunk_size {
        return out_of_order("length is zero or over the granularity");
    }
    if chunk.offset + chunk.length > item.size {
        return out_of_order("runs past the end of the item");
    }
    let got = sha256(body);
    if got != chunk.sha256 {
        return Err(Error::TamperedChunk { offset: chunk.offset, expected: chunk.sha256, got });
    }
    Ok(())
}
