// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ICommunities
/// @notice Communities of the task market (issue 15, seed 003): anyone creates one, with a name, a
/// metadata URI (description, avatar, rules: kept off chain) and an arbiter who decides its tasks'
/// disputes. Each community gets its own ERC-20 points token ({ICommunityPoints}, no decimals), deployed
/// as an EIP-1167 clone of one implementation, so a community costs a clone and a few words instead of a
/// whole token contract.
///
/// Roles. The creator is the community's owner (ownership moves in two steps: `transferOwnership`,
/// then `acceptOwnership` by the new owner). The owner adds and removes admins; the owner counts as an
/// admin everywhere. Admins mint points to reward activity (`mint`, with a reason code kept in the
/// event). The owner sets the arbiter and the metadata URI, and turns transfers of the points on or off
/// (off at creation: points are a record of what a member did, not a currency, until the community
/// decides otherwise). Anyone may `join` and `leave`; the creator is the first member.
///
/// Minting by contracts (the task board). A contract such as the TaskBoard mints points on a community's
/// behalf only within a budget the community's admins set for it (`setMinterAllowance`). The contract
/// first reserves part of that budget for a promise it makes (`reserveMint`, naming the admin who made
/// the promise: only an admin's promise can reserve), then either mints from its reservation
/// (`mintReserved`) or gives it back to the allowance (`releaseMint`). A reservation is kept when the
/// admin who made it is removed or when the allowance is lowered: promises already made to workers hold.
/// So the points a minter can ever mint are at most what the admins allowed it, and the points it has
/// promised are always covered.
interface ICommunities {
    /// @notice A community as stored. `pendingOwner` is the address a transfer of ownership was offered
    /// to (zero when none).
    struct Community {
        address owner;
        uint32 memberCount;
        address pendingOwner;
        address arbiter;
        address points;
        string name;
        string metadataUri;
    }

    /// @notice What a minter contract may mint for a community: `allowance` not yet reserved, and
    /// `reserved` for promises it made and has not settled yet.
    struct MintBudget {
        uint128 allowance;
        uint128 reserved;
    }

    // ---------------------------------------------------------------- events

    /// @notice `owner` created community `communityId`, whose points token is `points`.
    event CommunityCreated(
        uint256 indexed communityId,
        address indexed owner,
        address points,
        address arbiter,
        string name,
        string symbol,
        string metadataUri
    );
    /// @notice The owner offered the community to `newOwner`.
    event OwnershipTransferStarted(uint256 indexed communityId, address indexed owner, address indexed newOwner);
    /// @notice `newOwner` accepted the community.
    event OwnershipTransferred(uint256 indexed communityId, address indexed previousOwner, address indexed newOwner);
    /// @notice The arbiter of the community's tasks published from now on.
    event ArbiterSet(uint256 indexed communityId, address indexed arbiter);
    /// @notice The community's metadata URI changed.
    event MetadataUriSet(uint256 indexed communityId, string metadataUri);
    /// @notice `account` became an admin.
    event AdminAdded(uint256 indexed communityId, address indexed account);
    /// @notice `account` is no longer an admin.
    event AdminRemoved(uint256 indexed communityId, address indexed account);
    /// @notice `account` joined; the community now has `memberCount` members.
    event MemberJoined(uint256 indexed communityId, address indexed account, uint32 memberCount);
    /// @notice `account` left; the community now has `memberCount` members.
    event MemberLeft(uint256 indexed communityId, address indexed account, uint32 memberCount);
    /// @notice The owner turned transfers of the community's points on or off.
    event PointsTransfersSet(uint256 indexed communityId, bool enabled);
    /// @notice `by` (an admin, or a minter contract from its reservation) minted `amount` points to `to`
    /// for `reason` (an application-defined code, e.g. the hash of "post" or of a task id).
    event PointsMinted(
        uint256 indexed communityId, address indexed to, address indexed by, uint256 amount, bytes32 reason
    );
    /// @notice `admin` set what `minter` may still reserve to `allowance`.
    event MinterAllowanceSet(uint256 indexed communityId, address indexed minter, address admin, uint256 allowance);
    /// @notice `minter` reserved `amount` of its allowance for a promise made by `admin`.
    event MintReserved(uint256 indexed communityId, address indexed minter, address admin, uint256 amount);
    /// @notice `minter` gave `amount` of its reservation back to its allowance.
    event MintReleased(uint256 indexed communityId, address indexed minter, uint256 amount);

    // ---------------------------------------------------------------- errors

