// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IMarketToken
/// @notice The market's own ERC-20 ("AMT"), playing the role RLC plays on iExec: services may be priced
/// in it. Only the account that deployed the token (the immutable `minter`) can mint.
interface IMarketToken {
    /// @notice `caller` tried to mint but is not the minter.
    error UnauthorizedMinter(address caller);

    /// @notice The only account allowed to mint (the deployer).
    function minter() external view returns (address);

    /// @notice Mint `amount` (18 decimals) to `to`. Only the minter.
    function mint(address to, uint256 amount) external;
}
