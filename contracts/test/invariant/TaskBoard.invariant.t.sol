// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test, console} from "../utils/Test.sol";
import {TaskBoard} from "../../src/TaskBoard.sol";
import {Communities} from "../../src/Communities.sol";
import {MarketToken} from "../../src/MarketToken.sol";
import {ITaskBoard} from "../../src/interfaces/ITaskBoard.sol";
import {ICommunities} from "../../src/interfaces/ICommunities.sol";
import {TaskBoardHandler} from "./TaskBoardHandler.sol";

/// @notice Escrow conserved per asset (ETH, AMT, a failing token, a re-entering token), every slot
/// settled once (paid, split or refunded), nothing refunded that holds a submission, disputes settled
/// once, and the points budget conserved, over random action sequences with hostile tokens and receivers
/// (see {TaskBoardHandler}).
contract TaskBoardInvariantTest is Test {
    TaskBoard internal board;
    Communities internal communities;
    TaskBoardHandler internal handler;

    function setUp() public {
        vm.warp(1_750_000_000);
        communities = new Communities();
        board = new TaskBoard(address(communities), makeAddr("platformArbiter"), 1 days);
        handler = new TaskBoardHandler(board, communities, makeAddr("platformArbiter"));
        targetContract(address(handler));
    }

    /// @notice The board holds exactly the unsettled slots of its open tasks plus what it owes.
    function invariant_balanceIsOpenEscrowPlusOwed() public view {
        uint256[4] memory held;
        uint256 tasks = handler.taskCount();
        for (uint256 i; i < tasks; ++i) {
            ITaskBoard.Task memory task = board.getTask(handler.taskIds(i));
            if (task.state != ITaskBoard.TaskState.Open) continue;
            held[_index(task.token)] += uint256(task.rewardPerSlot) * (task.slots - task.settled);
        }
        for (uint256 a; a < 4; ++a) {
            address asset = handler.assetAt(a);
            uint256 owed;
            uint256 participants = handler.PARTICIPANTS();
            for (uint256 i; i < participants; ++i) {
                owed += board.owed(handler.participants(i), asset);
            }
            assertEq(_balance(asset), held[a] + owed, "balance != open escrow + owed");
        }
    }

    /// @notice Nothing is created or lost: everything paid in is either still held or was paid out.
    function invariant_paidOutPlusBalanceIsPaidIn() public view {
        for (uint256 a; a < 4; ++a) {
            address asset = handler.assetAt(a);
            assertEq(handler.ghostPaidOut(asset) + _balance(asset), handler.ghostPaidIn(asset), "in != out + held");
        }
    }

    /// @notice Each worker's slot is paid at most once and each dispute settles once; every settled slot
    /// was either a worker's settlement or a refund, and the counters never exceed the slots.
    function invariant_everySlotSettlesOnce() public view {
        uint256 tasks = handler.taskCount();
        uint256 workers = handler.WORKERS();
        for (uint256 i; i < tasks; ++i) {
            uint256 taskId = handler.taskIds(i);
            ITaskBoard.Task memory task = board.getTask(taskId);
            uint256 settlements;
            for (uint256 w; w < workers; ++w) {
                address worker = handler.workers(w);
                assertLe(handler.ghostSettlements(taskId, worker), 1, "a slot paid twice");
                assertLe(handler.ghostResolutions(taskId, worker), 1, "a dispute settled twice");
                settlements += handler.ghostSettlements(taskId, worker);
            }
            assertEq(settlements + handler.ghostRefundedSlots(taskId), task.settled, "settled != paid + refunded");
            assertLe(uint256(task.working) + task.active + task.settled, task.slots, "counters beyond the slots");
        }
    }

    /// @notice Points: the board's reservation is the points of the unsettled slots of its open tasks,
    /// and what it may still reserve, has reserved and has minted adds up to the budget it was given.
    function invariant_pointsBudgetConserved() public view {
        uint256 expected;
        uint256 tasks = handler.taskCount();
        for (uint256 i; i < tasks; ++i) {
            ITaskBoard.Task memory task = board.getTask(handler.taskIds(i));
            if (task.state == ITaskBoard.TaskState.Open) {
                expected += uint256(task.points) * (task.slots - task.settled);
            }
        }
        ICommunities.MintBudget memory budget = communities.mintBudget(handler.guild(), address(board));
        assertEq(budget.reserved, expected, "reservation != promised points");
        uint256 minted = MarketToken(communities.pointsOf(handler.guild())).totalSupply();
        assertEq(uint256(budget.allowance) + budget.reserved + minted, handler.BUDGET(), "points budget leaked");
    }

    /// @notice No hostile call got through, every payout reached its receiver in full, and no cancellation
    /// or refund took back a slot that held a submission.
    function invariant_hostileCallsAreRefused() public view {
        assertEq(handler.ghostTaxedAccepted(), 0, "fee-on-transfer reward accepted");
        assertEq(handler.ghostReentriesAccepted(), 0, "re-entry accepted");
        assertEq(handler.ghostMispaid(), 0, "a payout that did not reach its receiver in full");
        assertEq(handler.ghostSubmittedSlotRefunded(), 0, "a task with a submission cancelled");
    }

    /// @notice Shows how much each run exercised (`forge test -vv`).
    function afterInvariant() public view {
        string[17] memory names = [
            "publish",
            "publishTaxed",
            "extend",
            "accept",
            "submit",
            "approve",
            "reject",
            "approveLapsed",
            "dispute",
            "resolve",
            "remove",
            "closeRejected",
            "cancel",
            "refund",
            "withdraw",
            "warp",
            "refused"
        ];
        for (uint256 i; i < names.length; ++i) {
            console.log("%s: %d", names[i], handler.calls(bytes32(bytes(names[i]))));
        }
    }

    function _index(address asset) internal view returns (uint256) {
        for (uint256 a; a < 4; ++a) {
            if (handler.assetAt(a) == asset) return a;
        }
        revert("unknown asset");
    }

    function _balance(address asset) internal view returns (uint256) {
        return asset == address(0) ? address(board).balance : MarketToken(asset).balanceOf(address(board));
    }
}
