// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ITaskBoard} from "../src/interfaces/ITaskBoard.sol";
import {TaskFixture} from "./utils/TaskFixture.sol";

/// @notice `approve`, `reject` and `approveLapsed`: the publisher decides within the review window, and
/// silence pays the worker.
contract TaskBoardReviewTest is TaskFixture {
    function test_approve_paysTheSlotAndEmits() public {
        uint256 taskId = _publishToken();
        _deliver(taskId, alice);
        uint256 perSlot = TOKEN_REWARD / SLOTS;
        uint256 before = token.balanceOf(alice);
        vm.expectEmit(address(board));
        emit ITaskBoard.SubmissionApproved(taskId, alice, publisher, false, perSlot, 0);
        _approve(taskId, alice);
        assertEq(token.balanceOf(alice) - before, perSlot);
        assertEq(token.balanceOf(address(board)), TOKEN_REWARD - perSlot);
        _assertClaim(taskId, alice, ITaskBoard.ClaimState.Approved);
        ITaskBoard.Task memory task = _task(taskId);
        assertEq(task.active, 0);
        assertEq(task.settled, 1);
        assertEq(board.freeSlots(taskId), SLOTS - 1);
    }

    function test_approve_ethPaysEverySlotOnce() public {
        uint256 taskId = _publishEth();
        address[3] memory workers = [alice, bob, carol];
        for (uint256 i; i < 3; ++i) {
            uint256 before = workers[i].balance;
            _deliver(taskId, workers[i]);
            _approve(taskId, workers[i]);
            assertEq(workers[i].balance - before, ETH_REWARD / SLOTS);
        }
        assertEq(address(board).balance, 0);
        assertEq(_task(taskId).settled, SLOTS);
        vm.prank(publisher);
        vm.expectRevert(
            abi.encodeWithSelector(ITaskBoard.WrongClaimState.selector, taskId, alice, ITaskBoard.ClaimState.Approved)
        );
        board.approve(taskId, alice);
    }

    function test_approve_onlyThePublisherAndOnlyASubmission() public {
        uint256 taskId = _publishToken();
        _accept(taskId, alice);
        vm.prank(publisher);
        vm.expectRevert(
            abi.encodeWithSelector(ITaskBoard.WrongClaimState.selector, taskId, alice, ITaskBoard.ClaimState.Working)
        );
        board.approve(taskId, alice);
        _submit(taskId, alice);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.NotPublisher.selector, taskId, alice));
        board.approve(taskId, alice);
    }

    function test_approve_stillPossibleAfterTheReviewWindow() public {
        uint256 taskId = _publishToken();
        _deliver(taskId, alice);
        vm.warp(block.timestamp + REVIEW + 10 days);
        _approve(taskId, alice);
        _assertClaim(taskId, alice, ITaskBoard.ClaimState.Approved);
    }

    function test_reject_recordsTheReasonAndTheAnswerWindow() public {
        uint256 taskId = _publishToken();
        _deliver(taskId, alice);
        vm.expectEmit(address(board));
        emit ITaskBoard.SubmissionRejected(taskId, alice, "too blurry", REVISIONS, uint40(block.timestamp + ANSWER));
        vm.prank(publisher);
        board.reject(taskId, alice, "too blurry");
        _assertClaim(taskId, alice, ITaskBoard.ClaimState.Rejected);
        assertEq(_task(taskId).active, 1, "a rejected slot still holds the submission");
        assertEq(token.balanceOf(address(board)), TOKEN_REWARD);
    }

    function test_reject_revertsOnceTheReviewWindowIsOver() public {
        uint256 taskId = _publishToken();
        _deliver(taskId, alice);
        uint40 reviewEndsAt = uint40(block.timestamp) + REVIEW;
        vm.warp(reviewEndsAt);
        vm.prank(publisher);
        vm.expectRevert(
            abi.encodeWithSelector(ITaskBoard.ReviewWindowClosed.selector, taskId, alice, reviewEndsAt, block.timestamp)
        );
        board.reject(taskId, alice, "late");
    }

    function test_reject_refusesStrangersAndLongReasons() public {
        uint256 taskId = _publishToken();
        _deliver(taskId, alice);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.NotPublisher.selector, taskId, stranger));
        board.reject(taskId, alice, "no");
        vm.prank(publisher);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.InvalidReason.selector, 513));
        board.reject(taskId, alice, string(new bytes(513)));
    }

    function test_approveLapsed_anyonePaysTheWorkerOnceTheWindowLapses() public {
        uint256 taskId = _publishEth();
        _deliver(taskId, alice);
        uint40 reviewEndsAt = uint40(block.timestamp) + REVIEW;
        vm.warp(reviewEndsAt - 1);
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(ITaskBoard.ReviewWindowOpen.selector, taskId, alice, reviewEndsAt, block.timestamp)
        );
        board.approveLapsed(taskId, alice);

        vm.warp(reviewEndsAt);
        uint256 before = alice.balance;
        vm.expectEmit(address(board));
        emit ITaskBoard.SubmissionApproved(taskId, alice, stranger, true, ETH_REWARD / SLOTS, 0);
        vm.prank(stranger);
        board.approveLapsed(taskId, alice);
        assertEq(alice.balance - before, ETH_REWARD / SLOTS);
        _assertClaim(taskId, alice, ITaskBoard.ClaimState.Approved);
    }

    function test_approveLapsed_aRevisionOpensANewWindow() public {
        uint256 taskId = _publishToken();
        _deliver(taskId, alice);
        _reject(taskId, alice);
        vm.warp(block.timestamp + 1 days);
        _submit(taskId, alice);
        uint40 reviewEndsAt = uint40(block.timestamp) + REVIEW;
        vm.warp(reviewEndsAt - 1);
        vm.expectRevert(
            abi.encodeWithSelector(ITaskBoard.ReviewWindowOpen.selector, taskId, alice, reviewEndsAt, block.timestamp)
        );
        board.approveLapsed(taskId, alice);
        vm.warp(reviewEndsAt);
        board.approveLapsed(taskId, alice);
        _assertClaim(taskId, alice, ITaskBoard.ClaimState.Approved);
    }

    function testFuzz_reviewWindow_exactlyOneOfRejectAndApproveLapsed(uint32 window, uint32 elapsed) public {
        window = uint32(bound(window, 1, 30 days));
        elapsed = uint32(bound(elapsed, 0, 60 days));
        ITaskBoard.TaskParams memory p = _params(address(token), TOKEN_REWARD);
        p.reviewWindow = window;
        uint256 taskId = _publish(p);
        _deliver(taskId, alice);
        vm.warp(block.timestamp + elapsed);
        vm.prank(publisher);
        (bool rejected,) = address(board).call(abi.encodeCall(ITaskBoard.reject, (taskId, alice, "no")));
        if (rejected) {
            assertLe(uint256(elapsed) + 1, window, "rejected after the window");
            return;
        }
        assertLe(window, elapsed, "reject refused inside the window");
        board.approveLapsed(taskId, alice);
    }
}
