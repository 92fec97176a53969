//! The data seller's settlement job: what `agora seller` does on chain with the ACKs it holds.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agora_chain::Sender;
use agora_chain::bindings::DataMarket;
use agora_datastream::MarketRef;
use agora_store::Store;
use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider};
use anyhow::{Context, Result};

use crate::data::state;

/// Ends and settles the orders the seller holds ACKs for: an order whose transfer stopped (or was
/// acknowledged whole, or whose deadline passed) is ended with the highest ACK — a whole one
/// settles at once; one the buyer ended first is challenged with a higher ACK; an ending order is
/// settled once its window has passed; a buyer who took everything is rated 5. Reads the chain
/// every round, so a restart loses nothing.
pub(crate) struct Settler {
    pub(crate) sender: Sender,
    pub(crate) store: Store,
    pub(crate) market: MarketRef,
    pub(crate) seller: Address,
    /// Orders whose transfer ended (the buyer's `exit`): ended now rather than at the deadline.
    pub(crate) stopped: Arc<Mutex<HashSet<B256>>>,
}

impl Settler {
    pub(crate) async fn run(self, interval: Duration) {
        // The contract's challenge window is fixed at deployment: read once it is first needed.
        let mut window = None;
        loop {
            if let Err(e) = self.round(&mut window).await {
                tracing::warn!("data settlement: {e:#}");
            }
            tokio::time::sleep(interval).await;
        }
    }

    async fn round(&self, window: &mut Option<u64>) -> Result<()> {
        let (chain, market) = (self.market.chain_id, self.market.address);
        let rows = self.store.open_data_acks(chain, market, self.seller).await?;
        if rows.is_empty() {
            return Ok(());
        }
        let dm = DataMarket::new(market, self.sender.provider());
        let window = match *window {
            Some(w) => w,
            None => *window.insert(dm.CHALLENGE_WINDOW().call().await?),
        };
        let now = head_time(self.sender.provider()).await?;
        for row in rows {
            let o = dm.getOrder(row.order_id).call().await?;
            let sig: alloy::primitives::Bytes = row.signature.0.to_vec().into();
            let stopped = self.stopped.lock().is_ok_and(|s| s.contains(&row.order_id));
            let deadline = o.deadline.to::<u64>();
            match o.state {
                state::OPEN if stopped || row.received == row.total_bytes || now >= deadline => {
                    match self.sender.send(dm.end(row.order_id, row.received, sig)).await {
                        Ok(r) => {
                            tracing::info!(order = %row.order_id, received = row.received, tx = %r.transaction_hash, "ended");
                            self.store.set_data_ack_ended(chain, market, row.order_id, r.transaction_hash).await?;
                        }
                        // Most likely the buyer ended it first: the next round sees it ending.
                        Err(e) => tracing::warn!(order = %row.order_id, "end: {e}"),
                    }
                }
                state::ENDING if row.received > o.received => {
                    let r = self.sender.send(dm.challenge(row.order_id, row.received, sig)).await?;
                    tracing::info!(order = %row.order_id, received = row.received, tx = %r.transaction_hash, "challenged");
                    self.store.set_data_ack_ended(chain, market, row.order_id, r.transaction_hash).await?;
                }
                state::ENDING if now >= deadline.saturating_add(window) => {
                    let r = self.sender.send(dm.settle(row.order_id)).await?;
                    tracing::info!(order = %row.order_id, tx = %r.transaction_hash, "settled");
                }
                state::OPEN | state::ENDING => {}
                // A whole transfer, settled: the seller rates its buyer once.
                state::SETTLED if row.received == row.total_bytes && !o.ratedBySeller => {
                    let r = self.sender.send(dm.rate(row.order_id, 5, B256::ZERO)).await?;
                    tracing::info!(order = %row.order_id, tx = %r.transaction_hash, "rated the buyer");
                    self.store.close_data_ack(chain, market, row.order_id).await?;
                }
                // Paid off chain: nothing is escrowed, so nothing ends or settles; while the buyer
                // is still being served the ACKs stay, and a whole transfer earns the buyer a rating.
                state::PAID if row.received == row.total_bytes && !o.ratedBySeller => {
                    let r = self.sender.send(dm.rate(row.order_id, 5, B256::ZERO)).await?;
                    tracing::info!(order = %row.order_id, tx = %r.transaction_hash, "rated the buyer (paid off chain)");
                    self.store.close_data_ack(chain, market, row.order_id).await?;
                }
                state::PAID if !stopped && row.received < row.total_bytes => {}
                state::NONE => {
                    tracing::warn!(order = %row.order_id, "the chain does not know this order: forgotten");
                    self.store.close_data_ack(chain, market, row.order_id).await?;
                }
                _ => self.store.close_data_ack(chain, market, row.order_id).await?,
            }
        }
        Ok(())
    }
}

/// The head block's timestamp: the chain's clock, which deadlines and windows are on.
pub(crate) async fn head_time(provider: &DynProvider) -> Result<u64> {
    let head = provider.get_block(alloy::eips::BlockId::latest()).await?.context("the chain has no head block")?;
    Ok(head.header.timestamp)
}

