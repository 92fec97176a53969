// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {WithdrawalSigner} from "./WithdrawalSigner.sol";
import {TaskBoard} from "../../src/TaskBoard.sol";
import {Communities} from "../../src/Communities.sol";
import {CommunityPoints} from "../../src/CommunityPoints.sol";
import {MarketToken} from "../../src/MarketToken.sol";
import {ITaskBoard} from "../../src/interfaces/ITaskBoard.sol";

/// @notice A task board on a Communities contract, an AMT token, a community ("Guild", points GLD)
/// owned by its admin `guildOwner` with arbiter `guildArbiter`, a points budget for the board, a platform
/// arbiter, a publisher funded in ETH and AMT who approved the board, workers alice, bob and carol, and
/// helpers to publish, accept, submit and review.
abstract contract TaskFixture is WithdrawalSigner {
    uint64 internal constant ANSWER = 3 days;
    uint96 internal constant TOKEN_REWARD = 300 ether;
    uint96 internal constant ETH_REWARD = 3 ether;
    uint16 internal constant SLOTS = 3;
    uint96 internal constant POINTS = 50;
    uint40 internal constant DEADLINE_IN = 7 days;
    uint32 internal constant REVIEW = 2 days;
    uint32 internal constant TIMEOUT = 1 days;
    uint8 internal constant REVISIONS = 2;
    uint128 internal constant BUDGET = 1_000;
    string internal constant SPEC = "ipfs://bafkreitaskspecdefeatthedragonboss";
    string internal constant WORK = "bafkreideliverablescreenshotofthewin";

    TaskBoard internal board;
    Communities internal communities;
    MarketToken internal token;
    CommunityPoints internal points;
    uint64 internal guild;

    address internal publisher;
    uint256 internal publisherKey;
    address internal alice;
    uint256 internal aliceKey;
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");
    address internal stranger = makeAddr("stranger");
    address internal platformArbiter = makeAddr("platformArbiter");
    address internal guildOwner = makeAddr("guildOwner");
    address internal guildArbiter = makeAddr("guildArbiter");

    function setUp() public virtual {
        vm.warp(1_750_000_000);
        (publisher, publisherKey) = makeAddrAndKey("publisher");
        (alice, aliceKey) = makeAddrAndKey("alice");
        token = new MarketToken();
        communities = new Communities();
        board = new TaskBoard(address(communities), platformArbiter, ANSWER);
        vm.startPrank(guildOwner);
        (uint256 id, address pointsToken) =
            communities.createCommunity("Guild", "GLD", "ipfs://bafkreiguildmeta", guildArbiter);
        communities.addAdmin(id, publisher);
        communities.setMinterAllowance(id, address(board), BUDGET);
        vm.stopPrank();
        guild = uint64(id);
        points = CommunityPoints(pointsToken);

        vm.deal(publisher, 100 ether);
        token.mint(publisher, 1_000_000 ether);
        vm.prank(publisher);
        token.approve(address(board), type(uint256).max);
        address[4] memory users = [alice, bob, carol, stranger];
        for (uint256 i; i < users.length; ++i) {
            vm.deal(users[i], 100 ether);
            token.mint(users[i], 1_000 ether);
        }
    }

    // ------------------------------------------------------------ publishing

    /// @dev The fixture's terms: `reward` in `asset` for SLOTS workers, no community.
    function _params(address asset, uint96 reward) internal view returns (ITaskBoard.TaskParams memory) {
        return ITaskBoard.TaskParams({
            token: asset,
            reward: reward,
            slots: SLOTS,
            communityId: 0,
            points: 0,
            deadline: uint40(block.timestamp) + DEADLINE_IN,
            reviewWindow: REVIEW,
            workTimeout: TIMEOUT,
            maxRevisions: REVISIONS,
            spec: SPEC
        });
    }

    function _publish(ITaskBoard.TaskParams memory params) internal returns (uint256) {
        vm.prank(publisher);
        return board.publish{value: params.token == address(0) ? params.reward : 0}(params);
    }

    /// @dev An AMT task with three slots, no community.
    function _publishToken() internal returns (uint256) {
        return _publish(_params(address(token), TOKEN_REWARD));
    }

    /// @dev An ETH task with three slots, no community.
    function _publishEth() internal returns (uint256) {
        return _publish(_params(address(0), ETH_REWARD));
    }

    /// @dev An AMT task of the guild promising POINTS per approved worker.
    function _publishGuild() internal returns (uint256) {
        ITaskBoard.TaskParams memory p = _params(address(token), TOKEN_REWARD);
        p.communityId = guild;
        p.points = POINTS;
        return _publish(p);
    }

    // ------------------------------------------------------------ working

    function _accept(uint256 taskId, address worker) internal {
        ITaskBoard.Task memory task = board.getTask(taskId);
        vm.prank(worker);
        board.accept(taskId, task.rewardPerSlot, task.deadline);
    }

    function _submit(uint256 taskId, address worker) internal {
        vm.prank(worker);
        board.submit(taskId, WORK);
    }

    /// @dev `worker` accepts and submits.
    function _deliver(uint256 taskId, address worker) internal {
        _accept(taskId, worker);
        _submit(taskId, worker);
    }

    function _approve(uint256 taskId, address worker) internal {
        vm.prank(publisher);
        board.approve(taskId, worker);
    }

    function _reject(uint256 taskId, address worker) internal {
        vm.prank(publisher);
        board.reject(taskId, worker, "the boss is still alive in the screenshot");
    }

    /// @dev `worker` accepts, submits, is rejected and disputes.
    function _disputed(uint256 taskId, address worker) internal {
        _deliver(taskId, worker);
        _reject(taskId, worker);
        vm.prank(worker);
        board.openDispute(taskId, "the boss is dead, see the second screenshot");
    }

    // ------------------------------------------------------------ reading

    function _task(uint256 taskId) internal view returns (ITaskBoard.Task memory) {
        return board.getTask(taskId);
    }

    function _claimState(uint256 taskId, address worker) internal view returns (ITaskBoard.ClaimState) {
        return board.getClaim(taskId, worker).state;
    }

    function _assertClaim(uint256 taskId, address worker, ITaskBoard.ClaimState state) internal view {
        assertEq(uint256(board.getClaim(taskId, worker).state), uint256(state), "claim state");
    }

    function _balance(address account, address asset) internal view returns (uint256) {
        return asset == address(0) ? account.balance : token.balanceOf(account);
    }

    /// @dev The board's reservation in the guild.
    function _reserved() internal view returns (uint256) {
        return communities.mintBudget(guild, address(board)).reserved;
    }

    function _allowance() internal view returns (uint256) {
        return communities.mintBudget(guild, address(board)).allowance;
    }
}
