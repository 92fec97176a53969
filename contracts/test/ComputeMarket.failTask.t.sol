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

/// @notice `failTask` tests, on the shared fixture.
contract ComputeMarketFailTaskTest is MarketFixture {
    function test_failTask_refundsBuyerAndEmitsFailedThenRefunded() public {
        uint256 taskId = _buyEth();
        vm.expectEmit(address(market));
        emit IComputeMarket.TaskFailed(taskId, "executor crashed");
        vm.expectEmit(address(market));
        emit IComputeMarket.TaskRefunded(taskId);
        vm.prank(operator);
        market.failTask(taskId, "executor crashed");

        assertEq(uint8(_status(taskId)), uint8(IComputeMarket.TaskStatus.Refunded));
        assertEq(buyer.balance, 100 ether);
        assertEq(address(market).balance, 0);
    }

    function test_failTask_fromRunningRefundsToken() public {
        uint256 taskId = _buyToken();
        vm.startPrank(provider);
        market.startTask(taskId);
        market.failTask(taskId, "out of memory");
        vm.stopPrank();
        assertEq(token.balanceOf(buyer), 1_000 ether);
        assertEq(token.balanceOf(address(market)), 0);
    }

    function test_failTask_refundsFullPriceDespiteFee() public {
        vm.prank(owner);
        market.setPlatformFee(1000, feeTo);
        uint256 taskId = _buyEth();
        vm.prank(operator);
        market.failTask(taskId, "");
        assertEq(buyer.balance, 100 ether);
        assertEq(feeTo.balance, 0);
    }

    function test_failTask_revertsForUnknownTask() public {
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.TaskNotFound.selector, 1));
        vm.prank(operator);
        market.failTask(1, "");
    }

    function test_failTask_revertsForUnauthorizedCaller() public {
        uint256 taskId = _buyEth();
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.NotAuthorized.selector, taskId, buyer));
        vm.prank(buyer);
        market.failTask(taskId, "");
    }

    function test_failTask_revertsWhenFinished() public {
        uint256 taskId = _buyEth();
        vm.startPrank(operator);
        market.completeTask(taskId, RESULT);
        vm.expectRevert(
            abi.encodeWithSelector(
                IComputeMarket.InvalidTaskStatus.selector, taskId, IComputeMarket.TaskStatus.Completed
            )
        );
        market.failTask(taskId, "");
        vm.stopPrank();
    }

    function test_failTask_defersRefundToRejectingBuyer() public {
        Receiver rejecting = new Receiver();
        rejecting.setAccepts(false);
        vm.deal(address(rejecting), ETH_PRICE);
        vm.prank(address(rejecting));
        uint256 taskId = market.buyCompute{value: ETH_PRICE}(ethService, INPUT, ETH_PRICE, RUN_TIME);

        vm.prank(operator);
        market.failTask(taskId, "");
        assertEq(uint8(_status(taskId)), uint8(IComputeMarket.TaskStatus.Refunded));
        assertEq(market.owed(address(rejecting), address(0)), ETH_PRICE);

        rejecting.setAccepts(true);
        vm.prank(address(rejecting));
        market.withdraw(address(0));
        assertEq(address(rejecting).balance, ETH_PRICE);
    }

    function test_failTask_blocksReentryIntoWithdraw() public {
        ReentrantReceiver hostile = new ReentrantReceiver(market);
        bytes memory buy = abi.encodeCall(IComputeMarket.buyCompute, (ethService, INPUT, ETH_PRICE, RUN_TIME));
        uint256 taskId = abi.decode(hostile.exec{value: ETH_PRICE}(address(market), ETH_PRICE, buy), (uint256));
        // When refunded, the buyer tries to withdraw from inside the refund push.
        hostile.arm(abi.encodeCall(IPayouts.withdraw, (address(0))), 0);

        vm.prank(operator);
        market.failTask(taskId, "");

        assertTrue(hostile.attempted());
        assertFalse(hostile.succeeded());
        assertEq(hostile.returned(), abi.encodeWithSelector(IPayouts.ReentrantCall.selector));
        assertEq(address(hostile).balance, ETH_PRICE);
        assertEq(market.owed(address(hostile), address(0)), 0);
        assertEq(address(market).balance, 0);
    }
}
