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

/// @notice `startTask` tests, on the shared fixture.
contract ComputeMarketStartTaskTest is MarketFixture {
    function test_startTask_byProviderSetsRunning() public {
        uint256 taskId = _buyEth();
        vm.expectEmit(address(market));
        emit IComputeMarket.TaskStarted(taskId);
        vm.prank(provider);
        market.startTask(taskId);
        assertEq(uint8(_status(taskId)), uint8(IComputeMarket.TaskStatus.Running));
        // Nothing else in the task changes.
        assertEq(market.getTask(taskId).user, buyer);
        assertEq(market.getTask(taskId).amount, ETH_PRICE);
    }

    function test_startTask_byOperatorSetsRunning() public {
        uint256 taskId = _buyEth();
        vm.prank(operator);
        market.startTask(taskId);
        assertEq(uint8(_status(taskId)), uint8(IComputeMarket.TaskStatus.Running));
    }

    function test_startTask_revertsForUnknownTask() public {
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.TaskNotFound.selector, 1));
        vm.prank(operator);
        market.startTask(1);
    }

    function test_startTask_revertsForUnauthorizedCaller() public {
        uint256 taskId = _buyEth();
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.NotAuthorized.selector, taskId, buyer));
        vm.prank(buyer);
        market.startTask(taskId);
    }

    function test_startTask_revertsWhenAlreadyRunning() public {
        uint256 taskId = _buyEth();
        vm.startPrank(operator);
        market.startTask(taskId);
        vm.expectRevert(
            abi.encodeWithSelector(IComputeMarket.InvalidTaskStatus.selector, taskId, IComputeMarket.TaskStatus.Running)
        );
        market.startTask(taskId);
        vm.stopPrank();
    }

    function test_startTask_revertsWhenFinished() public {
        uint256 taskId = _buyEth();
        vm.startPrank(operator);
        market.completeTask(taskId, RESULT);
        vm.expectRevert(
            abi.encodeWithSelector(
                IComputeMarket.InvalidTaskStatus.selector, taskId, IComputeMarket.TaskStatus.Completed
            )
        );
        market.startTask(taskId);
        vm.stopPrank();
    }
}
