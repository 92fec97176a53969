// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ITaskBoard} from "./interfaces/ITaskBoard.sol";
import {ICommunities} from "./interfaces/ICommunities.sol";
import {Payouts} from "./base/Payouts.sol";

/// @title TaskBoard
/// @notice The community task market: every task's escrow, slots, submissions, reviews and disputes in
/// one contract (see {ITaskBoard}).
/// @dev Money rules:
/// - A task escrows `rewardPerSlot * slots` exactly (a reward `slots` does not divide is refused; a
///   token pull that delivers anything else is refused, {Payouts-_pull}). Per token, the contract holds
///   `rewardPerSlot * (slots - settled)` of every `Open` task plus what it owes: each slot leaves the
///   escrow once, when `settled` counts it, paid to the worker, to the publisher, or split between them.
/// - Slot counters: `working + active + settled <= slots`; `accept` takes a free slot (`working`),
///   a first submission moves it to `active`, approval and the arbiter's decision to `settled`, a removal
///   or an unanswered rejection before the deadline frees it, `refund` after the deadline settles the
///   free and `working` slots (their workers can no longer submit, nor be removed, and the deadline
///   can no longer move), `cancel` settles everything and is refused once anything was submitted.
/// - Points: `points * slots` are reserved at publication ({ICommunities-reserveMint}); a slot settled by
///   approval mints its points, by the arbiter mints their share and releases the rest, by a refund or a
///   cancellation releases them. So the board's reservation in a community is always the points of the
///   unsettled slots of its open tasks with points.
/// - Every state-changing entry point holds the base's transient lock, changes state and emits before it
///   calls out (a token, a receiver, Communities), and pays through `_pay` (pushed, or owed).
contract TaskBoard is ITaskBoard, Payouts {
    /// @inheritdoc ITaskBoard
    uint16 public constant MAX_SLOTS = 1_000;
    /// @inheritdoc ITaskBoard
    uint64 public constant MAX_TASK_DURATION = 365 days;
    /// @inheritdoc ITaskBoard
    uint32 public constant MAX_REVIEW_WINDOW = 30 days;
    /// @inheritdoc ITaskBoard
    uint64 public constant MAX_ANSWER_WINDOW = 30 days;
    /// @inheritdoc ITaskBoard
    uint256 public constant MAX_SPEC_LENGTH = 512;

    /// @inheritdoc ITaskBoard
    address public immutable COMMUNITIES;
    /// @inheritdoc ITaskBoard
    uint64 public immutable ANSWER_WINDOW;
    /// @dev `ANSWER_WINDOW` in the width timestamps are stored in.
    uint40 private immutable _answerWindow;

    /// @inheritdoc ITaskBoard
    uint256 public taskCount;
    /// @inheritdoc ITaskBoard
    address public platformArbiter;

    mapping(uint256 taskId => Task) private _tasks;
    mapping(uint256 taskId => mapping(address worker => Claim)) private _claims;

    /// @param communities The Communities contract whose arbiters and points tasks use.
    /// @param platformArbiter_ The arbiter of tasks without a community.
    /// @param answerWindow Seconds a rejected worker has to revise or dispute: 1 to `MAX_ANSWER_WINDOW`.
    constructor(address communities, address platformArbiter_, uint64 answerWindow) Payouts("Agora TaskBoard", "1") {
        if (communities == address(0)) revert InvalidAddress(communities);
        if (platformArbiter_ == address(0)) revert InvalidAddress(platformArbiter_);
        if (answerWindow == 0 || answerWindow > MAX_ANSWER_WINDOW) revert InvalidAnswerWindow(answerWindow);
        COMMUNITIES = communities;
        platformArbiter = platformArbiter_;
        ANSWER_WINDOW = answerWindow;
        // forge-lint: disable-next-line(unsafe-typecast)
        _answerWindow = uint40(answerWindow); // at most MAX_ANSWER_WINDOW
        emit PlatformArbiterSet(platformArbiter_);
    }

    // ---------------------------------------------------------------- publisher

    /// @inheritdoc ITaskBoard
    function publish(TaskParams calldata params) external payable nonReentrant returns (uint256 taskId) {
        _checkParams(params);
        {
            uint256 expected = params.token == address(0) ? params.reward : 0;
            if (msg.value != expected) revert ValueMismatch(msg.value, expected);
        }
        address arbiter = platformArbiter;
        if (params.communityId != 0) {
            arbiter = ICommunities(COMMUNITIES).arbiterOf(params.communityId);
            if (arbiter == address(0)) revert CommunityNotFound(params.communityId);
        }
        uint96 rewardPerSlot = params.reward / params.slots;

        taskId = ++taskCount;
        Task storage task = _tasks[taskId];
        task.publisher = msg.sender;
        task.deadline = params.deadline;
        task.reviewWindow = params.reviewWindow;
        task.state = TaskState.Open;
        task.maxRevisions = params.maxRevisions;
        task.token = params.token;
        task.rewardPerSlot = rewardPerSlot;
        task.arbiter = arbiter;
        task.workTimeout = params.workTimeout;
        task.slots = params.slots;
        if (params.communityId != 0) {
            task.points = params.points;
            task.communityId = params.communityId;
        }
        emit TaskPublished(taskId, msg.sender, params.communityId, rewardPerSlot, arbiter, params);

        if (params.points != 0) {
            ICommunities(COMMUNITIES).reserveMint(params.communityId, msg.sender, uint256(params.points) * params.slots);
        }
        if (params.token != address(0)) _pull(params.token, msg.sender, params.reward);
    }

    /// @inheritdoc ITaskBoard
    function extendDeadline(uint256 taskId, uint40 deadline) external nonReentrant {
        Task storage task = _openTask(taskId);
        _onlyPublisher(taskId, task);
        _beforeDeadline(taskId, task);
        // forge-lint: disable-next-line(block-timestamp)
        if (deadline <= task.deadline || deadline > block.timestamp + MAX_TASK_DURATION) {
            revert InvalidDeadline(deadline, block.timestamp);
        }
        task.deadline = deadline;
        emit DeadlineExtended(taskId, deadline);
    }

    /// @inheritdoc ITaskBoard
    function approve(uint256 taskId, address worker) external nonReentrant {
        Task storage task = _openTask(taskId);
        _onlyPublisher(taskId, task);
        Claim storage claim = _claimIn(taskId, worker, ClaimState.Submitted);
        _approve(taskId, task, claim, worker, false);
    }

    /// @inheritdoc ITaskBoard
    function reject(uint256 taskId, address worker, string calldata reason) external nonReentrant {
        Task storage task = _openTask(taskId);
        _onlyPublisher(taskId, task);
        if (bytes(reason).length > MAX_SPEC_LENGTH) revert InvalidReason(bytes(reason).length);
        Claim storage claim = _claimIn(taskId, worker, ClaimState.Submitted);
        uint40 reviewEndsAt = claim.since + task.reviewWindow;
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp >= reviewEndsAt) revert ReviewWindowClosed(taskId, worker, reviewEndsAt, block.timestamp);
        claim.state = ClaimState.Rejected;
        claim.since = _now();
        emit SubmissionRejected(taskId, worker, reason, task.maxRevisions - claim.revisions, _now() + _answerWindow);
    }

    /// @inheritdoc ITaskBoard
    function removeWorker(uint256 taskId, address worker) external nonReentrant {
        Task storage task = _openTask(taskId);
        _onlyPublisher(taskId, task);
        _beforeDeadline(taskId, task);
        Claim storage claim = _claimIn(taskId, worker, ClaimState.Working);
        uint40 acceptedAt = claim.acceptedAt;
        uint40 removableAt = acceptedAt + task.workTimeout;
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < removableAt) {
            revert WorkTimeoutNotReached(taskId, worker, removableAt, block.timestamp);
        }
        claim.state = ClaimState.Removed;
        claim.since = _now();
        task.working -= 1;
        emit WorkerRemoved(taskId, worker, acceptedAt);
    }

    /// @inheritdoc ITaskBoard
    function cancel(uint256 taskId) external nonReentrant {
        Task storage task = _openTask(taskId);
        _onlyPublisher(taskId, task);
        if (task.submitted) revert TaskHasSubmissions(taskId);
        uint16 count = task.slots - task.settled;
        task.state = TaskState.Cancelled;
        task.working = 0;
        task.settled = task.slots;
        uint256 amount = uint256(task.rewardPerSlot) * count;
        emit TaskCancelled(taskId, count, amount);
        _refund(task, count, amount);
    }

    // ---------------------------------------------------------------- worker

    /// @inheritdoc ITaskBoard
    function accept(uint256 taskId, uint96 rewardPerSlot, uint40 deadline) external nonReentrant {
        Task storage task = _openTask(taskId);
        if (rewardPerSlot != task.rewardPerSlot || deadline != task.deadline) {
            revert TermsChanged(taskId, rewardPerSlot, deadline, task.rewardPerSlot, task.deadline);
        }
        _beforeDeadline(taskId, task);
        if (msg.sender == task.publisher || msg.sender == task.arbiter) revert WorkerIsParty(taskId, msg.sender);
        Claim storage claim = _claims[taskId][msg.sender];
        if (claim.state != ClaimState.None) revert AlreadyClaimed(taskId, msg.sender);
        uint16 free = _free(task);
        if (free == 0) revert NoFreeSlot(taskId);
        task.working += 1;
        claim.state = ClaimState.Working;
        claim.acceptedAt = _now();
        claim.since = _now();
        emit TaskAccepted(taskId, msg.sender, free - 1);
    }

    /// @inheritdoc ITaskBoard
    function submit(uint256 taskId, string calldata deliverable) external nonReentrant {
        Task storage task = _openTask(taskId);
        uint256 length = bytes(deliverable).length;
        if (length == 0 || length > MAX_SPEC_LENGTH) revert InvalidDeliverable(length);
        Claim storage claim = _claims[taskId][msg.sender];
        ClaimState state = claim.state;
        uint8 revision = claim.revisions;
        if (state == ClaimState.Working) {
            _beforeDeadline(taskId, task);
            task.working -= 1;
            task.active += 1;
            task.submitted = true;
        } else if (state == ClaimState.Rejected) {
            _beforeAnswerEnds(taskId, claim, msg.sender);
            if (revision >= task.maxRevisions) revert NoRevisionsLeft(taskId, msg.sender, task.maxRevisions);
            revision += 1;
            claim.revisions = revision;
        } else {
            revert WrongClaimState(taskId, msg.sender, state);
        }
        claim.state = ClaimState.Submitted;
        claim.since = _now();
        emit WorkSubmitted(taskId, msg.sender, revision, deliverable, _now() + task.reviewWindow);
    }

    /// @inheritdoc ITaskBoard
    function openDispute(uint256 taskId, string calldata reason) external nonReentrant {
        Task storage task = _openTask(taskId);
        if (bytes(reason).length > MAX_SPEC_LENGTH) revert InvalidReason(bytes(reason).length);
        Claim storage claim = _claimIn(taskId, msg.sender, ClaimState.Rejected);
        _beforeAnswerEnds(taskId, claim, msg.sender);
        claim.state = ClaimState.Disputed;
        claim.since = _now();
        emit DisputeOpened(taskId, msg.sender, task.arbiter, reason);
    }

    // ---------------------------------------------------------------- anyone

    /// @inheritdoc ITaskBoard
    function approveLapsed(uint256 taskId, address worker) external nonReentrant {
        Task storage task = _openTask(taskId);
        Claim storage claim = _claimIn(taskId, worker, ClaimState.Submitted);
        uint40 reviewEndsAt = claim.since + task.reviewWindow;
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < reviewEndsAt) revert ReviewWindowOpen(taskId, worker, reviewEndsAt, block.timestamp);
        _approve(taskId, task, claim, worker, true);
    }

    /// @inheritdoc ITaskBoard
    function closeRejected(uint256 taskId, address worker) external nonReentrant {
        Task storage task = _openTask(taskId);
        Claim storage claim = _claimIn(taskId, worker, ClaimState.Rejected);
        uint40 answerEndsAt = claim.since + _answerWindow;
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < answerEndsAt) revert AnswerWindowOpen(taskId, worker, answerEndsAt, block.timestamp);
        claim.state = ClaimState.Closed;
        claim.since = _now();
        task.active -= 1;
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < task.deadline) {
            emit RejectionClosed(taskId, worker, 0);
            return;
        }
        task.settled += 1;
        uint256 amount = task.rewardPerSlot;
        emit RejectionClosed(taskId, worker, amount);
        _refund(task, 1, amount);
    }

    /// @inheritdoc ITaskBoard
    function refund(uint256 taskId) external nonReentrant {
        Task storage task = _openTask(taskId);
        uint40 deadline = task.deadline;
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < deadline) revert DeadlineNotPassed(taskId, deadline, block.timestamp);
        uint16 count = _free(task) + task.working;
        if (count == 0) revert NothingToRefund(taskId);
        task.working = 0;
        task.settled += count;
        uint256 amount = uint256(task.rewardPerSlot) * count;
        emit TaskRefunded(taskId, count, amount);
        _refund(task, count, amount);
    }

    // ---------------------------------------------------------------- arbiters

    /// @inheritdoc ITaskBoard
    function resolveDispute(uint256 taskId, address worker, uint16 workerBps) external nonReentrant {
        Task storage task = _openTask(taskId);
        if (msg.sender != task.arbiter) revert NotArbiter(taskId, msg.sender);
        if (workerBps > 10_000) revert InvalidSplit(workerBps);
        Claim storage claim = _claimIn(taskId, worker, ClaimState.Disputed);
        claim.state = ClaimState.Resolved;
        claim.since = _now();
        task.active -= 1;
        task.settled += 1;
        uint256 reward = task.rewardPerSlot;
        uint256 toWorker = reward * workerBps / 10_000;
        uint256 toPublisher = reward - toWorker;
        uint256 points = uint256(task.points) * workerBps / 10_000;
        emit DisputeResolved(taskId, worker, workerBps, toWorker, toPublisher, points);

        address token = task.token;
        if (toWorker != 0) _pay(worker, token, toWorker);
        if (toPublisher != 0) _pay(task.publisher, token, toPublisher);
        if (points != 0) ICommunities(COMMUNITIES).mintReserved(task.communityId, worker, points, bytes32(taskId));
        if (task.points != points) ICommunities(COMMUNITIES).releaseMint(task.communityId, task.points - points);
    }

    /// @inheritdoc ITaskBoard
    function setPlatformArbiter(address arbiter) external nonReentrant {
        if (msg.sender != platformArbiter) revert NotPlatformArbiter(msg.sender);
        if (arbiter == address(0)) revert InvalidAddress(arbiter);
        platformArbiter = arbiter;
        emit PlatformArbiterSet(arbiter);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ITaskBoard
    function getTask(uint256 taskId) external view returns (Task memory) {
        return _tasks[taskId];
    }

    /// @inheritdoc ITaskBoard
    function getClaim(uint256 taskId, address worker) external view returns (Claim memory) {
        return _claims[taskId][worker];
    }

    /// @inheritdoc ITaskBoard
    function freeSlots(uint256 taskId) external view returns (uint16) {
        Task storage task = _tasks[taskId];
        // forge-lint: disable-next-line(block-timestamp)
        return task.state == TaskState.Open && block.timestamp < task.deadline ? _free(task) : 0;
    }

    // ---------------------------------------------------------------- internal

    function _checkParams(TaskParams calldata params) private view {
        uint16 slots = params.slots;
        if (slots == 0 || slots > MAX_SLOTS) revert InvalidSlots(slots);
        uint96 reward = params.reward;
        if (reward == 0) revert InvalidReward(reward);
        if (reward % slots != 0) revert RewardNotDivisible(reward, slots);
        // forge-lint: disable-next-line(block-timestamp)
        if (params.deadline <= block.timestamp || params.deadline > block.timestamp + MAX_TASK_DURATION) {
            revert InvalidDeadline(params.deadline, block.timestamp);
        }
        if (params.reviewWindow == 0 || params.reviewWindow > MAX_REVIEW_WINDOW) {
            revert InvalidReviewWindow(params.reviewWindow);
        }
        if (params.workTimeout == 0 || params.workTimeout > MAX_TASK_DURATION) {
            revert InvalidWorkTimeout(params.workTimeout);
        }
        uint256 length = bytes(params.spec).length;
        if (length == 0 || length > MAX_SPEC_LENGTH) revert InvalidSpec(length);
        if (params.points != 0 && params.communityId == 0) revert PointsWithoutCommunity(params.points);
    }

    /// @dev Pays `worker` its slot and mints its points; the claim was `Submitted`.
    function _approve(uint256 taskId, Task storage task, Claim storage claim, address worker, bool lapsed) private {
        claim.state = ClaimState.Approved;
        claim.since = _now();
        task.active -= 1;
        task.settled += 1;
        uint256 amount = task.rewardPerSlot;
        uint256 points = task.points;
        emit SubmissionApproved(taskId, worker, msg.sender, lapsed, amount, points);
        _pay(worker, task.token, amount);
        if (points != 0) ICommunities(COMMUNITIES).mintReserved(task.communityId, worker, points, bytes32(taskId));
    }

    /// @dev Pays the publisher `amount` for `count` slots settled without a worker, and releases their
    /// points.
    function _refund(Task storage task, uint16 count, uint256 amount) private {
        if (amount != 0) _pay(task.publisher, task.token, amount);
        uint256 points = uint256(task.points) * count;
        if (points != 0) ICommunities(COMMUNITIES).releaseMint(task.communityId, points);
    }

    function _openTask(uint256 taskId) private view returns (Task storage task) {
        task = _tasks[taskId];
        TaskState state = task.state;
        if (state != TaskState.Open) {
            if (state == TaskState.None) revert TaskNotFound(taskId);
            revert TaskNotOpen(taskId, state);
        }
    }

    function _claimIn(uint256 taskId, address worker, ClaimState expected) private view returns (Claim storage claim) {
        claim = _claims[taskId][worker];
        if (claim.state != expected) revert WrongClaimState(taskId, worker, claim.state);
    }

    function _onlyPublisher(uint256 taskId, Task storage task) private view {
        if (msg.sender != task.publisher) revert NotPublisher(taskId, msg.sender);
    }

    function _beforeDeadline(uint256 taskId, Task storage task) private view {
        uint40 deadline = task.deadline;
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp >= deadline) revert DeadlinePassed(taskId, deadline, block.timestamp);
    }

    function _beforeAnswerEnds(uint256 taskId, Claim storage claim, address worker) private view {
        uint40 answerEndsAt = claim.since + _answerWindow;
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp >= answerEndsAt) revert AnswerWindowClosed(taskId, worker, answerEndsAt, block.timestamp);
    }

    function _free(Task storage task) private view returns (uint16) {
        return task.slots - task.working - task.active - task.settled;
    }

    function _now() private view returns (uint40) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint40(block.timestamp); // until the year 36,812
    }
}
