//! Data-market endpoints: the sellers' registry with their ratings, and data orders with their terms,
//! settlement and ratings, as indexed from the `DataMarket` contract. Read only: buyers and sellers
//! act on chain and between themselves (the data-stream protocol), never through this node.

use agora_store::{OrderFilter, OrderRow, OrderState, PaymentMethod, RatingRow, SellerRow};
use alloy::primitives::B256;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::ErrorBody;
use crate::{ApiError, AppState, params};

type ApiResult<T> = Result<Json<T>, ApiError>;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/data/sellers", get(sellers))
        .route("/api/data/sellers/{address}", get(seller))
        .route("/api/data/orders", get(orders))
        .route("/api/data/orders/{id}", get(order))
}

/// Addresses and hashes as this API writes them: lower-case `0x` hex.
fn lower_hex(v: impl std::fmt::LowerHex) -> String {
    format!("{v:#x}")
}

/// Ratings received: how many and the sum of their scores (1 to 5 each).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RatingSummary)]
struct RatingSummaryDto {
    count: u64,
    score_sum: u64,
}

/// A seller in the registry.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = DataSeller)]
struct SellerDto {
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    address: String,
    /// Where buyers connect (`host:port` or a URL).
    endpoint: String,
    /// The key that signs the seller's protocol messages.
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    message_signer: String,
    #[schema(pattern = "^0x[0-9a-f]{64}$")]
    menu_hash: String,
    menu_uri: String,
    /// `false` once it left the registry.
    registered: bool,
    /// What its buyers gave it.
    rating: RatingSummaryDto,
}

fn seller_dto(s: SellerRow) -> SellerDto {
    SellerDto {
        address: lower_hex(s.seller),
        endpoint: s.endpoint,
        message_signer: lower_hex(s.message_signer),
        menu_hash: lower_hex(s.menu_hash),
        menu_uri: s.menu_uri,
        registered: s.registered,
        rating: RatingSummaryDto { count: s.rating.count, score_sum: s.rating.score_sum },
    }
}

/// One party's rating of the other.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = DataRating)]
struct RatingDto {
    #[schema(pattern = "^0x[0-9a-f]{64}$")]
    order_id: String,
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    rater: String,
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    rated: String,
    /// `true`: the buyer rated the seller.
    as_seller: bool,
    #[schema(minimum = 1, maximum = 5)]
    score: u64,
    /// The hash of the comment, kept off chain.
    #[schema(pattern = "^0x[0-9a-f]{64}$")]
    comment_hash: String,
}

fn rating_dto(r: RatingRow) -> RatingDto {
    RatingDto {
        order_id: lower_hex(r.order_id),
        rater: lower_hex(r.rater),
        rated: lower_hex(r.rated),
        as_seller: r.as_seller,
        score: r.score,
        comment_hash: lower_hex(r.comment_hash),
    }
}

/// A data order.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = DataOrder)]
struct OrderDto {
    #[schema(pattern = "^0x[0-9a-f]{64}$")]
    id: String,
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    buyer: String,
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    seller: String,
    /// `0x000…0` for ETH.
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    token: String,
    /// The price of the whole, smallest unit.
    #[schema(pattern = "^[0-9]+$")]
    price: String,
    total_bytes: u64,
    /// Unix seconds; brought forward to when the order was ended, if earlier.
    deadline: u64,
    started_from: u64,
    #[schema(pattern = "^[0-9]+$")]
    nonce: String,
    /// The key whose ACKs count.
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    ack_signer: String,
    method: MethodDto,
    state: OrderStateDto,
    /// The highest figure of bytes received on record.
    received: u64,
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    ended_by: Option<String>,
    /// Unix seconds from which it may be settled, once ended.
    settle_at: Option<u64>,
    #[schema(pattern = "^[0-9]+$")]
    paid_to_seller: Option<String>,
    #[schema(pattern = "^[0-9]+$")]
    refunded_to_buyer: Option<String>,
    opened_block: u64,
    #[schema(pattern = "^0x[0-9a-f]{64}$")]
    opened_tx: String,
    opened_at: u64,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = DataPaymentMethod)]
enum MethodDto {
    Escrow,
    OffChain,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = DataOrderState)]
enum OrderStateDto {
    Open,
    Ending,
    Settled,
    Paid,
    Expired,
}

