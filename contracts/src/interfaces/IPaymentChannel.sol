// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IPayouts} from "./IPayouts.sol";

/// @title IPaymentChannel
/// @notice One-way (Spilman) payment channels, payer -> payee, in ETH or an ERC-20.
///
/// The payer locks a deposit with `open` and then pays off-chain: for every chunk delivered it signs
/// a voucher, EIP-712 typed data `Voucher(bytes32 channelId,uint256 cumulativeAmount)` in the domain
/// {name: "Agora PaymentChannel", version: "1", chainId, verifyingContract: this contract}, for the
/// total owed so far. The payee keeps only the latest voucher and settles once: `close` (or the cheaper
/// `closeCompact`), strictly before the channel's expiry, pays the voucher's amount to the payee and the
/// rest of the deposit to the payer.
/// If the payee does not close in time, the payer takes the whole deposit back with `reclaim`, at or
/// after the expiry, without anyone's help. Either way the channel is finished for good.
///
/// A channel is named by its parameters: `channelId = keccak256(abi.encode(payer, payee, token, signer,
/// salt, block.chainid, address(this)))`. The contract stores only the deposit, the expiry and the
/// state; every call after `open` passes the parameters again (the caller's own role is filled from
/// `msg.sender`) and the contract recomputes the id. So a caller in the wrong role derives an id with
/// no channel and gets `ChannelNotOpen(id, ChannelState.None)`. `ChannelOpened` carries every parameter,
/// so an indexer can rebuild them. `salt` is any value that makes the id new for these parties: zero is
/// fine with a fresh session key, a counter otherwise (each zero byte of calldata costs 4 gas, not 16).
///
/// `signer` signs the vouchers: the payer itself, or a session key the payer picked at `open` (a key a
/// browser holds, so that each chunk is paid without a wallet prompt). ECDSA signatures must have a low
/// `s` and `v` 27 or 28 (`close` takes them as 65 bytes `r || s || v`, `closeCompact` in EIP-2098
/// compact form); for a contract signer, `close` asks its ERC-1271 `isValidSignature`.
/// A contract signer can revoke its approval later, so a payee should only accept contract signers it
/// trusts to keep it.
///
/// Amounts are in the token's smallest unit (wei for ETH); a deposit fits in 128 bits.
interface IPaymentChannel is IPayouts {
    /// @notice Lifecycle of a channel. `Open` holds the deposit; `Closed` and `Reclaimed` are final, and
    /// a finished channel's id can never be opened again.
    enum ChannelState {
        None,
        Open,
        Closed,
        Reclaimed
    }

    /// @notice A channel as stored: one slot. After the channel finishes, `deposit` and `expiry` keep
    /// the values it finished with.
    struct Channel {
        uint128 deposit;
        uint64 expiry;
        ChannelState state;
    }

    // ---------------------------------------------------------------- events

    /// @notice A channel was opened with `deposit` locked until `expiry` (unix seconds).
    /// `token == address(0)` means ETH.
    event ChannelOpened(
        bytes32 indexed channelId,
        address indexed payer,
        address indexed payee,
        address token,
        address signer,
        bytes32 salt,
        uint256 deposit,
        uint64 expiry
    );
    /// @notice The payer added `amount`; the channel now holds `deposit`.
    event ChannelToppedUp(bytes32 indexed channelId, uint256 amount, uint256 deposit);
    /// @notice The payer moved the expiry later, to `expiry`.
    event ChannelExtended(bytes32 indexed channelId, uint64 expiry);
    /// @notice The payee closed the channel: `paidToPayee` (the voucher's cumulative amount) went to the
    /// payee and `refundedToPayer` (the rest of the deposit) to the payer.
    event ChannelClosed(bytes32 indexed channelId, uint256 paidToPayee, uint256 refundedToPayer);
    /// @notice The payer took the whole deposit back after the expiry.
    event ChannelReclaimed(bytes32 indexed channelId, uint256 refundedToPayer);

    // ---------------------------------------------------------------- errors

