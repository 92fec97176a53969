//! The seller's side: hello → menu → order → (escrow confirmed) → data … ack … → exit.

use std::sync::Arc;

use alloy::primitives::{Address, B256};
use alloy::signers::local::PrivateKeySigner;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWrite};

use crate::catalogue::{Catalogue, Entry, sha256};
use crate::config::SellerConfig;
use crate::error::{Error, Result, State};
use crate::escrow::{AckBook, AckStore, OnChainOrder, OrderBook, Payment, SignedAck};
use crate::message::{Chunk, Exit, ExitReason, Hello, Menu, Message, Order, PROTOCOL, Rating, Received};
use crate::session::{Conn, unix_now};
use crate::sign::MarketRef;

/// How one connection ended well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    /// The order.
    pub order_id: B256,
    /// The offset this connection started from (the resume point).
    pub start: u64,
    /// Bytes sent on this connection.
    pub sent: u64,
    /// The order's highest ACK when the connection ended.
    pub acked: u64,
    /// The item's size.
    pub total: u64,
    /// Why the buyer's `exit` said it ended.
    pub reason: ExitReason,
    /// The buyer's rating of the seller.
    pub buyer_rating: Option<Rating>,
}

/// A seller: its keys, its catalogue, the order book it checks escrows in, and its ACKs. Serves
/// any number of connections at once (`serve` takes `&self`), one per order at a time.
#[derive(Debug)]
pub struct Seller<B> {
    key: PrivateKeySigner,
    account: Address,
    market: MarketRef,
    catalogue: Arc<Catalogue>,
    book: Arc<B>,
    acks: AckBook,
    config: SellerConfig,
}

/// What the seller knows once the order is checked.
struct Accepted<'a> {
    order: Order,
    entry: &'a Entry,
    buyer_key: Address,
    start: u64,
}

impl<B: OrderBook> Seller<B> {
    /// A seller paid at `account`, signing its messages with `key` (the key in the registry).
    pub fn new(
        key: PrivateKeySigner,
        account: Address,
        market: MarketRef,
        catalogue: Arc<Catalogue>,
        book: Arc<B>,
        config: SellerConfig,
    ) -> Result<Self> {
        config.window.check()?;
        let max = config.limits.max_chunk();
        if let Some(i) = catalogue.items().iter().find(|i| i.chunk_size > max) {
            return Err(Error::Config(format!(
                "item {:?} has chunks of {} bytes; frames carry at most {max}",
                i.name, i.chunk_size
            )));
        }
        Ok(Self { key, account, market, catalogue, book, acks: AckBook::new(), config })
    }

    /// Keeps each order's highest ACK in `store` as well as in memory, so that a restarted seller
    /// resumes from it and settles with it.
    #[must_use]
    pub fn with_ack_store(mut self, store: Arc<dyn AckStore>) -> Self {
        self.acks = AckBook::with_store(store);
        self
    }

    /// Each order's highest ACK: what a settlement is made with.
    pub fn acks(&self) -> &AckBook {
        &self.acks
    }

    /// Serves one connection to its end. A refusal is told to the buyer (an `error` message) and
    /// returned; the order's ACKs stay as they were, so the buyer can resume.
    pub async fn serve<S: AsyncRead + AsyncWrite>(&self, stream: S) -> Result<Served> {
        let mut conn = Conn::new(stream, self.config.limits, self.key.clone(), self.config.timeouts.ack);
        match self.run(&mut conn).await {
            Ok(served) => {
                conn.close().await;
                Ok(served)
            }
            Err(e) => Err(conn.fail(e).await),
        }
    }

