// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IMarketToken} from "./interfaces/IMarketToken.sol";

/// @title MarketToken
/// @notice Agora Market Token (AMT): a plain 18-decimal OpenZeppelin ERC-20 that only its deployer mints.
contract MarketToken is ERC20, IMarketToken {
    /// @inheritdoc IMarketToken
    // forge-lint: disable-next-line(screaming-snake-case-immutable)
    address public immutable minter; // named by the interface

    constructor() ERC20("Agora Market Token", "AMT") {
        minter = msg.sender;
    }

    /// @inheritdoc IMarketToken
    function mint(address to, uint256 amount) external {
        if (msg.sender != minter) revert UnauthorizedMinter(msg.sender);
        _mint(to, amount);
    }
}
