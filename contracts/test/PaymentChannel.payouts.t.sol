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

/// @notice `payouts` tests, on the shared fixture.
contract PaymentChannelPayoutsTest is ChannelFixture {
    function test_withdraw_revertsWhenNothingOwed() public {
        vm.expectRevert(abi.encodeWithSelector(IPayouts.NothingToWithdraw.selector, stranger, address(token)));
        vm.prank(stranger);
        channels.withdraw(address(token));
    }

    // Flaw 5: a payee a token blocks could never take its share; it now signs for another address.

    function test_withdrawTo_blockedPayeeSignsForAnotherAddress() public {
        (address blockedPayee, uint256 key) = makeAddrAndKey("blockedPayee");
        FaultyToken faulty = new FaultyToken();
        faulty.mint(payer, 1_000);
        vm.startPrank(payer);
        faulty.approve(address(channels), 1_000);
        bytes32 channelId = channels.open(blockedPayee, address(faulty), 1_000, expiry, SALT, payer);
        vm.stopPrank();
        faulty.setBlocked(blockedPayee, true);
        (bytes32 r, bytes32 vs) = _signCompact(payerKey, channelId, 600);
        vm.prank(blockedPayee);
        channels.closeCompact(payer, address(faulty), payer, SALT, 600, r, vs);
        assertEq(channels.owed(blockedPayee, address(faulty)), 600);

        address to = makeAddr("payeeColdWallet");
        bytes memory signature = _signWithdrawalFor(
            address(channels), "Agora PaymentChannel", key, blockedPayee, address(faulty), to, 0, block.timestamp
        );
        vm.prank(stranger);
        channels.withdrawTo(blockedPayee, address(faulty), to, block.timestamp, signature);
        assertEq(faulty.balanceOf(to), 600);
        assertEq(faulty.balanceOf(payer), 400);
        assertEq(faulty.balanceOf(address(channels)), 0);
        assertEq(channels.owed(blockedPayee, address(faulty)), 0);
    }
}
