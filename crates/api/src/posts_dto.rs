//! The posts' JSON shapes (a post, a page of threads, a thread with its replies) and their paging
//! query, shared by the REST endpoints in `posts` and the GraphQL gateway.

use agora_store::{PostOrder, PostRow};
use serde::{Deserialize, Serialize};

use crate::{ApiError, params};

/// A thread's opening post or a reply.
#[derive(Serialize, utoipa::ToSchema, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
#[schema(as = Post)]
#[graphql(name = "Post")]
pub(crate) struct PostDto {
    id: u64,
    community_id: u64,
    /// The thread: equal to `id` for a thread's opening post.
    thread_id: u64,
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    author: String,
    /// The author's display name, if they set one.
    author_name: Option<String>,
    /// The author's avatar CID, if they set one (served at `/ipfs/{cid}`).
    author_avatar: Option<String>,
    /// The thread's title; `null` for replies and deleted threads.
    title: Option<String>,
    /// The markdown exactly as written (render it safely); `null` once deleted.
    body: Option<String>,
    created_at: u64,
    edited_at: Option<u64>,
    /// Deleted by its author: show "deleted" in its place.
    deleted: bool,
    deleted_at: Option<u64>,
    /// Hidden by a moderator: only its author and the moderators see it, marked so.
    hidden: bool,
    /// The thread takes no replies or edits (threads only).
    locked: bool,
    /// The thread is listed first (threads only).
    pinned: bool,
    /// A thread's replies the viewer can see, tombstones included; 0 for a reply.
    replies: u64,
}

pub(crate) fn post_dto(p: PostRow) -> PostDto {
    PostDto {
        id: p.id,
        community_id: p.community_id,
        thread_id: p.thread_id,
        author: format!("{:#x}", p.author),
        author_name: p.author_name,
        author_avatar: p.author_avatar,
        title: p.title,
        body: p.body,
        created_at: p.created_at,
        edited_at: p.edited_at,
        deleted: p.deleted_at.is_some(),
        deleted_at: p.deleted_at,
        hidden: p.hidden_at.is_some(),
        locked: p.locked_at.is_some(),
        pinned: p.pinned_at.is_some(),
        replies: p.replies,
    }
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, utoipa::ToSchema, async_graphql::Enum)]
#[serde(rename_all = "snake_case")]
#[schema(as = PostOrder)]
#[graphql(name = "PostOrder", rename_items = "snake_case")]
pub(crate) enum OrderDto {
    Newest,
    Oldest,
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// `newest` or `oldest` first (threads default to newest, replies to oldest; pinned threads
    /// always come first)
    #[param(inline)]
    pub(crate) order: Option<OrderDto>,
    /// at most this many (default 20)
    #[param(minimum = 1, maximum = 100)]
    pub(crate) limit: Option<u32>,
    /// skip this many (default 0)
    #[param(maximum = 9223372036854775807_u64)]
    pub(crate) offset: Option<u64>,
}

impl PageQuery {
    pub(crate) fn read(&self, default: PostOrder) -> Result<(PostOrder, u32, u64), ApiError> {
        let order = match self.order {
            None => default,
            Some(OrderDto::Newest) => PostOrder::Newest,
            Some(OrderDto::Oldest) => PostOrder::Oldest,
        };
        Ok((order, params::limit(self.limit, 20, 100)?, params::offset(self.offset)?))
    }
}

/// `rows` (fetched one past `limit`) as a page and the offset of the next page, if there is one.
pub(crate) fn page(mut rows: Vec<PostRow>, limit: u32, offset: u64) -> (Vec<PostDto>, Option<u64>) {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = more.then(|| offset + rows.len() as u64);
    (rows.into_iter().map(post_dto).collect(), next)
}

/// A page of a community's threads.
#[derive(Serialize, utoipa::ToSchema, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
#[schema(as = ThreadList)]
#[graphql(name = "ThreadList")]
pub(crate) struct ThreadListDto {
    pub(crate) threads: Vec<PostDto>,
    /// Pass as `offset` for the next page; `null` on the last.
    pub(crate) next_offset: Option<u64>,
    /// The viewer is a member and may start threads.
    pub(crate) can_post: bool,
    /// The viewer moderates this community.
    pub(crate) can_moderate: bool,
}

/// A thread with a page of its replies.
#[derive(Serialize, utoipa::ToSchema, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
#[schema(as = ThreadPage)]
#[graphql(name = "ThreadPage")]
pub(crate) struct ThreadPageDto {
    pub(crate) thread: PostDto,
    pub(crate) replies: Vec<PostDto>,
    /// Pass as `offset` for the next page of replies; `null` on the last.
    pub(crate) next_offset: Option<u64>,
    /// The viewer is a member and the thread is neither locked nor deleted.
    pub(crate) can_reply: bool,
    /// The viewer moderates this thread's community.
    pub(crate) can_moderate: bool,
}
