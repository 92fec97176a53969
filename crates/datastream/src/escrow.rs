//! What the seller asks the chain before it sends a byte ([`OrderBook`]), and what it keeps of each
//! order's ACKs ([`AckBook`]): the highest voucher is what it settles with.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};

use alloy::primitives::{Address, B256, U256};

use crate::error::{Error, Result};

/// An order as the `DataMarket` contract holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnChainOrder {
    /// Who escrowed.
    pub buyer: Address,
    /// Who is paid.
    pub seller: Address,
    /// Bytes ordered (the seed's `total_data`).
    pub total: u64,
    /// The escrowed price.
    pub price: U256,
    /// The escrowed token; `Address::ZERO` for ETH.
    pub token: Address,
    /// Whose ACKs the contract accepts.
    pub ack_signer: Address,
    /// Unix seconds after which anyone may settle.
    pub deadline: u64,
    /// Settled, ended or expired: nothing more is sold under it.
    pub finished: bool,
    /// How the order is paid, and whether that payment is there yet.
    pub payment: Payment,
    /// Blocks on top of (and including) the one that holds the escrow transaction; 0 while pending.
    pub confirmations: u64,
}

/// How an order is paid (the contract's `PaymentMethod`, and for an off-chain order whether the
/// seller has confirmed the payment on chain).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payment {
    /// The price is escrowed in the contract.
    Escrowed,
    /// Paid outside the chain (the seed's "alipay"); the seller has not confirmed it yet.
    OffChainUnconfirmed,
    /// Paid outside the chain, and the seller confirmed it on chain (`confirmPaid`).
    OffChainPaid,
}

/// "Is order X open with these terms, and how deep is its escrow?" — the seller's only question to
/// the chain. [`ChainOrderBook`](crate::ChainOrderBook) asks the contract; the tests implement it
/// with a table of orders.
pub trait OrderBook: Send + Sync {
    /// The order `order_id` whose escrow was sent in `escrow_tx`, or `None` when the chain does
    /// not know it (yet). An `Err` is a failure to ask, not an answer.
    fn order(
        &self,
        order_id: B256,
        escrow_tx: B256,
    ) -> impl Future<Output = std::result::Result<Option<OnChainOrder>, String>> + Send;
}

/// One accepted ACK: the order, the cumulative bytes, and the buyer's EIP-712 voucher for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedAck {
    /// The order.
    pub order_id: B256,
    /// Cumulative bytes received and verified.
    pub received: u64,
    /// The ACK signer's signature over `Ack(orderId, received)`.
    pub signature: [u8; 65],
}

/// A boxed future, as [`AckStore`]'s methods return (the trait is used as `dyn`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where a seller keeps each order's highest ACK so that a restart neither loses it (the voucher is
/// the payment) nor lets a buyer start the order over. `agora-node` implements it over the store.
pub trait AckStore: Send + Sync + std::fmt::Debug {
    /// The highest ACK kept for `order_id`. An `Err` is a failure to read, not an answer.
    fn load(&self, order_id: B256) -> BoxFuture<'_, std::result::Result<Option<SignedAck>, String>>;
    /// Keeps `ack` (for an order of `total` bytes) when it is above the one kept; a lower or equal
    /// one leaves the kept one as it is.
    fn save(&self, ack: SignedAck, total: u64) -> BoxFuture<'_, std::result::Result<(), String>>;
}

#[derive(Debug, Default)]
struct Account {
    highest: Option<SignedAck>,
    accepted: u64,
    serving: bool,
}

/// Each order's highest accepted ACK, shared by every connection of one seller, and which orders a
/// connection is serving right now (one at a time per order). Kept in memory and, with an
/// [`AckStore`], written through to it: the seller loads an order's highest ACK from the store
/// before serving it and saves every ACK that raises it before counting it.
#[derive(Debug, Clone, Default)]
pub struct AckBook {
    inner: Arc<Mutex<HashMap<B256, Account>>>,
    store: Option<Arc<dyn AckStore>>,
}

