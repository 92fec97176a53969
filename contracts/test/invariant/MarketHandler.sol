// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../utils/Test.sol";
import {ComputeMarket} from "../../src/ComputeMarket.sol";
import {MarketToken} from "../../src/MarketToken.sol";
import {IComputeMarket} from "../../src/interfaces/IComputeMarket.sol";
import {Receiver} from "../utils/Mocks.sol";

/// @notice Drives the market through random but valid sequences of purchases, starts, completions,
/// failures, refund claims, withdrawals, fee changes, price changes and time jumps, with receivers that
/// start and stop rejecting ETH. Ghost variables record what went in and out and how each task ended.
contract MarketHandler is Test {
    uint256 internal constant MAX_PRICE = 1_000 ether;

    ComputeMarket public immutable market;
    MarketToken public immutable token;
    address public immutable owner;
    address public immutable operator;

    Receiver public immutable rejectingBuyer;
    Receiver public immutable rejectingProvider;
    Receiver public immutable feeSink;

    /// @notice Everyone who can receive money from the market.
    address[] public participants;
    address[] internal buyers;
    uint256[] public services;
    /// @notice Every task bought, and those still open (Created or Running).
    uint256[] public tasks;
    uint256[] internal openTasks;

    // ghost state, per token (address(0) = ETH)
    mapping(address token => uint256) public ghostPaidIn;
    mapping(address token => uint256) public ghostPaidOut;
    mapping(address token => uint256) public ghostSettledAmount;
    // ghost state, per task
    mapping(uint256 taskId => uint256) public ghostSettlements;
    mapping(uint256 taskId => bool) public ghostCompleted;
    mapping(uint256 taskId => bool) public ghostRefunded;

    mapping(bytes32 => uint256) public calls;

    constructor(ComputeMarket market_, address owner_, address operator_) {
        market = market_;
        token = new MarketToken(); // the handler mints
        owner = owner_;
        operator = operator_;
        rejectingBuyer = new Receiver();
        rejectingProvider = new Receiver();
        feeSink = new Receiver();

        address providerA = makeAddr("providerA");
        buyers.push(makeAddr("buyerA"));
        buyers.push(makeAddr("buyerB"));
        buyers.push(address(rejectingBuyer));
        participants = buyers;
        participants.push(providerA);
        participants.push(address(rejectingProvider));
        participants.push(address(feeSink));

        for (uint256 i; i < buyers.length; ++i) {
            token.mint(buyers[i], 1e12 ether);
            vm.prank(buyers[i]);
            token.approve(address(market), type(uint256).max);
        }
        address[2] memory providers = [providerA, address(rejectingProvider)];
        for (uint256 i; i < providers.length; ++i) {
            vm.startPrank(providers[i]);
            services.push(market.listService(address(0), 1 ether, 1 hours, "eth"));
            services.push(market.listService(address(token), 3 ether, 2 hours, "amt"));
            vm.stopPrank();
        }
    }

    // ------------------------------------------------------------ actions

    function buy(uint256 buyerSeed, uint256 serviceSeed, string calldata input) external {
        _buy(buyerSeed, serviceSeed, input);
    }

    function _buy(uint256 buyerSeed, uint256 serviceSeed, string memory input) internal {
        address user = buyers[buyerSeed % buyers.length];
        uint256 serviceId = services[serviceSeed % services.length];
        IComputeMarket.Service memory service = market.getService(serviceId);
        uint256 value;
        if (service.token == address(0)) {
            value = service.price;
            vm.deal(user, user.balance + value);
        }
        vm.prank(user);
        uint256 taskId = market.buyCompute{value: value}(serviceId, input);
        ghostPaidIn[service.token] += service.price;
        tasks.push(taskId);
        openTasks.push(taskId);
        ++calls["buy"];
    }

    function start(uint256 taskSeed, bool byOperator) external {
        _ensureOpen(taskSeed);
        uint256 taskId = openTasks[taskSeed % openTasks.length];
        if (market.getTask(taskId).status != IComputeMarket.TaskStatus.Created) return;
        vm.prank(byOperator ? operator : _provider(taskId));
        market.startTask(taskId);
        ++calls["start"];
    }

    function complete(uint256 taskSeed, bool byOperator, string calldata resultHash) external {
        _ensureOpen(taskSeed);
        uint256 taskId = _takeOpen(taskSeed);
        address caller = byOperator ? operator : _provider(taskId);
        _settle(taskId, abi.encodeCall(IComputeMarket.completeTask, (taskId, resultHash)), caller);
        ghostCompleted[taskId] = true;
        ++calls["complete"];
    }

    function fail(uint256 taskSeed, bool byOperator) external {
        _ensureOpen(taskSeed);
        uint256 taskId = _takeOpen(taskSeed);
        address caller = byOperator ? operator : _provider(taskId);
        _settle(taskId, abi.encodeCall(IComputeMarket.failTask, (taskId, "failed")), caller);
        ghostRefunded[taskId] = true;
        ++calls["fail"];
    }

    function claimRefund(uint256 taskSeed) external {
        _ensureOpen(taskSeed);
        uint256 taskId = _takeOpen(taskSeed);
        IComputeMarket.Task memory task = market.getTask(taskId);
        if (block.timestamp <= task.deadline) vm.warp(uint256(task.deadline) + 1);
        _settle(taskId, abi.encodeCall(IComputeMarket.claimRefund, (taskId)), task.user);
        ghostRefunded[taskId] = true;
        ++calls["claimRefund"];
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

    function withdraw(uint256 participantSeed, bool ethNotToken) external {
        address asset = ethNotToken ? address(0) : address(token);
        // The first participant from the seed on that is owed something and can take it.
        address account;
        uint256 amount;
        for (uint256 i; i < participants.length; ++i) {
            address candidate = participants[(participantSeed % participants.length + i) % participants.length];
            bool rejects = asset == address(0) && candidate.code.length != 0 && !Receiver(payable(candidate)).accepts();
            amount = market.owed(candidate, asset);
            if (amount != 0 && !rejects) {
                account = candidate;
                break;
            }
        }
        if (account == address(0)) return;
        uint256 before = _balanceOf(account, asset);
        vm.prank(account);
        market.withdraw(asset);
        assertEq(_balanceOf(account, asset) - before, amount, "withdraw pays what is owed");
        ghostPaidOut[asset] += amount;
        ++calls["withdraw"];
    }

    function toggleRejecting(uint256 which) external {
        Receiver receiver = [rejectingBuyer, rejectingProvider, feeSink][which % 3];
        receiver.setAccepts(!receiver.accepts());
        ++calls["toggle"];
    }

    function setFee(uint16 feeBps) external {
        feeBps = uint16(bound(feeBps, 0, market.MAX_FEE_BPS()));
        vm.prank(owner);
        market.setPlatformFee(feeBps, feeBps == 0 ? address(0) : address(feeSink));
        ++calls["setFee"];
    }

    function updatePrice(uint256 serviceSeed, uint256 price) external {
        uint256 serviceId = services[serviceSeed % services.length];
        IComputeMarket.Service memory service = market.getService(serviceId);
        price = bound(price, 1, MAX_PRICE);
        vm.prank(service.provider);
        market.updateService(serviceId, price, service.maxRunTime, service.metadataURI);
        ++calls["updatePrice"];
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

    // ------------------------------------------------------------ internal

    function _ensureOpen(uint256 seed) internal {
        if (openTasks.length == 0) _buy(seed, seed >> 8, "input");
    }

    function _provider(uint256 taskId) internal view returns (address) {
        return market.getService(market.getTask(taskId).serviceId).provider;
    }

    function _takeOpen(uint256 seed) internal returns (uint256 taskId) {
        uint256 index = seed % openTasks.length;
        taskId = openTasks[index];
        openTasks[index] = openTasks[openTasks.length - 1];
        openTasks.pop();
    }

    /// @dev Runs a settling call and books what left the market (pushed) and what it now owes.
    function _settle(uint256 taskId, bytes memory data, address caller) internal {
        IComputeMarket.Task memory task = market.getTask(taskId);
        uint256 balancesBefore = _participantBalances(task.token);
        uint256 owedBefore = _participantOwed(task.token);
        vm.prank(caller);
        (bool ok, bytes memory ret) = address(market).call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        uint256 pushed = _participantBalances(task.token) - balancesBefore;
        uint256 credited = _participantOwed(task.token) - owedBefore;
        assertEq(pushed + credited, task.amount, "a settlement moves exactly the escrow");
        ghostPaidOut[task.token] += pushed;
        ghostSettledAmount[task.token] += task.amount;
        ++ghostSettlements[taskId];
    }

    function _participantBalances(address asset) internal view returns (uint256 sum) {
        for (uint256 i; i < participants.length; ++i) {
            sum += _balanceOf(participants[i], asset);
        }
    }

    function _participantOwed(address asset) internal view returns (uint256 sum) {
        for (uint256 i; i < participants.length; ++i) {
            sum += market.owed(participants[i], asset);
        }
    }

    function _balanceOf(address account, address asset) internal view returns (uint256) {
        return asset == address(0) ? account.balance : token.balanceOf(account);
    }
}
