// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {PaymentChannel} from "../src/PaymentChannel.sol";
import {IPaymentChannel} from "../src/interfaces/IPaymentChannel.sol";
import {IPayouts} from "../src/interfaces/IPayouts.sol";
import {ChannelFixture} from "./utils/ChannelFixture.sol";
import {FeeOnTransferToken, FaultyToken, GasBurner, Receiver, ReentrantToken} from "./utils/Mocks.sol";
import {ApproveAll, ReentrantAccount, SmartWallet} from "./utils/ChannelMocks.sol";

/// @notice `topUp` tests, on the shared fixture.
contract PaymentChannelTopUpTest is ChannelFixture {
    function test_topUp_ethAddsToDepositAndEmits() public {
        bytes32 channelId = _openEth();
        vm.expectEmit(address(channels));
        emit IPaymentChannel.ChannelToppedUp(channelId, 0.5 ether, ETH_DEPOSIT + 0.5 ether);
        vm.prank(payer);
        channels.topUp{value: 0.5 ether}(payee, address(0), payer, SALT, 0.5 ether);

        _assertChannel(channelId, ETH_DEPOSIT + 0.5 ether, expiry, IPaymentChannel.ChannelState.Open);
        assertEq(address(channels).balance, ETH_DEPOSIT + 0.5 ether);
    }

    function test_topUp_tokenAddsToDepositAndLetsLargerVoucherClose() public {
        bytes32 channelId = _openToken();
        vm.prank(payer);
        channels.topUp(payee, address(token), payer, SALT, 50 ether);
        _assertChannel(channelId, TOKEN_DEPOSIT + 50 ether, expiry, IPaymentChannel.ChannelState.Open);

        _close(address(token), SALT, payer, payerKey, 140 ether);
        assertEq(token.balanceOf(payee), 140 ether);
        assertEq(token.balanceOf(payer), 1_000_000 ether - 140 ether);
    }

    function test_topUp_revertsAfterClose() public {
        bytes32 channelId = _openEth();
        _close(address(0), SALT, payer, payerKey, 0.1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPaymentChannel.ChannelNotOpen.selector, channelId, IPaymentChannel.ChannelState.Closed
            )
        );
        vm.prank(payer);
        channels.topUp{value: 1}(payee, address(0), payer, SALT, 1);
    }

    function test_topUp_revertsAfterReclaim() public {
        bytes32 channelId = _openToken();
        vm.warp(expiry);
        vm.prank(payer);
        channels.reclaim(payee, address(token), payer, SALT);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPaymentChannel.ChannelNotOpen.selector, channelId, IPaymentChannel.ChannelState.Reclaimed
            )
        );
        vm.prank(payer);
        channels.topUp(payee, address(token), payer, SALT, 1);
    }

    function test_topUp_revertsForNonPayer() public {
        _openEth();
        // Anyone else names another channel: the id commits to the payer.
        bytes32 strangersId = channels.computeChannelId(stranger, payee, address(0), payer, SALT);
        vm.deal(stranger, 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPaymentChannel.ChannelNotOpen.selector, strangersId, IPaymentChannel.ChannelState.None
            )
        );
        vm.prank(stranger);
        channels.topUp{value: 1}(payee, address(0), payer, SALT, 1);
    }

    function test_topUp_revertsAboveUint128() public {
        uint256 deposit = type(uint128).max - 5;
        token.mint(payer, deposit);
        bytes32 channelId = _open(address(token), deposit, SALT, payer);

        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.DepositOverflow.selector, channelId, deposit, 6));
        vm.prank(payer);
        channels.topUp(payee, address(token), payer, SALT, 6);

        // An amount that would overflow uint256 itself gets the same error, not a panic.
        vm.expectRevert(
            abi.encodeWithSelector(IPaymentChannel.DepositOverflow.selector, channelId, deposit, type(uint256).max)
        );
        vm.prank(payer);
        channels.topUp(payee, address(token), payer, SALT, type(uint256).max);

        vm.prank(payer);
        channels.topUp(payee, address(token), payer, SALT, 5);
        assertEq(channels.getChannel(channelId).deposit, type(uint128).max);
    }

    function test_topUp_revertsForZeroAmountAndWrongValue() public {
        _openEth();
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidAmount.selector, 0));
        vm.prank(payer);
        channels.topUp(payee, address(0), payer, SALT, 0);

        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.ValueMismatch.selector, 1, 2));
        vm.prank(payer);
        channels.topUp{value: 1}(payee, address(0), payer, SALT, 2);
    }

    function test_topUp_allowedAfterExpiryAndReclaimable() public {
        bytes32 channelId = _openEth();
        vm.warp(expiry + 10);
        vm.prank(payer);
        channels.topUp{value: 1 ether}(payee, address(0), payer, SALT, 1 ether);
        vm.prank(payer);
        channels.reclaim(payee, address(0), payer, SALT);
        assertEq(payer.balance, 100 ether);
        _assertChannel(channelId, 2 ether, expiry, IPaymentChannel.ChannelState.Reclaimed);
    }

    function testFuzz_topUp_neverExceedsUint128(uint128 deposit, uint256 amount) public {
        deposit = uint128(bound(deposit, 1, type(uint128).max));
        amount = bound(amount, 1, type(uint256).max);
        token.mint(payer, deposit);
        bytes32 channelId = _open(address(token), deposit, SALT, payer);
        if (amount > type(uint128).max - deposit) {
            vm.expectRevert(
                abi.encodeWithSelector(IPaymentChannel.DepositOverflow.selector, channelId, deposit, amount)
            );
            vm.prank(payer);
            channels.topUp(payee, address(token), payer, SALT, amount);
        } else {
            token.mint(payer, amount);
            vm.prank(payer);
            channels.topUp(payee, address(token), payer, SALT, amount);
            assertEq(channels.getChannel(channelId).deposit, uint256(deposit) + amount);
        }
    }

    function test_topUp_refusesTokenThatStartsTaxing() public {
        FeeOnTransferToken taxed = new FeeOnTransferToken(0);
        taxed.mint(payer, 2 * TOKEN_DEPOSIT);
        vm.prank(payer);
        taxed.approve(address(channels), 2 * TOKEN_DEPOSIT);
        bytes32 channelId = _open(address(taxed), TOKEN_DEPOSIT, SALT, payer);
        taxed.setFeeBps(100);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPayouts.AmountNotReceived.selector, address(taxed), TOKEN_DEPOSIT, TOKEN_DEPOSIT - TOKEN_DEPOSIT / 100
            )
        );
        vm.prank(payer);
        channels.topUp(payee, address(taxed), payer, SALT, TOKEN_DEPOSIT);
        assertEq(channels.getChannel(channelId).deposit, TOKEN_DEPOSIT);
        assertEq(taxed.balanceOf(address(channels)), TOKEN_DEPOSIT);
    }
}
