//! The seller's ACKs kept in the node's database: an [`AckStore`] over `agora-store`'s `data_acks`.

use std::sync::Arc;

use agora_store::{DataAckRow, Store};
use alloy::primitives::{Address, B256, FixedBytes};

use crate::escrow::{AckStore, BoxFuture, SignedAck};
use crate::session::unix_now;
use crate::sign::MarketRef;

/// One seller's ACKs for one `DataMarket` deployment, in the store.
#[derive(Debug, Clone)]
pub struct StoreAcks {
    store: Store,
    market: MarketRef,
    seller: Address,
}

impl StoreAcks {
    /// The ACKs `seller` holds for orders of `market`, kept in `store`.
    pub fn new(store: Store, market: MarketRef, seller: Address) -> Self {
        Self { store, market, seller }
    }

    /// As an `Arc<dyn AckStore>`, for [`crate::Seller::with_ack_store`].
    pub fn shared(self) -> Arc<dyn AckStore> {
        Arc::new(self)
    }
}

impl AckStore for StoreAcks {
    fn load(&self, order_id: B256) -> BoxFuture<'_, Result<Option<SignedAck>, String>> {
        Box::pin(async move {
            let row = self
                .store
                .data_ack(self.market.chain_id, self.market.address, order_id)
                .await
                .map_err(|e| format!("reading the ACK of order {order_id}: {e}"))?;
            Ok(row.map(|r| SignedAck { order_id, received: r.received, signature: r.signature.0 }))
        })
    }

    fn save(&self, ack: SignedAck, total: u64) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            let row = DataAckRow {
                chain_id: self.market.chain_id,
                market: self.market.address,
                order_id: ack.order_id,
                seller: self.seller,
                total_bytes: total,
                received: ack.received,
                signature: FixedBytes(ack.signature),
                ended_tx: None,
                closed: false,
                updated_at: unix_now(),
            };
            self.store
                .raise_data_ack(&row)
                .await
                .map(drop)
                .map_err(|e| format!("keeping the ACK of order {}: {e}", ack.order_id))
        })
    }
}
