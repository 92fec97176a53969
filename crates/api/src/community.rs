//! Communities as indexed from the `Communities` contract and their points tokens — admins, members,
//! points leaderboard — and an account's side of the task board: tasks published, slots held,
//! points per community, communities joined. Read only: members and admins act on chain.

use agora_store::{BoardTaskFilter, CommunityFilter, CommunityRow};
use alloy::primitives::Address;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::board_dto::{ClaimDto, TaskDto, claim_dto, tasks_with_counts};
use crate::cached::{CachedJson, cached};
use crate::error::ErrorBody;
use crate::fl_market::{dec, lower_hex};
use crate::{ApiError, AppState, params};

type ApiResult<T> = Result<Json<T>, ApiError>;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/communities", get(communities))
        .route("/api/communities/{id}", get(community))
        .route("/api/communities/{id}/members", get(members))
        .route("/api/accounts/{address}/board", get(account))
}

/// A community with its points token and who runs it.
#[derive(Serialize, utoipa::ToSchema, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
#[schema(as = Community)]
#[graphql(name = "Community")]
pub(crate) struct CommunityDto {
    id: u64,
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    owner: String,
    /// Who decides disputes of the community's tasks published from now on.
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    arbiter: String,
    /// The community's points, an ERC-20 without decimals.
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    points_token: String,
    name: String,
    symbol: String,
    metadata_uri: String,
    /// Whether points may move between accounts.
    transfers_enabled: bool,
    member_count: u64,
    /// Every point minted.
    #[schema(pattern = "^[0-9]+$")]
    points_supply: String,
    /// Admins the owner appointed (the owner is one by the contract's rule and not listed).
    admins: Vec<String>,
    /// Unix seconds (block time).
    created_at: u64,
}

async fn community_dto(s: &AppState, c: CommunityRow) -> Result<CommunityDto, ApiError> {
    let admins = s.store.community_admins(s.network.chain_id, c.community_id).await?;
    Ok(community_with(c, admins))
}

fn community_with(c: CommunityRow, admins: Vec<agora_store::CommunityMemberRow>) -> CommunityDto {
    CommunityDto {
        id: c.community_id,
        owner: lower_hex(c.owner),
        arbiter: lower_hex(c.arbiter),
        points_token: lower_hex(c.points_token),
        name: c.name,
        symbol: c.symbol,
        metadata_uri: c.metadata_uri,
        transfers_enabled: c.transfers_enabled,
        member_count: c.member_count,
        points_supply: dec(c.points_supply),
        admins: admins.into_iter().map(|a| lower_hex(a.account)).collect(),
        created_at: c.created_at,
    }
}

/// The community as `/api/communities` lists it, or `None` when none is indexed by that id.
pub(crate) async fn load_community(s: &AppState, id: u64) -> Result<Option<CommunityDto>, ApiError> {
    match s.store.community(s.network.chain_id, id).await? {
        Some(c) => Ok(Some(community_dto(s, c).await?)),
        None => Ok(None),
    }
}

async fn known(s: &AppState, id: u64) -> Result<CommunityRow, ApiError> {
    s.store.community(s.network.chain_id, id).await?.ok_or_else(|| ApiError::NotFound(format!("no community {id}")))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// at most this many (default 100)
    #[param(minimum = 1, maximum = 100)]
    pub(crate) limit: Option<u32>,
    /// skip this many first
    #[param(minimum = 0, maximum = 9223372036854775807_u64)]
    pub(crate) offset: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema, async_graphql::SimpleObject)]
#[schema(as = CommunityList)]
#[graphql(name = "CommunityList")]
pub(crate) struct ListDto {
    communities: Vec<CommunityDto>,
}

