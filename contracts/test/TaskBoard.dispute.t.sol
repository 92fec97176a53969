// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ITaskBoard} from "../src/interfaces/ITaskBoard.sol";
import {TaskFixture} from "./utils/TaskFixture.sol";

/// @notice `openDispute`, `resolveDispute` (pay, refund, split; once; by the arbiter bound at
/// publication), `closeRejected` and `setPlatformArbiter`.
contract TaskBoardDisputeTest is TaskFixture {
    function test_openDispute_goesToTheTasksArbiter() public {
        uint256 taskId = _publishToken();
        _deliver(taskId, alice);
        _reject(taskId, alice);
        vm.expectEmit(address(board));
        emit ITaskBoard.DisputeOpened(taskId, alice, platformArbiter, "it is done");
        vm.prank(alice);
        board.openDispute(taskId, "it is done");
        _assertClaim(taskId, alice, ITaskBoard.ClaimState.Disputed);
    }

    function test_openDispute_onlyAfterARejectionWithinTheAnswerWindow() public {
        uint256 taskId = _publishToken();
        _deliver(taskId, alice);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(ITaskBoard.WrongClaimState.selector, taskId, alice, ITaskBoard.ClaimState.Submitted)
        );
        board.openDispute(taskId, "early");
        _reject(taskId, alice);
        uint40 answerEndsAt = uint40(block.timestamp + ANSWER);
        vm.warp(answerEndsAt);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(ITaskBoard.AnswerWindowClosed.selector, taskId, alice, answerEndsAt, block.timestamp)
        );
        board.openDispute(taskId, "late");
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.InvalidReason.selector, 513));
        board.openDispute(taskId, string(new bytes(513)));
    }

    function test_resolveDispute_payRefundAndSplit() public {
        uint256 taskId = _publishToken();
        uint256 perSlot = TOKEN_REWARD / SLOTS;
        _disputed(taskId, alice);
        _disputed(taskId, bob);
        _disputed(taskId, carol);
        uint256 publisherBefore = token.balanceOf(publisher);
        uint256 aliceBefore = token.balanceOf(alice);
        uint256 bobBefore = token.balanceOf(bob);
        uint256 carolBefore = token.balanceOf(carol);

        vm.expectEmit(address(board));
        emit ITaskBoard.DisputeResolved(taskId, alice, 10_000, perSlot, 0, 0);
        vm.prank(platformArbiter);
        board.resolveDispute(taskId, alice, 10_000);
        vm.prank(platformArbiter);
        board.resolveDispute(taskId, bob, 0);
        vm.prank(platformArbiter);
        board.resolveDispute(taskId, carol, 2_500);

        assertEq(token.balanceOf(alice) - aliceBefore, perSlot);
        assertEq(token.balanceOf(bob), bobBefore);
        assertEq(token.balanceOf(carol) - carolBefore, perSlot / 4);
        assertEq(token.balanceOf(publisher) - publisherBefore, perSlot + perSlot - perSlot / 4);
        assertEq(token.balanceOf(address(board)), 0);
        _assertClaim(taskId, carol, ITaskBoard.ClaimState.Resolved);
        assertEq(_task(taskId).settled, SLOTS);
    }

    function test_resolveDispute_onceAndOnlyByTheArbiter() public {
        uint256 taskId = _publishToken();
        _disputed(taskId, alice);
        vm.prank(publisher);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.NotArbiter.selector, taskId, publisher));
        board.resolveDispute(taskId, alice, 0);
        vm.prank(platformArbiter);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.InvalidSplit.selector, uint16(10_001)));
        board.resolveDispute(taskId, alice, 10_001);
        vm.prank(platformArbiter);
        board.resolveDispute(taskId, alice, 5_000);
        vm.prank(platformArbiter);
        vm.expectRevert(
            abi.encodeWithSelector(ITaskBoard.WrongClaimState.selector, taskId, alice, ITaskBoard.ClaimState.Resolved)
        );
        board.resolveDispute(taskId, alice, 10_000);
    }

    function test_resolveDispute_theArbiterIsTheOneThePublicationNamed() public {
        uint256 taskId = _publishGuild();
        address newArbiter = makeAddr("newArbiter");
        vm.prank(guildOwner);
        communities.setArbiter(guild, newArbiter);
        _disputed(taskId, alice);
        vm.prank(newArbiter);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.NotArbiter.selector, taskId, newArbiter));
        board.resolveDispute(taskId, alice, 10_000);
        vm.prank(guildArbiter);
        board.resolveDispute(taskId, alice, 10_000);
        // A task published now goes to the new arbiter.
        assertEq(_task(_publishGuild()).arbiter, newArbiter);
    }

    function testFuzz_resolveDispute_partsSumToTheSlot(uint16 bps, uint96 perSlot) public {
        bps = uint16(bound(bps, 0, 10_000));
        perSlot = uint96(bound(perSlot, 1, type(uint96).max / SLOTS));
        ITaskBoard.TaskParams memory p = _params(address(token), perSlot * SLOTS);
        token.mint(publisher, p.reward);
        uint256 taskId = _publish(p);
        _disputed(taskId, alice);
        uint256 publisherBefore = token.balanceOf(publisher);
        uint256 aliceBefore = token.balanceOf(alice);
        vm.prank(platformArbiter);
        board.resolveDispute(taskId, alice, bps);
        uint256 toAlice = token.balanceOf(alice) - aliceBefore;
        assertEq(toAlice, uint256(perSlot) * bps / 10_000);
        assertEq(toAlice + token.balanceOf(publisher) - publisherBefore, perSlot);
        assertEq(token.balanceOf(address(board)), uint256(perSlot) * (SLOTS - 1));
    }

    function test_closeRejected_beforeTheDeadlineFreesTheSlot() public {
        uint256 taskId = _publishToken();
        _deliver(taskId, alice);
        _reject(taskId, alice);
        uint40 answerEndsAt = uint40(block.timestamp + ANSWER);
        vm.warp(answerEndsAt - 1);
        vm.expectRevert(
            abi.encodeWithSelector(ITaskBoard.AnswerWindowOpen.selector, taskId, alice, answerEndsAt, block.timestamp)
        );
        board.closeRejected(taskId, alice);
        vm.warp(answerEndsAt);
        vm.expectEmit(address(board));
        emit ITaskBoard.RejectionClosed(taskId, alice, 0);
        vm.prank(stranger);
        board.closeRejected(taskId, alice);
        _assertClaim(taskId, alice, ITaskBoard.ClaimState.Closed);
        assertEq(board.freeSlots(taskId), SLOTS);
        assertEq(token.balanceOf(address(board)), TOKEN_REWARD);
        _deliver(taskId, bob);
    }

    function test_closeRejected_afterTheDeadlineRefundsTheSlot() public {
        uint256 taskId = _publishToken();
        vm.warp(_task(taskId).deadline - 1);
        _deliver(taskId, alice);
        _reject(taskId, alice);
        vm.warp(block.timestamp + ANSWER);
        uint256 before = token.balanceOf(publisher);
        vm.expectEmit(address(board));
        emit ITaskBoard.RejectionClosed(taskId, alice, TOKEN_REWARD / SLOTS);
        board.closeRejected(taskId, alice);
        assertEq(token.balanceOf(publisher) - before, TOKEN_REWARD / SLOTS);
        assertEq(_task(taskId).settled, 1);
    }

    function test_setPlatformArbiter_handsTheRoleOnForNewTasks() public {
        uint256 old = _publishToken();
        address next = makeAddr("nextArbiter");
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.NotPlatformArbiter.selector, stranger));
        board.setPlatformArbiter(next);
        vm.prank(platformArbiter);
        vm.expectRevert(abi.encodeWithSelector(ITaskBoard.InvalidAddress.selector, address(0)));
        board.setPlatformArbiter(address(0));
        vm.expectEmit(address(board));
        emit ITaskBoard.PlatformArbiterSet(next);
        vm.prank(platformArbiter);
        board.setPlatformArbiter(next);
        assertEq(board.platformArbiter(), next);
        assertEq(_task(old).arbiter, platformArbiter);
        assertEq(_task(_publishToken()).arbiter, next);
    }
}
