//! Threads and replies: writing (with the rate limit and the lock), editing, deleting into a
//! tombstone, and the lists a community page and a thread page show.

use alloy::primitives::Address;

use super::{POST_SELECT, PostRefusal, PostRow, Viewer, post_row};
use crate::column::{self, i64_of, u64_of};
use crate::{Result, Store};

/// A post to write: a thread (with a title) or a reply to `thread_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPost {
    /// The community (for a reply, the thread's; the store takes it from the thread).
    pub community_id: u64,
    /// `None`: a new thread; `Some(id)`: a reply to thread `id`.
    pub thread_id: Option<u64>,
    /// Who writes it.
    pub author: Address,
    /// The thread's title (ignored for a reply).
    pub title: Option<String>,
    /// The markdown as sent.
    pub body: String,
}

/// How many posts (threads and replies, deleted ones included) an author may write per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Posts allowed within one window.
    pub max_posts: u32,
    /// The window's length in seconds.
    pub window_secs: u64,
}

/// The order of a list of posts; pinned threads come first either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PostOrder {
    /// Newest first.
    #[default]
    Newest,
    /// Oldest first.
    Oldest,
}

impl PostOrder {
    fn sql(self) -> &'static str {
        match self {
            Self::Newest => "DESC",
            Self::Oldest => "ASC",
        }
    }
}

impl Store {
    /// Post `id` on `chain_id` whatever its visibility (the caller asks [`Viewer::sees`]), with its
    /// reply count as `viewer` sees it.
    pub async fn post(&self, chain_id: u64, id: u64, viewer: &Viewer) -> Result<Option<PostRow>> {
        let (moderator, account) = viewer.binds();
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{POST_SELECT} WHERE p.chain_id = $3 AND p.id = $4")))
            .bind(moderator)
            .bind(account)
            .bind(i64_of(chain_id)?)
            .bind(i64_of(id)?)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(post_row).transpose()
    }

