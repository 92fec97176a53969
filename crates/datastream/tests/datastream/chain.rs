//! The order book over the chain: `DataMarket` on anvil, read by [`ChainOrderBook`] — an order's
//! terms and depth, a transaction that holds no such order, and a seller that waits for the depth
//! and refuses terms that are not the escrowed ones.

use std::sync::Arc;
use std::time::Duration;

use agora_chain::bindings::DataMarket;
use agora_chain::testing::{BUYER, PROVIDER, TestChain, send};
use agora_datastream::message::Order;
use agora_datastream::{
    Buyer, BuyerConfig, Catalogue, ChainOrderBook, Error, Limits, MarketRef, OrderBook, Payment, Price, Seller,
    SellerConfig, Terms,
};
use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;

use super::common::{CHUNK, SESSION_KEY, content, key, seller_config, short_timeouts};

const PRICE: u64 = 1_000_000;

struct Rig {
    tc: TestChain,
    market: MarketRef,
    book: ChainOrderBook,
    buyer: Buyer,
    catalogue: Arc<Catalogue>,
    item: agora_datastream::message::Item,
    content: Vec<u8>,
    dir: tempfile::TempDir,
}

impl Rig {
    async fn new() -> anyhow::Result<Self> {
        let tc = TestChain::start().await?;
        let address = tc.d.data_market.ok_or_else(|| anyhow::anyhow!("no DataMarket deployed"))?;
        let market = MarketRef { chain_id: tc.d.chain_id, address };
        let book = ChainOrderBook::new(tc.provider(PROVIDER), address);
        let dir = tempfile::tempdir()?;
        let content = content(5 * CHUNK as usize + 17, 0xc4a1);
        let path = dir.path().join("data.bin");
        std::fs::write(&path, &content)?;
        let mut catalogue = Catalogue::new();
        let terms = Terms { price: Price::Fixed(U256::from(PRICE)), token: Address::ZERO, chunk_size: CHUNK };
        let item = catalogue.add_file("data.bin", &path, terms).await?.clone();
        let buyer_key = tc.key(BUYER);
        let buyer = Buyer {
            account: buyer_key.address(),
            message_key: buyer_key,
            ack_key: key(SESSION_KEY),
            market,
            config: BuyerConfig { limits: Limits::default(), timeouts: short_timeouts() },
        };
        Ok(Self { tc, market, book, buyer, catalogue: Arc::new(catalogue), item, content, dir })
    }

    fn seller(&self, confirmations: u64, escrow: Duration) -> anyhow::Result<Arc<Seller<ChainOrderBook>>> {
        let config = SellerConfig {
            confirmations,
            timeouts: agora_datastream::Timeouts { escrow, ..short_timeouts() },
            ..seller_config()
        };
        Ok(Arc::new(self.seller_with(config)?))
    }

    /// The seller confirms on chain that `order` was paid off chain.
    async fn confirm_paid(&self, order: &Order) -> anyhow::Result<()> {
        let dm = DataMarket::new(self.market.address, self.tc.provider(PROVIDER));
        send(dm.confirmPaid(order.order_id)).await?;
        Ok(())
    }

    fn seller_with(&self, config: SellerConfig) -> anyhow::Result<Seller<ChainOrderBook>> {
        let key = self.tc.key(PROVIDER);
        Ok(Seller::new(
            key.clone(),
            key.address(),
            self.market,
            self.catalogue.clone(),
            Arc::new(self.book.clone()),
            config,
        )?)
    }

    async fn now(&self) -> anyhow::Result<u64> {
        let head = self.tc.provider(BUYER).get_block(alloy::eips::BlockId::latest()).await?;
        Ok(head.ok_or_else(|| anyhow::anyhow!("no head"))?.header.timestamp)
    }

    fn order(&self, nonce: u64, now: u64) -> Order {
        self.buyer.order_for(&self.item, self.tc.address(PROVIDER), now, U256::from(nonce), now + 3600)
    }

