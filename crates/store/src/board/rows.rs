//! The community task market's typed rows and how they are read from the board and community tables.

use alloy::primitives::{Address, B256, U256};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{BoardClaimState, BoardTaskState};
use crate::BoardEvent;
use crate::Result;
use crate::column::{amount, parsed, parsed_opt, u64_of};

/// A task with its terms and counters, as TaskBoard's `getTask` has them, and what left its escrow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardTaskRow {
    /// Its id (1, 2, …).
    pub task_id: u64,
    /// Who published it and pays for it.
    pub publisher: Address,
    /// Its community (`None`: none; disputes then go to the platform arbiter).
    pub community_id: Option<u64>,
    /// The reward's token; `Address::ZERO` for ETH.
    pub token: Address,
    /// The whole reward escrowed at publication.
    pub reward: U256,
    /// What each slot pays.
    pub reward_per_slot: U256,
    /// Points each approved worker is minted (zero: none).
    pub points: U256,
    /// How many workers it pays.
    pub slots: u64,
    /// Slots nobody holds (`slots - working - active - settled`; the contract's `freeSlots` also
    /// answers 0 past the deadline or once cancelled).
    pub free_slots: u64,
    /// Slots held with nothing submitted.
    pub working: u64,
    /// Slots with a submission not yet settled.
    pub active: u64,
    /// Slots paid out or refunded.
    pub settled: u64,
    /// Unix seconds: first submissions are taken until then.
    pub deadline: u64,
    /// Seconds the publisher has to review each submission.
    pub review_window: u64,
    /// Seconds after which a worker with nothing submitted may be removed.
    pub work_timeout: u64,
    /// How many times a rejected worker may submit again.
    pub max_revisions: u64,
    /// Who decides its disputes.
    pub arbiter: Address,
    /// Its description (a URI or CID).
    pub spec: String,
    /// Open or cancelled.
    pub state: BoardTaskState,
    /// Whether any submission was ever made (it can no longer be cancelled).
    pub submitted: bool,
    /// What workers were paid (approvals and their share of decisions).
    pub paid_to_workers: U256,
    /// What went back to the publisher (cancellation, refunds, closed rejections, decisions).
    pub refunded: U256,
    /// Points minted to its workers.
    pub points_minted: U256,
    /// The block it was published in.
    pub created_block: u64,
    /// The transaction that published it.
    pub created_tx: B256,
    /// Unix seconds (block time) it was published at.
    pub created_at: u64,
    /// The block of its latest change.
    pub updated_block: u64,
    /// Unix seconds (block time) of its latest change.
    pub updated_at: u64,
}

/// A worker's claim on a slot, as TaskBoard's `getClaim` has it, and what the events told about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardClaimRow {
    /// The task.
    pub task_id: u64,
    /// The worker.
    pub worker: Address,
    /// Where it stands.
    pub state: BoardClaimState,
    /// Revisions submitted after rejections.
    pub revisions: u64,
    /// Unix seconds it accepted at.
    pub accepted_at: u64,
    /// Unix seconds it entered its current state at.
    pub since: u64,
    /// The latest deliverable submitted.
    pub deliverable: Option<String>,
    /// Unix seconds the latest submission's review ends at.
    pub review_ends_at: Option<u64>,
    /// Why the latest rejection was made.
    pub reject_reason: Option<String>,
    /// Revisions left after the latest rejection.
    pub revisions_left: Option<u64>,
    /// Unix seconds the worker may answer the latest rejection until.
    pub answer_ends_at: Option<u64>,
    /// Why the worker disputed.
    pub dispute_reason: Option<String>,
    /// The arbiter's decision: the worker's share in basis points.
    pub worker_bps: Option<u64>,
    /// Who approved (the publisher, or anyone after the review window lapsed).
    pub approved_by: Option<Address>,
    /// Whether the approval came from a lapsed review window.
    pub lapsed: Option<bool>,
    /// What the worker was paid.
    pub paid: U256,
    /// What an arbiter's decision gave back to the publisher.
    pub publisher_share: U256,
    /// Points minted to the worker.
    pub points: U256,
    /// The block it accepted in.
    pub accepted_block: u64,
    /// The block of its latest change.
    pub updated_block: u64,
}

