// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {PaymentChannel} from "../src/PaymentChannel.sol";
import {IPaymentChannel} from "../src/interfaces/IPaymentChannel.sol";
import {ChannelFixture} from "./utils/ChannelFixture.sol";
import {FaultyToken, GasBurner, Receiver, ReentrantToken} from "./utils/Mocks.sol";
import {ApproveAll, ReentrantAccount, SmartWallet} from "./utils/ChannelMocks.sol";

contract PaymentChannelTest is ChannelFixture {
    // ------------------------------------------------------------ ids, domain, views

    function test_computeChannelId_matchesFormula() public view {
        bytes32 expected =
            keccak256(abi.encode(payer, payee, address(token), sessionKey, SALT, block.chainid, address(channels)));
        assertEq(channels.computeChannelId(payer, payee, address(token), sessionKey, SALT), expected);
    }

    function test_computeChannelId_commitsToEveryParameter() public view {
        bytes32 base = channels.computeChannelId(payer, payee, address(token), sessionKey, SALT);
        assertNotEq(channels.computeChannelId(stranger, payee, address(token), sessionKey, SALT), base);
        assertNotEq(channels.computeChannelId(payer, stranger, address(token), sessionKey, SALT), base);
        assertNotEq(channels.computeChannelId(payer, payee, address(0), sessionKey, SALT), base);
        assertNotEq(channels.computeChannelId(payer, payee, address(token), payer, SALT), base);
        assertNotEq(channels.computeChannelId(payer, payee, address(token), sessionKey, bytes32(0)), base);
        // Roles are not interchangeable.
        assertNotEq(channels.computeChannelId(payee, payer, address(token), sessionKey, SALT), base);
    }

    function test_eip712Domain_isErc5267() public view {
        (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        ) = channels.eip712Domain();
        assertEq(uint256(uint8(fields)), 0x0f); // name, version, chainId, verifyingContract
        assertEq(name, "Agora PaymentChannel");
        assertEq(version, "1");
        assertEq(chainId, block.chainid);
        assertEq(verifyingContract, address(channels));
        assertEq(salt, bytes32(0));
        assertEq(extensions.length, 0);
    }

    function test_hashVoucher_matchesEip712() public view {
        bytes32 channelId = channels.computeChannelId(payer, payee, address(0), payer, SALT);
        assertEq(channels.VOUCHER_TYPEHASH(), VOUCHER_TYPEHASH);
        assertEq(channels.hashVoucher(channelId, 123), _digest(address(channels), channelId, 123));
    }

    function test_hashVoucher_followsChainId() public {
        bytes32 channelId = channels.computeChannelId(payer, payee, address(0), payer, SALT);
        bytes32 before = channels.hashVoucher(channelId, 1);
        vm.chainId(10);
        assertNotEq(channels.hashVoucher(channelId, 1), before);
        assertEq(channels.hashVoucher(channelId, 1), _digest(address(channels), channelId, 1));
    }

    function test_getChannel_unknownIsZero() public view {
        IPaymentChannel.Channel memory channel = channels.getChannel(keccak256("nothing"));
        assertEq(channel.deposit, 0);
        assertEq(channel.expiry, 0);
        assertTrue(channel.state == IPaymentChannel.ChannelState.None);
    }

    // ------------------------------------------------------------ open

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
        // keeps its name and version fallbacks in slots 0 and 1, so the mapping is slot 2).
        bytes32 slot = keccak256(abi.encode(channelId, uint256(2)));
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
        evil.arm(abi.encodeCall(IPaymentChannel.withdraw, (address(0))));
        bytes32 channelId = _open(address(evil), 10, SALT, payer);

        assertTrue(evil.attempted());
        assertFalse(evil.succeeded());
        assertEq(evil.returned(), abi.encodeWithSelector(IPaymentChannel.ReentrantCall.selector));
        assertEq(channels.getChannel(channelId).deposit, 10);
        assertEq(evil.balanceOf(address(channels)), 10);
    }

    // ------------------------------------------------------------ topUp

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

    // ------------------------------------------------------------ extend

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

    // ------------------------------------------------------------ close

    function test_closeCompact_ethSplitsAndEmits() public {
        bytes32 channelId = _openEth();
        (bytes32 r, bytes32 vs) = _signCompact(payerKey, channelId, 0.3 ether);
        vm.expectEmit(address(channels));
        emit IPaymentChannel.ChannelClosed(channelId, 0.3 ether, 0.7 ether);
        vm.prank(payee);
        channels.closeCompact(payer, address(0), payer, SALT, 0.3 ether, r, vs);

        assertEq(payee.balance, 0.3 ether);
        assertEq(payer.balance, 100 ether - 0.3 ether);
        assertEq(address(channels).balance, 0);
        _assertChannel(channelId, ETH_DEPOSIT, expiry, IPaymentChannel.ChannelState.Closed);
    }

    function test_closeCompact_tokenSplitsAndEmits() public {
        bytes32 channelId = _openToken();
        (bytes32 r, bytes32 vs) = _signCompact(payerKey, channelId, 42 ether);
        vm.expectEmit(address(channels));
        emit IPaymentChannel.ChannelClosed(channelId, 42 ether, 58 ether);
        vm.prank(payee);
        channels.closeCompact(payer, address(token), payer, SALT, 42 ether, r, vs);

        assertEq(token.balanceOf(payee), 42 ether);
        assertEq(token.balanceOf(payer), 1_000_000 ether - 42 ether);
        assertEq(token.balanceOf(address(channels)), 0);
        _assertChannel(channelId, TOKEN_DEPOSIT, expiry, IPaymentChannel.ChannelState.Closed);
    }

    function test_close_tokenSplitsAndEmits() public {
        bytes32 channelId = _openToken();
        bytes memory signature = _sign(payerKey, channelId, 42 ether);
        vm.expectEmit(address(channels));
        emit IPaymentChannel.ChannelClosed(channelId, 42 ether, 58 ether);
        vm.prank(payee);
        channels.close(payer, address(token), payer, SALT, 42 ether, signature);

        assertEq(token.balanceOf(payee), 42 ether);
        assertEq(token.balanceOf(payer), 1_000_000 ether - 42 ether);
        _assertChannel(channelId, TOKEN_DEPOSIT, expiry, IPaymentChannel.ChannelState.Closed);
    }

    function test_closeCompact_acceptsBothParities() public {
        // v = 27 and v = 28 (the top bit of vs) both occur; find a voucher of each and close with it.
        for (uint256 parity; parity < 2; ++parity) {
            bytes32 salt = keccak256(abi.encode(parity));
            bytes32 channelId = _open(address(0), ETH_DEPOSIT, salt, sessionKey);
            uint256 amount = 1 gwei;
            (bytes32 r, bytes32 vs) = _signCompact(sessionKeyKey, channelId, amount);
            while (uint256(vs) >> 255 != parity) {
                ++amount;
                (r, vs) = _signCompact(sessionKeyKey, channelId, amount);
            }
            uint256 before = payee.balance;
            vm.prank(payee);
            channels.closeCompact(payer, address(0), sessionKey, salt, amount, r, vs);
            assertEq(payee.balance - before, amount);
        }
    }

    function test_close_fullDepositLeavesNoRefund() public {
        bytes32 channelId = _openToken();
        vm.expectEmit(address(channels));
        emit IPaymentChannel.ChannelClosed(channelId, TOKEN_DEPOSIT, 0);
        _close(address(token), SALT, payer, payerKey, TOKEN_DEPOSIT);
        assertEq(token.balanceOf(payee), TOKEN_DEPOSIT);
    }

    function test_close_zeroAmountNeedsNoSignatureAndRefundsAll() public {
        bytes32 channelId = _openEth();
        vm.expectEmit(address(channels));
        emit IPaymentChannel.ChannelClosed(channelId, 0, ETH_DEPOSIT);
        vm.prank(payee);
        channels.closeCompact(payer, address(0), payer, SALT, 0, bytes32(0), bytes32(0));
        assertEq(payer.balance, 100 ether);
        assertEq(payee.balance, 0);

        _open(address(0), ETH_DEPOSIT, keccak256("2"), payer);
        vm.prank(payee);
        channels.close(payer, address(0), payer, keccak256("2"), 0, "");
        assertEq(payer.balance, 100 ether);
    }

    function test_close_atLastSecondBeforeExpiry() public {
        _openEth();
        vm.warp(expiry - 1);
        _close(address(0), SALT, payer, payerKey, 0.5 ether);
        assertEq(payee.balance, 0.5 ether);
    }

    function test_close_revertsAtExpiry() public {
        bytes32 channelId = _openEth();
        bytes memory signature = _sign(payerKey, channelId, 0.5 ether);
        (bytes32 r, bytes32 vs) = _compact(signature);
        vm.warp(expiry);
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.ChannelExpired.selector, channelId, expiry, expiry));
        vm.prank(payee);
        channels.closeCompact(payer, address(0), payer, SALT, 0.5 ether, r, vs);

        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.ChannelExpired.selector, channelId, expiry, expiry));
        vm.prank(payee);
        channels.close(payer, address(0), payer, SALT, 0.5 ether, signature);
    }

    function test_close_revertsForVoucherAboveDeposit() public {
        bytes32 channelId = _openEth();
        (bytes32 r, bytes32 vs) = _signCompact(payerKey, channelId, ETH_DEPOSIT + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPaymentChannel.VoucherExceedsDeposit.selector, channelId, ETH_DEPOSIT + 1, ETH_DEPOSIT
            )
        );
        vm.prank(payee);
        channels.closeCompact(payer, address(0), payer, SALT, ETH_DEPOSIT + 1, r, vs);
    }

    function test_close_revertsForVoucherNearUint256Max() public {
        uint256 deposit = type(uint128).max;
        token.mint(payer, deposit);
        bytes32 channelId = _open(address(token), deposit, SALT, payer);
        uint256[3] memory amounts = [uint256(deposit) + 1, type(uint256).max - 1, type(uint256).max];
        for (uint256 i; i < amounts.length; ++i) {
            bytes memory signature = _sign(payerKey, channelId, amounts[i]);
            (bytes32 r, bytes32 vs) = _compact(signature);
            bytes memory expected =
                abi.encodeWithSelector(IPaymentChannel.VoucherExceedsDeposit.selector, channelId, amounts[i], deposit);
            vm.expectRevert(expected);
            vm.prank(payee);
            channels.closeCompact(payer, address(token), payer, SALT, amounts[i], r, vs);
            vm.expectRevert(expected);
            vm.prank(payee);
            channels.close(payer, address(token), payer, SALT, amounts[i], signature);
        }
    }

    function test_close_revertsForMalleatedHighS() public {
        bytes32 channelId = _openEth();
        bytes32 digest = _digest(address(channels), channelId, 0.5 ether);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(payerKey, digest);
        // (r, n - s, v ^ 1) is the same signature mirrored: ecrecover accepts it, the contract must not.
        bytes32 highS = bytes32(SECP256K1_N - uint256(s));
        uint8 flippedV = v == 27 ? 28 : 27;
        assertTrue(ecrecover(digest, flippedV, r, highS) == payer);

        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidSignature.selector, channelId, payer));
        vm.prank(payee);
        channels.close(payer, address(0), payer, SALT, 0.5 ether, abi.encodePacked(r, highS, flippedV));
        // In compact form too (n - s < 2^255, so it fits beside the parity bit).
        bytes32 highVs = bytes32(uint256(highS) | uint256(flippedV - 27) << 255);
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidSignature.selector, channelId, payer));
        vm.prank(payee);
        channels.closeCompact(payer, address(0), payer, SALT, 0.5 ether, r, highVs);

        // The low-s original works.
        vm.prank(payee);
        channels.close(payer, address(0), payer, SALT, 0.5 ether, abi.encodePacked(r, s, v));
        assertEq(payee.balance, 0.5 ether);
    }

    function test_close_revertsForWrongSigner() public {
        bytes32 channelId = _openEth();
        bytes memory signature = _sign(strangerKey, channelId, 0.5 ether);
        (bytes32 r, bytes32 vs) = _compact(signature);
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidSignature.selector, channelId, payer));
        vm.prank(payee);
        channels.closeCompact(payer, address(0), payer, SALT, 0.5 ether, r, vs);

        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidSignature.selector, channelId, payer));
        vm.prank(payee);
        channels.close(payer, address(0), payer, SALT, 0.5 ether, signature);
    }

    function test_close_revertsForVoucherOfAnotherAmount() public {
        bytes32 channelId = _openEth();
        (bytes32 r, bytes32 vs) = _signCompact(payerKey, channelId, 0.5 ether);
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidSignature.selector, channelId, payer));
        vm.prank(payee);
        channels.closeCompact(payer, address(0), payer, SALT, 0.6 ether, r, vs);
    }

    function test_closeCompact_revertsForZeroR() public {
        bytes32 channelId = _openEth();
        (, bytes32 vs) = _signCompact(payerKey, channelId, 0.5 ether);
        // r = 0 is no point on the curve: ecrecover yields nothing (OpenZeppelin's "zero address").
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidSignature.selector, channelId, payer));
        vm.prank(payee);
        channels.closeCompact(payer, address(0), payer, SALT, 0.5 ether, bytes32(0), vs);
    }

    function test_close_revertsForMalformedSignatures() public {
        bytes32 channelId = _openEth();
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(payerKey, _digest(address(channels), channelId, 0.5 ether));
        bytes[6] memory signatures = [
            bytes(""),
            abi.encodePacked(r, s), // 64 bytes: compact signatures go through `closeCompact`
            abi.encodePacked(r, s, v - 27), // v must be 27 or 28
            abi.encodePacked(r, s, v, uint8(0)), // 66 bytes
            abi.encodePacked(bytes32(0), s, v), // r = 0: ecrecover yields the zero address
            abi.encodePacked(r, bytes32(0), v) // s = 0
        ];
        for (uint256 i; i < signatures.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidSignature.selector, channelId, payer));
            vm.prank(payee);
            channels.close(payer, address(0), payer, SALT, 0.5 ether, signatures[i]);
        }
    }

    function test_close_sessionKeySigner() public {
        bytes32 channelId = _open(address(token), TOKEN_DEPOSIT, SALT, sessionKey);
        // The payer's own key is not the channel's signer...
        (bytes32 r, bytes32 vs) = _signCompact(payerKey, channelId, 10 ether);
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidSignature.selector, channelId, sessionKey));
        vm.prank(payee);
        channels.closeCompact(payer, address(token), sessionKey, SALT, 10 ether, r, vs);
        // ...the session key is.
        _close(address(token), SALT, sessionKey, sessionKeyKey, 10 ether);
        assertEq(token.balanceOf(payee), 10 ether);
        _assertChannel(channelId, TOKEN_DEPOSIT, expiry, IPaymentChannel.ChannelState.Closed);
    }

    function test_close_revertsForNonPayee() public {
        bytes32 channelId = _openEth();
        (bytes32 r, bytes32 vs) = _signCompact(payerKey, channelId, 0.5 ether);
        bytes32 strangersId = channels.computeChannelId(payer, stranger, address(0), payer, SALT);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPaymentChannel.ChannelNotOpen.selector, strangersId, IPaymentChannel.ChannelState.None
            )
        );
        vm.prank(stranger);
        channels.closeCompact(payer, address(0), payer, SALT, 0.5 ether, r, vs);

        // Nor can the payer close its own channel early.
        bytes32 payerAsPayee = channels.computeChannelId(payer, payer, address(0), payer, SALT);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPaymentChannel.ChannelNotOpen.selector, payerAsPayee, IPaymentChannel.ChannelState.None
            )
        );
        vm.prank(payer);
        channels.close(payer, address(0), payer, SALT, 0, "");
    }

    function test_close_twiceReverts() public {
        bytes32 channelId = _openEth();
        bytes memory signature = _sign(payerKey, channelId, 0.5 ether);
        (bytes32 r, bytes32 vs) = _compact(signature);
        vm.prank(payee);
        channels.closeCompact(payer, address(0), payer, SALT, 0.5 ether, r, vs);
        bytes memory closed = abi.encodeWithSelector(
            IPaymentChannel.ChannelNotOpen.selector, channelId, IPaymentChannel.ChannelState.Closed
        );
        vm.expectRevert(closed);
        vm.prank(payee);
        channels.closeCompact(payer, address(0), payer, SALT, 0.5 ether, r, vs);
        vm.expectRevert(closed);
        vm.prank(payee);
        channels.close(payer, address(0), payer, SALT, 0.5 ether, signature);
        assertEq(payee.balance, 0.5 ether);
    }

    function test_close_revertsAfterReclaim() public {
        bytes32 channelId = _openEth();
        (bytes32 r, bytes32 vs) = _signCompact(payerKey, channelId, 0.5 ether);
        vm.warp(expiry);
        vm.prank(payer);
        channels.reclaim(payee, address(0), payer, SALT);
        vm.warp(expiry - 1); // even if the clock could go back
        vm.expectRevert(
            abi.encodeWithSelector(
                IPaymentChannel.ChannelNotOpen.selector, channelId, IPaymentChannel.ChannelState.Reclaimed
            )
        );
        vm.prank(payee);
        channels.closeCompact(payer, address(0), payer, SALT, 0.5 ether, r, vs);
    }

    // ------------------------------------------------------------ replay

    function test_close_rejectsVoucherFromAnotherChain() public {
        // The same parties, contract address and salt on two chains (a deployment at the same address).
        bytes32 idHere = _openEth();
        (bytes32 r, bytes32 vs) = _signCompact(payerKey, idHere, 0.5 ether);
        vm.chainId(8453);
        bytes32 idThere = _openEth();
        assertNotEq(idThere, idHere);

        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidSignature.selector, idThere, payer));
        vm.prank(payee);
        channels.closeCompact(payer, address(0), payer, SALT, 0.5 ether, r, vs);

        // A voucher signed for that chain's channel does work there.
        _close(address(0), SALT, payer, payerKey, 0.5 ether);
        assertEq(payee.balance, 0.5 ether);
    }

    function test_close_rejectsVoucherSignedForThisIdUnderAnotherChainsDomain() public {
        // Same channel id, but the domain's chain id differs: the digest differs too.
        bytes32 channelId = _openEth();
        uint256 home = block.chainid;
        vm.chainId(8453);
        (bytes32 r, bytes32 vs) = _signCompact(payerKey, channelId, 0.5 ether);
        vm.chainId(home);
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidSignature.selector, channelId, payer));
        vm.prank(payee);
        channels.closeCompact(payer, address(0), payer, SALT, 0.5 ether, r, vs);
    }

    function test_close_rejectsVoucherFromAnotherDeployment() public {
        PaymentChannel other = new PaymentChannel();
        vm.prank(payer);
        bytes32 otherId = other.open{value: ETH_DEPOSIT}(payee, address(0), ETH_DEPOSIT, expiry, SALT, payer);
        (bytes32 r, bytes32 vs) = _compact(_signDigest(payerKey, _digest(address(other), otherId, 0.5 ether)));
        bytes32 channelId = _openEth();
        assertNotEq(channelId, otherId);

        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidSignature.selector, channelId, payer));
        vm.prank(payee);
        channels.closeCompact(payer, address(0), payer, SALT, 0.5 ether, r, vs);

        // Even a voucher naming this id, signed for the other contract's domain, is refused here.
        (bytes32 r2, bytes32 vs2) = _compact(_signDigest(payerKey, _digest(address(other), channelId, 0.5 ether)));
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidSignature.selector, channelId, payer));
        vm.prank(payee);
        channels.closeCompact(payer, address(0), payer, SALT, 0.5 ether, r2, vs2);

        // The voucher is good where it was signed.
        vm.prank(payee);
        other.closeCompact(payer, address(0), payer, SALT, 0.5 ether, r, vs);
        assertEq(payee.balance, 0.5 ether);
    }

    function test_close_rejectsOldVoucherAfterReopenWithNewSalt() public {
        bytes32 first = _openEth();
        (bytes32 r, bytes32 vs) = _signCompact(payerKey, first, 0.9 ether);
        _close(address(0), SALT, payer, payerKey, 0.1 ether); // settled with an earlier voucher

        bytes32 salt2 = keccak256("chat session 2");
        bytes32 second = _open(address(0), ETH_DEPOSIT, salt2, payer);
        assertNotEq(second, first);
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidSignature.selector, second, payer));
        vm.prank(payee);
        channels.closeCompact(payer, address(0), payer, salt2, 0.9 ether, r, vs);

        // And the old channel stays closed for its old voucher.
        vm.expectRevert(
            abi.encodeWithSelector(IPaymentChannel.ChannelNotOpen.selector, first, IPaymentChannel.ChannelState.Closed)
        );
        vm.prank(payee);
        channels.closeCompact(payer, address(0), payer, SALT, 0.9 ether, r, vs);
    }

    // ------------------------------------------------------------ ERC-1271

    function test_close_erc1271SessionSigner() public {
        SmartWallet wallet = new SmartWallet(sessionKey);
        bytes32 channelId = _open(address(0), ETH_DEPOSIT, SALT, address(wallet));
        bytes memory signature = _sign(sessionKeyKey, channelId, 0.4 ether);
        vm.prank(payee);
        channels.close(payer, address(0), address(wallet), SALT, 0.4 ether, signature);
        assertEq(payee.balance, 0.4 ether);
        assertEq(payer.balance, 100 ether - 0.4 ether);
    }

    function test_closeCompact_doesNotAskContractSigners() public {
        SmartWallet wallet = new SmartWallet(sessionKey);
        bytes32 channelId = _open(address(0), ETH_DEPOSIT, SALT, address(wallet));
        (bytes32 r, bytes32 vs) = _signCompact(sessionKeyKey, channelId, 0.4 ether);
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidSignature.selector, channelId, address(wallet)));
        vm.prank(payee);
        channels.closeCompact(payer, address(0), address(wallet), SALT, 0.4 ether, r, vs);
    }

    function test_close_erc1271WalletAsPayerAndSigner() public {
        SmartWallet wallet = new SmartWallet(payer);
        vm.deal(address(wallet), 2 ether);
        vm.prank(payer);
        bytes memory ret = wallet.exec(
            address(channels),
            ETH_DEPOSIT,
            abi.encodeCall(IPaymentChannel.open, (payee, address(0), ETH_DEPOSIT, expiry, SALT, address(wallet)))
        );
        bytes32 channelId = abi.decode(ret, (bytes32));
        assertEq(channelId, channels.computeChannelId(address(wallet), payee, address(0), address(wallet), SALT));

        // The wallet's owner key signs; the wallet approves that through ERC-1271.
        bytes memory signature = _sign(payerKey, channelId, 0.4 ether);
        vm.prank(payee);
        channels.close(address(wallet), address(0), address(wallet), SALT, 0.4 ether, signature);
        assertEq(payee.balance, 0.4 ether);
        assertEq(address(wallet).balance, 2 ether - 0.4 ether);
    }

    function test_close_revertsForRevokedErc1271Signer() public {
        SmartWallet wallet = new SmartWallet(sessionKey);
        bytes32 channelId = _open(address(0), ETH_DEPOSIT, SALT, address(wallet));
        bytes memory signature = _sign(sessionKeyKey, channelId, 0.4 ether);
        vm.prank(sessionKey);
        wallet.setRevoked(true);
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidSignature.selector, channelId, address(wallet)));
        vm.prank(payee);
        channels.close(payer, address(0), address(wallet), SALT, 0.4 ether, signature);
    }

    function test_close_contractSignerDecidesAlone() public {
        // A signer contract that approves anything lets the payee take the deposit with any bytes:
        // the payer chose it. ECDSA rules (low s, 65 bytes) are for keys, not for contracts.
        ApproveAll lax = new ApproveAll();
        _open(address(0), ETH_DEPOSIT, SALT, address(lax));
        vm.prank(payee);
        channels.close(payer, address(0), address(lax), SALT, ETH_DEPOSIT, hex"00");
        assertEq(payee.balance, ETH_DEPOSIT);
    }

    // ------------------------------------------------------------ reclaim

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

    // ------------------------------------------------------------ hostile receivers and tokens

    function test_close_defersRefundToRejectingPayer() public {
        Receiver wallet = new Receiver();
        vm.deal(address(wallet), ETH_DEPOSIT);
        bytes32 channelId = _openFrom(address(wallet));
        wallet.setAccepts(false);

        vm.expectEmit(address(channels));
        emit IPaymentChannel.ChannelClosed(channelId, 0.25 ether, 0.75 ether);
        vm.expectEmit(address(channels));
        emit IPaymentChannel.PayoutDeferred(address(wallet), address(0), 0.75 ether);
        _closeFrom(address(wallet), 0.25 ether);

        assertEq(payee.balance, 0.25 ether);
        assertEq(channels.owed(address(wallet), address(0)), 0.75 ether);
        assertEq(address(channels).balance, 0.75 ether);

        // Still rejecting: the withdrawal fails loudly and the credit stays.
        vm.expectRevert(
            abi.encodeWithSelector(IPaymentChannel.TransferFailed.selector, address(wallet), address(0), 0.75 ether)
        );
        vm.prank(address(wallet));
        channels.withdraw(address(0));

        wallet.setAccepts(true);
        vm.expectEmit(address(channels));
        emit IPaymentChannel.Withdrawn(address(wallet), address(0), 0.75 ether);
        vm.prank(address(wallet));
        channels.withdraw(address(0));
        assertEq(address(wallet).balance, 0.75 ether);
        assertEq(channels.owed(address(wallet), address(0)), 0);
        assertEq(address(channels).balance, 0);
    }

    function test_close_defersRefundToGasBurningPayer() public {
        GasBurner burner = new GasBurner();
        vm.deal(address(burner), ETH_DEPOSIT);
        _openFrom(address(burner));
        _closeFrom(address(burner), 0.25 ether);
        assertEq(payee.balance, 0.25 ether);
        assertEq(channels.owed(address(burner), address(0)), 0.75 ether);
    }

    function test_close_defersPayToRejectingPayee() public {
        Receiver rejecting = new Receiver();
        rejecting.setAccepts(false);
        payee = address(rejecting);
        _openEth();
        _close(address(0), SALT, payer, payerKey, 0.25 ether);
        assertEq(channels.owed(payee, address(0)), 0.25 ether);
        assertEq(payer.balance, 100 ether - 0.25 ether);
    }

    function test_close_defersWhenTokenTransferFails() public {
        FaultyToken faulty = new FaultyToken();
        faulty.mint(payer, 100);
        vm.prank(payer);
        faulty.approve(address(channels), 170);
        _open(address(faulty), 100, SALT, payer);
        faulty.setBlocked(payee, true);

        _close(address(faulty), SALT, payer, payerKey, 30);
        assertEq(channels.owed(payee, address(faulty)), 30);
        assertEq(faulty.balanceOf(payer), 70);

        faulty.setMode(FaultyToken.Mode.ReturnFalse);
        faulty.setBlocked(payer, true);
        _open(address(faulty), 70, keccak256("2"), payer);
        vm.warp(expiry);
        vm.prank(payer);
        channels.reclaim(payee, address(faulty), payer, keccak256("2"));
        assertEq(channels.owed(payer, address(faulty)), 70);
        assertEq(faulty.balanceOf(address(channels)), 100);

        faulty.setBlocked(payer, false);
        vm.prank(payer);
        channels.withdraw(address(faulty));
        assertEq(faulty.balanceOf(payer), 70);
    }

    function test_close_blocksReentryFromReceiver() public {
        ReentrantAccount account = new ReentrantAccount();
        vm.deal(address(account), ETH_DEPOSIT);
        bytes32 channelId = _openFrom(address(account));
        (bytes32 r, bytes32 vs) = _signCompact(payerKey, channelId, 0.25 ether);
        // When refunded, the payer tries to open another channel with the refund: harmless in itself,
        // but no entry point is open while a payout runs.
        account.arm(
            address(channels),
            abi.encodeCall(IPaymentChannel.open, (payee, address(0), 0.1 ether, expiry, keccak256("again"), payer)),
            0.1 ether
        );
        vm.prank(payee);
        channels.closeCompact(address(account), address(0), payer, SALT, 0.25 ether, r, vs);

        assertTrue(account.attempted());
        assertFalse(account.succeeded());
        assertEq(account.returned(), abi.encodeWithSelector(IPaymentChannel.ReentrantCall.selector));
        assertEq(address(account).balance, 0.75 ether);
        assertEq(payee.balance, 0.25 ether);
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
        assertEq(account.returned(), abi.encodeWithSelector(IPaymentChannel.ReentrantCall.selector));
        assertEq(address(account).balance, ETH_DEPOSIT);
        assertEq(address(channels).balance, 0);
    }

    function test_close_blocksReentryFromToken() public {
        ReentrantToken evil = new ReentrantToken(address(channels));
        evil.mint(payer, 100);
        vm.prank(payer);
        evil.approve(address(channels), 100);
        bytes32 channelId = _open(address(evil), 100, SALT, payer);
        (bytes32 r, bytes32 vs) = _signCompact(payerKey, channelId, 40);
        // During the payout the token calls back into the contract: the lock refuses before anything
        // else is looked at.
        evil.arm(abi.encodeCall(IPaymentChannel.closeCompact, (payer, address(evil), payer, SALT, 40, r, vs)));
        vm.prank(payee);
        channels.closeCompact(payer, address(evil), payer, SALT, 40, r, vs);

        assertTrue(evil.attempted());
        assertFalse(evil.succeeded());
        assertEq(evil.returned(), abi.encodeWithSelector(IPaymentChannel.ReentrantCall.selector));
        assertEq(evil.balanceOf(payee), 40);
        assertEq(evil.balanceOf(payer), 60);
        assertEq(evil.balanceOf(address(channels)), 0);
    }

    // ------------------------------------------------------------ withdraw

    function test_withdraw_revertsWhenNothingOwed() public {
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.NothingToWithdraw.selector, stranger, address(token)));
        vm.prank(stranger);
        channels.withdraw(address(token));
    }

    function test_receive_rejectsPlainEther() public {
        vm.prank(payer);
        (bool ok,) = address(channels).call{value: 1}("");
        assertFalse(ok);
    }

    // ------------------------------------------------------------ fuzz

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

    function testFuzz_close_splitsDepositExactly(uint128 deposit, uint256 cumulativeAmount) public {
        deposit = uint128(bound(deposit, 1, 100 ether));
        cumulativeAmount = bound(cumulativeAmount, 0, deposit);
        bytes32 channelId = _open(address(0), deposit, SALT, sessionKey);
        uint256 payerBefore = payer.balance;

        vm.expectEmit(address(channels));
        emit IPaymentChannel.ChannelClosed(channelId, cumulativeAmount, deposit - cumulativeAmount);
        _close(address(0), SALT, sessionKey, sessionKeyKey, cumulativeAmount);

        assertEq(payee.balance, cumulativeAmount);
        assertEq(payer.balance - payerBefore, deposit - cumulativeAmount);
        assertEq(address(channels).balance, 0);
    }

    function testFuzz_close_revertsAboveDeposit(uint128 deposit, uint256 cumulativeAmount) public {
        deposit = uint128(bound(deposit, 1, type(uint128).max));
        cumulativeAmount = bound(cumulativeAmount, uint256(deposit) + 1, type(uint256).max);
        token.mint(payer, deposit);
        bytes32 channelId = _open(address(token), deposit, SALT, payer);
        (bytes32 r, bytes32 vs) = _signCompact(payerKey, channelId, cumulativeAmount);
        vm.expectRevert(
            abi.encodeWithSelector(IPaymentChannel.VoucherExceedsDeposit.selector, channelId, cumulativeAmount, deposit)
        );
        vm.prank(payee);
        channels.closeCompact(payer, address(token), payer, SALT, cumulativeAmount, r, vs);
    }

    function testFuzz_close_rejectsOtherKeys(uint256 key) public {
        key = bound(key, 1, SECP256K1_N - 1);
        vm.assume(key != payerKey);
        bytes32 channelId = _openEth();
        bytes memory signature = _sign(key, channelId, 1);
        (bytes32 r, bytes32 vs) = _compact(signature);
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidSignature.selector, channelId, payer));
        vm.prank(payee);
        channels.closeCompact(payer, address(0), payer, SALT, 1, r, vs);
        vm.expectRevert(abi.encodeWithSelector(IPaymentChannel.InvalidSignature.selector, channelId, payer));
        vm.prank(payee);
        channels.close(payer, address(0), payer, SALT, 1, signature);
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

    // ------------------------------------------------------------ helpers

    function _assertChannel(bytes32 channelId, uint256 deposit, uint64 expiry_, IPaymentChannel.ChannelState state)
        internal
        view
    {
        IPaymentChannel.Channel memory channel = channels.getChannel(channelId);
        assertEq(channel.deposit, deposit, "deposit");
        assertEq(channel.expiry, expiry_, "expiry");
        assertEq(uint256(channel.state), uint256(state), "state");
    }

    /// @dev Opens an ETH channel from the contract account `from` (signer: the `payer` key).
    function _openFrom(address from) internal returns (bytes32) {
        vm.prank(from);
        return channels.open{value: ETH_DEPOSIT}(payee, address(0), ETH_DEPOSIT, expiry, SALT, payer);
    }

    function _closeFrom(address from, uint256 cumulativeAmount) internal {
        bytes32 channelId = channels.computeChannelId(from, payee, address(0), payer, SALT);
        (bytes32 r, bytes32 vs) = _signCompact(payerKey, channelId, cumulativeAmount);
        vm.prank(payee);
        channels.closeCompact(from, address(0), payer, SALT, cumulativeAmount, r, vs);
    }
}