    async fn run<S: AsyncRead + AsyncWrite>(&self, conn: &mut Conn<S>) -> Result<Served> {
        let t = self.config.timeouts;
        let got = conn.recv(State::AwaitingHello, t.handshake, None).await?;
        let (hello, voucher) = match got.message {
            Message::Hello(hello, voucher) => (hello, voucher),
            other => return Err(Error::UnexpectedMessage { state: State::AwaitingHello, got: other.kind() }),
        };
        self.check_hello(&hello, got.signer)?;
        let menu = Menu {
            chain_id: self.market.chain_id,
            market: self.market.address,
            seller: self.account,
            message_key: self.key.address(),
            hello_nonce: hello.nonce,
            confirmations: self.config.confirmations,
            items: self.catalogue.items(),
        };
        conn.send(&Message::Menu(menu), &[]).await?;
        let got = conn.recv(State::AwaitingOrder, t.order, Some(hello.message_key)).await?;
        let (order, escrow_tx) = match got.message {
            Message::Order(order, escrow_tx) => (order, escrow_tx),
            other => return Err(Error::UnexpectedMessage { state: State::AwaitingOrder, got: other.kind() }),
        };
        let entry = self.check_order(&hello, &order)?;
        self.await_escrow(conn, &order, escrow_tx, hello.message_key).await?;
        let _serving = self.acks.serve(order.order_id)?;
        self.acks.load(order.order_id).await?;
        let start = self.start_offset(&hello, voucher, &order).await?;
        let accepted = Accepted { order, entry, buyer_key: hello.message_key, start };
        self.stream(conn, &accepted).await
    }

    fn check_hello(&self, hello: &Hello, signer: Address) -> Result<()> {
        if signer != hello.message_key {
            return Err(Error::WrongSigner {
                message: crate::MessageType::Hello,
                expected: hello.message_key,
                got: signer,
            });
        }
        if hello.protocol != PROTOCOL {
            return Err(Error::OrderRefused(format!("protocol {:?}; this seller speaks {PROTOCOL}", hello.protocol)));
        }
        if (hello.chain_id, hello.market) != (self.market.chain_id, self.market.address) {
            return Err(Error::OrderRefused(format!(
                "market {} on chain {}; this seller sells through {} on chain {}",
                hello.market, hello.chain_id, self.market.address, self.market.chain_id
            )));
        }
        Ok(())
    }

    fn check_order(&self, hello: &Hello, order: &Order) -> Result<&Entry> {
        let refuse = |why: String| Err(Error::OrderRefused(why));
        let id = self.market.order_id(order.buyer, order.seller, order.started_from, order.nonce);
        if id != order.order_id {
            return refuse(format!("order id {} is not the id of its terms ({id})", order.order_id));
        }
        if order.seller != self.account {
            return refuse(format!("the order pays {}, not this seller ({})", order.seller, self.account));
        }
        if order.buyer != hello.buyer || ![order.buyer, order.ack_signer].contains(&hello.message_key) {
            return refuse("the order's buyer and ACK signer are not the one who said hello".into());
        }
        if let Some(r) = hello.resume
            && r.order_id != order.order_id
        {
            return refuse(format!("hello resumes order {}, the order is {}", r.order_id, order.order_id));
        }
        let Some(entry) = self.catalogue.get(&order.item) else {
            return refuse(format!("no item {:?} in the catalogue", order.item));
        };
        let i = &entry.item;
        if (i.size, i.sha256, i.price, i.token) != (order.size, order.sha256, order.price, order.token) {
            return refuse(format!("the order's terms for {:?} are not the menu's", order.item));
        }
        if order.deadline <= unix_now() {
            return refuse(format!("the order's deadline {} has passed", order.deadline));
        }
        Ok(entry)
    }

    /// Waits until the order book shows the escrow with the order's terms at the configured depth.
    /// The buyer has nothing to say meanwhile: a message, or the connection closing, ends the wait.
    async fn await_escrow<S: AsyncRead + AsyncWrite>(
        &self,
        conn: &mut Conn<S>,
        order: &Order,
        escrow_tx: B256,
        buyer_key: Address,
    ) -> Result<()> {
        let t = self.config.timeouts;
        let give_up = tokio::time::Instant::now() + t.escrow;
        loop {
            let found = self.book.order(order.order_id, escrow_tx).await.map_err(Error::OrderBook)?;
            let reason = match found {
                Some(on_chain) => {
                    check_terms(order, &on_chain, self.config.off_chain)?;
                    match on_chain.payment {
                        Payment::OffChainUnconfirmed => {
                            "the seller has not confirmed the off-chain payment on chain yet".to_owned()
                        }
                        Payment::OffChainPaid => return Ok(()),
                        Payment::Escrowed if on_chain.confirmations >= self.config.confirmations => return Ok(()),
                        Payment::Escrowed => {
                            format!("{} of {} confirmations", on_chain.confirmations, self.config.confirmations)
                        }
                    }
                }
                None => format!("transaction {escrow_tx} holds no such order (yet)"),
            };
            if tokio::time::Instant::now() + t.escrow_poll > give_up {
                return Err(Error::EscrowNotConfirmed { order_id: order.order_id, reason });
            }
            tokio::select! {
                () = tokio::time::sleep(t.escrow_poll) => {}
                got = conn.recv(State::AwaitingEscrow, t.escrow, Some(buyer_key)) => {
                    return Err(Error::UnexpectedMessage { state: State::AwaitingEscrow, got: got?.message.kind() });
                }
            }
        }
    }

