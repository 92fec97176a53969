//! A data seller's highest ACK per order (`data_acks`, migration 0011): the buyer's voucher the
//! seller ends and settles the order with. Node-owned state beside the data market's derived tables
//! (`crate::data_market`): no reorg or rebuild touches it, and it only ever rises.

use alloy::primitives::{Address, B256, FixedBytes};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::column::{self, i64_of, parsed, parsed_opt, u64_of};
use crate::{Result, Store};

/// A data seller's highest ACK for one order (node-owned: the buyer's voucher the seller settles
/// with), as [`Store::raise_data_ack`] keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataAckRow {
    /// The chain.
    pub chain_id: u64,
    /// The `DataMarket` deployment.
    pub market: Address,
    /// The order.
    pub order_id: B256,
    /// The seller that holds the voucher.
    pub seller: Address,
    /// The order's size in bytes (a voucher for all of it settles the order at once).
    pub total_bytes: u64,
    /// Cumulative bytes the buyer acknowledged.
    pub received: u64,
    /// The ACK signer's 65-byte signature over `Ack(orderId, received)`.
    pub signature: FixedBytes<65>,
    /// The seller's `end` or `challenge` transaction, once sent.
    pub ended_tx: Option<B256>,
    /// The seller's node is done with the order on chain.
    pub closed: bool,
    /// Unix seconds of the last change.
    pub updated_at: u64,
}

const ACK_SELECT: &str = "SELECT chain_id, market, order_id, seller, total_bytes, received, signature, ended_tx, \
     closed, updated_at FROM data_acks";

fn ack_row(r: &AnyRow) -> Result<DataAckRow> {
    Ok(DataAckRow {
        chain_id: u64_of(r.try_get(0)?),
        market: parsed(r, 1, "data ACK market")?,
        order_id: parsed(r, 2, "data ACK order id")?,
        seller: parsed(r, 3, "data ACK seller")?,
        total_bytes: u64_of(r.try_get(4)?),
        received: u64_of(r.try_get(5)?),
        signature: parsed(r, 6, "data ACK signature")?,
        ended_tx: parsed_opt(r, 7, "data ACK end transaction")?,
        closed: r.try_get::<i64, _>(8)? != 0,
        updated_at: u64_of(r.try_get(9)?),
    })
}