    /// @notice `open` with the zero address as payee.
    error InvalidPayee(address payee);
    /// @notice `open` with the zero address as voucher signer.
    error InvalidSigner(address signer);
    /// @notice A deposit of zero, or (for `open`) above `type(uint128).max`.
    error InvalidAmount(uint256 amount);
    /// @notice `open` or `extend` with an expiry that is not in the future.
    error InvalidExpiry(uint64 expiry, uint256 nowTs);
    /// @notice `msg.value` must be the amount for an ETH channel and zero for a token channel.
    error ValueMismatch(uint256 sent, uint256 expected);
    /// @notice A channel with this id was already opened (it may be finished: ids are never reused).
    error ChannelExists(bytes32 channelId);
    /// @notice No open channel has this id for these parameters and this caller.
    error ChannelNotOpen(bytes32 channelId, ChannelState state);
    /// @notice A top-up would take the deposit above `type(uint128).max`.
    error DepositOverflow(bytes32 channelId, uint256 deposit, uint256 amount);
    /// @notice `extend` must move the expiry strictly later.
    error ExpiryNotLater(bytes32 channelId, uint64 expiry, uint64 newExpiry);
    /// @notice `close`/`closeCompact` at or after the expiry: the channel now belongs to the payer's
    /// `reclaim`.
    error ChannelExpired(bytes32 channelId, uint64 expiry, uint256 nowTs);
    /// @notice `reclaim` before the expiry.
    error ChannelNotExpired(bytes32 channelId, uint64 expiry, uint256 nowTs);
    /// @notice A voucher for more than the channel holds.
    error VoucherExceedsDeposit(bytes32 channelId, uint256 cumulativeAmount, uint256 deposit);
    /// @notice The voucher signature is not `signer`'s (wrong key, wrong channel, wrong amount, a
    /// high-s or otherwise malformed signature, or a contract signer that does not approve it).
    error InvalidSignature(bytes32 channelId, address signer);

    // ---------------------------------------------------------------- payer

    /// @notice Open a channel from `msg.sender` to `payee` and return its id, locking `amount` until
    /// `expiry`: `msg.value` for ETH (`token == address(0)`), else pulled from the caller with
    /// `transferFrom` (approve first).
    /// `signer` signs the vouchers (the caller, or a session key); `salt` makes the id fresh.
    /// A token that moves more or less than asked (fee-on-transfer, rebasing) is refused
    /// (`AmountNotReceived`).
    function open(address payee, address token, uint256 amount, uint64 expiry, bytes32 salt, address signer)
        external
        payable
        returns (bytes32);

    /// @notice Add `amount` to the deposit of the caller's open channel (same payment rule as `open`).
    function topUp(address payee, address token, address signer, bytes32 salt, uint256 amount) external payable;

    /// @notice Move the expiry of the caller's open channel to `expiry`, which must be later than both
    /// the current expiry and now.
    function extend(address payee, address token, address signer, bytes32 salt, uint64 expiry) external;

    /// @notice After the expiry (`block.timestamp >= expiry`), take back the whole deposit of the
    /// caller's channel that the payee did not close.
    function reclaim(address payee, address token, address signer, bytes32 salt) external;

    // ---------------------------------------------------------------- payee

    /// @notice Settle the caller's channel from `payer` before its expiry (`block.timestamp < expiry`):
    /// pays `cumulativeAmount` (at most the deposit) to the caller and the rest to the payer.
    /// `signature` is `signer`'s signature of the voucher for `cumulativeAmount`: 65 bytes `r || s || v`
    /// (ECDSA), or anything a contract `signer` approves through ERC-1271. With a `cumulativeAmount` of
    /// zero no signature is needed (the payee releases the whole deposit).
    function close(
        address payer,
        address token,
        address signer,
        bytes32 salt,
        uint256 cumulativeAmount,
        bytes calldata signature
    ) external;

    /// @notice `close` with an ECDSA signature in EIP-2098 compact form: `r`, and `vs` = `s` with the
    /// top bit set when `v` is 28. The cheapest way to close (no dynamic `bytes` in the calldata).
    /// Contract (ERC-1271) signers are not asked here: use `close` for them.
    function closeCompact(
        address payer,
        address token,
        address signer,
        bytes32 salt,
        uint256 cumulativeAmount,
        bytes32 r,
        bytes32 vs
    ) external;

    // ---------------------------------------------------------------- views

    /// @notice The id of the channel with these parameters on this chain and contract.
    function computeChannelId(address payer, address payee, address token, address signer, bytes32 salt)
        external
        view
        returns (bytes32);

    /// @notice The stored channel; all zero for an id never opened.
    function getChannel(bytes32 channelId) external view returns (Channel memory);

    /// @notice The EIP-712 digest `signer` signs for a voucher (domain: name "Agora PaymentChannel",
    /// version "1", this chain's id, this contract).
    function hashVoucher(bytes32 channelId, uint256 cumulativeAmount) external view returns (bytes32);

    /// @notice keccak256("Voucher(bytes32 channelId,uint256 cumulativeAmount)").
    function VOUCHER_TYPEHASH() external view returns (bytes32);
}
