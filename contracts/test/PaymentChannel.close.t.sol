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

/// @notice `close` tests, on the shared fixture.
contract PaymentChannelCloseTest is ChannelFixture {
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

    function test_close_defersRefundToRejectingPayer() public {
        Receiver wallet = new Receiver();
        vm.deal(address(wallet), ETH_DEPOSIT);
        bytes32 channelId = _openFrom(address(wallet));
        wallet.setAccepts(false);

        vm.expectEmit(address(channels));
        emit IPaymentChannel.ChannelClosed(channelId, 0.25 ether, 0.75 ether);
        vm.expectEmit(address(channels));
        emit IPayouts.PayoutDeferred(address(wallet), address(0), 0.75 ether);
        _closeFrom(address(wallet), 0.25 ether);

        assertEq(payee.balance, 0.25 ether);
        assertEq(channels.owed(address(wallet), address(0)), 0.75 ether);
        assertEq(address(channels).balance, 0.75 ether);

        // Still rejecting: the withdrawal fails loudly and the credit stays.
        vm.expectRevert(
            abi.encodeWithSelector(IPayouts.TransferFailed.selector, address(wallet), address(0), 0.75 ether)
        );
        vm.prank(address(wallet));
        channels.withdraw(address(0));

        wallet.setAccepts(true);
        vm.expectEmit(address(channels));
        emit IPayouts.Withdrawn(address(wallet), address(0), 0.75 ether);
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
        assertEq(account.returned(), abi.encodeWithSelector(IPayouts.ReentrantCall.selector));
        assertEq(address(account).balance, 0.75 ether);
        assertEq(payee.balance, 0.25 ether);
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
        assertEq(evil.returned(), abi.encodeWithSelector(IPayouts.ReentrantCall.selector));
        assertEq(evil.balanceOf(payee), 40);
        assertEq(evil.balanceOf(payer), 60);
        assertEq(evil.balanceOf(address(channels)), 0);
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
}
