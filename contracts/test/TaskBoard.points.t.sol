// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ITaskBoard} from "../src/interfaces/ITaskBoard.sol";
import {ICommunities} from "../src/interfaces/ICommunities.sol";
import {TaskFixture} from "./utils/TaskFixture.sol";

/// @notice Points promised by a community task: reserved at publication, minted on approval (or in the
/// arbiter's share), released back to the budget when a slot is refunded or the task cancelled.
contract TaskBoardPointsTest is TaskFixture {
    function test_approve_mintsThePromisedPoints() public {
        uint256 taskId = _publishGuild();
        _deliver(taskId, alice);
        vm.expectEmit(address(communities));
        emit ICommunities.PointsMinted(guild, alice, address(board), POINTS, bytes32(taskId));
        _approve(taskId, alice);
        assertEq(points.balanceOf(alice), POINTS);
        assertEq(_reserved(), uint256(POINTS) * (SLOTS - 1));
    }

    function test_approveLapsed_mintsThePointsToo() public {
        uint256 taskId = _publishGuild();
        _deliver(taskId, alice);
        vm.warp(block.timestamp + REVIEW);
        board.approveLapsed(taskId, alice);
        assertEq(points.balanceOf(alice), POINTS);
    }

    function test_resolveDispute_pointsFollowTheSplit() public {
        uint256 taskId = _publishGuild();
        _disputed(taskId, alice);
        vm.prank(guildArbiter);
        board.resolveDispute(taskId, alice, 3_000);
        uint256 minted = uint256(POINTS) * 3_000 / 10_000;
        assertEq(points.balanceOf(alice), minted);
        assertEq(_reserved(), uint256(POINTS) * (SLOTS - 1));
        assertEq(_allowance(), BUDGET - uint256(POINTS) * SLOTS + (POINTS - minted));
    }

    function test_cancel_releasesTheReservation() public {
        uint256 taskId = _publishGuild();
        vm.prank(publisher);
        board.cancel(taskId);
        assertEq(_reserved(), 0);
        assertEq(_allowance(), BUDGET);
    }

    function test_refund_releasesTheRefundedSlotsPoints() public {
        uint256 taskId = _publishGuild();
        _deliver(taskId, alice);
        vm.warp(_task(taskId).deadline);
        board.refund(taskId);
        assertEq(_reserved(), POINTS);
        assertEq(_allowance(), BUDGET - POINTS);
        _approve(taskId, alice);
        assertEq(_reserved(), 0);
        assertEq(points.balanceOf(alice), POINTS);
    }

    function test_publish_promiseHoldsAfterThePublisherLosesItsAdminRole() public {
        uint256 taskId = _publishGuild();
        vm.prank(guildOwner);
        communities.removeAdmin(guild, publisher);
        vm.prank(guildOwner);
        communities.setMinterAllowance(guild, address(board), 0);
        _deliver(taskId, alice);
        _approve(taskId, alice);
        assertEq(points.balanceOf(alice), POINTS);
        // No new promise on its word.
        ITaskBoard.TaskParams memory p = _params(address(token), TOKEN_REWARD);
        p.communityId = guild;
        p.points = 1;
        vm.expectRevert(abi.encodeWithSelector(ICommunities.NotCommunityAdmin.selector, uint256(guild), publisher));
        _publish(p);
    }

    function test_points_stayNonTransferableWhenEarnedOnTheBoard() public {
        uint256 taskId = _publishGuild();
        _deliver(taskId, alice);
        _approve(taskId, alice);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(bytes4(keccak256("PointsNotTransferable(uint256)")), uint256(guild)));
        points.transfer(bob, 1);
    }
}
