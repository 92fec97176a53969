// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IPayouts} from "./IPayouts.sol";

/// @title IFederatedMarket
/// @notice The federated-learning market's money (issue 14, seed 002 "BlockFed"): training tasks an
/// investor pays for, their members, the data blocks members buy, the payout of a reward pool by
/// contribution, model shares that earn every paid prediction's fee, and the paid predictions.
///
/// Tasks. An investor creates a task in one of two modes. `RewardPool`: the pool is escrowed now (ETH
/// as `msg.value`, or an ERC-20 pulled with `transferFrom`), paid out to the trainers by contribution
/// when training ends, and the investor owns the model (its prediction fees go to the investor).
/// `Shareholding`: no pool; when training ends the trainers receive shares of the model by contribution,
/// and every prediction fee is split among the shareholders. Each task names a `coordinator` (the node
/// that runs the training and posts its results), a `startDeadline` (training must start before it,
/// else anyone may cancel and the pool goes back to the investor), a `finishDeadline` (the results
/// must be posted before it, else the same), a minimum number of members to start, and a price per
/// data block in `blockToken` (zero: blocks are not sold) for `totalBlocks` blocks.
///
/// Members. Anyone may `join` and `leave` a task that is `Open` (recruiting) or `Training` (the
/// coordinator takes joins and leaves into account between rounds, off chain). The coordinator
/// `start`s the task once `minParticipants` are members. A member may `buyBlocks`: no more than
/// `totalBlocks` are sold in all. Before the start the payment is held by the contract (a member that
/// leaves before the start, or every member of a task cancelled before it started, gets it back); at
/// the start it is paid to the investor, and purchases during training are paid to the investor at
/// once. Which blocks a member holds is decided off chain by the coordinator, from the `BlocksBought`
/// events in the order they were emitted; the contract only counts them.
///
/// Results. The coordinator ends training with the contribution record's content id (`recordCid`,
/// the stored per-round updates and Shapley values anyone can recompute):
/// - `RewardPool`: `postRewards` stores the root of a Merkle tree whose leaves are
///   `keccak256(bytes.concat(keccak256(abi.encode(address account, uint256 amount))))` (OpenZeppelin's
///   standard Merkle tree for `["address","uint256"]`, pairs hashed in sorted order). Each account
///   `claimReward`s its amount with a proof, once, until `finishedAt + CLAIM_PERIOD`; the contract
///   refuses any claim that would take the total claimed above the pool, whatever the root says. From
///   then on anyone may `reclaimUnclaimed`, which pays what is left of the pool to the investor.
/// - `Shareholding`: `postShares` assigns shares to a list of holders, summing exactly to
///   `TOTAL_SHARES` (1e18: shares are 18-decimal fixed-point fractions of the model). Shares may be
///   transferred (`transferShares`).
///
/// Predictions. Once results are posted, anyone may `requestPrediction` on a task that charges a fee
/// (`predictionFee` in `token`, fixed at creation): the payment emits `PredictionRequested` with a
/// request id the coordinator's node answers off chain. In `RewardPool` mode the fee is paid to the
/// investor. In `Shareholding` mode it accrues to the shareholders with O(1) work per fee: a magnified
/// cumulative fee-per-share grows by `fee * MAGNITUDE / TOTAL_SHARES` (the division's remainder is
/// carried to the next fee), each holder is entitled to `(feePerShare * shares + correction) /
/// MAGNITUDE`, and a share transfer moves the correction so that fees already accrued stay with the
/// sender (ERC-1726's dividend-paying token). Holders `withdrawDividends` whenever they like.
/// Predictions paid off chain (vouchers on a payment channel to the node's fee receiver) reach the
/// same place through `payPredictionFees(taskId, count, paidBefore)`: `count` fees in one payment, divided exactly
/// as `count` calls of `requestPrediction` would be, announced by `PredictionFeesPaid`. What is
/// never paid out, the dust, is the rounding down of each holder's cumulative entitlement (less than
/// one unit per account that ever held shares) plus the carried remainder (less than one unit): it
/// stays in the contract, counted in `feesIn - dividendsPaid`. Shares always sum to `TOTAL_SHARES` and
/// fees are taken only once they exist, so a fee never arrives while no share does.
///
/// Payouts that cannot be pushed are owed and withdrawn through {IPayouts}. Amounts are in the token's
/// smallest unit (wei for ETH); a pool, a block price and a prediction fee fit in 96 bits.
interface IFederatedMarket is IPayouts {
    /// @notice How the trainers are paid: from an escrowed pool (`RewardPool`) or with model shares
    /// that earn the prediction fees (`Shareholding`).
    enum Mode {
        RewardPool,
        Shareholding
    }

