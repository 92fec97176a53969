//! Profiles: a display name and an avatar per address (`profiles`). E-mail addresses are not here.

use alloy::primitives::Address;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::column::{self, i64_of, parsed, u64_of};
use crate::{Result, Store};

/// A person's profile as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileRow {
    /// Whose profile it is.
    pub address: Address,
    /// The name shown beside their posts (`None`: unset).
    pub display_name: Option<String>,
    /// Their avatar's CID in the node's content store (`None`: unset).
    pub avatar_cid: Option<String>,
    /// Unix seconds of the last change.
    pub updated_at: u64,
}

fn profile_row(r: &AnyRow) -> Result<ProfileRow> {
    Ok(ProfileRow {
        address: parsed(r, 0, "profile address")?,
        display_name: r.try_get(1)?,
        avatar_cid: r.try_get(2)?,
        updated_at: u64_of(r.try_get(3)?),
    })
}

impl Store {
    /// The profile of `address`, if it ever saved one.
    pub async fn profile(&self, address: Address) -> Result<Option<ProfileRow>> {
        let row = sqlx::query("SELECT address, display_name, avatar_cid, updated_at FROM profiles WHERE address = $1")
            .bind(column::hex(address))
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(profile_row).transpose()
    }

    /// Saves `profile` whole (a `None` field clears it) and returns it as stored.
    pub async fn save_profile(&self, profile: &ProfileRow) -> Result<ProfileRow> {
        sqlx::query(
            "INSERT INTO profiles (address, display_name, avatar_cid, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (address) DO UPDATE SET display_name = excluded.display_name, \
             avatar_cid = excluded.avatar_cid, updated_at = excluded.updated_at",
        )
        .bind(column::hex(profile.address))
        .bind(profile.display_name.clone())
        .bind(profile.avatar_cid.clone())
        .bind(i64_of(profile.updated_at)?)
        .execute(self.pool())
        .await?;
        Ok(profile.clone())
    }
}