    /// Opens `order` on chain as the buyer, escrowing `price` with `method` (0 escrow, 1 off chain);
    /// the escrow transaction's hash.
    async fn open(&self, order: &Order, price: U256, method: u8) -> anyhow::Result<B256> {
        let dm = DataMarket::new(self.market.address, self.tc.provider(BUYER));
        let value = if method == 0 { price } else { U256::ZERO };
        let call = dm
            .openOrder(
                order.seller,
                order.token,
                price,
                order.size,
                order.deadline,
                order.started_from,
                order.nonce,
                order.ack_signer,
                method,
            )
            .value(value);
        Ok(send(call).await?.transaction_hash)
    }

    async fn register(&self) -> anyhow::Result<()> {
        let dm = DataMarket::new(self.market.address, self.tc.provider(PROVIDER));
        send(dm.register("127.0.0.1:1".into(), self.tc.address(PROVIDER), B256::repeat_byte(7), String::new())).await?;
        Ok(())
    }

    async fn mine(&self) -> anyhow::Result<()> {
        self.tc.provider(BUYER).raw_request::<_, serde_json::Value>("evm_mine".into(), ()).await?;
        Ok(())
    }

    /// A purchase of `order` over a duplex from `seller`: the buyer's and the seller's results.
    async fn buy(
        &self,
        seller: Arc<Seller<ChainOrderBook>>,
        order: &Order,
        tx: B256,
    ) -> anyhow::Result<(
        agora_datastream::Result<agora_datastream::Bought>,
        agora_datastream::Result<agora_datastream::Served>,
    )> {
        let (a, b) = tokio::io::duplex(64 * 1024);
        let served = tokio::spawn(async move { seller.serve(a).await });
        let out = self.dir.path().join(format!("{}.bin", order.order_id));
        let bought = match self.buyer.connect(b, Some(self.tc.address(PROVIDER)), None).await {
            Ok(mut session) => session.buy(order, tx, &out, None).await,
            Err(e) => Err(e),
        };
        Ok((bought, served.await?))
    }
}

#[tokio::test]
async fn the_chain_order_book_reads_terms_and_depth() -> anyhow::Result<()> {
    let rig = Rig::new().await?;
    rig.register().await?;
    let now = rig.now().await?;
    let order = rig.order(1, now);
    let tx = rig.open(&order, U256::from(PRICE), 0).await?;

    let found = rig.book.order(order.order_id, tx).await.map_err(anyhow::Error::msg)?;
    let found = found.ok_or_else(|| anyhow::anyhow!("the escrowed order is not found"))?;
    assert_eq!(
        (found.buyer, found.seller, found.total, found.price, found.token, found.ack_signer, found.deadline),
        (order.buyer, order.seller, order.size, order.price, order.token, order.ack_signer, order.deadline)
    );
    assert!(found.payment == Payment::Escrowed && !found.finished);
    assert_eq!(found.confirmations, 1, "just mined");
    rig.mine().await?;
    rig.mine().await?;
    let found = rig.book.order(order.order_id, tx).await.map_err(anyhow::Error::msg)?;
    assert_eq!(found.map(|o| o.confirmations), Some(3), "two blocks on top");

    // Another order's id with this transaction, and a transaction that does not exist: not found.
    let other = rig.order(2, now);
    assert_eq!(rig.book.order(other.order_id, tx).await.map_err(anyhow::Error::msg)?, None);
    assert_eq!(rig.book.order(order.order_id, B256::repeat_byte(9)).await.map_err(anyhow::Error::msg)?, None);

    // An off-chain-paid order is found, not escrowed, and open until the seller confirms it paid.
    let tx = rig.open(&other, U256::from(PRICE), 1).await?;
    let found = rig.book.order(other.order_id, tx).await.map_err(anyhow::Error::msg)?;
    assert_eq!(found.map(|o| (o.payment, o.finished)), Some((Payment::OffChainUnconfirmed, false)));
    rig.confirm_paid(&other).await?;
    let found = rig.book.order(other.order_id, tx).await.map_err(anyhow::Error::msg)?;
    assert_eq!(found.map(|o| (o.payment, o.finished)), Some((Payment::OffChainPaid, false)));
    Ok(())
}

