// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";

/// @title ICommunityPoints
/// @notice One community's points: an ERC-20 with no decimals (a point is a point), deployed by
/// {ICommunities} as an EIP-1167 clone of one implementation. Only {ICommunities} (`COMMUNITIES`, the
/// contract that deployed the implementation) mints and switches transfers on or off. While transfers
/// are off, points can be minted but not moved: `transfer` and `transferFrom` revert with
/// `PointsNotTransferable`.
interface ICommunityPoints is IERC20Metadata {
    /// @notice The community switched transfers of its points on or off.
    event TransfersEnabledSet(bool enabled);

    /// @notice A transfer while the community keeps its points non-transferable.
    error PointsNotTransferable(uint256 communityId);
    /// @notice Only the Communities contract may call this.
    error NotCommunities(address caller);

    /// @notice Sets the clone's community id (`id`), name and symbol, once, when {ICommunities} creates it.
    function initialize(uint256 id, string calldata name, string calldata symbol) external;

    /// @notice Mint `amount` points to `to` (Communities only).
    function mint(address to, uint256 amount) external;

    /// @notice Switch transfers on or off (Communities only).
    function setTransfersEnabled(bool enabled) external;

    /// @notice The Communities contract that controls every clone of this implementation.
    function COMMUNITIES() external view returns (address);

    /// @notice The community these points belong to.
    function communityId() external view returns (uint256);

    /// @notice Whether holders may move their points.
    function transfersEnabled() external view returns (bool);
}