    /// @notice Lifecycle of a task. `Open`: recruiting members. `Training`: started by the coordinator.
    /// `Finished`: results posted; rewards are claimed, predictions paid. `Cancelled`: never started by
    /// its start deadline, or cancelled by the investor while open (pool refunded, block payments
    /// refundable). `Abandoned`: started but no results by the finish deadline (pool refunded).
    enum TaskState {
        None,
        Open,
        Training,
        Finished,
        Cancelled,
        Abandoned
    }

    /// @notice What an investor passes to `createTask`.
    /// @param mode How the trainers are paid.
    /// @param coordinator Who starts the task and posts its results (non-zero).
    /// @param token The pool's and the prediction fees' token; address(0) for ETH.
    /// @param pool The reward pool: 1 to 2^96 - 1 in `RewardPool` mode, 0 in `Shareholding` mode.
    /// @param predictionFee The fee per paid prediction, in `token`: 0 means the model is not offered
    /// for paid predictions (`RewardPool` mode only: a shareholding task must charge one).
    /// @param blockToken The token data blocks are paid in; address(0) for ETH.
    /// @param blockPrice The price of one data block in `blockToken`; 0: blocks are not sold.
    /// @param totalBlocks How many blocks the task's training set is cut into (at least 1).
    /// @param minParticipants Members needed to start (1 to `MAX_MIN_PARTICIPANTS`).
    /// @param startDeadline Training must start before it (unix seconds, in the future).
    /// @param finishDeadline Results must be posted before it (after `startDeadline`, at most
    /// `MAX_TASK_DURATION` from now).
    /// @param spec Where the task's description lives (model, data set, rounds, split): a URI or
    /// content id, 1 to `MAX_URI_LENGTH` bytes; only emitted.
    struct TaskParams {
        Mode mode;
        address coordinator;
        address token;
        uint96 pool;
        uint96 predictionFee;
        address blockToken;
        uint96 blockPrice;
        uint32 totalBlocks;
        uint16 minParticipants;
        uint40 startDeadline;
        uint40 finishDeadline;
        string spec;
    }

    /// @notice A task as stored (six storage words and the reward root). `claimed` is the part of the
    /// pool paid to claimants so far; `blockEscrow` the block payments held before the start;
    /// `reclaimed` whether the unclaimed rest of the pool went back to the investor.
    struct Task {
        address investor;
        uint40 startDeadline;
        uint40 finishDeadline;
        Mode mode;
        TaskState state;
        address coordinator;
        uint40 finishedAt;
        uint32 members;
        uint16 minParticipants;
        bool reclaimed;
        address token;
        uint96 pool;
        address blockToken;
        uint96 blockPrice;
        uint96 predictionFee;
        uint32 totalBlocks;
        uint32 blocksSold;
        uint96 claimed;
        uint128 blockEscrow;
        bytes32 rewardRoot;
    }

    /// @notice One account's standing in one task. `blocks`: blocks it bought (and did not get back);
    /// `escrowed`: what it paid for blocks before the start (held while the task is `Open`, paid back
    /// if it leaves then or the task is `Cancelled`, paid to the investor when the task starts; the
    /// figure is kept afterwards as a record); `rewardClaimed`: whether it claimed its reward.
    struct Member {
        bool joined;
        bool rewardClaimed;
        uint32 blocks;
        uint128 escrowed;
    }

