//! Moderation: hide / lock / pin and their reverses, each recorded in `moderation_log` in the
//! transaction that makes it; members' reports (`post_reports`, one per member per post), the queue
//! of posts with open reports, and resolving them.

use alloy::primitives::Address;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{ModerationAction, PostRefusal, PostRow, Viewer};
use crate::column::{self, i64_of, parsed, u64_of};
use crate::{Result, Store};

/// One member's open report of a post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    /// The post reported.
    pub post_id: u64,
    /// Who reported it.
    pub reporter: Address,
    /// Why, in their words.
    pub reason: String,
    /// Unix seconds.
    pub reported_at: u64,
}

/// A post in the moderation queue with its open reports, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    /// The post as a moderator sees it.
    pub post: PostRow,
    /// Its open reports.
    pub reports: Vec<ReportRow>,
}

/// One line of the moderation log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModerationEntry {
    /// Its number on the chain (in the order the actions were taken).
    pub seq: u64,
    /// The community of the post.
    pub community_id: u64,
    /// The post acted on.
    pub post_id: u64,
    /// The moderator.
    pub actor: Address,
    /// What they did.
    pub action: ModerationAction,
    /// Why, in their words.
    pub reason: String,
    /// Unix seconds.
    pub at: u64,
}

fn entry_row(r: &AnyRow) -> Result<ModerationEntry> {
    Ok(ModerationEntry {
        seq: u64_of(r.try_get(0)?),
        community_id: u64_of(r.try_get(1)?),
        post_id: u64_of(r.try_get(2)?),
        actor: parsed(r, 3, "moderator")?,
        action: parsed(r, 4, "moderation action")?,
        reason: r.try_get(5)?,
        at: u64_of(r.try_get(6)?),
    })
}

fn report_row(r: &AnyRow) -> Result<ReportRow> {
    Ok(ReportRow {
        post_id: u64_of(r.try_get(0)?),
        reporter: parsed(r, 1, "reporter")?,
        reason: r.try_get(2)?,
        reported_at: u64_of(r.try_get(3)?),
    })
}

/// What an action changes, guarded so that an action that changes nothing updates no row (`$3`
/// is the time); `None` for resolving, which changes reports rather than the post.
fn action_update(action: ModerationAction) -> Option<&'static str> {
    Some(match action {
        ModerationAction::Hide => "hidden_at = $3 WHERE hidden_at IS NULL",
        ModerationAction::Unhide => "hidden_at = NULL WHERE hidden_at IS NOT NULL AND $3 >= 0",
        ModerationAction::Lock => "locked_at = $3 WHERE locked_at IS NULL AND thread_id = id",
        ModerationAction::Unlock => "locked_at = NULL WHERE locked_at IS NOT NULL AND thread_id = id AND $3 >= 0",
        ModerationAction::Pin => "pinned_at = $3 WHERE pinned_at IS NULL AND thread_id = id",
        ModerationAction::Unpin => "pinned_at = NULL WHERE pinned_at IS NOT NULL AND thread_id = id AND $3 >= 0",
        ModerationAction::Resolve => return None,
    })
}

