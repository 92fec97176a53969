//! How each TaskBoard event changes `board_tasks`, `board_claims` and `board_settings`. The slot
//! counters move exactly as the contract moves them (and are checked against the figures the events
//! carry), so a row reads as `getTask` and `getClaim` answer; amounts are summed as `U256`.

use alloy::primitives::U256;
use sqlx::{Any, Row, Transaction};

use super::ctx::Ctx;
use super::{BoardClaimState, BoardTaskState};
use crate::column::i64_of;
use crate::{BoardEvent, LogMeta, Result};

/// A task's slot counters (the contract's `working`, `active`, `settled` out of `slots`).
#[derive(Debug, Clone, Copy)]
struct Slots {
    slots: i64,
    working: i64,
    active: i64,
    settled: i64,
}

impl Slots {
    fn free(&self) -> i64 {
        self.slots - self.working - self.active - self.settled
    }
}

/// Applies one TaskBoard event and returns the rows it changed (1 when it applied). Called by
/// `crate::apply`, in the transaction that stores the log.
pub(crate) async fn apply_board(
    tx: &mut Transaction<'_, Any>,
    chain: i64,
    block: i64,
    meta: &LogMeta,
    event: &BoardEvent,
) -> Result<u64> {
    let mut c = Ctx::new(tx, chain, block, meta, event.kind(), event.subject())?;
    let q = |sql: &'static str| sqlx::query(sql);
    let task = match event.task_id() {
        Some(id) => i64_of(id)?,
        None => 0,
    };
    match event {
        BoardEvent::TaskPublished {
            publisher,
            community_id,
            token,
            reward,
            reward_per_slot,
            slots,
            points,
            deadline,
            review_window,
            work_timeout,
            max_revisions,
            arbiter,
            spec,
            ..
        } => {
            let community = if *community_id == 0 { None } else { Some(i64_of(*community_id)?) };
            let insert = q("INSERT INTO board_tasks (chain_id, task_id, publisher, community_id, token, reward, \
                 reward_per_slot, points, slots, free_slots, working, active, settled, deadline, review_window, \
                 work_timeout, max_revisions, arbiter, spec, state, submitted, paid_to_workers, refunded, \
                 points_minted, created_block, created_tx, created_at, updated_block, updated_at) VALUES ($1, $2, $3, \
                 $4, $5, $6, $7, $8, $9, $9, 0, 0, 0, $10, $11, $12, $13, $14, $15, $16, 0, '0', '0', '0', $17, $18, \
                 $19, $17, $19)")
            .bind(chain)
            .bind(task)
            .bind(publisher)
            .bind(community)
            .bind(token)
            .bind(reward)
            .bind(reward_per_slot)
            .bind(points)
            .bind(i64_of(*slots)?)
            .bind(i64_of(*deadline)?)
            .bind(i64_of(*review_window)?)
            .bind(i64_of(*work_timeout)?)
            .bind(i64_of(*max_revisions)?)
            .bind(arbiter)
            .bind(spec)
            .bind(BoardTaskState::Open.as_str())
            .bind(block)
            .bind(&meta.tx_hash)
            .bind(c.at);
            c.one(insert, "publishing the task").await?;
        }
        BoardEvent::DeadlineExtended { deadline, .. } => {
            let update = q("UPDATE board_tasks SET deadline = $1, updated_block = $2, updated_at = $3 \
                 WHERE chain_id = $4 AND task_id = $5 AND state = 'open'")
            .bind(i64_of(*deadline)?)
            .bind(block)
            .bind(c.at)
            .bind(chain)
            .bind(task);
            c.one(update, "the deadline").await?;
        }
        BoardEvent::TaskAccepted { worker, free_slots, .. } => {
            let mut s = slots(&mut c, task).await?;
            s.working += 1;
            if s.free() != i64_of(*free_slots)? {
                return Err(c.inconsistent(&format!("{} free slots here, {free_slots} on chain", s.free())));
            }
            let insert = q("INSERT INTO board_claims (chain_id, task_id, worker, state, revisions, accepted_at, since, \
                 paid, publisher_share, points, accepted_block, accepted_log, updated_block) VALUES ($1, $2, $3, $4, 0, \
                 $5, $5, '0', '0', '0', $6, $7, $6)")
            .bind(chain)
            .bind(task)
            .bind(worker)
            .bind(BoardClaimState::Working.as_str())
            .bind(c.at)
            .bind(block)
            .bind(i64_of(meta.log_index)?);
            c.one(insert, "the claim").await?;
            set_slots(&mut c, task, s, None).await?;
        }
        BoardEvent::WorkSubmitted { worker, revision, deliverable, review_ends_at, .. } => {
            let before = claim_state(&mut c, task, worker).await?;
            match before {
                BoardClaimState::Working => {
                    let mut s = slots(&mut c, task).await?;
                    s.working -= 1;
                    s.active += 1;
                    set_slots(&mut c, task, s, Some("submitted = 1")).await?;
                }
                BoardClaimState::Rejected => {}
                other => return Err(c.inconsistent(&format!("submission on a {other} claim"))),
            }
            let update = q("UPDATE board_claims SET state = $1, revisions = $2, since = $3, deliverable = $4, \
                 review_ends_at = $5, updated_block = $6 WHERE chain_id = $7 AND task_id = $8 AND worker = $9")
            .bind(BoardClaimState::Submitted.as_str())
            .bind(i64_of(*revision)?)
            .bind(c.at)
            .bind(deliverable)
            .bind(i64_of(*review_ends_at)?)
            .bind(block)
            .bind(chain)
            .bind(task)
            .bind(worker);
            c.one(update, "the submission").await?;
        }
        BoardEvent::SubmissionApproved { worker, by, lapsed, amount, points, .. } => {
            expect_claim(&mut c, task, worker, BoardClaimState::Submitted).await?;
            let update =
                q("UPDATE board_claims SET state = $1, since = $2, approved_by = $3, lapsed = $4, paid = $5, \
                 points = $6, updated_block = $7 WHERE chain_id = $8 AND task_id = $9 AND worker = $10")
                .bind(BoardClaimState::Approved.as_str())
                .bind(c.at)
                .bind(by)
                .bind(i64::from(*lapsed))
                .bind(amount)
                .bind(points)
                .bind(block)
                .bind(chain)
                .bind(task)
                .bind(worker);
            c.one(update, "the approval").await?;
            let sums = [c.amount(amount)?, U256::ZERO, c.amount(points)?];
            settle(&mut c, task, 1, true, sums).await?;
        }
        BoardEvent::SubmissionRejected { worker, reason, revisions_left, answer_ends_at, .. } => {
            expect_claim(&mut c, task, worker, BoardClaimState::Submitted).await?;
            let update = q("UPDATE board_claims SET state = $1, since = $2, reject_reason = $3, revisions_left = $4, \
                 answer_ends_at = $5, updated_block = $6 WHERE chain_id = $7 AND task_id = $8 AND worker = $9")
            .bind(BoardClaimState::Rejected.as_str())
            .bind(c.at)
            .bind(reason)
            .bind(i64_of(*revisions_left)?)
            .bind(i64_of(*answer_ends_at)?)
            .bind(block)
            .bind(chain)
            .bind(task)
            .bind(worker);
            c.one(update, "the rejection").await?;
        }
        BoardEvent::DisputeOpened { worker, reason, .. } => {
            expect_claim(&mut c, task, worker, BoardClaimState::Rejected).await?;
            let update = q("UPDATE board_claims SET state = $1, since = $2, dispute_reason = $3, updated_block = $4 \
                 WHERE chain_id = $5 AND task_id = $6 AND worker = $7")
            .bind(BoardClaimState::Disputed.as_str())
            .bind(c.at)
            .bind(reason)
            .bind(block)
            .bind(chain)
            .bind(task)
            .bind(worker);
            c.one(update, "the dispute").await?;
        }
        BoardEvent::DisputeResolved { worker, worker_bps, to_worker, to_publisher, points, .. } => {
            expect_claim(&mut c, task, worker, BoardClaimState::Disputed).await?;
            let update = q("UPDATE board_claims SET state = $1, since = $2, worker_bps = $3, paid = $4, \
                 publisher_share = $5, points = $6, updated_block = $7 WHERE chain_id = $8 AND task_id = $9 \
                 AND worker = $10")
            .bind(BoardClaimState::Resolved.as_str())
            .bind(c.at)
            .bind(i64_of(*worker_bps)?)
            .bind(to_worker)
            .bind(to_publisher)
            .bind(points)
            .bind(block)
            .bind(chain)
            .bind(task)
            .bind(worker);
            c.one(update, "the decision").await?;
            let sums = [c.amount(to_worker)?, c.amount(to_publisher)?, c.amount(points)?];
            settle(&mut c, task, 1, true, sums).await?;
        }
        BoardEvent::WorkerRemoved { worker, .. } => {
            expect_claim(&mut c, task, worker, BoardClaimState::Working).await?;
            set_claim_state(&mut c, task, worker, BoardClaimState::Removed).await?;
            let mut s = slots(&mut c, task).await?;
            s.working -= 1;
            set_slots(&mut c, task, s, None).await?;
        }
        BoardEvent::RejectionClosed { worker, refunded, .. } => {
            expect_claim(&mut c, task, worker, BoardClaimState::Rejected).await?;
            set_claim_state(&mut c, task, worker, BoardClaimState::Closed).await?;
            let refunded = c.amount(refunded)?;
            // Before the deadline the slot is free again (nothing refunded); from it, it is refunded.
            let settled = i64::from(!refunded.is_zero());
            settle(&mut c, task, settled, true, [U256::ZERO, refunded, U256::ZERO]).await?;
        }
        BoardEvent::TaskCancelled { slots: count, refunded, .. } => {
            let mut s = slots(&mut c, task).await?;
            if i64_of(*count)? != s.slots - s.settled {
                return Err(c.inconsistent(&format!("{count} slots cancelled of {} unsettled", s.slots - s.settled)));
            }
            s.working = 0;
            s.settled = s.slots;
            set_slots(&mut c, task, s, Some("state = 'cancelled'")).await?;
            let sums = [U256::ZERO, c.amount(refunded)?, U256::ZERO];
            settle(&mut c, task, 0, false, sums).await?;
        }
        BoardEvent::TaskRefunded { slots: count, refunded, .. } => {
            let mut s = slots(&mut c, task).await?;
            if i64_of(*count)? != s.free() + s.working {
                return Err(c.inconsistent(&format!("{count} slots refunded of {}", s.free() + s.working)));
            }
            s.settled += s.free() + s.working;
            s.working = 0;
            set_slots(&mut c, task, s, None).await?;
            let sums = [U256::ZERO, c.amount(refunded)?, U256::ZERO];
            settle(&mut c, task, 0, false, sums).await?;
        }
        BoardEvent::PlatformArbiterSet { arbiter } => {
            let upsert =
                q("INSERT INTO board_settings (chain_id, platform_arbiter, updated_block) VALUES ($1, $2, $3) \
                 ON CONFLICT (chain_id) DO UPDATE SET platform_arbiter = excluded.platform_arbiter, \
                 updated_block = excluded.updated_block")
                .bind(chain)
                .bind(arbiter)
                .bind(block);
            c.one(upsert, "the platform arbiter").await?;
        }
    }
    Ok(1)
}

