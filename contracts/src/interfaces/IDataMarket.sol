// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IPayouts} from "./IPayouts.sol";

/// @title IDataMarket
/// @notice The data-stream market: a registry of sellers and orders for data streamed off chain, paid in
/// proportion to what the buyer acknowledged.
///
/// Registry. A seller registers the endpoint buyers connect to (host:port or a URL), the key that signs
/// its protocol messages (`messageSigner`) and its menu (`menuHash`, the content hash of the menu it
/// serves, and where to fetch it, `menuUri`); it may update or deregister. Ratings are aggregated per
/// seller (what buyers gave it) and per buyer (what sellers gave it): a count and a sum of scores.
///
/// Orders. A buyer opens an order with a registered seller for `totalBytes` of data at `price` (in
/// `token`, address(0) for ETH). The order id is
/// `keccak256(abi.encode(block.chainid, address(this), buyer, seller, startedFrom, nonce))`: `startedFrom`
/// (unix seconds, at most `block.timestamp` and at least `block.timestamp - MAX_START_AGE`) and `nonce`
/// are the buyer's choice, and an id already used reverts with `OrderExists`, so the buyer picks
/// another nonce. With `PaymentMethod.Escrow` the price is escrowed at `openOrder`; with `OffChain`
/// (paid outside the chain, the seed's "alipay") nothing is, and the seller finishes the order with
/// `confirmPaid`.
///
/// ACKs. While the data flows, the buyer's `ackSigner` (the buyer, or a session key its browser holds;
/// a contract signer answers through ERC-1271) signs after every verified chunk the EIP-712 typed data
/// `Ack(bytes32 orderId,uint64 received)` in the domain {name: "Agora DataMarket", version: "1", chainId,
/// verifyingContract: this contract}: `received` is the cumulative number of bytes received and
/// verified. An ACK is a cumulative voucher: the seller keeps only the highest.
///
/// Ending and settling an escrowed order. The contract records the highest figure presented
/// (`Order.received`, zero at first) and pays the seller `price * received / totalBytes` (rounded down)
/// and the buyer the rest: the two parts are exactly the escrow.
/// - Either party may `end` the order at any time, presenting a figure: the seller must present the
///   ackSigner's signature of it (none is needed for zero); the buyer states it without a signature,
///   since a buyer's own transaction binds its own money (a figure higher than it signed only pays the
///   seller more). Ending brings the order's deadline forward to now (never later than it was).
/// - Until `deadline + CHALLENGE_WINDOW`, either party may `challenge` with a higher figure under the
///   same rules; a figure is never lowered. So a buyer that ends early with a low figure is corrected
///   by the seller's later ACK within the window.
/// - From `deadline + CHALLENGE_WINDOW` on, anyone may `settle` the order with the figure on record,
///   and nobody can present any more: at every moment exactly one of the two is possible.
/// - An order nobody ended has the same rule: ACKs may be presented (with `end`) until its deadline plus
///   the window, then anyone settles. A seller that streamed up to the deadline thus has one window
///   after it to put its last ACK on record; a seller that presents nothing is paid nothing.
/// - A figure equal to `totalBytes` settles the order at once: no later ACK can exist.
/// An off-chain order is finished by the seller's `confirmPaid`; if the seller never confirms, anyone
/// may mark it `Expired` with `settle` from its deadline plus the window on (nothing is paid either way).
///
/// Ratings. Once an order is finished (`Settled`, `Paid` or `Expired`), its buyer and its seller may
/// each `rate` the other once: a score from 1 to 5 and the hash of a comment kept off chain.
///
/// Payouts that cannot be pushed are owed and withdrawn through {IPayouts}. Amounts are in the token's
/// smallest unit (wei for ETH); a price fits in 96 bits.
interface IDataMarket is IPayouts {
    /// @notice How an order is paid: `Escrow` holds the price in this contract from `openOrder` to the
    /// settlement; `OffChain` holds nothing (the parties settle outside the chain).
    enum PaymentMethod {
        Escrow,
        OffChain
    }

    /// @notice Lifecycle of an order. `Open`: data may flow. `Ending`: ended by a party, ACKs may still
    /// be presented until the settlement is due. `Settled` (escrow paid out), `Paid` (off-chain payment
    /// confirmed by the seller) and `Expired` (off-chain order never confirmed) are final; a used id is
    /// never opened again.
    enum OrderState {
        None,
        Open,
        Ending,
        Settled,
        Paid,
        Expired
    }

