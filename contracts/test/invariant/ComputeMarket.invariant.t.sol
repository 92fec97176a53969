// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test, console} from "../utils/Test.sol";
import {ComputeMarket} from "../../src/ComputeMarket.sol";
import {MarketToken} from "../../src/MarketToken.sol";
import {IComputeMarket} from "../../src/interfaces/IComputeMarket.sol";
import {MarketHandler} from "./MarketHandler.sol";

/// @notice Solvency and exactly-once settlement, per asset (ETH, AMT, a failing token, a re-entering
/// token), over random action sequences with hostile tokens and actors (see {MarketHandler}).
contract ComputeMarketInvariantTest is Test {
    ComputeMarket internal market;
    MarketHandler internal handler;

    function setUp() public {
        address owner = makeAddr("owner");
        market = new ComputeMarket(owner);
        handler = new MarketHandler(market, owner, makeAddr("operator"));
        targetContract(address(handler));
    }

    /// @notice The market holds exactly the escrow of unfinished tasks plus what it owes, per asset;
    /// it never holds any of the fee-on-transfer token.
    function invariant_balanceIsEscrowPlusOwed() public view {
        for (uint256 a; a < 4; ++a) {
            address asset = handler.assetAt(a);
            _checkSolvency(asset, _balance(asset));
        }
        assertEq(handler.taxed().balanceOf(address(market)), 0, "a fee-on-transfer purchase went through");
    }

    /// @notice Nothing is created or lost: what was paid in is either still held or was paid out; and
    /// what was paid in is either still in escrow or was settled.
    function invariant_paidOutPlusBalanceIsPaidIn() public view {
        for (uint256 a; a < 4; ++a) {
            address asset = handler.assetAt(a);
            assertEq(handler.ghostPaidOut(asset) + _balance(asset), handler.ghostPaidIn(asset), "paid in");
            assertEq(
                handler.ghostSettledAmount(asset) + handler.openEscrow(asset),
                handler.ghostPaidIn(asset),
                "settled + escrow"
            );
        }
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

    /// @notice No hostile call got through: no fee-on-transfer purchase, no purchase at terms other than
    /// the stored ones, no call by an actor in the wrong role, no re-entry, and at the deadline exactly
    /// one of completion and refund.
    function invariant_hostileCallsAreRefused() public view {
        assertEq(handler.ghostTaxedAccepted(), 0, "fee-on-transfer purchase accepted");
        assertEq(handler.ghostStaleTermsAccepted(), 0, "purchase at changed terms accepted");
        assertEq(handler.ghostUnauthorizedAccepted(), 0, "call in the wrong role accepted");
        assertEq(handler.ghostReentriesAccepted(), 0, "re-entry accepted");
        assertEq(handler.ghostRacesNotExactlyOne(), 0, "deadline race not exactly one winner");
    }

    /// @notice Shows how much each run exercised (`forge test -vv`).
    function afterInvariant() public view {
        string[20] memory names = [
            "buy",
            "buyStale",
            "buyTaxed",
            "start",
            "complete",
            "fail",
            "claimRefund",
            "race",
            "settleAgain",
            "withdraw",
            "withdrawTo",
            "toggle",
            "toggleBlocked",
            "setFee",
            "setOperator",
            "list",
            "updateService",
            "delist",
            "refused",
            "warp"
        ];
        for (uint256 i; i < names.length; ++i) {
            console.log("%s: %d", names[i], handler.calls(bytes32(bytes(names[i]))));
        }
    }

    function _balance(address asset) internal view returns (uint256) {
        return asset == address(0) ? address(market).balance : MarketToken(asset).balanceOf(address(market));
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
