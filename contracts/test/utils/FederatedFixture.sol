// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {WithdrawalSigner} from "./WithdrawalSigner.sol";
import {FederatedMarket} from "../../src/FederatedMarket.sol";
import {MarketToken} from "../../src/MarketToken.sol";
import {IFederatedMarket} from "../../src/interfaces/IFederatedMarket.sol";

/// @notice Builds Merkle trees the way OpenZeppelin's standard tree does for `["address","uint256"]`
/// leaves (double-hashed, pairs hashed in sorted order), independently of the contract's `rewardLeaf`,
/// so every claim in the tests also checks the encoding. A node without a sibling moves up unchanged.
library RewardTree {
    function leaf(address account, uint256 amount) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(account, amount))));
    }

    function hashPair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }

    /// @dev The root of the tree over `nodes` (the leaves, in this order) and the proof of leaf `index`.
    function build(bytes32[] memory nodes, uint256 index) internal pure returns (bytes32 root, bytes32[] memory proof) {
        require(nodes.length != 0, "RewardTree: empty");
        bytes32[] memory layer = nodes;
        bytes32[] memory path = new bytes32[](64);
        uint256 depth;
        while (layer.length > 1) {
            uint256 sibling = index ^ 1;
            if (sibling < layer.length) path[depth++] = layer[sibling];
            bytes32[] memory next = new bytes32[]((layer.length + 1) / 2);
            for (uint256 i; i < layer.length; i += 2) {
                next[i / 2] = i + 1 < layer.length ? hashPair(layer[i], layer[i + 1]) : layer[i];
            }
            layer = next;
            index /= 2;
        }
        root = layer[0];
        proof = new bytes32[](depth);
        for (uint256 i; i < depth; ++i) {
            proof[i] = path[i];
        }
    }

    /// @dev The leaves of (accounts[i], amounts[i]).
    function leaves(address[] memory accounts, uint256[] memory amounts) internal pure returns (bytes32[] memory out) {
        out = new bytes32[](accounts.length);
        for (uint256 i; i < accounts.length; ++i) {
            out[i] = leaf(accounts[i], amounts[i]);
        }
    }
}

