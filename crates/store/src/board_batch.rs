//! Reads for a page of the task board at once (one query for the page rather than one per row): how
//! many of each task's claims are in each state, a page of members' points, and a page of
//! communities' appointed admins.

use std::collections::HashMap;

use alloy::primitives::{Address, U256};
use sqlx::Row;

use crate::column::{self, amount, i64_of, parsed, u64_of};
use crate::{BoardClaimState, CommunityMemberRow, Error, Result, Store};

/// `$first, $first+1, …` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

impl Store {
    /// `(task, state, count)` for every state some claim of the given tasks is in; tasks without
    /// claims are absent.
    pub async fn board_claim_counts(
        &self,
        chain_id: u64,
        task_ids: &[u64],
    ) -> Result<Vec<(u64, BoardClaimState, u64)>> {
        if task_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT task_id, state, COUNT(*) FROM board_claims WHERE chain_id = $1 AND task_id IN ({}) \
             GROUP BY task_id, state",
            placeholders(2, task_ids.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(i64_of(chain_id)?);
        for id in task_ids {
            query = query.bind(i64_of(*id)?);
        }
        query
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                let state: String = r.try_get(1)?;
                let state = state.parse().map_err(|_| Error::Inconsistent(format!("stored claim state {state:?}")))?;
                Ok((u64_of(r.try_get(0)?), state, u64_of(r.try_get(2)?)))
            })
            .collect()
    }

    /// The points balances of `accounts` in a community; accounts that never held any are absent.
    pub async fn community_points_for(
        &self,
        chain_id: u64,
        community_id: u64,
        accounts: &[Address],
    ) -> Result<HashMap<Address, U256>> {
        if accounts.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT account, balance FROM community_points WHERE chain_id = $1 AND community_id = $2 \
             AND account IN ({})",
            placeholders(3, accounts.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(i64_of(chain_id)?).bind(i64_of(community_id)?);
        for a in accounts {
            query = query.bind(column::hex(*a));
        }
        query
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| Ok((parsed(r, 0, "points account")?, amount(r, 1, "points balance")?)))
            .collect()
    }

    /// The appointed admins of each of `community_ids` (as [`Store::community_admins`] lists one
    /// community's: in the order they were added), in one query.
    pub async fn community_admins_for(
        &self,
        chain_id: u64,
        community_ids: &[u64],
    ) -> Result<HashMap<u64, Vec<CommunityMemberRow>>> {
        if community_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT community_id, account, added_block, added_at FROM community_admins WHERE chain_id = $1 \
             AND community_id IN ({}) ORDER BY community_id, added_block, account",
            placeholders(2, community_ids.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(i64_of(chain_id)?);
        for id in community_ids {
            query = query.bind(i64_of(*id)?);
        }
        let mut out: HashMap<u64, Vec<CommunityMemberRow>> = HashMap::new();
        for r in query.fetch_all(self.pool()).await? {
            let row = crate::board::member_row(&r)?;
            out.entry(row.community_id).or_default().push(row);
        }
        Ok(out)
    }
}