    /// @notice A shareholding task's fee accounting. `magnifiedFeePerShare`: the cumulative fee per
    /// share times `MAGNITUDE`; `remainder`: the magnified part of the fees not yet divided (below
    /// `TOTAL_SHARES`); `feesIn`: every fee paid in; `dividendsPaid`: every dividend withdrawn.
    struct Dividends {
        uint256 magnifiedFeePerShare;
        uint128 feesIn;
        uint128 dividendsPaid;
        uint64 remainder;
    }

    // ---------------------------------------------------------------- events

    /// @notice `investor` created a task (in `RewardPool` mode, `pool` of `token` is now held).
    event TaskCreated(
        uint256 indexed taskId,
        address indexed investor,
        address indexed coordinator,
        Mode mode,
        address token,
        uint256 pool,
        uint256 predictionFee,
        string spec
    );
    /// @notice The rest of a new task's terms, emitted right after `TaskCreated`.
    event TaskTerms(
        uint256 indexed taskId,
        address blockToken,
        uint256 blockPrice,
        uint32 totalBlocks,
        uint16 minParticipants,
        uint64 startDeadline,
        uint64 finishDeadline
    );
    /// @notice `account` joined the task, which now has `members` members.
    event MemberJoined(uint256 indexed taskId, address indexed account, uint32 members);
    /// @notice `account` left the task, which now has `members` members; `refunded` is what it had
    /// paid for blocks before the start and got back (its blocks are for sale again).
    event MemberLeft(uint256 indexed taskId, address indexed account, uint32 members, uint256 refunded);
    /// @notice `buyer` bought `count` blocks for `cost` (in the task's `blockToken`); `blocksSold` blocks
    /// of the task are now sold. The coordinator assigns blocks from these events, in their order.
    event BlocksBought(uint256 indexed taskId, address indexed buyer, uint32 count, uint256 cost, uint32 blocksSold);
    /// @notice The coordinator started training with `members` members; the block payments held until
    /// now, `blockPayments`, went to the investor.
    event TaskStarted(uint256 indexed taskId, uint32 members, uint256 blockPayments);
    /// @notice The task was cancelled (`Cancelled` or `Abandoned`, see `state`) by `by`; `refunded` of
    /// the pool went back to the investor.
    event TaskCancelled(uint256 indexed taskId, address indexed by, TaskState state, uint256 refunded);
    /// @notice A member of a task cancelled before it started got back what it paid for blocks.
    event BlockPaymentRefunded(uint256 indexed taskId, address indexed account, uint256 amount);
    /// @notice The coordinator ended a reward-pool task: rewards are claimed against `root`, computed
    /// from the contribution record `recordCid`, until `claimDeadline`.
    event RewardsPosted(uint256 indexed taskId, bytes32 root, string recordCid, uint64 claimDeadline);
    /// @notice The coordinator ended a shareholding task: `holders` accounts received shares (one
    /// `SharesAssigned` each), computed from the contribution record `recordCid`.
    event SharesPosted(uint256 indexed taskId, uint256 holders, string recordCid);
    /// @notice `account` received `shares` of the task's model (out of `TOTAL_SHARES`).
    event SharesAssigned(uint256 indexed taskId, address indexed account, uint256 shares);
    /// @notice `amount` of the pool was paid to `account` on its proof.
    event RewardClaimed(uint256 indexed taskId, address indexed account, uint256 amount);
    /// @notice After the claim period, what was left of the pool, `amount`, went back to the investor.
    event UnclaimedReclaimed(uint256 indexed taskId, uint256 amount);
    /// @notice `payer` paid `fee` for prediction `requestId` on the task's model; `inputHash` is the
    /// content hash of the input the node is to answer. (In `RewardPool` mode the fee went to the
    /// investor; in `Shareholding` mode it accrued to the shareholders.)
    event PredictionRequested(
        uint256 indexed requestId, uint256 indexed taskId, address indexed payer, uint256 fee, bytes32 inputHash
    );
    /// @notice `payer` (the fee receiver of predictions paid off chain) paid `count` prediction fees of
    /// the task at once, `amount` = `count * predictionFee`; they went where `count` `requestPrediction`
    /// fees would have (the investor, or the shareholders' dividends).
    event PredictionFeesPaid(uint256 indexed taskId, address indexed payer, uint32 count, uint256 amount);
    /// @notice `from` moved `shares` of the task's model to `to`.
    event SharesTransferred(uint256 indexed taskId, address indexed from, address indexed to, uint256 shares);
    /// @notice `amount` of the task's accrued fees was paid to shareholder `account`.
    event DividendsWithdrawn(uint256 indexed taskId, address indexed account, uint256 amount);

