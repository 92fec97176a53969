//! Reads: each field parses its arguments as the REST endpoint named in its doc parses its query
//! and calls the same loader.

use async_graphql::{Context, Object, Result};

use super::{caller, found, gql, id, state};
use crate::board::{self, TaskListDto, TasksQuery};
use crate::board_dto::{TaskDetailDto, TaskStateDto};
use crate::community::{self, AccountDto, DetailDto, ListDto, MembersDto};
use crate::posts::{self, PageQuery};
use crate::posts_dto::{OrderDto, ThreadListDto, ThreadPageDto};
use crate::profiles::{self, ProfileDto};
use crate::{community::PageQuery as CommunityPage, params};

pub(crate) struct Query;

#[Object]
impl Query {
    /// Task-board tasks, newest first (`GET /api/board/tasks`).
    #[graphql(complexity = "limit.unwrap_or(50) as usize * child_complexity")]
    #[allow(clippy::too_many_arguments)]
    async fn board_tasks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "only tasks of this community")] community: Option<u64>,
        #[graphql(desc = "only tasks in this state")] state: Option<TaskStateDto>,
        #[graphql(desc = "only tasks this account published")] publisher: Option<String>,
        #[graphql(desc = "only tasks this account holds or held a slot of")] worker: Option<String>,
        #[graphql(desc = "only tasks paying in this token (0x000…0: ETH)")] token: Option<String>,
        #[graphql(desc = "at most this many (1 to 100, default 50)")] limit: Option<u32>,
        #[graphql(desc = "skip this many first")] offset: Option<u64>,
    ) -> Result<TaskListDto> {
        let q = TasksQuery { community, state, publisher, worker, token, limit, offset };
        let page = q.read().map_err(gql)?;
        board::load_tasks(super::state(ctx), &page).await.map_err(gql)
    }

    /// A task with its claims and timeline (`GET /api/board/tasks/{id}`); null when none.
    async fn board_task(&self, ctx: &Context<'_>, id: u64) -> Result<Option<TaskDetailDto>> {
        found(board::task_detail(state(ctx), self::id("id", id)?).await)
    }

    /// Communities, newest first (`GET /api/communities`).
    #[graphql(complexity = "limit.unwrap_or(100) as usize * child_complexity")]
    async fn communities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "at most this many (1 to 100, default 100)")] limit: Option<u32>,
        #[graphql(desc = "skip this many first")] offset: Option<u64>,
    ) -> Result<ListDto> {
        let limit = params::limit(limit, 100, 100).map_err(gql)?;
        let offset = params::offset(offset).map_err(gql)?;
        community::load_communities(state(ctx), limit, offset).await.map_err(gql)
    }

    /// A community with its points leaderboard (`GET /api/communities/{id}`); null when none.
    #[graphql(complexity = "20 * child_complexity")]
    async fn community(&self, ctx: &Context<'_>, id: u64) -> Result<Option<DetailDto>> {
        found(community::community_detail(state(ctx), self::id("id", id)?).await)
    }

    /// A community's members in the order they joined (`GET /api/communities/{id}/members`);
    /// null when there is no such community.
    #[graphql(complexity = "limit.unwrap_or(100) as usize * child_complexity")]
    async fn community_members(
        &self,
        ctx: &Context<'_>,
        id: u64,
        #[graphql(desc = "at most this many (1 to 100, default 100)")] limit: Option<u32>,
        #[graphql(desc = "skip this many first")] offset: Option<u64>,
    ) -> Result<Option<MembersDto>> {
        let q = CommunityPage { limit, offset };
        found(community::community_members(state(ctx), self::id("id", id)?, &q).await)
    }

    /// An account's side of the task board (`GET /api/accounts/{address}/board`).
    #[graphql(complexity = "100 * child_complexity")]
    async fn account_board(&self, ctx: &Context<'_>, address: String) -> Result<AccountDto> {
        let who = params::address("address", &address).map_err(gql)?;
        community::account_board(state(ctx), who).await.map_err(gql)
    }

    /// A community's threads as the caller sees them (`GET /api/communities/{id}/threads`); null
    /// when there is no such community.
    #[graphql(complexity = "limit.unwrap_or(20) as usize * child_complexity")]
    async fn community_threads(
        &self,
        ctx: &Context<'_>,
        community: u64,
        order: Option<OrderDto>,
        #[graphql(desc = "at most this many (1 to 100, default 20)")] limit: Option<u32>,
        #[graphql(desc = "skip this many first")] offset: Option<u64>,
    ) -> Result<Option<ThreadListDto>> {
        let q = PageQuery { order, limit, offset };
        found(posts::threads_page(state(ctx), self::id("community id", community)?, &q, caller(ctx)).await)
    }

    /// A thread and a page of its replies as the caller sees them (`GET /api/threads/{id}`); null
    /// when there is no such thread or it is hidden from the caller.
    #[graphql(complexity = "limit.unwrap_or(20) as usize * child_complexity")]
    async fn thread(
        &self,
        ctx: &Context<'_>,
        id: u64,
        order: Option<OrderDto>,
        #[graphql(desc = "at most this many replies (1 to 100, default 20)")] limit: Option<u32>,
        #[graphql(desc = "skip this many replies first")] offset: Option<u64>,
    ) -> Result<Option<ThreadPageDto>> {
        let q = PageQuery { order, limit, offset };
        found(posts::thread_with_replies(state(ctx), self::id("thread id", id)?, &q, caller(ctx)).await)
    }

    /// A person's public profile (`GET /api/profiles/{address}`).
    async fn profile(&self, ctx: &Context<'_>, address: String) -> Result<ProfileDto> {
        let who = params::address("address", &address).map_err(gql)?;
        profiles::load_profile(state(ctx), who).await.map_err(gql)
    }
}
