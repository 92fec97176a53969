//! The Communities contract's events and its points tokens' transfers in the store's vocabulary (one
//! [`MarketEvent::Community`] each): addresses lower-case hex, amounts decimal strings, ids numbers.
//!
//! [`MarketEvent::Community`]: crate::MarketEvent::Community

/// A Communities event, or an ERC-20 `Transfer` of a community's points token. Its name
/// ([`CommunityEvent::kind`], also the stored `kind`) starts with `Community`: the contract's event
/// name when it already does (`CommunityCreated`), else prefixed with it (`CommunityMemberJoined`:
/// FederatedMarket has a `MemberJoined` with the very same signature).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommunityEvent {
    /// Someone created a community (its owner and first member) and its points token.
    CommunityCreated {
        /// The new community's id.
        community_id: u64,
        /// Its owner.
        owner: String,
        /// Its points token (an EIP-1167 clone).
        points_token: String,
        /// Who decides disputes of its tasks.
        arbiter: String,
        /// Its name (also the points' name).
        name: String,
        /// The points' symbol.
        symbol: String,
        /// Where its description lives.
        metadata_uri: String,
    },
    /// The owner offered the community to another account.
    OwnershipTransferStarted {
        /// The community.
        community_id: u64,
        /// The owner.
        owner: String,
        /// Who may accept.
        new_owner: String,
    },
    /// The offered account accepted the community.
    OwnershipTransferred {
        /// The community.
        community_id: u64,
        /// The owner before.
        previous_owner: String,
        /// The owner now.
        new_owner: String,
    },
    /// The owner named the arbiter of tasks published from now on.
    ArbiterSet {
        /// The community.
        community_id: u64,
        /// The arbiter.
        arbiter: String,
    },
    /// The owner replaced the description's URI.
    MetadataUriSet {
        /// The community.
        community_id: u64,
        /// The URI.
        metadata_uri: String,
    },
    /// The owner appointed an admin.
    AdminAdded {
        /// The community.
        community_id: u64,
        /// The admin.
        account: String,
    },
    /// The owner removed an admin.
    AdminRemoved {
        /// The community.
        community_id: u64,
        /// The former admin.
        account: String,
    },
    /// An account joined.
    MemberJoined {
        /// The community.
        community_id: u64,
        /// Who joined.
        account: String,
        /// Members now.
        member_count: u64,
    },
    /// A member left.
    MemberLeft {
        /// The community.
        community_id: u64,
        /// Who left.
        account: String,
        /// Members now.
        member_count: u64,
    },
    /// The owner turned transfers of the points on or off.
    PointsTransfersSet {
        /// The community.
        community_id: u64,
        /// Whether points may be transferred now.
        enabled: bool,
    },
    /// Points were minted (by an admin, or by a minter from its budget); the token's `Transfer`
    /// from the zero address follows in the same transaction.
    PointsMinted {
        /// The community.
        community_id: u64,
        /// Who received them.
        to: String,
        /// Who minted (an admin, or a contract such as the TaskBoard).
        by: String,
        /// How many.
        amount: String,
        /// What for (`0x` hex of 32 bytes; the TaskBoard puts the task id there).
        reason: String,
    },
    /// An admin set a minter's allowance (how much more it may reserve).
    MinterAllowanceSet {
        /// The community.
        community_id: u64,
        /// The minter (the TaskBoard).
        minter: String,
        /// The admin who set it.
        admin: String,
        /// The allowance now.
        allowance: String,
    },
    /// A minter reserved part of its allowance for a promise (a task's points), on an admin's word.
    MintReserved {
        /// The community.
        community_id: u64,
        /// The minter.
        minter: String,
        /// The admin the reservation is made for (the task's publisher).
        admin: String,
        /// How many points.
        amount: String,
    },
    /// A minter gave part of a reservation back to its allowance.
    MintReleased {
        /// The community.
        community_id: u64,
        /// The minter.
        minter: String,
        /// How many points.
        amount: String,
    },
    /// An ERC-20 `Transfer` of the community's points token (a mint is one from the zero address):
    /// what points balances are derived from.
    PointsTransfer {
        /// The community whose token emitted it.
        community_id: u64,
        /// The sender (zero address: a mint).
        from: String,
        /// The receiver.
        to: String,
        /// How many points.
        amount: String,
    },
}

impl CommunityEvent {
    /// The event's name, starting with `Community`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::CommunityCreated { .. } => "CommunityCreated",
            Self::OwnershipTransferStarted { .. } => "CommunityOwnershipTransferStarted",
            Self::OwnershipTransferred { .. } => "CommunityOwnershipTransferred",
            Self::ArbiterSet { .. } => "CommunityArbiterSet",
            Self::MetadataUriSet { .. } => "CommunityMetadataUriSet",
            Self::AdminAdded { .. } => "CommunityAdminAdded",
            Self::AdminRemoved { .. } => "CommunityAdminRemoved",
            Self::MemberJoined { .. } => "CommunityMemberJoined",
            Self::MemberLeft { .. } => "CommunityMemberLeft",
            Self::PointsTransfersSet { .. } => "CommunityPointsTransfersSet",
            Self::PointsMinted { .. } => "CommunityPointsMinted",
            Self::MinterAllowanceSet { .. } => "CommunityMinterAllowanceSet",
            Self::MintReserved { .. } => "CommunityMintReserved",
            Self::MintReleased { .. } => "CommunityMintReleased",
            Self::PointsTransfer { .. } => "CommunityPointsTransfer",
        }
    }

    /// The community the event is about.
    pub fn community_id(&self) -> u64 {
        match self {
            Self::CommunityCreated { community_id, .. }
            | Self::OwnershipTransferStarted { community_id, .. }
            | Self::OwnershipTransferred { community_id, .. }
            | Self::ArbiterSet { community_id, .. }
            | Self::MetadataUriSet { community_id, .. }
            | Self::AdminAdded { community_id, .. }
            | Self::AdminRemoved { community_id, .. }
            | Self::MemberJoined { community_id, .. }
            | Self::MemberLeft { community_id, .. }
            | Self::PointsTransfersSet { community_id, .. }
            | Self::PointsMinted { community_id, .. }
            | Self::MinterAllowanceSet { community_id, .. }
            | Self::MintReserved { community_id, .. }
            | Self::MintReleased { community_id, .. }
            | Self::PointsTransfer { community_id, .. } => *community_id,
        }
    }
}