    /// A community's threads that `viewer` can see: pinned ones first, then in `order`; `limit`
    /// from `offset`.
    pub async fn threads(
        &self,
        chain_id: u64,
        community_id: u64,
        viewer: &Viewer,
        order: PostOrder,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<PostRow>> {
        let (moderator, account) = viewer.binds();
        let sql = format!(
            "{POST_SELECT} WHERE p.chain_id = $3 AND p.community_id = $4 AND p.thread_id = p.id \
             AND (p.hidden_at IS NULL OR $1 = 1 OR p.author = $2) \
             ORDER BY CASE WHEN p.pinned_at IS NULL THEN 1 ELSE 0 END, p.id {} LIMIT $5 OFFSET $6",
            order.sql()
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(moderator)
            .bind(account)
            .bind(i64_of(chain_id)?)
            .bind(i64_of(community_id)?)
            .bind(i64::from(limit))
            .bind(i64_of(offset)?)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(post_row).collect()
    }

    /// A thread's replies that `viewer` can see, tombstones included, in `order`; `limit` from
    /// `offset`.
    pub async fn replies(
        &self,
        chain_id: u64,
        thread_id: u64,
        viewer: &Viewer,
        order: PostOrder,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<PostRow>> {
        let (moderator, account) = viewer.binds();
        let sql = format!(
            "{POST_SELECT} WHERE p.chain_id = $3 AND p.thread_id = $4 AND p.id <> p.thread_id \
             AND (p.hidden_at IS NULL OR $1 = 1 OR p.author = $2) ORDER BY p.id {} LIMIT $5 OFFSET $6",
            order.sql()
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(moderator)
            .bind(account)
            .bind(i64_of(chain_id)?)
            .bind(i64_of(thread_id)?)
            .bind(i64::from(limit))
            .bind(i64_of(offset)?)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(post_row).collect()
    }

    /// Writes `post` at `now` unless its author already wrote `limit.max_posts` posts within the
    /// window, or (a reply) its thread is missing, deleted or locked. The post's number is taken
    /// first, which locks the chain's post sequence until the transaction ends: every writer of a
    /// post on this database, in any process, counts the author's window after the previous one
    /// committed.
    pub async fn create_post(
        &self,
        chain_id: u64,
        post: &NewPost,
        now: u64,
        limit: RateLimit,
    ) -> Result<Result<PostRow, PostRefusal>> {
        let chain = i64_of(chain_id)?;
        let author = column::hex(post.author);
        let mut tx = self.begin().await?;
        let id = Self::next_social_number(&mut tx, chain_id, "post").await?;

        let since = i64_of(now.saturating_sub(limit.window_secs))?;
        let (count, oldest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MIN(created_at) FROM posts WHERE chain_id = $1 AND author = $2 AND created_at > $3",
        )
        .bind(chain)
        .bind(author.clone())
        .bind(since)
        .fetch_one(&mut *tx)
        .await?;
        if count >= i64::from(limit.max_posts) {
            let leaves = oldest.map(u64_of).unwrap_or(now).saturating_add(limit.window_secs);
            return Ok(Err(PostRefusal::RateLimited { retry_after: leaves.saturating_sub(now).max(1) }));
        }

        let (community_id, thread_id, title) = match post.thread_id {
            None => (post.community_id, id, post.title.clone()),
            Some(thread_id) => {
                let thread: Option<(i64, i64, Option<i64>, Option<i64>)> = sqlx::query_as(
                    "SELECT community_id, thread_id, deleted_at, locked_at FROM posts WHERE chain_id = $1 AND id = $2",
                )
                .bind(chain)
                .bind(i64_of(thread_id)?)
                .fetch_optional(&mut *tx)
                .await?;
                match thread {
                    None => return Ok(Err(PostRefusal::NoSuchPost)),
                    Some((_, t, _, _)) if u64_of(t) != thread_id => return Ok(Err(PostRefusal::NotAThread)),
                    Some((_, _, Some(_), _)) => return Ok(Err(PostRefusal::Deleted)),
                    Some((_, _, _, Some(_))) => return Ok(Err(PostRefusal::ThreadLocked)),
                    Some((community, _, None, None)) => (u64_of(community), thread_id, None),
                }
            }
        };
        sqlx::query(
            "INSERT INTO posts (chain_id, id, community_id, thread_id, author, title, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(chain)
        .bind(i64_of(id)?)
        .bind(i64_of(community_id)?)
        .bind(i64_of(thread_id)?)
        .bind(author)
        .bind(title)
        .bind(post.body.clone())
        .bind(i64_of(now)?)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let written = self.post(chain_id, id, &Viewer { account: Some(post.author), moderator: false }).await?;
        written.map(Ok).ok_or_else(|| crate::Error::Inconsistent(format!("post {id} vanished after it was written")))
    }

    /// Replaces the body (and, for a thread, the title when `title` is given) of post `id` at `now`,
    /// unless it was deleted or its thread is locked; answers the post as `viewer` sees it. Who may
    /// edit is the caller's to check.
    pub async fn edit_post(
        &self,
        chain_id: u64,
        id: u64,
        title: Option<&str>,
        body: &str,
        now: u64,
        viewer: &Viewer,
    ) -> Result<Result<PostRow, PostRefusal>> {
        let done = sqlx::query(
            "UPDATE posts SET body = $3, title = CASE WHEN thread_id = id AND $4 = 1 THEN $5 ELSE title END, \
             edited_at = $6 WHERE chain_id = $1 AND id = $2 AND deleted_at IS NULL \
             AND NOT EXISTS (SELECT 1 FROM posts t WHERE t.chain_id = posts.chain_id AND t.id = posts.thread_id \
             AND t.locked_at IS NOT NULL)",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(id)?)
        .bind(body.to_owned())
        .bind(i64::from(title.is_some()))
        .bind(title.unwrap_or_default().to_owned())
        .bind(i64_of(now)?)
        .execute(self.pool())
        .await?;
        self.after_write(chain_id, id, done.rows_affected(), viewer).await
    }

    /// Deletes post `id` at `now`: the row stays as a tombstone with no title and no body. A locked
    /// thread's posts can still be deleted by their authors.
    pub async fn delete_post(
        &self,
        chain_id: u64,
        id: u64,
        now: u64,
        viewer: &Viewer,
    ) -> Result<Result<PostRow, PostRefusal>> {
        let done = sqlx::query(
            "UPDATE posts SET title = NULL, body = NULL, deleted_at = $3 \
             WHERE chain_id = $1 AND id = $2 AND deleted_at IS NULL",
        )
        .bind(i64_of(chain_id)?)
        .bind(i64_of(id)?)
        .bind(i64_of(now)?)
        .execute(self.pool())
        .await?;
        self.after_write(chain_id, id, done.rows_affected(), viewer).await
    }

    /// The post after a conditional update, as `viewer` sees it, when a row changed; else why none did.
    pub(crate) async fn after_write(
        &self,
        chain_id: u64,
        id: u64,
        changed: u64,
        viewer: &Viewer,
    ) -> Result<Result<PostRow, PostRefusal>> {
        let Some(post) = self.post(chain_id, id, viewer).await? else {
            return Ok(Err(PostRefusal::NoSuchPost));
        };
        if changed == 1 {
            return Ok(Ok(post));
        }
        if post.deleted_at.is_some() {
            return Ok(Err(PostRefusal::Deleted));
        }
        Ok(Err(PostRefusal::ThreadLocked))
    }
}