    /// Where this connection starts: the resume voucher's amount (checked against the order's ACK
    /// signer and never below what is already acknowledged), or 0 for an order nothing was
    /// acknowledged for.
    async fn start_offset(&self, hello: &Hello, voucher: Option<[u8; 65]>, order: &Order) -> Result<u64> {
        let known = self.acks.highest(order.order_id).map_or(0, |a| a.received);
        let (Some(resume), Some(signature)) = (hello.resume, voucher) else {
            if known > 0 {
                return Err(Error::ResumeRequired { order_id: order.order_id, acked: known });
            }
            return Ok(0);
        };
        if resume.acked > order.size {
            return Err(Error::AckBeyondSent { received: resume.acked, sent: order.size });
        }
        self.verify_voucher(order, resume.acked, &signature)?;
        let ack = SignedAck { order_id: order.order_id, received: resume.acked, signature };
        if self.acks.record(ack)? {
            self.acks.persist(ack, order.size).await?;
        }
        Ok(resume.acked)
    }

    fn verify_voucher(&self, order: &Order, received: u64, signature: &[u8; 65]) -> Result<()> {
        let got = self
            .market
            .recover_ack(order.order_id, received, signature)
            .map_err(|source| Error::BadSignature { message: crate::MessageType::Ack, source })?;
        if got != order.ack_signer {
            return Err(Error::ForgedAck { received, expected: order.ack_signer, got });
        }
        Ok(())
    }

    async fn stream<S: AsyncRead + AsyncWrite>(&self, conn: &mut Conn<S>, a: &Accepted<'_>) -> Result<Served> {
        let (t, w) = (self.config.timeouts, self.config.window);
        let (id, total, chunk) = (a.order.order_id, a.order.size, a.entry.item.chunk_size);
        let mut file = tokio::fs::File::open(&a.entry.path).await?;
        file.seek(std::io::SeekFrom::Start(a.start)).await?;
        // Chunk sizes are checked against the frame limit, which is a u32.
        let mut buf = vec![0u8; usize::try_from(chunk.min(total.max(1))).unwrap_or(usize::MAX)];
        let mut run = Run { sent: a.start, acked: a.start, window: w.initial };
        tracing::debug!(order = %id, start = a.start, total, "streaming");
        loop {
            while let Some(got) = conn.try_recv(State::AwaitingAck, Some(a.buyer_key)).await {
                if let Some(exit) = self.on_message(&a.order, &mut run, got?.message).await? {
                    return self.stopped(conn, a, &run, exit).await;
                }
            }
            if run.acked == total {
                return self.finish(conn, a, &run).await;
            }
            let in_flight = run.sent - run.acked;
            let len = chunk.min(total - run.sent);
            if run.sent < total && (in_flight == 0 || in_flight + len <= run.window) {
                let body = &mut buf[..len as usize];
                file.read_exact(body).await?;
                let header = Chunk { order_id: id, offset: run.sent, length: len, sha256: sha256(body) };
                conn.send(&Message::Data(header), body).await?;
                run.sent += len;
                continue;
            }
            let got = conn.recv(State::AwaitingAck, t.ack, Some(a.buyer_key)).await?;
            if let Some(exit) = self.on_message(&a.order, &mut run, got.message).await? {
                return self.stopped(conn, a, &run, exit).await;
            }
        }
    }

