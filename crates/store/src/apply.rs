//! How each contract event changes the derived market state. Used both when a log first arrives
//! and when the state is rebuilt after a reorg, so the two can never disagree.

use sqlx::{Any, Transaction};

use crate::column::i64_of;
use crate::{ChannelState, Error, LogMeta, MarketEvent, Result, TaskStatus};

/// Applies one event to the derived state, in the transaction that stores its log. An event that
/// changes no row, or more than one, is an inconsistent log stream and fails the transaction.
pub(crate) async fn apply_event(
    tx: &mut Transaction<'_, Any>,
    chain_id: u64,
    meta: &LogMeta,
    event: &MarketEvent,
) -> Result<()> {
    let chain = i64_of(chain_id)?;
    let block = i64_of(meta.block_number)?;
    let at = i64_of(meta.block_timestamp)?;
    let affected = match event {
        MarketEvent::ServiceListed { service_id, provider, token, price, max_run_time, metadata_uri } => sqlx::query(
            "INSERT INTO services (chain_id, service_id, provider, token, price, max_run_time, metadata_uri, active, \
             listed_block) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8)",
        )
        .bind(chain)
        .bind(i64_of(*service_id)?)
        .bind(provider)
        .bind(token)
        .bind(price)
        .bind(i64_of(*max_run_time)?)
        .bind(metadata_uri)
        .bind(block)
        .execute(&mut **tx)
        .await?
        .rows_affected(),
        MarketEvent::ServiceUpdated { service_id, price, max_run_time, metadata_uri } => sqlx::query(
            "UPDATE services SET price = $1, max_run_time = $2, metadata_uri = $3 WHERE chain_id = $4 AND service_id = $5",
        )
        .bind(price)
        .bind(i64_of(*max_run_time)?)
        .bind(metadata_uri)
        .bind(chain)
        .bind(i64_of(*service_id)?)
        .execute(&mut **tx)
        .await?
        .rows_affected(),
        MarketEvent::ServiceDelisted { service_id } => {
            sqlx::query("UPDATE services SET active = 0 WHERE chain_id = $1 AND service_id = $2")
                .bind(chain)
                .bind(i64_of(*service_id)?)
                .execute(&mut **tx)
                .await?
                .rows_affected()
        }
        MarketEvent::TaskCreated { task_id, user, service_id, amount } => sqlx::query(
            "INSERT INTO tasks (chain_id, task_id, user_address, service_id, amount, token, status, created_block, \
             created_tx, created_at, updated_block, updated_at) \
             SELECT $1, $2, $3, $4, $5, token, $6, $7, $8, $9, $7, $9 FROM services \
             WHERE chain_id = $1 AND service_id = $4",
        )
        .bind(chain)
        .bind(i64_of(*task_id)?)
        .bind(user)
        .bind(i64_of(*service_id)?)
        .bind(amount)
        .bind(TaskStatus::Created.as_str())
        .bind(block)
        .bind(&meta.tx_hash)
        .bind(at)
        .execute(&mut **tx)
        .await?
        .rows_affected(),
        MarketEvent::TaskInput { task_id, deadline, input } => {
            let deadline = i64_of(*deadline)?;
            update_task(tx, chain, *task_id, block, at, "deadline = $5, input = $6", &[Val::I(deadline), Val::S(input)])
                .await?
        }
        MarketEvent::TaskStarted { task_id } => {
            update_task(tx, chain, *task_id, block, at, "status = $5", &[Val::S(TaskStatus::Running.as_str())]).await?
        }
        MarketEvent::TaskCompleted { task_id, result_hash } => {
            let status = Val::S(TaskStatus::Completed.as_str());
            update_task(tx, chain, *task_id, block, at, "status = $5, result_hash = $6", &[status, Val::S(result_hash)])
                .await?
        }
        MarketEvent::TaskFailed { task_id, reason } => {
            update_task(tx, chain, *task_id, block, at, "failure_reason = $5", &[Val::S(reason)]).await?
        }
        MarketEvent::TaskRefunded { task_id } => {
            update_task(tx, chain, *task_id, block, at, "status = $5", &[Val::S(TaskStatus::Refunded.as_str())]).await?
        }
        MarketEvent::ChannelOpened { channel_id, payer, payee, token, signer, salt, deposit, expiry } => sqlx::query(
            "INSERT INTO channels (chain_id, channel_id, payer, payee, token, signer, salt, deposit, expiry, state, \
             opened_block, updated_block) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(chain)
        .bind(channel_id)
        .bind(payer)
        .bind(payee)
        .bind(token)
        .bind(signer)
        .bind(salt)
        .bind(deposit)
        .bind(i64_of(*expiry)?)
        .bind(ChannelState::Open.as_str())
        .bind(block)
        .execute(&mut **tx)
        .await?
        .rows_affected(),
        MarketEvent::ChannelToppedUp { channel_id, deposit, .. } => {
            update_channel(tx, chain, channel_id, block, "deposit = $4", &[Val::S(deposit)]).await?
        }
        MarketEvent::ChannelExtended { channel_id, expiry } => {
            update_channel(tx, chain, channel_id, block, "expiry = $4", &[Val::I(i64_of(*expiry)?)]).await?
        }
        MarketEvent::ChannelClosed { channel_id, paid_to_payee, refunded_to_payer } => {
            let vals = [Val::S(ChannelState::Closed.as_str()), Val::S(paid_to_payee), Val::S(refunded_to_payer)];
            update_channel(tx, chain, channel_id, block, "state = $4, paid_to_payee = $5, refunded_to_payer = $6", &vals)
                .await?
        }
        MarketEvent::ChannelReclaimed { channel_id, refunded_to_payer } => {
            let vals = [Val::S(ChannelState::Reclaimed.as_str()), Val::S(refunded_to_payer)];
            update_channel(tx, chain, channel_id, block, "state = $4, refunded_to_payer = $5", &vals).await?
        }
        data @ (MarketEvent::SellerRegistered { .. }
        | MarketEvent::SellerUpdated { .. }
        | MarketEvent::SellerDeregistered { .. }
        | MarketEvent::OrderOpened { .. }
        | MarketEvent::OrderEnded { .. }
        | MarketEvent::OrderChallenged { .. }
        | MarketEvent::OrderSettled { .. }
        | MarketEvent::OrderConfirmedPaid { .. }
        | MarketEvent::OrderExpired { .. }
        | MarketEvent::OrderRated { .. }) => crate::data_market::apply(tx, chain, block, meta, data).await?,
        MarketEvent::Fl(fl) => crate::fl_market::apply(tx, chain, block, meta, fl).await?,
        MarketEvent::Board(board) => crate::board::apply_board(tx, chain, block, meta, board).await?,
        MarketEvent::Community(c) => crate::board::apply_community(tx, chain, block, meta, c).await?,
    };
    one_row(affected, meta, event)
}

/// An event that changes no row, or more than one, is an inconsistent log stream.
fn one_row(affected: u64, meta: &LogMeta, event: &MarketEvent) -> Result<()> {
    if affected != 1 {
        return Err(Error::Inconsistent(format!(
            "{} for {} in tx {} changed {affected} rows",
            event.kind(),
            event.subject(),
            meta.tx_hash
        )));
    }
    Ok(())
}

enum Val<'a> {
    I(i64),
    S(&'a str),
}

/// Runs `UPDATE tasks SET <set>` for one task; `set` refers to `vals` as `$5`, `$6`, …
async fn update_task(
    tx: &mut Transaction<'_, Any>,
    chain: i64,
    task_id: u64,
    block: i64,
    at: i64,
    set: &'static str,
    vals: &[Val<'_>],
) -> Result<u64> {
    let sql =
        format!("UPDATE tasks SET {set}, updated_block = $1, updated_at = $2 WHERE chain_id = $3 AND task_id = $4");
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(block).bind(at).bind(chain).bind(i64_of(task_id)?);
    for v in vals {
        query = match v {
            Val::I(i) => query.bind(*i),
            Val::S(s) => query.bind(s.to_string()),
        };
    }
    Ok(query.execute(&mut **tx).await?.rows_affected())
}

/// Runs `UPDATE channels SET <set>` for one channel; `set` refers to `vals` as `$4`, `$5`, …
async fn update_channel(
    tx: &mut Transaction<'_, Any>,
    chain: i64,
    channel_id: &str,
    block: i64,
    set: &'static str,
    vals: &[Val<'_>],
) -> Result<u64> {
    let sql = format!("UPDATE channels SET {set}, updated_block = $1 WHERE chain_id = $2 AND channel_id = $3");
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(block).bind(chain).bind(channel_id.to_owned());
    for v in vals {
        query = match v {
            Val::I(i) => query.bind(*i),
            Val::S(s) => query.bind(s.to_string()),
        };
    }
    Ok(query.execute(&mut **tx).await?.rows_affected())
}
