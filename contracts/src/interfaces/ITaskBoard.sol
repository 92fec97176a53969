// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IPayouts} from "./IPayouts.sol";

/// @title ITaskBoard
/// @notice The community task market's escrow (issue 15, seed 003): one contract for every task.
///
/// Publishing. A publisher escrows a reward (ETH as `msg.value`, or any ERC-20 pulled with
/// `transferFrom`, MarketToken and a community's points included; a token that delivers anything else
/// than the reward is refused) for `slots` workers: each slot pays exactly `reward / slots`, and a reward
/// that `slots` does not divide is refused (`RewardNotDivisible`), so no remainder is ever left over. A
/// task names a deadline (first submissions until then), a review window (how long the publisher has to
/// decide on a submission), a work timeout (how long a worker may stay silent after accepting), how many
/// times a rejected worker may revise, and optionally a community: the task's disputes then go to that
/// community's arbiter (else to the platform arbiter), and the task may promise `points` to every
/// approved worker, minted by the community's points token. Points are reserved at publication from the
/// budget the community's admins allowed this board ({ICommunities-reserveMint}), on the word of the
/// publisher, who must be one of those admins. The arbiter is fixed at publication: the arbiter a worker
/// saw is the arbiter who decides.
///
/// Working. A worker `accept`s a free slot, passing the reward per slot and the deadline it saw (a task
/// whose terms differ, after a deadline extension or on a reorganised chain, reverts `TermsChanged`);
/// an account holds at most one slot of a task, ever. It `submit`s a deliverable (a content hash or CID,
/// kept in the event) before the deadline. The publisher `approve`s (the worker is paid its slot and its
/// points) or `reject`s with a reason, within the review window; once the window has passed with no
/// decision, anyone may `approveLapsed` and the worker is paid as if approved. A rejected worker has
/// `ANSWER_WINDOW` to either `submit` a revision (at most `maxRevisions` per slot; a revision may come
/// after the deadline, and opens a new review window) or `openDispute`. A rejection nobody answered in
/// time stands: anyone may `closeRejected`, which frees the slot (for another worker before the
/// deadline; refunded to the publisher after it). The arbiter `resolveDispute`s once, giving the worker
/// `workerBps` basis points of the slot (10,000: pay; 0: refund; between: split, the worker's part
/// rounded down) and the publisher the rest; the points follow the same share.
///
/// Leaving. The publisher may `removeWorker` who accepted and submitted nothing for `workTimeout`
/// (before the deadline; the slot is free again). The publisher may `cancel` a task on which nothing was
/// ever submitted: every unsettled slot is refunded and the task is over. Once any submission exists, the
/// task cannot be cancelled. After the deadline, anyone may `refund` the slots nobody submitted on (free
/// slots and slots whose worker never submitted): they go back to the publisher. A slot that holds a
/// submission is only ever settled by the publisher's approval, the lapse of its review window, the
/// worker's silence after a rejection, or the arbiter.
///
/// Payouts that cannot be pushed are owed and withdrawn through {IPayouts}. Amounts are in the token's
/// smallest unit (wei for ETH); a reward fits in 96 bits.
interface ITaskBoard is IPayouts {
    /// @notice A task's lifecycle: `Open` from publication (its slots settle one by one, and it stays
    /// `Open` when they all have), `Cancelled` by its publisher before any submission.
    enum TaskState {
        None,
        Open,
        Cancelled
    }

    /// @notice One worker's slot. `Working`: accepted, nothing submitted yet. `Submitted`: waiting for
    /// the publisher's decision. `Rejected`: the worker may revise or dispute until the answer window
    /// ends. `Disputed`: waiting for the arbiter. Final: `Approved` (paid), `Resolved` (the arbiter
    /// decided), `Removed` (silent worker removed), `Closed` (a rejection nobody answered).
    enum ClaimState {
        None,
        Working,
        Submitted,
        Rejected,
        Disputed,
        Approved,
        Resolved,
        Removed,
        Closed
    }

    /// @notice What a publisher passes to `publish`.
    /// @param token The reward's token; address(0) for ETH.
    /// @param reward The whole escrow: 1 to 2^96 - 1, a multiple of `slots`.
    /// @param slots How many workers can be paid: 1 to `MAX_SLOTS`.
    /// @param communityId The community the task belongs to (its arbiter decides disputes); 0 for none.
    /// @param points Points each approved worker gets from the community (0: none; needs a community).
    /// @param deadline First submissions until then (unix seconds, in the future, at most
    /// `MAX_TASK_DURATION` away).
    /// @param reviewWindow Seconds the publisher has to decide on each submission: 1 to
    /// `MAX_REVIEW_WINDOW`.
    /// @param workTimeout Seconds after accepting after which a worker that submitted nothing may be
    /// removed: 1 to `MAX_TASK_DURATION`.
    /// @param maxRevisions How many revisions a rejected worker may submit per slot.
    /// @param spec Where the task's description lives (URI or CID): 1 to `MAX_SPEC_LENGTH` bytes; only
    /// emitted.
    struct TaskParams {
        address token;
        uint96 reward;
        uint16 slots;
        uint64 communityId;
        uint96 points;
        uint40 deadline;
        uint32 reviewWindow;
        uint32 workTimeout;
        uint8 maxRevisions;
        string spec;
    }

