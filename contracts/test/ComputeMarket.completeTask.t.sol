// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ComputeMarket} from "../src/ComputeMarket.sol";
import {IComputeMarket} from "../src/interfaces/IComputeMarket.sol";
import {IPayouts} from "../src/interfaces/IPayouts.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";
import {FaultyToken, GasBurner, Receiver, ReentrantReceiver, ReentrantToken} from "./utils/Mocks.sol";

/// @notice `completeTask` tests, on the shared fixture.
contract ComputeMarketCompleteTaskTest is MarketFixture {
    function test_completeTask_fromCreatedPaysProviderAndEmits() public {
        uint256 taskId = _buyEth();
        vm.expectEmit(address(market));
        emit IComputeMarket.TaskCompleted(taskId, RESULT);
        vm.prank(operator);
        market.completeTask(taskId, RESULT);

        assertEq(uint8(_status(taskId)), uint8(IComputeMarket.TaskStatus.Completed));
        assertEq(provider.balance, ETH_PRICE);
        assertEq(address(market).balance, 0);
        // The task keeps its record.
        assertEq(market.getTask(taskId).amount, ETH_PRICE);
        assertEq(market.getTask(taskId).user, buyer);
    }

    function test_completeTask_fromRunningByProvider() public {
        uint256 taskId = _buyEth();
        vm.startPrank(provider);
        market.startTask(taskId);
        market.completeTask(taskId, RESULT);
        vm.stopPrank();
        assertEq(uint8(_status(taskId)), uint8(IComputeMarket.TaskStatus.Completed));
        assertEq(provider.balance, ETH_PRICE);
    }

    function test_completeTask_tokenPaysProvider() public {
        uint256 taskId = _buyToken();
        vm.prank(operator);
        market.completeTask(taskId, RESULT);
        assertEq(token.balanceOf(provider), TOKEN_PRICE);
        assertEq(token.balanceOf(address(market)), 0);
    }

    function test_completeTask_withFeeSplitsEth() public {
        vm.prank(owner);
        market.setPlatformFee(250, feeTo);
        uint256 taskId = _buyEth();
        vm.prank(operator);
        market.completeTask(taskId, RESULT);
        uint256 fee = ETH_PRICE * 250 / 10_000;
        assertEq(feeTo.balance, fee);
        assertEq(provider.balance, ETH_PRICE - fee);
        assertEq(address(market).balance, 0);
    }

    function test_completeTask_withFeeSplitsToken() public {
        vm.prank(owner);
        market.setPlatformFee(1000, feeTo);
        uint256 taskId = _buyToken();
        vm.prank(provider);
        market.completeTask(taskId, RESULT);
        assertEq(token.balanceOf(feeTo), TOKEN_PRICE / 10);
        assertEq(token.balanceOf(provider), TOKEN_PRICE - TOKEN_PRICE / 10);
        assertEq(token.balanceOf(address(market)), 0);
    }

    function test_completeTask_feeRoundingToZeroSkipsFeeTransfer() public {
        vm.prank(owner);
        market.setPlatformFee(100, feeTo);
        vm.prank(provider);
        uint256 serviceId = market.listService(address(token), 99, RUN_TIME, METADATA);
        vm.prank(buyer);
        uint256 taskId = market.buyCompute(serviceId, INPUT, 99, RUN_TIME);

        vm.recordLogs();
        vm.prank(operator);
        market.completeTask(taskId, RESULT);
        // TaskCompleted and a single Transfer (to the provider): no zero-value fee transfer.
        assertEq(vm.getRecordedLogs().length, 2);
        assertEq(token.balanceOf(provider), 99);
        assertEq(token.balanceOf(feeTo), 0);
    }

    function test_completeTask_revertsForUnknownTask() public {
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.TaskNotFound.selector, 7));
        vm.prank(operator);
        market.completeTask(7, RESULT);
    }

    function test_completeTask_revertsForUnauthorizedCaller() public {
        uint256 taskId = _buyEth();
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.NotAuthorized.selector, taskId, stranger));
        vm.prank(stranger);
        market.completeTask(taskId, RESULT);

        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.NotAuthorized.selector, taskId, buyer));
        vm.prank(buyer);
        market.completeTask(taskId, RESULT);
    }

    function test_completeTask_revertsWhenCompleted() public {
        uint256 taskId = _buyEth();
        vm.startPrank(operator);
        market.completeTask(taskId, RESULT);
        vm.expectRevert(
            abi.encodeWithSelector(
                IComputeMarket.InvalidTaskStatus.selector, taskId, IComputeMarket.TaskStatus.Completed
            )
        );
        market.completeTask(taskId, RESULT);
        vm.stopPrank();
        assertEq(provider.balance, ETH_PRICE);
    }

    function test_completeTask_revertsWhenRefunded() public {
        uint256 taskId = _buyEth();
        vm.startPrank(operator);
        market.failTask(taskId, "boom");
        vm.expectRevert(
            abi.encodeWithSelector(
                IComputeMarket.InvalidTaskStatus.selector, taskId, IComputeMarket.TaskStatus.Refunded
            )
        );
        market.completeTask(taskId, RESULT);
        vm.stopPrank();
    }

    // Flaw 4: a completion after the deadline raced the buyer's refund. Now the deadline is the strict
    // boundary: up to it only completion, after it only the refund.

    function test_completeTask_revertsAfterDeadline() public {
        uint256 taskId = _buyEth();
        uint256 deadline = market.getTask(taskId).deadline;
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.TaskExpired.selector, taskId, deadline, deadline + 1));
        vm.prank(operator);
        market.completeTask(taskId, RESULT);
        assertEq(provider.balance, 0);
        // The refund is the buyer's, and only the buyer's.
        vm.prank(buyer);
        market.claimRefund(taskId);
        assertEq(buyer.balance, 100 ether);
    }

    function test_completeTask_atDeadlineStillAllowed() public {
        uint256 taskId = _buyEth();
        vm.warp(market.getTask(taskId).deadline);
        vm.prank(operator);
        market.completeTask(taskId, RESULT);
        assertEq(provider.balance, ETH_PRICE);
    }

    function testFuzz_completeTask_exactlyOneOfCompleteAndRefund(uint256 elapsed) public {
        uint256 taskId = _buyToken();
        uint256 deadline = market.getTask(taskId).deadline;
        vm.warp(bound(elapsed, block.timestamp, deadline + 2 days));
        vm.prank(operator);
        (bool completed,) = address(market).call(abi.encodeCall(market.completeTask, (taskId, RESULT)));
        vm.prank(buyer);
        (bool refunded,) = address(market).call(abi.encodeCall(market.claimRefund, (taskId)));
        assertTrue(completed != refunded);
        assertEq(completed, block.timestamp <= deadline);
        assertEq(token.balanceOf(provider), completed ? TOKEN_PRICE : 0);
    }

    // Flaw 3: the fee was read at completion, so the owner could raise it on tasks already bought.

    function test_completeTask_paysTheFeeInForceAtPurchase() public {
        vm.prank(owner);
        market.setPlatformFee(100, feeTo); // 1%
        uint256 taskId = _buyToken();
        assertEq(market.getTask(taskId).feeBps, 100);
        vm.prank(owner);
        market.setPlatformFee(1000, feeTo); // raised to 10% after the purchase

        vm.prank(operator);
        market.completeTask(taskId, RESULT);
        assertEq(token.balanceOf(feeTo), TOKEN_PRICE / 100);
        assertEq(token.balanceOf(provider), TOKEN_PRICE - TOKEN_PRICE / 100);
    }

    function test_completeTask_feeRaisedAfterPurchaseLeavesFreeTaskFree() public {
        uint256 taskId = _buyEth();
        vm.prank(owner);
        market.setPlatformFee(1000, feeTo);
        vm.prank(operator);
        market.completeTask(taskId, RESULT);
        assertEq(provider.balance, ETH_PRICE);
        assertEq(feeTo.balance, 0);
    }

    function test_completeTask_feeWithRecipientRemovedStaysWithProvider() public {
        vm.prank(owner);
        market.setPlatformFee(500, feeTo);
        uint256 taskId = _buyEth();
        vm.prank(owner);
        market.setPlatformFee(0, address(0));
        vm.prank(operator);
        market.completeTask(taskId, RESULT);
        assertEq(provider.balance, ETH_PRICE);
        assertEq(address(0).balance, 0);
        assertEq(address(market).balance, 0);
    }

    function testFuzz_completeTask_feeMath(uint96 price, uint16 feeBps) public {
        price = uint96(bound(price, 1, type(uint96).max));
        feeBps = uint16(bound(feeBps, 0, market.MAX_FEE_BPS()));
        vm.prank(owner);
        market.setPlatformFee(feeBps, feeTo);
        vm.prank(provider);
        uint256 serviceId = market.listService(address(0), price, RUN_TIME, METADATA);
        vm.deal(buyer, price);
        vm.prank(buyer);
        uint256 taskId = market.buyCompute{value: price}(serviceId, INPUT, price, RUN_TIME);
        vm.prank(operator);
        market.completeTask(taskId, RESULT);

        uint256 fee = uint256(price) * feeBps / 10_000;
        assertEq(feeTo.balance, fee);
        assertEq(provider.balance, price - fee);
        assertEq(feeTo.balance + provider.balance, price);
        assertEq(address(market).balance, 0);
    }

    function test_completeTask_byOlderOperatorAfterAnotherIsAdded() public {
        address second = makeAddr("second");
        vm.prank(owner);
        market.setOperator(second, true);
        uint256 a = _buyEth();
        uint256 b = _buyEth();
        vm.prank(operator);
        market.completeTask(a, RESULT);
        vm.prank(second);
        market.completeTask(b, RESULT);
        assertEq(provider.balance, 2 * ETH_PRICE);
    }

    function test_completeTask_revertsForRemovedOperator() public {
        uint256 taskId = _buyEth();
        vm.prank(owner);
        market.setOperator(operator, false);
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.NotAuthorized.selector, taskId, operator));
        vm.prank(operator);
        market.completeTask(taskId, RESULT);
    }

    function test_completeTask_revertsForRemovedOlderOperator() public {
        address second = makeAddr("second");
        vm.startPrank(owner);
        market.setOperator(second, true);
        market.setOperator(operator, false);
        vm.stopPrank();
        uint256 taskId = _buyEth();
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.NotAuthorized.selector, taskId, operator));
        vm.prank(operator);
        market.completeTask(taskId, RESULT);
        vm.prank(second);
        market.completeTask(taskId, RESULT);
    }

    function test_completeTask_defersPayoutToRejectingProvider() public {
        Receiver rejecting = new Receiver();
        rejecting.setAccepts(false);
        uint256 serviceId = _listAs(address(rejecting), address(0), ETH_PRICE);
        vm.prank(buyer);
        uint256 taskId = market.buyCompute{value: ETH_PRICE}(serviceId, INPUT, ETH_PRICE, RUN_TIME);

        vm.expectEmit(address(market));
        emit IPayouts.PayoutDeferred(address(rejecting), address(0), ETH_PRICE);
        vm.prank(operator);
        market.completeTask(taskId, RESULT);

        assertEq(uint8(_status(taskId)), uint8(IComputeMarket.TaskStatus.Completed));
        assertEq(market.owed(address(rejecting), address(0)), ETH_PRICE);
        assertEq(address(market).balance, ETH_PRICE);

        // Still rejecting: withdraw fails and keeps the credit.
        vm.expectRevert(
            abi.encodeWithSelector(IPayouts.TransferFailed.selector, address(rejecting), address(0), ETH_PRICE)
        );
        vm.prank(address(rejecting));
        market.withdraw(address(0));
        assertEq(market.owed(address(rejecting), address(0)), ETH_PRICE);

        rejecting.setAccepts(true);
        vm.expectEmit(address(market));
        emit IPayouts.Withdrawn(address(rejecting), address(0), ETH_PRICE);
        vm.prank(address(rejecting));
        market.withdraw(address(0));
        assertEq(address(rejecting).balance, ETH_PRICE);
        assertEq(market.owed(address(rejecting), address(0)), 0);
        assertEq(address(market).balance, 0);
    }

    function test_completeTask_defersFeeToRejectingRecipient() public {
        Receiver rejecting = new Receiver();
        rejecting.setAccepts(false);
        vm.prank(owner);
        market.setPlatformFee(500, address(rejecting));
        uint256 taskId = _buyEth();
        vm.prank(operator);
        market.completeTask(taskId, RESULT);
        uint256 fee = ETH_PRICE * 500 / 10_000;
        assertEq(market.owed(address(rejecting), address(0)), fee);
        assertEq(provider.balance, ETH_PRICE - fee);
        assertEq(address(market).balance, fee);
    }

    function test_completeTask_defersPayoutToGasBurner() public {
        GasBurner burner = new GasBurner();
        uint256 serviceId = _listAs(address(burner), address(0), ETH_PRICE);
        vm.prank(buyer);
        uint256 taskId = market.buyCompute{value: ETH_PRICE}(serviceId, INPUT, ETH_PRICE, RUN_TIME);

        vm.prank(operator);
        market.completeTask{gas: 300_000}(taskId, RESULT);
        assertEq(uint8(_status(taskId)), uint8(IComputeMarket.TaskStatus.Completed));
        assertEq(market.owed(address(burner), address(0)), ETH_PRICE);
    }

    function test_completeTask_defersWhenTokenTransferReverts() public {
        _checkFaultyTokenDeferral(FaultyToken.Mode.Revert);
    }

    function test_completeTask_defersWhenTokenTransferReturnsFalse() public {
        _checkFaultyTokenDeferral(FaultyToken.Mode.ReturnFalse);
    }

    function test_completeTask_blocksReentryFromReceiver() public {
        ReentrantReceiver hostile = new ReentrantReceiver(market);
        uint256 serviceId = _listAs(address(hostile), address(0), ETH_PRICE);
        vm.startPrank(buyer);
        uint256 first = market.buyCompute{value: ETH_PRICE}(serviceId, INPUT, ETH_PRICE, RUN_TIME);
        uint256 second = market.buyCompute{value: ETH_PRICE}(serviceId, INPUT, ETH_PRICE, RUN_TIME);
        vm.stopPrank();
        // When paid for `first`, the provider tries to complete `second` from inside the payout.
        hostile.arm(abi.encodeCall(IComputeMarket.completeTask, (second, RESULT)), 0);

        vm.prank(operator);
        market.completeTask(first, RESULT);

        assertTrue(hostile.attempted());
        assertFalse(hostile.succeeded());
        assertEq(hostile.returned(), abi.encodeWithSelector(IPayouts.ReentrantCall.selector));
        assertEq(uint8(_status(first)), uint8(IComputeMarket.TaskStatus.Completed));
        assertEq(uint8(_status(second)), uint8(IComputeMarket.TaskStatus.Created));
        assertEq(address(hostile).balance, ETH_PRICE);
        assertEq(address(market).balance, ETH_PRICE);
    }

    function test_completeTask_blocksReentryIntoBuyCompute() public {
        ReentrantReceiver hostile = new ReentrantReceiver(market);
        vm.deal(address(hostile), ETH_PRICE);
        vm.prank(owner);
        market.setPlatformFee(1000, address(hostile));
        // When paid its fee, the recipient tries to buy from inside the push.
        hostile.arm(abi.encodeCall(IComputeMarket.buyCompute, (ethService, INPUT, ETH_PRICE, RUN_TIME)), ETH_PRICE);
        uint256 taskId = _buyEth();

        vm.prank(operator);
        market.completeTask(taskId, RESULT);

        assertTrue(hostile.attempted());
        assertEq(hostile.returned(), abi.encodeWithSelector(IPayouts.ReentrantCall.selector));
        assertEq(market.taskCount(), 1);
        assertEq(address(hostile).balance, ETH_PRICE + ETH_PRICE / 10);
        assertEq(provider.balance, ETH_PRICE - ETH_PRICE / 10);
    }

    function test_completeTask_blocksReentryFromTokenPayout() public {
        ReentrantToken hostile = new ReentrantToken(address(market));
        uint256 serviceId = _listAs(address(hostile), address(hostile), TOKEN_PRICE);
        hostile.mint(buyer, 2 * TOKEN_PRICE);
        vm.startPrank(buyer);
        hostile.approve(address(market), 2 * TOKEN_PRICE);
        uint256 first = market.buyCompute(serviceId, INPUT, TOKEN_PRICE, RUN_TIME);
        uint256 second = market.buyCompute(serviceId, INPUT, TOKEN_PRICE, RUN_TIME);
        vm.stopPrank();
        hostile.arm(abi.encodeCall(IComputeMarket.failTask, (second, "")));

        vm.prank(operator);
        market.completeTask(first, RESULT);

        assertEq(hostile.returned(), abi.encodeWithSelector(IPayouts.ReentrantCall.selector));
        assertEq(uint8(_status(second)), uint8(IComputeMarket.TaskStatus.Created));
        assertEq(hostile.balanceOf(address(market)), TOKEN_PRICE);
    }
}
