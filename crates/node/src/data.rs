//! The data market's two ends (issue 13): `agora seller` registers in `DataMarket`'s registry,
//! serves its catalogue over TCP and WebSocket (one port) and ends and settles its orders with the buyers' highest ACKs;
//! `agora buyer` finds a seller in the registry, opens an order and receives the item into a file,
//! resuming after an interruption and rating at the end. Each key's transactions go through its one
//! [`Sender`].

use std::collections::HashSet;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agora_chain::Sender;
use agora_chain::bindings::{DataMarket, MarketToken};
pub use agora_datastream::Progress;
use agora_datastream::message::{Order, Rating};
use agora_datastream::{
    Buyer, BuyerConfig, Catalogue, ChainOrderBook, MarketRef, Seller, SignedAck, StoreAcks, transport,
};
use agora_store::Store;
use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, Result, bail, ensure};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::Config;
use crate::data_settle::head_time;

/// Which chain and `DataMarket` the data market runs on (from the node's `/api/network`).
#[derive(Debug, Clone)]
pub struct DataChain {
    /// The chain's JSON-RPC URL.
    pub rpc_url: String,
    /// Its id.
    pub chain_id: u64,
    /// The `DataMarket` contract.
    pub market: Address,
}

impl DataChain {
    fn market_ref(&self) -> MarketRef {
        MarketRef { chain_id: self.chain_id, address: self.market }
    }
}

/// A seller that is registered and listening.
#[derive(Debug, Clone)]
pub struct SellerReady {
    /// The seller's account (paid, and the message signer).
    pub account: Address,
    /// Where it listens.
    pub listen: SocketAddr,
    /// The items it sells, by name.
    pub items: Vec<String>,
    /// The `register`/`update` transaction, when one was needed.
    pub registered_tx: Option<B256>,
}

/// `OrderState` as the contract's ABI encodes it.
pub(crate) mod state {
    pub(crate) const NONE: u8 = 0;
    pub(crate) const OPEN: u8 = 1;
    pub(crate) const ENDING: u8 = 2;
    pub(crate) const SETTLED: u8 = 3;
    pub(crate) const PAID: u8 = 4;
}

/// `PaymentMethod` as the contract's ABI encodes it.
mod method {
    pub(super) const ESCROW: u8 = 0;
    pub(super) const OFF_CHAIN: u8 = 1;
}

/// Serves `[data]`'s catalogue as its seller until `shutdown`; `ready` hears when it listens.
pub async fn seller(
    config: &Config,
    chain: &DataChain,
    ready: impl FnOnce(&SellerReady),
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let s = &config.data;
    let key = agora_chain::signer_from_key(
        s.seller_key.as_deref().context("no seller key: set [data] seller_key or AGORA_DATA__SELLER_KEY")?,
    )?;
    let dir =
        s.catalogue_dir.as_ref().context("no catalogue: set [data] catalogue_dir or AGORA_DATA__CATALOGUE_DIR")?;
    let mut catalogue = Catalogue::new();
    let n = catalogue.add_dir("", dir, s.terms()).await.with_context(|| format!("reading {}", dir.display()))?;
    ensure!(n > 0, "{} holds no files to sell", dir.display());
    let sender = crate::client::sender(&chain.rpc_url, &key).await?;
    ensure!(sender.provider().get_chain_id().await? == chain.chain_id, "the RPC serves another chain");
    let listener = TcpListener::bind(s.listen).await.with_context(|| format!("listening on {}", s.listen))?;
    let listen = listener.local_addr()?;
    let endpoint = s.endpoint.clone().unwrap_or_else(|| listen.to_string());
    let registered_tx = register(&sender, chain.market, &endpoint, &catalogue).await?;

    let items = catalogue.items().into_iter().map(|i| i.name).collect();
    let store = Store::connect(&config.database_url()).await?;
    let market = chain.market_ref();
    let book = ChainOrderBook::new(sender.provider().clone(), chain.market);
    let seller =
        Seller::new(key.clone(), key.address(), market, Arc::new(catalogue), Arc::new(book), s.seller_config())?
            .with_ack_store(StoreAcks::new(store.clone(), market, key.address()).shared());
    let seller = Arc::new(seller);
    let info = SellerReady { account: key.address(), listen, items, registered_tx };
    ready(&info);

    let (limits, handshake) = (s.seller_config().limits, s.seller_config().timeouts.handshake);
    let stopped = Arc::new(Mutex::new(HashSet::new()));
    let settler =
        crate::data_settle::Settler { sender, store, market, seller: key.address(), stopped: stopped.clone() };
    let interval = Duration::from_millis(s.settle_interval_ms.max(50));
    let settling = tokio::spawn(async move { settler.run(interval).await });
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let (stream, peer) = accepted?;
                let (seller, stopped) = (seller.clone(), stopped.clone());
                tokio::spawn(async move {
                    let stream = match transport::accept(stream, limits, handshake).await {
                        Ok(stream) => stream,
                        Err(e) => return tracing::warn!(%peer, "connection refused: {e}"),
                    };
                    match seller.serve(stream).await {
                        Ok(served) => {
                            tracing::info!(%peer, order = %served.order_id, acked = served.acked, total = served.total, "transfer ended");
                            if let Ok(mut set) = stopped.lock() {
                                set.insert(served.order_id);
                            }
                        }
                        Err(e) => tracing::warn!(%peer, "connection ended: {e}"),
                    }
                });
            }
        }
    }
    settling.abort();
    Ok(())
}

