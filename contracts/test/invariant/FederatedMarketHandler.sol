// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../utils/Test.sol";
import {RewardTree} from "../utils/FederatedFixture.sol";
import {FederatedMarket} from "../../src/FederatedMarket.sol";
import {MarketToken} from "../../src/MarketToken.sol";
import {IFederatedMarket} from "../../src/interfaces/IFederatedMarket.sol";
import {IPayouts} from "../../src/interfaces/IPayouts.sol";
import {FaultyToken, FeeOnTransferToken, Receiver, ReentrantToken} from "../utils/Mocks.sol";

/// @notice Drives the federated market through random sequences: tasks in both modes from an EOA
/// investor and a contract investor, with pools, block payments and fees in ETH, AMT, a token that fails
/// transfers to accounts it blocks and a token that re-enters on every transfer; trainers (two EOAs and a
/// contract that can start rejecting ETH) joining, leaving and buying blocks; starts, cancellations by the
/// investor or anyone, refunds; reward roots that are honest or that promise more than the pool; claims
/// (honest, repeated, and forged with an amount the root does not hold); reclaims; share lists; paid
/// predictions; share transfers; dividend and owed withdrawals; time jumps. Every call's outcome is
/// predicted from the state before it and checked; ghost variables record what went in and out per asset
/// and, per task, what claims and dividends paid.
contract FederatedMarketHandler is Test {
    uint256 internal constant MAX_TASKS = 12;
    uint256 internal constant MAX_AMOUNT = 1_000 ether;
    uint256 internal constant SHARES = 1e18;
    uint256 internal constant ANY = 0;
    uint256 internal constant REWARD = 1;
    uint256 internal constant SHARES_MODE = 2;
    // state masks for `_prefer` (bit i: TaskState(i))
    uint256 internal constant OPEN = 1 << 1;
    uint256 internal constant TRAINING = 1 << 2;
    uint256 internal constant RECRUITING = OPEN | TRAINING;
    uint256 internal constant FINISHED = 1 << 3;
    uint256 internal constant CANCELLED = 1 << 4;

    FederatedMarket public immutable market;
    MarketToken public immutable token;
    FaultyToken public immutable faulty;
    ReentrantToken public immutable reentrant;
    FeeOnTransferToken public immutable taxed;
    address public immutable coordinator;
    address public immutable payer;
    Receiver public immutable contractTrainer;
    Receiver public immutable contractInvestor;

    address[] internal investors;
    address[] internal trainers;
    /// @notice Accounts that may hold shares: the trainers and the payer (who buys shares from them).
    address[] public holderAccounts;
    /// @notice Everyone who can receive money from the contract.
    address[] public participants;

    uint256[] public taskIds;
    /// @dev The task `advance` is moving (zero otherwise): every action picks it.
    uint256 internal forcedTask;
    mapping(uint256 taskId => address[]) internal rewardAccounts;
    mapping(uint256 taskId => uint256[]) internal rewardAmounts;

    // ghost state, per asset (address(0) = ETH)
    mapping(address asset => uint256) public ghostPaidIn;
    mapping(address asset => uint256) public ghostPaidOut;
    // ghost state, per task
    mapping(uint256 taskId => uint256) public ghostClaimedOut;
    mapping(uint256 taskId => mapping(address account => uint256)) public ghostClaims;
    mapping(uint256 taskId => uint256) public ghostFeesIn;
    /// @dev Fees of the task the payer forwarded with `payPredictionFees`, by count.
    mapping(uint256 taskId => uint64) public ghostFeesForwarded;
    mapping(uint256 taskId => uint256) public ghostDividendsOut;
    // ghost state, for hostile calls: each must stay zero
    uint256 public ghostTaxedAccepted;
    uint256 public ghostForgedAccepted;
    uint256 public ghostReentriesAccepted;
    uint256 public ghostMispaid;

    mapping(bytes32 => uint256) public calls;

    constructor(FederatedMarket market_) {
        market = market_;
        token = new MarketToken(); // the handler mints
        faulty = new FaultyToken();
        reentrant = new ReentrantToken(address(market_));
        taxed = new FeeOnTransferToken(100);
        coordinator = makeAddr("coordinator");
        payer = makeAddr("payer");
        contractTrainer = new Receiver();
        contractInvestor = new Receiver();
        investors = [makeAddr("investor"), address(contractInvestor)];
        trainers = [makeAddr("trainerA"), makeAddr("trainerB"), address(contractTrainer)];
        holderAccounts = [trainers[0], trainers[1], trainers[2], payer];
        participants = [investors[0], investors[1], trainers[0], trainers[1], trainers[2], payer];
        for (uint256 i; i < participants.length; ++i) {
            vm.startPrank(participants[i]);
            token.approve(address(market), type(uint256).max);
            faulty.approve(address(market), type(uint256).max);
            reentrant.approve(address(market), type(uint256).max);
            taxed.approve(address(market), type(uint256).max);
            vm.stopPrank();
        }
    }

    // ------------------------------------------------------------ tasks

    function create(
        uint256 investorSeed,
        bool shareholding,
        uint8 assetSeed,
        uint8 blockAssetSeed,
        uint256 pool,
        uint256 fee,
        uint256 price,
        uint256 blocks,
        uint256 minimum,
        uint256 startIn,
        uint256 finishAfter
    ) external {
        if (taskIds.length >= MAX_TASKS) return;
        IFederatedMarket.TaskParams memory p;
        p.mode = shareholding ? IFederatedMarket.Mode.Shareholding : IFederatedMarket.Mode.RewardPool;
        p.coordinator = coordinator;
        p.token = _asset(assetSeed);
        p.pool = shareholding ? 0 : uint96(bound(pool, 1, MAX_AMOUNT));
        p.predictionFee = uint96(bound(fee, shareholding ? 1 : 0, 10 ether));
        p.blockToken = _asset(blockAssetSeed);
        p.blockPrice = uint96(bound(price, 0, 10 ether));
        p.totalBlocks = uint32(bound(blocks, 1, 30));
        p.minParticipants = uint16(bound(minimum, 1, 3));
        p.startDeadline = uint40(block.timestamp + bound(startIn, 1 hours, 3 days));
        p.finishDeadline = uint40(p.startDeadline + bound(finishAfter, 1 hours, 7 days));
        p.spec = "ipfs://spec";
        address investor = investors[investorSeed % investors.length];
        uint256 value = _fund(investor, p.token, p.pool);
        (, bytes memory ret) =
            _run(p.token, investor, value, abi.encodeCall(IFederatedMarket.createTask, (p)), p.pool, true);
        taskIds.push(abi.decode(ret, (uint256)));
        ghostPaidIn[p.token] += p.pool;
        ++calls["create"];
    }

    /// @notice An investor tries to escrow a pool in the fee-on-transfer token: it must be refused.
    function createTaxed(uint256 pool) external {
        pool = bound(pool, 100, MAX_AMOUNT);
        taxed.mint(investors[0], pool);
        IFederatedMarket.TaskParams memory p;
        p.coordinator = coordinator;
        p.token = address(taxed);
        p.pool = uint96(pool);
        p.totalBlocks = 1;
        p.minParticipants = 1;
        p.startDeadline = uint40(block.timestamp + 1 hours);
        p.finishDeadline = uint40(block.timestamp + 2 hours);
        p.spec = "ipfs://spec";
        vm.prank(investors[0]);
        (bool ok, bytes memory ret) = address(market).call(abi.encodeCall(IFederatedMarket.createTask, (p)));
        if (ok) {
            ++ghostTaxedAccepted;
        } else {
            assertEq(
                ret,
                abi.encodeWithSelector(IPayouts.AmountNotReceived.selector, address(taxed), pool, pool - pool / 100)
            );
        }
        ++calls["createTaxed"];
    }

    function join(uint256 taskSeed, uint256 who) external {
        (uint256 taskId, IFederatedMarket.Task memory task) = _prefer(taskSeed, RECRUITING, ANY);
        address account = trainers[who % trainers.length];
        bool expectOk = _recruiting(task) && !market.getMember(taskId, account).joined;
        _expect(_call(account, 0, abi.encodeCall(IFederatedMarket.join, (taskId))), expectOk, "join");
    }

    function leave(uint256 taskSeed, uint256 who) external {
        (uint256 taskId, IFederatedMarket.Task memory task) = _prefer(taskSeed, RECRUITING, ANY);
        address account = trainers[who % trainers.length];
        IFederatedMarket.Member memory member = market.getMember(taskId, account);
        bool expectOk = _recruiting(task) && member.joined;
        uint256 refund = task.state == IFederatedMarket.TaskState.Open ? member.escrowed : 0;
        uint256 before = _holding(account, task.blockToken);
        (bool ok,) = _run(task.blockToken, account, 0, abi.encodeCall(IFederatedMarket.leave, (taskId)), 0, false);
        _expect(ok, expectOk, "leave");
        if (ok) _checkReceived(account, task.blockToken, before, refund);
    }

    function buy(uint256 taskSeed, uint256 who, uint256 count) external {
        (uint256 taskId, IFederatedMarket.Task memory task) = _prefer(taskSeed, RECRUITING, ANY);
        address account = trainers[who % trainers.length];
        uint256 left = task.totalBlocks - task.blocksSold;
        count = bound(count, 1, left == 0 ? 1 : left);
        bool expectOk =
            _recruiting(task) && market.getMember(taskId, account).joined && task.blockPrice != 0 && count <= left;
        uint256 cost = expectOk ? count * task.blockPrice : 0;
        uint256 value = _fund(account, task.blockToken, cost);
        (bool ok,) = _run(
            task.blockToken,
            account,
            value,
            abi.encodeCall(IFederatedMarket.buyBlocks, (taskId, uint32(count))),
            cost,
            false
        );
        _expect(ok, expectOk, "buy");
        if (ok) ghostPaidIn[task.blockToken] += cost;
    }

    function start(uint256 taskSeed) external {
        (uint256 taskId, IFederatedMarket.Task memory task) = _prefer(taskSeed, OPEN, ANY);
        bool expectOk = task.state == IFederatedMarket.TaskState.Open && block.timestamp < task.startDeadline
            && task.members >= task.minParticipants;
        (bool ok,) = _run(task.blockToken, coordinator, 0, abi.encodeCall(IFederatedMarket.start, (taskId)), 0, false);
        _expect(ok, expectOk, "start");
    }

    function cancel(uint256 taskSeed, bool byInvestor) external {
        (uint256 taskId, IFederatedMarket.Task memory task) = _prefer(taskSeed, RECRUITING, ANY);
        address caller = byInvestor ? task.investor : payer;
        bool expectOk =
            (task.state == IFederatedMarket.TaskState.Open && (byInvestor || block.timestamp >= task.startDeadline))
                || (task.state == IFederatedMarket.TaskState.Training && block.timestamp >= task.finishDeadline);
        uint256 investorBefore = _holding(task.investor, task.token);
        (bool ok,) = _run(task.token, caller, 0, abi.encodeCall(IFederatedMarket.cancel, (taskId)), 0, false);
        _expect(ok, expectOk, "cancel");
        if (ok && _holding(task.investor, task.token) - investorBefore != task.pool) ++ghostMispaid;
    }

    function refundBlocks(uint256 taskSeed, uint256 who) external {
        (uint256 taskId, IFederatedMarket.Task memory task) = _prefer(taskSeed, CANCELLED, ANY);
        address account = trainers[who % trainers.length];
        uint256 escrowed = market.getMember(taskId, account).escrowed;
        bool expectOk = task.state == IFederatedMarket.TaskState.Cancelled && escrowed != 0;
        uint256 before = _holding(account, task.blockToken);
        (bool ok,) =
            _run(task.blockToken, payer, 0, abi.encodeCall(IFederatedMarket.refundBlocks, (taskId, account)), 0, false);
        _expect(ok, expectOk, "refundBlocks");
        if (ok) _checkReceived(account, task.blockToken, before, escrowed);
    }

    // ------------------------------------------------------------ results

    /// @notice The coordinator posts a split of the pool among the trainers, or (`inflate`) a root whose
    /// leaves add up to more than the pool.
    function postRewards(uint256 taskSeed, uint256[3] memory weights, bool inflate) external {
        (uint256 taskId, IFederatedMarket.Task memory task) = _prefer(taskSeed, TRAINING, REWARD);
        bool expectOk = task.state == IFederatedMarket.TaskState.Training
            && task.mode == IFederatedMarket.Mode.RewardPool && block.timestamp < task.finishDeadline;
        uint256[] memory amounts = _split(task.pool, weights);
        if (inflate) {
            for (uint256 i; i < amounts.length; ++i) {
                amounts[i] = amounts[i] * 3 / 2 + 1;
            }
        }
        bytes32 root = _root(trainers, amounts);
        bool ok = _call(coordinator, 0, abi.encodeCall(IFederatedMarket.postRewards, (taskId, root, "bafkcid")));
        _expect(ok, expectOk, "postRewards");
        if (ok) {
            rewardAccounts[taskId] = trainers;
            rewardAmounts[taskId] = amounts;
        }
    }

    /// @notice Anyone submits a trainer's claim with its proof (possibly again).
    function claim(uint256 taskSeed, uint256 index) external {
        (uint256 taskId, IFederatedMarket.Task memory task) = _prefer(taskSeed, FINISHED, REWARD);
        if (rewardAccounts[taskId].length == 0) return;
        index %= rewardAccounts[taskId].length;
        address account = rewardAccounts[taskId][index];
        uint256 amount = rewardAmounts[taskId][index];
        bool expectOk = task.state == IFederatedMarket.TaskState.Finished
            && block.timestamp < uint256(task.finishedAt) + market.CLAIM_PERIOD()
            && !market.getMember(taskId, account).rewardClaimed && task.claimed + amount <= task.pool;
        bytes32[] memory proof = _proof(taskId, index);
        uint256 before = _holding(account, task.token);
        (bool ok,) = _run(
            task.token,
            payer,
            0,
            abi.encodeCall(IFederatedMarket.claimReward, (taskId, account, amount, proof)),
            0,
            false
        );
        _expect(ok, expectOk, "claim");
        if (ok) {
            _checkReceived(account, task.token, before, amount);
            ghostClaimedOut[taskId] += amount;
            ++ghostClaims[taskId][account];
        }
    }

    /// @notice A claim for more than the leaf holds, with the leaf's proof: must be refused.
    function claimForged(uint256 taskSeed, uint256 index, uint256 extra) external {
        (uint256 taskId,) = _prefer(taskSeed, FINISHED, REWARD);
        if (rewardAccounts[taskId].length == 0) return;
        index %= rewardAccounts[taskId].length;
        uint256 amount = rewardAmounts[taskId][index] + bound(extra, 1, MAX_AMOUNT);
        bytes32[] memory proof = _proof(taskId, index);
        if (_call(
                payer,
                0,
                abi.encodeCall(IFederatedMarket.claimReward, (taskId, rewardAccounts[taskId][index], amount, proof))
            )) ++ghostForgedAccepted;
        ++calls["claimForged"];
    }

    function reclaim(uint256 taskSeed) external {
        (uint256 taskId, IFederatedMarket.Task memory task) = _prefer(taskSeed, FINISHED, REWARD);
        bool expectOk = task.state == IFederatedMarket.TaskState.Finished
            && task.mode == IFederatedMarket.Mode.RewardPool
            && block.timestamp >= uint256(task.finishedAt) + market.CLAIM_PERIOD() && !task.reclaimed;
        uint256 investorBefore = _holding(task.investor, task.token);
        (bool ok,) = _run(task.token, payer, 0, abi.encodeCall(IFederatedMarket.reclaimUnclaimed, (taskId)), 0, false);
        _expect(ok, expectOk, "reclaim");
        if (ok && _holding(task.investor, task.token) - investorBefore != task.pool - task.claimed) ++ghostMispaid;
    }

    /// @notice The coordinator posts the trainers' shares (those with a zero weight get none).
    function postShares(uint256 taskSeed, uint256[3] memory weights) external {
        (uint256 taskId, IFederatedMarket.Task memory task) = _prefer(taskSeed, TRAINING, SHARES_MODE);
        bool expectOk = task.state == IFederatedMarket.TaskState.Training
            && task.mode == IFederatedMarket.Mode.Shareholding && block.timestamp < task.finishDeadline;
        uint256[] memory split = _split(SHARES, weights);
        uint256 count;
        for (uint256 i; i < split.length; ++i) {
            if (split[i] != 0) ++count;
        }
        address[] memory holders = new address[](count);
        uint256[] memory shares = new uint256[](count);
        count = 0;
        for (uint256 i; i < split.length; ++i) {
            if (split[i] == 0) continue;
            (holders[count], shares[count]) = (trainers[i], split[i]);
            ++count;
        }
        bool ok =
            _call(coordinator, 0, abi.encodeCall(IFederatedMarket.postShares, (taskId, holders, shares, "bafkcid")));
        _expect(ok, expectOk, "postShares");
    }

    // ------------------------------------------------------------ predictions and shares

    function predict(uint256 taskSeed) external {
        (uint256 taskId, IFederatedMarket.Task memory task) = _prefer(taskSeed, FINISHED, ANY);
        bool expectOk = task.state == IFederatedMarket.TaskState.Finished && task.predictionFee != 0;
        uint256 fee = expectOk ? task.predictionFee : 0;
        uint256 value = _fund(payer, task.token, fee);
        uint256 investorBefore = _holding(task.investor, task.token);
        (bool ok,) = _run(
            task.token,
            payer,
            value,
            abi.encodeCall(IFederatedMarket.requestPrediction, (taskId, keccak256("input"))),
            fee,
            false
        );
        _expect(ok, expectOk, "predict");
        if (!ok) return;
        ghostPaidIn[task.token] += fee;
        if (task.mode == IFederatedMarket.Mode.Shareholding) {
            ghostFeesIn[taskId] += fee;
        } else if (_holding(task.investor, task.token) - investorBefore != fee) {
            ++ghostMispaid;
        }
    }

    /// @dev The fee receiver forwards `count` fees of predictions paid off chain in one payment.
    function payFees(uint256 taskSeed, uint256 countSeed) external {
        (uint256 taskId, IFederatedMarket.Task memory task) = _prefer(taskSeed, FINISHED, ANY);
        // forge-lint: disable-next-line(unsafe-typecast)
        uint32 count = uint32(countSeed % 6); // 0 is refused
        // One call in four names a figure of fees paid before that is not the contract's: refused.
        uint64 paidBefore = market.predictionFeesPaidBy(taskId, payer);
        bool stale = (countSeed / 6) % 4 == 0;
        if (stale) paidBefore = paidBefore == 0 ? 1 : paidBefore - 1;
        bool expectOk =
            task.state == IFederatedMarket.TaskState.Finished && task.predictionFee != 0 && count != 0 && !stale;
        uint256 amount = expectOk ? uint256(task.predictionFee) * count : 0;
        uint256 value = _fund(payer, task.token, amount);
        uint256 investorBefore = _holding(task.investor, task.token);
        (bool ok,) = _run(
            task.token,
            payer,
            value,
            abi.encodeCall(IFederatedMarket.payPredictionFees, (taskId, count, paidBefore)),
            amount,
            false
        );
        _expect(ok, expectOk, "payFees");
        if (!ok) return;
        ghostFeesForwarded[taskId] += count;
        ghostPaidIn[task.token] += amount;
        if (task.mode == IFederatedMarket.Mode.Shareholding) {
            ghostFeesIn[taskId] += amount;
        } else if (_holding(task.investor, task.token) - investorBefore != amount) {
            ++ghostMispaid;
        }
    }

    function transferShares(uint256 taskSeed, uint256 fromSeed, uint256 toSeed, uint256 amount) external {
        (uint256 taskId, IFederatedMarket.Task memory task) = _prefer(taskSeed, FINISHED, SHARES_MODE);
        address from = holderAccounts[fromSeed % holderAccounts.length];
        address to = holderAccounts[toSeed % holderAccounts.length];
        amount = bound(amount, 0, market.sharesOf(taskId, from));
        bool expectOk =
            task.state == IFederatedMarket.TaskState.Finished && task.mode == IFederatedMarket.Mode.Shareholding;
        uint256 before = market.withdrawableDividendOf(taskId, from) + market.withdrawableDividendOf(taskId, to);
        _expect(
            _call(from, 0, abi.encodeCall(IFederatedMarket.transferShares, (taskId, to, amount))),
            expectOk,
            "transferShares"
        );
        // A transfer moves no accrued fee.
        uint256 afterwards = market.withdrawableDividendOf(taskId, from) + market.withdrawableDividendOf(taskId, to);
        if (from != to) assertEq(afterwards, before, "a transfer moved accrued fees");
    }

    function withdrawDividends(uint256 taskSeed, uint256 who) external {
        (uint256 taskId, IFederatedMarket.Task memory task) = _prefer(taskSeed, FINISHED, SHARES_MODE);
        address account = holderAccounts[who % holderAccounts.length];
        uint256 due =
            task.state == IFederatedMarket.TaskState.Finished ? market.withdrawableDividendOf(taskId, account) : 0;
        bool expectOk = task.mode == IFederatedMarket.Mode.Shareholding && due != 0;
        uint256 before = _holding(account, task.token);
        (bool ok,) =
            _run(task.token, payer, 0, abi.encodeCall(IFederatedMarket.withdrawDividends, (taskId, account)), 0, false);
        _expect(ok, expectOk, "withdrawDividends");
        if (ok) {
            _checkReceived(account, task.token, before, due);
            ghostDividendsOut[taskId] += due;
        }
    }

    /// @notice An account takes what it is owed (it may still be unable to receive it).
    function withdraw(uint256 who, uint8 assetSeed) external {
        address account = participants[who % participants.length];
        address asset = _asset(assetSeed);
        _run(asset, account, 0, abi.encodeCall(IPayouts.withdraw, (asset)), 0, false);
        ++calls["withdraw"];
    }

    /// @notice Moves a task one step along the way a healthy task goes (enough trainers join and it
    /// starts; the results are posted honestly; a reward is claimed or a prediction paid), so that runs
    /// reach the later states often; each step is one of the actions above, with its checks.
    function advance(uint256 taskSeed, uint256[3] memory weights) external {
        (uint256 taskId, IFederatedMarket.Task memory task) = _pick(taskSeed);
        forcedTask = taskId;
        if (task.state == IFederatedMarket.TaskState.Open) {
            for (uint256 i; i < trainers.length && task.members < task.minParticipants; ++i) {
                if (market.getMember(taskId, trainers[i]).joined) continue;
                this.join(taskSeed, i);
                task = market.getTask(taskId);
            }
            this.start(taskSeed);
        } else if (task.state == IFederatedMarket.TaskState.Training) {
            if (task.mode == IFederatedMarket.Mode.RewardPool) this.postRewards(taskSeed, weights, false);
            else this.postShares(taskSeed, weights);
        } else if (task.state == IFederatedMarket.TaskState.Finished) {
            if (task.mode == IFederatedMarket.Mode.RewardPool) this.claim(taskSeed, weights[0]);
            else this.predict(taskSeed);
        }
        forcedTask = 0;
        ++calls["advance"];
    }

    // ------------------------------------------------------------ environment

    function toggleRejecting(bool trainer) external {
        Receiver account = trainer ? contractTrainer : contractInvestor;
        account.setAccepts(!account.accepts());
        ++calls["toggleRejecting"];
    }

    function toggleBlocked(uint256 who) external {
        address account = participants[who % participants.length];
        faulty.setBlocked(account, !faulty.blocked(account));
        ++calls["toggleBlocked"];
    }

    function warp(uint256 seconds_) external {
        // Mostly hours, sometimes past a claim period.
        vm.warp(
            block.timestamp + (seconds_ % 8 == 0 ? bound(seconds_ >> 3, 1 days, 100 days) : bound(seconds_, 0, 1 days))
        );
        ++calls["warp"];
    }

    // ------------------------------------------------------------ views for the invariants

    function taskCount() external view returns (uint256) {
        return taskIds.length;
    }

    function participantCount() external view returns (uint256) {
        return participants.length;
    }

    function holderCount() external view returns (uint256) {
        return holderAccounts.length;
    }

    function assetAt(uint256 i) external view returns (address) {
        return _asset(i);
    }

    // ------------------------------------------------------------ internal

    /// @dev Runs `data` as `caller` with `value` and books what left the contract for the participants'
    /// wallets in `asset` (their balances' change plus what the call took from them, `pulled`, when it
    /// succeeds). Reverts with the call's error when `mustSucceed`.
    function _run(address asset, address caller, uint256 value, bytes memory data, uint256 pulled, bool mustSucceed)
        internal
        returns (bool ok, bytes memory ret)
    {
        uint256 before = _participantBalances(asset);
        if (asset == address(reentrant)) reentrant.arm(abi.encodeCall(IPayouts.withdraw, (address(reentrant))));
        vm.prank(caller);
        (ok, ret) = address(market).call{value: value}(data);
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

    function _call(address caller, uint256 value, bytes memory data) internal returns (bool ok) {
        vm.prank(caller);
        (ok,) = address(market).call{value: value}(data);
    }

    /// @dev The call went as predicted; counts it under `label` when it went through, else as refused.
    function _expect(bool ok, bool expectOk, string memory label) internal {
        assertEq(ok, expectOk);
        ++calls[ok ? bytes32(bytes(label)) : bytes32("refused")];
    }

    /// @dev `account`, which held `before` (in hand or owed), got exactly `amount` in the last call.
    function _checkReceived(address account, address asset, uint256 before, uint256 amount) internal {
        if (_holding(account, asset) != before + amount) ++ghostMispaid;
    }

    /// @dev A task in one of the states of `stateMask` (bit i: `TaskState(i)`) and of `mode` (`ANY`,
    /// `REWARD`, `SHARES_MODE`) when there is one, searched from a place the seed picks; but one call in four,
    /// and when none matches, any task: the action is then mostly refused, which is checked too.
    function _prefer(uint256 seed, uint256 stateMask, uint256 mode)
        internal
        returns (uint256 taskId, IFederatedMarket.Task memory task)
    {
        uint256 count = taskIds.length;
        if (forcedTask == 0 && count != 0 && seed % 4 != 0) {
            for (uint256 k; k < count; ++k) {
                taskId = taskIds[(seed / 4 + k) % count];
                task = market.getTask(taskId);
                bool modeOk = mode == ANY || (mode == SHARES_MODE) == (task.mode == IFederatedMarket.Mode.Shareholding);
                if (modeOk && stateMask & (1 << uint256(task.state)) != 0) return (taskId, task);
            }
        }
        return _pick(seed);
    }

    /// @dev A task (created first when there is none), or the one `advance` is moving.
    function _pick(uint256 seed) internal returns (uint256 taskId, IFederatedMarket.Task memory task) {
        if (forcedTask != 0) return (forcedTask, market.getTask(forcedTask));
        if (taskIds.length == 0) {
            this.create(
                seed,
                seed & 1 == 1,
                uint8(seed >> 8),
                uint8(seed >> 16),
                seed >> 24,
                seed >> 32,
                seed >> 40,
                seed >> 48,
                1,
                seed >> 56,
                seed >> 64
            );
        }
        taskId = taskIds[seed % taskIds.length];
        task = market.getTask(taskId);
    }

    function _recruiting(IFederatedMarket.Task memory task) internal pure returns (bool) {
        return task.state == IFederatedMarket.TaskState.Open || task.state == IFederatedMarket.TaskState.Training;
    }

    /// @dev `total` split by `weights` (each bounded to 0..1e18), the rounding remainder to the first
    /// non-zero weight, all to the first account when every weight is zero: sums exactly to `total`.
    function _split(uint256 total, uint256[3] memory weights) internal pure returns (uint256[] memory amounts) {
        amounts = new uint256[](3);
        uint256 sum;
        for (uint256 i; i < 3; ++i) {
            weights[i] = bound(weights[i], 0, 1e18);
            sum += weights[i];
        }
        if (sum == 0) {
            amounts[0] = total;
            return amounts;
        }
        uint256 assigned;
        uint256 first = 3;
        for (uint256 i; i < 3; ++i) {
            amounts[i] = total * weights[i] / sum;
            assigned += amounts[i];
            if (first == 3 && weights[i] != 0) first = i;
        }
        amounts[first] += total - assigned;
    }

    function _root(address[] memory accounts, uint256[] memory amounts) internal pure returns (bytes32 root) {
        (root,) = RewardTree.build(RewardTree.leaves(accounts, amounts), 0);
    }

    function _proof(uint256 taskId, uint256 index) internal view returns (bytes32[] memory proof) {
        (, proof) = RewardTree.build(RewardTree.leaves(rewardAccounts[taskId], rewardAmounts[taskId]), index);
    }

    /// @dev Gives `account` what it is about to pay in; returns the ETH to send.
    function _fund(address account, address asset, uint256 amount) internal returns (uint256 value) {
        if (amount == 0) return 0;
        if (asset == address(0)) {
            vm.deal(account, account.balance + amount);
            return amount;
        }
        MarketToken(asset).mint(account, amount);
    }

    function _holding(address account, address asset) internal view returns (uint256) {
        return _balanceOf(account, asset) + market.owed(account, asset);
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
