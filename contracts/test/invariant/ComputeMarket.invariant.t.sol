// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test, console} from "../utils/Test.sol";
import {ComputeMarket} from "../../src/ComputeMarket.sol";
import {MarketToken} from "../../src/MarketToken.sol";
import {IComputeMarket} from "../../src/interfaces/IComputeMarket.sol";
import {MarketHandler} from "./MarketHandler.sol";

/// @notice Solvency and exactly-once settlement, per asset (ETH and AMT), over random action sequences.
contract ComputeMarketInvariantTest is Test {
    ComputeMarket internal market;
    MarketToken internal token;
    MarketHandler internal handler;

    function setUp() public {
        address owner = makeAddr("owner");
        address operator = makeAddr("operator");
        market = new ComputeMarket(owner);
        vm.prank(owner);
        market.setOperator(operator, true);
        handler = new MarketHandler(market, owner, operator);
        token = handler.token();
        targetContract(address(handler));
    }

    /// @notice The market holds exactly the escrow of unfinished tasks plus what it owes.
    function invariant_balanceIsEscrowPlusOwed() public view {
        _checkSolvency(address(0), address(market).balance);
        _checkSolvency(address(token), token.balanceOf(address(market)));
    }

    /// @notice Nothing is created or lost: what was paid in is either still held or was paid out.
    function invariant_paidOutPlusBalanceIsPaidIn() public view {
        assertEq(handler.ghostPaidOut(address(0)) + address(market).balance, handler.ghostPaidIn(address(0)));
        assertEq(
            handler.ghostPaidOut(address(token)) + token.balanceOf(address(market)), handler.ghostPaidIn(address(token))
        );
    }

    /// @notice Each task is settled at most once, either completed or refunded, and its status says which.
    function invariant_eachTaskSettlesOnce() public view {
        uint256 count = handler.taskCount();
        assertEq(count, market.taskCount());
        for (uint256 i; i < count; ++i) {
            uint256 taskId = handler.tasks(i);
            uint256 settlements = handler.ghostSettlements(taskId);
            bool completed = handler.ghostCompleted(taskId);
            bool refunded = handler.ghostRefunded(taskId);
            assertLe(settlements, 1, "settled twice");
            assertFalse(completed && refunded, "completed and refunded");
            IComputeMarket.TaskStatus status = market.getTask(taskId).status;
            assertEq(status == IComputeMarket.TaskStatus.Completed, completed);
            assertEq(status == IComputeMarket.TaskStatus.Refunded, refunded);
            assertEq(status > IComputeMarket.TaskStatus.Running, settlements == 1);
        }
    }

    /// @notice Shows how much each run exercised (`forge test -vv`).
    function afterInvariant() public view {
        string[11] memory names = [
            "buy",
            "start",
            "complete",
            "fail",
            "claimRefund",
            "settleAgain",
            "withdraw",
            "toggle",
            "setFee",
            "updatePrice",
            "warp"
        ];
        for (uint256 i; i < names.length; ++i) {
            console.log("%s: %d", names[i], handler.calls(bytes32(bytes(names[i]))));
        }
    }

    function _checkSolvency(address asset, uint256 balance) internal view {
        uint256 escrow;
        uint256 count = handler.taskCount();
        for (uint256 i; i < count; ++i) {
            IComputeMarket.Task memory task = market.getTask(handler.tasks(i));
            if (task.token == asset && task.status <= IComputeMarket.TaskStatus.Running) escrow += task.amount;
        }
        uint256 owed;
        uint256 participants = handler.participantCount();
        for (uint256 i; i < participants; ++i) {
            owed += market.owed(handler.participants(i), asset);
        }
        assertEq(balance, escrow + owed, "balance != escrow + owed");
    }
}
