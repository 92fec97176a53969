//! The [`OrderBook`] over the chain: the `DataMarket` contract read through `agora-chain`.

use agora_chain::bindings::DataMarket;
use alloy::eips::BlockId;
use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider};

use crate::escrow::{OnChainOrder, OrderBook, Payment};

/// `IDataMarket.OrderState` as the ABI encodes it.
const STATE_NONE: u8 = 0;
const STATE_OPEN: u8 = 1;
const STATE_PAID: u8 = 4;
/// `IDataMarket.PaymentMethod.Escrow`.
const METHOD_ESCROW: u8 = 0;

/// Orders as one `DataMarket` deployment holds them. The escrow transaction's receipt says where the
/// order was opened (the transaction must have succeeded and emitted this contract's `OrderOpened`
/// for the order), its depth is counted from the head, and the order itself is read with `eth_call`
/// at that head, so the terms, the state and the depth are one consistent view of the chain.
#[derive(Debug, Clone)]
pub struct ChainOrderBook {
    provider: DynProvider,
    market: Address,
}

impl ChainOrderBook {
    /// The book of the `DataMarket` at `market`, read through `provider`.
    pub fn new(provider: DynProvider, market: Address) -> Self {
        Self { provider, market }
    }

    async fn read(&self, order_id: B256, escrow_tx: B256) -> Result<Option<OnChainOrder>, String> {
        let receipt = self
            .provider
            .get_transaction_receipt(escrow_tx)
            .await
            .map_err(|e| format!("reading the receipt of {escrow_tx}: {e}"))?;
        let Some(receipt) = receipt else { return Ok(None) };
        let opened_here = receipt.status()
            && receipt.inner.logs().iter().any(|log| {
                log.address() == self.market
                    && log.log_decode::<DataMarket::OrderOpened>().is_ok_and(|l| l.inner.data.orderId == order_id)
            });
        let Some(mined) = receipt.block_number.filter(|_| opened_here) else { return Ok(None) };
        let head = self.provider.get_block_number().await.map_err(|e| format!("reading the head: {e}"))?;
        if head < mined {
            // The node answered the receipt from a block its head does not reach yet (another
            // backend behind a balancer): not known at this head.
            return Ok(None);
        }
        let o = DataMarket::new(self.market, &self.provider)
            .getOrder(order_id)
            .block(BlockId::number(head))
            .call()
            .await
            .map_err(|e| format!("reading order {order_id} at block {head}: {e}"))?;
        if o.state == STATE_NONE {
            return Ok(None);
        }
        Ok(Some(OnChainOrder {
            buyer: o.buyer,
            seller: o.seller,
            total: o.totalBytes,
            price: alloy::primitives::U256::from(o.price),
            token: o.token,
            ack_signer: o.ackSigner,
            deadline: o.deadline.to::<u64>(),
            // An escrowed order is served while open; an off-chain one while open (waiting for the
            // seller's confirmation) and once confirmed paid.
            finished: o.state != STATE_OPEN && (o.method == METHOD_ESCROW || o.state != STATE_PAID),
            payment: match (o.method, o.state) {
                (METHOD_ESCROW, _) => Payment::Escrowed,
                (_, STATE_PAID) => Payment::OffChainPaid,
                _ => Payment::OffChainUnconfirmed,
            },
            confirmations: head - mined + 1,
        }))
    }
}

impl OrderBook for ChainOrderBook {
    async fn order(&self, order_id: B256, escrow_tx: B256) -> Result<Option<OnChainOrder>, String> {
        self.read(order_id, escrow_tx).await
    }
}