#[tokio::test]
async fn a_seller_waits_for_the_depth_and_refuses_other_terms() -> anyhow::Result<()> {
    let rig = Rig::new().await?;
    rig.register().await?;
    let now = rig.now().await?;

    // Not deep enough: one block of two, and nobody mines while the seller waits.
    let order = rig.order(1, now);
    let tx = rig.open(&order, U256::from(PRICE), 0).await?;
    let (bought, served) = rig.buy(rig.seller(2, Duration::from_millis(300))?, &order, tx).await?;
    assert!(bought.is_err(), "nothing was bought: {bought:?}");
    assert!(
        matches!(&served, Err(Error::EscrowNotConfirmed { reason, .. }) if reason.contains("1 of 2")),
        "{served:?}"
    );

    // One more block: the same order is served whole.
    rig.mine().await?;
    let (bought, served) = rig.buy(rig.seller(2, Duration::from_secs(20))?, &order, tx).await?;
    let bought = bought?;
    assert!(bought.complete, "{bought:?}");
    assert_eq!(served?.acked, rig.item.size);
    assert_eq!(std::fs::read(rig.dir.path().join(format!("{}.bin", order.order_id)))?, rig.content);

    // Escrowed for less than the menu's price: refused before a byte is sent.
    let cheap = rig.order(2, now);
    let tx = rig.open(&cheap, U256::from(PRICE - 1), 0).await?;
    let (bought, served) = rig.buy(rig.seller(1, Duration::from_secs(20))?, &cheap, tx).await?;
    assert!(bought.is_err(), "{bought:?}");
    assert!(matches!(&served, Err(Error::OrderRefused(m)) if m.contains("price")), "{served:?}");

    // Paid off chain: this seller serves escrowed orders only.
    let off = rig.order(3, now);
    let tx = rig.open(&off, U256::from(PRICE), 1).await?;
    let (_, served) = rig.buy(rig.seller(1, Duration::from_secs(20))?, &off, tx).await?;
    assert!(matches!(&served, Err(Error::OrderRefused(m)) if m.contains("off chain")), "{served:?}");
    Ok(())
}

#[tokio::test]
async fn an_off_chain_order_is_served_once_the_seller_confirms_it_paid() -> anyhow::Result<()> {
    let rig = Rig::new().await?;
    rig.register().await?;
    let now = rig.now().await?;
    let off_chain = |escrow: Duration| -> anyhow::Result<Arc<Seller<ChainOrderBook>>> {
        Ok(Arc::new(rig.seller_with(SellerConfig {
            confirmations: 1,
            off_chain: true,
            timeouts: agora_datastream::Timeouts { escrow, ..short_timeouts() },
            ..seller_config()
        })?))
    };
    let order = rig.order(1, now);
    let tx = rig.open(&order, U256::from(PRICE), 1).await?;
    // Not confirmed: the seller waits, sends nothing, and gives up after its escrow timeout.
    let (bought, served) = rig.buy(off_chain(Duration::from_millis(300))?, &order, tx).await?;
    assert!(bought.is_err(), "nothing was bought: {bought:?}");
    assert!(
        matches!(&served, Err(Error::EscrowNotConfirmed { reason, .. }) if reason.contains("not confirmed")),
        "{served:?}"
    );
    // Confirmed paid on chain: the same order is served whole; nothing was escrowed, nothing settles.
    rig.confirm_paid(&order).await?;
    let (bought, served) = rig.buy(off_chain(Duration::from_secs(20))?, &order, tx).await?;
    assert!(bought?.complete);
    assert_eq!(served?.acked, rig.item.size);
    assert_eq!(std::fs::read(rig.dir.path().join(format!("{}.bin", order.order_id)))?, rig.content);
    let on_chain = DataMarket::new(rig.market.address, rig.tc.provider(BUYER)).getOrder(order.order_id).call().await?;
    assert_eq!(on_chain.state, 4, "Paid: the order stays as the seller confirmed it");
    Ok(())
}
