// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IComputeMarket} from "./interfaces/IComputeMarket.sol";

/// @title ComputeMarket
/// @notice Escrow for compute services priced in ETH or an ERC-20 (see {IComputeMarket}).
/// @dev Money rules:
/// - A task's escrow is exactly its `amount`, held from `buyCompute` until the task is final
///   (`Completed` or `Refunded`), and paid out exactly once, in full (provider + fee, or buyer).
/// - Every payout is pushed at once; a push that fails (a receiver that rejects ETH, a token that
///   reverts or returns false) is credited to `owed` instead and taken later with `withdraw`, so no
///   receiver can block a completion or a refund. ETH pushes forward at most `ETH_PUSH_GAS`.
/// - State changes and events come before any external call, and no function that calls out can be
///   re-entered while it runs (a transient-storage lock).
/// - Tokens whose transfers move less or more than asked (fee-on-transfer, rebasing) are not supported.
/// - The fee is the one in force when the task completes. After its deadline an unfinished task can
///   still be completed or failed: whichever of that and the buyer's `claimRefund` comes first wins.
///
/// Gas: the hot paths (`buyCompute`, `completeTask`, ...) read and write the packed `Task` and `Service`
/// words directly. Their layout is Solidity's own for the structs in {IComputeMarket}:
/// - Service slot 0: provider (bits 0-159) | maxRunTime (160-223) | active (224-231);
///   slot 1: token (0-159) | price (160-255); slot 2: metadataURI.
/// - Task slot 0: user (0-159) | deadline (160-199) | status (200-207) | serviceId (208-255);
///   slot 1: token (0-159) | amount (160-255).
/// `getTask`/`getService` read the same words through the structs, and the tests check they agree.
contract ComputeMarket is IComputeMarket, Ownable {
    using SafeERC20 for IERC20;

    /// @inheritdoc IComputeMarket
    uint64 public constant REFUND_GRACE = 10 minutes;
    /// @notice Upper bound for a service's `maxRunTime` (one year).
    uint64 public constant MAX_RUN_TIME = 365 days;
    /// @notice Upper bound for the platform fee, in basis points (10%).
    uint16 public constant MAX_FEE_BPS = 1000;
    /// @notice Gas forwarded with an ETH payout push; a receiver that needs more is paid through `owed`.
    uint256 public constant ETH_PUSH_GAS = 100_000;

    /// @notice `nonReentrant` was re-entered.
    error ReentrantCall();

    uint256 private constant BPS = 10_000;
    uint256 private constant ADDRESS_MASK = (1 << 160) - 1;
    uint256 private constant TASK_DEADLINE_SHIFT = 160;
    uint256 private constant TASK_STATUS_SHIFT = 200;
    uint256 private constant TASK_SERVICE_SHIFT = 208;
    uint256 private constant SERVICE_RUNTIME_SHIFT = 160;
    uint256 private constant SERVICE_ACTIVE_SHIFT = 224;
    uint256 private constant AMOUNT_SHIFT = 160;
    /// @dev keccak256("agora.ComputeMarket.lock") - 1, a transient-storage slot.
    uint256 private constant LOCK_SLOT = 0x6417a6d0faac6f9de07e61495006a8bc2a41e0245597b284dce98291380585bf;

    // One slot read by every settlement: the operator enabled last (so that a settlement by it needs no
    // extra read; `isOperator` stays the source of truth) and the fee.
    address private _hotOperator;
    /// @inheritdoc IComputeMarket
    uint16 public platformFeeBps;

    /// @notice Receives the platform fee; non-zero whenever `platformFeeBps` is.
    address public feeRecipient;

    uint48 private _serviceCount;
    uint256 private _taskCount;

    mapping(uint256 serviceId => Service) private _services;
    mapping(uint256 taskId => Task) private _tasks;

    /// @inheritdoc IComputeMarket
    mapping(address account => bool) public isOperator;
    /// @inheritdoc IComputeMarket
    mapping(address account => mapping(address token => uint256)) public owed;

    modifier nonReentrant() {
        _lock();
        _;
        assembly ("memory-safe") {
            tstore(LOCK_SLOT, 0)
        }
    }

    constructor(address initialOwner) Ownable(initialOwner) {}

    // ---------------------------------------------------------------- provider

    /// @inheritdoc IComputeMarket
    function listService(address token, uint256 price, uint64 maxRunTime, string calldata metadataURI)
        external
        returns (uint256 serviceId)
    {
        _checkTerms(price, maxRunTime);
        unchecked {
            // Each listing costs tens of thousands of gas: 2^48 of them cannot happen.
            serviceId = ++_serviceCount;
        }
        Service storage service = _services[serviceId];
        service.provider = msg.sender;
        service.maxRunTime = maxRunTime;
        service.active = true;
        service.token = token;
        // forge-lint: disable-next-line(unsafe-typecast)
        service.price = uint96(price); // price <= type(uint96).max by `_checkTerms`
        service.metadataURI = metadataURI;
        emit ServiceListed(serviceId, msg.sender, token, price, maxRunTime, metadataURI);
    }

    /// @inheritdoc IComputeMarket
    function updateService(uint256 serviceId, uint256 price, uint64 maxRunTime, string calldata metadataURI) external {
        Service storage service = _ownService(serviceId);
        _checkTerms(price, maxRunTime);
        service.maxRunTime = maxRunTime;
        // forge-lint: disable-next-line(unsafe-typecast)
        service.price = uint96(price); // price <= type(uint96).max by `_checkTerms`
        service.metadataURI = metadataURI;
        emit ServiceUpdated(serviceId, price, maxRunTime, metadataURI);
    }

    /// @inheritdoc IComputeMarket
    function delistService(uint256 serviceId) external {
        Service storage service = _ownService(serviceId);
        if (!service.active) revert ServiceInactive(serviceId);
        service.active = false;
        emit ServiceDelisted(serviceId);
    }

    // ---------------------------------------------------------------- buyer

    /// @inheritdoc IComputeMarket
    function buyCompute(uint256 serviceId, string calldata input) external payable returns (uint256 taskId) {
        // Not while a payout is being pushed (a receiver buying from its `receive`).
        _checkUnlocked();
        Service storage service = _services[serviceId];
        uint256 terms; // Service slot 0
        uint256 pricing; // Service slot 1: token | price << 160, which is also the new Task's slot 1
        assembly ("memory-safe") {
            terms := sload(service.slot)
            pricing := sload(add(service.slot, 1))
        }
        if (terms & ADDRESS_MASK == 0) revert ServiceNotFound(serviceId);
        if ((terms >> SERVICE_ACTIVE_SHIFT) & 0xff == 0) revert ServiceInactive(serviceId);
        // forge-lint: disable-next-line(unsafe-typecast)
        address token = address(uint160(pricing));
        uint256 price = pricing >> AMOUNT_SHIFT;
        if (token == address(0)) {
            if (msg.value != price) revert InsufficientPayment(msg.value, price);
        } else if (msg.value != 0) {
            revert UnexpectedEther(msg.value);
        }

        uint256 deadline;
        unchecked {
            // One task per purchase, each costing tens of thousands of gas: the counter cannot wrap.
            taskId = ++_taskCount;
            // maxRunTime <= MAX_RUN_TIME, so the deadline fits the 40-bit field for 30,000 years.
            // forge-lint: disable-next-line(unsafe-typecast)
            deadline = block.timestamp + uint64(terms >> SERVICE_RUNTIME_SHIFT) + REFUND_GRACE;
        }
        Task storage task = _tasks[taskId];
        assembly ("memory-safe") {
            // status Created is 0; serviceId <= _serviceCount < 2^48 as the service exists.
            sstore(task.slot, or(or(caller(), shl(TASK_DEADLINE_SHIFT, deadline)), shl(TASK_SERVICE_SHIFT, serviceId)))
            sstore(add(task.slot, 1), pricing)
        }
        emit TaskCreated(taskId, msg.sender, serviceId, price);
        // forge-lint: disable-next-line(unsafe-typecast)
        emit TaskInput(taskId, uint64(deadline), input); // deadline < 2^40, see above

        if (token != address(0)) {
            // The token is the provider's choice: lock so that it cannot re-enter a settlement.
            _lock();
            IERC20(token).safeTransferFrom(msg.sender, address(this), price);
            assembly ("memory-safe") {
                tstore(LOCK_SLOT, 0)
            }
        }
    }

    /// @inheritdoc IComputeMarket
    function claimRefund(uint256 taskId) external nonReentrant {
        (Task storage task, uint256 head) = _openTask(taskId);
        // forge-lint: disable-next-line(unsafe-typecast)
        address user = address(uint160(head));
        if (msg.sender != user) revert NotTaskUser(taskId, msg.sender);
        // forge-lint: disable-next-line(unsafe-typecast)
        uint256 deadline = uint40(head >> TASK_DEADLINE_SHIFT);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp <= deadline) revert DeadlineNotReached(taskId, deadline, block.timestamp);

        _setStatus(task, head, TaskStatus.Refunded);
        emit TaskRefunded(taskId);
        (address token, uint256 amount) = _escrow(task);
        _pay(user, token, amount);
    }

    // ---------------------------------------------------------------- provider or operator

    /// @inheritdoc IComputeMarket
    function startTask(uint256 taskId) external {
        (Task storage task, uint256 head) = _openTask(taskId);
        _authorize(taskId, head);
        TaskStatus status = _status(head);
        if (status != TaskStatus.Created) revert InvalidTaskStatus(taskId, status);
        _setStatus(task, head, TaskStatus.Running);
        emit TaskStarted(taskId);
    }

    /// @inheritdoc IComputeMarket
    function completeTask(uint256 taskId, string calldata resultHash) external nonReentrant {
        (Task storage task, uint256 head) = _openTask(taskId);
        (address provider, uint256 feeBps) = _authorize(taskId, head);
        _setStatus(task, head, TaskStatus.Completed);
        emit TaskCompleted(taskId, resultHash);

        (address token, uint256 amount) = _escrow(task);
        if (feeBps != 0) {
            uint256 fee;
            unchecked {
                // amount < 2^96 and feeBps <= MAX_FEE_BPS: no overflow, and fee <= amount.
                fee = amount * feeBps / BPS;
                amount -= fee;
            }
            if (fee != 0) _pay(feeRecipient, token, fee);
        }
        _pay(provider, token, amount);
    }

    /// @inheritdoc IComputeMarket
    function failTask(uint256 taskId, string calldata reason) external nonReentrant {
        (Task storage task, uint256 head) = _openTask(taskId);
        _authorize(taskId, head);
        _setStatus(task, head, TaskStatus.Refunded);
        emit TaskFailed(taskId, reason);
        emit TaskRefunded(taskId);
        (address token, uint256 amount) = _escrow(task);
        // forge-lint: disable-next-line(unsafe-typecast)
        _pay(address(uint160(head)), token, amount);
    }

    // ---------------------------------------------------------------- pull payments

    /// @inheritdoc IComputeMarket
    function withdraw(address token) external nonReentrant {
        uint256 amount = owed[msg.sender][token];
        if (amount == 0) revert NothingToWithdraw(msg.sender, token);
        owed[msg.sender][token] = 0;
        emit Withdrawn(msg.sender, token, amount);

        bool ok;
        if (token == address(0)) {
            // The account asks for its own money: forward all gas, ignore what it returns.
            assembly ("memory-safe") {
                ok := call(gas(), caller(), amount, 0, 0, 0, 0)
            }
        } else {
            ok = IERC20(token).trySafeTransfer(msg.sender, amount);
        }
        if (!ok) revert TransferFailed(msg.sender, token, amount);
    }

    // ---------------------------------------------------------------- owner

    /// @inheritdoc IComputeMarket
    function setOperator(address operator, bool allowed) external onlyOwner {
        isOperator[operator] = allowed;
        if (allowed) _hotOperator = operator;
        else if (_hotOperator == operator) _hotOperator = address(0);
        emit OperatorSet(operator, allowed);
    }

    /// @inheritdoc IComputeMarket
    function setPlatformFee(uint16 feeBps, address recipient) external onlyOwner {
        if (feeBps > MAX_FEE_BPS) revert FeeTooHigh(feeBps, MAX_FEE_BPS);
        if (feeBps != 0 && recipient == address(0)) revert InvalidFeeRecipient(recipient);
        platformFeeBps = feeBps;
        feeRecipient = recipient;
        emit PlatformFeeSet(feeBps, recipient);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IComputeMarket
    function getService(uint256 serviceId) external view returns (Service memory) {
        return _services[serviceId];
    }

    /// @inheritdoc IComputeMarket
    function getTask(uint256 taskId) external view returns (Task memory) {
        return _tasks[taskId];
    }

    /// @inheritdoc IComputeMarket
    function serviceCount() external view returns (uint256) {
        return _serviceCount;
    }

    /// @inheritdoc IComputeMarket
    function taskCount() external view returns (uint256) {
        return _taskCount;
    }

    // ---------------------------------------------------------------- internal

    function _checkTerms(uint256 price, uint64 maxRunTime) private pure {
        if (price == 0 || price > type(uint96).max) revert InvalidPrice(price);
        if (maxRunTime == 0 || maxRunTime > MAX_RUN_TIME) revert InvalidMaxRunTime(maxRunTime);
    }

    function _ownService(uint256 serviceId) private view returns (Service storage service) {
        service = _services[serviceId];
        address provider = service.provider;
        if (provider == address(0)) revert ServiceNotFound(serviceId);
        if (msg.sender != provider) revert NotServiceProvider(serviceId, msg.sender);
    }

    /// @dev The task and its slot 0, which must exist and hold escrow (`Created` or `Running`).
    function _openTask(uint256 taskId) private view returns (Task storage task, uint256 head) {
        task = _tasks[taskId];
        assembly ("memory-safe") {
            head := sload(task.slot)
        }
        if (head & ADDRESS_MASK == 0) revert TaskNotFound(taskId);
        TaskStatus status = _status(head);
        if (status > TaskStatus.Running) revert InvalidTaskStatus(taskId, status);
    }

    function _status(uint256 head) private pure returns (TaskStatus) {
        return TaskStatus((head >> TASK_STATUS_SHIFT) & 0xff);
    }

    function _setStatus(Task storage task, uint256 head, TaskStatus status) private {
        assembly ("memory-safe") {
            sstore(task.slot, or(and(head, not(shl(TASK_STATUS_SHIFT, 0xff))), shl(TASK_STATUS_SHIFT, status)))
        }
    }

    /// @dev The task's token and escrowed amount (slot 1).
    function _escrow(Task storage task) private view returns (address token, uint256 amount) {
        uint256 word;
        assembly ("memory-safe") {
            word := sload(add(task.slot, 1))
        }
        // forge-lint: disable-next-line(unsafe-typecast)
        token = address(uint160(word));
        amount = word >> AMOUNT_SHIFT;
    }

    /// @dev The caller must be the provider of the task's service or an operator. Returns the provider
    /// and the platform fee, which share the storage reads made here.
    function _authorize(uint256 taskId, uint256 head) private view returns (address provider, uint256 feeBps) {
        uint256 serviceId = head >> TASK_SERVICE_SHIFT;
        provider = _services[serviceId].provider;
        uint256 config;
        assembly ("memory-safe") {
            config := sload(_hotOperator.slot) // _hotOperator | platformFeeBps << 160
        }
        // forge-lint: disable-next-line(unsafe-typecast)
        feeBps = uint16(config >> 160);
        // forge-lint: disable-next-line(unsafe-typecast)
        if (msg.sender != provider && msg.sender != address(uint160(config)) && !isOperator[msg.sender]) {
            revert NotAuthorized(taskId, msg.sender);
        }
    }

    /// @dev Push `amount` of `token` (address(0): ETH) to `to`; if that fails, credit it to `owed`.
    function _pay(address to, address token, uint256 amount) private {
        bool ok;
        if (token == address(0)) {
            assembly ("memory-safe") {
                // No return data is copied, so the receiver cannot make this call expensive for us.
                ok := call(ETH_PUSH_GAS, to, amount, 0, 0, 0, 0)
            }
        } else {
            ok = IERC20(token).trySafeTransfer(to, amount);
        }
        if (!ok) {
            owed[to][token] += amount;
            emit PayoutDeferred(to, token, amount);
        }
    }

    function _lock() private {
        _checkUnlocked();
        assembly ("memory-safe") {
            tstore(LOCK_SLOT, 1)
        }
    }

    function _checkUnlocked() private view {
        bool locked;
        assembly ("memory-safe") {
            locked := tload(LOCK_SLOT)
        }
        if (locked) revert ReentrantCall();
    }
}