/// The open task's slot counters.
async fn slots(c: &mut Ctx<'_, '_>, task: i64) -> Result<Slots> {
    let row = c
        .row(
            sqlx::query(
                "SELECT slots, working, active, settled FROM board_tasks WHERE chain_id = $1 AND task_id = $2 \
                 AND state = 'open'",
            )
            .bind(c.chain)
            .bind(task),
        )
        .await?
        .ok_or_else(|| c.inconsistent("no open task"))?;
    Ok(Slots { slots: row.try_get(0)?, working: row.try_get(1)?, active: row.try_get(2)?, settled: row.try_get(3)? })
}

/// Writes the counters back (and `extra`, a fixed assignment), refusing any that leaves the range.
async fn set_slots(c: &mut Ctx<'_, '_>, task: i64, s: Slots, extra: Option<&'static str>) -> Result<()> {
    if s.working < 0 || s.active < 0 || s.free() < 0 {
        return Err(c.inconsistent(&format!("slot counters out of range: {s:?}")));
    }
    let extra = extra.map(|e| format!(", {e}")).unwrap_or_default();
    let sql = format!(
        "UPDATE board_tasks SET working = $1, active = $2, settled = $3, free_slots = $4, updated_block = $5, \
         updated_at = $6{extra} WHERE chain_id = $7 AND task_id = $8"
    );
    let update = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(s.working)
        .bind(s.active)
        .bind(s.settled)
        .bind(s.free())
        .bind(c.block)
        .bind(c.at)
        .bind(c.chain)
        .bind(task);
    c.one(update, "the slot counters").await
}

