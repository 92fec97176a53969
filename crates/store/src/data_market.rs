//! The data market as indexed from the `DataMarket` contract's logs: the sellers' registry, orders
//! with their terms and settlement, and the ratings the parties gave each other. All of it is
//! derived state (a reorg rebuilds it); the rows here change only through [`apply`], which
//! `crate::apply` calls for the data market's events. The one table of the data market the node
//! owns, a seller's highest ACK per order, is `crate::data_acks`.

use alloy::primitives::{Address, B256, U256};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::column::{self, amount, amount_opt, i64_of, parsed, parsed_opt, stored_enum, u64_of};
use crate::{Error, LogMeta, MarketEvent, Result, Store};

stored_enum! {
    /// How a data order is paid (the contract's `PaymentMethod`).
    pub enum PaymentMethod {
        /// The price is held by the contract and paid out in proportion to what was delivered.
        Escrow => "Escrow",
        /// Nothing is held; the parties settle outside the chain and the seller confirms it.
        OffChain => "OffChain",
    }
}

stored_enum! {
    /// Where a data order stands on chain (the contract's `OrderState`, less `None`).
    pub enum OrderState {
        /// Data may flow.
        Open => "Open",
        /// A party ended it; a later ACK may still be presented until it can be settled.
        Ending => "Ending",
        /// The escrow was paid out.
        Settled => "Settled",
        /// The seller confirmed the off-chain payment.
        Paid => "Paid",
        /// An off-chain order that was never confirmed; finished.
        Expired => "Expired",
    }
}

/// Ratings a party received: how many and the sum of the scores (the mean is `score_sum / count`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RatingSummary {
    /// How many ratings.
    pub count: u64,
    /// The sum of their scores (each 1 to 5).
    pub score_sum: u64,
}

/// A seller as registered, with the ratings buyers gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SellerRow {
    /// The seller's account.
    pub seller: Address,
    /// Where buyers reach it (`host:port` or a URL).
    pub endpoint: String,
    /// The key that signs its protocol messages.
    pub message_signer: Address,
    /// The hash of its menu.
    pub menu_hash: B256,
    /// Where its menu is found.
    pub menu_uri: String,
    /// `false` once it left the registry (its orders go on; no new order may name it).
    pub registered: bool,
    /// The block it first registered in.
    pub registered_block: u64,
    /// The block of its latest change.
    pub updated_block: u64,
    /// What its buyers gave it.
    pub rating: RatingSummary,
}

/// A data order with the terms it was opened with and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRow {
    /// Its id.
    pub order_id: B256,
    /// Who bought.
    pub buyer: Address,
    /// Who sells.
    pub seller: Address,
    /// The payment token; `Address::ZERO` for ETH.
    pub token: Address,
    /// The price of the whole, smallest unit.
    pub price: U256,
    /// The size of the whole, bytes.
    pub total_bytes: u64,
    /// Unix seconds: the order's deadline (brought forward to when it was ended, if earlier).
    pub deadline: u64,
    /// Unix seconds the buyer started it at (part of its id).
    pub started_from: u64,
    /// The buyer's nonce (part of its id).
    pub nonce: U256,
    /// The key whose ACKs count.
    pub ack_signer: Address,
    /// How it is paid.
    pub method: PaymentMethod,
    /// Where it stands.
    pub state: OrderState,
    /// The highest figure of bytes received on record (0 until a party presents one).
    pub received: u64,
    /// Who ended it, once ended.
    pub ended_by: Option<Address>,
    /// Unix seconds from which it may be settled, once ended.
    pub settle_at: Option<u64>,
    /// What the seller received, once settled.
    pub paid_to_seller: Option<U256>,
    /// What went back to the buyer, once settled.
    pub refunded_to_buyer: Option<U256>,
    /// The block it was opened in.
    pub opened_block: u64,
    /// The transaction that opened it.
    pub opened_tx: B256,
    /// Unix seconds (block time) it was opened at.
    pub opened_at: u64,
    /// The block of its latest change.
    pub updated_block: u64,
}

/// One party's rating of the other after an order finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingRow {
    /// The order.
    pub order_id: B256,
    /// Who rated.
    pub rater: Address,
    /// Who was rated.
    pub rated: Address,
    /// `true` when the rated party was the order's seller.
    pub as_seller: bool,
    /// From 1 to 5.
    pub score: u64,
    /// The hash of the comment, kept off chain.
    pub comment_hash: B256,
    /// The block it was given in.
    pub rated_block: u64,
}

