// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../utils/Test.sol";
import {TaskBoard} from "../../src/TaskBoard.sol";
import {Communities} from "../../src/Communities.sol";
import {MarketToken} from "../../src/MarketToken.sol";
import {ITaskBoard} from "../../src/interfaces/ITaskBoard.sol";
import {IPayouts} from "../../src/interfaces/IPayouts.sol";
import {FaultyToken, FeeOnTransferToken, Receiver, ReentrantToken} from "../utils/Mocks.sol";

/// @notice Drives the task board through random sequences: tasks from an EOA publisher (an admin of the
/// guild, promising points) and a contract publisher that can start rejecting ETH, with rewards in ETH,
/// AMT, a token that fails transfers to accounts it blocks and a token that re-enters on every transfer;
/// workers (two EOAs and a contract that can start rejecting ETH) accepting, submitting, revising and
/// disputing; approvals, rejections, lapsed approvals, the arbiters' pay/refund/split, unanswered
/// rejections closed, silent workers removed, cancellations (also after submissions: refused), refunds
/// after the deadline, deadline extensions, owed withdrawals and time jumps. Every call's outcome is
/// predicted from the state before it and checked, and every payout's receiver is checked to get exactly
/// its part; ghost variables record what went in and out per asset and how each slot settled.
contract TaskBoardHandler is Test {
    uint256 internal constant MAX_TASKS = 10;
    uint256 internal constant MAX_PER_SLOT = 100 ether;
    uint128 public constant BUDGET = 10_000;
    uint256 public constant WORKERS = 3; // workers.length
    uint256 public constant PARTICIPANTS = 5; // participants.length

    TaskBoard public immutable board;
    Communities public immutable communities;
    MarketToken public immutable token;
    FaultyToken public immutable faulty;
    ReentrantToken public immutable reentrant;
    FeeOnTransferToken public immutable taxed;
    Receiver public immutable contractPublisher;
    Receiver public immutable contractWorker;
    address public immutable platformArbiter;
    address public immutable guildArbiter;
    uint64 public immutable guild;
    uint64 public immutable answerWindow;

    address[] internal publishers;
    address[] public workers;
    /// @notice Everyone who can receive money from the board.
    address[] public participants;
    uint256[] public taskIds;

    // ghost state, per asset (address(0) = ETH)
    mapping(address asset => uint256) public ghostPaidIn;
    mapping(address asset => uint256) public ghostPaidOut;
    // ghost state, per task and slot
    mapping(uint256 taskId => mapping(address worker => uint256)) public ghostSettlements;
    mapping(uint256 taskId => mapping(address worker => uint256)) public ghostResolutions;
    mapping(uint256 taskId => uint256) public ghostRefundedSlots;
    // ghost state, for what must never happen: each stays zero
    uint256 public ghostTaxedAccepted;
    uint256 public ghostReentriesAccepted;
    uint256 public ghostMispaid;
    uint256 public ghostSubmittedSlotRefunded;

    mapping(bytes32 => uint256) public calls;

    constructor(TaskBoard board_, Communities communities_, address platformArbiter_) {
        board = board_;
        communities = communities_;
        platformArbiter = platformArbiter_;
        answerWindow = board_.ANSWER_WINDOW();
        token = new MarketToken(); // the handler mints
        faulty = new FaultyToken();
        reentrant = new ReentrantToken(address(board_));
        taxed = new FeeOnTransferToken(100);
        contractPublisher = new Receiver();
        contractWorker = new Receiver();
        guildArbiter = makeAddr("guildArbiter");
        publishers = [makeAddr("publisher"), address(contractPublisher)];
        workers = [makeAddr("workerA"), makeAddr("workerB"), address(contractWorker)];
        participants = [publishers[0], publishers[1], workers[0], workers[1], workers[2]];
        (uint256 id,) = communities_.createCommunity("Guild", "GLD", "", guildArbiter);
        guild = uint64(id);
        communities_.addAdmin(id, publishers[0]);
        communities_.setMinterAllowance(id, address(board_), BUDGET);
        for (uint256 i; i < publishers.length; ++i) {
            vm.startPrank(publishers[i]);
            token.approve(address(board_), type(uint256).max);
            faulty.approve(address(board_), type(uint256).max);
            reentrant.approve(address(board_), type(uint256).max);
            taxed.approve(address(board_), type(uint256).max);
            vm.stopPrank();
        }
    }

    // ------------------------------------------------------------ publisher

    function publish(
        uint256 publisherSeed,
        uint8 assetSeed,
        uint256 perSlot,
        uint256 slots,
        uint256 points,
        uint256 deadlineIn,
        uint256 review,
        uint256 timeout,
        uint256 revisions
    ) public {
        if (taskIds.length >= MAX_TASKS) return;
        ITaskBoard.TaskParams memory p;
        p.token = _asset(assetSeed);
        p.slots = uint16(bound(slots, 1, 3));
        p.reward = uint96(bound(perSlot, 1, MAX_PER_SLOT) * p.slots);
        p.deadline = uint40(block.timestamp + bound(deadlineIn, 1 days, 20 days));
        p.reviewWindow = uint32(bound(review, 1 hours, 2 days));
        p.workTimeout = uint32(bound(timeout, 1 hours, 2 days));
        p.maxRevisions = uint8(bound(revisions, 0, 2));
        p.spec = "ipfs://spec";
        address publisher = publishers[publisherSeed % publishers.length];
        if (publisherSeed & 2 == 0) p.communityId = guild;
        if (publisher == publishers[0] && p.communityId != 0) p.points = uint96(bound(points, 0, 20));
        uint256 value = _fund(publisher, p.token, p.reward);
        (, bytes memory ret) = _run(p.token, publisher, value, abi.encodeCall(ITaskBoard.publish, (p)), p.reward, true);
        taskIds.push(abi.decode(ret, (uint256)));
        ghostPaidIn[p.token] += p.reward;
        ++calls["publish"];
    }

    /// @notice A publisher tries to escrow a reward in the fee-on-transfer token: it must be refused.
    function publishTaxed(uint256 reward) external {
        reward = bound(reward, 100, MAX_PER_SLOT);
        taxed.mint(publishers[0], reward);
        ITaskBoard.TaskParams memory p;
        (p.token, p.reward, p.slots, p.reviewWindow, p.workTimeout) = (address(taxed), uint96(reward), 1, 1, 1);
        p.deadline = uint40(block.timestamp + 1 hours);
        p.spec = "x";
        vm.prank(publishers[0]);
        (bool ok, bytes memory ret) = address(board).call(abi.encodeCall(ITaskBoard.publish, (p)));
        if (ok) {
            ++ghostTaxedAccepted;
        } else {
            assertEq(
                ret, abi.encodeWithSelector(IPayouts.AmountNotReceived.selector, p.token, reward, reward - reward / 100)
            );
        }
        ++calls["publishTaxed"];
    }

    function extendDeadline(uint256 taskSeed, uint256 by) external {
        (uint256 taskId, ITaskBoard.Task memory task) = _pick(taskSeed);
        uint40 deadline = uint40(task.deadline + bound(by, 1, 2 days));
        bool expectOk = _open(task) && block.timestamp < task.deadline;
        _expect(
            _call(task.publisher, abi.encodeCall(ITaskBoard.extendDeadline, (taskId, deadline))), expectOk, "extend"
        );
    }

    function approve(uint256 taskSeed, uint256 who) public {
        (uint256 taskId, ITaskBoard.Task memory task) = _pick(taskSeed);
        address worker = workers[who % workers.length];
        bool expectOk = _open(task) && _state(taskId, worker) == ITaskBoard.ClaimState.Submitted;
        bytes memory data = abi.encodeCall(ITaskBoard.approve, (taskId, worker));
        _settle(taskId, task, worker, task.publisher, data, expectOk, 10_000, "approve");
    }

    function reject(uint256 taskSeed, uint256 who) public {
        (uint256 taskId, ITaskBoard.Task memory task) = _pick(taskSeed);
        address worker = workers[who % workers.length];
        ITaskBoard.Claim memory claim = board.getClaim(taskId, worker);
        bool expectOk = _open(task) && claim.state == ITaskBoard.ClaimState.Submitted
            && block.timestamp < uint256(claim.since) + task.reviewWindow;
        _expect(_call(task.publisher, abi.encodeCall(ITaskBoard.reject, (taskId, worker, "no"))), expectOk, "reject");
    }

    function removeWorker(uint256 taskSeed, uint256 who) external {
        (uint256 taskId, ITaskBoard.Task memory task) = _pick(taskSeed);
        address worker = workers[who % workers.length];
        ITaskBoard.Claim memory claim = board.getClaim(taskId, worker);
        bool expectOk = _open(task) && claim.state == ITaskBoard.ClaimState.Working && block.timestamp < task.deadline
            && block.timestamp >= uint256(claim.acceptedAt) + task.workTimeout;
        _expect(_call(task.publisher, abi.encodeCall(ITaskBoard.removeWorker, (taskId, worker))), expectOk, "remove");
    }

    function cancel(uint256 taskSeed) external {
        (uint256 taskId, ITaskBoard.Task memory task) = _pick(taskSeed);
        bool expectOk = _open(task) && !task.submitted;
        uint256 count = task.slots - task.settled;
        _refundCall(taskId, task, abi.encodeCall(ITaskBoard.cancel, (taskId)), expectOk, count);
    }

    // ------------------------------------------------------------ worker

    function accept(uint256 taskSeed, uint256 who) public {
        (uint256 taskId, ITaskBoard.Task memory task) = _pick(taskSeed);
        address worker = workers[who % workers.length];
        bool expectOk = _open(task) && block.timestamp < task.deadline
            && _state(taskId, worker) == ITaskBoard.ClaimState.None && _free(taskId, task) > 0;
        bytes memory data = abi.encodeCall(ITaskBoard.accept, (taskId, task.rewardPerSlot, task.deadline));
        _expect(_call(worker, data), expectOk, "accept");
    }

    function submit(uint256 taskSeed, uint256 who) public {
        (uint256 taskId, ITaskBoard.Task memory task) = _pick(taskSeed);
        address worker = workers[who % workers.length];
        ITaskBoard.Claim memory claim = board.getClaim(taskId, worker);
        bool expectOk = _open(task)
            && ((claim.state == ITaskBoard.ClaimState.Working && block.timestamp < task.deadline)
                || (claim.state == ITaskBoard.ClaimState.Rejected
                    && block.timestamp < uint256(claim.since) + answerWindow
                    && claim.revisions < task.maxRevisions));
        _expect(_call(worker, abi.encodeCall(ITaskBoard.submit, (taskId, "bafkwork"))), expectOk, "submit");
    }

    function openDispute(uint256 taskSeed, uint256 who) public {
        (uint256 taskId, ITaskBoard.Task memory task) = _pick(taskSeed);
        address worker = workers[who % workers.length];
        ITaskBoard.Claim memory claim = board.getClaim(taskId, worker);
        bool expectOk = _open(task) && claim.state == ITaskBoard.ClaimState.Rejected
            && block.timestamp < uint256(claim.since) + answerWindow;
        _expect(_call(worker, abi.encodeCall(ITaskBoard.openDispute, (taskId, "unfair"))), expectOk, "dispute");
    }

    // ------------------------------------------------------------ anyone and arbiters

    function approveLapsed(uint256 taskSeed, uint256 who) public {
        (uint256 taskId, ITaskBoard.Task memory task) = _pick(taskSeed);
        address worker = workers[who % workers.length];
        ITaskBoard.Claim memory claim = board.getClaim(taskId, worker);
        bool expectOk = _open(task) && claim.state == ITaskBoard.ClaimState.Submitted
            && block.timestamp >= uint256(claim.since) + task.reviewWindow;
        bytes memory data = abi.encodeCall(ITaskBoard.approveLapsed, (taskId, worker));
        _settle(
            taskId,
            task,
            worker,
            workers[(who % workers.length + 1) % workers.length],
            data,
            expectOk,
            10_000,
            "approveLapsed"
        );
    }

    function resolve(uint256 taskSeed, uint256 who, uint256 bps, bool byStranger) public {
        (uint256 taskId, ITaskBoard.Task memory task) = _pick(taskSeed);
        address worker = workers[who % workers.length];
        bps = bound(bps, 0, 10_000);
        bool expectOk = _open(task) && _state(taskId, worker) == ITaskBoard.ClaimState.Disputed && !byStranger;
        bytes memory data = abi.encodeCall(ITaskBoard.resolveDispute, (taskId, worker, uint16(bps)));
        _settle(taskId, task, worker, byStranger ? task.publisher : task.arbiter, data, expectOk, bps, "resolve");
        if (expectOk) ++ghostResolutions[taskId][worker];
    }

    function closeRejected(uint256 taskSeed, uint256 who) public {
        (uint256 taskId, ITaskBoard.Task memory task) = _pick(taskSeed);
        address worker = workers[who % workers.length];
        ITaskBoard.Claim memory claim = board.getClaim(taskId, worker);
        bool expectOk = _open(task) && claim.state == ITaskBoard.ClaimState.Rejected
            && block.timestamp >= uint256(claim.since) + answerWindow;
        uint256 count = block.timestamp >= task.deadline ? 1 : 0;
        bytes memory data = abi.encodeCall(ITaskBoard.closeRejected, (taskId, worker));
        _refundCall(taskId, task, data, expectOk, count);
    }

    function refund(uint256 taskSeed) external {
        (uint256 taskId, ITaskBoard.Task memory task) = _pick(taskSeed);
        // Counted from the claims, not from the board's counters: every slot that is neither settled nor
        // holding a submission.
        uint256 holding;
        for (uint256 i; i < workers.length; ++i) {
            ITaskBoard.ClaimState s = _state(taskId, workers[i]);
            if (s >= ITaskBoard.ClaimState.Submitted && s <= ITaskBoard.ClaimState.Disputed) ++holding;
        }
        uint256 count = task.slots - task.settled - holding;
        bool expectOk = _open(task) && block.timestamp >= task.deadline && count > 0;
        _refundCall(taskId, task, abi.encodeCall(ITaskBoard.refund, (taskId)), expectOk, count);
    }

    /// @notice An account takes what it is owed (it may still be unable to receive it).
    function withdraw(uint256 who, uint8 assetSeed) external {
        address asset = _asset(assetSeed);
        _run(asset, participants[who % participants.length], 0, abi.encodeCall(IPayouts.withdraw, (asset)), 0, false);
        ++calls["withdraw"];
    }

    /// @notice Moves one worker's slot one step along (accept, submit, a decision, a revision or a
    /// dispute, the arbiter), so that runs reach the later states often.
    function advance(uint256 taskSeed, uint256 who, uint256 choice) external {
        _step(taskSeed | 1, who, choice);
        _step(taskSeed | 1, who, choice >> 1);
        _step(taskSeed | 1, who, choice >> 2);
        ++calls["advance"];
    }

    /// @dev One step for the first worker (from `who` on) that has one on the picked task; when none has,
    /// a new task is published.
    function _step(uint256 taskSeed, uint256 who, uint256 choice) internal {
        (uint256 taskId, ITaskBoard.Task memory task) = _pick(taskSeed);
        bool beforeDeadline = block.timestamp < task.deadline;
        for (uint256 k; k < workers.length && _open(task); ++k) {
            uint256 w = (who % workers.length + k) % workers.length;
            ITaskBoard.Claim memory claim = board.getClaim(taskId, workers[w]);
            ITaskBoard.ClaimState s = claim.state;
            if (s == ITaskBoard.ClaimState.None && _free(taskId, task) != 0) return accept(taskSeed, w);
            if (s == ITaskBoard.ClaimState.Working && beforeDeadline) return submit(taskSeed, w);
            if (s == ITaskBoard.ClaimState.Submitted) {
                if (block.timestamp >= uint256(claim.since) + task.reviewWindow) return approveLapsed(taskSeed, w);
                return choice % 3 == 0 ? reject(taskSeed, w) : approve(taskSeed, w);
            }
            if (s == ITaskBoard.ClaimState.Rejected) {
                if (block.timestamp >= uint256(claim.since) + answerWindow) return closeRejected(taskSeed, w);
                return
                    claim.revisions < task.maxRevisions && choice % 2 == 0
                        ? submit(taskSeed, w)
                        : openDispute(taskSeed, w);
            }
            if (s == ITaskBoard.ClaimState.Disputed) return resolve(taskSeed, w, choice, false);
        }
        publish(choice, uint8(choice >> 8), choice >> 16, choice >> 24, choice >> 32, 0, choice >> 40, choice >> 48, 2);
    }

    // ------------------------------------------------------------ environment

    function toggleRejecting(bool worker) external {
        Receiver account = worker ? contractWorker : contractPublisher;
        account.setAccepts(!account.accepts());
        ++calls["toggleRejecting"];
    }

    function toggleBlocked(uint256 who) external {
        address account = participants[who % participants.length];
        faulty.setBlocked(account, !faulty.blocked(account));
        ++calls["toggleBlocked"];
    }

    function warp(uint256 seconds_) external {
        // Mostly hours, sometimes past windows and deadlines.
        uint256 step = seconds_ % 8 == 0 ? bound(seconds_ >> 3, 1 days, 4 days) : bound(seconds_, 0, 6 hours);
        vm.warp(block.timestamp + step);
        ++calls["warp"];
    }

    // ------------------------------------------------------------ views for the invariants

    function taskCount() external view returns (uint256) {
        return taskIds.length;
    }

    function assetAt(uint256 i) external view returns (address) {
        return _asset(i);
    }

    // ------------------------------------------------------------ internal

    /// @dev A call that settles `worker`'s slot, giving it `bps` of the slot and the publisher the rest:
    /// checks both receive exactly that and books the settlement.
    function _settle(
        uint256 taskId,
        ITaskBoard.Task memory task,
        address worker,
        address caller,
        bytes memory data,
        bool expectOk,
        uint256 bps,
        string memory label
    ) internal {
        uint256 toWorker = uint256(task.rewardPerSlot) * bps / 10_000;
        uint256 workerBefore = _holding(worker, task.token);
        uint256 publisherBefore = _holding(task.publisher, task.token);
        (bool ok,) = _run(task.token, caller, 0, data, 0, false);
        _expect(ok, expectOk, label);
        if (!ok) return;
        if (_holding(worker, task.token) != workerBefore + toWorker) ++ghostMispaid;
        if (_holding(task.publisher, task.token) != publisherBefore + task.rewardPerSlot - toWorker) ++ghostMispaid;
        ++ghostSettlements[taskId][worker];
    }

    /// @dev A call (by the publisher for `cancel`, else by a worker) that refunds `count` slots to the
    /// publisher: checks it gets exactly that and books them.
    function _refundCall(uint256 taskId, ITaskBoard.Task memory task, bytes memory data, bool expectOk, uint256 count)
        internal
        returns (bool ok)
    {
        uint256 before = _holding(task.publisher, task.token);
        bool cancelling = bytes4(data) == ITaskBoard.cancel.selector;
        (ok,) = _run(task.token, cancelling ? task.publisher : workers[0], 0, data, 0, false);
        _expect(
            ok,
            expectOk,
            cancelling ? "cancel" : bytes4(data) == ITaskBoard.refund.selector ? "refund" : "closeRejected"
        );
        if (!ok) return false;
        if (_holding(task.publisher, task.token) != before + count * task.rewardPerSlot) ++ghostMispaid;
        ghostRefundedSlots[taskId] += count;
        if (cancelling && task.submitted) ++ghostSubmittedSlotRefunded;
    }

    /// @dev Runs `data` as `caller` with `value` and books what left the board for the participants'
    /// wallets in `asset` (their balances' change plus what the call took from them, `pulled`, when it
    /// succeeds). Reverts with the call's error when `mustSucceed`.
    function _run(address asset, address caller, uint256 value, bytes memory data, uint256 pulled, bool mustSucceed)
        internal
        returns (bool ok, bytes memory ret)
    {
        uint256 before = _participantBalances(asset);
        if (asset == address(reentrant)) reentrant.arm(abi.encodeCall(IPayouts.withdraw, (address(reentrant))));
        vm.prank(caller);
        (ok, ret) = address(board).call{value: value}(data);
        if (asset == address(reentrant) && reentrant.attempted()) {
            if (reentrant.succeeded()) ++ghostReentriesAccepted;
            else assertEq(reentrant.returned(), abi.encodeWithSelector(IPayouts.ReentrantCall.selector));
        }
        reentrant.arm("");
        if (!ok) {
            if (mustSucceed) {
                assembly ("memory-safe") {
                    revert(add(ret, 0x20), mload(ret))
                }
            }
            return (false, ret);
        }
        ghostPaidOut[asset] += _participantBalances(asset) + pulled - before;
    }

    function _call(address caller, bytes memory data) internal returns (bool ok) {
        vm.prank(caller);
        (ok,) = address(board).call(data);
    }

    /// @dev The call went as predicted; counts it under `label` when it went through, else as refused.
    function _expect(bool ok, bool expectOk, string memory label) internal {
        assertEq(ok, expectOk);
        ++calls[ok ? bytes32(bytes(label)) : bytes32("refused")];
    }

    /// @dev A task (published first if none): three times in four an open one, searched from where the seed
    /// points, if any; else any task (the action is then mostly refused, which is checked too).
    function _pick(uint256 seed) internal returns (uint256 taskId, ITaskBoard.Task memory task) {
        if (taskIds.length == 0) {
            publish(seed, uint8(seed >> 8), seed >> 16, seed >> 24, seed >> 32, seed >> 40, seed >> 48, seed >> 56, 1);
        }
        uint256 count = taskIds.length;
        if (seed % 4 != 0) {
            for (uint256 k; k < count; ++k) {
                taskId = taskIds[(seed / 4 + k) % count];
                task = board.getTask(taskId);
                if (_open(task)) return (taskId, task);
            }
        }
        taskId = taskIds[seed % count];
        task = board.getTask(taskId);
    }

    function _open(ITaskBoard.Task memory task) internal pure returns (bool) {
        return task.state == ITaskBoard.TaskState.Open;
    }

    function _state(uint256 taskId, address worker) internal view returns (ITaskBoard.ClaimState) {
        return board.getClaim(taskId, worker).state;
    }

    /// @dev Free slots before the deadline, counted from the claims: the slots neither settled nor held by
    /// a worker. (After it, `refund` settles the slots of workers who never submitted.)
    function _free(uint256 taskId, ITaskBoard.Task memory task) internal view returns (uint256) {
        if (block.timestamp >= task.deadline) return 0;
        uint256 held;
        for (uint256 i; i < workers.length; ++i) {
            ITaskBoard.ClaimState s = _state(taskId, workers[i]);
            if (s >= ITaskBoard.ClaimState.Working && s <= ITaskBoard.ClaimState.Disputed) ++held;
        }
        return task.slots - task.settled - held;
    }

    /// @dev Gives `account` what it is about to pay in; returns the ETH to send.
    function _fund(address account, address asset, uint256 amount) internal returns (uint256 value) {
        if (asset == address(0)) {
            vm.deal(account, account.balance + amount);
            return amount;
        }
        MarketToken(asset).mint(account, amount);
    }

    function _holding(address account, address asset) internal view returns (uint256) {
        return _balanceOf(account, asset) + board.owed(account, asset);
    }

    function _participantBalances(address asset) internal view returns (uint256 sum) {
        for (uint256 i; i < participants.length; ++i) {
            sum += _balanceOf(participants[i], asset);
        }
    }

    function _balanceOf(address account, address asset) internal view returns (uint256) {
        return asset == address(0) ? account.balance : MarketToken(asset).balanceOf(account);
    }

    function _asset(uint256 i) internal view returns (address) {
        i %= 4;
        if (i == 0) return address(0);
        if (i == 1) return address(token);
        if (i == 2) return address(faulty);
        return address(reentrant);
    }
}
