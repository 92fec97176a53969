// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ITaskBoard} from "../src/interfaces/ITaskBoard.sol";
import {TaskFixture} from "./utils/TaskFixture.sol";

/// @notice `submit`: first submissions before the deadline, revisions within the answer window and the
/// revision limit.
contract TaskBoardSubmitTest is TaskFixture {
    function test_submit_recordsTheSubmissionAndEmits() public {
        uint256 taskId = _publishToken();
        _accept(taskId, alice);
        vm.warp(block.timestamp + 1 hours);
        vm.expectEmit(address(board));
        emit ITaskBoard.WorkSubmitted(taskId, alice, 0, WORK, uint40(block.timestamp) + REVIEW);
        _submit(taskId, alice);
        ITaskBoard.Claim memory claim = board.getClaim(taskId, alice);
        assertEq(uint256(claim.state), uint256(ITaskBoard.ClaimState.Submitted));
        assertEq(claim.since, block.timestamp);
        ITaskBoard.Task memory task = _task(taskId);
        assertTrue(task.submitted);
        assertEq(task.working, 0);
        assertEq(task.active, 1);
        assertEq(board.freeSlots(taskId), SLOTS - 1);
    }

    function test_submit_revertsAtTheDeadline() public {
        uint256 taskId = _publishToken();
        _accept(taskId, alice);
        uint40 deadline = _task(taskId).deadline;
        vm.warp(deadline);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.DeadlinePassed.selector, taskId, deadline, block.timestamp));
        board.submit(taskId, WORK);
    }

    function test_submit_refusesBadDeliverables() public {
        uint256 taskId = _publishToken();
        _accept(taskId, alice);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.InvalidDeliverable.selector, 0));
        board.submit(taskId, "");
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.InvalidDeliverable.selector, 513));
        board.submit(taskId, string(new bytes(513)));
    }

    function test_submit_refusesStrangersAndAWaitingSubmission() public {
        uint256 taskId = _publishToken();
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(ITaskBoard.WrongClaimState.selector, taskId, stranger, ITaskBoard.ClaimState.None)
        );
        board.submit(taskId, WORK);
        _deliver(taskId, alice);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(ITaskBoard.WrongClaimState.selector, taskId, alice, ITaskBoard.ClaimState.Submitted)
        );
        board.submit(taskId, WORK);
    }

    function test_submit_revisionAfterARejectionEvenPastTheDeadline() public {
        uint256 taskId = _publishToken();
        vm.warp(_task(taskId).deadline - 1);
        _deliver(taskId, alice);
        _reject(taskId, alice);
        vm.warp(block.timestamp + ANSWER - 1);
        vm.expectEmit(address(board));
        emit ITaskBoard.WorkSubmitted(taskId, alice, 1, "v2", uint40(block.timestamp) + REVIEW);
        vm.prank(alice);
        board.submit(taskId, "v2");
        ITaskBoard.Claim memory claim = board.getClaim(taskId, alice);
        assertEq(uint256(claim.state), uint256(ITaskBoard.ClaimState.Submitted));
        assertEq(claim.revisions, 1);
        assertEq(_task(taskId).active, 1, "a revision takes no new slot");
    }

    function test_submit_revisionRevertsOnceTheAnswerWindowEnds() public {
        uint256 taskId = _publishToken();
        _deliver(taskId, alice);
        _reject(taskId, alice);
        uint40 answerEndsAt = uint40(block.timestamp + ANSWER);
        vm.warp(answerEndsAt);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(ITaskBoard.AnswerWindowClosed.selector, taskId, alice, answerEndsAt, block.timestamp)
        );
        board.submit(taskId, "v2");
    }

    function test_submit_revisionsAreBounded() public {
        uint256 taskId = _publishToken();
        _deliver(taskId, alice);
        for (uint256 i; i < REVISIONS; ++i) {
            _reject(taskId, alice);
            _submit(taskId, alice);
        }
        _reject(taskId, alice);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.NoRevisionsLeft.selector, taskId, alice, REVISIONS));
        board.submit(taskId, "v4");
        // A dispute is still open to it.
        vm.prank(alice);
        board.openDispute(taskId, "enough");
        _assertClaim(taskId, alice, ITaskBoard.ClaimState.Disputed);
    }
}