/// Communities
#[utoipa::path(get, path = "/api/communities", tag = "board", operation_id = "communities", params(PageQuery),
    summary = "Communities, newest first",
    responses(
        (status = 200, description = "ok", body = ListDto),
        (status = 400, description = "a malformed limit or offset", body = ErrorBody),
    ),
)]
async fn communities(
    State(s): State<AppState>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<CachedJson, ApiError> {
    let Query(q) = q?;
    let (limit, offset) = (params::limit(q.limit, 100, 100)?, params::offset(q.offset)?);
    cached(&s, "community", &format!("communities?limit={limit}&offset={offset}"), load_communities(&s, limit, offset))
        .await
}

/// A page of communities, newest first (REST caches it; GraphQL reads it directly).
pub(crate) async fn load_communities(s: &AppState, limit: u32, offset: u64) -> Result<ListDto, ApiError> {
    let rows = s.store.communities(s.network.chain_id, CommunityFilter::default(), limit, offset).await?;
    // The page's admins in one query rather than one per community.
    let ids: Vec<u64> = rows.iter().map(|c| c.community_id).collect();
    let mut admins = s.store.community_admins_for(s.network.chain_id, &ids).await?;
    let communities = rows
        .into_iter()
        .map(|c| {
            let appointed = admins.remove(&c.community_id).unwrap_or_default();
            community_with(c, appointed)
        })
        .collect();
    Ok(ListDto { communities })
}

/// An account's points.
#[derive(Serialize, utoipa::ToSchema, async_graphql::SimpleObject)]
#[schema(as = CommunityLeader)]
#[graphql(name = "CommunityLeader")]
struct LeaderDto {
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    account: String,
    #[schema(pattern = "^[0-9]+$")]
    balance: String,
}

#[derive(Serialize, utoipa::ToSchema, async_graphql::SimpleObject)]
#[schema(as = CommunityDetail)]
#[graphql(name = "CommunityDetail")]
pub(crate) struct DetailDto {
    community: CommunityDto,
    /// The 20 largest points balances, largest first.
    leaderboard: Vec<LeaderDto>,
}

/// One community
#[utoipa::path(get, path = "/api/communities/{id}", tag = "board", operation_id = "community",
    params(("id" = u64, Path, description = "the community's id", maximum = 9223372036854775807_u64)),
    summary = "A community with its points leaderboard (top 20)",
    responses(
        (status = 200, description = "ok", body = DetailDto),
        (status = 400, description = "a malformed id", body = ErrorBody),
        (status = 404, description = "no such community", body = ErrorBody),
    ),
)]
async fn community(State(s): State<AppState>, id: Result<Path<String>, PathRejection>) -> Result<CachedJson, ApiError> {
    let Path(raw) = id?;
    let id = params::id("id", &raw)?;
    cached(&s, "community", &format!("community/{id}"), community_detail(&s, id)).await
}

/// Community `id` with its leaderboard; 404 when none is indexed by that id.
pub(crate) async fn community_detail(s: &AppState, id: u64) -> Result<DetailDto, ApiError> {
    let c = known(s, id).await?;
    let leaders = s.store.community_leaderboard(s.network.chain_id, c.community_id, 20, 0).await?;
    Ok(DetailDto {
        community: community_dto(s, c).await?,
        leaderboard: leaders
            .into_iter()
            .map(|p| LeaderDto { account: lower_hex(p.account), balance: dec(p.balance) })
            .collect(),
    })
}

/// A member of a community.
#[derive(Serialize, utoipa::ToSchema, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
#[schema(as = CommunityMember)]
#[graphql(name = "CommunityMember")]
struct MemberDto {
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    account: String,
    /// Unix seconds (block time).
    joined_at: u64,
    #[schema(pattern = "^[0-9]+$")]
    points: String,
    /// The owner or an appointed admin.
    admin: bool,
}

#[derive(Serialize, utoipa::ToSchema, async_graphql::SimpleObject)]
#[schema(as = CommunityMembers)]
#[graphql(name = "CommunityMembers")]
pub(crate) struct MembersDto {
    members: Vec<MemberDto>,
}