/// Registers the seller (or updates its registration) when the registry does not already say this.
async fn register(sender: &Sender, market: Address, endpoint: &str, catalogue: &Catalogue) -> Result<Option<B256>> {
    let menu = serde_json::to_vec(&catalogue.items())?;
    let menu_hash = keccak256(&menu);
    let dm = DataMarket::new(market, sender.provider());
    let me = sender.address();
    let now = dm.getSeller(me).call().await?;
    let uri = String::new();
    let r = if !now.registered {
        sender.send(dm.register(endpoint.into(), me, menu_hash, uri)).await?
    } else if now.endpoint != endpoint || now.messageSigner != me || now.menuHash != menu_hash {
        sender.send(dm.update(endpoint.into(), me, menu_hash, uri)).await?
    } else {
        return Ok(None);
    };
    Ok(Some(r.transaction_hash))
}

/// Confirms on chain, as the seller whose key is `[data] seller_key`, that the off-chain order
/// `order_id` was paid: its seller (a running `agora seller` with `[data] off_chain`) then serves it.
pub async fn confirm_paid(config: &Config, chain: &DataChain, order_id: B256) -> Result<B256> {
    let key = agora_chain::signer_from_key(
        config.data.seller_key.as_deref().context("no seller key: set [data] seller_key or AGORA_DATA__SELLER_KEY")?,
    )?;
    let sender = crate::client::sender(&chain.rpc_url, &key).await?;
    let r = sender.send(DataMarket::new(chain.market, sender.provider()).confirmPaid(order_id)).await?;
    Ok(r.transaction_hash)
}

/// What `agora buyer` is asked to do.
#[derive(Debug, Clone)]
pub struct BuyRequest {
    /// The buyer's private key (0x hex): it escrows and signs its messages.
    pub key: String,
    /// The seller's account, as registered.
    pub seller: Address,
    /// The item's name on the seller's menu.
    pub item: String,
    /// Where the item is written; `<out>.order.json` keeps the order for `--resume`.
    pub out: PathBuf,
    /// Resume the order recorded beside `out` from its last ACK.
    pub resume: bool,
    /// A score 1 to 5 for the seller, given in the `exit` and on chain once the order is settled.
    pub rate: Option<u8>,
    /// Seconds from now (chain clock) to the order's deadline.
    pub deadline_secs: u64,
    /// Pay the seller outside the chain (the seed's "alipay"): nothing is escrowed, and the seller
    /// sends once it has confirmed the payment on chain.
    pub off_chain: bool,
}

/// A purchase's result.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BuyOutcome {
    /// The order.
    pub order_id: B256,
    /// The escrow transaction.
    pub escrow_tx: B256,
    /// The escrowed price.
    pub price: String,
    /// Bytes received in all, verified and acknowledged.
    pub received: u64,
    /// The item's size.
    pub total: u64,
    /// Everything received and the whole checked against the menu's hash.
    pub complete: bool,
    /// The buyer's `rate` transaction, when it rated.
    pub rate_tx: Option<B256>,
}

/// What the buyer keeps beside its output file to resume: the order, its escrow, the ACK key and
/// the last ACK.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct OrderRecord {
    order: Option<Order>,
    escrow_tx: B256,
    endpoint: String,
    message_signer: Address,
    ack_key: B256,
    last_ack: Option<(u64, alloy::primitives::Bytes)>,
}

