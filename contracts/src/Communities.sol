// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {ICommunities} from "./interfaces/ICommunities.sol";
import {ICommunityPoints} from "./interfaces/ICommunityPoints.sol";
import {CommunityPoints} from "./CommunityPoints.sol";

/// @title Communities
/// @notice Communities, their admins, members and points (see {ICommunities}).
/// @dev The points implementation is deployed once, by this constructor, and each community's token is
/// an EIP-1167 clone of it (OpenZeppelin `Clones`), initialised in the same transaction. This contract
/// holds no money; the only contracts it calls are its own points clones, whose code it deployed.
/// Budget rules: per community and minter, `allowance` only goes down by `reserveMint` (moved to
/// `reserved`) and is otherwise set by an admin; `reserved` only goes down by `mintReserved` (minted) and
/// `releaseMint` (moved back to `allowance`). So a minter mints at most what admins allowed it.
contract Communities is ICommunities {
    /// @inheritdoc ICommunities
    uint256 public constant MAX_NAME_LENGTH = 64;
    /// @inheritdoc ICommunities
    uint256 public constant MAX_SYMBOL_LENGTH = 16;
    /// @inheritdoc ICommunities
    uint256 public constant MAX_URI_LENGTH = 512;

    /// @inheritdoc ICommunities
    address public immutable POINTS_IMPLEMENTATION;

    /// @inheritdoc ICommunities
    uint256 public communityCount;

    mapping(uint256 communityId => Community) private _communities;
    mapping(uint256 communityId => mapping(address account => bool)) private _admins;
    mapping(uint256 communityId => mapping(address account => bool)) private _members;
    mapping(uint256 communityId => mapping(address minter => MintBudget)) private _budgets;

    constructor() {
        POINTS_IMPLEMENTATION = address(new CommunityPoints());
    }

    // ---------------------------------------------------------------- communities

    /// @inheritdoc ICommunities
    function createCommunity(string calldata name, string calldata symbol, string calldata metadataUri, address arbiter)
        external
        returns (uint256 communityId, address points)
    {
        uint256 length = bytes(name).length;
        if (length == 0 || length > MAX_NAME_LENGTH) revert InvalidName(length);
        length = bytes(symbol).length;
        if (length == 0 || length > MAX_SYMBOL_LENGTH) revert InvalidSymbol(length);
        _checkUri(metadataUri);
        if (arbiter == address(0)) revert InvalidArbiter(arbiter);

        communityId = ++communityCount;
        points = Clones.clone(POINTS_IMPLEMENTATION);
        Community storage community = _communities[communityId];
        community.owner = msg.sender;
        community.memberCount = 1;
        community.arbiter = arbiter;
        community.points = points;
        community.name = name;
        community.metadataUri = metadataUri;
        _members[communityId][msg.sender] = true;
        emit CommunityCreated(communityId, msg.sender, points, arbiter, name, symbol, metadataUri);
        emit MemberJoined(communityId, msg.sender, 1);
        ICommunityPoints(points).initialize(communityId, name, symbol);
    }

    /// @inheritdoc ICommunities
    function transferOwnership(uint256 communityId, address newOwner) external {
        Community storage community = _ownedBy(communityId, msg.sender);
        community.pendingOwner = newOwner;
        emit OwnershipTransferStarted(communityId, msg.sender, newOwner);
    }

    /// @inheritdoc ICommunities
    function acceptOwnership(uint256 communityId) external {
        Community storage community = _community(communityId);
        if (msg.sender != community.pendingOwner) revert NotPendingOwner(communityId, msg.sender);
        address previous = community.owner;
        community.owner = msg.sender;
        community.pendingOwner = address(0);
        emit OwnershipTransferred(communityId, previous, msg.sender);
        if (!_members[communityId][msg.sender]) _join(communityId, community, msg.sender);
    }

    /// @inheritdoc ICommunities
    function setArbiter(uint256 communityId, address arbiter) external {
        Community storage community = _ownedBy(communityId, msg.sender);
        if (arbiter == address(0)) revert InvalidArbiter(arbiter);
        community.arbiter = arbiter;
        emit ArbiterSet(communityId, arbiter);
    }

    /// @inheritdoc ICommunities
    function setMetadataUri(uint256 communityId, string calldata metadataUri) external {
        Community storage community = _ownedBy(communityId, msg.sender);
        _checkUri(metadataUri);
        community.metadataUri = metadataUri;
        emit MetadataUriSet(communityId, metadataUri);
    }

    /// @inheritdoc ICommunities
    function addAdmin(uint256 communityId, address account) external {
        _ownedBy(communityId, msg.sender);
        if (account == address(0)) revert InvalidAccount(account);
        if (_admins[communityId][account]) revert AdminUnchanged(communityId, account, true);
        _admins[communityId][account] = true;
        emit AdminAdded(communityId, account);
    }

    /// @inheritdoc ICommunities
    function removeAdmin(uint256 communityId, address account) external {
        _ownedBy(communityId, msg.sender);
        if (!_admins[communityId][account]) revert AdminUnchanged(communityId, account, false);
        _admins[communityId][account] = false;
        emit AdminRemoved(communityId, account);
    }

    /// @inheritdoc ICommunities
    function setPointsTransfers(uint256 communityId, bool enabled) external {
        Community storage community = _ownedBy(communityId, msg.sender);
        emit PointsTransfersSet(communityId, enabled);
        ICommunityPoints(community.points).setTransfersEnabled(enabled);
    }

    /// @inheritdoc ICommunities
    function join(uint256 communityId) external {
        Community storage community = _community(communityId);
        if (_members[communityId][msg.sender]) revert AlreadyMember(communityId, msg.sender);
        _join(communityId, community, msg.sender);
    }

    /// @inheritdoc ICommunities
    function leave(uint256 communityId) external {
        Community storage community = _community(communityId);
        if (!_members[communityId][msg.sender] || msg.sender == community.owner) {
            revert CannotLeave(communityId, msg.sender);
        }
        _members[communityId][msg.sender] = false;
        uint32 count = community.memberCount - 1;
        community.memberCount = count;
        emit MemberLeft(communityId, msg.sender, count);
    }

    // ---------------------------------------------------------------- points

    /// @inheritdoc ICommunities
    function mint(uint256 communityId, address to, uint256 amount, bytes32 reason) external {
        Community storage community = _community(communityId);
        if (!_isAdmin(communityId, community, msg.sender)) revert NotCommunityAdmin(communityId, msg.sender);
        _mint(communityId, community, to, amount, reason);
    }

    /// @inheritdoc ICommunities
    function setMinterAllowance(uint256 communityId, address minter, uint128 allowance) external {
        Community storage community = _community(communityId);
        if (!_isAdmin(communityId, community, msg.sender)) revert NotCommunityAdmin(communityId, msg.sender);
        if (minter == address(0)) revert InvalidAccount(minter);
        _budgets[communityId][minter].allowance = allowance;
        emit MinterAllowanceSet(communityId, minter, msg.sender, allowance);
    }

    /// @inheritdoc ICommunities
    function reserveMint(uint256 communityId, address admin, uint256 amount) external {
        Community storage community = _community(communityId);
        if (!_isAdmin(communityId, community, admin)) revert NotCommunityAdmin(communityId, admin);
        MintBudget storage budget = _budgets[communityId][msg.sender];
        uint256 allowance = budget.allowance;
        if (amount > allowance) revert MintAllowanceExceeded(communityId, msg.sender, amount, allowance);
        // forge-lint: disable-next-line(unsafe-typecast)
        budget.allowance = uint128(allowance - amount); // amount <= allowance < 2^128
        // forge-lint: disable-next-line(unsafe-typecast)
        budget.reserved += uint128(amount); // reserved + amount <= everything ever allowed; checked add
        emit MintReserved(communityId, msg.sender, admin, amount);
    }

    /// @inheritdoc ICommunities
    function mintReserved(uint256 communityId, address to, uint256 amount, bytes32 reason) external {
        Community storage community = _community(communityId);
        _unreserve(communityId, amount);
        _mint(communityId, community, to, amount, reason);
    }

    /// @inheritdoc ICommunities
    function releaseMint(uint256 communityId, uint256 amount) external {
        _community(communityId);
        _unreserve(communityId, amount);
        MintBudget storage budget = _budgets[communityId][msg.sender];
        // forge-lint: disable-next-line(unsafe-typecast)
        budget.allowance += uint128(amount); // amount <= reserved < 2^128; checked add
        emit MintReleased(communityId, msg.sender, amount);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ICommunities
    function getCommunity(uint256 communityId) external view returns (Community memory) {
        return _communities[communityId];
    }

    /// @inheritdoc ICommunities
    function arbiterOf(uint256 communityId) external view returns (address) {
        return _communities[communityId].arbiter;
    }

    /// @inheritdoc ICommunities
    function pointsOf(uint256 communityId) external view returns (address) {
        return _communities[communityId].points;
    }

    /// @inheritdoc ICommunities
    function isAdmin(uint256 communityId, address account) external view returns (bool) {
        return _isAdmin(communityId, _communities[communityId], account);
    }

    /// @inheritdoc ICommunities
    function isMember(uint256 communityId, address account) external view returns (bool) {
        return _members[communityId][account];
    }

    /// @inheritdoc ICommunities
    function mintBudget(uint256 communityId, address minter) external view returns (MintBudget memory) {
        return _budgets[communityId][minter];
    }

    // ---------------------------------------------------------------- internal

    function _community(uint256 communityId) private view returns (Community storage community) {
        community = _communities[communityId];
        if (community.owner == address(0)) revert CommunityNotFound(communityId);
    }

    function _ownedBy(uint256 communityId, address caller) private view returns (Community storage community) {
        community = _community(communityId);
        if (caller != community.owner) revert NotCommunityOwner(communityId, caller);
    }

    function _isAdmin(uint256 communityId, Community storage community, address account) private view returns (bool) {
        return account != address(0) && (account == community.owner || _admins[communityId][account]);
    }

    function _checkUri(string calldata uri) private pure {
        uint256 length = bytes(uri).length;
        if (length > MAX_URI_LENGTH) revert InvalidMetadataUri(length);
    }

    function _join(uint256 communityId, Community storage community, address account) private {
        _members[communityId][account] = true;
        uint32 count = community.memberCount + 1;
        community.memberCount = count;
        emit MemberJoined(communityId, account, count);
    }

    /// @dev Takes `amount` off the caller's reservation.
    function _unreserve(uint256 communityId, uint256 amount) private {
        MintBudget storage budget = _budgets[communityId][msg.sender];
        uint256 reserved = budget.reserved;
        if (amount > reserved) revert ReservationExceeded(communityId, msg.sender, amount, reserved);
        // forge-lint: disable-next-line(unsafe-typecast)
        budget.reserved = uint128(reserved - amount);
    }

    function _mint(uint256 communityId, Community storage community, address to, uint256 amount, bytes32 reason)
        private
    {
        if (to == address(0)) revert InvalidAccount(to);
        if (amount == 0) revert InvalidAmount(amount);
        emit PointsMinted(communityId, to, msg.sender, amount, reason);
        ICommunityPoints(community.points).mint(to, amount);
    }
}
