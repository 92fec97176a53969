//! How each FederatedMarket event changes the `fl_*` tables. Amounts are added and subtracted as
//! `U256` here (read, computed, written back in the same transaction), never as SQL arithmetic on
//! text.

use alloy::primitives::U256;
use sqlx::any::AnyArguments;
use sqlx::{Any, Row, Transaction};

use super::{FlMode, FlTaskState};
use crate::column::i64_of;
use crate::{Error, FlEvent, LogMeta, Result};

type Query<'q> = sqlx::query::Query<'q, Any, AnyArguments>;

/// The tables [`apply`] derives, emptied before a rebuild.
pub(crate) const DERIVED_TABLES: [&str; 8] = [
    "fl_tasks",
    "fl_members",
    "fl_block_purchases",
    "fl_claims",
    "fl_shares",
    "fl_dividends_withdrawn",
    "fl_predictions",
    "fl_fee_payments",
];

/// Where the event happened, and the transaction it is applied in.
struct Ctx<'a, 'c> {
    tx: &'a mut Transaction<'c, Any>,
    chain: i64,
    block: i64,
    meta: &'a LogMeta,
    event: &'a FlEvent,
}

impl Ctx<'_, '_> {
    fn inconsistent(&self, why: &str) -> Error {
        Error::Inconsistent(format!(
            "{} for task {} in tx {}: {why}",
            self.event.kind(),
            self.event.task_id(),
            self.meta.tx_hash
        ))
    }

    /// Runs `q`, which must change exactly one row.
    async fn one(&mut self, q: Query<'_>, what: &str) -> Result<()> {
        match q.execute(&mut **self.tx).await?.rows_affected() {
            1 => Ok(()),
            n => Err(self.inconsistent(&format!("{what} changed {n} rows"))),
        }
    }

    /// The task's state and one of its amount columns (`None`: no such task).
    async fn task(&mut self, amount_column: &'static str) -> Result<Option<(FlTaskState, U256)>> {
        let sql = format!("SELECT state, {amount_column} FROM fl_tasks WHERE chain_id = $1 AND task_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.chain)
            .bind(i64_of(self.event.task_id())?)
            .fetch_optional(&mut **self.tx)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let state: String = row.try_get(0)?;
        let state = state.parse().map_err(|_| self.inconsistent(&format!("stored state {state:?}")))?;
        let amount: String = row.try_get(1)?;
        Ok(Some((state, self.amount(&amount)?)))
    }

    /// A text column of one row of `table` keyed by task and account (`None`: no such row).
    async fn account_text(
        &mut self,
        table: &'static str,
        column: &'static str,
        account: &str,
    ) -> Result<Option<String>> {
        let sql = format!("SELECT {column} FROM {table} WHERE chain_id = $1 AND task_id = $2 AND account = $3");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.chain)
            .bind(i64_of(self.event.task_id())?)
            .bind(account.to_owned())
            .fetch_optional(&mut **self.tx)
            .await?;
        Ok(row.map(|r| r.try_get::<String, _>(0)).transpose()?)
    }

    fn amount(&self, text: &str) -> Result<U256> {
        U256::from_str_radix(text, 10).map_err(|_| self.inconsistent(&format!("amount {text:?}")))
    }

    fn task_id(&self) -> Result<i64> {
        i64_of(self.event.task_id())
    }
}

