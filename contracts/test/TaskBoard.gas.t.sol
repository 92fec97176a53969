// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ITaskBoard} from "../src/interfaces/ITaskBoard.sol";
import {TaskFixture} from "./utils/TaskFixture.sol";
import {GasMeter} from "./utils/GasMeter.sol";

/// @notice What each party pays per transaction: 21,000 + calldata + execution - refund, every account
/// and slot cold (one fresh transaction per test). Publisher and workers already hold AMT and the board
/// holds other tasks' AMT, so no token balance goes from or to zero. The budgets hold each transaction to
/// what it costs today (about 1,000 gas of slack); `docs/task-board-contract.md` lists the figures, and
/// `script/measure-task-gas.sh` measures the same transactions from anvil receipts.
contract TaskBoardGasTest is TaskFixture, GasMeter {
    uint256 internal constant PUBLISH_TOKEN_BUDGET = 136_000;
    uint256 internal constant PUBLISH_ETH_BUDGET = 112_500;
    uint256 internal constant PUBLISH_POINTS_BUDGET = 178_500;
    uint256 internal constant ACCEPT_BUDGET = 59_000;
    uint256 internal constant SUBMIT_BUDGET = 44_500;
    uint256 internal constant APPROVE_BUDGET = 60_000;
    uint256 internal constant APPROVE_POINTS_BUDGET = 94_000;

    uint256 internal openTask;
    uint256 internal acceptedTask;
    uint256 internal submittedTask;
    uint256 internal guildTask;
    uint96 internal perSlot;
    uint40 internal deadline;

    function setUp() public override {
        super.setUp();
        vm.prank(publisher);
        token.approve(address(board), 500_000 ether);
        openTask = _publishToken();
        acceptedTask = _publishToken();
        _accept(acceptedTask, alice);
        submittedTask = _publishToken();
        _deliver(submittedTask, alice);
        guildTask = _publishGuild();
        _deliver(guildTask, alice);
        // Alice already holds points, as a member who earned some would.
        vm.prank(guildOwner);
        communities.mint(guild, alice, 5, "welcome");
        perSlot = TOKEN_REWARD / SLOTS;
        deadline = _task(openTask).deadline;
    }

    function test_gas_publish_token() public {
        ITaskBoard.TaskParams memory p = _params(address(token), TOKEN_REWARD);
        vm.prank(publisher);
        board.publish(p);
        _checkBudget("publish AMT, 3 slots", abi.encodeCall(board.publish, (p)), PUBLISH_TOKEN_BUDGET);
    }

    function test_gas_publish_eth() public {
        ITaskBoard.TaskParams memory p = _params(address(0), ETH_REWARD);
        vm.prank(publisher);
        board.publish{value: ETH_REWARD}(p);
        _checkBudget("publish ETH, 3 slots", abi.encodeCall(board.publish, (p)), PUBLISH_ETH_BUDGET);
    }

    function test_gas_publish_points() public {
        ITaskBoard.TaskParams memory p = _params(address(token), TOKEN_REWARD);
        p.communityId = guild;
        p.points = POINTS;
        vm.prank(publisher);
        board.publish(p);
        _checkBudget("publish AMT with points", abi.encodeCall(board.publish, (p)), PUBLISH_POINTS_BUDGET);
    }

    function test_gas_accept() public {
        vm.prank(bob);
        board.accept(openTask, perSlot, deadline);
        _checkBudget("accept", abi.encodeCall(board.accept, (openTask, perSlot, deadline)), ACCEPT_BUDGET);
    }

    function test_gas_submit() public {
        vm.prank(alice);
        board.submit(acceptedTask, WORK);
        _checkBudget("submit (a 36-byte CID)", abi.encodeCall(board.submit, (acceptedTask, WORK)), SUBMIT_BUDGET);
    }

    function test_gas_approve() public {
        vm.prank(publisher);
        board.approve(submittedTask, alice);
        _checkBudget("approve AMT", abi.encodeCall(board.approve, (submittedTask, alice)), APPROVE_BUDGET);
    }

    function test_gas_approve_points() public {
        vm.prank(publisher);
        board.approve(guildTask, alice);
        _checkBudget(
            "approve AMT with points", abi.encodeCall(board.approve, (guildTask, alice)), APPROVE_POINTS_BUDGET
        );
    }
}
