// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Test} from "../utils/Test.sol";
import {ComputeMarket} from "../../src/ComputeMarket.sol";
import {MarketToken} from "../../src/MarketToken.sol";
import {IComputeMarket} from "../../src/interfaces/IComputeMarket.sol";
import {IPayouts} from "../../src/interfaces/IPayouts.sol";
import {Erc1271Vault, FaultyToken, FeeOnTransferToken, Receiver, ReentrantToken} from "../utils/Mocks.sol";

/// @notice Drives the market through random sequences of purchases, starts, completions, failures,
/// refund claims, withdrawals (own and signed for another address), fee and operator changes, service
/// listings, updates and delistings, and time jumps, in four assets: ETH, AMT, a token that fails
/// transfers to accounts it blocks (reverting or returning false), and a token that re-enters the
/// market on every transfer (and is an operator, so a re-entry that got through could complete tasks).
/// A fee-on-transfer token is listed too: every purchase of it must be refused. Actors include
/// strangers and parties in the wrong role (their calls must be refused with the right error), a
/// provider contract that can neither receive ETH nor call (it signs through ERC-1271), and receivers
/// that start and stop rejecting payouts. Buyers pay the terms they were quoted; the provider may change
/// them in between. The deadline race is explored: at the deadline and one second after it, both the
/// completion and the refund are tried, in random order, and exactly one must succeed.
contract MarketHandler is Test {
    uint256 internal constant MAX_PRICE = 1_000 ether;
    uint256 internal constant ASSETS = 4;

    ComputeMarket public immutable market;
    MarketToken public immutable token;
    FaultyToken public immutable faulty;
    ReentrantToken public immutable reentrant;
    FeeOnTransferToken public immutable taxed;
    address public immutable owner;
    address public immutable operator;
    address public immutable operatorB;
    address public immutable stranger;

    Receiver public immutable rejectingBuyer;
    Receiver public immutable rejectingProvider;
    Receiver public immutable feeSink;
    Erc1271Vault public immutable vault;
    address public immutable rescue;

    /// @notice Everyone who can receive money from the market.
    address[] public participants;
    address[] internal buyers;
    address[] internal providers;
    mapping(address account => uint256) internal keys; // accounts that sign withdrawals (0: none)
    uint256[] public services;
    uint256 internal taxedService;
    /// @notice Every task bought, and those still open (Created or Running).
    uint256[] public tasks;
    uint256[] internal openTasks;
    /// @notice The terms buyers were last quoted per service (they may have changed since).
    mapping(uint256 serviceId => uint256) internal quotedPrice;
    mapping(uint256 serviceId => uint64) internal quotedRunTime;

    // ghost state, per asset (address(0) = ETH)
    mapping(address asset => uint256) public ghostPaidIn;
    mapping(address asset => uint256) public ghostPaidOut;
    mapping(address asset => uint256) public ghostSettledAmount;
    // ghost state, per task
    mapping(uint256 taskId => uint256) public ghostSettlements;
    mapping(uint256 taskId => bool) public ghostCompleted;
    mapping(uint256 taskId => bool) public ghostRefunded;
    // ghost state, for hostile calls: each must stay zero
    uint256 public ghostTaxedAccepted;
    uint256 public ghostStaleTermsAccepted;
    uint256 public ghostUnauthorizedAccepted;
    uint256 public ghostReentriesAccepted;
    uint256 public ghostRacesNotExactlyOne;

    mapping(bytes32 => uint256) public calls;

    constructor(ComputeMarket market_, address owner_, address operator_) {
        market = market_;
        owner = owner_;
        operator = operator_;
        operatorB = makeAddr("operatorB");
        stranger = makeAddr("stranger");
        token = new MarketToken(); // the handler mints
        faulty = new FaultyToken();
        reentrant = new ReentrantToken(address(market_));
        taxed = new FeeOnTransferToken(100);
        rejectingBuyer = new Receiver();
        rejectingProvider = new Receiver();
        feeSink = new Receiver();
        (address vaultOwner, uint256 vaultKey) = makeAddrAndKey("vaultOwner");
        vault = new Erc1271Vault(vaultOwner);
        keys[address(vault)] = vaultKey;
        rescue = makeAddr("rescue");
        // The re-entering token is an operator: a re-entry that got past the lock could settle tasks.
        vm.prank(owner_);
        market_.setOperator(address(reentrant), true);
        vm.prank(owner_);
        market_.setOperator(operator_, true);

        (address providerA, uint256 keyA) = makeAddrAndKey("providerA");
        keys[providerA] = keyA;
        buyers.push(makeAddr("buyerA"));
        buyers.push(makeAddr("buyerB"));
        buyers.push(address(rejectingBuyer));
        providers = [providerA, address(rejectingProvider), address(vault)];
        participants = buyers;
        for (uint256 i; i < providers.length; ++i) {
            participants.push(providers[i]);
        }
        participants.push(address(feeSink));
        participants.push(rescue);

        for (uint256 i; i < buyers.length; ++i) {
            token.mint(buyers[i], 1e12 ether);
            faulty.mint(buyers[i], 1e12 ether);
            reentrant.mint(buyers[i], 1e12 ether);
            taxed.mint(buyers[i], 1e12 ether);
            vm.startPrank(buyers[i]);
            token.approve(address(market_), type(uint256).max);
            faulty.approve(address(market_), type(uint256).max);
            reentrant.approve(address(market_), type(uint256).max);
            taxed.approve(address(market_), type(uint256).max);
            vm.stopPrank();
        }
        for (uint256 i; i < providers.length; ++i) {
            for (uint256 a; a < ASSETS; ++a) {
                _list(providers[i], _asset(a), (a + 1) * 1 ether, uint64(1 hours + a * 30 minutes));
            }
        }
        vm.prank(providerA);
        taxedService = market_.listService(address(taxed), 2 ether, 1 hours, "taxed");
    }

    // ------------------------------------------------------------ buyer

    function buy(uint256 buyerSeed, uint256 serviceSeed, bool requote, string calldata input) external {
        _buy(buyerSeed, serviceSeed, requote, input);
    }

    /// @notice A buyer tries the fee-on-transfer token's service: the market must refuse it.
    function buyTaxed(uint256 buyerSeed) external {
        address user = buyers[buyerSeed % buyers.length];
        vm.prank(user);
        (bool ok, bytes memory ret) =
            address(market).call(abi.encodeCall(IComputeMarket.buyCompute, (taxedService, "taxed", 2 ether, 1 hours)));
        if (ok) {
            ++ghostTaxedAccepted;
        } else {
            assertEq(
                ret,
                abi.encodeWithSelector(IPayouts.AmountNotReceived.selector, address(taxed), 2 ether, 2 ether * 99 / 100)
            );
        }
        ++calls["buyTaxed"];
    }

    function claimRefund(uint256 taskSeed, uint256 actorSeed, bool waitForDeadline) external {
        _ensureOpen(taskSeed);
        uint256 index = taskSeed % openTasks.length;
        uint256 taskId = openTasks[index];
        IComputeMarket.Task memory task = market.getTask(taskId);
        if (waitForDeadline && block.timestamp <= task.deadline) vm.warp(uint256(task.deadline) + 1);
        address caller = actorSeed % 4 == 0 ? _actor(actorSeed >> 2) : task.user;
        bytes memory data = abi.encodeCall(IComputeMarket.claimRefund, (taskId));
        if (caller != task.user) {
            _expectRefused(data, caller, abi.encodeWithSelector(IComputeMarket.NotTaskUser.selector, taskId, caller));
        } else if (block.timestamp <= task.deadline) {
            _expectRefused(
                data,
                caller,
                abi.encodeWithSelector(
                    IComputeMarket.DeadlineNotReached.selector, taskId, task.deadline, block.timestamp
                )
            );
        } else {
            _removeOpen(index);
            _settle(taskId, data, caller, false);
            ghostRefunded[taskId] = true;
        }
        ++calls["claimRefund"];
    }

    // ------------------------------------------------------------ provider or operator

    function start(uint256 taskSeed, uint256 actorSeed) external {
        _ensureOpen(taskSeed);
        uint256 taskId = openTasks[taskSeed % openTasks.length];
        IComputeMarket.Task memory task = market.getTask(taskId);
        address caller = _actor(actorSeed);
        bytes memory data = abi.encodeCall(IComputeMarket.startTask, (taskId));
        if (!_authorized(taskId, caller)) {
            _expectRefused(data, caller, abi.encodeWithSelector(IComputeMarket.NotAuthorized.selector, taskId, caller));
        } else if (task.status != IComputeMarket.TaskStatus.Created) {
            _expectRefused(
                data, caller, abi.encodeWithSelector(IComputeMarket.InvalidTaskStatus.selector, taskId, task.status)
            );
        } else {
            vm.prank(caller);
            market.startTask(taskId);
        }
        ++calls["start"];
    }

    function complete(uint256 taskSeed, uint256 actorSeed, string calldata resultHash) external {
        _ensureOpen(taskSeed);
        uint256 index = taskSeed % openTasks.length;
        uint256 taskId = openTasks[index];
        IComputeMarket.Task memory task = market.getTask(taskId);
        address caller = _actor(actorSeed);
        bytes memory data = abi.encodeCall(IComputeMarket.completeTask, (taskId, resultHash));
        if (!_authorized(taskId, caller)) {
            _expectRefused(data, caller, abi.encodeWithSelector(IComputeMarket.NotAuthorized.selector, taskId, caller));
        } else if (block.timestamp > task.deadline) {
            _expectRefused(
                data,
                caller,
                abi.encodeWithSelector(IComputeMarket.TaskExpired.selector, taskId, task.deadline, block.timestamp)
            );
        } else {
            _removeOpen(index);
            _settle(taskId, data, caller, true);
            ghostCompleted[taskId] = true;
        }
        ++calls["complete"];
    }

    function fail(uint256 taskSeed, uint256 actorSeed) external {
        _ensureOpen(taskSeed);
        uint256 index = taskSeed % openTasks.length;
        uint256 taskId = openTasks[index];
        address caller = _actor(actorSeed);
        bytes memory data = abi.encodeCall(IComputeMarket.failTask, (taskId, "failed"));
        if (!_authorized(taskId, caller)) {
            _expectRefused(data, caller, abi.encodeWithSelector(IComputeMarket.NotAuthorized.selector, taskId, caller));
        } else {
            _removeOpen(index);
            _settle(taskId, data, caller, false);
            ghostRefunded[taskId] = true;
        }
        ++calls["fail"];
    }

    /// @notice The deadline race: at the deadline (completion's last second) or one second after it
    /// (refund's first), the provider's completion and the buyer's refund are both tried, in either
    /// order. Exactly one must go through.
    function race(uint256 taskSeed, bool afterDeadline, bool refundFirst) external {
        _ensureOpen(taskSeed);
        uint256 index = taskSeed % openTasks.length;
        uint256 taskId = openTasks[index];
        IComputeMarket.Task memory task = market.getTask(taskId);
        uint256 moment = uint256(task.deadline) + (afterDeadline ? 1 : 0);
        if (block.timestamp > moment) return; // time only moves forward
        vm.warp(moment);
        _removeOpen(index);
        bytes memory refund = abi.encodeCall(IComputeMarket.claimRefund, (taskId));
        bytes memory completion = abi.encodeCall(IComputeMarket.completeTask, (taskId, "race"));
        address provider = _provider(taskId);
        bool refunded;
        bool completed;
        if (refundFirst) {
            refunded = _trySettle(taskId, refund, task.user, false);
            completed = _trySettle(taskId, completion, provider, true);
        } else {
            completed = _trySettle(taskId, completion, provider, true);
            refunded = _trySettle(taskId, refund, task.user, false);
        }
        if (completed == refunded || completed == afterDeadline) ++ghostRacesNotExactlyOne;
        if (completed) ghostCompleted[taskId] = true;
        if (refunded) ghostRefunded[taskId] = true;
        ++calls["race"];
    }

    /// @notice Try to settle a task that is already final, as someone who could have settled it.
    /// The market must refuse; if it did not, the ghosts would count a second settlement.
    function settleAgain(uint256 taskSeed, uint8 how) external {
        if (tasks.length == 0) return;
        uint256 taskId = tasks[taskSeed % tasks.length];
        IComputeMarket.Task memory task = market.getTask(taskId);
        if (task.status <= IComputeMarket.TaskStatus.Running) return;
        bytes memory data;
        address caller = operator;
        how %= 3;
        if (how == 0) {
            data = abi.encodeCall(IComputeMarket.completeTask, (taskId, "again"));
        } else if (how == 1) {
            data = abi.encodeCall(IComputeMarket.failTask, (taskId, "again"));
        } else {
            data = abi.encodeCall(IComputeMarket.claimRefund, (taskId));
            caller = task.user;
            if (block.timestamp <= task.deadline) vm.warp(uint256(task.deadline) + 1);
        }
        uint256 balancesBefore = _participantBalances(task.token);
        vm.prank(caller);
        (bool ok, bytes memory ret) = address(market).call(data);
        if (ok) {
            // Book it so that the invariants see the double payout.
            ghostPaidOut[task.token] += _participantBalances(task.token) - balancesBefore;
            ++ghostSettlements[taskId];
        } else {
            assertEq(ret, abi.encodeWithSelector(IComputeMarket.InvalidTaskStatus.selector, taskId, task.status));
        }
        ++calls["settleAgain"];
    }

    // ------------------------------------------------------------ payouts

    function withdraw(uint256 participantSeed, uint256 assetSeed) external {
        address asset = _asset(assetSeed);
        // The first participant from the seed on that is owed something and can take it itself.
        address account;
        uint256 amount;
        for (uint256 i; i < participants.length; ++i) {
            address candidate = participants[(participantSeed % participants.length + i) % participants.length];
            amount = market.owed(candidate, asset);
            if (amount != 0 && _canReceive(candidate, asset) && candidate != address(vault)) {
                account = candidate;
                break;
            }
        }
        if (account == address(0)) return;
        uint256 before = _balanceOf(account, asset);
        _armReentry(asset);
        vm.prank(account);
        market.withdraw(asset);
        _checkReentry(asset);
        assertEq(_balanceOf(account, asset) - before, amount, "withdraw pays what is owed");
        ghostPaidOut[asset] += amount;
        ++calls["withdraw"];
    }

    /// @notice Someone owed money has it sent to `rescue`: a contract by calling itself, the vault and
    /// the key-holding provider by a signature that a stranger relays.
    function withdrawTo(uint256 participantSeed, uint256 assetSeed) external {
        address asset = _asset(assetSeed);
        address account = participants[participantSeed % participants.length];
        uint256 amount = market.owed(account, asset);
        if (amount == 0 || account == rescue) return;
        uint256 before = _balanceOf(rescue, asset);
        _armReentry(asset);
        if (keys[account] != 0) {
            uint256 deadline = block.timestamp + 1 hours;
            bytes32 digest = market.hashWithdrawal(account, asset, rescue, market.withdrawalNonce(account), deadline);
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[account], digest);
            vm.prank(stranger);
            market.withdrawTo(account, asset, rescue, deadline, abi.encodePacked(r, s, v));
        } else {
            vm.prank(account);
            market.withdrawTo(account, asset, rescue, 0, "");
        }
        _checkReentry(asset);
        assertEq(_balanceOf(rescue, asset) - before, amount, "withdrawTo pays what is owed to the destination");
        assertEq(market.owed(account, asset), 0);
        ghostPaidOut[asset] += amount;
        ++calls["withdrawTo"];
    }

    function toggleRejecting(uint256 which) external {
        Receiver receiver = [rejectingBuyer, rejectingProvider, feeSink][which % 3];
        receiver.setAccepts(!receiver.accepts());
        ++calls["toggle"];
    }

    /// @notice The faulty token starts or stops refusing transfers to one participant (never `rescue`),
    /// and switches between reverting and returning false.
    function toggleBlocked(uint256 participantSeed, bool switchMode) external {
        address account = participants[participantSeed % (participants.length - 1)];
        faulty.setBlocked(account, !faulty.blocked(account));
        if (switchMode) {
            faulty.setMode(
                faulty.mode() == FaultyToken.Mode.Revert ? FaultyToken.Mode.ReturnFalse : FaultyToken.Mode.Revert
            );
        }
        ++calls["toggleBlocked"];
    }

    // ------------------------------------------------------------ owner

    function setFee(uint16 feeBps, bool byStranger) external {
        feeBps = uint16(bound(feeBps, 0, market.MAX_FEE_BPS()));
        bytes memory data =
            abi.encodeCall(IComputeMarket.setPlatformFee, (feeBps, feeBps == 0 ? address(0) : address(feeSink)));
        if (byStranger) {
            _expectRefused(
                data, stranger, abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger)
            );
        } else {
            vm.prank(owner);
            (bool ok,) = address(market).call(data);
            assertTrue(ok);
        }
        ++calls["setFee"];
    }

    function setOperator(bool allowed, bool byStranger) external {
        bytes memory data = abi.encodeCall(IComputeMarket.setOperator, (operatorB, allowed));
        if (byStranger) {
            _expectRefused(
                data, stranger, abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger)
            );
        } else {
            vm.prank(owner);
            market.setOperator(operatorB, allowed);
            assertEq(market.isOperator(operatorB), allowed);
        }
        ++calls["setOperator"];
    }

    // ------------------------------------------------------------ provider

    function list(uint256 providerSeed, uint256 assetSeed, uint256 price, uint256 runTime) external {
        _list(
            providers[providerSeed % providers.length],
            _asset(assetSeed),
            bound(price, 1, MAX_PRICE),
            uint64(bound(runTime, 1 minutes, 4 hours))
        );
        ++calls["list"];
    }

    function updateService(uint256 serviceSeed, uint256 price, uint256 runTime, bool byStranger) external {
        uint256 serviceId = services[serviceSeed % services.length];
        IComputeMarket.Service memory service = market.getService(serviceId);
        price = bound(price, 1, MAX_PRICE);
        runTime = bound(runTime, 1 minutes, 4 hours);
        bytes memory data =
            abi.encodeCall(IComputeMarket.updateService, (serviceId, price, uint64(runTime), service.metadataURI));
        if (byStranger) {
            _expectRefused(
                data, stranger, abi.encodeWithSelector(IComputeMarket.NotServiceProvider.selector, serviceId, stranger)
            );
        } else {
            vm.prank(service.provider);
            (bool ok,) = address(market).call(data);
            assertTrue(ok);
        }
        ++calls["updateService"];
    }

    function delist(uint256 serviceSeed, bool byStranger) external {
        uint256 serviceId = services[serviceSeed % services.length];
        IComputeMarket.Service memory service = market.getService(serviceId);
        bytes memory data = abi.encodeCall(IComputeMarket.delistService, (serviceId));
        if (byStranger) {
            _expectRefused(
                data, stranger, abi.encodeWithSelector(IComputeMarket.NotServiceProvider.selector, serviceId, stranger)
            );
        } else if (!service.active) {
            _expectRefused(
                data, service.provider, abi.encodeWithSelector(IComputeMarket.ServiceInactive.selector, serviceId)
            );
        } else {
            vm.prank(service.provider);
            market.delistService(serviceId);
        }
        ++calls["delist"];
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 0, 3 hours));
        ++calls["warp"];
    }

    // ------------------------------------------------------------ views for the invariants

    function taskCount() external view returns (uint256) {
        return tasks.length;
    }

    function participantCount() external view returns (uint256) {
        return participants.length;
    }

    function openEscrow(address asset) external view returns (uint256 sum) {
        for (uint256 i; i < openTasks.length; ++i) {
            IComputeMarket.Task memory task = market.getTask(openTasks[i]);
            if (task.token == asset) sum += task.amount;
        }
    }

    /// @notice The asset with index `i` (0: ETH, 1: AMT, 2: faulty, 3: re-entering).
    function assetAt(uint256 i) external view returns (address) {
        return _asset(i);
    }

    // ------------------------------------------------------------ internal

    function _buy(uint256 buyerSeed, uint256 serviceSeed, bool requote, string memory input) internal {
        address user = buyers[buyerSeed % buyers.length];
        uint256 serviceId = services[serviceSeed % services.length];
        IComputeMarket.Service memory service = market.getService(serviceId);
        if (requote) {
            quotedPrice[serviceId] = service.price;
            quotedRunTime[serviceId] = service.maxRunTime;
        }
        uint256 price = quotedPrice[serviceId];
        uint64 runTime = quotedRunTime[serviceId];
        uint256 value;
        if (service.token == address(0)) {
            value = price;
            vm.deal(user, user.balance + value);
        }
        bool stale = price != service.price || runTime != service.maxRunTime;
        _armReentry(service.token);
        vm.prank(user);
        (bool ok, bytes memory ret) = address(market).call{value: value}(
            abi.encodeCall(IComputeMarket.buyCompute, (serviceId, input, price, runTime))
        );
        _checkReentry(service.token);
        if (!service.active) {
            assertFalse(ok);
            assertEq(ret, abi.encodeWithSelector(IComputeMarket.ServiceInactive.selector, serviceId));
            if (value != 0) vm.deal(user, user.balance - value);
            return;
        }
        if (stale) {
            if (ok) {
                ++ghostStaleTermsAccepted;
            } else {
                assertEq(
                    ret,
                    abi.encodeWithSelector(
                        IComputeMarket.TermsChanged.selector,
                        serviceId,
                        price,
                        runTime,
                        service.price,
                        service.maxRunTime
                    )
                );
            }
            if (value != 0) vm.deal(user, user.balance - value);
            ++calls["buyStale"];
            return;
        }
        assertTrue(ok);
        uint256 taskId = abi.decode(ret, (uint256));
        IComputeMarket.Task memory task = market.getTask(taskId);
        assertEq(task.amount, price, "escrow is the quoted price");
        assertEq(task.deadline, block.timestamp + runTime + market.REFUND_GRACE(), "deadline from the quote");
        assertEq(task.feeBps, market.platformFeeBps(), "fee frozen at purchase");
        ghostPaidIn[service.token] += price;
        tasks.push(taskId);
        openTasks.push(taskId);
        ++calls["buy"];
    }

    function _list(address provider, address asset_, uint256 price, uint64 runTime) internal {
        vm.prank(provider);
        uint256 serviceId = market.listService(asset_, price, runTime, "listed");
        services.push(serviceId);
        quotedPrice[serviceId] = price;
        quotedRunTime[serviceId] = runTime;
    }

    function _ensureOpen(uint256 seed) internal {
        // Buy at fresh terms until one purchase goes through (a service may be delisted).
        for (uint256 i; openTasks.length == 0 && i < services.length; ++i) {
            _buy(seed, (seed >> 8) + i, true, "input");
        }
        if (openTasks.length == 0) {
            // Every service delisted: list one more.
            _list(providers[seed % providers.length], address(0), 1 ether, 1 hours);
            _buy(seed, services.length - 1, true, "input");
        }
    }

    function _removeOpen(uint256 index) internal {
        openTasks[index] = openTasks[openTasks.length - 1];
        openTasks.pop();
    }

    function _provider(uint256 taskId) internal view returns (address) {
        return market.getService(market.getTask(taskId).serviceId).provider;
    }

    /// @dev Someone in any role: the task's provider side, an operator (enabled or not), a buyer, a stranger.
    function _actor(uint256 seed) internal view returns (address) {
        uint256 pick = seed % 6;
        if (pick == 0) return operator;
        if (pick == 1) return operatorB;
        if (pick == 2) return stranger;
        if (pick == 3) return buyers[(seed >> 8) % buyers.length];
        return providers[(seed >> 8) % providers.length];
    }

    function _authorized(uint256 taskId, address caller) internal view returns (bool) {
        return caller == _provider(taskId) || market.isOperator(caller);
    }

    /// @dev `caller` runs `data`; the market must refuse it with exactly `expected`.
    function _expectRefused(bytes memory data, address caller, bytes memory expected) internal {
        vm.prank(caller);
        (bool ok, bytes memory ret) = address(market).call(data);
        if (ok) ++ghostUnauthorizedAccepted;
        else assertEq(ret, expected);
        ++calls["refused"];
    }

    /// @dev Runs a settling call that must succeed and books it.
    function _settle(uint256 taskId, bytes memory data, address caller, bool completion) internal {
        bool ok = _trySettle(taskId, data, caller, completion);
        assertTrue(ok);
    }

    /// @dev Runs a settling call and, when it goes through, books what left the market (pushed) and what
    /// it now owes, and checks the split: the buyer gets it all back, or the provider gets the escrow
    /// less the fee frozen at purchase (the fee going to the recipient of the moment, if any).
    function _trySettle(uint256 taskId, bytes memory data, address caller, bool completion) internal returns (bool ok) {
        IComputeMarket.Task memory task = market.getTask(taskId);
        address provider = _provider(taskId);
        address recipient = market.feeRecipient();
        uint256[3] memory before = [_total(task.user, task.token), _total(provider, task.token), _feeTotal(task.token)];
        uint256 balancesBefore = _participantBalances(task.token);
        uint256 owedBefore = _participantOwed(task.token);
        _armReentry(task.token);
        vm.prank(caller);
        (ok,) = address(market).call(data);
        _checkReentry(task.token);
        if (!ok) return false;
        uint256 pushed = _participantBalances(task.token) - balancesBefore;
        uint256 credited = _participantOwed(task.token) - owedBefore;
        assertEq(pushed + credited, task.amount, "a settlement moves exactly the escrow");
        uint256 fee = completion && recipient != address(0) ? task.amount * task.feeBps / 10_000 : 0;
        if (completion) {
            assertEq(_total(provider, task.token) - before[1], task.amount - fee, "provider share");
            assertEq(_feeTotal(task.token) - before[2], fee, "fee frozen at purchase");
        } else {
            assertEq(_total(task.user, task.token) - before[0], task.amount, "buyer refunded in full");
        }
        ghostPaidOut[task.token] += pushed;
        ghostSettledAmount[task.token] += task.amount;
        ++ghostSettlements[taskId];
    }

    /// @dev The re-entering token calls back into the market on its next transfer, as an operator trying
    /// to complete an open task.
    function _armReentry(address asset_) internal {
        if (asset_ != address(reentrant)) return;
        uint256 target = openTasks.length == 0 ? 1 : openTasks[0];
        reentrant.arm(abi.encodeCall(IComputeMarket.completeTask, (target, "reentered")));
    }

    function _checkReentry(address asset_) internal {
        if (asset_ != address(reentrant) || !reentrant.attempted()) return;
        if (reentrant.succeeded()) ++ghostReentriesAccepted;
        else assertEq(reentrant.returned(), abi.encodeWithSelector(IPayouts.ReentrantCall.selector));
        reentrant.arm("");
    }

    function _asset(uint256 i) internal view returns (address) {
        i %= ASSETS;
        if (i == 0) return address(0);
        if (i == 1) return address(token);
        if (i == 2) return address(faulty);
        return address(reentrant);
    }

    function _canReceive(address account, address asset_) internal view returns (bool) {
        if (asset_ == address(0)) {
            if (account == address(vault)) return false;
            return account.code.length == 0 || Receiver(payable(account)).accepts();
        }
        return asset_ != address(faulty) || !faulty.blocked(account);
    }

    /// @dev What `account` holds plus what the market owes it.
    function _total(address account, address asset_) internal view returns (uint256) {
        return _balanceOf(account, asset_) + market.owed(account, asset_);
    }

    function _feeTotal(address asset_) internal view returns (uint256) {
        return _total(address(feeSink), asset_);
    }

    function _participantBalances(address asset_) internal view returns (uint256 sum) {
        for (uint256 i; i < participants.length; ++i) {
            sum += _balanceOf(participants[i], asset_);
        }
    }

    function _participantOwed(address asset_) internal view returns (uint256 sum) {
        for (uint256 i; i < participants.length; ++i) {
            sum += market.owed(participants[i], asset_);
        }
    }

    function _balanceOf(address account, address asset_) internal view returns (uint256) {
        if (asset_ == address(0)) return account.balance;
        return MarketToken(asset_).balanceOf(account);
    }
}