/// Which orders to list: `None` matches any.
#[derive(Debug, Clone, Copy, Default)]
pub struct OrderFilter {
    /// Only this buyer's orders.
    pub buyer: Option<Address>,
    /// Only this seller's orders.
    pub seller: Option<Address>,
}

const SELLER_SELECT: &str = "SELECT s.seller, s.endpoint, s.message_signer, s.menu_hash, s.menu_uri, s.registered, \
     s.registered_block, s.updated_block, \
     (SELECT COUNT(*) FROM data_ratings r WHERE r.chain_id = s.chain_id AND r.rated = s.seller AND r.as_seller = 1), \
     (SELECT CAST(COALESCE(SUM(r.score), 0) AS BIGINT) FROM data_ratings r WHERE r.chain_id = s.chain_id \
     AND r.rated = s.seller AND r.as_seller = 1) FROM data_sellers s";

fn seller_row(r: &AnyRow) -> Result<SellerRow> {
    Ok(SellerRow {
        seller: parsed(r, 0, "seller")?,
        endpoint: r.try_get(1)?,
        message_signer: parsed(r, 2, "seller message signer")?,
        menu_hash: parsed(r, 3, "seller menu hash")?,
        menu_uri: r.try_get(4)?,
        registered: r.try_get::<i64, _>(5)? != 0,
        registered_block: u64_of(r.try_get(6)?),
        updated_block: u64_of(r.try_get(7)?),
        rating: RatingSummary { count: u64_of(r.try_get(8)?), score_sum: u64_of(r.try_get(9)?) },
    })
}

const ORDER_SELECT: &str = "SELECT order_id, buyer, seller, token, price, total_bytes, deadline, started_from, nonce, \
     ack_signer, method, state, received, ended_by, settle_at, paid_to_seller, refunded_to_buyer, opened_block, \
     opened_tx, opened_at, updated_block FROM data_orders";

fn order_row(r: &AnyRow) -> Result<OrderRow> {
    Ok(OrderRow {
        order_id: parsed(r, 0, "order id")?,
        buyer: parsed(r, 1, "order buyer")?,
        seller: parsed(r, 2, "order seller")?,
        token: parsed(r, 3, "order token")?,
        price: amount(r, 4, "order price")?,
        total_bytes: u64_of(r.try_get(5)?),
        deadline: u64_of(r.try_get(6)?),
        started_from: u64_of(r.try_get(7)?),
        nonce: amount(r, 8, "order nonce")?,
        ack_signer: parsed(r, 9, "order ACK signer")?,
        method: parsed(r, 10, "order payment method")?,
        state: parsed(r, 11, "order state")?,
        received: u64_of(r.try_get(12)?),
        ended_by: parsed_opt(r, 13, "order ended by")?,
        settle_at: r.try_get::<Option<i64>, _>(14)?.map(u64_of),
        paid_to_seller: amount_opt(r, 15, "order payout")?,
        refunded_to_buyer: amount_opt(r, 16, "order refund")?,
        opened_block: u64_of(r.try_get(17)?),
        opened_tx: parsed(r, 18, "order transaction")?,
        opened_at: u64_of(r.try_get(19)?),
        updated_block: u64_of(r.try_get(20)?),
    })
}

fn rating_row(r: &AnyRow) -> Result<RatingRow> {
    Ok(RatingRow {
        order_id: parsed(r, 0, "rated order")?,
        rater: parsed(r, 1, "rater")?,
        rated: parsed(r, 2, "rated party")?,
        as_seller: r.try_get::<i64, _>(3)? != 0,
        score: u64_of(r.try_get(4)?),
        comment_hash: parsed(r, 5, "rating comment hash")?,
        rated_block: u64_of(r.try_get(6)?),
    })
}