/// Settles `count` slots (taking them from `active` when `from_active`, else the caller moved the
/// counters) and adds `[to workers, to the publisher, points minted]` to the task's sums.
async fn settle(c: &mut Ctx<'_, '_>, task: i64, count: i64, from_active: bool, sums: [U256; 3]) -> Result<()> {
    if from_active {
        let mut s = slots(c, task).await?;
        s.active -= 1;
        s.settled += count;
        set_slots(c, task, s, None).await?;
    }
    let row = c
        .row(
            sqlx::query(
                "SELECT paid_to_workers, refunded, points_minted FROM board_tasks WHERE chain_id = $1 AND task_id = $2",
            )
            .bind(c.chain)
            .bind(task),
        )
        .await?
        .ok_or_else(|| c.inconsistent("no task"))?;
    let paid = c.plus(c.amount_at(&row, 0)?, sums[0], "paid to workers")?;
    let refunded = c.plus(c.amount_at(&row, 1)?, sums[1], "refunded")?;
    let points = c.plus(c.amount_at(&row, 2)?, sums[2], "points minted")?;
    let update = sqlx::query(
        "UPDATE board_tasks SET paid_to_workers = $1, refunded = $2, points_minted = $3 WHERE chain_id = $4 \
         AND task_id = $5",
    )
    .bind(paid.to_string())
    .bind(refunded.to_string())
    .bind(points.to_string())
    .bind(c.chain)
    .bind(task);
    c.one(update, "the task's sums").await
}

