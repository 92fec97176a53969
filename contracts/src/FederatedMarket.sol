// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IFederatedMarket} from "./interfaces/IFederatedMarket.sol";
import {Payouts} from "./base/Payouts.sol";

/// @title FederatedMarket
/// @notice The federated-learning market: tasks in reward-pool or shareholding mode, members and data
/// blocks, rewards paid by Merkle claims, model shares earning every paid prediction's fee (see
/// {IFederatedMarket}).
/// @dev Money rules:
/// - Per token, what the contract holds is: the reward pools of tasks not cancelled, less what was
///   claimed and what was reclaimed; the block payments held for tasks not started (and not refunded);
///   the shareholding fees not yet withdrawn (`feesIn - dividendsPaid`, the dust included); and what it
///   owes ({Payouts}). Every amount taken in is measured ({Payouts-_pull}) and every payout goes through
///   `_pay` (pushed, or owed when the push fails), after the state change and its event.
/// - A reward pool pays out at most itself: `claimed + amount <= pool` on every claim whatever the root
///   says, one claim per account, and the rest goes back to the investor once, after the claim period.
/// - Shares sum to `TOTAL_SHARES` from the moment they are posted and transfers keep the sum; fees are
///   accepted only then, so every fee is divided among `TOTAL_SHARES` shares. A holder's entitlement is
///   `(magnifiedFeePerShare * shares + correction) / MAGNITUDE`; a transfer moves
///   `magnifiedFeePerShare * amount` of correction from the receiver to the sender, so entitlements do
///   not change when shares move, and the corrections always sum to zero.
/// - Each deadline splits time in two: before it only the step it guards is possible (start, post
///   results, claim), from it on only the way out (cancel, reclaim).
/// - Every state-changing entry point holds the base's transient lock: a hostile token or receiver
///   cannot re-enter any of them.
contract FederatedMarket is IFederatedMarket, Payouts {
    using SafeCast for uint256;
    using SafeCast for int256;

    /// @inheritdoc IFederatedMarket
    uint256 public constant TOTAL_SHARES = 1e18;
    /// @inheritdoc IFederatedMarket
    uint256 public constant MAGNITUDE = 2 ** 128;
    /// @inheritdoc IFederatedMarket
    uint64 public constant CLAIM_PERIOD = 90 days;
    /// @inheritdoc IFederatedMarket
    uint64 public constant MAX_TASK_DURATION = 365 days;
    /// @inheritdoc IFederatedMarket
    uint256 public constant MAX_HOLDERS = 500;
    /// @inheritdoc IFederatedMarket
    uint16 public constant MAX_MIN_PARTICIPANTS = 1_000;
    /// @inheritdoc IFederatedMarket
    uint256 public constant MAX_URI_LENGTH = 512;

    /// @dev A shareholder's balance and what it withdrew (one word); its correction is kept apart, since
    /// it stays zero for shares assigned before any fee and is written only by transfers.
    struct Holding {
        uint128 shares;
        uint128 withdrawn;
    }

    /// @inheritdoc IFederatedMarket
    uint256 public taskCount;
    /// @inheritdoc IFederatedMarket
    uint256 public predictionCount;

    mapping(uint256 taskId => Task) private _tasks;
    mapping(uint256 taskId => mapping(address account => Member)) private _members;
    mapping(uint256 taskId => Dividends) private _dividends;
    mapping(uint256 taskId => mapping(address account => Holding)) private _holdings;
    mapping(uint256 taskId => mapping(address account => int256)) private _corrections;
    mapping(uint256 taskId => mapping(address payer => uint64)) private _feesPaidBy;

    constructor() Payouts("Agora FederatedMarket", "1") {}

    // ---------------------------------------------------------------- tasks

    /// @inheritdoc IFederatedMarket
    function createTask(TaskParams calldata params) external payable nonReentrant returns (uint256 taskId) {
        _checkParams(params);
        bool pooled = params.mode == Mode.RewardPool;
        {
            uint256 expected = pooled && params.token == address(0) ? params.pool : 0;
            if (msg.value != expected) revert ValueMismatch(msg.value, expected);
        }
        taskId = ++taskCount;
        Task storage task = _tasks[taskId];
        task.investor = msg.sender;
        task.startDeadline = params.startDeadline;
        task.finishDeadline = params.finishDeadline;
        task.mode = params.mode;
        task.state = TaskState.Open;
        task.coordinator = params.coordinator;
        task.minParticipants = params.minParticipants;
        task.token = params.token;
        task.pool = params.pool;
        task.blockToken = params.blockToken;
        task.blockPrice = params.blockPrice;
        task.predictionFee = params.predictionFee;
        task.totalBlocks = params.totalBlocks;
        emit TaskCreated(
            taskId,
            msg.sender,
            params.coordinator,
            params.mode,
            params.token,
            params.pool,
            params.predictionFee,
            params.spec
        );
        emit TaskTerms(
            taskId,
            params.blockToken,
            params.blockPrice,
            params.totalBlocks,
            params.minParticipants,
            params.startDeadline,
            params.finishDeadline
        );
        if (pooled && params.token != address(0)) _pull(params.token, msg.sender, params.pool);
    }

    /// @inheritdoc IFederatedMarket
    function join(uint256 taskId) external nonReentrant {
        Task storage task = _task(taskId);
        _requireRecruiting(taskId, task);
        Member storage member = _members[taskId][msg.sender];
        if (member.joined) revert AlreadyMember(taskId, msg.sender);
        member.joined = true;
        uint32 members = task.members + 1;
        task.members = members;
        emit MemberJoined(taskId, msg.sender, members);
    }

    /// @inheritdoc IFederatedMarket
    function leave(uint256 taskId) external nonReentrant {
        Task storage task = _task(taskId);
        _requireRecruiting(taskId, task);
        Member storage member = _members[taskId][msg.sender];
        if (!member.joined) revert NotMember(taskId, msg.sender);
        member.joined = false;
        uint32 members = task.members - 1;
        task.members = members;
        uint256 refund = 0;
        if (task.state == TaskState.Open) {
            // Before the start the blocks were not paid to anyone yet: they go back on sale, the money back
            // to the member.
            refund = member.escrowed;
            task.blocksSold -= member.blocks;
            task.blockEscrow -= member.escrowed;
            member.blocks = 0;
            member.escrowed = 0;
        }
        emit MemberLeft(taskId, msg.sender, members, refund);
        if (refund != 0) _pay(msg.sender, task.blockToken, refund);
    }

    /// @inheritdoc IFederatedMarket
    function buyBlocks(uint256 taskId, uint32 count) external payable nonReentrant {
        Task storage task = _task(taskId);
        _requireRecruiting(taskId, task);
        Member storage member = _members[taskId][msg.sender];
        if (!member.joined) revert NotMember(taskId, msg.sender);
        uint256 price = task.blockPrice;
        if (price == 0) revert BlocksNotForSale(taskId);
        uint32 sold = task.blocksSold;
        uint32 total = task.totalBlocks;
        if (count == 0 || count > total - sold) revert InvalidBlockCount(taskId, count, sold, total);
        uint256 cost = price * count; // < 2^128
        address blockToken = task.blockToken;
        {
            uint256 expected = blockToken == address(0) ? cost : 0;
            if (msg.value != expected) revert ValueMismatch(msg.value, expected);
        }
        sold += count;
        task.blocksSold = sold;
        member.blocks += count;
        bool held = task.state == TaskState.Open;
        if (held) {
            // forge-lint: disable-next-line(unsafe-typecast)
            member.escrowed += uint128(cost); // the sum of a task's block payments is below 2^128
            // forge-lint: disable-next-line(unsafe-typecast)
            task.blockEscrow += uint128(cost);
        }
        emit BlocksBought(taskId, msg.sender, count, cost, sold);
        if (blockToken != address(0)) _pull(blockToken, msg.sender, cost);
        if (!held) _pay(task.investor, blockToken, cost);
    }

    /// @inheritdoc IFederatedMarket
    function start(uint256 taskId) external nonReentrant {
        Task storage task = _task(taskId);
        if (task.state != TaskState.Open) revert WrongState(taskId, task.state);
        if (msg.sender != task.coordinator) revert NotCoordinator(taskId, msg.sender);
        uint40 deadline = task.startDeadline;
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp >= deadline) revert DeadlinePassed(taskId, deadline, block.timestamp);
        uint32 members = task.members;
        if (members < task.minParticipants) revert NotEnoughMembers(taskId, members, task.minParticipants);
        task.state = TaskState.Training;
        uint256 payments = task.blockEscrow;
        task.blockEscrow = 0;
        emit TaskStarted(taskId, members, payments);
        if (payments != 0) _pay(task.investor, task.blockToken, payments);
    }

    /// @inheritdoc IFederatedMarket
    function cancel(uint256 taskId) external nonReentrant {
        Task storage task = _task(taskId);
        TaskState next = _cancelledState(taskId, task);
        task.state = next;
        uint256 refund = task.pool; // zero in shareholding mode
        emit TaskCancelled(taskId, msg.sender, next, refund);
        if (refund != 0) _pay(task.investor, task.token, refund);
    }

    /// @inheritdoc IFederatedMarket
    function refundBlocks(uint256 taskId, address account) external nonReentrant {
        Task storage task = _task(taskId);
        if (task.state != TaskState.Cancelled) revert WrongState(taskId, task.state);
        Member storage member = _members[taskId][account];
        uint256 amount = member.escrowed;
        if (amount == 0) revert NothingToPay(taskId, account);
        member.escrowed = 0;
        // forge-lint: disable-next-line(unsafe-typecast)
        task.blockEscrow -= uint128(amount);
        emit BlockPaymentRefunded(taskId, account, amount);
        _pay(account, task.blockToken, amount);
    }

    // ---------------------------------------------------------------- results

    /// @inheritdoc IFederatedMarket
    function postRewards(uint256 taskId, bytes32 root, string calldata recordCid) external nonReentrant {
        Task storage task = _task(taskId);
        _checkPost(taskId, task, Mode.RewardPool, recordCid);
        if (root == bytes32(0)) revert InvalidRoot();
        task.rewardRoot = root;
        uint64 claimDeadline = _finish(task);
        emit RewardsPosted(taskId, root, recordCid, claimDeadline);
    }

    /// @inheritdoc IFederatedMarket
    function postShares(
        uint256 taskId,
        address[] calldata holders,
        uint256[] calldata shares,
        string calldata recordCid
    ) external nonReentrant {
        Task storage task = _task(taskId);
        _checkPost(taskId, task, Mode.Shareholding, recordCid);
        uint256 count = holders.length;
        if (count == 0 || count > MAX_HOLDERS || shares.length != count) {
            revert InvalidHolders(count, shares.length);
        }
        mapping(address => Holding) storage holdings = _holdings[taskId];
        uint256 sum = 0;
        for (uint256 i; i < count; ++i) {
            address account = holders[i];
            uint256 amount = shares[i];
            // A holder listed twice already holds shares at its second entry (amounts are non-zero).
            if (account == address(0) || amount == 0 || amount > TOTAL_SHARES || holdings[account].shares != 0) {
                revert InvalidHolder(account, amount);
            }
            sum += amount; // each term <= TOTAL_SHARES, at most MAX_HOLDERS terms: no overflow
            // forge-lint: disable-next-line(unsafe-typecast)
            holdings[account].shares = uint128(amount);
            emit SharesAssigned(taskId, account, amount);
        }
        if (sum != TOTAL_SHARES) revert SharesDoNotSumToTotal(sum);
        // No fee was taken before the shares existed: every correction starts at zero.
        _finish(task);
        emit SharesPosted(taskId, count, recordCid);
    }

    /// @inheritdoc IFederatedMarket
    function claimReward(uint256 taskId, address account, uint256 amount, bytes32[] calldata proof)
        external
        nonReentrant
    {
        Task storage task = _task(taskId);
        _requireFinished(taskId, task, Mode.RewardPool);
        uint64 claimDeadline = _claimDeadline(task);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp >= claimDeadline) revert ClaimPeriodOver(taskId, claimDeadline, block.timestamp);
        Member storage member = _members[taskId][account];
        if (member.rewardClaimed) revert AlreadyClaimed(taskId, account);
        if (!MerkleProof.verifyCalldata(proof, task.rewardRoot, _rewardLeaf(account, amount))) {
            revert InvalidProof(taskId, account, amount);
        }
        uint256 claimed = task.claimed + amount;
        uint256 pool = task.pool;
        if (claimed > pool) revert ClaimExceedsPool(taskId, claimed, pool);
        member.rewardClaimed = true;
        // forge-lint: disable-next-line(unsafe-typecast)
        task.claimed = uint96(claimed); // <= pool < 2^96
        emit RewardClaimed(taskId, account, amount);
        if (amount != 0) _pay(account, task.token, amount);
    }

    /// @inheritdoc IFederatedMarket
    function reclaimUnclaimed(uint256 taskId) external nonReentrant {
        Task storage task = _task(taskId);
        _requireFinished(taskId, task, Mode.RewardPool);
        uint64 claimDeadline = _claimDeadline(task);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < claimDeadline) revert ClaimPeriodNotOver(taskId, claimDeadline, block.timestamp);
        if (task.reclaimed) revert AlreadyReclaimed(taskId);
        task.reclaimed = true;
        uint256 rest = task.pool - task.claimed;
        emit UnclaimedReclaimed(taskId, rest);
        if (rest != 0) _pay(task.investor, task.token, rest);
    }

    // ---------------------------------------------------------------- predictions and shares

    /// @inheritdoc IFederatedMarket
    function requestPrediction(uint256 taskId, bytes32 inputHash)
        external
        payable
        nonReentrant
        returns (uint256 requestId)
    {
        Task storage task = _task(taskId);
        uint256 fee = _predictionFee(taskId, task);
        requestId = ++predictionCount;
        bool shared = _accrue(taskId, task, fee);
        emit PredictionRequested(requestId, taskId, msg.sender, fee, inputHash);
        _collectFee(task, fee, shared);
    }

    /// @inheritdoc IFederatedMarket
    function payPredictionFees(uint256 taskId, uint32 count, uint64 paidBefore)
        external
        payable
        nonReentrant
        returns (uint256 amount)
    {
        Task storage task = _task(taskId);
        uint256 fee = _predictionFee(taskId, task);
        if (count == 0) revert InvalidPredictionCount(taskId, count);
        uint64 paid = _feesPaidBy[taskId][msg.sender];
        if (paid != paidBefore) revert PaidFeesMoved(taskId, msg.sender, paidBefore, paid);
        _feesPaidBy[taskId][msg.sender] = paid + count; // < 2^64: one count per paid fee
        amount = fee * count; // < 2^96 * 2^32
        bool shared = _accrue(taskId, task, amount);
        emit PredictionFeesPaid(taskId, msg.sender, count, amount);
        _collectFee(task, amount, shared);
    }

    /// @inheritdoc IFederatedMarket
    function transferShares(uint256 taskId, address to, uint256 amount) external nonReentrant {
        Task storage task = _task(taskId);
        _requireFinished(taskId, task, Mode.Shareholding);
        if (to == address(0)) revert InvalidRecipient(to);
        Holding storage from = _holdings[taskId][msg.sender];
        uint256 balance = from.shares;
        if (amount > balance) revert InsufficientShares(taskId, msg.sender, balance, amount);
        // forge-lint: disable-next-line(unsafe-typecast)
        from.shares = uint128(balance - amount);
        // forge-lint: disable-next-line(unsafe-typecast)
        _holdings[taskId][to].shares += uint128(amount); // shares sum to TOTAL_SHARES
        int256 correction = (_dividends[taskId].magnifiedFeePerShare * amount).toInt256();
        if (correction != 0) {
            _corrections[taskId][msg.sender] += correction;
            _corrections[taskId][to] -= correction;
        }
        emit SharesTransferred(taskId, msg.sender, to, amount);
    }

    /// @inheritdoc IFederatedMarket
    function withdrawDividends(uint256 taskId, address account) external nonReentrant {
        Task storage task = _task(taskId);
        _requireFinished(taskId, task, Mode.Shareholding);
        Holding storage holding = _holdings[taskId][account];
        uint256 amount = _accumulative(taskId, account, holding.shares) - holding.withdrawn;
        if (amount == 0) revert NothingToPay(taskId, account);
        // forge-lint: disable-next-line(unsafe-typecast)
        holding.withdrawn += uint128(amount); // withdrawn in all <= feesIn < 2^128
        // forge-lint: disable-next-line(unsafe-typecast)
        _dividends[taskId].dividendsPaid += uint128(amount);
        emit DividendsWithdrawn(taskId, account, amount);
        _pay(account, task.token, amount);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IFederatedMarket
    function getTask(uint256 taskId) external view returns (Task memory) {
        return _tasks[taskId];
    }

    /// @inheritdoc IFederatedMarket
    function getMember(uint256 taskId, address account) external view returns (Member memory) {
        return _members[taskId][account];
    }

    /// @inheritdoc IFederatedMarket
    function getDividends(uint256 taskId) external view returns (Dividends memory) {
        return _dividends[taskId];
    }

    /// @inheritdoc IFederatedMarket
    function sharesOf(uint256 taskId, address account) external view returns (uint256) {
        return _holdings[taskId][account].shares;
    }

    /// @inheritdoc IFederatedMarket
    function accumulativeDividendOf(uint256 taskId, address account) external view returns (uint256) {
        return _accumulative(taskId, account, _holdings[taskId][account].shares);
    }

    /// @inheritdoc IFederatedMarket
    function predictionFeesPaidBy(uint256 taskId, address payer) external view returns (uint64) {
        return _feesPaidBy[taskId][payer];
    }

    /// @inheritdoc IFederatedMarket
    function withdrawableDividendOf(uint256 taskId, address account) external view returns (uint256) {
        Holding storage holding = _holdings[taskId][account];
        return _accumulative(taskId, account, holding.shares) - holding.withdrawn;
    }

    /// @inheritdoc IFederatedMarket
    function withdrawnDividendOf(uint256 taskId, address account) external view returns (uint256) {
        return _holdings[taskId][account].withdrawn;
    }

    /// @inheritdoc IFederatedMarket
    function rewardLeaf(address account, uint256 amount) external pure returns (bytes32) {
        return _rewardLeaf(account, amount);
    }

    // ---------------------------------------------------------------- internal

    function _checkParams(TaskParams calldata params) private view {
        if (params.coordinator == address(0)) revert InvalidCoordinator(params.coordinator);
        if (params.mode == Mode.RewardPool) {
            if (params.pool == 0) revert InvalidPool(params.mode, params.pool);
        } else {
            if (params.pool != 0) revert InvalidPool(params.mode, params.pool);
            if (params.predictionFee == 0) revert InvalidPredictionFee(params.mode, params.predictionFee);
        }
        if (params.totalBlocks == 0) revert InvalidTotalBlocks(params.totalBlocks);
        if (params.minParticipants == 0 || params.minParticipants > MAX_MIN_PARTICIPANTS) {
            revert InvalidMinParticipants(params.minParticipants);
        }
        // forge-lint: disable-start(block-timestamp)
        if (
            params.startDeadline <= block.timestamp || params.finishDeadline <= params.startDeadline
                || params.finishDeadline > block.timestamp + MAX_TASK_DURATION
        ) {
            revert InvalidDeadlines(params.startDeadline, params.finishDeadline, block.timestamp);
        }
        // forge-lint: disable-end(block-timestamp)
        _checkUri(params.spec);
    }

    /// @dev The state `cancel` moves the task to, if the caller may cancel it now: an `Open` task by its
    /// investor at any time or by anyone from its start deadline on (`Cancelled`), a `Training` task by
    /// anyone from its finish deadline on (`Abandoned`).
    function _cancelledState(uint256 taskId, Task storage task) private view returns (TaskState) {
        TaskState state = task.state;
        if (state == TaskState.Open) {
            uint40 deadline = task.startDeadline;
            // forge-lint: disable-next-line(block-timestamp)
            if (msg.sender != task.investor && block.timestamp < deadline) {
                revert CannotCancelYet(taskId, deadline, block.timestamp);
            }
            return TaskState.Cancelled;
        }
        if (state == TaskState.Training) {
            uint40 deadline = task.finishDeadline;
            // forge-lint: disable-next-line(block-timestamp)
            if (block.timestamp < deadline) revert CannotCancelYet(taskId, deadline, block.timestamp);
            return TaskState.Abandoned;
        }
        revert WrongState(taskId, state);
    }

    function _checkUri(string calldata uri) private pure {
        uint256 length = bytes(uri).length;
        if (length == 0 || length > MAX_URI_LENGTH) revert InvalidUri(length);
    }

    /// @dev The checks `postRewards` and `postShares` share: a `Training` task of `mode`, the
    /// coordinator calling, before the finish deadline, with a record CID.
    function _checkPost(uint256 taskId, Task storage task, Mode mode, string calldata recordCid) private view {
        if (task.state != TaskState.Training) revert WrongState(taskId, task.state);
        if (task.mode != mode) revert WrongMode(taskId, task.mode);
        if (msg.sender != task.coordinator) revert NotCoordinator(taskId, msg.sender);
        uint40 deadline = task.finishDeadline;
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp >= deadline) revert DeadlinePassed(taskId, deadline, block.timestamp);
        _checkUri(recordCid);
    }

    /// @dev Marks the task `Finished` now and returns the end of its claim period.
    function _finish(Task storage task) private returns (uint64) {
        task.state = TaskState.Finished;
        // forge-lint: disable-next-line(unsafe-typecast)
        task.finishedAt = uint40(block.timestamp); // before the finish deadline, a uint40
        return _claimDeadline(task);
    }

    function _claimDeadline(Task storage task) private view returns (uint64) {
        return uint64(task.finishedAt) + CLAIM_PERIOD;
    }

    function _task(uint256 taskId) private view returns (Task storage task) {
        task = _tasks[taskId];
        if (task.state == TaskState.None) revert UnknownTask(taskId);
    }

    function _requireRecruiting(uint256 taskId, Task storage task) private view {
        TaskState state = task.state;
        if (state != TaskState.Open && state != TaskState.Training) revert WrongState(taskId, state);
    }

    function _requireFinished(uint256 taskId, Task storage task, Mode mode) private view {
        if (task.state != TaskState.Finished) revert WrongState(taskId, task.state);
        if (task.mode != mode) revert WrongMode(taskId, task.mode);
    }

    /// @dev The prediction fee of a `Finished` task that offers paid predictions.
    function _predictionFee(uint256 taskId, Task storage task) private view returns (uint256 fee) {
        if (task.state != TaskState.Finished) revert WrongState(taskId, task.state);
        fee = task.predictionFee;
        if (fee == 0) revert PredictionsNotOffered(taskId);
    }

    /// @dev Adds `amount` of fees to a shareholding task's dividends (returns true), or nothing in
    /// reward-pool mode (the investor is paid by `_collectFee`). The remainder of the last division is
    /// carried, so over all fees exactly feesIn * MAGNITUDE = magnifiedFeePerShare * TOTAL_SHARES +
    /// remainder.
    function _accrue(uint256 taskId, Task storage task, uint256 amount) private returns (bool shared) {
        shared = task.mode == Mode.Shareholding;
        if (shared) {
            Dividends storage dividends = _dividends[taskId];
            uint256 magnified = amount * MAGNITUDE + dividends.remainder;
            dividends.magnifiedFeePerShare += magnified / TOTAL_SHARES;
            // forge-lint: disable-next-line(unsafe-typecast)
            dividends.remainder = uint64(magnified % TOTAL_SHARES); // < 1e18 < 2^64
            dividends.feesIn += amount.toUint128();
        }
    }

    /// @dev Takes `amount` of fees from the caller (`msg.value` must be exactly it for ETH, zero for a
    /// token, which is pulled) and pays it to the investor unless it accrued to shareholders.
    function _collectFee(Task storage task, uint256 amount, bool shared) private {
        address token = task.token;
        uint256 expected = token == address(0) ? amount : 0;
        if (msg.value != expected) revert ValueMismatch(msg.value, expected);
        if (token != address(0)) _pull(token, msg.sender, amount);
        if (!shared) _pay(task.investor, token, amount);
    }

    /// @dev Everything `shares` of `account` earned so far: never negative, since a correction only
    /// moves what the shares it went with had earned.
    function _accumulative(uint256 taskId, address account, uint256 shares) private view returns (uint256) {
        int256 magnified = (_dividends[taskId].magnifiedFeePerShare * shares).toInt256() + _corrections[taskId][account];
        return magnified.toUint256() / MAGNITUDE;
    }

    function _rewardLeaf(address account, uint256 amount) private pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(account, amount))));
    }
}
