// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {ICommunityPoints} from "./interfaces/ICommunityPoints.sol";

/// @title CommunityPoints
/// @notice A community's points token (see {ICommunityPoints}). The implementation is deployed once, by
/// the Communities contract's constructor; every community gets an EIP-1167 clone of it, initialised in
/// the same transaction that creates the community.
/// @dev A clone has no constructor: its name, symbol and community id live in its own storage, set by
/// `initialize`, and `name()`/`symbol()` read them (OpenZeppelin's ERC20 constructor only ran for the
/// implementation). `COMMUNITIES` is an immutable, part of the implementation's code, so every clone
/// shares it without storing it. The implementation itself can never be initialised.
contract CommunityPoints is ICommunityPoints, ERC20, Initializable {
    /// @inheritdoc ICommunityPoints
    address public immutable COMMUNITIES;

    /// @inheritdoc ICommunityPoints
    uint256 public communityId;
    /// @inheritdoc ICommunityPoints
    bool public transfersEnabled;
    string private _pointsName;
    string private _pointsSymbol;

    modifier onlyCommunities() {
        if (msg.sender != COMMUNITIES) revert NotCommunities(msg.sender);
        _;
    }

    constructor() ERC20("", "") {
        COMMUNITIES = msg.sender;
        _disableInitializers();
    }

    /// @inheritdoc ICommunityPoints
    function initialize(uint256 communityId_, string calldata name_, string calldata symbol_)
        external
        initializer
        onlyCommunities
    {
        // Communities' `CommunityCreated`, in the same transaction, carries the id, the name and the symbol.
        // slither-disable-next-line events-maths
        communityId = communityId_;
        _pointsName = name_;
        _pointsSymbol = symbol_;
    }

    /// @inheritdoc ICommunityPoints
    function mint(address to, uint256 amount) external onlyCommunities {
        _mint(to, amount);
    }

    /// @inheritdoc ICommunityPoints
    function setTransfersEnabled(bool enabled) external onlyCommunities {
        transfersEnabled = enabled;
        emit TransfersEnabledSet(enabled);
    }

    /// @notice The community's name for its points.
    function name() public view override(ERC20, IERC20Metadata) returns (string memory) {
        return _pointsName;
    }

    /// @notice The points' ticker.
    function symbol() public view override(ERC20, IERC20Metadata) returns (string memory) {
        return _pointsSymbol;
    }

    /// @notice Points are whole: no decimals.
    function decimals() public pure override(ERC20, IERC20Metadata) returns (uint8) {
        return 0;
    }

    /// @dev Mints always go through; moving points between holders only while transfers are on.
    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && !transfersEnabled) revert PointsNotTransferable(communityId);
        super._update(from, to, value);
    }
}
