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

/// @notice `open` tests, on the shared fixture.
contract PaymentChannelOpenTest is ChannelFixture {
    function test_open_ethStoresChannelAndEmits() public {
        bytes32 expectedId = channels.computeChannelId(payer, payee, address(0), sessionKey, SALT);
        vm.expectEmit(address(channels));
        emit IPaymentChannel.ChannelOpened(expectedId, payer, payee, address(0), sessionKey, SALT, ETH_DEPOSIT, expiry);
        vm.prank(payer);
        bytes32 channelId = channels.open{value: ETH_DEPOSIT}(payee, address(0), ETH_DEPOSIT, expiry, SALT, sessionKey);

        assertEq(channelId, expectedId);
        _assertChannel(channelId, ETH_DEPOSIT, expiry, IPaymentChannel.ChannelState.Open);
        assertEq(address(channels).balance, ETH_DEPOSIT);
        assertEq(payer.balance, 100 ether - ETH_DEPOSIT);
    }

    function test_open_tokenPullsDepositAndEmits() public {
        bytes32 expectedId = channels.computeChannelId(payer, payee, address(token), payer, SALT);
        vm.expectEmit(address(channels));
        emit IPaymentChannel.ChannelOpened(expectedId, payer, payee, address(token), payer, SALT, TOKEN_DEPOSIT, expiry);
        bytes32 channelId = _openToken();

        assertEq(channelId, expectedId);
        _assertChannel(channelId, TOKEN_DEPOSIT, expiry, IPaymentChannel.ChannelState.Open);
        assertEq(token.balanceOf(address(channels)), TOKEN_DEPOSIT);
        assertEq(token.balanceOf(payer), 1_000_000 ether - TOKEN_DEPOSIT);
    }

    function test_open_storesWordInDocumentedLayout() public {
        bytes32 channelId = _open(address(token), 0xabcdef, SALT, payer);
        // Slot of `_channels[channelId]`: the mapping is the contract's first own variable (EIP712
        // keeps its name and version fallbacks in slots 0 and 1, the Payouts base `owed` and
        // `withdrawalNonce` in 2 and 3, so the mapping is slot 4).
        bytes32 slot = keccak256(abi.encode(channelId, uint256(4)));
        uint256 word = uint256(vm.load(address(channels), slot));
        assertEq(word, 0xabcdef | uint256(expiry) << 128 | uint256(1) << 192);
    }

    function test_open_acceptsUint128MaxDeposit() public {
        uint256 amount = type(uint128).max;
        token.mint(payer, amount);
        bytes32 channelId = _open(address(token), amount, SALT, payer);
        assertEq(channels.getChannel(channelId).deposit, amount);

        _close(address(token), SALT, payer, payerKey, amount - 1);
        assertEq(token.balanceOf(payee), amount - 1);
        assertEq(token.balanceOf(address(channels)), 0);
    }

    function test_open_sameIdTwiceReverts() public {
        bytes32 channelId = _openEth();
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.ChannelExists.selector, channelId));
        _openEth();
    }

    function test_open_finishedIdCannotBeReopened() public {
        bytes32 channelId = _openEth();
        _close(address(0), SALT, payer, payerKey, 0.3 ether);
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.ChannelExists.selector, channelId));
        _openEth();
    }

    function test_open_reclaimedIdCannotBeReopened() public {
        bytes32 channelId = _openToken();
        vm.warp(expiry);
        vm.prank(payer);
        channels.reclaim(payee, address(token), payer, SALT);
        expiry += 1 days;
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.ChannelExists.selector, channelId));
        _openToken();
    }

    function test_open_revertsForZeroPayee() public {
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidPayee.selector, address(0)));
        vm.prank(payer);
        channels.open{value: 1}(address(0), address(0), 1, expiry, SALT, payer);
    }

    function test_open_revertsForZeroSigner() public {
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidSigner.selector, address(0)));
        vm.prank(payer);
        channels.open{value: 1}(payee, address(0), 1, expiry, SALT, address(0));
    }

    function test_open_revertsForZeroAmount() public {
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidAmount.selector, 0));
        vm.prank(payer);
        channels.open(payee, address(0), 0, expiry, SALT, payer);
    }

    function test_open_revertsForAmountAboveUint128() public {
        uint256 amount = uint256(type(uint128).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidAmount.selector, amount));
        vm.prank(payer);
        channels.open(payee, address(token), amount, expiry, SALT, payer);

        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidAmount.selector, type(uint256).max));
        vm.prank(payer);
        channels.open(payee, address(token), type(uint256).max, expiry, SALT, payer);
    }

    function test_open_revertsForExpiryNotInFuture() public {
        uint64 now_ = uint64(block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidExpiry.selector, now_, block.timestamp));
        vm.prank(payer);
        channels.open{value: 1}(payee, address(0), 1, now_, SALT, payer);

        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidExpiry.selector, now_ - 1, block.timestamp));
        vm.prank(payer);
        channels.open{value: 1}(payee, address(0), 1, now_ - 1, SALT, payer);
    }

    function test_open_revertsWhenValueDiffersFromAmount() public {
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.ValueMismatch.selector, 1 ether - 1, 1 ether));
        vm.prank(payer);
        channels.open{value: 1 ether - 1}(payee, address(0), 1 ether, expiry, SALT, payer);

        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.ValueMismatch.selector, 1 ether + 1, 1 ether));
        vm.prank(payer);
        channels.open{value: 1 ether + 1}(payee, address(0), 1 ether, expiry, SALT, payer);
    }

    function test_open_revertsOnEtherForTokenChannel() public {
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.ValueMismatch.selector, 1, 0));
        vm.prank(payer);
        channels.open{value: 1}(payee, address(token), 1, expiry, SALT, payer);
    }

    function test_open_revertsForTokenWithoutCode() public {
        address notAToken = makeAddr("notAToken");
        vm.expectRevert(abi.encodeWithSelector(SafeERC20.SafeERC20FailedOperation.selector, notAToken));
        vm.prank(payer);
        channels.open(payee, notAToken, 1, expiry, SALT, payer);
    }

    function test_open_revertsWithoutAllowance() public {
        vm.prank(payer);
        token.approve(address(channels), TOKEN_DEPOSIT - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IERC20Errors.ERC20InsufficientAllowance.selector, address(channels), TOKEN_DEPOSIT - 1, TOKEN_DEPOSIT
            )
        );
        _openToken();
    }

    function test_open_blocksReentryFromToken() public {
        ReentrantToken evil = new ReentrantToken(address(channels));
        evil.mint(payer, 10);
        vm.prank(payer);
        evil.approve(address(channels), 10);
        // From inside transferFrom the token calls back into the contract: the lock refuses first.
        evil.arm(abi.encodeCall(IPayouts.withdraw, (address(0))));
        bytes32 channelId = _open(address(evil), 10, SALT, payer);

        assertTrue(evil.attempted());
        assertFalse(evil.succeeded());
        assertEq(evil.returned(), abi.encodeWithSelector(IPayouts.ReentrantCall.selector));
        assertEq(channels.getChannel(channelId).deposit, 10);
        assertEq(evil.balanceOf(address(channels)), 10);
    }

    function testFuzz_open_storesTermsExactly(uint128 amount, uint64 duration, bytes32 salt, address signer) public {
        amount = uint128(bound(amount, 1, type(uint128).max));
        duration = uint64(bound(duration, 1, type(uint64).max - block.timestamp));
        vm.assume(signer != address(0));
        expiry = uint64(block.timestamp) + duration;
        token.mint(payer, amount);
        bytes32 channelId = _open(address(token), amount, salt, signer);
        assertEq(channelId, channels.computeChannelId(payer, payee, address(token), signer, salt));
        _assertChannel(channelId, amount, expiry, IPaymentChannel.ChannelState.Open);
    }

    // Flaw 2: a fee-on-transfer token made the deposit bigger than what the contract held.

    function test_open_refusesFeeOnTransferToken() public {
        FeeOnTransferToken taxed = new FeeOnTransferToken(50); // 0.5%
        taxed.mint(payer, TOKEN_DEPOSIT);
        vm.prank(payer);
        taxed.approve(address(channels), TOKEN_DEPOSIT);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPayouts.AmountNotReceived.selector, address(taxed), TOKEN_DEPOSIT, TOKEN_DEPOSIT - TOKEN_DEPOSIT / 200
            )
        );
        _open(address(taxed), TOKEN_DEPOSIT, SALT, payer);
        assertEq(taxed.balanceOf(payer), TOKEN_DEPOSIT);
        assertEq(taxed.balanceOf(address(channels)), 0);
    }
}