impl Store {
    /// Sellers in the registry with their ratings, those still registered first, then by address;
    /// `registered_only` leaves out those that left.
    pub async fn data_sellers(&self, chain_id: u64, registered_only: bool, limit: u32) -> Result<Vec<SellerRow>> {
        let sql = format!(
            "{SELLER_SELECT} WHERE s.chain_id = $1 AND (s.registered = 1 OR $2 = 0) \
             ORDER BY s.registered DESC, s.seller LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(i64::from(registered_only))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(seller_row).collect()
    }

    /// One seller, registered or not, with its ratings.
    pub async fn data_seller(&self, chain_id: u64, seller: Address) -> Result<Option<SellerRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELLER_SELECT} WHERE s.chain_id = $1 AND s.seller = $2")))
            .bind(i64_of(chain_id)?)
            .bind(column::hex(seller))
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(seller_row).transpose()
    }

    /// One order.
    pub async fn data_order(&self, chain_id: u64, order_id: B256) -> Result<Option<OrderRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{ORDER_SELECT} WHERE chain_id = $1 AND order_id = $2")))
            .bind(i64_of(chain_id)?)
            .bind(column::hex(order_id))
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(order_row).transpose()
    }

    /// Orders by buyer and/or seller, newest first.
    pub async fn data_orders(&self, chain_id: u64, filter: OrderFilter, limit: u32) -> Result<Vec<OrderRow>> {
        let sql = format!(
            "{ORDER_SELECT} WHERE chain_id = $1 AND ($2 = '' OR buyer = $2) AND ($3 = '' OR seller = $3) \
             ORDER BY opened_block DESC, order_id LIMIT $4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(filter.buyer.map(column::hex).unwrap_or_default())
            .bind(filter.seller.map(column::hex).unwrap_or_default())
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(order_row).collect()
    }

    /// The ratings given on one order (at most one per party), the buyer's first.
    pub async fn data_order_ratings(&self, chain_id: u64, order_id: B256) -> Result<Vec<RatingRow>> {
        let rows = sqlx::query(
            "SELECT order_id, rater, rated, as_seller, score, comment_hash, rated_block FROM data_ratings \
             WHERE chain_id = $1 AND order_id = $2 ORDER BY as_seller DESC",
        )
        .bind(i64_of(chain_id)?)
        .bind(column::hex(order_id))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(rating_row).collect()
    }

    /// The ratings `party` received, newest first.
    pub async fn data_ratings_of(&self, chain_id: u64, party: Address, limit: u32) -> Result<Vec<RatingRow>> {
        let rows = sqlx::query(
            "SELECT order_id, rater, rated, as_seller, score, comment_hash, rated_block FROM data_ratings \
             WHERE chain_id = $1 AND rated = $2 ORDER BY rated_block DESC, order_id LIMIT $3",
        )
        .bind(i64_of(chain_id)?)
        .bind(column::hex(party))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(rating_row).collect()
    }
}

/// The tables [`apply`] derives, emptied before a rebuild.
pub(crate) const DERIVED_TABLES: [&str; 3] = ["data_ratings", "data_orders", "data_sellers"];