fn order_dto(o: OrderRow) -> OrderDto {
    OrderDto {
        id: lower_hex(o.order_id),
        buyer: lower_hex(o.buyer),
        seller: lower_hex(o.seller),
        token: lower_hex(o.token),
        price: o.price.to_string(),
        total_bytes: o.total_bytes,
        deadline: o.deadline,
        started_from: o.started_from,
        nonce: o.nonce.to_string(),
        ack_signer: lower_hex(o.ack_signer),
        method: match o.method {
            PaymentMethod::Escrow => MethodDto::Escrow,
            PaymentMethod::OffChain => MethodDto::OffChain,
        },
        state: match o.state {
            OrderState::Open => OrderStateDto::Open,
            OrderState::Ending => OrderStateDto::Ending,
            OrderState::Settled => OrderStateDto::Settled,
            OrderState::Paid => OrderStateDto::Paid,
            OrderState::Expired => OrderStateDto::Expired,
        },
        received: o.received,
        ended_by: o.ended_by.map(lower_hex),
        settle_at: o.settle_at,
        paid_to_seller: o.paid_to_seller.map(|a| a.to_string()),
        refunded_to_buyer: o.refunded_to_buyer.map(|a| a.to_string()),
        opened_block: o.opened_block,
        opened_tx: lower_hex(o.opened_tx),
        opened_at: o.opened_at,
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct SellersQuery {
    /// also those that left the registry (default false)
    all: Option<bool>,
    /// at most this many (default 100)
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// Data sellers in the registry
#[utoipa::path(get, path = "/api/data/sellers", tag = "data", params(SellersQuery),
    summary = "Data sellers with their ratings: those registered, by address (with all=true also those that left, after them)",
    responses(
        (status = 200, description = "ok", body = Vec<SellerDto>),
        (status = 400, description = "a malformed query", body = ErrorBody),
    ),
)]
async fn sellers(
    State(s): State<AppState>,
    q: Result<Query<SellersQuery>, QueryRejection>,
) -> ApiResult<Vec<SellerDto>> {
    let Query(q) = q?;
    let limit = params::limit(q.limit, 100, 1000)?;
    let rows = s.store.data_sellers(s.network.chain_id, !q.all.unwrap_or(false), limit).await?;
    Ok(Json(rows.into_iter().map(seller_dto).collect()))
}

/// A seller with the ratings it received
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = DataSellerDetail)]
struct SellerDetailDto {
    seller: SellerDto,
    /// The latest ratings its buyers gave it (at most 50), newest first.
    ratings: Vec<RatingDto>,
}

/// One data seller
#[utoipa::path(get, path = "/api/data/sellers/{address}", tag = "data",
    params(("address" = String, Path, description = "the seller's address, 0x hex", pattern = "^0x[0-9a-fA-F]{40}$")),
    responses(
        (status = 200, description = "ok", body = SellerDetailDto),
        (status = 400, description = "malformed address", body = ErrorBody),
        (status = 404, description = "never registered", body = ErrorBody),
    ),
)]
async fn seller(State(s): State<AppState>, a: Result<Path<String>, PathRejection>) -> ApiResult<SellerDetailDto> {
    let Path(raw) = a?;
    let address = params::address("seller", &raw)?;
    let chain = s.network.chain_id;
    let row = s.store.data_seller(chain, address).await?;
    let row = row.ok_or_else(|| ApiError::NotFound(format!("{address} never registered as a data seller")))?;
    let ratings = s.store.data_ratings_of(chain, address, 50).await?;
    Ok(Json(SellerDetailDto {
        seller: seller_dto(row),
        ratings: ratings.into_iter().filter(|r| r.as_seller).map(rating_dto).collect(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct OrdersQuery {
    /// bought by (0x hex, either case)
    #[param(pattern = "^0x[0-9a-fA-F]{40}$")]
    buyer: Option<String>,
    /// sold by (0x hex, either case)
    #[param(pattern = "^0x[0-9a-fA-F]{40}$")]
    seller: Option<String>,
    /// at most this many (default 100)
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// Data orders
#[utoipa::path(get, path = "/api/data/orders", tag = "data", params(OrdersQuery),
    summary = "Data orders, newest first: all of them, or those of a buyer and/or a seller",
    responses(
        (status = 200, description = "ok", body = Vec<OrderDto>),
        (status = 400, description = "a malformed buyer, seller or limit", body = ErrorBody),
    ),
)]
async fn orders(State(s): State<AppState>, q: Result<Query<OrdersQuery>, QueryRejection>) -> ApiResult<Vec<OrderDto>> {
    let Query(q) = q?;
    let buyer = q.buyer.as_deref().map(|b| params::address("buyer", b)).transpose()?;
    let seller = q.seller.as_deref().map(|b| params::address("seller", b)).transpose()?;
    let limit = params::limit(q.limit, 100, 1000)?;
    let rows = s.store.data_orders(s.network.chain_id, OrderFilter { buyer, seller }, limit).await?;
    Ok(Json(rows.into_iter().map(order_dto).collect()))
}

/// An order with its ratings
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = DataOrderDetail)]
struct OrderDetailDto {
    order: OrderDto,
    /// At most one per party, the buyer's first.
    ratings: Vec<RatingDto>,
}

/// One data order
#[utoipa::path(get, path = "/api/data/orders/{id}", tag = "data",
    params(("id" = String, Path, description = "order id, 0x and 32 bytes of hex", pattern = "^0x[0-9a-fA-F]{64}$")),
    responses(
        (status = 200, description = "ok", body = OrderDetailDto),
        (status = 400, description = "malformed order id", body = ErrorBody),
        (status = 404, description = "unknown order", body = ErrorBody),
    ),
)]
async fn order(State(s): State<AppState>, id: Result<Path<String>, PathRejection>) -> ApiResult<OrderDetailDto> {
    let Path(raw) = id?;
    let id: B256 = params::b256("order id", &raw)?;
    let chain = s.network.chain_id;
    let row = s.store.data_order(chain, id).await?;
    let row = row.ok_or_else(|| ApiError::NotFound(format!("order {id} is not known on chain")))?;
    let ratings = s.store.data_order_ratings(chain, id).await?;
    Ok(Json(OrderDetailDto { order: order_dto(row), ratings: ratings.into_iter().map(rating_dto).collect() }))
}