    /// @notice A registered seller; all zero for an address that is not registered.
    struct Seller {
        address messageSigner;
        bool registered;
        bytes32 menuHash;
        string endpoint;
        string menuUri;
    }

    /// @notice Ratings received: how many, and the sum of their scores (the mean is `scoreSum / count`).
    struct Rating {
        uint64 count;
        uint64 scoreSum;
    }

    /// @notice An order as stored (four storage words). `deadline` is the order's deadline, brought
    /// forward to the moment it was ended (if it was ended before it): ACKs may be presented until
    /// `deadline + CHALLENGE_WINDOW`, and the order settled from then on. `received` is the highest
    /// figure presented so far. After the order finishes every field keeps the value it finished with.
    /// `startedFrom` and `deadline` are unix seconds (40 bits).
    struct Order {
        address buyer;
        uint40 startedFrom;
        uint40 deadline;
        OrderState state;
        PaymentMethod method;
        address seller;
        uint96 price;
        address token;
        uint64 totalBytes;
        bool ratedByBuyer;
        bool ratedBySeller;
        address ackSigner;
        uint64 received;
    }

    // ---------------------------------------------------------------- events

    /// @notice `seller` registered: buyers reach it at `endpoint`, its messages are signed by
    /// `messageSigner`, and its menu hashes to `menuHash` and is found at `menuUri`.
    event SellerRegistered(
        address indexed seller, string endpoint, address messageSigner, bytes32 menuHash, string menuUri
    );
    /// @notice `seller` replaced its registration (same fields as `SellerRegistered`).
    event SellerUpdated(
        address indexed seller, string endpoint, address messageSigner, bytes32 menuHash, string menuUri
    );
    /// @notice `seller` left the registry: its orders go on, but no new order can name it.
    event SellerDeregistered(address indexed seller);
    /// @notice An order was opened with these terms (for `Escrow`, `price` is now held).
    event OrderOpened(
        bytes32 indexed orderId,
        address indexed buyer,
        address indexed seller,
        address token,
        uint256 price,
        uint64 totalBytes,
        uint64 deadline,
        uint64 startedFrom,
        uint256 nonce,
        address ackSigner,
        PaymentMethod method
    );
    /// @notice `by` (the buyer or the seller) ended the order with `received` on record; it may be
    /// settled from `settleAt` (unix seconds) on, and ACKs may be presented until then. (An end with
    /// the whole `totalBytes` settles at once and emits only `OrderSettled`.)
    event OrderEnded(bytes32 indexed orderId, address indexed by, uint64 received, uint64 settleAt);
    /// @notice `by` presented a higher figure, `received`, during the challenge window. (A challenge with
    /// the whole `totalBytes` settles at once and emits only `OrderSettled`.)
    event OrderChallenged(bytes32 indexed orderId, address indexed by, uint64 received);
    /// @notice The escrow was paid out: `paidToSeller` (`price * received / totalBytes`, rounded down)
    /// to the seller and `refundedToBuyer` (the rest) to the buyer.
    event OrderSettled(bytes32 indexed orderId, uint64 received, uint256 paidToSeller, uint256 refundedToBuyer);
    /// @notice The seller confirmed that the off-chain order was paid.
    event OrderConfirmedPaid(bytes32 indexed orderId);
    /// @notice The off-chain order was never confirmed by its deadline plus the window; it is finished.
    event OrderExpired(bytes32 indexed orderId);
    /// @notice `rater` (a party to the order) gave `rated` (the other party) `score` (1 to 5), with the
    /// hash of a comment kept off chain.
    event OrderRated(
        bytes32 indexed orderId, address indexed rater, address indexed rated, uint8 score, bytes32 commentHash
    );

    // ---------------------------------------------------------------- errors