fn record_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().map(std::ffi::OsStr::to_os_string).unwrap_or_default();
    name.push(".order.json");
    out.with_file_name(name)
}

impl OrderRecord {
    fn load(out: &Path) -> Result<Self> {
        let path = record_path(out);
        let text =
            std::fs::read(&path).with_context(|| format!("no order to resume: {} is missing", path.display()))?;
        serde_json::from_slice(&text).with_context(|| format!("{} is not an order record", path.display()))
    }

    fn save(&self, out: &Path) -> Result<()> {
        let path = record_path(out);
        let tmp = path.with_extension("tmp");
        // It holds the ACK key: readable by its owner only.
        let mut file = std::fs::OpenOptions::new();
        file.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
        std::io::Write::write_all(&mut file.open(&tmp)?, &serde_json::to_vec_pretty(self)?)?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))
    }

    fn last(&self) -> Result<Option<SignedAck>> {
        let (Some((received, sig)), Some(order)) = (&self.last_ack, &self.order) else { return Ok(None) };
        let signature: [u8; 65] = sig.as_ref().try_into().context("the recorded ACK's signature is not 65 bytes")?;
        Ok(Some(SignedAck { order_id: order.order_id, received: *received, signature }))
    }
}

/// Buys (or with `resume`, goes on buying) an item from a registered seller; `progress` hears every
/// step of the transfer.
pub async fn buy(chain: &DataChain, req: &BuyRequest, mut progress: impl FnMut(Progress)) -> Result<BuyOutcome> {
    ensure!(req.rate.is_none_or(|r| (1..=5).contains(&r)), "--rate takes 1 to 5");
    let key = agora_chain::signer_from_key(&req.key)?;
    let sender = crate::client::sender(&chain.rpc_url, &key).await?;
    let dm = DataMarket::new(chain.market, sender.provider());
    let (mut record, fresh) = if req.resume {
        let mut record = OrderRecord::load(&req.out)?;
        // The seller may have moved (a restart on another port): ask the registry again.
        let seller = record.order.as_ref().map_or(req.seller, |o| o.seller);
        let registered = dm.getSeller(seller).call().await?;
        ensure!(registered.registered, "{seller} is no longer a registered seller");
        record.endpoint = registered.endpoint;
        record.message_signer = registered.messageSigner;
        (record, false)
    } else {
        let registered = dm.getSeller(req.seller).call().await?;
        ensure!(registered.registered, "{} is not a registered seller", req.seller);
        let record = OrderRecord {
            order: None,
            escrow_tx: B256::ZERO,
            endpoint: registered.endpoint,
            message_signer: registered.messageSigner,
            ack_key: PrivateKeySigner::random().to_bytes(),
            last_ack: None,
        };
        (record, true)
    };
    if let Some(done) = already_bought(&record, req)? {
        // Everything was received and acknowledged before: nothing to fetch, only the rating left.
        return rate_finished(&sender, &dm, done, req.rate).await;
    }
    let ack_key = PrivateKeySigner::from_bytes(&record.ack_key)?;
    let buyer = Buyer {
        account: key.address(),
        message_key: key.clone(),
        ack_key,
        market: chain.market_ref(),
        config: BuyerConfig::default(),
    };
    let stream = transport::connect(&record.endpoint, buyer.config.limits)
        .await
        .with_context(|| format!("connecting to {}", record.endpoint))?;
    let mut session = buyer.connect(stream, Some(record.message_signer), record.last()?).await?;
    let order = if let (false, Some(order)) = (fresh, &record.order) {
        order.clone()
    } else {
        let item = session
            .menu()
            .items
            .iter()
            .find(|i| i.name == req.item)
            .cloned()
            .with_context(|| format!("the seller's menu has no item {:?}", req.item))?;
        let now = head_time(sender.provider()).await?;
        let nonce = U256::from_be_bytes(PrivateKeySigner::random().to_bytes().0);
        let order = buyer.order_for(&item, req.seller, now, nonce, now + req.deadline_secs);
        record.escrow_tx = open_order(&sender, chain.market, &order, req.off_chain).await?;
        record.order = Some(order.clone());
        record.save(&req.out)?;
        order
    };
    let rating = req.rate.map(|score| Rating { score, comment: String::new() });
    // Each ACK is kept in the record before it is sent: a buyer killed at any moment resumes from an
    // ACK at least as high as the seller's.
    session.keep_acks({
        let (mut kept, out) = (record.clone(), req.out.clone());
        Box::new(move |ack| {
            kept.last_ack = Some((ack.received, ack.signature.to_vec().into()));
            kept.save(&out).map_err(std::io::Error::other)
        })
    });
    let mut rx = session.progress();
    let result = {
        let bought = session.buy(&order, record.escrow_tx, &req.out, rating);
        tokio::pin!(bought);
        loop {
            tokio::select! {
                r = &mut bought => break r,
                changed = rx.changed() => {
                    if changed.is_ok() {
                        progress(*rx.borrow_and_update());
                    }
                }
            }
        }
    };
    if let Some(last) = session.last_ack() {
        record.last_ack = Some((last.received, last.signature.to_vec().into()));
        record.save(&req.out)?;
    }
    let bought = result?;
    let outcome = BuyOutcome {
        order_id: order.order_id,
        escrow_tx: record.escrow_tx,
        price: order.price.to_string(),
        received: bought.received,
        total: order.size,
        complete: bought.complete,
        rate_tx: None,
    };
    if !bought.complete {
        return Ok(outcome);
    }
    rate_finished(&sender, &dm, outcome, req.rate).await
}