impl AckBook {
    /// An empty book, in memory only.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty book written through to `store`.
    pub fn with_store(store: Arc<dyn AckStore>) -> Self {
        Self { inner: Arc::default(), store: Some(store) }
    }

    /// Brings `order_id`'s highest ACK in from the store when it is above the one in memory (a
    /// restarted seller). Restored ACKs are not counted in [`AckBook::accepted`].
    pub async fn load(&self, order_id: B256) -> Result<()> {
        let Some(store) = &self.store else { return Ok(()) };
        let Some(kept) = store.load(order_id).await.map_err(Error::AckStore)? else { return Ok(()) };
        let mut map = self.lock();
        let account = map.entry(order_id).or_default();
        if account.highest.is_none_or(|h| h.received < kept.received) {
            account.highest = Some(kept);
        }
        Ok(())
    }

    /// Writes `ack` (just recorded as the highest) through to the store.
    pub(crate) async fn persist(&self, ack: SignedAck, total: u64) -> Result<()> {
        match &self.store {
            Some(store) => store.save(ack, total).await.map_err(Error::AckStore),
            None => Ok(()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<B256, Account>> {
        // A panic while holding this lock leaves the map consistent (every update is one
        // assignment), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The highest ACK accepted for `order_id`.
    pub fn highest(&self, order_id: B256) -> Option<SignedAck> {
        self.lock().get(&order_id).and_then(|a| a.highest)
    }

    /// How many ACKs raised `order_id`'s highest (resent ones do not count).
    pub fn accepted(&self, order_id: B256) -> u64 {
        self.lock().get(&order_id).map_or(0, |a| a.accepted)
    }

    /// Records `ack` when it is above the highest; equal is a harmless resend (`Ok(false)`); below is
    /// a replay ([`Error::StaleAck`]). The caller has verified the voucher.
    pub fn record(&self, ack: SignedAck) -> Result<bool> {
        let mut map = self.lock();
        let account = map.entry(ack.order_id).or_default();
        let highest = account.highest.map_or(0, |h| h.received);
        match account.highest {
            Some(h) if ack.received < h.received => Err(Error::StaleAck { received: ack.received, highest }),
            Some(h) if ack.received == h.received => Ok(false),
            _ if ack.received == 0 => Ok(false),
            _ => {
                account.highest = Some(ack);
                account.accepted += 1;
                Ok(true)
            }
        }
    }

    /// Marks `order_id` as served by the caller until the returned guard is dropped.
    pub(crate) fn serve(&self, order_id: B256) -> Result<Serving> {
        let mut map = self.lock();
        let account = map.entry(order_id).or_default();
        if account.serving {
            return Err(Error::OrderBusy(order_id));
        }
        account.serving = true;
        Ok(Serving { book: self.clone(), order_id })
    }
}

/// A connection's hold on an order; released when dropped.
#[derive(Debug)]
pub(crate) struct Serving {
    book: AckBook,
    order_id: B256,
}

impl Drop for Serving {
    fn drop(&mut self) {
        if let Some(a) = self.book.lock().get_mut(&self.order_id) {
            a.serving = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(received: u64) -> SignedAck {
        SignedAck { order_id: B256::repeat_byte(1), received, signature: [0; 65] }
    }

    #[test]
    fn acks_only_rise_and_a_resend_changes_nothing() -> Result<()> {
        let book = AckBook::new();
        assert!(book.record(ack(10))?);
        assert!(!book.record(ack(10))?, "a resend is harmless");
        assert!(matches!(book.record(ack(5)), Err(Error::StaleAck { received: 5, highest: 10 })));
        assert!(book.record(ack(20))?);
        assert_eq!(
            (book.highest(B256::repeat_byte(1)).map(|a| a.received), book.accepted(B256::repeat_byte(1))),
            (Some(20), 2)
        );
        Ok(())
    }

    #[test]
    fn one_connection_serves_an_order_at_a_time() -> Result<()> {
        let book = AckBook::new();
        let id = B256::repeat_byte(2);
        let hold = book.serve(id)?;
        assert!(matches!(book.serve(id), Err(Error::OrderBusy(_))));
        drop(hold);
        book.serve(id).map(drop)
    }
}
