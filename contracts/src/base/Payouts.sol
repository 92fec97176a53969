// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IPayouts} from "../interfaces/IPayouts.sol";

/// @title Payouts
/// @notice The one way Agora's escrows take money in and pay it out, shared by every market that holds
/// funds (ComputeMarket, PaymentChannel, and the markets to come): see {IPayouts}.
/// @dev What a contract built on this base gets, and must keep:
/// - `_pull(token, from, amount)` takes an ERC-20 amount and measures the contract's balance before and
///   after: a token that delivers anything else than `amount` is refused (`AmountNotReceived`), so what
///   is booked as escrow is always what arrived.
/// - `_pay(to, token, amount)` pushes ETH (with at most `ETH_PUSH_GAS`, no return data copied) or a
///   token (`transfer`, accepted as SafeERC20 does); a failed push is credited to `owed` and never
///   reverts, so no receiver can block a settlement. Callers change their state and emit before paying.
/// - One transient-storage lock (`nonReentrant`, or `_lock`/`_unlock` around a call out, `_checkUnlocked`
///   for entry points that must not run during one): every function that calls out holds it, so a
///   hostile token or receiver cannot re-enter any of them. Slither cannot see the ETH calls made in
///   assembly here; the reentrancy tests are what show the lock holds.
/// - `withdraw` and `withdrawTo` (signed by the balance's owner, nonce and deadline in an EIP-712
///   `Withdrawal`) are the only ways `owed` goes down.
abstract contract Payouts is IPayouts, EIP712 {
    /// @notice Gas forwarded with an ETH payout push; a receiver that needs more is paid through `owed`.
    uint256 public constant ETH_PUSH_GAS = 100_000;
    /// @notice The EIP-712 type a balance's owner signs for `withdrawTo`.
    bytes32 public constant WITHDRAWAL_TYPEHASH =
        keccak256("Withdrawal(address account,address token,address to,uint256 nonce,uint256 deadline)");

    /// @dev The low 160 bits: an address in a word (inline assembly sees callers' dirty upper bits).
    uint256 internal constant ADDRESS_MASK = 0x00ffffffffffffffffffffffffffffffffffffffff;
    /// @dev keccak256("agora.Payouts.lock") - 1, a transient-storage slot.
    uint256 private constant LOCK_SLOT = 0x8bd0463653398d815dc63834378a1da98c34520dcc105f3ff3543e3166d53e29;

    /// @inheritdoc IPayouts
    mapping(address account => mapping(address token => uint256)) public owed;
    /// @inheritdoc IPayouts
    mapping(address account => uint256) public withdrawalNonce;

    modifier nonReentrant() {
        _lock();
        _;
        _unlock();
    }

    constructor(string memory name, string memory version) EIP712(name, version) {}

    // ---------------------------------------------------------------- pull payments

    /// @inheritdoc IPayouts
    function withdraw(address token) external nonReentrant {
        _withdraw(msg.sender, token, msg.sender);
    }

    /// @inheritdoc IPayouts
    function withdrawTo(address account, address token, address to, uint256 deadline, bytes calldata signature)
        external
        nonReentrant
    {
        if (to == address(0)) revert InvalidWithdrawalRecipient(to);
        if (msg.sender != account) {
            // forge-lint: disable-next-line(block-timestamp)
            if (block.timestamp > deadline) revert WithdrawalExpired(deadline, block.timestamp);
            uint256 nonce = withdrawalNonce[account]++;
            bytes32 digest = _hashWithdrawal(account, token, to, nonce, deadline);
            if (!SignatureChecker.isValidSignatureNow(account, digest, signature)) {
                revert InvalidWithdrawalSignature(account);
            }
        }
        _withdraw(account, token, to);
    }

    /// @inheritdoc IPayouts
    function hashWithdrawal(address account, address token, address to, uint256 nonce, uint256 deadline)
        external
        view
        returns (bytes32)
    {
        return _hashWithdrawal(account, token, to, nonce, deadline);
    }

    // ---------------------------------------------------------------- for the markets

    /// @dev Take exactly `amount` of `token` from `from` (approved beforehand), or revert. The caller
    /// holds the lock: the token is called out to.
    function _pull(address token, address from, uint256 amount) internal {
        uint256 before = _selfBalance(token);
        SafeERC20.safeTransferFrom(IERC20(token), from, address(this), amount);
        uint256 received = _selfBalance(token);
        unchecked {
            // Wraps only if the balance fell; then it is not `amount` either (amount != 0 here).
            received -= before;
        }
        if (received != amount) revert AmountNotReceived(token, amount, received);
    }

    /// @dev Push `amount` of `token` (address(0): ETH) to `to`; if that fails, credit it to `owed`.
    /// A token push succeeds as `SafeERC20.trySafeTransfer` does: the call succeeds and returns `true`,
    /// or returns nothing from a token with code.
    function _pay(address to, address token, uint256 amount) internal {
        bool ok;
        assembly ("memory-safe") {
            switch and(token, ADDRESS_MASK)
            case 0 {
                // No return data is copied, so the receiver cannot make this call expensive for us.
                ok := call(ETH_PUSH_GAS, to, amount, 0, 0, 0, 0)
            }
            default {
                // transfer(to, amount), encoded in unallocated memory; the result word lands in scratch.
                let m := mload(0x40)
                mstore(m, shl(224, 0xa9059cbb)) // transfer(address,uint256)
                mstore(add(m, 0x04), and(to, ADDRESS_MASK))
                mstore(add(m, 0x24), amount)
                mstore(0, 0)
                ok := call(gas(), token, 0, m, 0x44, 0, 0x20)
                switch returndatasize()
                case 0 { ok := and(ok, gt(extcodesize(token), 0)) }
                default { ok := and(ok, and(gt(returndatasize(), 0x1f), eq(mload(0), 1))) }
            }
        }
        if (!ok) {
            owed[to][token] += amount;
            emit PayoutDeferred(to, token, amount);
        }
    }

    function _lock() internal {
        _checkUnlocked();
        assembly ("memory-safe") {
            tstore(LOCK_SLOT, 1)
        }
    }

    function _unlock() internal {
        assembly ("memory-safe") {
            tstore(LOCK_SLOT, 0)
        }
    }

    function _checkUnlocked() internal view {
        bool locked;
        assembly ("memory-safe") {
            locked := tload(LOCK_SLOT)
        }
        if (locked) revert ReentrantCall();
    }

    // ---------------------------------------------------------------- private

    function _withdraw(address account, address token, address to) private {
        uint256 amount = owed[account][token];
        if (amount == 0) revert NothingToWithdraw(account, token);
        owed[account][token] = 0;
        if (to == account) emit Withdrawn(account, token, amount);
        else emit WithdrawnTo(account, token, to, amount);

        bool ok;
        if (token == address(0)) {
            // The owner asks for its own money: forward all gas, ignore what the receiver returns.
            assembly ("memory-safe") {
                ok := call(gas(), to, amount, 0, 0, 0, 0)
            }
        } else {
            ok = SafeERC20.trySafeTransfer(IERC20(token), to, amount);
        }
        if (!ok) revert TransferFailed(to, token, amount);
    }

    function _hashWithdrawal(address account, address token, address to, uint256 nonce, uint256 deadline)
        private
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(WITHDRAWAL_TYPEHASH, account, token, to, nonce, deadline)));
    }

    /// @dev This contract's balance of `token`; a token that does not answer `balanceOf` (no code, a
    /// revert, short return data) fails the pull as SafeERC20 fails a transfer.
    function _selfBalance(address token) private view returns (uint256 amount) {
        assembly ("memory-safe") {
            mstore(0x00, shl(224, 0x70a08231)) // balanceOf(address)
            mstore(0x04, address())
            let ok := staticcall(gas(), token, 0x00, 0x24, 0x00, 0x20)
            if iszero(and(ok, gt(returndatasize(), 0x1f))) {
                mstore(0x00, shl(224, 0x5274afe7)) // SafeERC20FailedOperation(address)
                mstore(0x04, and(token, ADDRESS_MASK))
                revert(0x00, 0x24)
            }
            amount := mload(0x00)
        }
    }
}
