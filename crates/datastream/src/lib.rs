//! Agora's data-stream protocol (seed 001, issue 13): a buyer finds a seller, says hello, reads the
//! menu, escrows an order in the `DataMarket` contract and receives the item chunk by chunk — each
//! chunk signed by the seller, each acknowledged by the buyer with a cumulative EIP-712 voucher that
//! is also the payment the contract settles. `docs/data-stream-protocol.md` is the specification,
//! with test vectors.
//!
//! - [`frame`]: length-prefixed frames with a maximum size over any `AsyncRead + AsyncWrite`.
//! - [`message`]: the seed's envelope `{message_type, payload, signature, verification}` and every
//!   message; what is signed is the EIP-712 `hashStruct` of the payload, `personal_sign`ed.
//! - [`sign`]: the order id, the ACK voucher and signature recovery, exactly as the contract has them.
//! - [`Seller`]: serves a [`Catalogue`] of files, sends nothing before the order's escrow is
//!   confirmed ([`OrderBook`]), keeps at most a [`Window`] of unacknowledged bytes in flight.
//! - [`Buyer`] / [`BuyerSession`]: verifies every chunk before writing and acknowledging it, checks
//!   the whole at the end, resumes from its last ACK.
//!
//! - [`transport`]: TCP and, on the same port, a WebSocket (one frame per binary message) for
//!   buyers in a browser.
//! - [`ChainOrderBook`]: the order book over the `DataMarket` contract, through `agora-chain`;
//!   [`StoreAcks`]: the seller's highest ACK per order kept in the node's database.

#![warn(missing_docs)]

mod buyer;
mod catalogue;
mod chain;
mod config;
mod error;
mod escrow;
pub mod frame;
pub mod message;
mod seller;
mod session;
mod settings;
pub mod sign;
mod store;
pub mod transport;
mod typed;

pub use buyer::{AckJournal, Bought, Buyer, BuyerSession, Progress};
pub use catalogue::{Catalogue, Entry, Price, Terms, hash_file, sha256};
pub use chain::ChainOrderBook;
pub use config::{BuyerConfig, SellerConfig, Timeouts, Window};
pub use error::{Error, ErrorCode, Result, State};
pub use escrow::{AckBook, AckStore, BoxFuture, OnChainOrder, OrderBook, Payment, SignedAck};
pub use frame::Limits;
pub use message::{Message, MessageType};
pub use seller::{Seller, Served};
pub use settings::DataSettings;
pub use sign::MarketRef;
pub use store::StoreAcks;
