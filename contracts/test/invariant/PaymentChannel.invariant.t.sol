// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test, console} from "../utils/Test.sol";
import {PaymentChannel} from "../../src/PaymentChannel.sol";
import {MarketToken} from "../../src/MarketToken.sol";
import {IPaymentChannel} from "../../src/interfaces/IPaymentChannel.sol";
import {PaymentChannelHandler} from "./PaymentChannelHandler.sol";

/// @notice Solvency per asset (ETH and AMT) and exact, once-only settlement per channel, over random
/// action sequences.
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
        _checkSolvency(address(0), address(channels).balance);
        _checkSolvency(address(token), token.balanceOf(address(channels)));
    }

    /// @notice Nothing is created or lost: what was paid in is either still held or was paid out.
    function invariant_paidOutPlusBalanceIsPaidIn() public view {
        assertEq(handler.ghostPaidOut(address(0)) + address(channels).balance, handler.ghostPaidIn(address(0)));
        assertEq(
            handler.ghostPaidOut(address(token)) + token.balanceOf(address(channels)),
            handler.ghostPaidIn(address(token))
        );
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

    /// @notice Shows how much each run exercised (`forge test -vv`).
    function afterInvariant() public view {
        string[9] memory names =
            ["open", "topUp", "extend", "close", "reclaim", "settleAgain", "withdraw", "toggle", "warp"];
        for (uint256 i; i < names.length; ++i) {
            console.log("%s: %d", names[i], handler.calls(bytes32(bytes(names[i]))));
        }
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