    /// @notice A task as stored (four words). Slot counters: `working` slots held by a worker who has not
    /// submitted, `active` slots with a submission not settled yet, `settled` slots paid out or refunded;
    /// the rest are free. `submitted`: a submission was ever made (the task can no longer be cancelled).
    struct Task {
        address publisher;
        uint40 deadline;
        uint32 reviewWindow;
        TaskState state;
        uint8 maxRevisions;
        bool submitted;
        address token;
        uint96 rewardPerSlot;
        address arbiter;
        uint32 workTimeout;
        uint16 slots;
        uint16 working;
        uint16 active;
        uint16 settled;
        uint96 points;
        uint64 communityId;
    }

    /// @notice A worker's slot in a task (one word). `since`: when its current state began (accepted,
    /// submitted, rejected, disputed); `revisions`: revisions submitted so far.
    struct Claim {
        ClaimState state;
        uint8 revisions;
        uint40 acceptedAt;
        uint40 since;
    }

    // ---------------------------------------------------------------- events

    /// @notice A task was published and its reward (`rewardPerSlot * params.slots`) escrowed; disputes go
    /// to `arbiter`.
    event TaskPublished(
        uint256 indexed taskId,
        address indexed publisher,
        uint64 indexed communityId,
        uint96 rewardPerSlot,
        address arbiter,
        TaskParams params
    );
    /// @notice The publisher moved the deadline to `deadline` (only ever later).
    event DeadlineExtended(uint256 indexed taskId, uint40 deadline);
    /// @notice `worker` took a slot; `freeSlots` are left.
    event TaskAccepted(uint256 indexed taskId, address indexed worker, uint16 freeSlots);
    /// @notice `worker` submitted `deliverable` (revision `revision`, 0 for the first); the publisher
    /// decides before `reviewEndsAt`.
    event WorkSubmitted(
        uint256 indexed taskId, address indexed worker, uint8 revision, string deliverable, uint40 reviewEndsAt
    );
    /// @notice `worker`'s submission was approved by `by` (the publisher, or anyone once the review
    /// window lapsed: `lapsed`); it was paid `amount` and minted `points`.
    event SubmissionApproved(
        uint256 indexed taskId, address indexed worker, address by, bool lapsed, uint256 amount, uint256 points
    );
    /// @notice The publisher rejected `worker`'s submission for `reason`; the worker may revise
    /// (`revisionsLeft`) or dispute until `answerEndsAt`.
    event SubmissionRejected(
        uint256 indexed taskId, address indexed worker, string reason, uint8 revisionsLeft, uint40 answerEndsAt
    );
    /// @notice `worker` took the rejection to `arbiter`, for `reason`.
    event DisputeOpened(uint256 indexed taskId, address indexed worker, address indexed arbiter, string reason);
    /// @notice The arbiter settled `worker`'s dispute: `workerBps` of the slot, `toWorker` to the worker
    /// with `points`, `toPublisher` back to the publisher.
    event DisputeResolved(
        uint256 indexed taskId,
        address indexed worker,
        uint16 workerBps,
        uint256 toWorker,
        uint256 toPublisher,
        uint256 points
    );
    /// @notice The publisher removed `worker`, silent since `acceptedAt`; its slot is free.
    event WorkerRemoved(uint256 indexed taskId, address indexed worker, uint40 acceptedAt);
    /// @notice `worker` answered its rejection neither with a revision nor with a dispute in time. Its
    /// slot is free again, or (`refunded` != 0, after the deadline) refunded to the publisher.
    event RejectionClosed(uint256 indexed taskId, address indexed worker, uint256 refunded);
    /// @notice The publisher cancelled the task: `slots` unsettled slots, `refunded` in all.
    event TaskCancelled(uint256 indexed taskId, uint16 slots, uint256 refunded);
    /// @notice After the deadline, `slots` slots nobody submitted on were refunded, `refunded` in all.
    event TaskRefunded(uint256 indexed taskId, uint16 slots, uint256 refunded);
    /// @notice The platform arbiter (for tasks without a community published from now on) changed.
    event PlatformArbiterSet(address indexed arbiter);

    // ---------------------------------------------------------------- errors