    // ---------------------------------------------------------------- errors

    /// @notice The coordinator must not be the zero address.
    error InvalidCoordinator(address coordinator);
    /// @notice A reward pool must be 1 to 2^96 - 1; a shareholding task has none.
    error InvalidPool(Mode mode, uint256 pool);
    /// @notice A shareholding task must charge a prediction fee.
    error InvalidPredictionFee(Mode mode, uint256 fee);
    /// @notice A task has at least one block.
    error InvalidTotalBlocks(uint32 totalBlocks);
    /// @notice The minimum number of members must be 1 to `MAX_MIN_PARTICIPANTS`.
    error InvalidMinParticipants(uint16 minParticipants);
    /// @notice Deadlines must satisfy now < startDeadline < finishDeadline <= now + MAX_TASK_DURATION.
    error InvalidDeadlines(uint64 startDeadline, uint64 finishDeadline, uint256 nowTs);
    /// @notice A spec or a record CID must be 1 to `MAX_URI_LENGTH` bytes long.
    error InvalidUri(uint256 length);
    /// @notice `msg.value` must be what is paid in ETH, and zero when nothing is.
    error ValueMismatch(uint256 sent, uint256 expected);
    /// @notice No task has this id.
    error UnknownTask(uint256 taskId);
    /// @notice The call needs the task in another state.
    error WrongState(uint256 taskId, TaskState state);
    /// @notice The call applies to tasks of the other mode.
    error WrongMode(uint256 taskId, Mode mode);
    /// @notice Only the task's coordinator may do this.
    error NotCoordinator(uint256 taskId, address account);
    /// @notice `account` is already a member of the task.
    error AlreadyMember(uint256 taskId, address account);
    /// @notice `account` is not a member of the task.
    error NotMember(uint256 taskId, address account);
    /// @notice The task does not sell blocks (its block price is zero).
    error BlocksNotForSale(uint256 taskId);
    /// @notice A purchase of `count` blocks (at least one) with `sold` of `total` already sold.
    error InvalidBlockCount(uint256 taskId, uint32 count, uint32 sold, uint32 total);
    /// @notice `start` with fewer members than the task needs.
    error NotEnoughMembers(uint256 taskId, uint32 members, uint16 minParticipants);
    /// @notice The deadline for this step passed at `deadline` (unix seconds).
    error DeadlinePassed(uint256 taskId, uint64 deadline, uint256 nowTs);
    /// @notice `cancel` by someone other than the investor before the task's deadline, `deadline`.
    error CannotCancelYet(uint256 taskId, uint64 deadline, uint256 nowTs);
    /// @notice A Merkle root must not be zero.
    error InvalidRoot();
    /// @notice `postShares` needs 1 to `MAX_HOLDERS` holders and as many amounts.
    error InvalidHolders(uint256 holders, uint256 amounts);
    /// @notice A holder must be a non-zero account listed once, with non-zero shares.
    error InvalidHolder(address account, uint256 shares);
    /// @notice Shares must sum exactly to `TOTAL_SHARES`.
    error SharesDoNotSumToTotal(uint256 sum);
    /// @notice `account` already claimed its reward for the task.
    error AlreadyClaimed(uint256 taskId, address account);
    /// @notice The proof does not show (account, amount) under the task's root.
    error InvalidProof(uint256 taskId, address account, uint256 amount);
    /// @notice The claim would take the total claimed to `total`, above the pool.
    error ClaimExceedsPool(uint256 taskId, uint256 total, uint256 pool);
    /// @notice Claims closed at `claimDeadline`.
    error ClaimPeriodOver(uint256 taskId, uint64 claimDeadline, uint256 nowTs);
    /// @notice `reclaimUnclaimed` before `claimDeadline`.
    error ClaimPeriodNotOver(uint256 taskId, uint64 claimDeadline, uint256 nowTs);
    /// @notice The unclaimed rest of the pool was already reclaimed.
    error AlreadyReclaimed(uint256 taskId);
    /// @notice The task's model is not offered for paid predictions (its fee is zero).
    error PredictionsNotOffered(uint256 taskId);
    /// @notice `payPredictionFees` pays for at least one prediction.
    error InvalidPredictionCount(uint256 taskId, uint32 count);
    /// @notice `payPredictionFees` was sent expecting `payer` to have paid `expected` fees of the task
    /// before it, but `paid` were: another of its payments came first (nothing is paid twice).
    error PaidFeesMoved(uint256 taskId, address payer, uint64 expected, uint64 paid);
    /// @notice Nothing to pay: no block payment to refund, no dividend to withdraw.
    error NothingToPay(uint256 taskId, address account);
    /// @notice Shares sent to the zero address.
    error InvalidRecipient(address to);
    /// @notice `account` holds `balance` shares, fewer than `amount`.
    error InsufficientShares(uint256 taskId, address account, uint256 balance, uint256 amount);

