//! How each Communities event and each points transfer changes `communities`, `community_admins`,
//! `community_members`, `community_minters` and `community_points`. Balances come from the points
//! tokens' `Transfer` logs alone (a mint is a transfer from the zero address), so each equals the
//! token's `balanceOf`; `PointsMinted` only adds to the community's supply.

use alloy::primitives::{Address, U256};
use sqlx::{Any, Row, Transaction};

use super::ctx::Ctx;
use crate::column::i64_of;
use crate::{CommunityEvent, LogMeta, Result};

/// Applies one community event and returns the rows it changed (1 when it applied). Called by
/// `crate::apply`, in the transaction that stores the log.
pub(crate) async fn apply_community(
    tx: &mut Transaction<'_, Any>,
    chain: i64,
    block: i64,
    meta: &LogMeta,
    event: &CommunityEvent,
) -> Result<u64> {
    let mut c = Ctx::new(tx, chain, block, meta, event.kind(), format!("community {}", event.community_id()))?;
    let id = i64_of(event.community_id())?;
    let q = |sql: &'static str| sqlx::query(sql);
    // `UPDATE communities SET <set> …` for this community, `set` using `$1` for its one value.
    macro_rules! set {
        ($set:literal, $value:expr, $what:literal) => {{
            let update = q(concat!(
                "UPDATE communities SET ",
                $set,
                ", updated_block = $2 WHERE chain_id = $3 AND community_id = $4"
            ))
            .bind($value)
            .bind(block)
            .bind(chain)
            .bind(id);
            c.one(update, $what).await?;
        }};
    }
    match event {
        CommunityEvent::CommunityCreated { owner, points_token, arbiter, name, symbol, metadata_uri, .. } => {
            // Its first member (the owner) joins in the next log.
            let insert = q("INSERT INTO communities (chain_id, community_id, owner, arbiter, points_token, name, \
                 symbol, metadata_uri, transfers_enabled, member_count, points_supply, created_block, created_tx, \
                 created_at, updated_block) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, '0', $9, $10, $11, $9)")
            .bind(chain)
            .bind(id)
            .bind(owner)
            .bind(arbiter)
            .bind(points_token)
            .bind(name)
            .bind(symbol)
            .bind(metadata_uri)
            .bind(block)
            .bind(&meta.tx_hash)
            .bind(c.at);
            c.one(insert, "creating the community").await?;
        }
        CommunityEvent::OwnershipTransferStarted { new_owner, .. } => {
            // Offering it to the zero address withdraws the offer.
            let pending = (*new_owner != format!("{:#x}", Address::ZERO)).then(|| new_owner.clone());
            set!("pending_owner = $1", pending, "the pending owner");
        }
        CommunityEvent::OwnershipTransferred { new_owner, .. } => {
            set!("owner = $1, pending_owner = NULL", new_owner, "the owner");
        }
        CommunityEvent::ArbiterSet { arbiter, .. } => set!("arbiter = $1", arbiter, "the arbiter"),
        CommunityEvent::MetadataUriSet { metadata_uri, .. } => {
            set!("metadata_uri = $1", metadata_uri, "the metadata URI")
        }
        CommunityEvent::PointsTransfersSet { enabled, .. } => {
            set!("transfers_enabled = $1", i64::from(*enabled), "the transfer switch")
        }
        CommunityEvent::AdminAdded { account, .. } => {
            let insert = q("INSERT INTO community_admins (chain_id, community_id, account, added_block, added_at) \
                 SELECT chain_id, community_id, $3, $4, $5 FROM communities WHERE chain_id = $1 AND community_id = $2")
            .bind(chain)
            .bind(id)
            .bind(account)
            .bind(block)
            .bind(c.at);
            c.one(insert, "the admin").await?;
        }
        CommunityEvent::AdminRemoved { account, .. } => {
            let delete = q("DELETE FROM community_admins WHERE chain_id = $1 AND community_id = $2 AND account = $3")
                .bind(chain)
                .bind(id)
                .bind(account);
            c.one(delete, "the admin's removal").await?;
        }
        CommunityEvent::MemberJoined { account, member_count, .. } => {
            let insert =
                q("INSERT INTO community_members (chain_id, community_id, account, joined_block, joined_log, \
                 joined_at) SELECT chain_id, community_id, $3, $4, $5, $6 FROM communities WHERE chain_id = $1 \
                 AND community_id = $2")
                .bind(chain)
                .bind(id)
                .bind(account)
                .bind(block)
                .bind(i64_of(meta.log_index)?)
                .bind(c.at);
            c.one(insert, "the member").await?;
            set_member_count(&mut c, id, *member_count).await?;
        }
        CommunityEvent::MemberLeft { account, member_count, .. } => {
            let delete = q("DELETE FROM community_members WHERE chain_id = $1 AND community_id = $2 AND account = $3")
                .bind(chain)
                .bind(id)
                .bind(account);
            c.one(delete, "the member's leave").await?;
            set_member_count(&mut c, id, *member_count).await?;
        }
        CommunityEvent::PointsMinted { by, amount, .. } => {
            // `mintReserved` (a minter with a budget, the TaskBoard) spends its reservation; `mint`
            // (an admin) spends nothing. The event does not say which: a minter that is not an
            // admin minted from its reservation (one that is both is counted as an admin).
            if !is_admin(&mut c, id, by).await? {
                let (allowance, reserved) = budget(&mut c, id, by).await?;
                if !reserved.is_zero() {
                    let reserved = c.minus(reserved, c.amount(amount)?, "reserved")?;
                    set_budget(&mut c, id, by, allowance, reserved).await?;
                }
            }
            let row = c
                .row(
                    q("SELECT points_supply FROM communities WHERE chain_id = $1 AND community_id = $2")
                        .bind(chain)
                        .bind(id),
                )
                .await?
                .ok_or_else(|| c.inconsistent("no community"))?;
            let supply = c.plus(c.amount_at(&row, 0)?, c.amount(amount)?, "points supply")?;
            set!("points_supply = $1", supply.to_string(), "the points supply");
        }
        CommunityEvent::MinterAllowanceSet { minter, allowance, .. } => {
            let (_, reserved) = budget(&mut c, id, minter).await?;
            let allowance = c.amount(allowance)?;
            set_budget(&mut c, id, minter, allowance, reserved).await?;
        }
        CommunityEvent::MintReserved { minter, amount, .. } => {
            let (allowance, reserved) = budget(&mut c, id, minter).await?;
            let amount = c.amount(amount)?;
            let allowance = c.minus(allowance, amount, "allowance")?;
            let reserved = c.plus(reserved, amount, "reserved")?;
            set_budget(&mut c, id, minter, allowance, reserved).await?;
        }
        CommunityEvent::MintReleased { minter, amount, .. } => {
            let (allowance, reserved) = budget(&mut c, id, minter).await?;
            let amount = c.amount(amount)?;
            let reserved = c.minus(reserved, amount, "reserved")?;
            let allowance = c.plus(allowance, amount, "allowance")?;
            set_budget(&mut c, id, minter, allowance, reserved).await?;
        }
        CommunityEvent::PointsTransfer { from, to, amount, .. } => {
            let amount = c.amount(amount)?;
            let zero = format!("{:#x}", Address::ZERO);
            if *from != zero {
                let before = balance(&mut c, id, from).await?;
                let balance = c.minus(before, amount, "sender's points")?;
                set_balance(&mut c, id, from, balance).await?;
            }
            if *to != zero {
                let before = balance(&mut c, id, to).await?;
                let balance = c.plus(before, amount, "receiver's points")?;
                set_balance(&mut c, id, to, balance).await?;
            }
        }
    }
    // Budgets and transfers must name a community that exists, as every other event does.
    if let CommunityEvent::MinterAllowanceSet { .. }
    | CommunityEvent::MintReserved { .. }
    | CommunityEvent::MintReleased { .. }
    | CommunityEvent::PointsTransfer { .. } = event
    {
        exists(&mut c, id).await?;
    }
    Ok(1)
}

