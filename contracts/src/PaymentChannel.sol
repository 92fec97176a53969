// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IPaymentChannel} from "./interfaces/IPaymentChannel.sol";
import {Payouts} from "./base/Payouts.sol";

/// @title PaymentChannel
/// @notice One-way payment channels in ETH or an ERC-20, settled with EIP-712 vouchers (see
/// {IPaymentChannel}).
/// @dev Money rules:
/// - An open channel's deposit is held from `open` (and `topUp`) until the channel finishes, and is
///   then paid out exactly once, in full: voucher amount to the payee and the rest to the payer
///   (closing), or all of it to the payer (`reclaim`).
/// - Closing (`close`, `closeCompact`) needs `block.timestamp < expiry` and `reclaim` needs
///   `block.timestamp >= expiry`: at any moment exactly one of the two is possible, so the payer can
///   never take back what a payee could still claim, and the payee can never claim after the payer
///   could take it back.
/// - A deposit is what arrived: `open` and `topUp` measure the token balance around the pull and refuse
///   a token that delivers anything else ({Payouts-_pull}).
/// - `extend` only moves the expiry later and never into the past.
/// - Payouts are pushed, or owed and withdrawn, through {Payouts}; state changes and events come before
///   any external call, and no state-changing function can be entered while another runs (the base's
///   transient lock): a hostile token or receiver cannot re-enter.
/// - A channel id commits to the chain and this contract, and the EIP-712 domain does too, so a voucher
///   is good for one channel of one deployment on one chain; a finished id is never reopened, so the
///   same parties reopening (with a new salt) get a new id and old vouchers do not carry over.
///
/// Gas: a channel is one storage word, Solidity's layout for {IPaymentChannel-Channel}:
/// deposit (bits 0-127) | expiry (128-191) | state (192-199). The hot paths read and write that word
/// directly; `getChannel` reads it through the struct, and the tests check they agree. Parties are not
/// stored: each call passes them and the id is recomputed.
contract PaymentChannel is IPaymentChannel, Payouts {
    /// @inheritdoc IPaymentChannel
    bytes32 public constant VOUCHER_TYPEHASH = keccak256("Voucher(bytes32 channelId,uint256 cumulativeAmount)");

    /// @dev secp256k1's group order / 2: a larger `s` is the malleable twin of a valid signature.
    uint256 private constant HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;
    uint256 private constant DEPOSIT_MASK = (1 << 128) - 1;
    uint256 private constant EXPIRY_SHIFT = 128;
    uint256 private constant STATE_SHIFT = 192;
    // The state field of a word for `Open`, `Closed` and `Reclaimed` (see {IPaymentChannel-ChannelState}).
    // (Literals, not `uint256(ChannelState.X) << STATE_SHIFT`: the compiler does not fold enum
    // conversions, and these sit on the hot paths.)
    // forge-lint: disable-next-line(incorrect-shift)
    uint256 private constant OPEN = 1 << STATE_SHIFT;
    // forge-lint: disable-next-line(incorrect-shift)
    uint256 private constant CLOSED = 2 << STATE_SHIFT;
    // forge-lint: disable-next-line(incorrect-shift)
    uint256 private constant RECLAIMED = 3 << STATE_SHIFT;

    mapping(bytes32 channelId => Channel) private _channels;

    constructor() Payouts("Agora PaymentChannel", "1") {}

    // ---------------------------------------------------------------- payer

    /// @inheritdoc IPaymentChannel
    function open(address payee, address token, uint256 amount, uint64 expiry, bytes32 salt, address signer)
        external
        payable
        nonReentrant
        returns (bytes32 channelId)
    {
        if (payee == address(0)) revert InvalidPayee(payee);
        if (signer == address(0)) revert InvalidSigner(signer);
        if (amount == 0 || amount > type(uint128).max) revert InvalidAmount(amount);
        // forge-lint: disable-next-line(block-timestamp)
        if (expiry <= block.timestamp) revert InvalidExpiry(expiry, block.timestamp);
        _checkValue(token, amount);

        channelId = _channelId(msg.sender, payee, token, signer, salt);
        Channel storage channel = _channels[channelId];
        uint256 word;
        assembly ("memory-safe") {
            word := sload(channel.slot)
        }
        // Every channel ever opened has a non-zero state, finished ones included.
        if (word != 0) revert ChannelExists(channelId);
        // amount < 2^128, checked above.
        _store(channel, amount | uint256(expiry) << EXPIRY_SHIFT | OPEN);
        emit ChannelOpened(channelId, msg.sender, payee, token, signer, salt, amount, expiry);

        if (token != address(0)) _pull(token, msg.sender, amount);
    }

    /// @inheritdoc IPaymentChannel
    function topUp(address payee, address token, address signer, bytes32 salt, uint256 amount)
        external
        payable
        nonReentrant
    {
        if (amount == 0) revert InvalidAmount(amount);
        _checkValue(token, amount);
        bytes32 channelId = _channelId(msg.sender, payee, token, signer, salt);
        (Channel storage channel, uint256 word) = _openChannel(channelId);
        uint256 deposit = word & DEPOSIT_MASK;
        if (amount > type(uint128).max - deposit) revert DepositOverflow(channelId, deposit, amount);
        unchecked {
            deposit += amount; // < 2^128 by the check above
        }
        _store(channel, (word >> EXPIRY_SHIFT) << EXPIRY_SHIFT | deposit);
        emit ChannelToppedUp(channelId, amount, deposit);

        if (token != address(0)) _pull(token, msg.sender, amount);
    }

    /// @inheritdoc IPaymentChannel
    function extend(address payee, address token, address signer, bytes32 salt, uint64 expiry) external nonReentrant {
        bytes32 channelId = _channelId(msg.sender, payee, token, signer, salt);
        (Channel storage channel, uint256 word) = _openChannel(channelId);
        uint64 current = _expiry(word);
        if (expiry <= current) revert ExpiryNotLater(channelId, current, expiry);
        // forge-lint: disable-next-line(block-timestamp)
        if (expiry <= block.timestamp) revert InvalidExpiry(expiry, block.timestamp);
        _store(channel, word & ~(uint256(type(uint64).max) << EXPIRY_SHIFT) | uint256(expiry) << EXPIRY_SHIFT);
        emit ChannelExtended(channelId, expiry);
    }

    /// @inheritdoc IPaymentChannel
    function reclaim(address payee, address token, address signer, bytes32 salt) external nonReentrant {
        bytes32 channelId = _channelId(msg.sender, payee, token, signer, salt);
        (Channel storage channel, uint256 word) = _openChannel(channelId);
        uint64 expiry = _expiry(word);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < expiry) revert ChannelNotExpired(channelId, expiry, block.timestamp);

        _finish(channel, word, RECLAIMED);
        uint256 deposit = word & DEPOSIT_MASK;
        emit ChannelReclaimed(channelId, deposit);
        _pay(msg.sender, token, deposit);
    }

    // ---------------------------------------------------------------- payee

    /// @inheritdoc IPaymentChannel
    function close(
        address payer,
        address token,
        address signer,
        bytes32 salt,
        uint256 cumulativeAmount,
        bytes calldata signature
    ) external nonReentrant {
        bytes32 channelId = _channelId(payer, msg.sender, token, signer, salt);
        (Channel storage channel, uint256 word) = _openChannel(channelId);
        uint64 expiry = _expiry(word);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp >= expiry) revert ChannelExpired(channelId, expiry, block.timestamp);
        uint256 deposit = word & DEPOSIT_MASK;
        if (cumulativeAmount > deposit) revert VoucherExceedsDeposit(channelId, cumulativeAmount, deposit);
        if (cumulativeAmount != 0 && !_isValidSignature(signer, _hashVoucher(channelId, cumulativeAmount), signature)) {
            revert InvalidSignature(channelId, signer);
        }
        _finish(channel, word, CLOSED);
        uint256 refund;
        unchecked {
            refund = deposit - cumulativeAmount; // cumulativeAmount <= deposit, checked above
        }
        emit ChannelClosed(channelId, cumulativeAmount, refund);
        if (cumulativeAmount != 0) _pay(msg.sender, token, cumulativeAmount);
        if (refund != 0) _pay(payer, token, refund);
    }

    /// @inheritdoc IPaymentChannel
    function closeCompact(
        address payer,
        address token,
        address signer,
        bytes32 salt,
        uint256 cumulativeAmount,
        bytes32 r,
        bytes32 vs
    ) external nonReentrant {
        // `close` for compact ECDSA signatures only, written out again so that the hot path stays as
        // cheap as it can (no shared helper: each costs gas here).
        bytes32 channelId = _channelId(payer, msg.sender, token, signer, salt);
        (Channel storage channel, uint256 word) = _openChannel(channelId);
        uint64 expiry = _expiry(word);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp >= expiry) revert ChannelExpired(channelId, expiry, block.timestamp);
        uint256 deposit = word & DEPOSIT_MASK;
        if (cumulativeAmount > deposit) revert VoucherExceedsDeposit(channelId, cumulativeAmount, deposit);
        if (cumulativeAmount != 0) {
            bytes32 digest = _hashVoucher(channelId, cumulativeAmount);
            uint8 v;
            bytes32 s;
            assembly ("memory-safe") {
                // EIP-2098: the top bit of vs is v - 27, the rest is s.
                v := add(27, shr(255, vs))
                s := shr(1, shl(1, vs))
            }
            if (_recover(digest, v, r, s) != signer) revert InvalidSignature(channelId, signer);
        }
        _finish(channel, word, CLOSED);
        uint256 refund;
        unchecked {
            refund = deposit - cumulativeAmount; // cumulativeAmount <= deposit, checked above
        }
        emit ChannelClosed(channelId, cumulativeAmount, refund);
        if (cumulativeAmount != 0) _pay(msg.sender, token, cumulativeAmount);
        if (refund != 0) _pay(payer, token, refund);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IPaymentChannel
    function computeChannelId(address payer, address payee, address token, address signer, bytes32 salt)
        external
        view
        returns (bytes32)
    {
        return _channelId(payer, payee, token, signer, salt);
    }

    /// @inheritdoc IPaymentChannel
    function getChannel(bytes32 channelId) external view returns (Channel memory) {
        return _channels[channelId];
    }

    /// @inheritdoc IPaymentChannel
    function hashVoucher(bytes32 channelId, uint256 cumulativeAmount) external view returns (bytes32) {
        return _hashVoucher(channelId, cumulativeAmount);
    }

    // ---------------------------------------------------------------- internal

    function _channelId(address payer, address payee, address token, address signer, bytes32 salt)
        private
        view
        returns (bytes32 channelId)
    {
        // keccak256(abi.encode(payer, payee, token, signer, salt, block.chainid, address(this))), built in
        // unallocated memory.
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, and(payer, ADDRESS_MASK))
            mstore(add(m, 0x20), and(payee, ADDRESS_MASK))
            mstore(add(m, 0x40), and(token, ADDRESS_MASK))
            mstore(add(m, 0x60), and(signer, ADDRESS_MASK))
            mstore(add(m, 0x80), salt)
            mstore(add(m, 0xa0), chainid())
            mstore(add(m, 0xc0), address())
            channelId := keccak256(m, 0xe0)
        }
    }

    function _hashVoucher(bytes32 channelId, uint256 cumulativeAmount) private view returns (bytes32 digest) {
        bytes32 domainSeparator = _domainSeparatorV4();
        bytes32 typeHash = VOUCHER_TYPEHASH;
        // keccak256("\x19\x01" || domainSeparator || keccak256(abi.encode(VOUCHER_TYPEHASH, channelId,
        // cumulativeAmount))), built in unallocated memory.
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, typeHash)
            mstore(add(m, 0x20), channelId)
            mstore(add(m, 0x40), cumulativeAmount)
            let structHash := keccak256(m, 0x60)
            mstore(m, hex"1901")
            mstore(add(m, 0x02), domainSeparator)
            mstore(add(m, 0x22), structHash)
            digest := keccak256(m, 0x42)
        }
    }

    /// @dev A 65-byte `r || s || v` ECDSA signature by `signer` itself is tried first (no code lookup);
    /// anything else is `signer`'s to approve through ERC-1271. An address without code approves nothing.
    function _isValidSignature(address signer, bytes32 digest, bytes calldata signature) private view returns (bool) {
        if (signature.length == 65) {
            bytes32 r;
            bytes32 s;
            uint8 v;
            assembly ("memory-safe") {
                r := calldataload(signature.offset)
                s := calldataload(add(signature.offset, 0x20))
                v := byte(0, calldataload(add(signature.offset, 0x40)))
            }
            if (_recover(digest, v, r, s) == signer) return true;
        }
        return SignatureChecker.isValidERC1271SignatureNow(signer, digest, signature);
    }

    /// @dev The address whose key made the ECDSA signature (v, r, s) of `digest`, or zero when there is
    /// none: a high `s` (the malleable twin of a valid signature), `v` other than 27 or 28, or a
    /// signature ecrecover rejects. The rules of OpenZeppelin's `ECDSA.tryRecover`.
    function _recover(bytes32 digest, uint8 v, bytes32 r, bytes32 s) private view returns (address recovered) {
        assembly ("memory-safe") {
            if iszero(gt(s, HALF_ORDER)) {
                let m := mload(0x40)
                mstore(m, digest)
                mstore(add(m, 0x20), v)
                mstore(add(m, 0x40), r)
                mstore(add(m, 0x60), s)
                // The precompile returns nothing for a signature it cannot recover (v not 27 or 28
                // included); the zero address never passes: `signer` is never zero.
                if staticcall(gas(), 0x01, m, 0x80, 0, 0x20) {
                    if returndatasize() { recovered := mload(0) }
                }
            }
        }
    }

    function _checkValue(address token, uint256 amount) private view {
        uint256 expected = token == address(0) ? amount : 0;
        if (msg.value != expected) revert ValueMismatch(msg.value, expected);
    }

    /// @dev The channel and its word, which must be `Open`.
    function _openChannel(bytes32 channelId) private view returns (Channel storage channel, uint256 word) {
        channel = _channels[channelId];
        assembly ("memory-safe") {
            word := sload(channel.slot)
        }
        if (word >> STATE_SHIFT != OPEN >> STATE_SHIFT) {
            revert ChannelNotOpen(channelId, ChannelState(word >> STATE_SHIFT));
        }
    }

    function _expiry(uint256 word) private pure returns (uint64) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(word >> EXPIRY_SHIFT); // bits 128-191
    }

    /// @dev Moves an `Open` channel's word to the final `state` (CLOSED or RECLAIMED), keeping deposit and
    /// expiry.
    function _finish(Channel storage channel, uint256 word, uint256 state) private {
        unchecked {
            _store(channel, word - OPEN + state); // word has OPEN in its state field
        }
    }

    /// @dev Writes the channel's whole word (see the layout above).
    function _store(Channel storage channel, uint256 word) private {
        assembly ("memory-safe") {
            sstore(channel.slot, word)
        }
    }
}