    // ---------------------------------------------------------------- tasks

    /// @notice Create a task as its investor and return its id (1, 2, …). In `RewardPool` mode the pool
    /// is held now: `msg.value` for ETH, or pulled with `transferFrom` (approve first; a token that
    /// delivers anything else is refused, `AmountNotReceived`). See {TaskParams} for the rules.
    function createTask(TaskParams calldata params) external payable returns (uint256 taskId);

    /// @notice Join an `Open` or `Training` task as the caller.
    function join(uint256 taskId) external;

    /// @notice Leave an `Open` or `Training` task. Before the start, what the caller paid for blocks is
    /// paid back and its blocks are for sale again.
    function leave(uint256 taskId) external;

    /// @notice Buy `count` data blocks of an `Open` or `Training` task the caller is a member of, for
    /// `count * blockPrice` in the task's `blockToken` (`msg.value` for ETH, else pulled). Held until the
    /// start, paid to the investor once training runs.
    function buyBlocks(uint256 taskId, uint32 count) external payable;

    /// @notice The coordinator starts an `Open` task with at least `minParticipants` members, before
    /// its start deadline; the block payments held go to the investor.
    function start(uint256 taskId) external;

    /// @notice Cancel a task: the investor an `Open` one at any time; anyone an `Open` one from its
    /// start deadline on (`Cancelled`), or a `Training` one from its finish deadline on (`Abandoned`).
    /// A reward pool goes back to the investor.
    function cancel(uint256 taskId) external;

    /// @notice A member of a task `Cancelled` before it started takes back what it paid for blocks
    /// (`account` is paid; anyone may call).
    function refundBlocks(uint256 taskId, address account) external;

    // ---------------------------------------------------------------- results

    /// @notice The coordinator ends a `Training` reward-pool task before its finish deadline with the
    /// Merkle root of (account, amount) and the contribution record's content id.
    function postRewards(uint256 taskId, bytes32 root, string calldata recordCid) external;

    /// @notice The coordinator ends a `Training` shareholding task before its finish deadline by
    /// assigning `shares[i]` to `holders[i]` (1 to `MAX_HOLDERS` distinct accounts, each non-zero,
    /// summing exactly to `TOTAL_SHARES`), with the contribution record's content id.
    function postShares(
        uint256 taskId,
        address[] calldata holders,
        uint256[] calldata shares,
        string calldata recordCid
    ) external;

    /// @notice Pay `account` its `amount` of a finished reward-pool task's pool, proven by `proof` under
    /// the task's root; once per account, before the claim deadline, never beyond the pool in total.
    /// Anyone may submit a claim: the money goes to `account`.
    function claimReward(uint256 taskId, address account, uint256 amount, bytes32[] calldata proof) external;