/// The worker's claim state on the task.
async fn claim_state(c: &mut Ctx<'_, '_>, task: i64, worker: &str) -> Result<BoardClaimState> {
    let row = c
        .row(
            sqlx::query("SELECT state FROM board_claims WHERE chain_id = $1 AND task_id = $2 AND worker = $3")
                .bind(c.chain)
                .bind(task)
                .bind(worker.to_owned()),
        )
        .await?
        .ok_or_else(|| c.inconsistent(&format!("no claim of {worker}")))?;
    let state: String = row.try_get(0)?;
    state.parse().map_err(|_| c.inconsistent(&format!("stored claim state {state:?}")))
}

/// Fails unless the worker's claim is in `state` (the contract's `_claimIn`).
async fn expect_claim(c: &mut Ctx<'_, '_>, task: i64, worker: &str, state: BoardClaimState) -> Result<()> {
    let found = claim_state(c, task, worker).await?;
    if found != state {
        return Err(c.inconsistent(&format!("claim of {worker} is {found}, not {state}")));
    }
    Ok(())
}

async fn set_claim_state(c: &mut Ctx<'_, '_>, task: i64, worker: &str, state: BoardClaimState) -> Result<()> {
    let update = sqlx::query(
        "UPDATE board_claims SET state = $1, since = $2, updated_block = $3 WHERE chain_id = $4 AND task_id = $5 \
         AND worker = $6",
    )
    .bind(state.as_str())
    .bind(c.at)
    .bind(c.block)
    .bind(c.chain)
    .bind(task)
    .bind(worker.to_owned());
    c.one(update, "the claim's state").await
}
