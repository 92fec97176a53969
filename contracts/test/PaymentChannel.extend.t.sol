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

/// @notice `extend` tests, on the shared fixture.
contract PaymentChannelExtendTest is ChannelFixture {
    function test_extend_movesExpiryLaterAndEmits() public {
        bytes32 channelId = _openEth();
        uint64 later = expiry + 1;
        vm.expectEmit(address(channels));
        emit IPaymentChannel.ChannelExtended(channelId, later);
        vm.prank(payer);
        channels.extend(payee, address(0), payer, SALT, later);
        _assertChannel(channelId, ETH_DEPOSIT, later, IPaymentChannel.ChannelState.Open);

        // The old expiry no longer ends the channel: the payee can still close, the payer cannot reclaim.
        vm.warp(expiry);
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.ChannelNotExpired.selector, channelId, later, expiry));
        vm.prank(payer);
        channels.reclaim(payee, address(0), payer, SALT);
        _close(address(0), SALT, payer, payerKey, 0.2 ether);
        assertEq(payee.balance, 0.2 ether);
    }

    function test_extend_revertsForEarlierOrSameExpiry() public {
        bytes32 channelId = _openEth();
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.ExpiryNotLater.selector, channelId, expiry, expiry));
        vm.prank(payer);
        channels.extend(payee, address(0), payer, SALT, expiry);

        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.ExpiryNotLater.selector, channelId, expiry, expiry - 1));
        vm.prank(payer);
        channels.extend(payee, address(0), payer, SALT, expiry - 1);
    }

    function test_extend_revertsForNonPayer() public {
        _openEth();
        // The payee passing the payer's parameters as its own names a channel it does not pay.
        bytes32 payeeAsPayer = channels.computeChannelId(payee, payee, address(0), payer, SALT);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPaymentChannel.ChannelNotOpen.selector, payeeAsPayer, IPaymentChannel.ChannelState.None
            )
        );
        vm.prank(payee);
        channels.extend(payee, address(0), payer, SALT, expiry + 1 days);

        bytes32 strangersId = channels.computeChannelId(stranger, payee, address(0), payer, SALT);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPaymentChannel.ChannelNotOpen.selector, strangersId, IPaymentChannel.ChannelState.None
            )
        );
        vm.prank(stranger);
        channels.extend(payee, address(0), payer, SALT, expiry + 1 days);
    }

    function test_extend_afterExpiryReopensTheCloseWindow() public {
        _openToken();
        vm.warp(expiry + 1 hours);
        vm.prank(payer);
        channels.extend(payee, address(token), payer, SALT, expiry + 2 hours);
        _close(address(token), SALT, payer, payerKey, 1 ether);
        assertEq(token.balanceOf(payee), 1 ether);
    }

    function test_extend_revertsAfterClose() public {
        bytes32 channelId = _openEth();
        _close(address(0), SALT, payer, payerKey, 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPaymentChannel.ChannelNotOpen.selector, channelId, IPaymentChannel.ChannelState.Closed
            )
        );
        vm.prank(payer);
        channels.extend(payee, address(0), payer, SALT, expiry + 1);
    }

    function testFuzz_extend_onlyLater(uint64 newExpiry) public {
        bytes32 channelId = _openEth();
        if (newExpiry <= expiry) {
            vm.expectRevert(
                abi.encodeWithSelector(IPaymentChannel.ExpiryNotLater.selector, channelId, expiry, newExpiry)
            );
        }
        vm.prank(payer);
        channels.extend(payee, address(0), payer, SALT, newExpiry);
        assertEq(channels.getChannel(channelId).expiry, newExpiry > expiry ? newExpiry : expiry);
    }

    // Flaw 6: `extend` accepted an expiry already in the past (later than the old one, but gone).

    function test_extend_revertsForExpiryInThePast() public {
        bytes32 channelId = _openEth();
        vm.warp(expiry + 100);
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidExpiry.selector, expiry + 50, expiry + 100));
        vm.prank(payer);
        channels.extend(payee, address(0), payer, SALT, expiry + 50);
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidExpiry.selector, expiry + 100, expiry + 100));
        vm.prank(payer);
        channels.extend(payee, address(0), payer, SALT, expiry + 100);
        assertEq(channels.getChannel(channelId).expiry, expiry);
    }
}
