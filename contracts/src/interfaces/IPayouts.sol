// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";

/// @title IPayouts
/// @notice What every Agora contract that holds other people's money offers for paying it out (see
/// {Payouts}). A payout is pushed when it is due; when the push fails (a receiver that rejects ETH, a
/// token that reverts or returns false for that receiver) it is credited to `owed` instead, and the
/// account takes it later with `withdraw`, or has it sent elsewhere with `withdrawTo`, which an account
/// that cannot call (a contract without such a call, an address a token refuses) authorises with an
/// EIP-712 signature (ECDSA, or ERC-1271 for a contract) of
/// `Withdrawal(address account,address token,address to,uint256 nonce,uint256 deadline)` in the
/// contract's own domain.
interface IPayouts is IERC5267 {
    // ---------------------------------------------------------------- events

    /// @notice A payout that could not be pushed was credited to `account` to withdraw later.
    event PayoutDeferred(address indexed account, address indexed token, uint256 amount);
    /// @notice `account` took what it was owed.
    event Withdrawn(address indexed account, address indexed token, uint256 amount);
    /// @notice What `account` was owed went to `to`, on `account`'s signed request.
    event WithdrawnTo(address indexed account, address indexed token, address to, uint256 amount);

    // ---------------------------------------------------------------- errors

    /// @notice Nothing is owed to `account` in `token`.
    error NothingToWithdraw(address account, address token);
    /// @notice A withdrawal could not send: the receiver still rejects ETH, or the token transfer failed.
    error TransferFailed(address to, address token, uint256 amount);
    /// @notice A call re-entered the contract while it was paying out or pulling a token.
    error ReentrantCall();
    /// @notice A token pull moved a different amount into the contract than asked (a fee-on-transfer or
    /// otherwise dishonest token): such tokens are refused.
    error AmountNotReceived(address token, uint256 expected, uint256 received);
    /// @notice `withdrawTo` with the zero address as destination.
    error InvalidWithdrawalRecipient(address to);
    /// @notice A signed `withdrawTo` submitted after its deadline.
    error WithdrawalExpired(uint256 deadline, uint256 nowTs);
    /// @notice The `withdrawTo` signature is not `account`'s for these terms and its current nonce.
    error InvalidWithdrawalSignature(address account);

    // ---------------------------------------------------------------- functions

    /// @notice Send the caller everything it is owed in `token` (address(0): ETH), with all gas.
    function withdraw(address token) external;

    /// @notice Send everything `account` is owed in `token` to `to`. Called by `account` itself, no
    /// signature is needed; anyone else submits `account`'s signature of the `Withdrawal` with its
    /// current `withdrawalNonce` and a `deadline` not yet passed.
    function withdrawTo(address account, address token, address to, uint256 deadline, bytes calldata signature) external;

    /// @notice Payouts credited to `account` in `token` (address(0): ETH) and not yet withdrawn.
    function owed(address account, address token) external view returns (uint256);

    /// @notice The nonce the next signed `withdrawTo` of `account` must carry.
    function withdrawalNonce(address account) external view returns (uint256);

    /// @notice The EIP-712 digest `account` signs to have its `token` balance sent to `to`.
    function hashWithdrawal(address account, address token, address to, uint256 nonce, uint256 deadline)
        external
        view
        returns (bytes32);
}
