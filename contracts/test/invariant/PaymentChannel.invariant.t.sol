// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test, console} from "../utils/Test.sol";
import {PaymentChannel} from "../../src/PaymentChannel.sol";
import {MarketToken} from "../../src/MarketToken.sol";
import {IPaymentChannel} from "../../src/interfaces/IPaymentChannel.sol";
import {PaymentChannelHandler} from "./PaymentChannelHandler.sol";

/// @notice Solvency per asset (ETH, AMT, a failing token, a re-entering token) and exact, once-only
/// settlement per channel, over random action sequences with hostile tokens, signers and actors (see
/// {PaymentChannelHandler}).
contract PaymentChannelInvariantTest is Test {
    PaymentChannel internal channels;
    MarketToken internal token;
    PaymentChannelHandler internal handler;

    function setUp() public {
        vm.warp(1_750_000_000);
        channels = new PaymentChannel();
        handler = new PaymentChannelHandler(channels);
        token = handler.token();
        targetContract(address(handler));
    }

    /// @notice The contract holds exactly the deposits of open channels plus what it owes.
    function invariant_balanceIsOpenDepositsPlusOwed() public view {
        for (uint256 a; a < 4; ++a) {
            address asset = handler.assetAt(a);
            _checkSolvency(asset, _balance(asset));
        }
        assertEq(handler.taxed().balanceOf(address(channels)), 0, "a fee-on-transfer deposit went through");
    }

    /// @notice Nothing is created or lost: what was paid in is either still held or was paid out.
    function invariant_paidOutPlusBalanceIsPaidIn() public view {
        for (uint256 a; a < 4; ++a) {
            address asset = handler.assetAt(a);
            assertEq(handler.ghostPaidOut(asset) + _balance(asset), handler.ghostPaidIn(asset));
        }
    }

    /// @notice Each finished channel paid its payee and its payer exactly its deposit between them, once;
    /// an open channel paid nothing. The stored deposit and state agree with the ghosts throughout.
    function invariant_eachChannelPaysItsDepositOnce() public view {
        uint256 count = handler.channelCount();
        for (uint256 i; i < count; ++i) {
            bytes32 channelId = handler.channelIds(i);
            IPaymentChannel.Channel memory channel = channels.getChannel(channelId);
            PaymentChannelHandler.Ghost memory ghost = handler.ghostOf(channelId);
            assertEq(channel.deposit, ghost.deposit, "stored deposit");
            assertFalse(ghost.closed && ghost.reclaimed, "closed and reclaimed");
            assertEq(channel.state == IPaymentChannel.ChannelState.Closed, ghost.closed);
            assertEq(channel.state == IPaymentChannel.ChannelState.Reclaimed, ghost.reclaimed);
            if (channel.state == IPaymentChannel.ChannelState.Open) {
                assertEq(ghost.toPayee + ghost.toPayer, 0, "an open channel paid out");
                assertEq(ghost.settlements, 0);
            } else {
                assertEq(ghost.toPayee + ghost.toPayer, ghost.deposit, "payee + payer != deposit");
                assertEq(ghost.settlements, 1, "settled more than once");
                if (ghost.reclaimed) assertEq(ghost.toPayee, 0, "a reclaim paid the payee");
            }
        }
    }

    /// @notice No hostile call got through: no fee-on-transfer deposit, no call in the wrong role, no
    /// re-entry, no voucher of a revoked wallet, and at the expiry exactly one of close and reclaim.
    function invariant_hostileCallsAreRefused() public view {
        assertEq(handler.ghostTaxedAccepted(), 0, "fee-on-transfer deposit accepted");
        assertEq(handler.ghostUnauthorizedAccepted(), 0, "call in the wrong role accepted");
        assertEq(handler.ghostReentriesAccepted(), 0, "re-entry accepted");
        assertEq(handler.ghostRevokedAccepted(), 0, "revoked wallet's voucher accepted");
        assertEq(handler.ghostRacesNotExactlyOne(), 0, "expiry race not exactly one winner");
    }

    /// @notice Shows how much each run exercised (`forge test -vv`).
    function afterInvariant() public view {
        string[16] memory names = [
            "open",
            "openTaxed",
            "topUp",
            "extend",
            "close",
            "closeRevoked",
            "reclaim",
            "race",
            "settleAgain",
            "wrongRole",
            "withdraw",
            "withdrawTo",
            "toggle",
            "toggleBlocked",
            "toggleRevoked",
            "warp"
        ];
        for (uint256 i; i < names.length; ++i) {
            console.log("%s: %d", names[i], handler.calls(bytes32(bytes(names[i]))));
        }
    }

    function _balance(address asset) internal view returns (uint256) {
        return asset == address(0) ? address(channels).balance : MarketToken(asset).balanceOf(address(channels));
    }

    function _checkSolvency(address asset, uint256 balance) internal view {
        uint256 owed;
        uint256 participants = handler.participantCount();
        for (uint256 i; i < participants; ++i) {
            owed += channels.owed(handler.participants(i), asset);
        }
        assertEq(balance, handler.ghostOpenDeposits(asset) + owed, "balance != open deposits + owed");
    }
}
