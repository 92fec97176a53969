//! Writes by the signed-in caller (the SIWE session cookie), through the functions the REST
//! endpoints named in each doc call: membership, locks, rate limits and disabled users are checked
//! there, once.

use async_graphql::{Context, Object, Result};

use super::{gql, id, signed_in, state};
use crate::moderation::{self, ReportDto};
use crate::posts::{self, PostDto};

pub(crate) struct Mutation;

#[Object]
impl Mutation {
    /// Start a thread in a community, members only (`POST /api/communities/{id}/threads`).
    async fn create_thread(&self, ctx: &Context<'_>, community: u64, title: String, body: String) -> Result<PostDto> {
        let author = signed_in(ctx)?;
        let community = id("community id", community)?;
        posts::start_thread(state(ctx), community, &title, &body, author).await.map_err(gql)
    }

    /// Reply in a thread, members only (`POST /api/threads/{id}/replies`).
    async fn reply(&self, ctx: &Context<'_>, thread: u64, body: String) -> Result<PostDto> {
        let author = signed_in(ctx)?;
        posts::reply(state(ctx), id("thread id", thread)?, &body, author).await.map_err(gql)
    }

    /// Report a post to its community's moderators, once (`POST /api/posts/{id}/reports`).
    async fn report_post(&self, ctx: &Context<'_>, post: u64, reason: String) -> Result<ReportDto> {
        let me = signed_in(ctx)?;
        moderation::report(state(ctx), id("post id", post)?, &reason, me).await.map_err(gql)
    }
}
