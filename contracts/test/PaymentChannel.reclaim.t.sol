// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {PaymentChannel} from "../src/PaymentChannel.sol";
import {IPaymentChannel} from "../src/interfaces/IPaymentChannel.sol";
import {IPayouts} from "../src/interfaces/IPayouts.sol";
import {ChannelFixture} from "./utils/ChannelFixture.sol";
import {FaultyToken, GasBurner, Receiver, ReentrantToken} from "./utils/Mocks.sol";
import {ApproveAll, ReentrantAccount, SmartWallet} from "./utils/ChannelMocks.sol";

/// @notice `reclaim` tests, on the shared fixture.
contract PaymentChannelReclaimTest is ChannelFixture {
    function test_reclaim_atExpiryRefundsAllAndEmits() public {
        bytes32 channelId = _openEth();
        vm.warp(expiry);
        vm.expectEmit(address(channels));
        emit IPaymentChannel.ChannelReclaimed(channelId, ETH_DEPOSIT);
        vm.prank(payer);
        channels.reclaim(payee, address(0), payer, SALT);
        assertEq(payer.balance, 100 ether);
        assertEq(address(channels).balance, 0);
        _assertChannel(channelId, ETH_DEPOSIT, expiry, IPaymentChannel.ChannelState.Reclaimed);
    }

    function test_reclaim_tokenLongAfterExpiry() public {
        bytes32 channelId = _openToken();
        vm.warp(expiry + 365 days);
        vm.prank(payer);
        channels.reclaim(payee, address(token), payer, SALT);
        assertEq(token.balanceOf(payer), 1_000_000 ether);
        _assertChannel(channelId, TOKEN_DEPOSIT, expiry, IPaymentChannel.ChannelState.Reclaimed);
    }

    function test_reclaim_revertsAtLastSecondBeforeExpiry() public {
        bytes32 channelId = _openEth();
        vm.warp(expiry - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IPaymentChannel.ChannelNotExpired.selector, channelId, expiry, expiry - 1)
        );
        vm.prank(payer);
        channels.reclaim(payee, address(0), payer, SALT);
    }

    function test_reclaim_twiceReverts() public {
        bytes32 channelId = _openEth();
        vm.warp(expiry);
        vm.prank(payer);
        channels.reclaim(payee, address(0), payer, SALT);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPaymentChannel.ChannelNotOpen.selector, channelId, IPaymentChannel.ChannelState.Reclaimed
            )
        );
        vm.prank(payer);
        channels.reclaim(payee, address(0), payer, SALT);
    }

    function test_reclaim_revertsAfterClose() public {
        bytes32 channelId = _openEth();
        _close(address(0), SALT, payer, payerKey, 0.5 ether);
        vm.warp(expiry);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPaymentChannel.ChannelNotOpen.selector, channelId, IPaymentChannel.ChannelState.Closed
            )
        );
        vm.prank(payer);
        channels.reclaim(payee, address(0), payer, SALT);
    }

    function test_reclaim_revertsForNonPayer() public {
        _openEth();
        vm.warp(expiry);
        bytes32 payeeAsPayer = channels.computeChannelId(payee, payee, address(0), payer, SALT);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPaymentChannel.ChannelNotOpen.selector, payeeAsPayer, IPaymentChannel.ChannelState.None
            )
        );
        vm.prank(payee);
        channels.reclaim(payee, address(0), payer, SALT);
    }

    function test_reclaim_blocksReentryFromReceiver() public {
        ReentrantAccount account = new ReentrantAccount();
        vm.deal(address(account), ETH_DEPOSIT);
        _openFrom(address(account));
        // Reclaiming again from inside the refund: refused by the lock before the (already final) state.
        account.arm(address(channels), abi.encodeCall(IPaymentChannel.reclaim, (payee, address(0), payer, SALT)), 0);
        vm.warp(expiry);
        vm.prank(address(account));
        channels.reclaim(payee, address(0), payer, SALT);

        assertTrue(account.attempted());
        assertFalse(account.succeeded());
        assertEq(account.returned(), abi.encodeWithSelector(IPayouts.ReentrantCall.selector));
        assertEq(address(account).balance, ETH_DEPOSIT);
        assertEq(address(channels).balance, 0);
    }

    /// @notice At every moment exactly one of `close` (payee) and `reclaim` (payer) is possible.
    function testFuzz_closeOrReclaim_exactlyOneAtAnyTime(uint256 at) public {
        at = bound(at, block.timestamp, uint256(expiry) + 2 days);
        bytes32 channelId = _openEth();
        (bytes32 r, bytes32 vs) = _signCompact(payerKey, channelId, 0.5 ether);
        vm.warp(at);

        vm.prank(payee);
        (bool closed,) = address(channels)
            .call(abi.encodeCall(IPaymentChannel.closeCompact, (payer, address(0), payer, SALT, 0.5 ether, r, vs)));
        vm.prank(payer);
        (bool reclaimed,) =
            address(channels).call(abi.encodeCall(IPaymentChannel.reclaim, (payee, address(0), payer, SALT)));

        assertEq(closed, at < expiry);
        assertEq(reclaimed, at >= expiry);
        assertEq(payee.balance + payer.balance, 100 ether);
    }
}
