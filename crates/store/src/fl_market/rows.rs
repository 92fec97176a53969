//! The federated-learning market's typed rows and how they are read from the `fl_*` tables.

use alloy::primitives::{Address, B256, U256};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{FlMode, FlTaskState};
use crate::column::{amount, amount_opt, parsed, parsed_opt, u64_of};
use crate::{Error, Result};

/// A task with its terms and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlTaskRow {
    /// Its id (1, 2, …).
    pub task_id: u64,
    /// Who created it and pays for it (and owns the model in reward-pool mode).
    pub investor: Address,
    /// Who starts it and posts its results.
    pub coordinator: Address,
    /// How its trainers are paid.
    pub mode: FlMode,
    /// The pool's and the prediction fees' token; `Address::ZERO` for ETH.
    pub token: Address,
    /// The reward pool (zero in shareholding mode).
    pub pool: U256,
    /// The fee per paid prediction (zero: not offered).
    pub prediction_fee: U256,
    /// Where its description lives (model, data set, rounds, split).
    pub spec: String,
    /// The token blocks are paid in; `Address::ZERO` for ETH.
    pub block_token: Address,
    /// The price of one block (zero: blocks are not sold).
    pub block_price: U256,
    /// How many blocks its training set is cut into.
    pub total_blocks: u64,
    /// How many are sold now.
    pub blocks_sold: u64,
    /// Members needed to start.
    pub min_participants: u64,
    /// Unix seconds: training must start before it.
    pub start_deadline: u64,
    /// Unix seconds: results must be posted before it.
    pub finish_deadline: u64,
    /// Where it stands.
    pub state: FlTaskState,
    /// Its members now.
    pub members: u64,
    /// What the start paid the investor for blocks bought before it (`None` until started).
    pub block_payments: Option<U256>,
    /// Every block payment the investor received: those and the purchases during training.
    pub block_revenue: U256,
    /// The root rewards are claimed against (reward-pool mode, once finished).
    pub rewards_root: Option<B256>,
    /// The contribution record's content id, once finished.
    pub record_cid: Option<String>,
    /// Unix seconds until which rewards may be claimed (reward-pool mode, once finished).
    pub claim_deadline: Option<u64>,
    /// How many accounts received shares (shareholding mode, once finished).
    pub holders: Option<u64>,
    /// The part of the pool paid to claimants.
    pub claimed: U256,
    /// What went back to the investor after the claim period, once reclaimed.
    pub reclaimed: Option<U256>,
    /// Who cancelled or abandoned it.
    pub cancelled_by: Option<Address>,
    /// The part of the pool the cancellation paid back.
    pub pool_refunded: Option<U256>,
    /// The block it was created in.
    pub created_block: u64,
    /// The transaction that created it.
    pub created_tx: B256,
    /// Unix seconds (block time) it was created at.
    pub created_at: u64,
    /// The block of its latest change.
    pub updated_block: u64,
}

/// An account that joined a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlMemberRow {
    /// The task.
    pub task_id: u64,
    /// The member.
    pub account: Address,
    /// The block of its latest join.
    pub joined_block: u64,
    /// The log index of its latest join in that block (with the block: its place in the join order).
    pub joined_log: u64,
    /// `false` once it left.
    pub active: bool,
    /// Blocks it bought and did not get back.
    pub blocks: u64,
    /// What it paid for blocks before the start (kept as a record afterwards; zero once refunded).
    pub escrowed: U256,
}

/// One purchase of data blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlPurchaseRow {
    /// The task.
    pub task_id: u64,
    /// Who bought.
    pub buyer: Address,
    /// How many blocks.
    pub count: u64,
    /// What they cost, in the task's block token.
    pub cost: U256,
    /// The task's blocks sold after it (a running total).
    pub blocks_sold: u64,
    /// The block it is in.
    pub block_number: u64,
    /// Its log index in that block.
    pub log_index: u64,
    /// Its transaction.
    pub tx_hash: B256,
    /// Bought before the start (the payment was held until then).
    pub held: bool,
    /// The buyer left before the start: paid back, its blocks back on sale.
    pub voided: bool,
}

/// A reward claimed from a task's pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlClaimRow {
    /// The task.
    pub task_id: u64,
    /// Who was paid.
    pub account: Address,
    /// What it was paid.
    pub amount: U256,
    /// The block of the claim.
    pub claimed_block: u64,
    /// The claim's transaction.
    pub claimed_tx: B256,
}

/// An account's shares of a task's model (out of 10^18).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlShareRow {
    /// The task.
    pub task_id: u64,
    /// The holder.
    pub account: Address,
    /// What the results assigned it (zero when it received its shares by transfer).
    pub assigned: U256,
    /// What it holds now.
    pub shares: U256,
}

/// Dividends paid to a shareholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlDividendRow {
    /// The task.
    pub task_id: u64,
    /// The holder.
    pub account: Address,
    /// What it was paid.
    pub amount: U256,
    /// The block of the withdrawal.
    pub block_number: u64,
    /// Its transaction.
    pub tx_hash: B256,
}

