// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IComputeMarket} from "./interfaces/IComputeMarket.sol";
import {Payouts} from "./base/Payouts.sol";

/// @title ComputeMarket
/// @notice Escrow for compute services priced in ETH or an ERC-20 (see {IComputeMarket}).
/// @dev Money rules:
/// - A purchase pays exactly the terms the buyer saw: `buyCompute` takes the price and maximum run time
///   the buyer agreed to and reverts with `TermsChanged` if the service's stored terms differ.
/// - A task's escrow is exactly its `amount`, held from `buyCompute` until the task is final
///   (`Completed` or `Refunded`), and paid out exactly once, in full (provider + fee, or buyer). A token
///   pull that delivers anything but the price is refused ({Payouts-_pull}).
/// - The platform fee is frozen into the task at purchase; raising it later changes no task bought.
/// - Completion needs `block.timestamp <= deadline`, `claimRefund` needs `block.timestamp > deadline`:
///   at any moment exactly one of the two is possible. `failTask` (a refund to the buyer) stays open to
///   the provider and operators until the task is final.
/// - Payouts are pushed, or owed and withdrawn, through {Payouts}; state changes and events come before
///   any external call, and every function that calls out holds the base's transient lock.
///
/// Gas: the hot paths (`buyCompute`, `completeTask`, ...) read and write the packed `Task` and `Service`
/// words directly. Their layout is Solidity's own for the structs in {IComputeMarket}:
/// - Service slot 0: provider (bits 0-159) | maxRunTime (160-223) | active (224-231);
///   slot 1: token (0-159) | price (160-255); slot 2: metadataURI.
/// - Task slot 0: user (0-159) | deadline (160-199) | status (200-207) | serviceId (208-239) |
///   feeBps (240-255); slot 1: token (0-159) | amount (160-255).
/// - The task counter and the platform fee share one word (`_taskCount` bits 0-63, `platformFeeBps`
///   64-79), which a purchase reads and writes anyway: freezing the fee costs no extra storage access.
/// `getTask`/`getService` read the same words through the structs, and the tests check they agree.
contract ComputeMarket is IComputeMarket, Ownable2Step, Payouts {
    /// @inheritdoc IComputeMarket
    uint64 public constant REFUND_GRACE = 10 minutes;
    /// @notice Upper bound for a service's `maxRunTime` (one year).
    uint64 public constant MAX_RUN_TIME = 365 days;
    /// @notice Upper bound for the platform fee, in basis points (10%).
    uint16 public constant MAX_FEE_BPS = 1000;

    uint256 private constant BPS = 10_000;
    uint256 private constant TASK_DEADLINE_SHIFT = 160;
    uint256 private constant TASK_STATUS_SHIFT = 200;
    uint256 private constant TASK_SERVICE_SHIFT = 208;
    uint256 private constant TASK_FEE_SHIFT = 240;
    uint256 private constant SERVICE_RUNTIME_SHIFT = 160;
    uint256 private constant SERVICE_ACTIVE_SHIFT = 224;
    uint256 private constant AMOUNT_SHIFT = 160;
    uint256 private constant COUNTER_FEE_SHIFT = 64;

    // One word, read and written by every purchase (see the layout above). It must start a slot (a
    // mapping of the base comes before it) and the next variable must not fit beside it.
    uint64 private _taskCount;
    /// @inheritdoc IComputeMarket
    uint16 public platformFeeBps;

    uint256 private _serviceCount;
    // The operator enabled last, so that a settlement by it needs no mapping read (`isOperator` stays
    // the source of truth).
    address private _hotOperator;
    /// @notice Receives the platform fee of tasks completed while it is set.
    address public feeRecipient;

    mapping(uint256 serviceId => Service) private _services;
    mapping(uint256 taskId => Task) private _tasks;

    /// @inheritdoc IComputeMarket
    mapping(address account => bool) public isOperator;

    constructor(address initialOwner) Ownable(initialOwner) Payouts("Agora ComputeMarket", "1") {}

    // ---------------------------------------------------------------- provider

    /// @inheritdoc IComputeMarket
    function listService(address token, uint256 price, uint64 maxRunTime, string calldata metadataURI)
        external
        returns (uint256 serviceId)
    {
        _checkTerms(price, maxRunTime);
        unchecked {
            // Each listing costs tens of thousands of gas: 2^32 of them (over 10^14 gas) cannot happen, so
            // a service id fits a task's 32-bit field.
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
    function buyCompute(uint256 serviceId, string calldata input, uint256 price, uint64 maxRunTime)
        external
        payable
        returns (uint256 taskId)
    {
        Service storage service = _services[serviceId];
        uint256 terms; // Service slot 0
        uint256 pricing; // Service slot 1: token | price << 160, which is also the new Task's slot 1
        assembly ("memory-safe") {
            terms := sload(service.slot)
            pricing := sload(add(service.slot, 1))
        }
        if (terms & ADDRESS_MASK == 0) revert ServiceNotFound(serviceId);
        if ((terms >> SERVICE_ACTIVE_SHIFT) & 0xff == 0) revert ServiceInactive(serviceId);
        {
            uint256 storedPrice = pricing >> AMOUNT_SHIFT;
            // forge-lint: disable-next-line(unsafe-typecast)
            uint64 storedRunTime = uint64(terms >> SERVICE_RUNTIME_SHIFT);
            if (price != storedPrice || maxRunTime != storedRunTime) {
                revert TermsChanged(serviceId, price, maxRunTime, storedPrice, storedRunTime);
            }
        }
        // forge-lint: disable-next-line(unsafe-typecast)
        address token = address(uint160(pricing));
        if (token == address(0)) {
            if (msg.value != price) revert InsufficientPayment(msg.value, price);
            // Not while a payout is being pushed (a receiver buying from its `receive`).
            _checkUnlocked();
        } else {
            if (msg.value != 0) revert UnexpectedEther(msg.value);
            // The token is the provider's choice: lock so that it cannot re-enter anything.
            _lock();
        }

        uint256 counter; // _taskCount | platformFeeBps << 64, after the increment
        uint256 deadline;
        assembly ("memory-safe") {
            // One task per purchase, each costing tens of thousands of gas: the 64-bit counter cannot wrap
            // into the fee's bits.
            counter := add(sload(_taskCount.slot), 1)
            sstore(_taskCount.slot, counter)
        }
        unchecked {
            // forge-lint: disable-next-line(unsafe-typecast)
            taskId = uint64(counter);
            // maxRunTime <= MAX_RUN_TIME, so the deadline fits the 40-bit field for 30,000 years.
            deadline = block.timestamp + maxRunTime + REFUND_GRACE;
        }
        Task storage task = _tasks[taskId];
        assembly ("memory-safe") {
            // status Created is 0; serviceId <= _serviceCount < 2^32 as the service exists; the fee in
            // force now (< 2^16) is frozen into the task.
            let feeBps := and(shr(COUNTER_FEE_SHIFT, counter), 0xffff)
            sstore(
                task.slot,
                or(
                    or(caller(), shl(TASK_DEADLINE_SHIFT, deadline)),
                    or(shl(TASK_SERVICE_SHIFT, serviceId), shl(TASK_FEE_SHIFT, feeBps))
                )
            )
            sstore(add(task.slot, 1), pricing)
        }
        emit TaskCreated(taskId, msg.sender, serviceId, price);
        // forge-lint: disable-next-line(unsafe-typecast)
        emit TaskInput(taskId, uint64(deadline), input); // deadline < 2^40, see above

        if (token != address(0)) {
            _pull(token, msg.sender, price);
            _unlock();
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
        address provider = _authorize(taskId, head);
        // forge-lint: disable-next-line(unsafe-typecast)
        uint256 deadline = uint40(head >> TASK_DEADLINE_SHIFT);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp > deadline) revert TaskExpired(taskId, deadline, block.timestamp);
        _setStatus(task, head, TaskStatus.Completed);
        emit TaskCompleted(taskId, resultHash);

        (address token, uint256 amount) = _escrow(task);
        uint256 feeBps = head >> TASK_FEE_SHIFT; // frozen at purchase
        if (feeBps != 0) {
            address recipient = feeRecipient;
            uint256 fee;
            unchecked {
                // amount < 2^96 and feeBps <= MAX_FEE_BPS: no overflow, and fee <= amount.
                fee = amount * feeBps / BPS;
            }
            // With no recipient any more (the fee was switched off since), the provider keeps it.
            if (fee != 0 && recipient != address(0)) {
                unchecked {
                    amount -= fee;
                }
                _pay(recipient, token, fee);
            }
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

    // ---------------------------------------------------------------- owner

    /// @inheritdoc IComputeMarket
    // A zero `operator` is harmless: no caller is address(0), so it authorises nobody.
    // slither-disable-next-line missing-zero-check
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
            // Slither reads Yul's `shl(shift, value)` with its operands swapped: the shift is right.
            // slither-disable-next-line incorrect-shift
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

    /// @dev The caller must be the provider of the task's service or an operator. Returns the provider.
    function _authorize(uint256 taskId, uint256 head) private view returns (address provider) {
        uint256 serviceId = (head >> TASK_SERVICE_SHIFT) & 0xffffffff;
        provider = _services[serviceId].provider;
        if (msg.sender != provider && msg.sender != _hotOperator && !isOperator[msg.sender]) {
            revert NotAuthorized(taskId, msg.sender);
        }
    }
}