async fn exists(c: &mut Ctx<'_, '_>, id: i64) -> Result<()> {
    let row = c
        .row(sqlx::query("SELECT 1 FROM communities WHERE chain_id = $1 AND community_id = $2").bind(c.chain).bind(id))
        .await?;
    if row.is_none() {
        return Err(c.inconsistent("no community"));
    }
    Ok(())
}

/// The owner or an appointed admin (the contract's `isAdmin`).
async fn is_admin(c: &mut Ctx<'_, '_>, id: i64, account: &str) -> Result<bool> {
    let row = c
        .row(
            sqlx::query(
                "SELECT 1 FROM communities WHERE chain_id = $1 AND community_id = $2 AND (owner = $3 OR EXISTS \
                 (SELECT 1 FROM community_admins a WHERE a.chain_id = $1 AND a.community_id = $2 AND a.account = $3))",
            )
            .bind(c.chain)
            .bind(id)
            .bind(account.to_owned()),
        )
        .await?;
    Ok(row.is_some())
}

async fn set_member_count(c: &mut Ctx<'_, '_>, id: i64, count: u64) -> Result<()> {
    let update = sqlx::query("UPDATE communities SET member_count = $1 WHERE chain_id = $2 AND community_id = $3")
        .bind(i64_of(count)?);
    let update = update.bind(c.chain).bind(id);
    c.one(update, "the member count").await?;
    let rows: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM community_members WHERE chain_id = $1 AND community_id = $2")
            .bind(c.chain)
            .bind(id)
            .fetch_one(&mut **c.tx)
            .await?;
    if rows != i64_of(count)? {
        return Err(c.inconsistent(&format!("{rows} members here, {count} on chain")));
    }
    Ok(())
}