/// A paid prediction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlPredictionRow {
    /// The request's id.
    pub request_id: u64,
    /// The task whose model answers it.
    pub task_id: u64,
    /// Who paid.
    pub payer: Address,
    /// What it paid.
    pub fee: U256,
    /// The content hash of the input.
    pub input_hash: B256,
    /// The block of the payment.
    pub block_number: u64,
    /// Its transaction.
    pub tx_hash: B256,
    /// Unix seconds (block time) of the payment.
    pub requested_at: u64,
}

/// What one task paid its investor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlRevenueRow {
    /// The task.
    pub task_id: u64,
    /// How many predictions paid the investor (reward-pool mode only).
    pub predictions: u64,
    /// What those predictions paid, in the task's token.
    pub prediction_fees: U256,
    /// Every block payment it received, in the task's block token.
    pub block_revenue: U256,
}

/// Everything one account has in the federated-learning market.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FlAccountAssets {
    /// The tasks it joined (now or before), newest task first.
    pub memberships: Vec<FlMemberRow>,
    /// Its shares, newest task first.
    pub shares: Vec<FlShareRow>,
    /// The rewards it claimed, newest task first.
    pub claims: Vec<FlClaimRow>,
    /// The dividends it withdrew, newest first.
    pub dividends: Vec<FlDividendRow>,
    /// The predictions it paid for, newest first.
    pub predictions: Vec<FlPredictionRow>,
    /// What the tasks it created paid it, newest task first.
    pub revenue: Vec<FlRevenueRow>,
}

/// Which tasks to list: `None` matches any; the fields combine with AND.
#[derive(Debug, Clone, Copy, Default)]
pub struct FlTaskFilter {
    /// Only tasks in this state.
    pub state: Option<FlTaskState>,
    /// Only tasks of this mode.
    pub mode: Option<FlMode>,
    /// Only tasks this account created.
    pub investor: Option<Address>,
    /// Only tasks this account joined (now or before).
    pub member: Option<Address>,
    /// Only tasks this account created or joined.
    pub account: Option<Address>,
}

pub(super) const TASK_SELECT: &str = "SELECT t.task_id, t.investor, t.coordinator, t.mode, t.token, t.pool, \
     t.prediction_fee, t.spec, t.block_token, t.block_price, t.total_blocks, t.blocks_sold, t.min_participants, \
     t.start_deadline, t.finish_deadline, t.state, t.members, t.block_payments, t.block_revenue, t.rewards_root, \
     t.record_cid, t.claim_deadline, t.holders, t.claimed, t.reclaimed, t.cancelled_by, t.pool_refunded, \
     t.created_block, t.created_tx, t.created_at, t.updated_block FROM fl_tasks t";

fn opt_u64(r: &AnyRow, i: usize) -> Result<Option<u64>> {
    Ok(r.try_get::<Option<i64>, _>(i)?.map(u64_of))
}

pub(super) fn task_row(r: &AnyRow) -> Result<FlTaskRow> {
    Ok(FlTaskRow {
        task_id: u64_of(r.try_get(0)?),
        investor: parsed(r, 1, "task investor")?,
        coordinator: parsed(r, 2, "task coordinator")?,
        mode: parsed(r, 3, "task mode")?,
        token: parsed(r, 4, "task token")?,
        pool: amount(r, 5, "task pool")?,
        prediction_fee: amount(r, 6, "prediction fee")?,
        spec: r.try_get(7)?,
        block_token: parsed(r, 8, "block token")?,
        block_price: amount(r, 9, "block price")?,
        total_blocks: u64_of(r.try_get(10)?),
        blocks_sold: u64_of(r.try_get(11)?),
        min_participants: u64_of(r.try_get(12)?),
        start_deadline: u64_of(r.try_get(13)?),
        finish_deadline: u64_of(r.try_get(14)?),
        state: parsed(r, 15, "task state")?,
        members: u64_of(r.try_get(16)?),
        block_payments: amount_opt(r, 17, "block payments")?,
        block_revenue: amount(r, 18, "block revenue")?,
        rewards_root: parsed_opt(r, 19, "rewards root")?,
        record_cid: r.try_get(20)?,
        claim_deadline: opt_u64(r, 21)?,
        holders: opt_u64(r, 22)?,
        claimed: amount(r, 23, "claimed total")?,
        reclaimed: amount_opt(r, 24, "reclaimed amount")?,
        cancelled_by: parsed_opt(r, 25, "cancelled by")?,
        pool_refunded: amount_opt(r, 26, "pool refund")?,
        created_block: u64_of(r.try_get(27)?),
        created_tx: parsed(r, 28, "task transaction")?,
        created_at: u64_of(r.try_get(29)?),
        updated_block: u64_of(r.try_get(30)?),
    })
}

pub(super) const MEMBER_SELECT: &str =
    "SELECT task_id, account, joined_block, joined_log, active, blocks, escrowed FROM fl_members";