    /// @notice An arbiter, the constructor's Communities, or a new platform arbiter must not be zero.
    error InvalidAddress(address account);
    /// @notice The constructor's answer window must be 1 second to `MAX_ANSWER_WINDOW`.
    error InvalidAnswerWindow(uint64 window);
    /// @notice A reward must be above zero and fit in 96 bits.
    error InvalidReward(uint256 reward);
    /// @notice A task has 1 to `MAX_SLOTS` slots.
    error InvalidSlots(uint16 slots);
    /// @notice The reward must be a multiple of the slots, so that every slot is paid the same.
    error RewardNotDivisible(uint256 reward, uint16 slots);
    /// @notice A deadline must be in the future and at most `MAX_TASK_DURATION` from now (and, when
    /// extended, later than the current one).
    error InvalidDeadline(uint40 deadline, uint256 nowTs);
    /// @notice A review window must be 1 second to `MAX_REVIEW_WINDOW`.
    error InvalidReviewWindow(uint32 reviewWindow);
    /// @notice A work timeout must be 1 second to `MAX_TASK_DURATION`.
    error InvalidWorkTimeout(uint32 workTimeout);
    /// @notice A spec must be 1 to `MAX_SPEC_LENGTH` bytes.
    error InvalidSpec(uint256 length);
    /// @notice A deliverable must be 1 to `MAX_SPEC_LENGTH` bytes.
    error InvalidDeliverable(uint256 length);
    /// @notice A reason must be at most `MAX_SPEC_LENGTH` bytes.
    error InvalidReason(uint256 length);
    /// @notice Points need a community.
    error PointsWithoutCommunity(uint96 points);
    /// @notice No community has this id.
    error CommunityNotFound(uint64 communityId);
    /// @notice `msg.value` must be the reward for an ETH task, and zero otherwise.
    error ValueMismatch(uint256 sent, uint256 expected);
    /// @notice No task has this id.
    error TaskNotFound(uint256 taskId);
    /// @notice The task is not `Open`.
    error TaskNotOpen(uint256 taskId, TaskState state);
    /// @notice Only the task's publisher may do this.
    error NotPublisher(uint256 taskId, address caller);
    /// @notice Only the task's arbiter may decide its disputes.
    error NotArbiter(uint256 taskId, address caller);
    /// @notice Only the platform arbiter may hand its role on.
    error NotPlatformArbiter(address caller);
    /// @notice The task's terms are not the ones the worker saw: nothing was accepted.
    error TermsChanged(
        uint256 taskId, uint96 agreedRewardPerSlot, uint40 agreedDeadline, uint96 rewardPerSlot, uint40 deadline
    );
    /// @notice The publisher and the arbiter cannot work on their own task.
    error WorkerIsParty(uint256 taskId, address worker);
    /// @notice Every slot is taken or settled.
    error NoFreeSlot(uint256 taskId);
    /// @notice `worker` already holds, or held, a slot of this task.
    error AlreadyClaimed(uint256 taskId, address worker);
    /// @notice The claim is not in a state this call applies to.
    error WrongClaimState(uint256 taskId, address worker, ClaimState state);
    /// @notice Too late: the deadline (first submissions, removals, extensions) has passed.
    error DeadlinePassed(uint256 taskId, uint40 deadline, uint256 nowTs);
    /// @notice Too early: the deadline (refunds) has not passed.
    error DeadlineNotPassed(uint256 taskId, uint40 deadline, uint256 nowTs);
    /// @notice The review window is over: the publisher can no longer reject (`reject`).
    error ReviewWindowClosed(uint256 taskId, address worker, uint40 reviewEndsAt, uint256 nowTs);
    /// @notice The review window is still open: only the publisher decides (`approveLapsed`).
    error ReviewWindowOpen(uint256 taskId, address worker, uint40 reviewEndsAt, uint256 nowTs);
    /// @notice The answer window after a rejection is over (`submit`, `openDispute`).
    error AnswerWindowClosed(uint256 taskId, address worker, uint40 answerEndsAt, uint256 nowTs);
    /// @notice The answer window after a rejection is still open (`closeRejected`).
    error AnswerWindowOpen(uint256 taskId, address worker, uint40 answerEndsAt, uint256 nowTs);
    /// @notice The worker used all its revisions: it may only dispute.
    error NoRevisionsLeft(uint256 taskId, address worker, uint8 maxRevisions);
    /// @notice The worker has not been silent for the task's work timeout yet.
    error WorkTimeoutNotReached(uint256 taskId, address worker, uint40 removableAt, uint256 nowTs);
    /// @notice A submission exists on the task: it can no longer be cancelled.
    error TaskHasSubmissions(uint256 taskId);
    /// @notice Nothing to refund: every slot is settled or holds a submission.
    error NothingToRefund(uint256 taskId);
    /// @notice A split is 0 to 10,000 basis points.
    error InvalidSplit(uint16 workerBps);