    /// @notice No community has this id.
    error CommunityNotFound(uint256 communityId);
    /// @notice A name must be 1 to `MAX_NAME_LENGTH` bytes.
    error InvalidName(uint256 length);
    /// @notice A symbol must be 1 to `MAX_SYMBOL_LENGTH` bytes.
    error InvalidSymbol(uint256 length);
    /// @notice A metadata URI must be at most `MAX_URI_LENGTH` bytes.
    error InvalidMetadataUri(uint256 length);
    /// @notice The arbiter must not be the zero address.
    error InvalidArbiter(address arbiter);
    /// @notice The zero address cannot be an admin, an owner, a minter or a points recipient.
    error InvalidAccount(address account);
    /// @notice Points are minted in amounts above zero.
    error InvalidAmount(uint256 amount);
    /// @notice Only the community's owner may do this.
    error NotCommunityOwner(uint256 communityId, address caller);
    /// @notice Only the account ownership was offered to may accept it.
    error NotPendingOwner(uint256 communityId, address caller);
    /// @notice Only the community's admins (the owner included) may do this; for `reserveMint`, the admin
    /// named is not one.
    error NotCommunityAdmin(uint256 communityId, address account);
    /// @notice `account` is already an admin (`addAdmin`) or is not one (`removeAdmin`).
    error AdminUnchanged(uint256 communityId, address account, bool isAdmin);
    /// @notice `account` is already a member (`join`).
    error AlreadyMember(uint256 communityId, address account);
    /// @notice `account` is not a member (`leave`), or is the owner, who cannot leave.
    error CannotLeave(uint256 communityId, address account);
    /// @notice A reservation above what the minter may still reserve.
    error MintAllowanceExceeded(uint256 communityId, address minter, uint256 requested, uint256 allowance);
    /// @notice A mint or a release above what the minter has reserved.
    error ReservationExceeded(uint256 communityId, address minter, uint256 requested, uint256 reserved);

    // ---------------------------------------------------------------- communities

    /// @notice Create a community owned by the caller, and its points token `symbol` (1 to
    /// `MAX_SYMBOL_LENGTH` bytes) named after it. `name`: 1 to `MAX_NAME_LENGTH` bytes; `metadataUri`: at
    /// most `MAX_URI_LENGTH` bytes; `arbiter`: non-zero (the creator may name itself). Ids start at 1.
    function createCommunity(string calldata name, string calldata symbol, string calldata metadataUri, address arbiter)
        external
        returns (uint256 communityId, address points);

    /// @notice Offer the community to `newOwner` (the owner; zero withdraws the offer).
    function transferOwnership(uint256 communityId, address newOwner) external;

    /// @notice Take the community offered to the caller; the previous owner stays a member.
    function acceptOwnership(uint256 communityId) external;

    /// @notice Set the arbiter (the owner). Tasks already published keep the arbiter they were published
    /// with.
    function setArbiter(uint256 communityId, address arbiter) external;

    /// @notice Set the metadata URI (the owner).
    function setMetadataUri(uint256 communityId, string calldata metadataUri) external;

    /// @notice Make `account` an admin (the owner).
    function addAdmin(uint256 communityId, address account) external;

    /// @notice Remove `account` from the admins (the owner). Reservations made on its word stay.
    function removeAdmin(uint256 communityId, address account) external;

    /// @notice Turn transfers of the community's points on or off (the owner).
    function setPointsTransfers(uint256 communityId, bool enabled) external;

    /// @notice Become a member.
    function join(uint256 communityId) external;

    /// @notice Stop being a member (not the owner). Points are kept.
    function leave(uint256 communityId) external;

    // ---------------------------------------------------------------- points

    /// @notice Mint `amount` (> 0) points to `to` (non-zero) for `reason` (an admin).
    function mint(uint256 communityId, address to, uint256 amount, bytes32 reason) external;

    /// @notice Set what `minter` (a contract such as the TaskBoard) may still reserve to `allowance` (an
    /// admin). What it already reserved is not affected.
    function setMinterAllowance(uint256 communityId, address minter, uint128 allowance) external;

    /// @notice Move `amount` of the caller's allowance to its reservation, for a promise made by `admin`,
    /// who must be an admin of the community now.
    function reserveMint(uint256 communityId, address admin, uint256 amount) external;

    /// @notice Mint `amount` points to `to` out of the caller's reservation, for `reason`.
    function mintReserved(uint256 communityId, address to, uint256 amount, bytes32 reason) external;

    /// @notice Give `amount` of the caller's reservation back to its allowance.
    function releaseMint(uint256 communityId, uint256 amount) external;

    // ---------------------------------------------------------------- views

    /// @notice How many communities exist (the last id).
    function communityCount() external view returns (uint256);

    /// @notice The stored community; all zero for an unknown id.
    function getCommunity(uint256 communityId) external view returns (Community memory);

    /// @notice The community's arbiter; zero for an unknown id.
    function arbiterOf(uint256 communityId) external view returns (address);

    /// @notice The community's points token; zero for an unknown id.
    function pointsOf(uint256 communityId) external view returns (address);

    /// @notice Whether `account` is the owner or an admin of the community.
    function isAdmin(uint256 communityId, address account) external view returns (bool);

    /// @notice Whether `account` is a member.
    function isMember(uint256 communityId, address account) external view returns (bool);

    /// @notice What `minter` may still reserve, and has reserved, for the community.
    function mintBudget(uint256 communityId, address minter) external view returns (MintBudget memory);

    /// @notice The points implementation every community's token is a clone of.
    function POINTS_IMPLEMENTATION() external view returns (address);

    /// @notice Upper bound for a community's name, in bytes (64).
    function MAX_NAME_LENGTH() external view returns (uint256);

    /// @notice Upper bound for a points symbol, in bytes (16).
    function MAX_SYMBOL_LENGTH() external view returns (uint256);

    /// @notice Upper bound for a metadata URI, in bytes (512).
    function MAX_URI_LENGTH() external view returns (uint256);
}