impl Store {
    /// Keeps `ack` as its order's highest ACK when it is above the one kept (or the first): `true`
    /// when it was kept, `false` when the kept one is as high or higher (a resend, or a replay), which
    /// then stays. One statement, so two writers never lower it.
    pub async fn raise_data_ack(&self, ack: &DataAckRow) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO data_acks (chain_id, market, order_id, seller, total_bytes, received, signature, ended_tx, \
             closed, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, 0, $8) \
             ON CONFLICT (chain_id, market, order_id) DO UPDATE SET received = excluded.received, \
             signature = excluded.signature, updated_at = excluded.updated_at \
             WHERE excluded.received > data_acks.received",
        )
        .bind(i64_of(ack.chain_id)?)
        .bind(column::hex(ack.market))
        .bind(column::hex(ack.order_id))
        .bind(column::hex(ack.seller))
        .bind(i64_of(ack.total_bytes)?)
        .bind(i64_of(ack.received)?)
        .bind(column::hex(ack.signature))
        .bind(i64_of(ack.updated_at)?)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The highest ACK kept for one order.
    pub async fn data_ack(&self, chain_id: u64, market: Address, order_id: B256) -> Result<Option<DataAckRow>> {
        let sql = format!("{ACK_SELECT} WHERE chain_id = $1 AND market = $2 AND order_id = $3");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(column::hex(market))
            .bind(column::hex(order_id))
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(ack_row).transpose()
    }

    /// `seller`'s ACKs for orders its node is not done with yet, oldest change first.
    pub async fn open_data_acks(&self, chain_id: u64, market: Address, seller: Address) -> Result<Vec<DataAckRow>> {
        let sql = format!(
            "{ACK_SELECT} WHERE chain_id = $1 AND market = $2 AND seller = $3 AND closed = 0 \
             ORDER BY updated_at, order_id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(column::hex(market))
            .bind(column::hex(seller))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(ack_row).collect()
    }

    /// Notes the seller's `end` (or `challenge`) transaction for an order.
    pub async fn set_data_ack_ended(&self, chain_id: u64, market: Address, order_id: B256, tx: B256) -> Result<()> {
        sqlx::query("UPDATE data_acks SET ended_tx = $4 WHERE chain_id = $1 AND market = $2 AND order_id = $3")
            .bind(i64_of(chain_id)?)
            .bind(column::hex(market))
            .bind(column::hex(order_id))
            .bind(column::hex(tx))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Marks an order done on chain for its seller's node: [`Store::open_data_acks`] leaves it out.
    /// Its highest ACK stays.
    pub async fn close_data_ack(&self, chain_id: u64, market: Address, order_id: B256) -> Result<()> {
        sqlx::query("UPDATE data_acks SET closed = 1 WHERE chain_id = $1 AND market = $2 AND order_id = $3")
            .bind(i64_of(chain_id)?)
            .bind(column::hex(market))
            .bind(column::hex(order_id))
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestDb;

    fn ack(order: u8, received: u64, sig: u8) -> DataAckRow {
        DataAckRow {
            chain_id: 31337,
            market: Address::repeat_byte(0xdd),
            order_id: B256::repeat_byte(order),
            seller: Address::repeat_byte(0x5e),
            total_bytes: 1000,
            received,
            signature: FixedBytes::repeat_byte(sig),
            ended_tx: None,
            closed: false,
            updated_at: 1_700_000_000 + received,
        }
    }

    #[tokio::test]
    async fn a_data_ack_only_rises_survives_a_new_store_and_closes() -> anyhow::Result<()> {
        for db in TestDb::both().await? {
            let (s, l) = (&db.store, db.label);
            let (chain, market) = (31337, Address::repeat_byte(0xdd));
            assert!(s.raise_data_ack(&ack(1, 400, 1)).await?, "{l}: the first is kept");
            assert!(!s.raise_data_ack(&ack(1, 400, 2)).await?, "{l}: a resend changes nothing");
            assert!(!s.raise_data_ack(&ack(1, 100, 3)).await?, "{l}: a lower one changes nothing");
            assert_eq!(s.data_ack(chain, market, B256::repeat_byte(1)).await?, Some(ack(1, 400, 1)), "{l}");
            assert!(s.raise_data_ack(&ack(1, 700, 4)).await?, "{l}: a higher one is kept");
            assert!(s.raise_data_ack(&ack(2, 1000, 5)).await?, "{l}");
            assert_eq!(s.data_ack(chain, Address::repeat_byte(0xee), B256::repeat_byte(1)).await?, None, "{l}");

            // Another store on the same database (a restarted node) reads the same.
            let again = Store::connect(&db.url).await?;
            assert_eq!(again.data_ack(chain, market, B256::repeat_byte(1)).await?, Some(ack(1, 700, 4)), "{l}");
            let open = again.open_data_acks(chain, market, Address::repeat_byte(0x5e)).await?;
            assert_eq!(
                open.iter().map(|a| (a.order_id, a.received)).collect::<Vec<_>>(),
                vec![(B256::repeat_byte(1), 700), (B256::repeat_byte(2), 1000)]
            );
            again.set_data_ack_ended(chain, market, B256::repeat_byte(1), B256::repeat_byte(0x77)).await?;
            again.close_data_ack(chain, market, B256::repeat_byte(2)).await?;
            again.pool().close().await;
            let open = s.open_data_acks(chain, market, Address::repeat_byte(0x5e)).await?;
            assert_eq!(open.len(), 1, "{l}");
            assert_eq!((open[0].ended_tx, open[0].closed), (Some(B256::repeat_byte(0x77)), false), "{l}");
            assert!(s.data_ack(chain, market, B256::repeat_byte(2)).await?.is_some_and(|a| a.closed), "{l}");
            db.finish().await?;
        }
        Ok(())
    }
}