    // ---------------------------------------------------------------- publisher

    /// @notice Publish a task and escrow its reward (see {TaskParams} for the rules; `msg.value` is the
    /// reward for ETH, zero otherwise). With `points`, `points * slots` are reserved from this board's
    /// budget in the community, on the caller's word as one of its admins. Returns the task id (from 1).
    function publish(TaskParams calldata params) external payable returns (uint256 taskId);

    /// @notice Move the deadline later (the publisher, an open task, before the current deadline).
    function extendDeadline(uint256 taskId, uint40 deadline) external;

    /// @notice Approve `worker`'s submission (the publisher, any time while it waits): the worker is paid
    /// its slot and minted the task's points.
    function approve(uint256 taskId, address worker) external;

    /// @notice Reject `worker`'s submission for `reason` (at most `MAX_SPEC_LENGTH` bytes), within the
    /// review window (the publisher).
    function reject(uint256 taskId, address worker, string calldata reason) external;

    /// @notice Remove `worker`, who accepted `workTimeout` ago or more and submitted nothing, before the
    /// deadline (the publisher). The worker cannot take a slot of this task again.
    function removeWorker(uint256 taskId, address worker) external;

    /// @notice Cancel a task on which nothing was ever submitted (the publisher): every unsettled slot's
    /// reward goes back to the publisher and its points to the community's budget.
    function cancel(uint256 taskId) external;

    // ---------------------------------------------------------------- worker

    /// @notice Take a free slot of an open task, before its deadline, agreeing to `rewardPerSlot` and
    /// `deadline` (the task's current terms, else `TermsChanged`).
    function accept(uint256 taskId, uint96 rewardPerSlot, uint40 deadline) external;

    /// @notice Submit a deliverable (1 to `MAX_SPEC_LENGTH` bytes): the first before the deadline, a
    /// revision within the answer window after a rejection, while revisions are left.
    function submit(uint256 taskId, string calldata deliverable) external;

    /// @notice Take a rejection to the task's arbiter, within the answer window, for `reason`.
    function openDispute(uint256 taskId, string calldata reason) external;

    // ---------------------------------------------------------------- anyone

    /// @notice Once `worker`'s submission waited out the review window with no decision, pay it as
    /// approved.
    function approveLapsed(uint256 taskId, address worker) external;

    /// @notice Once a rejection of `worker` went unanswered for the answer window, close its slot: free
    /// again before the deadline, refunded to the publisher after it.
    function closeRejected(uint256 taskId, address worker) external;

    /// @notice After the deadline, refund the publisher the slots nobody submitted on.
    function refund(uint256 taskId) external;

    // ---------------------------------------------------------------- arbiters

    /// @notice Decide `worker`'s dispute (the task's arbiter, once): `workerBps` (0 to 10,000) of the slot
    /// to the worker, rounded down, the rest to the publisher; the points in the same share.
    function resolveDispute(uint256 taskId, address worker, uint16 workerBps) external;

    /// @notice Hand the platform arbiter's role (tasks without a community) to `arbiter` (the platform
    /// arbiter). Tasks already published keep theirs.
    function setPlatformArbiter(address arbiter) external;

    // ---------------------------------------------------------------- views

    /// @notice The stored task; all zero for an unknown id.
    function getTask(uint256 taskId) external view returns (Task memory);

    /// @notice `worker`'s slot in the task; all zero when it never accepted.
    function getClaim(uint256 taskId, address worker) external view returns (Claim memory);

    /// @notice Slots nobody holds and that are not settled, while the task is open and before its deadline:
    /// what `accept` can still take.
    function freeSlots(uint256 taskId) external view returns (uint16);

    /// @notice How many tasks were published (the last id).
    function taskCount() external view returns (uint256);

    /// @notice The arbiter of tasks published without a community.
    function platformArbiter() external view returns (address);

    /// @notice The communities whose points tasks may promise.
    function COMMUNITIES() external view returns (address);

    /// @notice Seconds a rejected worker has to revise or dispute; fixed at deployment.
    function ANSWER_WINDOW() external view returns (uint64);

    /// @notice Upper bound for the answer window set at deployment (30 days).
    function MAX_ANSWER_WINDOW() external view returns (uint64);

    /// @notice Upper bound for a task's slots (1,000).
    function MAX_SLOTS() external view returns (uint16);

    /// @notice How far away a deadline, and how long a work timeout, may be (365 days).
    function MAX_TASK_DURATION() external view returns (uint64);

    /// @notice Upper bound for a review window (30 days).
    function MAX_REVIEW_WINDOW() external view returns (uint32);

    /// @notice Upper bound for a spec, a deliverable or a reason, in bytes (512).
    function MAX_SPEC_LENGTH() external view returns (uint256);
}