/// A minter's (allowance, reserved); zero for a minter never given a budget (`reserveMint` of 0 is
/// possible for anyone).
async fn budget(c: &mut Ctx<'_, '_>, id: i64, minter: &str) -> Result<(U256, U256)> {
    let row = c
        .row(
            sqlx::query(
                "SELECT allowance, reserved FROM community_minters WHERE chain_id = $1 AND community_id = $2 \
                 AND minter = $3",
            )
            .bind(c.chain)
            .bind(id)
            .bind(minter.to_owned()),
        )
        .await?;
    match row {
        Some(row) => Ok((c.amount_at(&row, 0)?, c.amount_at(&row, 1)?)),
        None => Ok((U256::ZERO, U256::ZERO)),
    }
}

async fn set_budget(c: &mut Ctx<'_, '_>, id: i64, minter: &str, allowance: U256, reserved: U256) -> Result<()> {
    let upsert = sqlx::query(
        "INSERT INTO community_minters (chain_id, community_id, minter, allowance, reserved, updated_block) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (chain_id, community_id, minter) DO UPDATE SET \
         allowance = excluded.allowance, reserved = excluded.reserved, updated_block = excluded.updated_block",
    )
    .bind(c.chain)
    .bind(id)
    .bind(minter.to_owned())
    .bind(allowance.to_string())
    .bind(reserved.to_string())
    .bind(c.block);
    c.one(upsert, "the minting budget").await
}

/// An account's points (zero without a row).
async fn balance(c: &mut Ctx<'_, '_>, id: i64, account: &str) -> Result<U256> {
    let row = c
        .row(
            sqlx::query(
                "SELECT balance FROM community_points WHERE chain_id = $1 AND community_id = $2 AND account = $3",
            )
            .bind(c.chain)
            .bind(id)
            .bind(account.to_owned()),
        )
        .await?;
    row.map(|r| {
        let text: String = r.try_get(0)?;
        c.amount(&text)
    })
    .transpose()
    .map(Option::unwrap_or_default)
}

async fn set_balance(c: &mut Ctx<'_, '_>, id: i64, account: &str, balance: U256) -> Result<()> {
    let upsert = sqlx::query(
        "INSERT INTO community_points (chain_id, community_id, account, balance, updated_block) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (chain_id, community_id, account) DO UPDATE SET \
         balance = excluded.balance, updated_block = excluded.updated_block",
    )
    .bind(c.chain)
    .bind(id)
    .bind(account.to_owned())
    .bind(balance.to_string())
    .bind(c.block);
    c.one(upsert, "the points balance").await
}
