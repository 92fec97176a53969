//! Profiles and community posts (migration 0015): display names and avatars, threads and replies
//! per community with tombstones for deleted posts, the moderators' hide / lock / pin with a
//! moderation log, members' reports and the moderation queue. Node-owned, not derived from the
//! chain; a community's owner, admins and members are read from the indexed `communities`,
//! `community_admins` and `community_members` when a request needs them.
//!
//! Who may do what is the API's to decide (it knows the viewer); the store keeps the rules that must
//! hold whoever asks, inside the transaction that writes: a locked thread takes no reply or edit, a
//! deleted post no edit, a report counts once per member, and an author's posts within the rate
//! window are counted while the post sequence's row is locked, so two API processes share the limit.

mod moderation;
mod posts;
mod profiles;

use alloy::primitives::Address;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::column::{self, parsed, stored_enum, u64_of};
use crate::{Result, Store};

pub use moderation::{ModerationEntry, QueueEntry, ReportRow};
pub use posts::{NewPost, PostOrder, RateLimit};
pub use profiles::ProfileRow;

stored_enum! {
    /// What a moderator did to a post (`moderation_log.action`).
    pub enum ModerationAction {
        /// Hid the post from everyone but its author and the moderators.
        Hide => "hide",
        /// Showed a hidden post again.
        Unhide => "unhide",
        /// Locked a thread: no more replies or edits.
        Lock => "lock",
        /// Unlocked a thread.
        Unlock => "unlock",
        /// Pinned a thread to the top of its community's list.
        Pin => "pin",
        /// Unpinned a thread.
        Unpin => "unpin",
        /// Resolved the open reports of a post.
        Resolve => "resolve",
    }
}

/// Why the store refused a write on a post; the request was well formed, the state says no.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostRefusal {
    /// No post (or thread) by that id on this chain.
    NoSuchPost,
    /// The post is a reply where a thread is needed (a reply to a reply, pinning a reply).
    NotAThread,
    /// The thread is locked: no replies, no edits.
    ThreadLocked,
    /// The post was deleted (only its tombstone is left).
    Deleted,
    /// The author posted the most the rate limit allows in its window; try again after this many
    /// seconds.
    RateLimited {
        /// Seconds until the oldest post in the window leaves it.
        retry_after: u64,
    },
    /// The moderation action changes nothing (hiding a hidden post).
    NoChange,
    /// Resolving a post with no open report.
    NoOpenReports,
}

/// Who is looking: hidden posts are shown to their author and to the community's moderators only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Viewer {
    /// The signed-in account, if any.
    pub account: Option<Address>,
    /// Whether the viewer moderates the community (its owner, an admin, or an admin of the node).
    pub moderator: bool,
}

impl Viewer {
    /// Whether this viewer may see `post` (visible, or hidden but theirs or moderated by them).
    pub fn sees(&self, post: &PostRow) -> bool {
        post.hidden_at.is_none() || self.moderator || self.account == Some(post.author)
    }

    fn binds(&self) -> (i64, String) {
        (i64::from(self.moderator), self.account.map(column::hex).unwrap_or_default())
    }
}

/// A community as the posts need it: its owner, and one account's standing in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommunityAccess {
    /// The community's owner (an admin everywhere).
    pub owner: Address,
    /// Whether the account is one of its admins.
    pub admin: bool,
    /// Whether the account is a member.
    pub member: bool,
}

/// A thread's opening post or a reply, as stored, with its author's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostRow {
    /// The post's number on its chain.
    pub id: u64,
    /// The community (on-chain Communities id).
    pub community_id: u64,
    /// The thread: the post's own id for a thread's opening post.
    pub thread_id: u64,
    /// Who wrote it.
    pub author: Address,
    /// The thread's title (`None` for replies and tombstones).
    pub title: Option<String>,
    /// The markdown as sent (`None` once deleted).
    pub body: Option<String>,
    /// Unix seconds.
    pub created_at: u64,
    /// When its author last edited it.
    pub edited_at: Option<u64>,
    /// When its author deleted it (a tombstone).
    pub deleted_at: Option<u64>,
    /// Since when a moderator hides it.
    pub hidden_at: Option<u64>,
    /// Since when its thread is locked (threads only).
    pub locked_at: Option<u64>,
    /// Since when its thread is pinned (threads only).
    pub pinned_at: Option<u64>,
    /// For a thread: its replies the viewer can see, tombstones included; 0 for a reply.
    pub replies: u64,
    /// The author's display name, if they set one.
    pub author_name: Option<String>,
    /// The author's avatar CID, if they set one.
    pub author_avatar: Option<String>,
}