/// @notice A federated market, an AMT token (the seed's coins: blocks at 10 AMT), an investor funded in
/// ETH and AMT, a coordinator, three trainers funded in AMT who approved the market, and helpers to
/// create, fill, start and finish tasks in either mode.
abstract contract FederatedFixture is WithdrawalSigner {
    uint256 internal constant ETH_POOL = 10 ether;
    uint96 internal constant TOKEN_POOL = 1_000 ether;
    uint96 internal constant BLOCK_PRICE = 10 ether;
    uint96 internal constant FEE = 0.5 ether;
    uint32 internal constant BLOCKS = 20;
    uint16 internal constant MIN = 2;
    uint40 internal constant START_IN = 1 days;
    uint40 internal constant FINISH_IN = 7 days;
    string internal constant SPEC = "ipfs://bafkreispecfashionmnistmlp784x200x200x10";
    string internal constant CID = "bafkreicontributionrecordcid";
    bytes32 internal constant INPUT = keccak256("a 28x28 image");
    uint256 internal constant SHARES = 1e18;

    FederatedMarket internal market;
    MarketToken internal token;

    address internal investor;
    uint256 internal investorKey;
    address internal coordinator = makeAddr("coordinator");
    address internal alice;
    uint256 internal aliceKey;
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");
    address internal stranger = makeAddr("stranger");

    function setUp() public virtual {
        vm.warp(1_750_000_000);
        (investor, investorKey) = makeAddrAndKey("investor");
        (alice, aliceKey) = makeAddrAndKey("alice");
        token = new MarketToken();
        market = new FederatedMarket();
        vm.deal(investor, 100 ether);
        token.mint(investor, 1_000_000 ether);
        vm.prank(investor);
        token.approve(address(market), type(uint256).max);
        address[4] memory users = [alice, bob, carol, stranger];
        for (uint256 i; i < users.length; ++i) {
            vm.deal(users[i], 100 ether);
            token.mint(users[i], 1_000 ether);
            vm.prank(users[i]);
            token.approve(address(market), type(uint256).max);
        }
    }

    // ------------------------------------------------------------ creating

    /// @dev The fixture's terms: blocks in AMT, fee in `asset`, deadlines from now.
    function _params(IFederatedMarket.Mode mode, address asset, uint96 pool)
        internal
        view
        returns (IFederatedMarket.TaskParams memory)
    {
        return IFederatedMarket.TaskParams({
            mode: mode,
            coordinator: coordinator,
            token: asset,
            pool: pool,
            predictionFee: FEE,
            blockToken: address(token),
            blockPrice: BLOCK_PRICE,
            totalBlocks: BLOCKS,
            minParticipants: MIN,
            startDeadline: uint40(block.timestamp) + START_IN,
            finishDeadline: uint40(block.timestamp) + FINISH_IN,
            spec: SPEC
        });
    }

    function _create(IFederatedMarket.TaskParams memory params) internal returns (uint256) {
        uint256 value = params.mode == IFederatedMarket.Mode.RewardPool && params.token == address(0) ? params.pool : 0;
        vm.prank(investor);
        return market.createTask{value: value}(params);
    }

    /// @dev A reward-pool task with an ETH pool and fees.
    function _createEthPool() internal returns (uint256) {
        return _create(_params(IFederatedMarket.Mode.RewardPool, address(0), uint96(ETH_POOL)));
    }

    /// @dev A reward-pool task with an AMT pool and fees.
    function _createTokenPool() internal returns (uint256) {
        return _create(_params(IFederatedMarket.Mode.RewardPool, address(token), TOKEN_POOL));
    }

    /// @dev A shareholding task charging its fee in `asset`.
    function _createShares(address asset) internal returns (uint256) {
        return _create(_params(IFederatedMarket.Mode.Shareholding, asset, 0));
    }

    // ------------------------------------------------------------ members

    function _join(uint256 taskId, address account) internal {
        vm.prank(account);
        market.join(taskId);
    }

    function _buy(uint256 taskId, address account, uint32 count) internal {
        vm.prank(account);
        market.buyBlocks(taskId, count);
    }

    /// @dev Alice and Bob join and the coordinator starts the task.
    function _joinAndStart(uint256 taskId) internal {
        _join(taskId, alice);
        _join(taskId, bob);
        vm.prank(coordinator);
        market.start(taskId);
    }

    // ------------------------------------------------------------ results

    /// @dev The trainers and their rewards: alice 60 %, bob 30 %, carol (who left early) 10 % of `pool`.
    function _split(uint256 pool) internal view returns (address[] memory accounts, uint256[] memory amounts) {
        accounts = new address[](3);
        amounts = new uint256[](3);
        (accounts[0], accounts[1], accounts[2]) = (alice, bob, carol);
        amounts[0] = pool * 6 / 10;
        amounts[1] = pool * 3 / 10;
        amounts[2] = pool - amounts[0] - amounts[1];
    }

    function _root(address[] memory accounts, uint256[] memory amounts) internal pure returns (bytes32 root) {
        (root,) = RewardTree.build(RewardTree.leaves(accounts, amounts), 0);
    }

    function _proof(address[] memory accounts, uint256[] memory amounts, uint256 index)
        internal
        pure
        returns (bytes32[] memory proof)
    {
        (, proof) = RewardTree.build(RewardTree.leaves(accounts, amounts), index);
    }

    function _postRewards(uint256 taskId, bytes32 root) internal {
        vm.prank(coordinator);
        market.postRewards(taskId, root, CID);
    }

    /// @dev Starts `taskId`, posts the fixture split of `pool` and returns it.
    function _finishWithRewards(uint256 taskId, uint256 pool)
        internal
        returns (address[] memory accounts, uint256[] memory amounts)
    {
        _joinAndStart(taskId);
        (accounts, amounts) = _split(pool);
        _postRewards(taskId, _root(accounts, amounts));
    }

    function _claim(uint256 taskId, address[] memory accounts, uint256[] memory amounts, uint256 index) internal {
        market.claimReward(taskId, accounts[index], amounts[index], _proof(accounts, amounts, index));
    }

    /// @dev The fixture's shares: alice 50 %, bob 30 %, carol 20 %.
    function _holders() internal view returns (address[] memory holders, uint256[] memory shares) {
        holders = new address[](3);
        shares = new uint256[](3);
        (holders[0], holders[1], holders[2]) = (alice, bob, carol);
        (shares[0], shares[1], shares[2]) = (SHARES / 2, SHARES * 3 / 10, SHARES / 5);
    }

    /// @dev Starts `taskId` and posts the fixture's shares.
    function _finishWithShares(uint256 taskId) internal {
        _joinAndStart(taskId);
        (address[] memory holders, uint256[] memory shares) = _holders();
        vm.prank(coordinator);
        market.postShares(taskId, holders, shares, CID);
    }

    /// @dev `payer` pays one prediction on `taskId`.
    function _predict(uint256 taskId, address payer) internal returns (uint256) {
        IFederatedMarket.Task memory task = market.getTask(taskId);
        vm.prank(payer);
        return market.requestPrediction{value: task.token == address(0) ? task.predictionFee : 0}(taskId, INPUT);
    }

    // ------------------------------------------------------------ reading

    function _task(uint256 taskId) internal view returns (IFederatedMarket.Task memory) {
        return market.getTask(taskId);
    }

    function _assertState(uint256 taskId, IFederatedMarket.TaskState state) internal view {
        assertEq(uint256(market.getTask(taskId).state), uint256(state), "state");
    }

    function _balance(address account, address asset) internal view returns (uint256) {
        return asset == address(0) ? account.balance : token.balanceOf(account);
    }
}
