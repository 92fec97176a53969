//! Communities for `agora community …`: creation (with its points token), membership, admins, points
//! minted by admins, transfers on or off, the board's minting budget, and a community as the chain
//! holds it.

use agora_chain::bindings::{Communities, CommunityPoints};
use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, Result};
use serde::Serialize;

use super::{BoardNode, Refused};

/// A community created.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedCommunity {
    /// Its id.
    pub community_id: u64,
    /// Its points token (an EIP-1167 clone).
    pub points: Address,
    /// Who decides its tasks' disputes.
    pub arbiter: Address,
    /// The `createCommunity` transaction.
    pub tx: B256,
}

/// A community read from the chain; amounts are decimal strings.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommunityView {
    /// Its id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Its points' symbol.
    pub symbol: String,
    /// Its metadata URI.
    pub metadata_uri: String,
    /// Its owner.
    pub owner: Address,
    /// Who decides the disputes of its tasks published from now on.
    pub arbiter: Address,
    /// Its members.
    pub member_count: u32,
    /// Its points token.
    pub points: Address,
    /// Points minted in all.
    pub points_supply: String,
    /// Whether holders may move their points.
    pub transfers_enabled: bool,
    /// What the task board may still reserve for tasks' points.
    pub board_allowance: String,
    /// What the task board has reserved for open tasks' points.
    pub board_reserved: String,
    /// For `show --account`: that account's points, membership and role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountInCommunity>,
}

/// One account in a community.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountInCommunity {
    /// The account.
    pub address: Address,
    /// Its points.
    pub points: String,
    /// Whether it is a member.
    pub member: bool,
    /// Whether it is the owner or an admin.
    pub admin: bool,
}

/// One community action, with what it takes.
#[derive(Debug, Clone)]
pub enum CommunityAction {
    /// Become a member.
    Join,
    /// Stop being a member.
    Leave,
    /// Make an account an admin (the owner).
    AddAdmin(Address),
    /// Remove an admin (the owner).
    RemoveAdmin(Address),
    /// Mint points to an account (an admin), for a reason (hashed into the event's code).
    Mint(Address, U256, Option<String>),
    /// Turn transfers of the points on or off (the owner).
    Transfers(bool),
    /// Set what the task board may still reserve for tasks' points (an admin).
    AllowBoard(u128),
}

/// The reason code `mint` records: the text's keccak-256, as the contract note suggests, or zero.
pub fn reason_code(reason: Option<&str>) -> B256 {
    reason.map(|r| keccak256(r.as_bytes())).unwrap_or_default()
}

impl BoardNode {
    /// Creates a community owned by `key` (arbiter: `arbiter`, else the creator).
    pub async fn create_community(
        &self,
        key: &PrivateKeySigner,
        name: &str,
        symbol: &str,
        metadata_uri: &str,
        arbiter: Option<Address>,
    ) -> Result<CreatedCommunity> {
        let sender = self.sender(key).await?;
        let arbiter = arbiter.unwrap_or(sender.address());
        let communities = Communities::new(self.communities, sender.provider());
        let call = communities.createCommunity(name.to_owned(), symbol.to_owned(), metadata_uri.to_owned(), arbiter);
        let receipt = self.send(&sender, call).await?;
        let created = receipt
            .decoded_log::<Communities::CommunityCreated>()
            .context("createCommunity emitted no CommunityCreated")?;
        Ok(CreatedCommunity {
            community_id: created.data.communityId.to::<u64>(),
            points: created.data.points,
            arbiter,
            tx: receipt.transaction_hash,
        })
    }

    /// Sends one community action as `key`.
    pub async fn community_act(&self, key: &PrivateKeySigner, community: u64, action: CommunityAction) -> Result<B256> {
        let sender = self.sender(key).await?;
        let c = Communities::new(self.communities, sender.provider());
        let id = U256::from(community);
        let receipt = match action {
            CommunityAction::Join => self.send(&sender, c.join(id)).await?,
            CommunityAction::Leave => self.send(&sender, c.leave(id)).await?,
            CommunityAction::AddAdmin(a) => self.send(&sender, c.addAdmin(id, a)).await?,
            CommunityAction::RemoveAdmin(a) => self.send(&sender, c.removeAdmin(id, a)).await?,
            CommunityAction::Mint(to, amount, reason) => {
                self.send(&sender, c.mint(id, to, amount, reason_code(reason.as_deref()))).await?
            }
            CommunityAction::Transfers(on) => self.send(&sender, c.setPointsTransfers(id, on)).await?,
            CommunityAction::AllowBoard(n) => self.send(&sender, c.setMinterAllowance(id, self.board, n)).await?,
        };
        Ok(receipt.transaction_hash)
    }

    /// The community as the chain holds it (and `account`'s standing in it); `CommunityNotFound`
    /// for an unknown id.
    pub async fn community(&self, community: u64, account: Option<Address>) -> Result<CommunityView> {
        let provider = agora_chain::read_provider(&self.rpc_url)?;
        let c = Communities::new(self.communities, &provider);
        let id = U256::from(community);
        let row = c.getCommunity(id).call().await?;
        if row.owner == Address::ZERO {
            return Err(Refused {
                code: "CommunityNotFound".into(),
                message: format!("no community {community} on chain"),
            }
            .into());
        }
        let points = CommunityPoints::new(row.points, &provider);
        let budget = c.mintBudget(id, self.board).call().await?;
        let account = match account {
            None => None,
            Some(a) => Some(AccountInCommunity {
                address: a,
                points: points.balanceOf(a).call().await?.to_string(),
                member: c.isMember(id, a).call().await?,
                admin: c.isAdmin(id, a).call().await?,
            }),
        };
        Ok(CommunityView {
            id: community,
            name: row.name,
            symbol: points.symbol().call().await?,
            metadata_uri: row.metadataUri,
            owner: row.owner,
            arbiter: row.arbiter,
            member_count: row.memberCount,
            points: row.points,
            points_supply: points.totalSupply().call().await?.to_string(),
            transfers_enabled: points.transfersEnabled().call().await?,
            board_allowance: budget.allowance.to_string(),
            board_reserved: budget.reserved.to_string(),
            account,
        })
    }
}