impl PostRow {
    /// Whether this is a thread's opening post.
    pub fn is_thread(&self) -> bool {
        self.thread_id == self.id
    }
}

/// The columns [`post_row`] reads; `$1` is the viewer's moderator flag, `$2` the viewer's address.
pub(crate) const POST_SELECT: &str = "SELECT p.id, p.community_id, p.thread_id, p.author, p.title, p.body, \
     p.created_at, p.edited_at, p.deleted_at, p.hidden_at, p.locked_at, p.pinned_at, \
     CASE WHEN p.thread_id = p.id THEN (SELECT COUNT(*) FROM posts r WHERE r.chain_id = p.chain_id \
     AND r.thread_id = p.id AND r.id <> p.id AND (r.hidden_at IS NULL OR $1 = 1 OR r.author = $2)) ELSE 0 END, \
     f.display_name, f.avatar_cid FROM posts p LEFT JOIN profiles f ON f.address = p.author";

fn opt_u64(r: &AnyRow, i: usize) -> Result<Option<u64>> {
    Ok(r.try_get::<Option<i64>, _>(i)?.map(u64_of))
}

pub(crate) fn post_row(r: &AnyRow) -> Result<PostRow> {
    Ok(PostRow {
        id: u64_of(r.try_get(0)?),
        community_id: u64_of(r.try_get(1)?),
        thread_id: u64_of(r.try_get(2)?),
        author: parsed(r, 3, "post author")?,
        title: r.try_get(4)?,
        body: r.try_get(5)?,
        created_at: u64_of(r.try_get(6)?),
        edited_at: opt_u64(r, 7)?,
        deleted_at: opt_u64(r, 8)?,
        hidden_at: opt_u64(r, 9)?,
        locked_at: opt_u64(r, 10)?,
        pinned_at: opt_u64(r, 11)?,
        replies: u64_of(r.try_get(12)?),
        author_name: r.try_get(13)?,
        author_avatar: r.try_get(14)?,
    })
}

impl Store {
    /// The community `community_id` on `chain_id` with `account`'s standing in it (not admin, not
    /// member when `account` is `None`); `None` when the indexer knows no such community.
    pub async fn community_access(
        &self,
        chain_id: u64,
        community_id: u64,
        account: Option<Address>,
    ) -> Result<Option<CommunityAccess>> {
        let row = sqlx::query(
            "SELECT c.owner, \
             (SELECT COUNT(*) FROM community_admins a WHERE a.chain_id = c.chain_id \
              AND a.community_id = c.community_id AND a.account = $3), \
             (SELECT COUNT(*) FROM community_members m WHERE m.chain_id = c.chain_id \
              AND m.community_id = c.community_id AND m.account = $3) \
             FROM communities c WHERE c.chain_id = $1 AND c.community_id = $2",
        )
        .bind(column::i64_of(chain_id)?)
        .bind(column::i64_of(community_id)?)
        .bind(account.map(column::hex).unwrap_or_default())
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(CommunityAccess {
                owner: parsed(&r, 0, "community owner")?,
                admin: r.try_get::<i64, _>(1)? > 0,
                member: r.try_get::<i64, _>(2)? > 0,
            })
        })
        .transpose()
    }

    /// Takes the next number of `name` on `chain_id` inside `tx`, locking the sequence's row until
    /// the transaction ends.
    pub(crate) async fn next_social_number(
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        chain_id: u64,
        name: &str,
    ) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "INSERT INTO social_sequences (chain_id, name, issued) VALUES ($1, $2, 1) \
             ON CONFLICT (chain_id, name) DO UPDATE SET issued = social_sequences.issued + 1 RETURNING issued",
        )
        .bind(column::i64_of(chain_id)?)
        .bind(name.to_owned())
        .fetch_one(&mut **tx)
        .await?;
        Ok(u64_of(n))
    }
}