/// Applies one FederatedMarket event and returns the rows it changed (1 when it applied). Called by
/// `crate::apply`, in the transaction that stores the log.
pub(crate) async fn apply(
    tx: &mut Transaction<'_, Any>,
    chain: i64,
    block: i64,
    meta: &LogMeta,
    event: &FlEvent,
) -> Result<u64> {
    let mut c = Ctx { tx, chain, block, meta, event };
    let task = c.task_id()?;
    let q = |sql: &'static str| sqlx::query(sql);
    match event {
        FlEvent::TaskCreated { investor, coordinator, mode, token, pool, prediction_fee, spec, .. } => {
            let mode = match mode.as_str() {
                "RewardPool" => FlMode::RewardPool,
                "Shareholding" => FlMode::Shareholding,
                other => return Err(c.inconsistent(&format!("mode {other:?}"))),
            };
            // The terms come with the next log (TaskTerms); zero until then.
            let insert = q("INSERT INTO fl_tasks (chain_id, task_id, investor, coordinator, mode, token, pool, \
                 prediction_fee, spec, block_token, block_price, total_blocks, blocks_sold, min_participants, \
                 start_deadline, finish_deadline, state, members, block_revenue, claimed, created_block, created_tx, \
                 created_at, updated_block) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, '0', 0, 0, 0, 0, 0, $11, \
                 0, '0', '0', $12, $13, $14, $12)")
            .bind(chain)
            .bind(task)
            .bind(investor)
            .bind(coordinator)
            .bind(mode.as_str())
            .bind(token)
            .bind(pool)
            .bind(prediction_fee)
            .bind(spec)
            .bind(format!("{:#x}", alloy::primitives::Address::ZERO))
            .bind(FlTaskState::Open.as_str())
            .bind(block)
            .bind(&meta.tx_hash)
            .bind(i64_of(meta.block_timestamp)?);
            c.one(insert, "creating the task").await?;
        }
        FlEvent::TaskTerms {
            block_token,
            block_price,
            total_blocks,
            min_participants,
            start_deadline,
            finish_deadline,
            ..
        } => {
            let update = q("UPDATE fl_tasks SET block_token = $1, block_price = $2, total_blocks = $3, \
                 min_participants = $4, start_deadline = $5, finish_deadline = $6, updated_block = $7 \
                 WHERE chain_id = $8 AND task_id = $9 AND state = 'open'")
            .bind(block_token)
            .bind(block_price)
            .bind(i64_of(*total_blocks)?)
            .bind(i64_of(*min_participants)?)
            .bind(i64_of(*start_deadline)?)
            .bind(i64_of(*finish_deadline)?)
            .bind(block)
            .bind(chain)
            .bind(task);
            c.one(update, "the task's terms").await?;
        }
        FlEvent::MemberJoined { account, members, .. } => {
            let join =
                q("INSERT INTO fl_members (chain_id, task_id, account, joined_block, joined_log, active, blocks, \
                 escrowed) SELECT chain_id, task_id, $3, $4, $5, 1, 0, '0' FROM fl_tasks \
                 WHERE chain_id = $1 AND task_id = $2 AND state IN ('open', 'training') \
                 ON CONFLICT (chain_id, task_id, account) DO UPDATE SET joined_block = excluded.joined_block, \
                 joined_log = excluded.joined_log, active = 1")
                .bind(chain)
                .bind(task)
                .bind(account)
                .bind(block)
                .bind(i64_of(meta.log_index)?);
            c.one(join, "the member's join").await?;
            set_members(&mut c, *members).await?;
        }
        FlEvent::MemberLeft { account, members, .. } => {
            let (state, _) = c.task("pool").await?.ok_or_else(|| c.inconsistent("unknown task"))?;
            if state == FlTaskState::Open {
                // Before the start its blocks go back on sale and its payments back to it.
                let blocks: i64 = sqlx::query_scalar(
                    "SELECT blocks FROM fl_members WHERE chain_id = $1 AND task_id = $2 AND account = $3 AND active = 1",
                )
                .bind(chain)
                .bind(task)
                .bind(account)
                .fetch_optional(&mut **c.tx)
                .await?
                .ok_or_else(|| c.inconsistent("not a member"))?;
                let update =
                    q("UPDATE fl_tasks SET blocks_sold = blocks_sold - $1 WHERE chain_id = $2 AND task_id = $3")
                        .bind(blocks)
                        .bind(chain)
                        .bind(task);
                c.one(update, "the blocks sold").await?;
                q("UPDATE fl_block_purchases SET voided = 1 WHERE chain_id = $1 AND task_id = $2 AND buyer = $3 \
                   AND held = 1")
                .bind(chain)
                .bind(task)
                .bind(account)
                .execute(&mut **c.tx)
                .await?;
            }
            let open = i64::from(state == FlTaskState::Open);
            let leave = q("UPDATE fl_members SET active = 0, blocks = CASE WHEN $1 = 1 THEN 0 ELSE blocks END, \
                 escrowed = CASE WHEN $1 = 1 THEN '0' ELSE escrowed END \
                 WHERE chain_id = $2 AND task_id = $3 AND account = $4 AND active = 1")
            .bind(open)
            .bind(chain)
            .bind(task)
            .bind(account);
            c.one(leave, "the member's leave").await?;
            set_members(&mut c, *members).await?;
        }
        FlEvent::BlocksBought { buyer, count, cost, blocks_sold, .. } => {
            let (state, revenue) = c.task("block_revenue").await?.ok_or_else(|| c.inconsistent("unknown task"))?;
            let held = match state {
                FlTaskState::Open => true,
                FlTaskState::Training => false,
                other => return Err(c.inconsistent(&format!("blocks bought while {other}"))),
            };
            let cost_value = c.amount(cost)?;
            let insert = q("INSERT INTO fl_block_purchases (chain_id, task_id, block_number, log_index, buyer, \
                 block_count, cost, blocks_sold, held, voided, tx_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10)")
            .bind(chain)
            .bind(task)
            .bind(block)
            .bind(i64_of(meta.log_index)?)
            .bind(buyer)
            .bind(i64_of(*count)?)
            .bind(cost)
            .bind(i64_of(*blocks_sold)?)
            .bind(i64::from(held))
            .bind(&meta.tx_hash);
            c.one(insert, "the purchase").await?;
            let escrowed = c.account_text("fl_members", "escrowed", buyer).await?;
            let escrowed = c.amount(&escrowed.ok_or_else(|| c.inconsistent("the buyer is not a member"))?)?;
            let escrowed = if held { escrowed + cost_value } else { escrowed };
            let member = q("UPDATE fl_members SET blocks = blocks + $1, escrowed = $2 \
                 WHERE chain_id = $3 AND task_id = $4 AND account = $5 AND active = 1")
            .bind(i64_of(*count)?)
            .bind(escrowed.to_string())
            .bind(chain)
            .bind(task)
            .bind(buyer);
            c.one(member, "the buyer's blocks").await?;
            // Bought during training: paid to the investor at once.
            let revenue = if held { revenue } else { revenue + cost_value };
            let update = q("UPDATE fl_tasks SET blocks_sold = $1, block_revenue = $2, updated_block = $3 \
                 WHERE chain_id = $4 AND task_id = $5")
            .bind(i64_of(*blocks_sold)?)
            .bind(revenue.to_string())
            .bind(block)
            .bind(chain)
            .bind(task);
            c.one(update, "the blocks sold").await?;
        }
        FlEvent::TaskStarted { members, block_payments, .. } => {
            let update = q("UPDATE fl_tasks SET state = $1, members = $2, block_payments = $3, block_revenue = $3, \
                 updated_block = $4 WHERE chain_id = $5 AND task_id = $6 AND state = 'open'")
            .bind(FlTaskState::Training.as_str())
            .bind(i64_of(*members)?)
            .bind(block_payments)
            .bind(block)
            .bind(chain)
            .bind(task);
            c.one(update, "the start").await?;
        }
        FlEvent::TaskCancelled { by, state, refunded, .. } => {
            let (next, from) = match state.as_str() {
                "Cancelled" => (FlTaskState::Cancelled, "open"),
                "Abandoned" => (FlTaskState::Abandoned, "training"),
                other => return Err(c.inconsistent(&format!("cancelled into state {other:?}"))),
            };
            let update =
                q("UPDATE fl_tasks SET state = $1, cancelled_by = $2, pool_refunded = $3, updated_block = $4 \
                 WHERE chain_id = $5 AND task_id = $6 AND state = $7")
                .bind(next.as_str())
                .bind(by)
                .bind(refunded)
                .bind(block)
                .bind(chain)
                .bind(task)
                .bind(from);
            c.one(update, "the cancellation").await?;
        }
        FlEvent::BlockPaymentRefunded { account, .. } => {
            let update =
                q("UPDATE fl_members SET escrowed = '0' WHERE chain_id = $1 AND task_id = $2 AND account = $3")
                    .bind(chain)
                    .bind(task)
                    .bind(account);
            c.one(update, "the refund").await?;
        }
        FlEvent::RewardsPosted { root, record_cid, claim_deadline, .. } => {
            let update = q("UPDATE fl_tasks SET state = $1, rewards_root = $2, record_cid = $3, claim_deadline = $4, \
                 updated_block = $5 WHERE chain_id = $6 AND task_id = $7 AND state = 'training' AND mode = $8")
            .bind(FlTaskState::Finished.as_str())
            .bind(root)
            .bind(record_cid)
            .bind(i64_of(*claim_deadline)?)
            .bind(block)
            .bind(chain)
            .bind(task)
            .bind(FlMode::RewardPool.as_str());
            c.one(update, "the rewards").await?;
        }
        FlEvent::SharesPosted { holders, record_cid, .. } => {
            let update = q("UPDATE fl_tasks SET state = $1, holders = $2, record_cid = $3, updated_block = $4 \
                 WHERE chain_id = $5 AND task_id = $6 AND state = 'training' AND mode = $7")
            .bind(FlTaskState::Finished.as_str())
            .bind(i64_of(*holders)?)
            .bind(record_cid)
            .bind(block)
            .bind(chain)
            .bind(task)
            .bind(FlMode::Shareholding.as_str());
            c.one(update, "the shares").await?;
        }
        FlEvent::SharesAssigned { account, shares, .. } => {
            // Emitted before SharesPosted, while the task is still training.
            let insert = q("INSERT INTO fl_shares (chain_id, task_id, account, assigned, shares, updated_block) \
                 SELECT chain_id, task_id, $3, $4, $4, $5 FROM fl_tasks WHERE chain_id = $1 AND task_id = $2 \
                 AND state = 'training' AND mode = $6")
            .bind(chain)
            .bind(task)
            .bind(account)
            .bind(shares)
            .bind(block)
            .bind(FlMode::Shareholding.as_str());
            c.one(insert, "the holder's shares").await?;
        }
        FlEvent::RewardClaimed { account, amount, .. } => {
            let (_, claimed) = c.task("claimed").await?.ok_or_else(|| c.inconsistent("unknown task"))?;
            let claimed = claimed + c.amount(amount)?;
            let insert = q("INSERT INTO fl_claims (chain_id, task_id, account, amount, claimed_block, claimed_tx) \
                 SELECT chain_id, task_id, $3, $4, $5, $6 FROM fl_tasks WHERE chain_id = $1 AND task_id = $2 \
                 AND state = 'finished'")
            .bind(chain)
            .bind(task)
            .bind(account)
            .bind(amount)
            .bind(block)
            .bind(&meta.tx_hash);
            c.one(insert, "the claim").await?;
            let update = q("UPDATE fl_tasks SET claimed = $1, updated_block = $2 WHERE chain_id = $3 AND task_id = $4")
                .bind(claimed.to_string())
                .bind(block)
                .bind(chain)
                .bind(task);
            c.one(update, "the total claimed").await?;
        }
        FlEvent::UnclaimedReclaimed { amount, .. } => {
            let update =
                q("UPDATE fl_tasks SET reclaimed = $1, updated_block = $2 WHERE chain_id = $3 AND task_id = $4 \
                 AND state = 'finished' AND reclaimed IS NULL")
                .bind(amount)
                .bind(block)
                .bind(chain)
                .bind(task);
            c.one(update, "the reclaim").await?;
        }
        FlEvent::PredictionRequested { request_id, payer, fee, input_hash, .. } => {
            let insert = q("INSERT INTO fl_predictions (chain_id, request_id, task_id, payer, fee, input_hash, \
                 block_number, tx_hash, requested_at) SELECT chain_id, $3, task_id, $4, $5, $6, $7, $8, $9 \
                 FROM fl_tasks WHERE chain_id = $1 AND task_id = $2 AND state = 'finished'")
            .bind(chain)
            .bind(task)
            .bind(i64_of(*request_id)?)
            .bind(payer)
            .bind(fee)
            .bind(input_hash)
            .bind(block)
            .bind(&meta.tx_hash)
            .bind(i64_of(meta.block_timestamp)?);
            c.one(insert, "the prediction").await?;
        }
        FlEvent::PredictionFeesPaid { payer, count, amount, .. } => {
            let insert = q("INSERT INTO fl_fee_payments (chain_id, task_id, block_number, log_index, payer, \
                 prediction_count, amount, tx_hash, paid_at) SELECT chain_id, task_id, $3, $4, $5, $6, $7, $8, $9 \
                 FROM fl_tasks WHERE chain_id = $1 AND task_id = $2 AND state = 'finished'")
            .bind(chain)
            .bind(task)
            .bind(block)
            .bind(i64_of(meta.log_index)?)
            .bind(payer)
            .bind(i64_of(*count)?)
            .bind(amount)
            .bind(&meta.tx_hash)
            .bind(i64_of(meta.block_timestamp)?);
            c.one(insert, "the fee payment").await?;
        }
        FlEvent::SharesTransferred { from, to, shares, .. } => {
            let amount = c.amount(shares)?;
            let held = c.account_text("fl_shares", "shares", from).await?;
            let held = c.amount(&held.ok_or_else(|| c.inconsistent("the sender holds no shares"))?)?;
            let left = held.checked_sub(amount).ok_or_else(|| c.inconsistent("more shares than the sender holds"))?;
            set_shares(&mut c, from, left).await?;
            let received = match c.account_text("fl_shares", "shares", to).await? {
                Some(text) => c.amount(&text)?,
                None => U256::ZERO,
            };
            set_shares(&mut c, to, received + amount).await?;
        }
        FlEvent::DividendsWithdrawn { account, amount, .. } => {
            let insert = q("INSERT INTO fl_dividends_withdrawn (chain_id, task_id, block_number, log_index, account, \
                 amount, tx_hash) SELECT chain_id, task_id, $3, $4, $5, $6, $7 FROM fl_tasks \
                 WHERE chain_id = $1 AND task_id = $2 AND mode = $8")
            .bind(chain)
            .bind(task)
            .bind(block)
            .bind(i64_of(meta.log_index)?)
            .bind(account)
            .bind(amount)
            .bind(&meta.tx_hash)
            .bind(FlMode::Shareholding.as_str());
            c.one(insert, "the withdrawal").await?;
        }
    }
    Ok(1)
}

/// The task's member count as the event gives it.
async fn set_members(c: &mut Ctx<'_, '_>, members: u64) -> Result<()> {
    let update =
        sqlx::query("UPDATE fl_tasks SET members = $1, updated_block = $2 WHERE chain_id = $3 AND task_id = $4")
            .bind(i64_of(members)?)
            .bind(c.block)
            .bind(c.chain)
            .bind(c.task_id()?);
    c.one(update, "the member count").await
}

/// Writes `account`'s shares of the event's task (a new holder gets a row with nothing assigned).
async fn set_shares(c: &mut Ctx<'_, '_>, account: &str, shares: U256) -> Result<()> {
    let upsert = sqlx::query(
        "INSERT INTO fl_shares (chain_id, task_id, account, assigned, shares, updated_block) \
         VALUES ($1, $2, $3, '0', $4, $5) ON CONFLICT (chain_id, task_id, account) DO UPDATE SET \
         shares = excluded.shares, updated_block = excluded.updated_block",
    )
    .bind(c.chain)
    .bind(c.task_id()?)
    .bind(account.to_owned())
    .bind(shares.to_string())
    .bind(c.block);
    c.one(upsert, "the holder's shares").await
}
