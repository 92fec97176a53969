// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IPayouts} from "./IPayouts.sol";

/// @title IComputeMarket
/// @notice Escrow market for compute services. A provider lists a service; a buyer pays its price
/// into escrow with `buyCompute`; the provider (or an operator the owner appointed) starts the task
/// and either completes it, releasing the escrow to the provider less the platform fee, or fails it,
/// refunding the buyer. A buyer whose task is not finished by its deadline takes the money back with
/// `claimRefund`, without anyone's help.
///
/// A buyer pays exactly the terms it was shown: `buyCompute` carries the price and maximum run time the
/// buyer agreed to and reverts (`TermsChanged`) when the provider changed them in the meantime. The
/// platform fee is the one in force at purchase. Until the deadline only completion (or a failure) can
/// settle an unfinished task; after it only the buyer's refund (or a failure) can. Payouts that cannot be
/// pushed are owed and withdrawn through {IPayouts}. Ownership moves in two steps (`transferOwnership`,
/// then `acceptOwnership` by the new owner).
interface IComputeMarket is IPayouts {
    /// @notice Lifecycle of a task (the seed's enum). `Created` and `Running` hold escrow;
    /// `Completed` and `Refunded` are final. A task exists iff its `user` is non-zero.
    enum TaskStatus {
        Created,
        Running,
        Completed,
        Refunded
    }

    /// @notice A listed service. `token == address(0)` means the price is in native ETH.
    struct Service {
        address provider;
        uint64 maxRunTime;
        bool active;
        address token;
        uint96 price;
        string metadataURI;
    }

    /// @notice A task as stored: `deadline` is purchase time + the service's maximum run time +
    /// `REFUND_GRACE`; `feeBps` is the platform fee in force at purchase, the one its completion pays.
    /// The result hash is only in the `TaskCompleted` event.
    struct Task {
        address user;
        uint40 deadline;
        TaskStatus status;
        uint32 serviceId;
        uint16 feeBps;
        address token;
        uint96 amount;
    }

    // ---------------------------------------------------------------- events

    event ServiceListed(
        uint256 indexed serviceId,
        address indexed provider,
        address token,
        uint256 price,
        uint64 maxRunTime,
        string metadataURI
    );
    event ServiceUpdated(uint256 indexed serviceId, uint256 price, uint64 maxRunTime, string metadataURI);
    event ServiceDelisted(uint256 indexed serviceId);

    /// @notice Escrow taken for a new task (the seed's event, unchanged).
    event TaskCreated(uint256 taskId, address user, uint256 serviceId, uint256 amount);
    /// @notice The rest of a new task's terms, emitted right after `TaskCreated`: the buyer's input
    /// (a content id or inline JSON) and the deadline after which the buyer may `claimRefund`.
    event TaskInput(uint256 indexed taskId, uint64 deadline, string input);
    event TaskStarted(uint256 taskId);
    /// @notice The task finished; `resultHash` is the content id of its output.
    event TaskCompleted(uint256 taskId, string resultHash);
    /// @notice The escrow went back to the buyer.
    event TaskRefunded(uint256 taskId);
    /// @notice Why an operator or provider failed a task (emitted before `TaskRefunded`).
    event TaskFailed(uint256 indexed taskId, string reason);

    event OperatorSet(address indexed operator, bool allowed);
    event PlatformFeeSet(uint16 feeBps, address recipient);

    // ---------------------------------------------------------------- errors

    error ServiceNotFound(uint256 serviceId);
    error ServiceInactive(uint256 serviceId);
    error NotServiceProvider(uint256 serviceId, address caller);
    error InvalidPrice(uint256 price);
    error InvalidMaxRunTime(uint64 maxRunTime);
    /// @notice The service's stored terms are not the ones the buyer agreed to (the provider changed
    /// them): nothing was bought.
    error TermsChanged(
        uint256 serviceId, uint256 agreedPrice, uint64 agreedMaxRunTime, uint256 price, uint64 maxRunTime
    );
    error InsufficientPayment(uint256 sent, uint256 price);
    error UnexpectedEther(uint256 sent);
    error TaskNotFound(uint256 taskId);
    error InvalidTaskStatus(uint256 taskId, TaskStatus status);
    error NotAuthorized(uint256 taskId, address caller);
    error DeadlineNotReached(uint256 taskId, uint256 deadline, uint256 nowTs);
    error NotTaskUser(uint256 taskId, address caller);
    /// @notice `completeTask` after the task's deadline: the escrow now belongs to the buyer's refund.
    error TaskExpired(uint256 taskId, uint256 deadline, uint256 nowTs);
    error FeeTooHigh(uint16 feeBps, uint16 maxBps);
    /// @notice A non-zero platform fee needs a recipient (a zero one would burn or strand the fee).
    error InvalidFeeRecipient(address recipient);

    // ---------------------------------------------------------------- provider

    /// @notice List a service. Price in the token's smallest unit; `maxRunTime` in seconds.
    function listService(address token, uint256 price, uint64 maxRunTime, string calldata metadataURI)
        external
        returns (uint256 serviceId);

    /// @notice Change a service's price, maximum run time and metadata; only for new purchases.
    function updateService(uint256 serviceId, uint256 price, uint64 maxRunTime, string calldata metadataURI) external;

    /// @notice Stop selling a service. Tasks already bought keep their escrow and deadlines.
    function delistService(uint256 serviceId) external;

    // ---------------------------------------------------------------- buyer

    /// @notice Buy a run of `serviceId` at the terms the buyer was shown: `price` and `maxRunTime` must
    /// be the service's stored terms, else `TermsChanged`. Escrows exactly the price: `msg.value` for ETH
    /// services, else the token pulled from the caller (approve first); a token that delivers less (or
    /// more) than the price is refused.
    function buyCompute(uint256 serviceId, string calldata input, uint256 price, uint64 maxRunTime)
        external
        payable
        returns (uint256 taskId);

    /// @notice Take the escrow back once the task's deadline has passed and it is still unfinished.
    function claimRefund(uint256 taskId) external;

    // ---------------------------------------------------------------- provider or operator

    function startTask(uint256 taskId) external;

    /// @notice Finish the task, at the latest at its deadline: pays the provider the escrow less the
    /// platform fee frozen at purchase.
    function completeTask(uint256 taskId, string calldata resultHash) external;

    /// @notice Give up on the task: refunds the buyer in full.
    function failTask(uint256 taskId, string calldata reason) external;

    // ---------------------------------------------------------------- owner

    function setOperator(address operator, bool allowed) external;
    function setPlatformFee(uint16 feeBps, address recipient) external;

    // ---------------------------------------------------------------- views

    function getService(uint256 serviceId) external view returns (Service memory);
    function getTask(uint256 taskId) external view returns (Task memory);
    function serviceCount() external view returns (uint256);
    function taskCount() external view returns (uint256);
    function isOperator(address account) external view returns (bool);
    function platformFeeBps() external view returns (uint16);
    function REFUND_GRACE() external view returns (uint64);
}