    /// @notice From the claim deadline on, pay what is left of the pool to the investor (anyone may call;
    /// once).
    function reclaimUnclaimed(uint256 taskId) external;

    // ---------------------------------------------------------------- predictions and shares

    /// @notice Pay a `Finished` task's prediction fee (`msg.value` for ETH, else pulled) for a prediction
    /// on the input whose content hash is `inputHash`; returns the request id (1, 2, …, across tasks).
    function requestPrediction(uint256 taskId, bytes32 inputHash) external payable returns (uint256 requestId);

    /// @notice Pay `count` (at least one) prediction fees of a `Finished` task at once, `count *
    /// predictionFee` (`msg.value` for ETH, else pulled), for predictions answered off chain against
    /// vouchers; the fees go exactly where `count` `requestPrediction` fees would. Returns the amount.
    /// `paidBefore` is how many fees of the task the caller has paid this way so far
    /// (`predictionFeesPaidBy`); any other figure reverts `PaidFeesMoved`, so two payments computed
    /// from the same figure — by two processes of one fee receiver — cannot both go through.
    function payPredictionFees(uint256 taskId, uint32 count, uint64 paidBefore)
        external
        payable
        returns (uint256 amount);

    /// @notice How many prediction fees of the task `payer` has paid with `payPredictionFees`.
    function predictionFeesPaidBy(uint256 taskId, address payer) external view returns (uint64);

    /// @notice Move `amount` of the caller's shares of a shareholding task to `to`; the fees accrued so
    /// far stay with the caller.
    function transferShares(uint256 taskId, address to, uint256 amount) external;

    /// @notice Pay `account` everything its shares of the task earned and it has not withdrawn (anyone
    /// may call: the money goes to `account`).
    function withdrawDividends(uint256 taskId, address account) external;

    // ---------------------------------------------------------------- views

    /// @notice The stored task; all zero for an unknown id.
    function getTask(uint256 taskId) external view returns (Task memory);

    /// @notice `account`'s standing in the task.
    function getMember(uint256 taskId, address account) external view returns (Member memory);

    /// @notice The task's fee accounting (shareholding mode).
    function getDividends(uint256 taskId) external view returns (Dividends memory);

    /// @notice The shares `account` holds of the task's model.
    function sharesOf(uint256 taskId, address account) external view returns (uint256);

    /// @notice Everything `account`'s shares earned so far, withdrawn or not.
    function accumulativeDividendOf(uint256 taskId, address account) external view returns (uint256);

    /// @notice What `account` may withdraw now.
    function withdrawableDividendOf(uint256 taskId, address account) external view returns (uint256);

    /// @notice What `account` withdrew so far.
    function withdrawnDividendOf(uint256 taskId, address account) external view returns (uint256);

    /// @notice The Merkle leaf of (account, amount) in a reward tree.
    function rewardLeaf(address account, uint256 amount) external pure returns (bytes32);

    /// @notice The number of tasks created (the last id).
    function taskCount() external view returns (uint256);

    /// @notice The number of predictions requested (the last request id).
    function predictionCount() external view returns (uint256);

    /// @notice The sum of every shareholding task's shares: 1e18.
    function TOTAL_SHARES() external view returns (uint256);

    /// @notice The fixed-point scale of the fee-per-share accumulator: 2^128.
    function MAGNITUDE() external view returns (uint256);

    /// @notice How long after the results are posted rewards may be claimed (90 days).
    function CLAIM_PERIOD() external view returns (uint64);

    /// @notice How far in the future a task's finish deadline may be when it is created (365 days).
    function MAX_TASK_DURATION() external view returns (uint64);

    /// @notice The most holders one `postShares` may list (500).
    function MAX_HOLDERS() external view returns (uint256);

    /// @notice The highest minimum number of members a task may ask for (1,000).
    function MAX_MIN_PARTICIPANTS() external view returns (uint16);

    /// @notice The longest spec or record CID, in bytes (512).
    function MAX_URI_LENGTH() external view returns (uint256);
}