/// One log of a task's history, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardTimelineEntry {
    /// What happened.
    pub event: BoardEvent,
    /// The block that holds the log.
    pub block_number: u64,
    /// That block's time, unix seconds.
    pub block_timestamp: u64,
    /// The transaction that emitted it.
    pub tx_hash: B256,
    /// Its position in the block.
    pub log_index: u64,
}

/// A community.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunityRow {
    /// Its id (1, 2, …).
    pub community_id: u64,
    /// Its owner (an admin by the contract's rule).
    pub owner: Address,
    /// Who was offered ownership and has not accepted yet.
    pub pending_owner: Option<Address>,
    /// Who decides disputes of tasks published from now on.
    pub arbiter: Address,
    /// Its points token (an ERC-20 without decimals).
    pub points_token: Address,
    /// Its name (also the points' name).
    pub name: String,
    /// The points' symbol.
    pub symbol: String,
    /// Where its description lives.
    pub metadata_uri: String,
    /// Whether points may be transferred between accounts.
    pub transfers_enabled: bool,
    /// Its members.
    pub member_count: u64,
    /// Every point minted (the token's total supply).
    pub points_supply: U256,
    /// The block it was created in.
    pub created_block: u64,
    /// The transaction that created it.
    pub created_tx: B256,
    /// Unix seconds (block time) it was created at.
    pub created_at: u64,
    /// The block of its latest change.
    pub updated_block: u64,
}

/// A member, or an appointed admin, of a community.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunityMemberRow {
    /// The community.
    pub community_id: u64,
    /// The account.
    pub account: Address,
    /// The block it joined (or was appointed) in.
    pub since_block: u64,
    /// Unix seconds (block time) it joined (or was appointed) at.
    pub since: u64,
}

/// An account's points in a community.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunityPointsRow {
    /// The community.
    pub community_id: u64,
    /// The account.
    pub account: Address,
    /// Its balance (the token's `balanceOf`).
    pub balance: U256,
}

/// A minting budget admins gave a contract (the TaskBoard), as `mintBudget` has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunityMinterRow {
    /// The community.
    pub community_id: u64,
    /// The minter.
    pub minter: Address,
    /// What it may still reserve.
    pub allowance: U256,
    /// What it reserved for promises not yet settled.
    pub reserved: U256,
}

pub(super) const TASK_SELECT: &str = "SELECT t.task_id, t.publisher, t.community_id, t.token, t.reward, \
     t.reward_per_slot, t.points, t.slots, t.free_slots, t.working, t.active, t.settled, t.deadline, t.review_window, \
     t.work_timeout, t.max_revisions, t.arbiter, t.spec, t.state, t.submitted, t.paid_to_workers, t.refunded, \
     t.points_minted, t.created_block, t.created_tx, t.created_at, t.updated_block, t.updated_at FROM board_tasks t";

pub(super) fn task_row(r: &AnyRow) -> Result<BoardTaskRow> {
    let n = |i: usize| -> Result<u64> { Ok(u64_of(r.try_get(i)?)) };
    Ok(BoardTaskRow {
        task_id: n(0)?,
        publisher: parsed(r, 1, "task publisher")?,
        community_id: r.try_get::<Option<i64>, _>(2)?.map(u64_of),
        token: parsed(r, 3, "task token")?,
        reward: amount(r, 4, "task reward")?,
        reward_per_slot: amount(r, 5, "task reward per slot")?,
        points: amount(r, 6, "task points")?,
        slots: n(7)?,
        free_slots: n(8)?,
        working: n(9)?,
        active: n(10)?,
        settled: n(11)?,
        deadline: n(12)?,
        review_window: n(13)?,
        work_timeout: n(14)?,
        max_revisions: n(15)?,
        arbiter: parsed(r, 16, "task arbiter")?,
        spec: r.try_get(17)?,
        state: parsed(r, 18, "task state")?,
        submitted: r.try_get::<i64, _>(19)? != 0,
        paid_to_workers: amount(r, 20, "task paid to workers")?,
        refunded: amount(r, 21, "task refunded")?,
        points_minted: amount(r, 22, "task points minted")?,
        created_block: n(23)?,
        created_tx: parsed(r, 24, "task transaction")?,
        created_at: n(25)?,
        updated_block: n(26)?,
        updated_at: n(27)?,
    })
}

