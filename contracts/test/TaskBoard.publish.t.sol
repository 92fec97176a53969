// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ITaskBoard} from "../src/interfaces/ITaskBoard.sol";
import {ICommunities} from "../src/interfaces/ICommunities.sol";
import {IPayouts} from "../src/interfaces/IPayouts.sol";
import {TaskBoard} from "../src/TaskBoard.sol";
import {TaskFixture} from "./utils/TaskFixture.sol";
import {FeeOnTransferToken} from "./utils/Mocks.sol";

/// @notice `publish` (and the constructor): what is escrowed, what is bound, and every refused term.
contract TaskBoardPublishTest is TaskFixture {
    function test_constructor_refusesBadArguments() public {
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.InvalidAddress.selector, address(0)));
        new TaskBoard(address(0), platformArbiter, ANSWER);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.InvalidAddress.selector, address(0)));
        new TaskBoard(address(communities), address(0), ANSWER);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.InvalidAnswerWindow.selector, uint64(0)));
        new TaskBoard(address(communities), platformArbiter, 0);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.InvalidAnswerWindow.selector, uint64(30 days + 1)));
        new TaskBoard(address(communities), platformArbiter, 30 days + 1);
    }

    function test_publish_tokenEscrowsRewardAndEmits() public {
        ITaskBoard.TaskParams memory p = _params(address(token), TOKEN_REWARD);
        uint256 before = token.balanceOf(publisher);
        vm.expectEmit(address(board));
        emit ITaskBoard.TaskPublished(1, publisher, 0, TOKEN_REWARD / SLOTS, platformArbiter, p);
        uint256 taskId = _publish(p);
        assertEq(taskId, 1);
        assertEq(board.taskCount(), 1);
        assertEq(token.balanceOf(address(board)), TOKEN_REWARD);
        assertEq(before - token.balanceOf(publisher), TOKEN_REWARD);
        ITaskBoard.Task memory task = _task(taskId);
        assertEq(task.publisher, publisher);
        assertEq(uint256(task.state), uint256(ITaskBoard.TaskState.Open));
        assertEq(task.token, address(token));
        assertEq(task.rewardPerSlot, TOKEN_REWARD / SLOTS);
        assertEq(task.slots, SLOTS);
        assertEq(task.deadline, p.deadline);
        assertEq(task.reviewWindow, REVIEW);
        assertEq(task.workTimeout, TIMEOUT);
        assertEq(task.maxRevisions, REVISIONS);
        assertEq(task.arbiter, platformArbiter);
        assertEq(task.points, 0);
        assertEq(task.communityId, 0);
        assertFalse(task.submitted);
        assertEq(board.freeSlots(taskId), SLOTS);
    }

    function test_publish_ethEscrowsValue() public {
        uint256 taskId = _publishEth();
        assertEq(address(board).balance, ETH_REWARD);
        assertEq(_task(taskId).rewardPerSlot, ETH_REWARD / SLOTS);
        assertEq(_task(taskId).token, address(0));
    }

    function test_publish_communityTaskBindsItsArbiterAndReservesPoints() public {
        uint256 taskId = _publishGuild();
        ITaskBoard.Task memory task = _task(taskId);
        assertEq(task.arbiter, guildArbiter);
        assertEq(task.communityId, guild);
        assertEq(task.points, POINTS);
        assertEq(_reserved(), uint256(POINTS) * SLOTS);
        assertEq(_allowance(), BUDGET - uint256(POINTS) * SLOTS);
    }

    function test_publish_communityTaskWithoutPointsNeedsNoAdmin() public {
        ITaskBoard.TaskParams memory p = _params(address(token), TOKEN_REWARD);
        p.communityId = guild;
        token.mint(stranger, TOKEN_REWARD);
        vm.startPrank(stranger);
        token.approve(address(board), TOKEN_REWARD);
        uint256 taskId = board.publish(p);
        vm.stopPrank();
        assertEq(_task(taskId).arbiter, guildArbiter);
        assertEq(_reserved(), 0);
    }

    function test_publish_refusesPointsFromANonAdmin() public {
        ITaskBoard.TaskParams memory p = _params(address(0), ETH_REWARD);
        p.communityId = guild;
        p.points = POINTS;
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.NotCommunityAdmin.selector, uint256(guild), stranger));
        board.publish{value: ETH_REWARD}(p);
    }

    function test_publish_refusesPointsBeyondTheBudget() public {
        ITaskBoard.TaskParams memory p = _params(address(token), TOKEN_REWARD);
        p.communityId = guild;
        p.points = uint96(BUDGET / SLOTS + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICommunities.MintAllowanceExceeded.selector,
                uint256(guild),
                address(board),
                uint256(p.points) * SLOTS,
                uint256(BUDGET)
            )
        );
        _publish(p);
    }

    function test_publish_refusesPointsWithoutCommunity() public {
        ITaskBoard.TaskParams memory p = _params(address(token), TOKEN_REWARD);
        p.points = POINTS;
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.PointsWithoutCommunity.selector, POINTS));
        _publish(p);
    }

    function test_publish_refusesUnknownCommunity() public {
        ITaskBoard.TaskParams memory p = _params(address(token), TOKEN_REWARD);
        p.communityId = 7;
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.CommunityNotFound.selector, uint64(7)));
        _publish(p);
    }

    function test_publish_refusesRewardNotDivisibleBySlots() public {
        ITaskBoard.TaskParams memory p = _params(address(token), TOKEN_REWARD + 1);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.RewardNotDivisible.selector, TOKEN_REWARD + 1, SLOTS));
        _publish(p);
    }

    function test_publish_refusesBadSlotsAndReward() public {
        ITaskBoard.TaskParams memory p = _params(address(token), TOKEN_REWARD);
        p.slots = 0;
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.InvalidSlots.selector, uint16(0)));
        _publish(p);
        p.slots = 1_001;
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.InvalidSlots.selector, uint16(1_001)));
        _publish(p);
        p.slots = 1;
        p.reward = 0;
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.InvalidReward.selector, 0));
        _publish(p);
    }

    function test_publish_refusesBadDeadlines() public {
        ITaskBoard.TaskParams memory p = _params(address(token), TOKEN_REWARD);
        p.deadline = uint40(block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.InvalidDeadline.selector, p.deadline, block.timestamp));
        _publish(p);
        p.deadline = uint40(block.timestamp + 365 days + 1);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.InvalidDeadline.selector, p.deadline, block.timestamp));
        _publish(p);
        p.deadline = uint40(block.timestamp + 365 days);
        _publish(p);
    }

    function test_publish_refusesBadWindows() public {
        ITaskBoard.TaskParams memory p = _params(address(token), TOKEN_REWARD);
        p.reviewWindow = 0;
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.InvalidReviewWindow.selector, uint32(0)));
        _publish(p);
        p.reviewWindow = 30 days + 1;
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.InvalidReviewWindow.selector, uint32(30 days + 1)));
        _publish(p);
        p.reviewWindow = REVIEW;
        p.workTimeout = 0;
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.InvalidWorkTimeout.selector, uint32(0)));
        _publish(p);
        p.workTimeout = 365 days + 1;
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.InvalidWorkTimeout.selector, uint32(365 days + 1)));
        _publish(p);
    }

    function test_publish_refusesBadSpec() public {
        ITaskBoard.TaskParams memory p = _params(address(token), TOKEN_REWARD);
        p.spec = "";
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.InvalidSpec.selector, 0));
        _publish(p);
        p.spec = string(new bytes(513));
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.InvalidSpec.selector, 513));
        _publish(p);
    }

    function test_publish_refusesWrongValue() public {
        ITaskBoard.TaskParams memory p = _params(address(0), ETH_REWARD);
        vm.prank(publisher);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.ValueMismatch.selector, ETH_REWARD - 1, ETH_REWARD));
        board.publish{value: ETH_REWARD - 1}(p);
        p = _params(address(token), TOKEN_REWARD);
        vm.prank(publisher);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.ValueMismatch.selector, 1, 0));
        board.publish{value: 1}(p);
    }

    function test_publish_refusesFeeOnTransferToken() public {
        FeeOnTransferToken taxed = new FeeOnTransferToken(100);
        taxed.mint(publisher, TOKEN_REWARD);
        vm.prank(publisher);
        taxed.approve(address(board), TOKEN_REWARD);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPayouts.AmountNotReceived.selector, address(taxed), TOKEN_REWARD, TOKEN_REWARD - TOKEN_REWARD / 100
            )
        );
        _publish(_params(address(taxed), TOKEN_REWARD));
    }

    function test_publish_refusesCommunityPointsWhileTransfersAreOff() public {
        vm.prank(guildOwner);
        communities.mint(guild, publisher, 30, "seed");
        vm.prank(publisher);
        points.approve(address(board), 30);
        ITaskBoard.TaskParams memory p = _params(address(points), 30);
        vm.expectRevert(abi.encodeWithSelector(bytes4(keccak256("PointsNotTransferable(uint256)")), uint256(guild)));
        _publish(p);

        vm.prank(guildOwner);
        communities.setPointsTransfers(guild, true);
        uint256 taskId = _publish(p);
        assertEq(points.balanceOf(address(board)), 30);
        _deliver(taskId, alice);
        _approve(taskId, alice);
        assertEq(points.balanceOf(alice), 10);
    }

    function testFuzz_publish_everySlotIsPaidTheSame(uint96 perSlot, uint16 slots) public {
        slots = uint16(bound(slots, 1, 1_000));
        perSlot = uint96(bound(perSlot, 1, type(uint96).max / slots));
        ITaskBoard.TaskParams memory p = _params(address(token), perSlot * slots);
        p.slots = slots;
        token.mint(publisher, p.reward);
        uint256 taskId = _publish(p);
        assertEq(uint256(_task(taskId).rewardPerSlot) * slots, p.reward);
        assertEq(token.balanceOf(address(board)), p.reward);
    }
}
