//! The community task market as indexed from the `TaskBoard` and `Communities` contracts' logs and
//! the communities' points tokens' `Transfer` logs: tasks with their terms, counters and what left
//! their escrow, workers' claims, communities with their admins, members, minting budgets and
//! points balances. All of it is derived state (a reorg rebuilds it) and changes only through
//! [`apply_board`] and [`apply_community`], which `crate::apply` calls for [`crate::BoardEvent`]s
//! and [`crate::CommunityEvent`]s. A task's history is read back from `chain_logs` (its subject is
//! `board-task:<id>`).

mod apply;
mod community;
mod ctx;
mod rows;

use alloy::primitives::{Address, U256};

use crate::column::{self, i64_of, parsed, stored_enum, u64_of};
use crate::{Error, Result, Store, stored_event};

pub(crate) use apply::apply_board;
pub(crate) use community::apply_community;
pub(crate) use rows::member_row;
pub use rows::{
    BoardClaimRow, BoardTaskRow, BoardTimelineEntry, CommunityMemberRow, CommunityMinterRow, CommunityPointsRow,
    CommunityRow,
};

/// The tables [`apply_board`] and [`apply_community`] derive, emptied before a rebuild.
pub(crate) const DERIVED_TABLES: [&str; 8] = [
    "board_tasks",
    "board_claims",
    "board_settings",
    "communities",
    "community_admins",
    "community_members",
    "community_points",
    "community_minters",
];

stored_enum! {
    /// Where a task stands on chain (the contract's `TaskState`, less `None`).
    pub enum BoardTaskState {
        /// Published; slots are taken, worked on and settled (refunded after the deadline).
        Open => "open",
        /// Cancelled by its publisher before any submission; every unsettled slot went back.
        Cancelled => "cancelled",
    }
}

stored_enum! {
    /// Where a worker's claim on a slot stands (the contract's `ClaimState`, less `None`).
    pub enum BoardClaimState {
        /// Accepted, nothing submitted yet.
        Working => "working",
        /// Submitted; the publisher reviews until the review window ends.
        Submitted => "submitted",
        /// Rejected; the worker may revise or dispute until the answer window ends.
        Rejected => "rejected",
        /// Disputed; the task's arbiter decides.
        Disputed => "disputed",
        /// Approved and paid.
        Approved => "approved",
        /// Decided by the arbiter.
        Resolved => "resolved",
        /// Removed by the publisher after the work timeout; the slot is free again.
        Removed => "removed",
        /// A rejection left unanswered was closed.
        Closed => "closed",
    }
}

/// Which tasks [`Store::board_tasks`] lists; every field set must match.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BoardTaskFilter {
    /// Tasks of this community.
    pub community_id: Option<u64>,
    /// Tasks in this state.
    pub state: Option<BoardTaskState>,
    /// Tasks this account published.
    pub publisher: Option<Address>,
    /// Tasks this account holds (or held) a claim on.
    pub worker: Option<Address>,
    /// Tasks paying in this token (`Address::ZERO`: ETH).
    pub token: Option<Address>,
}

/// Which communities [`Store::communities`] lists; every field set must match.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommunityFilter {
    /// Communities this account owns.
    pub owner: Option<Address>,
    /// Communities this account is a member of.
    pub member: Option<Address>,
}

fn key(a: Option<Address>) -> String {
    a.map(column::hex).unwrap_or_default()
}