/// A community's members
#[utoipa::path(get, path = "/api/communities/{id}/members", tag = "board", operation_id = "community_members",
    params(("id" = u64, Path, description = "the community's id", maximum = 9223372036854775807_u64), PageQuery),
    summary = "A community's members in the order they joined, with their points and whether they are admins",
    responses(
        (status = 200, description = "ok", body = MembersDto),
        (status = 400, description = "a malformed id, limit or offset", body = ErrorBody),
        (status = 404, description = "no such community", body = ErrorBody),
    ),
)]
async fn members(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<CachedJson, ApiError> {
    let Path(raw) = id?;
    let Query(q) = q?;
    let id = params::id("id", &raw)?;
    let key = format!("community/{id}/members?limit={:?}&offset={:?}", q.limit, q.offset);
    cached(&s, "community", &key, community_members(&s, id, &q)).await
}

/// A page of community `id`'s members in the order they joined; 404 when there is no such community.
pub(crate) async fn community_members(s: &AppState, id: u64, q: &PageQuery) -> Result<MembersDto, ApiError> {
    let c = known(s, id).await?;
    let limit = params::limit(q.limit, 100, 100)?;
    let offset = params::offset(q.offset)?;
    let chain = s.network.chain_id;
    let rows = s.store.community_members(chain, c.community_id, limit, offset).await?;
    let accounts: Vec<Address> = rows.iter().map(|m| m.account).collect();
    let points = s.store.community_points_for(chain, c.community_id, &accounts).await?;
    let admins: Vec<Address> =
        s.store.community_admins(chain, c.community_id).await?.into_iter().map(|a| a.account).collect();
    let members = rows
        .into_iter()
        .map(|m| MemberDto {
            account: lower_hex(m.account),
            joined_at: m.since,
            points: dec(points.get(&m.account).copied().unwrap_or_default()),
            admin: m.account == c.owner || admins.contains(&m.account),
        })
        .collect();
    Ok(MembersDto { members })
}

/// A slot the account holds or held, with its task.
#[derive(Serialize, utoipa::ToSchema, async_graphql::SimpleObject)]
#[schema(as = BoardWork)]
#[graphql(name = "BoardWork")]
struct WorkDto {
    task: TaskDto,
    claim: ClaimDto,
}

/// An account's points in one community.
#[derive(Serialize, utoipa::ToSchema, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
#[schema(as = CommunityPoints)]
#[graphql(name = "CommunityPoints")]
struct PointsDto {
    community_id: u64,
    name: String,
    symbol: String,
    #[schema(pattern = "^[0-9]+$")]
    balance: String,
}

#[derive(Serialize, utoipa::ToSchema, async_graphql::SimpleObject)]
#[schema(as = AccountBoard)]
#[graphql(name = "AccountBoard")]
pub(crate) struct AccountDto {
    /// Tasks it published, newest first (the latest 100).
    published: Vec<TaskDto>,
    /// Slots it holds or held, newest task first (the latest 100).
    working: Vec<WorkDto>,
    /// Its points, per community where it has any.
    points: Vec<PointsDto>,
    /// The communities it is a member of.
    communities: Vec<u64>,
}

/// An account's task board
#[utoipa::path(get, path = "/api/accounts/{address}/board", tag = "board", operation_id = "account_board",
    params(("address" = String, Path, pattern = "^0x[0-9a-fA-F]{40}$", description = "the account")),
    summary = "An account's side of the task board: tasks published, slots held, points per community, communities joined",
    responses(
        (status = 200, description = "ok", body = AccountDto),
        (status = 400, description = "a malformed address", body = ErrorBody),
    ),
)]
async fn account(State(s): State<AppState>, address: Result<Path<String>, PathRejection>) -> ApiResult<AccountDto> {
    let Path(raw) = address?;
    Ok(Json(account_board(&s, params::address("address", &raw)?).await?))
}

/// `who`'s side of the task board.
pub(crate) async fn account_board(s: &AppState, who: Address) -> Result<AccountDto, ApiError> {
    let chain = s.network.chain_id;
    let mine = BoardTaskFilter { publisher: Some(who), ..BoardTaskFilter::default() };
    let published = tasks_with_counts(s, s.store.board_tasks(chain, mine, 100, 0).await?).await?;
    // The tasks it holds a slot of, and its claims, both newest task first: one read each.
    let held = BoardTaskFilter { worker: Some(who), ..BoardTaskFilter::default() };
    let tasks = tasks_with_counts(s, s.store.board_tasks(chain, held, 100, 0).await?).await?;
    let mut claims: std::collections::HashMap<u64, _> =
        s.store.board_claims_of(chain, who, 100, 0).await?.into_iter().map(|c| (c.task_id, c)).collect();
    let mut working = Vec::with_capacity(tasks.len());
    for task in tasks {
        let claim = claims
            .remove(&task.id)
            .ok_or_else(|| ApiError::Internal(format!("board task {} lists a worker without its claim", task.id)))?;
        working.push(WorkDto { task, claim: claim_dto(claim) });
    }
    let mut points = Vec::new();
    for p in s.store.account_points(chain, who).await? {
        let c = s.store.community(chain, p.community_id).await?.ok_or_else(|| {
            ApiError::Internal(format!("points in community {} which is not indexed", p.community_id))
        })?;
        points.push(PointsDto {
            community_id: p.community_id,
            name: c.name,
            symbol: c.symbol,
            balance: dec(p.balance),
        });
    }
    let member = CommunityFilter { member: Some(who), ..CommunityFilter::default() };
    let communities = s.store.communities(chain, member, 100, 0).await?.into_iter().map(|c| c.community_id).collect();
    Ok(AccountDto { published, working, points, communities })
}