    /// An ACK moves the account on (kept in the store before it counts); a resent one changes
    /// nothing; an `exit` ends the transfer.
    async fn on_message(&self, order: &Order, run: &mut Run, message: Message) -> Result<Option<Exit>> {
        match message {
            Message::Ack(Received { order_id, received }, signature) => {
                if order_id != order.order_id {
                    return Err(Error::OrderRefused(format!("ack for order {order_id}, this is {}", order.order_id)));
                }
                self.verify_voucher(order, received, &signature)?;
                if received > run.sent {
                    return Err(Error::AckBeyondSent { received, sent: run.sent });
                }
                let ack = SignedAck { order_id, received, signature };
                if self.acks.record(ack)? {
                    self.acks.persist(ack, order.size).await?;
                    run.acked = received;
                    let w = self.config.window;
                    run.window = (run.window + w.step).min(w.max);
                }
                Ok(None)
            }
            Message::Exit(exit) => Ok(Some(exit)),
            other => Err(Error::UnexpectedMessage { state: State::AwaitingAck, got: other.kind() }),
        }
    }

    /// Everything acknowledged: the buyer's `exit`, then ours.
    async fn finish<S: AsyncRead + AsyncWrite>(
        &self,
        conn: &mut Conn<S>,
        a: &Accepted<'_>,
        run: &Run,
    ) -> Result<Served> {
        let t = self.config.timeouts;
        loop {
            let got = conn.recv(State::AwaitingExit, t.exit, Some(a.buyer_key)).await?;
            match got.message {
                Message::Exit(exit) => return self.stopped(conn, a, run, exit).await,
                // A resent final ACK is harmless; a lower one is refused by `record`.
                Message::Ack(..) => {
                    let mut same = *run;
                    self.on_message(&a.order, &mut same, got.message).await?;
                }
                other => return Err(Error::UnexpectedMessage { state: State::AwaitingExit, got: other.kind() }),
            }
        }
    }

    /// The buyer's `exit`, answered with ours: `complete` (with the seller's rating) when everything
    /// is acknowledged, `stopped` when the buyer stops before the end.
    async fn stopped<S: AsyncRead + AsyncWrite>(
        &self,
        conn: &mut Conn<S>,
        a: &Accepted<'_>,
        run: &Run,
        exit: Exit,
    ) -> Result<Served> {
        let reply = if run.acked == a.order.size {
            Exit {
                order_id: a.order.order_id,
                received: run.acked,
                reason: ExitReason::Complete,
                rating: self.config.rating_on_complete.clone(),
            }
        } else {
            Exit { order_id: a.order.order_id, received: run.acked, reason: ExitReason::Stopped, rating: None }
        };
        conn.send(&Message::Exit(reply), &[]).await?;
        Ok(self.served(a, run, exit))
    }

    fn served(&self, a: &Accepted<'_>, run: &Run, exit: Exit) -> Served {
        Served {
            order_id: a.order.order_id,
            start: a.start,
            sent: run.sent - a.start,
            acked: run.acked,
            total: a.order.size,
            reason: exit.reason,
            buyer_rating: exit.rating,
        }
    }
}

/// A transfer's counters: sent, acknowledged, and the current window.
#[derive(Debug, Clone, Copy)]
struct Run {
    sent: u64,
    acked: u64,
    window: u64,
}

fn check_terms(order: &Order, c: &OnChainOrder, off_chain: bool) -> Result<()> {
    let differs = [
        ("buyer", order.buyer != c.buyer),
        ("seller", order.seller != c.seller),
        ("total", order.size != c.total),
        ("price", order.price != c.price),
        ("token", order.token != c.token),
        ("ack signer", order.ack_signer != c.ack_signer),
        ("deadline", order.deadline != c.deadline),
    ];
    if let Some((field, _)) = differs.iter().find(|(_, d)| *d) {
        return Err(Error::OrderRefused(format!("the escrowed order's {field} is not the order's")));
    }
    if !off_chain && c.payment != Payment::Escrowed {
        return Err(Error::OrderRefused("the order is paid off chain; this seller serves escrowed orders".into()));
    }
    if c.finished {
        return Err(Error::OrderFinished(order.order_id));
    }
    Ok(())
}