    /// @notice The constructor's challenge window must be between 1 second and `MAX_CHALLENGE_WINDOW`.
    error InvalidChallengeWindow(uint64 window);
    /// @notice `register` by a seller already registered (use `update`).
    error SellerAlreadyRegistered(address seller);
    /// @notice The seller is not registered (`update`, `deregister`, or an order with it).
    error SellerNotRegistered(address seller);
    /// @notice An endpoint must be 1 to `MAX_ENDPOINT_LENGTH` bytes long.
    error InvalidEndpoint(uint256 length);
    /// @notice A menu URI must be at most `MAX_MENU_URI_LENGTH` bytes long.
    error InvalidMenuUri(uint256 length);
    /// @notice The message signer must not be the zero address.
    error InvalidMessageSigner(address messageSigner);
    /// @notice The menu hash must not be zero.
    error InvalidMenuHash(bytes32 menuHash);
    /// @notice A buyer cannot order from itself.
    error SellerIsBuyer(address seller);
    /// @notice The ACK signer must not be the zero address.
    error InvalidAckSigner(address ackSigner);
    /// @notice A price must be above zero and fit in 96 bits.
    error InvalidPrice(uint256 price);
    /// @notice An order is for at least one byte.
    error InvalidTotalBytes(uint64 totalBytes);
    /// @notice A deadline must be in the future and at most `MAX_ORDER_DURATION` from now.
    error InvalidDeadline(uint64 deadline, uint256 nowTs);
    /// @notice `startedFrom` must be at most now and at least `now - MAX_START_AGE`.
    error InvalidStartedFrom(uint64 startedFrom, uint256 nowTs);
    /// @notice `msg.value` must be the price for an escrowed ETH order, and zero otherwise.
    error ValueMismatch(uint256 sent, uint256 expected);
    /// @notice An order with this id was already opened (it may be finished): pick another nonce.
    error OrderExists(bytes32 orderId);
    /// @notice The order is not `Open` (`end`, `confirmPaid`).
    error OrderNotOpen(bytes32 orderId, OrderState state);
    /// @notice The order is not `Ending` (`challenge`).
    error OrderNotEnding(bytes32 orderId, OrderState state);
    /// @notice The order is neither `Open` nor `Ending`: there is nothing to settle (`settle`).
    error OrderNotActive(bytes32 orderId, OrderState state);
    /// @notice The order is not finished yet (`rate`).
    error OrderNotFinished(bytes32 orderId, OrderState state);
    /// @notice `account` is neither the order's buyer nor its seller.
    error NotOrderParty(bytes32 orderId, address account);
    /// @notice Only the order's seller may confirm an off-chain payment.
    error NotOrderSeller(bytes32 orderId, address account);
    /// @notice The call does not apply to an order paid this way (`end`/`challenge` on an off-chain order,
    /// `confirmPaid` on an escrowed one).
    error WrongPaymentMethod(bytes32 orderId, PaymentMethod method);
    /// @notice A figure above the order's total.
    error AckExceedsTotal(bytes32 orderId, uint64 received, uint64 totalBytes);
    /// @notice A challenge must raise the figure on record.
    error AckNotHigher(bytes32 orderId, uint64 received, uint64 recorded);
    /// @notice The ACK signature is not the ackSigner's for this order and figure (wrong key, wrong order
    /// or figure, a high-s or malformed signature, or a contract signer that does not approve it).
    error InvalidAckSignature(bytes32 orderId, address ackSigner);
    /// @notice ACKs can no longer be presented: the settlement is due since `settleAt`.
    error AckWindowClosed(bytes32 orderId, uint64 settleAt, uint256 nowTs);
    /// @notice `settle` before `settleAt` (the deadline, possibly brought forward, plus the window).
    error SettlementNotDue(bytes32 orderId, uint64 settleAt, uint256 nowTs);
    /// @notice A score must be 1 to 5.
    error InvalidScore(uint8 score);
    /// @notice `rater` already rated this order.
    error AlreadyRated(bytes32 orderId, address rater);

    // ---------------------------------------------------------------- sellers

    /// @notice Register the caller as a seller. `endpoint`: 1 to `MAX_ENDPOINT_LENGTH` bytes;
    /// `messageSigner`: the non-zero key that signs the seller's protocol messages; `menuHash`: the
    /// non-zero content hash of its menu; `menuUri`: where the menu can be fetched (may be empty; at most
    /// `MAX_MENU_URI_LENGTH` bytes).
    function register(string calldata endpoint, address messageSigner, bytes32 menuHash, string calldata menuUri)
        external;