impl Store {
    /// Applies `action` (anything but [`ModerationAction::Resolve`]) to post `id` for `actor` at
    /// `now`, and logs it with `reason` in the same transaction. Who may moderate is the caller's to
    /// check. Locking and pinning are for threads only; an action that would change nothing is
    /// refused and logs nothing.
    pub async fn moderate_post(
        &self,
        chain_id: u64,
        id: u64,
        actor: Address,
        action: ModerationAction,
        reason: &str,
        now: u64,
    ) -> Result<Result<(PostRow, ModerationEntry), PostRefusal>> {
        let Some(change) = action_update(action) else {
            return Ok(Err(PostRefusal::NoChange));
        };
        let chain = i64_of(chain_id)?;
        let mut tx = self.begin().await?;
        let seq = Self::next_social_number(&mut tx, chain_id, "moderation").await?;
        let Some((community, thread)) = post_place(&mut tx, chain, id).await? else {
            return Ok(Err(PostRefusal::NoSuchPost));
        };
        let thread_only = !matches!(action, ModerationAction::Hide | ModerationAction::Unhide);
        if thread_only && thread != id {
            return Ok(Err(PostRefusal::NotAThread));
        }
        let sql = format!("UPDATE posts SET {change} AND chain_id = $1 AND id = $2");
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(chain)
            .bind(i64_of(id)?)
            .bind(i64_of(now)?)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Ok(Err(PostRefusal::NoChange));
        }
        let entry = ModerationEntry {
            seq,
            community_id: community,
            post_id: id,
            actor,
            action,
            reason: reason.into(),
            at: now,
        };
        log_entry(&mut tx, chain, &entry).await?;
        tx.commit().await?;
        let moderator = Viewer { account: Some(actor), moderator: true };
        match self.post(chain_id, id, &moderator).await? {
            Some(post) => Ok(Ok((post, entry))),
            None => Ok(Err(PostRefusal::NoSuchPost)),
        }
    }

    /// Records `reporter`'s report of post `post_id` (of `community_id`) with `reason` at `now`:
    /// `false` when they already reported it (once per member per post, resolved or not).
    pub async fn report_post(
        &self,
        chain_id: u64,
        post_id: u64,
        community_id: u64,
        reporter: Address,
        reason: &str,
        now: u64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO post_reports (chain_id, post_id, reporter, community_id, reason, reported_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (chain_id, post_id, reporter) DO NOTHING",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(post_id)?)
        .bind(column::hex(reporter))
        .bind(i64_of(community_id)?)
        .bind(reason.to_owned())
        .bind(i64_of(now)?)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Resolves every open report of post `post_id` for `actor` at `now` with `resolution`, logged
    /// as [`ModerationAction::Resolve`] in the same transaction; answers how many it resolved.
    pub async fn resolve_reports(
        &self,
        chain_id: u64,
        post_id: u64,
        actor: Address,
        resolution: &str,
        now: u64,
    ) -> Result<Result<(u64, ModerationEntry), PostRefusal>> {
        let chain = i64_of(chain_id)?;
        let mut tx = self.begin().await?;
        let seq = Self::next_social_number(&mut tx, chain_id, "moderation").await?;
        let Some((community, _)) = post_place(&mut tx, chain, post_id).await? else {
            return Ok(Err(PostRefusal::NoSuchPost));
        };
        let done = sqlx::query(
            "UPDATE post_reports SET resolved_at = $3, resolved_by = $4, resolution = $5 \
             WHERE chain_id = $1 AND post_id = $2 AND resolved_at IS NULL",
        )
        .bind(chain)
        .bind(i64_of(post_id)?)
        .bind(i64_of(now)?)
        .bind(column::hex(actor))
        .bind(resolution.to_owned())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(Err(PostRefusal::NoOpenReports));
        }
        let entry = ModerationEntry {
            seq,
            community_id: community,
            post_id,
            actor,
            action: ModerationAction::Resolve,
            reason: resolution.into(),
            at: now,
        };
        log_entry(&mut tx, chain, &entry).await?;
        tx.commit().await?;
        Ok(Ok((done.rows_affected(), entry)))
    }

    /// Posts with open reports, of one community or (`None`) of every community, the longest
    /// waiting first (by their oldest open report); `limit` from `offset`.
    pub async fn moderation_queue(
        &self,
        chain_id: u64,
        community_id: Option<u64>,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<QueueEntry>> {
        let chain = i64_of(chain_id)?;
        let community = community_id.map(i64_of).transpose()?;
        let posts: Vec<(i64,)> = sqlx::query_as(
            "SELECT post_id FROM post_reports WHERE chain_id = $1 AND resolved_at IS NULL \
             AND ($2 < 0 OR community_id = $2) GROUP BY post_id ORDER BY MIN(reported_at), post_id \
             LIMIT $3 OFFSET $4",
        )
        .bind(chain)
        .bind(community.unwrap_or(-1))
        .bind(i64::from(limit))
        .bind(i64_of(offset)?)
        .fetch_all(self.pool())
        .await?;
        let everything = Viewer { account: None, moderator: true };
        let mut queue = Vec::with_capacity(posts.len());
        for (post_id,) in posts {
            let Some(post) = self.post(chain_id, u64_of(post_id), &everything).await? else {
                continue;
            };
            let rows = sqlx::query(
                "SELECT post_id, reporter, reason, reported_at FROM post_reports \
                 WHERE chain_id = $1 AND post_id = $2 AND resolved_at IS NULL ORDER BY reported_at, reporter",
            )
            .bind(chain)
            .bind(post_id)
            .fetch_all(self.pool())
            .await?;
            let reports = rows.iter().map(report_row).collect::<Result<_>>()?;
            queue.push(QueueEntry { post, reports });
        }
        Ok(queue)
    }

    /// A community's moderation log, newest first; `limit` from `offset`.
    pub async fn moderation_log(
        &self,
        chain_id: u64,
        community_id: u64,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<ModerationEntry>> {
        let rows = sqlx::query(
            "SELECT seq, community_id, post_id, actor, action, reason, at FROM moderation_log \
             WHERE chain_id = $1 AND community_id = $2 ORDER BY seq DESC LIMIT $3 OFFSET $4",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(community_id)?)
        .bind(i64::from(limit))
        .bind(i64_of(offset)?)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(entry_row).collect()
    }
}

/// The community and thread of post `id`, read inside `tx`.
async fn post_place(tx: &mut sqlx::Transaction<'_, sqlx::Any>, chain: i64, id: u64) -> Result<Option<(u64, u64)>> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT community_id, thread_id FROM posts WHERE chain_id = $1 AND id = $2")
            .bind(chain)
            .bind(i64_of(id)?)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.map(|(c, t)| (u64_of(c), u64_of(t))))
}

async fn log_entry(tx: &mut sqlx::Transaction<'_, sqlx::Any>, chain: i64, entry: &ModerationEntry) -> Result<()> {
    sqlx::query(
        "INSERT INTO moderation_log (chain_id, seq, community_id, post_id, actor, action, reason, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(chain)
    .bind(i64_of(entry.seq)?)
    .bind(i64_of(entry.community_id)?)
    .bind(i64_of(entry.post_id)?)
    .bind(column::hex(entry.actor))
    .bind(entry.action.as_str())
    .bind(entry.reason.clone())
    .bind(i64_of(entry.at)?)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
