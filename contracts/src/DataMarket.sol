// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IDataMarket} from "./interfaces/IDataMarket.sol";
import {Payouts} from "./base/Payouts.sol";

/// @title DataMarket
/// @notice The data-stream market: seller registry, orders escrowed in ETH or an ERC-20 and settled in
/// proportion to the bytes the buyer acknowledged with EIP-712 ACKs, off-chain-paid orders, and ratings
/// (see {IDataMarket}).
/// @dev Money rules:
/// - An escrowed order holds exactly its price from `openOrder` until it is `Settled`, and is then paid
///   out exactly once, in full: `price * received / totalBytes` (rounded down) to the seller and the
///   rest to the buyer. A token pull that delivers anything but the price is refused ({Payouts-_pull}).
///   Off-chain orders hold nothing and pay nothing.
/// - The seller is never paid for more than the highest figure proven: an ackSigner's valid signature
///   presented by the seller, or a figure the buyer stated itself in its own transaction. Figures only
///   go up (`challenge` must raise), and never above `totalBytes`.
/// - ACKs can be presented (`end`, `challenge`) while `block.timestamp < deadline + CHALLENGE_WINDOW`
///   and `settle` needs `block.timestamp >= deadline + CHALLENGE_WINDOW`: at any moment exactly one of
///   the two is possible. `end` brings the deadline forward to now, so the other party always has at
///   least the window (counted from the end, or from the deadline if that came first) to answer with a
///   higher ACK; a buyer ending early with a low figure cannot underpay a seller who answers.
/// - A figure equal to `totalBytes` settles at once: nothing can be proven beyond it.
/// - Payouts are pushed, or owed and withdrawn, through {Payouts}; state changes and events come before
///   any external call, and no state-changing function can be entered while another runs (the base's
///   transient lock): a hostile token, receiver or ERC-1271 signer cannot re-enter.
/// - An order id commits to the chain and this contract, and so does the EIP-712 domain: an ACK is good
///   for one order of one deployment on one chain, and a used id is never opened again.
///
/// Gas: an order is four storage words, Solidity's layout for {IDataMarket-Order}:
/// - word 0: buyer (bits 0-159) | startedFrom (160-199) | deadline (200-239) | state (240-247) |
///   method (248-255);
/// - word 1: seller (0-159) | price (160-255);
/// - word 2: token (0-159) | totalBytes (160-223) | ratedByBuyer (224-231) | ratedBySeller (232-239);
/// - word 3: ackSigner (0-159) | received (160-223).
/// `openOrder`, `end`, `challenge` and `settle` read and write these words directly; `getOrder` and
/// `rate` go through the struct, and the tests check they agree. Four addresses per order make four
/// words the least an order can take while `settle(orderId)` needs nothing but the id.
contract DataMarket is IDataMarket, Payouts {
    /// @inheritdoc IDataMarket
    bytes32 public constant ACK_TYPEHASH = keccak256("Ack(bytes32 orderId,uint64 received)");
    /// @inheritdoc IDataMarket
    uint64 public constant MAX_START_AGE = 1 hours;
    /// @inheritdoc IDataMarket
    uint64 public constant MAX_ORDER_DURATION = 365 days;
    /// @notice Upper bound for the challenge window set at deployment (seven days).
    uint64 public constant MAX_CHALLENGE_WINDOW = 7 days;
    /// @notice Upper bound for a seller's endpoint, in bytes.
    uint256 public constant MAX_ENDPOINT_LENGTH = 256;
    /// @notice Upper bound for a seller's menu URI, in bytes.
    uint256 public constant MAX_MENU_URI_LENGTH = 512;

    /// @inheritdoc IDataMarket
    uint64 public immutable CHALLENGE_WINDOW;

    /// @dev secp256k1's group order / 2: a larger `s` is the malleable twin of a valid signature.
    uint256 private constant HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;
    uint256 private constant STARTED_SHIFT = 160;
    uint256 private constant DEADLINE_SHIFT = 200;
    uint256 private constant STATE_SHIFT = 240;
    uint256 private constant METHOD_SHIFT = 248;
    uint256 private constant PRICE_SHIFT = 160;
    uint256 private constant TOTAL_SHIFT = 160;
    uint256 private constant RECEIVED_SHIFT = 160;
    uint256 private constant UINT40_MASK = (1 << 40) - 1;
    uint256 private constant UINT64_MASK = (1 << 64) - 1;
    /// @dev Word 0 without its deadline and state fields.
    uint256 private constant KEEP_DEADLINE_STATE = ~(((1 << 48) - 1) << DEADLINE_SHIFT);
    /// @dev Word 3 without its received field.
    uint256 private constant KEEP_RECEIVED = ~(UINT64_MASK << RECEIVED_SHIFT);
    // The state field's values (see {IDataMarket-OrderState}), as numbers below the shift. (Literals, not
    // `uint256(OrderState.X)`: the compiler does not fold enum conversions, and these sit on the hot paths.)
    uint256 private constant OPEN = 1;
    uint256 private constant ENDING = 2;
    uint256 private constant SETTLED = 3;
    uint256 private constant PAID = 4;
    uint256 private constant EXPIRED = 5;
    uint256 private constant OFF_CHAIN = 1; // PaymentMethod.OffChain

    mapping(address seller => Seller) private _sellers;
    mapping(address seller => Rating) private _sellerRatings;
    mapping(address buyer => Rating) private _buyerRatings;
    mapping(bytes32 orderId => Order) private _orders;

    /// @param challengeWindow Seconds after an order's (possibly brought-forward) deadline during which
    /// ACKs may still be presented: 1 to `MAX_CHALLENGE_WINDOW`.
    constructor(uint64 challengeWindow) Payouts("Agora DataMarket", "1") {
        if (challengeWindow == 0 || challengeWindow > MAX_CHALLENGE_WINDOW) {
            revert InvalidChallengeWindow(challengeWindow);
        }
        CHALLENGE_WINDOW = challengeWindow;
    }

    // ---------------------------------------------------------------- sellers

    /// @inheritdoc IDataMarket
    function register(string calldata endpoint, address messageSigner, bytes32 menuHash, string calldata menuUri)
        external
        nonReentrant
    {
        Seller storage seller = _sellers[msg.sender];
        if (seller.registered) revert SellerAlreadyRegistered(msg.sender);
        _writeSeller(seller, endpoint, messageSigner, menuHash, menuUri);
        emit SellerRegistered(msg.sender, endpoint, messageSigner, menuHash, menuUri);
    }

    /// @inheritdoc IDataMarket
    function update(string calldata endpoint, address messageSigner, bytes32 menuHash, string calldata menuUri)
        external
        nonReentrant
    {
        Seller storage seller = _sellers[msg.sender];
        if (!seller.registered) revert SellerNotRegistered(msg.sender);
        _writeSeller(seller, endpoint, messageSigner, menuHash, menuUri);
        emit SellerUpdated(msg.sender, endpoint, messageSigner, menuHash, menuUri);
    }

    /// @inheritdoc IDataMarket
    function deregister() external nonReentrant {
        if (!_sellers[msg.sender].registered) revert SellerNotRegistered(msg.sender);
        delete _sellers[msg.sender];
        emit SellerDeregistered(msg.sender);
    }

    // ---------------------------------------------------------------- orders

    /// @inheritdoc IDataMarket
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
    ) external payable nonReentrant returns (bytes32 orderId) {
        _checkTerms(seller, price, totalBytes, deadline, startedFrom, ackSigner);
        bool escrowed = method == PaymentMethod.Escrow;
        {
            uint256 expected = escrowed && token == address(0) ? price : 0;
            if (msg.value != expected) revert ValueMismatch(msg.value, expected);
        }

        orderId = _orderId(msg.sender, seller, startedFrom, nonce);
        Order storage order = _orders[orderId];
        // Every order ever opened has its buyer (never zero) in word 0.
        if (_loadWord(order, 0) != 0) revert OrderExists(orderId);
        assembly ("memory-safe") {
            let slot := order.slot
            // startedFrom <= now and deadline <= now + MAX_ORDER_DURATION fit 40 bits; price fits 96 bits
            // (`_checkTerms`); method is 0 or 1 (the ABI decoder refuses anything else).
            sstore(
                slot,
                or(
                    or(caller(), shl(STARTED_SHIFT, startedFrom)),
                    or(shl(DEADLINE_SHIFT, deadline), or(shl(STATE_SHIFT, OPEN), shl(METHOD_SHIFT, method)))
                )
            )
            sstore(add(slot, 1), or(and(seller, ADDRESS_MASK), shl(PRICE_SHIFT, price)))
            sstore(add(slot, 2), or(and(token, ADDRESS_MASK), shl(TOTAL_SHIFT, totalBytes)))
            sstore(add(slot, 3), and(ackSigner, ADDRESS_MASK))
        }
        _emitOpened(orderId, seller, token, price, totalBytes, deadline, startedFrom, nonce, ackSigner, method);

        if (escrowed && token != address(0)) _pull(token, msg.sender, price);
    }

    /// @inheritdoc IDataMarket
    function end(bytes32 orderId, uint64 received, bytes calldata signature) external nonReentrant {
        Order storage order = _orders[orderId];
        uint256 w0;
        assembly ("memory-safe") {
            w0 := sload(order.slot)
        }
        if (_state(w0) != OPEN) revert OrderNotOpen(orderId, OrderState(_state(w0)));
        if (w0 >> METHOD_SHIFT == OFF_CHAIN) revert WrongPaymentMethod(orderId, PaymentMethod.OffChain);
        (uint256 w2, uint256 w3) = _checkAck(order, orderId, w0, received, signature, false);

        uint256 deadline = (w0 >> DEADLINE_SHIFT) & UINT40_MASK;
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < deadline) deadline = block.timestamp;
        w3 = w3 & KEEP_RECEIVED | uint256(received) << RECEIVED_SHIFT;
        if (received == _totalBytes(w2)) {
            // Nothing can be proven beyond the whole order: settle now (`OrderSettled` tells it all).
            _storeWord(order, 3, w3);
            _settle(order, orderId, w0 & KEEP_DEADLINE_STATE | deadline << DEADLINE_SHIFT, w2, received);
            return;
        }
        _storeWord(order, 0, w0 & KEEP_DEADLINE_STATE | deadline << DEADLINE_SHIFT | ENDING << STATE_SHIFT);
        _storeWord(order, 3, w3);
        // forge-lint: disable-next-line(unsafe-typecast)
        emit OrderEnded(orderId, msg.sender, received, uint64(deadline + CHALLENGE_WINDOW)); // < 2^41
    }

    /// @inheritdoc IDataMarket
    function challenge(bytes32 orderId, uint64 received, bytes calldata signature) external nonReentrant {
        Order storage order = _orders[orderId];
        uint256 w0;
        assembly ("memory-safe") {
            w0 := sload(order.slot)
        }
        // Only escrowed orders are ever `Ending`.
        if (_state(w0) != ENDING) revert OrderNotEnding(orderId, OrderState(_state(w0)));
        (uint256 w2, uint256 w3) = _checkAck(order, orderId, w0, received, signature, true);

        _storeWord(order, 3, w3 & KEEP_RECEIVED | uint256(received) << RECEIVED_SHIFT);
        if (received == _totalBytes(w2)) {
            // Nothing can be proven beyond the whole order: settle now (`OrderSettled` tells it all).
            _settle(order, orderId, w0, w2, received);
            return;
        }
        emit OrderChallenged(orderId, msg.sender, received);
    }

    /// @inheritdoc IDataMarket
    function settle(bytes32 orderId) external nonReentrant {
        Order storage order = _orders[orderId];
        uint256 w0;
        assembly ("memory-safe") {
            w0 := sload(order.slot)
        }
        uint256 state = _state(w0);
        if (state != OPEN && state != ENDING) revert OrderNotActive(orderId, OrderState(state));
        uint256 settleAt = ((w0 >> DEADLINE_SHIFT) & UINT40_MASK) + CHALLENGE_WINDOW;
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < settleAt) {
            // forge-lint: disable-next-line(unsafe-typecast)
            revert SettlementNotDue(orderId, uint64(settleAt), block.timestamp); // < 2^41
        }
        if (w0 >> METHOD_SHIFT == OFF_CHAIN) {
            _storeWord(order, 0, _withState(w0, EXPIRED));
            emit OrderExpired(orderId);
            return;
        }
        uint256 w2 = _loadWord(order, 2);
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 received = uint64(_loadWord(order, 3) >> RECEIVED_SHIFT); // bits 224-255 are zero
        _settle(order, orderId, w0, w2, received);
    }

    /// @inheritdoc IDataMarket
    function confirmPaid(bytes32 orderId) external nonReentrant {
        Order storage order = _orders[orderId];
        uint256 w0 = _loadWord(order, 0);
        if (_state(w0) != OPEN) revert OrderNotOpen(orderId, OrderState(_state(w0)));
        if (w0 >> METHOD_SHIFT != OFF_CHAIN) revert WrongPaymentMethod(orderId, PaymentMethod.Escrow);
        if (msg.sender != order.seller) revert NotOrderSeller(orderId, msg.sender);
        _storeWord(order, 0, _withState(w0, PAID));
        emit OrderConfirmedPaid(orderId);
    }

    /// @inheritdoc IDataMarket
    function rate(bytes32 orderId, uint8 score, bytes32 commentHash) external nonReentrant {
        if (score == 0 || score > 5) revert InvalidScore(score);
        Order storage order = _orders[orderId];
        OrderState state = order.state;
        if (state != OrderState.Settled && state != OrderState.Paid && state != OrderState.Expired) {
            revert OrderNotFinished(orderId, state);
        }
        address buyer = order.buyer;
        address seller = order.seller;
        bool byBuyer = msg.sender == buyer;
        if (byBuyer) {
            if (order.ratedByBuyer) revert AlreadyRated(orderId, msg.sender);
            order.ratedByBuyer = true;
        } else if (msg.sender == seller) {
            if (order.ratedBySeller) revert AlreadyRated(orderId, msg.sender);
            order.ratedBySeller = true;
        } else {
            revert NotOrderParty(orderId, msg.sender);
        }
        // A buyer's score goes to its seller's ratings, a seller's to its buyer's.
        address rated = seller;
        Rating storage rating = _sellerRatings[seller];
        if (!byBuyer) {
            rated = buyer;
            rating = _buyerRatings[buyer];
        }
        rating.count += 1;
        rating.scoreSum += score;
        emit OrderRated(orderId, msg.sender, rated, score, commentHash);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IDataMarket
    function getSeller(address seller) external view returns (Seller memory) {
        return _sellers[seller];
    }

    /// @inheritdoc IDataMarket
    function sellerRating(address seller) external view returns (Rating memory) {
        return _sellerRatings[seller];
    }

    /// @inheritdoc IDataMarket
    function buyerRating(address buyer) external view returns (Rating memory) {
        return _buyerRatings[buyer];
    }

    /// @inheritdoc IDataMarket
    function getOrder(bytes32 orderId) external view returns (Order memory) {
        return _orders[orderId];
    }

    /// @inheritdoc IDataMarket
    function computeOrderId(address buyer, address seller, uint64 startedFrom, uint256 nonce)
        external
        view
        returns (bytes32)
    {
        return _orderId(buyer, seller, startedFrom, nonce);
    }

    /// @inheritdoc IDataMarket
    function ackDigest(bytes32 orderId, uint64 received) external view returns (bytes32) {
        return _ackDigest(orderId, received);
    }

    // ---------------------------------------------------------------- internal

    function _writeSeller(
        Seller storage seller,
        string calldata endpoint,
        address messageSigner,
        bytes32 menuHash,
        string calldata menuUri
    ) private {
        uint256 length = bytes(endpoint).length;
        if (length == 0 || length > MAX_ENDPOINT_LENGTH) revert InvalidEndpoint(length);
        length = bytes(menuUri).length;
        if (length > MAX_MENU_URI_LENGTH) revert InvalidMenuUri(length);
        if (messageSigner == address(0)) revert InvalidMessageSigner(messageSigner);
        if (menuHash == bytes32(0)) revert InvalidMenuHash(menuHash);
        seller.messageSigner = messageSigner;
        seller.registered = true;
        seller.menuHash = menuHash;
        seller.endpoint = endpoint;
        seller.menuUri = menuUri;
    }

    function _checkTerms(
        address seller,
        uint256 price,
        uint64 totalBytes,
        uint64 deadline,
        uint64 startedFrom,
        address ackSigner
    ) private view {
        if (seller == msg.sender) revert SellerIsBuyer(seller);
        if (!_sellers[seller].registered) revert SellerNotRegistered(seller);
        if (ackSigner == address(0)) revert InvalidAckSigner(ackSigner);
        if (price == 0 || price > type(uint96).max) revert InvalidPrice(price);
        if (totalBytes == 0) revert InvalidTotalBytes(totalBytes);
        // forge-lint: disable-next-line(block-timestamp)
        if (deadline <= block.timestamp || deadline > block.timestamp + MAX_ORDER_DURATION) {
            revert InvalidDeadline(deadline, block.timestamp);
        }
        // forge-lint: disable-next-line(block-timestamp)
        if (startedFrom > block.timestamp || uint256(startedFrom) + MAX_START_AGE < block.timestamp) {
            revert InvalidStartedFrom(startedFrom, block.timestamp);
        }
    }

    function _emitOpened(
        bytes32 orderId,
        address seller,
        address token,
        uint256 price,
        uint64 totalBytes,
        uint64 deadline,
        uint64 startedFrom,
        uint256 nonce,
        address ackSigner,
        PaymentMethod method
    ) private {
        emit OrderOpened(
            orderId, msg.sender, seller, token, price, totalBytes, deadline, startedFrom, nonce, ackSigner, method
        );
    }

    /// @dev The checks `end` and `challenge` share, on an escrowed order whose word 0 is `w0`: the caller is
    /// its buyer or seller, ACKs may still be presented, the figure is at most the total (and, when
    /// `raise`, above the one on record), and a seller's figure is signed by the ackSigner. Returns words
    /// 2 and 3.
    function _checkAck(
        Order storage order,
        bytes32 orderId,
        uint256 w0,
        uint64 received,
        bytes calldata signature,
        bool raise
    ) private view returns (uint256 w2, uint256 w3) {
        // forge-lint: disable-next-line(unsafe-typecast)
        bool bySeller = msg.sender != address(uint160(w0));
        // forge-lint: disable-next-line(unsafe-typecast)
        if (bySeller && msg.sender != address(uint160(_loadWord(order, 1)))) {
            revert NotOrderParty(orderId, msg.sender);
        }
        uint256 settleAt = ((w0 >> DEADLINE_SHIFT) & UINT40_MASK) + CHALLENGE_WINDOW;
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp >= settleAt) {
            // forge-lint: disable-next-line(unsafe-typecast)
            revert AckWindowClosed(orderId, uint64(settleAt), block.timestamp); // < 2^41
        }
        w2 = _loadWord(order, 2);
        uint64 totalBytes = _totalBytes(w2);
        if (received > totalBytes) revert AckExceedsTotal(orderId, received, totalBytes);
        w3 = _loadWord(order, 3);
        if (raise) {
            // forge-lint: disable-next-line(unsafe-typecast)
            uint64 recorded = uint64(w3 >> RECEIVED_SHIFT); // bits 224-255 are zero
            if (received <= recorded) revert AckNotHigher(orderId, received, recorded);
        }
        if (bySeller && received != 0) {
            // forge-lint: disable-next-line(unsafe-typecast)
            address ackSigner = address(uint160(w3));
            if (!_isValidSignature(ackSigner, _ackDigest(orderId, received), signature)) {
                revert InvalidAckSignature(orderId, ackSigner);
            }
        }
    }

    /// @dev Pays out an escrowed order: `w0` is its word 0 as it should stay (deadline included), `w2` its
    /// word 2, `received` the figure on record.
    function _settle(Order storage order, bytes32 orderId, uint256 w0, uint256 w2, uint64 received) private {
        uint256 w1 = _loadWord(order, 1);
        uint256 price = w1 >> PRICE_SHIFT;
        uint256 toSeller;
        uint256 toBuyer;
        unchecked {
            // price < 2^96 and received < 2^64: no overflow. received <= totalBytes (checked when it was
            // presented) and totalBytes != 0, so toSeller <= price.
            toSeller = price * received / _totalBytes(w2);
            toBuyer = price - toSeller;
        }
        _storeWord(order, 0, _withState(w0, SETTLED));
        emit OrderSettled(orderId, received, toSeller, toBuyer);
        // forge-lint: disable-next-line(unsafe-typecast)
        address token = address(uint160(w2));
        // forge-lint: disable-next-line(unsafe-typecast)
        if (toSeller != 0) _pay(address(uint160(w1)), token, toSeller);
        // forge-lint: disable-next-line(unsafe-typecast)
        if (toBuyer != 0) _pay(address(uint160(w0)), token, toBuyer);
    }

    function _orderId(address buyer, address seller, uint64 startedFrom, uint256 nonce)
        private
        view
        returns (bytes32 orderId)
    {
        // keccak256(abi.encode(block.chainid, address(this), buyer, seller, startedFrom, nonce)), built in
        // unallocated memory.
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, chainid())
            mstore(add(m, 0x20), address())
            mstore(add(m, 0x40), and(buyer, ADDRESS_MASK))
            mstore(add(m, 0x60), and(seller, ADDRESS_MASK))
            mstore(add(m, 0x80), and(startedFrom, UINT64_MASK))
            mstore(add(m, 0xa0), nonce)
            orderId := keccak256(m, 0xc0)
        }
    }

    function _ackDigest(bytes32 orderId, uint64 received) private view returns (bytes32 digest) {
        bytes32 domainSeparator = _domainSeparatorV4();
        bytes32 typeHash = ACK_TYPEHASH;
        // keccak256("\x19\x01" || domainSeparator || keccak256(abi.encode(ACK_TYPEHASH, orderId, received))),
        // built in unallocated memory.
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, typeHash)
            mstore(add(m, 0x20), orderId)
            mstore(add(m, 0x40), and(received, UINT64_MASK))
            let structHash := keccak256(m, 0x60)
            mstore(m, hex"1901")
            mstore(add(m, 0x02), domainSeparator)
            mstore(add(m, 0x22), structHash)
            digest := keccak256(m, 0x42)
        }
    }

    /// @dev A 65-byte `r || s || v` or 64-byte EIP-2098 ECDSA signature by `signer` itself is tried first
    /// (no code lookup); anything else is `signer`'s to approve through ERC-1271. An address without code
    /// approves nothing. (PaymentChannel's rules, with the compact form accepted here too.)
    function _isValidSignature(address signer, bytes32 digest, bytes calldata signature) private view returns (bool) {
        uint256 length = signature.length;
        if (length == 65 || length == 64) {
            bytes32 r;
            bytes32 s;
            uint8 v;
            assembly ("memory-safe") {
                r := calldataload(signature.offset)
                s := calldataload(add(signature.offset, 0x20))
                switch length
                case 65 { v := byte(0, calldataload(add(signature.offset, 0x40))) }
                default {
                    // EIP-2098: the top bit of vs is v - 27, the rest is s.
                    v := add(27, shr(255, s))
                    s := shr(1, shl(1, s))
                }
            }
            if (_recover(digest, v, r, s) == signer) return true;
        }
        return SignatureChecker.isValidERC1271SignatureNow(signer, digest, signature);
    }

    /// @dev The address whose key made the ECDSA signature (v, r, s) of `digest`, or zero when there is
    /// none: a high `s`, `v` other than 27 or 28, or a signature ecrecover rejects (OpenZeppelin's
    /// `ECDSA.tryRecover` rules). The zero address never passes: an ackSigner is never zero.
    function _recover(bytes32 digest, uint8 v, bytes32 r, bytes32 s) private view returns (address recovered) {
        assembly ("memory-safe") {
            if iszero(gt(s, HALF_ORDER)) {
                let m := mload(0x40)
                mstore(m, digest)
                mstore(add(m, 0x20), v)
                mstore(add(m, 0x40), r)
                mstore(add(m, 0x60), s)
                if staticcall(gas(), 0x01, m, 0x80, 0, 0x20) {
                    if returndatasize() { recovered := mload(0) }
                }
            }
        }
    }

    function _state(uint256 w0) private pure returns (uint256) {
        return (w0 >> STATE_SHIFT) & 0xff;
    }

    function _withState(uint256 w0, uint256 state) private pure returns (uint256) {
        return w0 & ~(uint256(0xff) << STATE_SHIFT) | state << STATE_SHIFT;
    }

    function _totalBytes(uint256 w2) private pure returns (uint64) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(w2 >> TOTAL_SHIFT); // bits 160-223
    }

    /// @dev Word `i` (0-3) of the order (see the layout above).
    function _loadWord(Order storage order, uint256 i) private view returns (uint256 word) {
        assembly ("memory-safe") {
            word := sload(add(order.slot, i))
        }
    }

    function _storeWord(Order storage order, uint256 i, uint256 word) private {
        assembly ("memory-safe") {
            sstore(add(order.slot, i), word)
        }
    }
}
