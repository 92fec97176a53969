// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IFederatedMarket} from "../src/interfaces/IFederatedMarket.sol";
import {FederatedFixture} from "./utils/FederatedFixture.sol";

/// @notice `start`, `cancel` and `refundBlocks`: training starts only by the coordinator, with enough
/// members, strictly before the start deadline; from that deadline (or the finish deadline, once
/// started) anyone may cancel and the pool goes back to the investor; block payments of a task that never
/// started go back to the members who paid them.
contract FederatedMarketLifecycleTest is FederatedFixture {
    uint256 internal taskId;

    function setUp() public override {
        super.setUp();
        taskId = _createEthPool();
    }

    // ------------------------------------------------------------ start

    function test_start_byCoordinatorWithEnoughMembers() public {
        _join(taskId, alice);
        _join(taskId, bob);
        vm.expectEmit(address(market));
        emit IFederatedMarket.TaskStarted(taskId, 2, 0);
        vm.prank(coordinator);
        market.start(taskId);
        _assertState(taskId, IFederatedMarket.TaskState.Training);
    }

    function test_start_revertsWithTooFewMembers() public {
        _join(taskId, alice);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.NotEnoughMembers.selector, taskId, 1, MIN));
        vm.prank(coordinator);
        market.start(taskId);
        // A member that left does not count.
        _join(taskId, bob);
        vm.prank(bob);
        market.leave(taskId);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.NotEnoughMembers.selector, taskId, 1, MIN));
        vm.prank(coordinator);
        market.start(taskId);
    }

    function test_start_revertsForNonCoordinator() public {
        _join(taskId, alice);
        _join(taskId, bob);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.NotCoordinator.selector, taskId, investor));
        vm.prank(investor);
        market.start(taskId);
    }

    function test_start_onlyBeforeStartDeadline() public {
        _join(taskId, alice);
        _join(taskId, bob);
        uint40 deadline = _task(taskId).startDeadline;
        vm.warp(deadline);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.DeadlinePassed.selector, taskId, deadline, deadline));
        vm.prank(coordinator);
        market.start(taskId);
        vm.warp(deadline - 1);
        vm.prank(coordinator);
        market.start(taskId);
    }

    function test_start_revertsWhenNotOpen() public {
        _joinAndStart(taskId);
        vm.expectRevert(
            abi.encodeWithSelector(IFederatedMarket.WrongState.selector, taskId, IFederatedMarket.TaskState.Training)
        );
        vm.prank(coordinator);
        market.start(taskId);
    }

    // ------------------------------------------------------------ cancel

    function test_cancel_byInvestorWhileOpenRefundsPool() public {
        uint256 before = investor.balance;
        vm.expectEmit(address(market));
        emit IFederatedMarket.TaskCancelled(taskId, investor, IFederatedMarket.TaskState.Cancelled, ETH_POOL);
        vm.prank(investor);
        market.cancel(taskId);
        assertEq(investor.balance, before + ETH_POOL);
        assertEq(address(market).balance, 0);
        _assertState(taskId, IFederatedMarket.TaskState.Cancelled);
    }

    function test_cancel_byAnyoneFromStartDeadline() public {
        _join(taskId, alice);
        uint40 deadline = _task(taskId).startDeadline;
        vm.warp(deadline - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IFederatedMarket.CannotCancelYet.selector, taskId, deadline, deadline - 1)
        );
        vm.prank(stranger);
        market.cancel(taskId);
        vm.warp(deadline);
        uint256 before = investor.balance;
        vm.prank(stranger);
        market.cancel(taskId);
        assertEq(investor.balance, before + ETH_POOL, "the pool goes to the investor, not the caller");
        _assertState(taskId, IFederatedMarket.TaskState.Cancelled);
    }

    function test_cancel_tokenPoolGoesBack() public {
        uint256 tokenTask = _createTokenPool();
        uint256 before = token.balanceOf(investor);
        vm.warp(_task(tokenTask).startDeadline);
        vm.prank(stranger);
        market.cancel(tokenTask);
        assertEq(token.balanceOf(investor), before + TOKEN_POOL);
        assertEq(token.balanceOf(address(market)), 0);
    }

    function test_cancel_trainingOnlyFromFinishDeadline() public {
        _joinAndStart(taskId);
        vm.expectRevert(
            abi.encodeWithSelector(
                IFederatedMarket.CannotCancelYet.selector, taskId, _task(taskId).finishDeadline, block.timestamp
            )
        );
        vm.prank(investor);
        market.cancel(taskId);

        uint40 deadline = _task(taskId).finishDeadline;
        vm.warp(deadline);
        uint256 before = investor.balance;
        vm.expectEmit(address(market));
        emit IFederatedMarket.TaskCancelled(taskId, stranger, IFederatedMarket.TaskState.Abandoned, ETH_POOL);
        vm.prank(stranger);
        market.cancel(taskId);
        assertEq(investor.balance, before + ETH_POOL);
        _assertState(taskId, IFederatedMarket.TaskState.Abandoned);
        // Results can no longer be posted.
        vm.expectRevert(
            abi.encodeWithSelector(IFederatedMarket.WrongState.selector, taskId, IFederatedMarket.TaskState.Abandoned)
        );
        _postRewards(taskId, keccak256("root"));
    }

    function test_cancel_shareholdingRefundsNothing() public {
        uint256 sharesTask = _createShares(address(token));
        vm.expectEmit(address(market));
        emit IFederatedMarket.TaskCancelled(sharesTask, investor, IFederatedMarket.TaskState.Cancelled, 0);
        vm.prank(investor);
        market.cancel(sharesTask);
    }

    function test_cancel_revertsOnceFinishedOrCancelled() public {
        _finishWithRewards(taskId, ETH_POOL);
        vm.warp(block.timestamp + 365 days);
        vm.expectRevert(
            abi.encodeWithSelector(IFederatedMarket.WrongState.selector, taskId, IFederatedMarket.TaskState.Finished)
        );
        market.cancel(taskId);

        uint256 other = _createEthPool();
        vm.prank(investor);
        market.cancel(other);
        vm.expectRevert(
            abi.encodeWithSelector(IFederatedMarket.WrongState.selector, other, IFederatedMarket.TaskState.Cancelled)
        );
        vm.prank(investor);
        market.cancel(other);
    }

    function test_cancel_revertsForUnknownTask() public {
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.UnknownTask.selector, 7));
        market.cancel(7);
    }

    // ------------------------------------------------------------ refundBlocks

    function test_refundBlocks_afterCancelBeforeStart() public {
        _join(taskId, alice);
        _join(taskId, bob);
        _buy(taskId, alice, 2);
        _buy(taskId, bob, 1);
        vm.prank(investor);
        market.cancel(taskId);

        uint256 before = token.balanceOf(alice);
        vm.expectEmit(address(market));
        emit IFederatedMarket.BlockPaymentRefunded(taskId, alice, 2 * BLOCK_PRICE);
        vm.prank(stranger); // anyone may push it: the money goes to the member
        market.refundBlocks(taskId, alice);
        assertEq(token.balanceOf(alice), before + 2 * BLOCK_PRICE);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.NothingToPay.selector, taskId, alice));
        market.refundBlocks(taskId, alice);

        market.refundBlocks(taskId, bob);
        assertEq(token.balanceOf(address(market)), 0);
        assertEq(_task(taskId).blockEscrow, 0);
    }

    function test_refundBlocks_revertsUnlessCancelled() public {
        _join(taskId, alice);
        _buy(taskId, alice, 2);
        vm.expectRevert(
            abi.encodeWithSelector(IFederatedMarket.WrongState.selector, taskId, IFederatedMarket.TaskState.Open)
        );
        market.refundBlocks(taskId, alice);

        // Once started the payments went to the investor: an abandoned task refunds no blocks.
        _join(taskId, bob);
        vm.prank(coordinator);
        market.start(taskId);
        vm.warp(_task(taskId).finishDeadline);
        market.cancel(taskId);
        vm.expectRevert(
            abi.encodeWithSelector(IFederatedMarket.WrongState.selector, taskId, IFederatedMarket.TaskState.Abandoned)
        );
        market.refundBlocks(taskId, alice);
    }

    function test_refundBlocks_revertsForNonPayer() public {
        vm.prank(investor);
        market.cancel(taskId);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.NothingToPay.selector, taskId, carol));
        market.refundBlocks(taskId, carol);
    }
}