#[cfg(test)]
mod tests {
    use agora_chain::deploy::DATA_CHALLENGE_WINDOW_SECS;
    use agora_chain::testing::{BUYER, PROVIDER, TestChain, send};
    use agora_store::DataAckRow;
    use agora_store::testing::TestDb;
    use alloy::primitives::{FixedBytes, U256};
    use alloy::signers::SignerSync;

    use super::*;

    /// Opens an ETH order of 1000 wei for 1000 bytes from the buyer to the seller; its id.
    async fn open(tc: &TestChain, market: Address, nonce: u64) -> anyhow::Result<B256> {
        let now = head_time(&tc.provider(BUYER)).await?;
        let dm = DataMarket::new(market, tc.provider(BUYER));
        let call = dm
            .openOrder(
                tc.address(PROVIDER),
                Address::ZERO,
                U256::from(1000),
                1000,
                now + 600,
                now,
                U256::from(nonce),
                tc.address(BUYER),
                0,
            )
            .value(U256::from(1000));
        let r = send(call).await?;
        Ok(r.decoded_log::<DataMarket::OrderOpened>().context("OrderOpened")?.data.orderId)
    }

    /// The buyer's ACK for `received` bytes, as the seller keeps it.
    async fn held(tc: &TestChain, market: Address, order_id: B256, received: u64) -> anyhow::Result<DataAckRow> {
        let digest = DataMarket::new(market, tc.provider(BUYER)).ackDigest(order_id, received).call().await?;
        let signature = tc.key(BUYER).sign_hash_sync(&digest)?.as_bytes();
        Ok(DataAckRow {
            chain_id: tc.d.chain_id,
            market,
            order_id,
            seller: tc.address(PROVIDER),
            total_bytes: 1000,
            received,
            signature: FixedBytes(signature),
            ended_tx: None,
            closed: false,
            updated_at: 1,
        })
    }

    /// A whole transfer is ended and settled at once, then its buyer rated; a partial one the buyer
    /// ended lower is challenged with the seller's higher ACK and settled after the window, for
    /// exactly what that ACK proves.
    #[tokio::test]
    async fn the_seller_ends_challenges_settles_and_rates() -> anyhow::Result<()> {
        let tc = TestChain::start().await?;
        let market = tc.d.data_market.context("no DataMarket")?;
        let seller = DataMarket::new(market, tc.provider(PROVIDER));
        send(seller.register("127.0.0.1:1".into(), tc.address(PROVIDER), B256::repeat_byte(1), String::new())).await?;
        let db = TestDb::sqlite().await?;
        let settler = Settler {
            sender: tc.sender(PROVIDER).await?,
            store: db.store.clone(),
            market: agora_datastream::MarketRef { chain_id: tc.d.chain_id, address: market },
            seller: tc.address(PROVIDER),
            stopped: Arc::default(),
        };

        let whole = open(&tc, market, 1).await?;
        db.store.raise_data_ack(&held(&tc, market, whole, 1000).await?).await?;
        let partial = open(&tc, market, 2).await?;
        db.store.raise_data_ack(&held(&tc, market, partial, 600).await?).await?;
        // The buyer ends the partial order first, stating 200 bytes; the transfer has stopped.
        send(DataMarket::new(market, tc.provider(BUYER)).end(partial, 200, Default::default())).await?;
        settler.stopped.lock().map_err(|e| anyhow::anyhow!("{e}"))?.insert(partial);
        let mut window = None;

        settler.round(&mut window).await?;
        let o = seller.getOrder(whole).call().await?;
        assert_eq!((o.state, o.received), (state::SETTLED, 1000), "a whole ACK settles at once");
        let o = seller.getOrder(partial).call().await?;
        assert_eq!((o.state, o.received), (state::ENDING, 600), "the buyer's 200 challenged with 600");

        settler.round(&mut window).await?;
        assert!(seller.getOrder(whole).call().await?.ratedBySeller, "the whole order's buyer is rated");
        assert_eq!(seller.getOrder(partial).call().await?.state, state::ENDING, "not before the window");

        let owner = tc.provider(PROVIDER);
        owner.raw_request::<_, serde_json::Value>("evm_increaseTime".into(), (DATA_CHALLENGE_WINDOW_SECS + 1,)).await?;
        owner.raw_request::<_, serde_json::Value>("evm_mine".into(), ()).await?;
        let before = owner.get_balance(tc.address(BUYER)).await?;
        settler.round(&mut window).await?;
        let o = seller.getOrder(partial).call().await?;
        assert_eq!((o.state, o.received), (state::SETTLED, 600));
        assert_eq!(owner.get_balance(tc.address(BUYER)).await? - before, U256::from(400), "the rest refunded");

        settler.round(&mut window).await?;
        let open = db.store.open_data_acks(tc.d.chain_id, market, tc.address(PROVIDER)).await?;
        assert!(open.is_empty(), "both orders done: {open:?}");
        db.finish().await?;
        Ok(())
    }
}
