// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ITaskBoard} from "../src/interfaces/ITaskBoard.sol";
import {TaskFixture} from "./utils/TaskFixture.sol";

/// @notice `accept` (the terms a worker agreed to, one slot per worker) and `extendDeadline`.
contract TaskBoardAcceptTest is TaskFixture {
    function test_accept_takesASlotAndEmits() public {
        uint256 taskId = _publishToken();
        vm.expectEmit(address(board));
        emit ITaskBoard.TaskAccepted(taskId, alice, SLOTS - 1);
        _accept(taskId, alice);
        ITaskBoard.Claim memory claim = board.getClaim(taskId, alice);
        assertEq(uint256(claim.state), uint256(ITaskBoard.ClaimState.Working));
        assertEq(claim.acceptedAt, block.timestamp);
        assertEq(_task(taskId).working, 1);
        assertEq(board.freeSlots(taskId), SLOTS - 1);
    }

    function test_accept_revertsWhenTheRewardDiffers() public {
        uint256 taskId = _publishToken();
        uint40 deadline = _task(taskId).deadline;
        uint96 perSlot = TOKEN_REWARD / SLOTS;
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(ITaskBoard.TermsChanged.selector, taskId, perSlot + 1, deadline, perSlot, deadline)
        );
        board.accept(taskId, perSlot + 1, deadline);
    }

    function test_accept_revertsWhenTheDeadlineMovedSinceTheWorkerLooked() public {
        uint256 taskId = _publishToken();
        uint40 seen = _task(taskId).deadline;
        vm.prank(publisher);
        board.extendDeadline(taskId, seen + 1 days);
        uint96 perSlot = TOKEN_REWARD / SLOTS;
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(ITaskBoard.TermsChanged.selector, taskId, perSlot, seen, perSlot, seen + 1 days)
        );
        board.accept(taskId, perSlot, seen);
        _accept(taskId, alice);
    }

    function test_accept_refusesPublisherArbiterAndSecondSlot() public {
        uint256 taskId = _publishToken();
        uint96 perSlot = TOKEN_REWARD / SLOTS;
        uint40 deadline = _task(taskId).deadline;
        vm.prank(publisher);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.WorkerIsParty.selector, taskId, publisher));
        board.accept(taskId, perSlot, deadline);
        vm.prank(platformArbiter);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.WorkerIsParty.selector, taskId, platformArbiter));
        board.accept(taskId, perSlot, deadline);
        _accept(taskId, alice);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.AlreadyClaimed.selector, taskId, alice));
        board.accept(taskId, perSlot, deadline);
    }

    function test_accept_revertsWhenNoSlotIsFree() public {
        uint256 taskId = _publishToken();
        _accept(taskId, alice);
        _accept(taskId, bob);
        _accept(taskId, carol);
        assertEq(board.freeSlots(taskId), 0);
        uint40 deadline = _task(taskId).deadline;
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.NoFreeSlot.selector, taskId));
        board.accept(taskId, TOKEN_REWARD / SLOTS, deadline);
    }

    function test_accept_revertsAtTheDeadline() public {
        uint256 taskId = _publishToken();
        uint40 deadline = _task(taskId).deadline;
        vm.warp(deadline);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.DeadlinePassed.selector, taskId, deadline, block.timestamp));
        board.accept(taskId, TOKEN_REWARD / SLOTS, deadline);
        vm.warp(deadline - 1);
        _accept(taskId, alice);
    }

    function test_accept_revertsForUnknownAndCancelledTasks() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.TaskNotFound.selector, 9));
        board.accept(9, 1, 1);
        uint256 taskId = _publishToken();
        uint40 deadline = _task(taskId).deadline;
        vm.prank(publisher);
        board.cancel(taskId);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.TaskNotOpen.selector, taskId, ITaskBoard.TaskState.Cancelled));
        board.accept(taskId, TOKEN_REWARD / SLOTS, deadline);
        assertEq(board.freeSlots(taskId), 0);
    }

    function test_extendDeadline_onlyLaterByThePublisherBeforeItPasses() public {
        uint256 taskId = _publishToken();
        uint40 deadline = _task(taskId).deadline;
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.NotPublisher.selector, taskId, stranger));
        board.extendDeadline(taskId, deadline + 1);
        vm.prank(publisher);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.InvalidDeadline.selector, deadline, block.timestamp));
        board.extendDeadline(taskId, deadline);
        uint40 tooFar = uint40(block.timestamp + 365 days + 1);
        vm.prank(publisher);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.InvalidDeadline.selector, tooFar, block.timestamp));
        board.extendDeadline(taskId, tooFar);

        vm.expectEmit(address(board));
        emit ITaskBoard.DeadlineExtended(taskId, deadline + 1 days);
        vm.prank(publisher);
        board.extendDeadline(taskId, deadline + 1 days);
        assertEq(_task(taskId).deadline, deadline + 1 days);

        vm.warp(deadline + 1 days);
        vm.prank(publisher);
        vm.expectRevert(
            abi.encodeWithSelector(ITaskBoard.DeadlinePassed.selector, taskId, deadline + 1 days, block.timestamp)
        );
        board.extendDeadline(taskId, deadline + 2 days);
    }
}
