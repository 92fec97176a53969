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

/// @notice `views` tests, on the shared fixture.
contract PaymentChannelViewsTest is ChannelFixture {
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

    function test_receive_rejectsPlainEther() public {
        vm.prank(payer);
        (bool ok,) = address(channels).call{value: 1}("");
        assertFalse(ok);
    }
}