    /// @notice Replace the caller's registration (same rules as `register`).
    function update(string calldata endpoint, address messageSigner, bytes32 menuHash, string calldata menuUri) external;

    /// @notice Leave the registry: no new orders; orders already open go on. Ratings are kept.
    function deregister() external;

    // ---------------------------------------------------------------- orders

    /// @notice Open an order from the caller to `seller` (registered, not the caller) and return its id
    /// (see the contract's notice for the id). `price`: 1 to `type(uint96).max`, in `token` (address(0):
    /// ETH); for `Escrow` it is held now, `msg.value` for ETH or pulled with `transferFrom` (approve
    /// first; a token that delivers anything else is refused, `AmountNotReceived`); for `OffChain`
    /// nothing is held and `msg.value` must be zero. `totalBytes`: at least 1. `deadline`: in the future,
    /// at most `MAX_ORDER_DURATION` away. `ackSigner`: the key that signs the ACKs.
    function openOrder(
        address seller,
        address token,
        uint256 price,
        uint64 totalBytes,
        uint64 deadline,
        uint64 startedFrom,
        uint256 nonce,
        address ackSigner,
        PaymentMethod method
    ) external payable returns (bytes32 orderId);

    /// @notice End an open escrowed order as its buyer or seller, before `deadline + CHALLENGE_WINDOW`,
    /// with the highest figure the caller holds. The seller passes the ackSigner's signature of
    /// `Ack(orderId, received)` (65 bytes `r || s || v`, 64 bytes EIP-2098 compact, or what a contract
    /// signer approves through ERC-1271; none for zero); the buyer's `signature` is ignored. The
    /// deadline is brought forward to now; a figure equal to `totalBytes` settles at once.
    function end(bytes32 orderId, uint64 received, bytes calldata signature) external;

    /// @notice Raise the figure on record of an ended order, before its settlement is due, as its buyer or
    /// seller (same signature rules as `end`). A figure equal to `totalBytes` settles at once.
    function challenge(bytes32 orderId, uint64 received, bytes calldata signature) external;

    /// @notice From `deadline + CHALLENGE_WINDOW` on, anyone may settle an escrowed order (pay the seller
    /// `price * received / totalBytes` and the buyer the rest) or mark an unconfirmed off-chain order
    /// `Expired`.
    function settle(bytes32 orderId) external;

    /// @notice The seller of an open off-chain order confirms it was paid; the order is finished.
    function confirmPaid(bytes32 orderId) external;

    /// @notice Rate the other party of a finished order, once per party: `score` 1 to 5 and the hash of
    /// a comment kept off chain.
    function rate(bytes32 orderId, uint8 score, bytes32 commentHash) external;

    // ---------------------------------------------------------------- views

    /// @notice The seller's registration; all zero if it is not registered.
    function getSeller(address seller) external view returns (Seller memory);

    /// @notice Ratings `seller` received from its buyers.
    function sellerRating(address seller) external view returns (Rating memory);

    /// @notice Ratings `buyer` received from its sellers.
    function buyerRating(address buyer) external view returns (Rating memory);

    /// @notice The stored order; all zero for an id never opened.
    function getOrder(bytes32 orderId) external view returns (Order memory);

    /// @notice The id of the order with these parameters on this chain and contract.
    function computeOrderId(address buyer, address seller, uint64 startedFrom, uint256 nonce)
        external
        view
        returns (bytes32);

    /// @notice The EIP-712 digest the ackSigner signs for an ACK (domain: name "Agora DataMarket", version
    /// "1", this chain's id, this contract).
    function ackDigest(bytes32 orderId, uint64 received) external view returns (bytes32);

    /// @notice keccak256("Ack(bytes32 orderId,uint64 received)").
    function ACK_TYPEHASH() external view returns (bytes32);

    /// @notice Seconds between an order's (possibly brought-forward) deadline and its settlement, during
    /// which ACKs may still be presented; fixed at deployment.
    function CHALLENGE_WINDOW() external view returns (uint64);

    /// @notice How far in the past an order's `startedFrom` may be when it is opened (1 hour).
    function MAX_START_AGE() external view returns (uint64);

    /// @notice How far in the future an order's deadline may be when it is opened (365 days).
    function MAX_ORDER_DURATION() external view returns (uint64);
}