pub(super) const CLAIM_SELECT: &str = "SELECT task_id, worker, state, revisions, accepted_at, since, deliverable, \
     review_ends_at, reject_reason, revisions_left, answer_ends_at, dispute_reason, worker_bps, approved_by, lapsed, \
     paid, publisher_share, points, accepted_block, updated_block FROM board_claims";

pub(super) fn claim_row(r: &AnyRow) -> Result<BoardClaimRow> {
    let n = |i: usize| -> Result<u64> { Ok(u64_of(r.try_get(i)?)) };
    let opt = |i: usize| -> Result<Option<u64>> { Ok(r.try_get::<Option<i64>, _>(i)?.map(u64_of)) };
    Ok(BoardClaimRow {
        task_id: n(0)?,
        worker: parsed(r, 1, "claim worker")?,
        state: parsed(r, 2, "claim state")?,
        revisions: n(3)?,
        accepted_at: n(4)?,
        since: n(5)?,
        deliverable: r.try_get(6)?,
        review_ends_at: opt(7)?,
        reject_reason: r.try_get(8)?,
        revisions_left: opt(9)?,
        answer_ends_at: opt(10)?,
        dispute_reason: r.try_get(11)?,
        worker_bps: opt(12)?,
        approved_by: parsed_opt(r, 13, "claim approver")?,
        lapsed: opt(14)?.map(|v| v != 0),
        paid: amount(r, 15, "claim paid")?,
        publisher_share: amount(r, 16, "claim publisher share")?,
        points: amount(r, 17, "claim points")?,
        accepted_block: n(18)?,
        updated_block: n(19)?,
    })
}

pub(super) const COMMUNITY_SELECT: &str = "SELECT c.community_id, c.owner, c.pending_owner, c.arbiter, \
     c.points_token, c.name, c.symbol, c.metadata_uri, c.transfers_enabled, c.member_count, c.points_supply, \
     c.created_block, c.created_tx, c.created_at, c.updated_block FROM communities c";

pub(super) fn community_row(r: &AnyRow) -> Result<CommunityRow> {
    let n = |i: usize| -> Result<u64> { Ok(u64_of(r.try_get(i)?)) };
    Ok(CommunityRow {
        community_id: n(0)?,
        owner: parsed(r, 1, "community owner")?,
        pending_owner: parsed_opt(r, 2, "community pending owner")?,
        arbiter: parsed(r, 3, "community arbiter")?,
        points_token: parsed(r, 4, "community points token")?,
        name: r.try_get(5)?,
        symbol: r.try_get(6)?,
        metadata_uri: r.try_get(7)?,
        transfers_enabled: r.try_get::<i64, _>(8)? != 0,
        member_count: n(9)?,
        points_supply: amount(r, 10, "community points supply")?,
        created_block: n(11)?,
        created_tx: parsed(r, 12, "community transaction")?,
        created_at: n(13)?,
        updated_block: n(14)?,
    })
}

/// `(community_id, account, block, time)` rows of `community_members` or `community_admins`.
pub(crate) fn member_row(r: &AnyRow) -> Result<CommunityMemberRow> {
    Ok(CommunityMemberRow {
        community_id: u64_of(r.try_get(0)?),
        account: parsed(r, 1, "community account")?,
        since_block: u64_of(r.try_get(2)?),
        since: u64_of(r.try_get(3)?),
    })
}

pub(super) fn points_row(r: &AnyRow) -> Result<CommunityPointsRow> {
    Ok(CommunityPointsRow {
        community_id: u64_of(r.try_get(0)?),
        account: parsed(r, 1, "points holder")?,
        balance: amount(r, 2, "points balance")?,
    })
}

pub(super) fn minter_row(r: &AnyRow) -> Result<CommunityMinterRow> {
    Ok(CommunityMinterRow {
        community_id: u64_of(r.try_get(0)?),
        minter: parsed(r, 1, "minter")?,
        allowance: amount(r, 2, "minter allowance")?,
        reserved: amount(r, 3, "minter reservation")?,
    })
}
