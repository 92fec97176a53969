// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ITaskBoard} from "../src/interfaces/ITaskBoard.sol";
import {TaskFixture} from "./utils/TaskFixture.sol";

/// @notice The ways money goes back to the publisher: `cancel` (never once anything was submitted),
/// `refund` after the deadline, and `removeWorker` freeing a silent worker's slot.
contract TaskBoardExitTest is TaskFixture {
    function test_cancel_refundsEverySlotEvenWithWorkersWorking() public {
        uint256 taskId = _publishEth();
        _accept(taskId, alice);
        uint256 before = publisher.balance;
        vm.expectEmit(address(board));
        emit ITaskBoard.TaskCancelled(taskId, SLOTS, ETH_REWARD);
        vm.prank(publisher);
        board.cancel(taskId);
        assertEq(publisher.balance - before, ETH_REWARD);
        assertEq(address(board).balance, 0);
        ITaskBoard.Task memory task = _task(taskId);
        assertEq(uint256(task.state), uint256(ITaskBoard.TaskState.Cancelled));
        assertEq(task.settled, SLOTS);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.TaskNotOpen.selector, taskId, ITaskBoard.TaskState.Cancelled));
        board.submit(taskId, WORK);
    }

    function test_cancel_refusedOnceAnySubmissionExists() public {
        uint256 taskId = _publishToken();
        _deliver(taskId, alice);
        vm.prank(publisher);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.TaskHasSubmissions.selector, taskId));
        board.cancel(taskId);
        // Not after an approval either, nor after the deadline.
        _approve(taskId, alice);
        vm.warp(_task(taskId).deadline);
        vm.prank(publisher);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.TaskHasSubmissions.selector, taskId));
        board.cancel(taskId);
    }

    function test_cancel_onlyThePublisherOnce() public {
        uint256 taskId = _publishToken();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.NotPublisher.selector, taskId, stranger));
        board.cancel(taskId);
        vm.prank(publisher);
        board.cancel(taskId);
        vm.prank(publisher);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.TaskNotOpen.selector, taskId, ITaskBoard.TaskState.Cancelled));
        board.cancel(taskId);
        assertEq(token.balanceOf(address(board)), 0);
    }

    function test_refund_afterTheDeadlinePaysBackTheSlotsNobodySubmittedOn() public {
        uint256 taskId = _publishToken();
        _accept(taskId, alice); // never submits
        _deliver(taskId, bob); // submits, waits for review
        uint40 deadline = _task(taskId).deadline;
        vm.warp(deadline - 1);
        vm.expectRevert(
            abi.encodeWithSelector(ITaskBoard.DeadlineNotPassed.selector, taskId, deadline, block.timestamp)
        );
        board.refund(taskId);

        assertEq(board.freeSlots(taskId), 1);
        vm.warp(deadline);
        assertEq(board.freeSlots(taskId), 0, "nothing can be accepted after the deadline");
        uint256 perSlot = TOKEN_REWARD / SLOTS;
        uint256 before = token.balanceOf(publisher);
        vm.expectEmit(address(board));
        emit ITaskBoard.TaskRefunded(taskId, 2, 2 * perSlot);
        vm.prank(stranger);
        board.refund(taskId);
        assertEq(token.balanceOf(publisher) - before, 2 * perSlot);
        assertEq(token.balanceOf(address(board)), perSlot, "bob's submission stays escrowed");
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.NothingToRefund.selector, taskId));
        board.refund(taskId);

        // Alice's slot is gone; bob's submission is still decided and paid.
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.DeadlinePassed.selector, taskId, deadline, block.timestamp));
        board.submit(taskId, WORK);
        vm.warp(block.timestamp + REVIEW);
        board.approveLapsed(taskId, bob);
        assertEq(token.balanceOf(address(board)), 0);
    }

    function test_removeWorker_afterTheTimeoutFreesTheSlotForGood() public {
        uint256 taskId = _publishToken();
        _accept(taskId, alice);
        uint40 removableAt = uint40(block.timestamp) + TIMEOUT;
        vm.warp(removableAt - 1);
        vm.prank(publisher);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITaskBoard.WorkTimeoutNotReached.selector, taskId, alice, removableAt, block.timestamp
            )
        );
        board.removeWorker(taskId, alice);
        vm.warp(removableAt);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.NotPublisher.selector, taskId, stranger));
        board.removeWorker(taskId, alice);

        vm.expectEmit(address(board));
        emit ITaskBoard.WorkerRemoved(taskId, alice, removableAt - TIMEOUT);
        vm.prank(publisher);
        board.removeWorker(taskId, alice);
        _assertClaim(taskId, alice, ITaskBoard.ClaimState.Removed);
        assertEq(board.freeSlots(taskId), SLOTS);
        uint96 perSlot = TOKEN_REWARD / SLOTS;
        uint40 deadline = _task(taskId).deadline;
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.AlreadyClaimed.selector, taskId, alice));
        board.accept(taskId, perSlot, deadline);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(ITaskBoard.WrongClaimState.selector, taskId, alice, ITaskBoard.ClaimState.Removed)
        );
        board.submit(taskId, WORK);
    }

    function test_removeWorker_notOnceTheWorkerSubmittedNorAfterTheDeadline() public {
        uint256 taskId = _publishToken();
        _deliver(taskId, alice);
        _accept(taskId, bob);
        vm.warp(block.timestamp + TIMEOUT);
        vm.prank(publisher);
        vm.expectRevert(
            abi.encodeWithSelector(ITaskBoard.WrongClaimState.selector, taskId, alice, ITaskBoard.ClaimState.Submitted)
        );
        board.removeWorker(taskId, alice);
        uint40 deadline = _task(taskId).deadline;
        vm.warp(deadline);
        vm.prank(publisher);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.DeadlinePassed.selector, taskId, deadline, block.timestamp));
        board.removeWorker(taskId, bob);
    }
}