/// The outcome of a resumed purchase whose every byte was already received, acknowledged and
/// written (the file whole and matching the item's hash); `None` when there is more to fetch.
fn already_bought(record: &OrderRecord, req: &BuyRequest) -> Result<Option<BuyOutcome>> {
    let (Some(order), Some((received, _))) = (&record.order, &record.last_ack) else { return Ok(None) };
    if *received < order.size {
        return Ok(None);
    }
    let (size, sha256) = agora_datastream::hash_file(&req.out)?;
    ensure!(
        size == order.size && sha256 == order.sha256,
        "{} does not hold the item the order acknowledges (its size or SHA-256 differs)",
        req.out.display()
    );
    Ok(Some(BuyOutcome {
        order_id: order.order_id,
        escrow_tx: record.escrow_tx,
        price: order.price.to_string(),
        received: *received,
        total: order.size,
        complete: true,
        rate_tx: None,
    }))
}

/// Rates the seller of a completed purchase on chain once its order is finished (the seller's
/// settlement ends a whole order at once); without a score, returns `outcome` as it is. A rating
/// given before is not given again.
async fn rate_finished<P: Provider>(
    sender: &Sender,
    dm: &DataMarket::DataMarketInstance<P>,
    mut outcome: BuyOutcome,
    score: Option<u8>,
) -> Result<BuyOutcome> {
    let Some(score) = score else { return Ok(outcome) };
    if wait_finished(dm, outcome.order_id).await? {
        return Ok(outcome);
    }
    let r = sender.send(dm.rate(outcome.order_id, score, B256::ZERO)).await?;
    outcome.rate_tx = Some(r.transaction_hash);
    Ok(outcome)
}

/// Opens `order` on chain: approves the token first when the allowance is short, escrows the price;
/// `off_chain`: escrows nothing (the seller confirms the payment on chain).
async fn open_order(sender: &Sender, market: Address, order: &Order, off_chain: bool) -> Result<B256> {
    let dm = DataMarket::new(market, sender.provider());
    let value = if off_chain {
        U256::ZERO
    } else if order.token == Address::ZERO {
        order.price
    } else {
        let token = MarketToken::new(order.token, sender.provider());
        if token.allowance(sender.address(), market).call().await? < order.price {
            sender.send(token.approve(market, order.price)).await?;
        }
        U256::ZERO
    };
    let call = dm
        .openOrder(
            order.seller,
            order.token,
            order.price,
            order.size,
            order.deadline,
            order.started_from,
            order.nonce,
            order.ack_signer,
            if off_chain { method::OFF_CHAIN } else { method::ESCROW },
        )
        .value(value);
    let r = sender.send(call).await?;
    Ok(r.transaction_hash)
}

/// Waits until the seller's settlement has finished the order (a rating needs a finished order);
/// says whether the buyer has rated it already.
async fn wait_finished<P: Provider>(dm: &DataMarket::DataMarketInstance<P>, order_id: B256) -> Result<bool> {
    let give_up = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let o = dm.getOrder(order_id).call().await?;
        if o.state != state::OPEN && o.state != state::ENDING {
            return Ok(o.ratedByBuyer);
        }
        if tokio::time::Instant::now() > give_up {
            bail!(
                "order {order_id} was not settled within 2 minutes; rate it later with `agora buyer --resume --rate N`"
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