/// Applies one of the data market's events and returns the rows it changed. Called by
/// `crate::apply`, in the transaction that stores the log, for the data market's events only.
pub(crate) async fn apply(
    tx: &mut Transaction<'_, Any>,
    chain: i64,
    block: i64,
    meta: &LogMeta,
    event: &MarketEvent,
) -> Result<u64> {
    let q = |sql: &'static str| sqlx::query(sql);
    let done = match event {
        MarketEvent::SellerRegistered { seller, endpoint, message_signer, menu_hash, menu_uri } => {
            q("INSERT INTO data_sellers (chain_id, seller, endpoint, message_signer, menu_hash, menu_uri, registered, \
             registered_block, updated_block) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) \
             ON CONFLICT (chain_id, seller) DO UPDATE SET endpoint = excluded.endpoint, \
             message_signer = excluded.message_signer, menu_hash = excluded.menu_hash, menu_uri = excluded.menu_uri, \
             registered = 1, updated_block = excluded.updated_block")
            .bind(chain)
            .bind(seller)
            .bind(endpoint)
            .bind(message_signer)
            .bind(menu_hash)
            .bind(menu_uri)
            .bind(block)
        }
        MarketEvent::SellerUpdated { seller, endpoint, message_signer, menu_hash, menu_uri } => {
            q("UPDATE data_sellers SET endpoint = $1, message_signer = $2, menu_hash = $3, menu_uri = $4, \
             updated_block = $5 WHERE chain_id = $6 AND seller = $7 AND registered = 1")
            .bind(endpoint)
            .bind(message_signer)
            .bind(menu_hash)
            .bind(menu_uri)
            .bind(block)
            .bind(chain)
            .bind(seller)
        }
        MarketEvent::SellerDeregistered { seller } => {
            q("UPDATE data_sellers SET registered = 0, updated_block = $1 WHERE chain_id = $2 AND seller = $3 \
             AND registered = 1")
            .bind(block)
            .bind(chain)
            .bind(seller)
        }
        MarketEvent::OrderOpened {
            order_id,
            buyer,
            seller,
            token,
            price,
            total_bytes,
            deadline,
            started_from,
            nonce,
            ack_signer,
            method,
        } => {
            let method: PaymentMethod = method
                .parse()
                .map_err(|e| Error::Inconsistent(format!("order {order_id} opened with payment method: {e}")))?;
            q("INSERT INTO data_orders (chain_id, order_id, buyer, seller, token, price, total_bytes, deadline, \
               started_from, nonce, ack_signer, method, state, received, opened_block, opened_tx, opened_at, \
               updated_block) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, $14, $15, $16, $14)")
            .bind(chain)
            .bind(order_id)
            .bind(buyer)
            .bind(seller)
            .bind(token)
            .bind(price)
            .bind(i64_of(*total_bytes)?)
            .bind(i64_of(*deadline)?)
            .bind(i64_of(*started_from)?)
            .bind(nonce)
            .bind(ack_signer)
            .bind(method.as_str())
            .bind(OrderState::Open.as_str())
            .bind(block)
            .bind(&meta.tx_hash)
            .bind(i64_of(meta.block_timestamp)?)
        }
        MarketEvent::OrderEnded { order_id, by, received, settle_at } => {
            q("UPDATE data_orders SET state = $1, ended_by = $2, received = $3, settle_at = $4, updated_block = $5 \
             WHERE chain_id = $6 AND order_id = $7 AND state = 'Open'")
            .bind(OrderState::Ending.as_str())
            .bind(by)
            .bind(i64_of(*received)?)
            .bind(i64_of(*settle_at)?)
            .bind(block)
            .bind(chain)
            .bind(order_id)
        }
        MarketEvent::OrderChallenged { order_id, received, .. } => {
            q("UPDATE data_orders SET received = $1, updated_block = $2 WHERE chain_id = $3 AND order_id = $4 \
             AND state = 'Ending'")
            .bind(i64_of(*received)?)
            .bind(block)
            .bind(chain)
            .bind(order_id)
        }
        MarketEvent::OrderSettled { order_id, received, paid_to_seller, refunded_to_buyer } => {
            q("UPDATE data_orders SET state = $1, received = $2, paid_to_seller = $3, refunded_to_buyer = $4, \
             updated_block = $5 WHERE chain_id = $6 AND order_id = $7 AND state IN ('Open', 'Ending')")
            .bind(OrderState::Settled.as_str())
            .bind(i64_of(*received)?)
            .bind(paid_to_seller)
            .bind(refunded_to_buyer)
            .bind(block)
            .bind(chain)
            .bind(order_id)
        }
        MarketEvent::OrderConfirmedPaid { order_id } => finish(OrderState::Paid, order_id, chain, block),
        MarketEvent::OrderExpired { order_id } => finish(OrderState::Expired, order_id, chain, block),
        MarketEvent::OrderRated { order_id, rater, rated, score, comment_hash } => q(
            "INSERT INTO data_ratings (chain_id, order_id, rater, rated, as_seller, score, comment_hash, rated_block) \
             SELECT $1, $2, $3, $4, CASE WHEN seller = $4 THEN 1 ELSE 0 END, $5, $6, $7 FROM data_orders \
             WHERE chain_id = $1 AND order_id = $2",
        )
        .bind(chain)
        .bind(order_id)
        .bind(rater)
        .bind(rated)
        .bind(i64_of(*score)?)
        .bind(comment_hash)
        .bind(block),
        other => return Err(Error::Inconsistent(format!("{} is not a data market event", other.kind()))),
    };
    Ok(done.execute(&mut **tx).await?.rows_affected())
}

/// An off-chain order's end: confirmed paid or expired.
fn finish<'q>(
    state: OrderState,
    order_id: &'q str,
    chain: i64,
    block: i64,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
    sqlx::query(
        "UPDATE data_orders SET state = $1, updated_block = $2 WHERE chain_id = $3 AND order_id = $4 \
         AND state = 'Open' AND method = 'OffChain'",
    )
    .bind(state.as_str())
    .bind(block)
    .bind(chain)
    .bind(order_id)
}