impl Store {
    /// Tasks matching `filter`, newest first, `offset` skipped.
    pub async fn board_tasks(
        &self,
        chain_id: u64,
        filter: BoardTaskFilter,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<BoardTaskRow>> {
        let sql = format!(
            "{} WHERE t.chain_id = $1 AND ($2 = 0 OR t.community_id = $2) AND ($3 = '' OR t.state = $3) \
             AND ($4 = '' OR t.publisher = $4) AND ($5 = '' OR EXISTS (SELECT 1 FROM board_claims c \
             WHERE c.chain_id = t.chain_id AND c.task_id = t.task_id AND c.worker = $5)) \
             AND ($6 = '' OR t.token = $6) ORDER BY t.task_id DESC LIMIT $7 OFFSET $8",
            rows::TASK_SELECT
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(i64_of(filter.community_id.unwrap_or(0))?)
            .bind(filter.state.map(BoardTaskState::as_str).unwrap_or_default())
            .bind(key(filter.publisher))
            .bind(key(filter.worker))
            .bind(key(filter.token))
            .bind(i64::from(limit))
            .bind(i64_of(offset)?)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(rows::task_row).collect()
    }

    /// One task.
    pub async fn board_task(&self, chain_id: u64, task_id: u64) -> Result<Option<BoardTaskRow>> {
        let sql = format!("{} WHERE t.chain_id = $1 AND t.task_id = $2", rows::TASK_SELECT);
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(i64_of(task_id)?)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(rows::task_row).transpose()
    }

    /// A task's claims, in the order they were accepted.
    pub async fn board_claims(&self, chain_id: u64, task_id: u64) -> Result<Vec<BoardClaimRow>> {
        let sql = format!(
            "{} WHERE chain_id = $1 AND task_id = $2 ORDER BY accepted_block, accepted_log",
            rows::CLAIM_SELECT
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(i64_of(task_id)?)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(rows::claim_row).collect()
    }

    /// One worker's claim on a task.
    pub async fn board_claim(&self, chain_id: u64, task_id: u64, worker: Address) -> Result<Option<BoardClaimRow>> {
        let sql = format!("{} WHERE chain_id = $1 AND task_id = $2 AND worker = $3", rows::CLAIM_SELECT);
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(i64_of(task_id)?)
            .bind(column::hex(worker))
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(rows::claim_row).transpose()
    }

    /// The claims `worker` holds or held, newest task first.
    pub async fn board_claims_of(
        &self,
        chain_id: u64,
        worker: Address,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<BoardClaimRow>> {
        let sql = format!(
            "{} WHERE chain_id = $1 AND worker = $2 ORDER BY task_id DESC LIMIT $3 OFFSET $4",
            rows::CLAIM_SELECT
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(column::hex(worker))
            .bind(i64::from(limit))
            .bind(i64_of(offset)?)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(rows::claim_row).collect()
    }

    /// A task's history: every TaskBoard log about it, decoded, in chain order.
    pub async fn board_task_timeline(&self, chain_id: u64, task_id: u64) -> Result<Vec<BoardTimelineEntry>> {
        use sqlx::Row;
        let rows = sqlx::query(
            "SELECT event, block_number, block_timestamp, tx_hash, log_index FROM chain_logs \
             WHERE chain_id = $1 AND subject = $2 ORDER BY block_number, log_index",
        )
        .bind(i64_of(chain_id)?)
        .bind(format!("board-task:{task_id}"))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let event = match stored_event::decode(&r.try_get::<String, _>(0)?)? {
                    crate::MarketEvent::Board(event) => event,
                    other => return Err(Error::Inconsistent(format!("{} logged about a board task", other.kind()))),
                };
                Ok(BoardTimelineEntry {
                    event,
                    block_number: u64_of(r.try_get(1)?),
                    block_timestamp: u64_of(r.try_get(2)?),
                    tx_hash: parsed(r, 3, "log transaction")?,
                    log_index: u64_of(r.try_get(4)?),
                })
            })
            .collect()
    }

    /// The board's platform arbiter (disputes of tasks without a community), once indexed.
    pub async fn board_platform_arbiter(&self, chain_id: u64) -> Result<Option<Address>> {
        let text: Option<String> =
            sqlx::query_scalar("SELECT platform_arbiter FROM board_settings WHERE chain_id = $1")
                .bind(i64_of(chain_id)?)
                .fetch_optional(self.pool())
                .await?;
        text.map(|t| t.parse().map_err(|_| Error::Inconsistent(format!("stored platform arbiter {t:?}")))).transpose()
    }

    /// Communities matching `filter`, newest first, `offset` skipped.
    pub async fn communities(
        &self,
        chain_id: u64,
        filter: CommunityFilter,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<CommunityRow>> {
        let sql = format!(
            "{} WHERE c.chain_id = $1 AND ($2 = '' OR c.owner = $2) AND ($3 = '' OR EXISTS (SELECT 1 FROM \
             community_members m WHERE m.chain_id = c.chain_id AND m.community_id = c.community_id \
             AND m.account = $3)) ORDER BY c.community_id DESC LIMIT $4 OFFSET $5",
            rows::COMMUNITY_SELECT
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(key(filter.owner))
            .bind(key(filter.member))
            .bind(i64::from(limit))
            .bind(i64_of(offset)?)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(rows::community_row).collect()
    }

    /// One community.
    pub async fn community(&self, chain_id: u64, community_id: u64) -> Result<Option<CommunityRow>> {
        let sql = format!("{} WHERE c.chain_id = $1 AND c.community_id = $2", rows::COMMUNITY_SELECT);
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64_of(chain_id)?)
            .bind(i64_of(community_id)?)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(rows::community_row).transpose()
    }

    /// The admins the owner appointed, in the order appointed (the owner is an admin too, by the
    /// contract's rule, without being listed unless appointed).
    pub async fn community_admins(&self, chain_id: u64, community_id: u64) -> Result<Vec<CommunityMemberRow>> {
        let rows = sqlx::query(
            "SELECT community_id, account, added_block, added_at FROM community_admins WHERE chain_id = $1 \
             AND community_id = $2 ORDER BY added_block, account",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(community_id)?)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(rows::member_row).collect()
    }

    /// Whether `account` may mint and publish tasks promising points: the owner or an appointed
    /// admin (the contract's `isAdmin`).
    pub async fn is_community_admin(&self, chain_id: u64, community_id: u64, account: Address) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM communities c WHERE c.chain_id = $1 AND c.community_id = $2 AND (c.owner = $3 OR EXISTS \
             (SELECT 1 FROM community_admins a WHERE a.chain_id = c.chain_id AND a.community_id = c.community_id \
             AND a.account = $3))",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(community_id)?)
        .bind(column::hex(account))
        .fetch_optional(self.pool())
        .await?;
        Ok(found.is_some())
    }

    /// Members in the order they joined, `offset` skipped.
    pub async fn community_members(
        &self,
        chain_id: u64,
        community_id: u64,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<CommunityMemberRow>> {
        let rows = sqlx::query(
            "SELECT community_id, account, joined_block, joined_at FROM community_members WHERE chain_id = $1 \
             AND community_id = $2 ORDER BY joined_block, joined_log LIMIT $3 OFFSET $4",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(community_id)?)
        .bind(i64::from(limit))
        .bind(i64_of(offset)?)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(rows::member_row).collect()
    }

    /// Whether `account` is a member now.
    pub async fn is_community_member(&self, chain_id: u64, community_id: u64, account: Address) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM community_members WHERE chain_id = $1 AND community_id = $2 AND account = $3",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(community_id)?)
        .bind(column::hex(account))
        .fetch_optional(self.pool())
        .await?;
        Ok(found.is_some())
    }

    /// Holders of the community's points, most first (ties by address), `offset` skipped; empty
    /// balances left out.
    pub async fn community_leaderboard(
        &self,
        chain_id: u64,
        community_id: u64,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<CommunityPointsRow>> {
        // Balances are decimal text without leading zeros: longer is larger, then text order is
        // number order, on both databases.
        let rows = sqlx::query(
            "SELECT community_id, account, balance FROM community_points WHERE chain_id = $1 AND community_id = $2 \
             AND balance <> '0' ORDER BY LENGTH(balance) DESC, balance DESC, account LIMIT $3 OFFSET $4",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(community_id)?)
        .bind(i64::from(limit))
        .bind(i64_of(offset)?)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(rows::points_row).collect()
    }

    /// `account`'s points in each community it holds any in, by community.
    pub async fn account_points(&self, chain_id: u64, account: Address) -> Result<Vec<CommunityPointsRow>> {
        let rows = sqlx::query(
            "SELECT community_id, account, balance FROM community_points WHERE chain_id = $1 AND account = $2 \
             AND balance <> '0' ORDER BY community_id",
        )
        .bind(i64_of(chain_id)?)
        .bind(column::hex(account))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(rows::points_row).collect()
    }

    /// `account`'s points in one community (zero when it holds none).
    pub async fn community_points_of(&self, chain_id: u64, community_id: u64, account: Address) -> Result<U256> {
        let text: Option<String> = sqlx::query_scalar(
            "SELECT balance FROM community_points WHERE chain_id = $1 AND community_id = $2 AND account = $3",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(community_id)?)
        .bind(column::hex(account))
        .fetch_optional(self.pool())
        .await?;
        match text {
            Some(t) => U256::from_str_radix(&t, 10).map_err(|_| Error::Inconsistent(format!("stored balance {t:?}"))),
            None => Ok(U256::ZERO),
        }
    }

    /// The minting budgets admins gave other contracts in the community.
    pub async fn community_minters(&self, chain_id: u64, community_id: u64) -> Result<Vec<CommunityMinterRow>> {
        let rows = sqlx::query(
            "SELECT community_id, minter, allowance, reserved FROM community_minters WHERE chain_id = $1 \
             AND community_id = $2 ORDER BY minter",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(community_id)?)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(rows::minter_row).collect()
    }

    /// Every community's points token and the community it belongs to: the addresses whose
    /// `Transfer` logs the indexer fetches beside the contracts'.
    pub async fn community_points_tokens(&self, chain_id: u64) -> Result<Vec<(Address, u64)>> {
        use sqlx::Row;
        let rows =
            sqlx::query("SELECT points_token, community_id FROM communities WHERE chain_id = $1 ORDER BY community_id")
                .bind(i64_of(chain_id)?)
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(|r| Ok((parsed(r, 0, "points token")?, u64_of(r.try_get(1)?)))).collect()
    }
}
