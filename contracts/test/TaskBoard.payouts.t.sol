// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ITaskBoard} from "../src/interfaces/ITaskBoard.sol";
import {IPayouts} from "../src/interfaces/IPayouts.sol";
import {TaskFixture} from "./utils/TaskFixture.sol";
import {FaultyToken, GasBurner, Receiver, ReentrantToken} from "./utils/Mocks.sol";
import {ReentrantAccount} from "./utils/ChannelMocks.sol";

/// @notice Payouts of the task board: receivers that refuse ETH or burn gas are owed instead and cannot
/// block an approval, a refund or a dispute; blocked accounts withdraw elsewhere by signature; hostile
/// tokens and receivers cannot re-enter.
contract TaskBoardPayoutsTest is TaskFixture {
    function test_approve_rejectingWorkerIsOwed() public {
        Receiver worker = new Receiver();
        worker.setAccepts(false);
        uint256 taskId = _publishEth();
        uint96 perSlot = ETH_REWARD / SLOTS;
        uint40 deadline = _task(taskId).deadline;
        worker.exec(address(board), 0, abi.encodeCall(ITaskBoard.accept, (taskId, perSlot, deadline)));
        worker.exec(address(board), 0, abi.encodeCall(ITaskBoard.submit, (taskId, WORK)));
        vm.expectEmit(address(board));
        emit IPayouts.PayoutDeferred(address(worker), address(0), perSlot);
        _approve(taskId, address(worker));
        assertEq(board.owed(address(worker), address(0)), perSlot);
        assertEq(address(board).balance, ETH_REWARD);

        worker.setAccepts(true);
        worker.exec(address(board), 0, abi.encodeCall(IPayouts.withdraw, (address(0))));
        assertEq(address(worker).balance, perSlot);
        assertEq(address(board).balance, ETH_REWARD - perSlot);
    }

    function test_cancel_gasBurningPublisherIsOwed() public {
        GasBurner burner = new GasBurner();
        vm.deal(address(burner), ETH_REWARD);
        vm.prank(address(burner));
        uint256 taskId = board.publish{value: ETH_REWARD}(_params(address(0), ETH_REWARD));
        vm.prank(address(burner));
        board.cancel(taskId);
        assertEq(board.owed(address(burner), address(0)), ETH_REWARD);
        assertEq(address(board).balance, ETH_REWARD);
    }

    function test_withdrawTo_blockedWorkerSignsForAnotherAddress() public {
        FaultyToken faulty = new FaultyToken();
        faulty.mint(publisher, TOKEN_REWARD);
        vm.prank(publisher);
        faulty.approve(address(board), TOKEN_REWARD);
        uint256 taskId = _publish(_params(address(faulty), TOKEN_REWARD));
        _deliver(taskId, alice);
        faulty.setBlocked(alice, true);
        _approve(taskId, alice);
        uint256 perSlot = TOKEN_REWARD / SLOTS;
        assertEq(board.owed(alice, address(faulty)), perSlot);

        address to = makeAddr("aliceColdWallet");
        bytes memory signature = _signWithdrawalFor(
            address(board), "Agora TaskBoard", aliceKey, alice, address(faulty), to, 0, block.timestamp
        );
        vm.prank(stranger);
        board.withdrawTo(alice, address(faulty), to, block.timestamp, signature);
        assertEq(faulty.balanceOf(to), perSlot);
        assertEq(board.owed(alice, address(faulty)), 0);
    }

    function test_approve_blocksReentryFromToken() public {
        ReentrantToken hostile = new ReentrantToken(address(board));
        hostile.mint(publisher, TOKEN_REWARD);
        vm.prank(publisher);
        hostile.approve(address(board), TOKEN_REWARD);
        uint256 taskId = _publish(_params(address(hostile), TOKEN_REWARD));
        _deliver(taskId, alice);
        // While alice is paid, the token tries to approve her again.
        hostile.arm(abi.encodeCall(ITaskBoard.approveLapsed, (taskId, alice)));
        _approve(taskId, alice);
        assertTrue(hostile.attempted());
        assertFalse(hostile.succeeded());
        assertEq(hostile.returned(), abi.encodeWithSelector(IPayouts.ReentrantCall.selector));
        assertEq(hostile.balanceOf(alice), TOKEN_REWARD / SLOTS);
    }

    function test_resolveDispute_blocksReentryFromReceiver() public {
        ReentrantAccount worker = new ReentrantAccount();
        uint256 taskId = _publishEth();
        uint96 perSlot = ETH_REWARD / SLOTS;
        uint40 deadline = _task(taskId).deadline;
        worker.exec(address(board), 0, abi.encodeCall(ITaskBoard.accept, (taskId, perSlot, deadline)));
        worker.exec(address(board), 0, abi.encodeCall(ITaskBoard.submit, (taskId, WORK)));
        _reject(taskId, address(worker));
        worker.exec(address(board), 0, abi.encodeCall(ITaskBoard.openDispute, (taskId, "unfair")));
        // While paid, the worker tries to refund the task's other slots: every entry point is locked.
        worker.arm(address(board), abi.encodeCall(ITaskBoard.refund, (taskId)), 0);
        vm.prank(platformArbiter);
        board.resolveDispute(taskId, address(worker), 10_000);
        assertTrue(worker.attempted());
        assertFalse(worker.succeeded());
        assertEq(worker.returned(), abi.encodeWithSelector(IPayouts.ReentrantCall.selector));
        assertEq(address(worker).balance, perSlot);
    }
}
