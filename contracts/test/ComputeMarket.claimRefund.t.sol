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

/// @notice `claimRefund` tests, on the shared fixture.
contract ComputeMarketClaimRefundTest is MarketFixture {
    function test_claimRefund_revertsAtDeadline() public {
        uint256 taskId = _buyEth();
        uint256 deadline = market.getTask(taskId).deadline;
        vm.warp(deadline);
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.DeadlineNotReached.selector, taskId, deadline, deadline));
        vm.prank(buyer);
        market.claimRefund(taskId);
    }

    function test_claimRefund_refundsAfterDeadline() public {
        uint256 taskId = _buyEth();
        vm.warp(market.getTask(taskId).deadline + 1);
        vm.expectEmit(address(market));
        emit IComputeMarket.TaskRefunded(taskId);
        vm.prank(buyer);
        market.claimRefund(taskId);
        assertEq(uint8(_status(taskId)), uint8(IComputeMarket.TaskStatus.Refunded));
        assertEq(buyer.balance, 100 ether);
        assertEq(address(market).balance, 0);
    }

    function test_claimRefund_refundsRunningTokenTask() public {
        uint256 taskId = _buyToken();
        vm.prank(operator);
        market.startTask(taskId);
        vm.warp(market.getTask(taskId).deadline + 1);
        vm.prank(buyer);
        market.claimRefund(taskId);
        assertEq(token.balanceOf(buyer), 1_000 ether);
    }

    function test_claimRefund_revertsForUnknownTask() public {
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.TaskNotFound.selector, 5));
        vm.prank(buyer);
        market.claimRefund(5);
    }

    function test_claimRefund_revertsForOtherCaller() public {
        uint256 taskId = _buyEth();
        vm.warp(market.getTask(taskId).deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.NotTaskUser.selector, taskId, operator));
        vm.prank(operator);
        market.claimRefund(taskId);
    }

    function test_claimRefund_revertsWhenCompleted() public {
        uint256 taskId = _buyEth();
        vm.prank(operator);
        market.completeTask(taskId, RESULT);
        vm.warp(market.getTask(taskId).deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IComputeMarket.InvalidTaskStatus.selector, taskId, IComputeMarket.TaskStatus.Completed
            )
        );
        vm.prank(buyer);
        market.claimRefund(taskId);
    }

    function test_claimRefund_revertsWhenAlreadyRefunded() public {
        uint256 taskId = _buyEth();
        vm.warp(market.getTask(taskId).deadline + 1);
        vm.startPrank(buyer);
        market.claimRefund(taskId);
        vm.expectRevert(
            abi.encodeWithSelector(
                IComputeMarket.InvalidTaskStatus.selector, taskId, IComputeMarket.TaskStatus.Refunded
            )
        );
        market.claimRefund(taskId);
        vm.stopPrank();
        assertEq(buyer.balance, 100 ether);
    }

    function testFuzz_claimRefund_onlyAfterDeadline(uint64 runTime, uint256 elapsed) public {
        runTime = uint64(bound(runTime, 1, market.MAX_RUN_TIME()));
        elapsed = bound(elapsed, 0, uint256(runTime) * 2 + 1 hours);
        vm.prank(provider);
        uint256 serviceId = market.listService(address(0), ETH_PRICE, runTime, METADATA);
        uint256 start = block.timestamp;
        vm.prank(buyer);
        uint256 taskId = market.buyCompute{value: ETH_PRICE}(serviceId, INPUT, ETH_PRICE, runTime);
        uint256 deadline = start + runTime + 10 minutes;
        assertEq(market.getTask(taskId).deadline, deadline);

        vm.warp(start + elapsed);
        if (block.timestamp <= deadline) {
            vm.expectRevert(
                abi.encodeWithSelector(IComputeMarket.DeadlineNotReached.selector, taskId, deadline, block.timestamp)
            );
        }
        vm.prank(buyer);
        market.claimRefund(taskId);
        if (block.timestamp > deadline) {
            assertEq(buyer.balance, 100 ether);
        } else {
            assertEq(buyer.balance, 100 ether - ETH_PRICE);
        }
    }
}