pub(super) fn member_row(r: &AnyRow) -> Result<FlMemberRow> {
    Ok(FlMemberRow {
        task_id: u64_of(r.try_get(0)?),
        account: parsed(r, 1, "member")?,
        joined_block: u64_of(r.try_get(2)?),
        joined_log: u64_of(r.try_get(3)?),
        active: r.try_get::<i64, _>(4)? != 0,
        blocks: u64_of(r.try_get(5)?),
        escrowed: amount(r, 6, "member escrow")?,
    })
}

pub(super) const PURCHASE_SELECT: &str = "SELECT task_id, buyer, block_count, cost, blocks_sold, block_number, \
     log_index, tx_hash, held, voided FROM fl_block_purchases";

pub(super) fn purchase_row(r: &AnyRow) -> Result<FlPurchaseRow> {
    Ok(FlPurchaseRow {
        task_id: u64_of(r.try_get(0)?),
        buyer: parsed(r, 1, "block buyer")?,
        count: u64_of(r.try_get(2)?),
        cost: amount(r, 3, "block cost")?,
        blocks_sold: u64_of(r.try_get(4)?),
        block_number: u64_of(r.try_get(5)?),
        log_index: u64_of(r.try_get(6)?),
        tx_hash: parsed(r, 7, "purchase transaction")?,
        held: r.try_get::<i64, _>(8)? != 0,
        voided: r.try_get::<i64, _>(9)? != 0,
    })
}

pub(super) const CLAIM_SELECT: &str = "SELECT task_id, account, amount, claimed_block, claimed_tx FROM fl_claims";

pub(super) fn claim_row(r: &AnyRow) -> Result<FlClaimRow> {
    Ok(FlClaimRow {
        task_id: u64_of(r.try_get(0)?),
        account: parsed(r, 1, "claimant")?,
        amount: amount(r, 2, "claimed reward")?,
        claimed_block: u64_of(r.try_get(3)?),
        claimed_tx: parsed(r, 4, "claim transaction")?,
    })
}

pub(super) const SHARE_SELECT: &str = "SELECT task_id, account, assigned, shares FROM fl_shares";

pub(super) fn share_row(r: &AnyRow) -> Result<FlShareRow> {
    Ok(FlShareRow {
        task_id: u64_of(r.try_get(0)?),
        account: parsed(r, 1, "shareholder")?,
        assigned: amount(r, 2, "assigned shares")?,
        shares: amount(r, 3, "shares")?,
    })
}

pub(super) const DIVIDEND_SELECT: &str =
    "SELECT task_id, account, amount, block_number, tx_hash FROM fl_dividends_withdrawn";

pub(super) fn dividend_row(r: &AnyRow) -> Result<FlDividendRow> {
    Ok(FlDividendRow {
        task_id: u64_of(r.try_get(0)?),
        account: parsed(r, 1, "dividend receiver")?,
        amount: amount(r, 2, "dividend")?,
        block_number: u64_of(r.try_get(3)?),
        tx_hash: parsed(r, 4, "dividend transaction")?,
    })
}

pub(super) const PREDICTION_SELECT: &str = "SELECT request_id, task_id, payer, fee, input_hash, block_number, \
     tx_hash, requested_at FROM fl_predictions";

pub(super) fn prediction_row(r: &AnyRow) -> Result<FlPredictionRow> {
    Ok(FlPredictionRow {
        request_id: u64_of(r.try_get(0)?),
        task_id: u64_of(r.try_get(1)?),
        payer: parsed(r, 2, "prediction payer")?,
        fee: amount(r, 3, "prediction fee")?,
        input_hash: parsed(r, 4, "prediction input hash")?,
        block_number: u64_of(r.try_get(5)?),
        tx_hash: parsed(r, 6, "prediction transaction")?,
        requested_at: u64_of(r.try_get(7)?),
    })
}

/// A stored decimal amount read outside a row helper.
pub(super) fn amount_text(text: &str, what: &str) -> Result<U256> {
    U256::from_str_radix(text, 10).map_err(|_| Error::Inconsistent(format!("stored {what} {text:?} does not parse")))
}

/// Rows of (task id, mode, block revenue, a prediction's fee or NULL), ordered by task, summed per
/// task; fees count only in reward-pool mode.
pub(super) fn revenue_rows(rows: &[AnyRow]) -> Result<Vec<FlRevenueRow>> {
    let mut out: Vec<FlRevenueRow> = Vec::new();
    for r in rows {
        let task_id = u64_of(r.try_get(0)?);
        if out.last().is_none_or(|last| last.task_id != task_id) {
            out.push(FlRevenueRow {
                task_id,
                predictions: 0,
                prediction_fees: U256::ZERO,
                block_revenue: amount(r, 2, "block revenue")?,
            });
        }
        let mode: FlMode = parsed(r, 1, "task mode")?;
        let fee: Option<String> = r.try_get(3)?;
        // A forwarded batch of fees counts as the predictions it paid for.
        let count: Option<i64> = r.try_get(4)?;
        if let (FlMode::RewardPool, Some(fee), Some(last)) = (mode, fee, out.last_mut()) {
            last.predictions += count.map_or(1, u64_of);
            last.prediction_fees += amount_text(&fee, "prediction fee")?;
        }
    }
    Ok(out)
}
