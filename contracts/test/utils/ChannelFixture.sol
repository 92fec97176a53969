// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {WithdrawalSigner} from "./WithdrawalSigner.sol";
import {PaymentChannel} from "../../src/PaymentChannel.sol";
import {MarketToken} from "../../src/MarketToken.sol";
import {IPaymentChannel} from "../../src/interfaces/IPaymentChannel.sol";

/// @notice A channel contract, an AMT token, a funded payer (who signs with its own key or a browser
/// session key) and a payee (the AI service). Vouchers are hashed here from the EIP-712 definition,
/// independently of the contract's `hashVoucher`, so every `close` test also checks the encoding.
abstract contract ChannelFixture is WithdrawalSigner {
    uint256 internal constant ETH_DEPOSIT = 1 ether;
    uint256 internal constant TOKEN_DEPOSIT = 100 ether;
    uint64 internal constant DURATION = 1 days;
    bytes32 internal constant SALT = keccak256("chat session 1");
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant VOUCHER_TYPEHASH = keccak256("Voucher(bytes32 channelId,uint256 cumulativeAmount)");
    /// @dev secp256k1's group order: s and n - s are both valid ECDSA `s` values for the same signature.
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    PaymentChannel internal channels;
    MarketToken internal token;

    address internal payer;
    uint256 internal payerKey;
    address internal sessionKey;
    uint256 internal sessionKeyKey;
    address internal payee = makeAddr("payee");
    address internal stranger;
    uint256 internal strangerKey;

    uint64 internal expiry;

    function setUp() public virtual {
        vm.warp(1_750_000_000);
        (payer, payerKey) = makeAddrAndKey("payer");
        (sessionKey, sessionKeyKey) = makeAddrAndKey("sessionKey");
        (stranger, strangerKey) = makeAddrAndKey("stranger");
        token = new MarketToken();
        channels = new PaymentChannel();
        expiry = uint64(block.timestamp) + DURATION;

        vm.deal(payer, 100 ether);
        token.mint(payer, 1_000_000 ether);
        vm.prank(payer);
        token.approve(address(channels), type(uint256).max);
    }

    // ------------------------------------------------------------ opening

    function _openEth() internal returns (bytes32) {
        return _open(address(0), ETH_DEPOSIT, SALT, payer);
    }

    function _openToken() internal returns (bytes32) {
        return _open(address(token), TOKEN_DEPOSIT, SALT, payer);
    }

    /// @dev Opens from `payer` to `payee` until `expiry`.
    function _open(address asset, uint256 amount, bytes32 salt, address signer) internal returns (bytes32) {
        vm.prank(payer);
        return channels.open{value: asset == address(0) ? amount : 0}(payee, asset, amount, expiry, salt, signer);
    }

    // ------------------------------------------------------------ vouchers

    function _domainSeparator(address verifyingContract) internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                DOMAIN_TYPEHASH, keccak256("Agora PaymentChannel"), keccak256("1"), block.chainid, verifyingContract
            )
        );
    }

    /// @dev The EIP-712 digest of a voucher for `verifyingContract` on the current chain.
    function _digest(address verifyingContract, bytes32 channelId, uint256 cumulativeAmount)
        internal
        view
        returns (bytes32)
    {
        bytes32 structHash = keccak256(abi.encode(VOUCHER_TYPEHASH, channelId, cumulativeAmount));
        return keccak256(abi.encodePacked("\x19\x01", _domainSeparator(verifyingContract), structHash));
    }

    /// @dev `key`'s 65-byte `r || s || v` signature of a voucher for `channels`.
    function _sign(uint256 key, bytes32 channelId, uint256 cumulativeAmount) internal view returns (bytes memory) {
        return _signDigest(key, _digest(address(channels), channelId, cumulativeAmount));
    }

    function _signDigest(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev `key`'s signature of a voucher for `channels` in EIP-2098 compact form, as `close` takes it.
    function _signCompact(uint256 key, bytes32 channelId, uint256 cumulativeAmount)
        internal
        view
        returns (bytes32 r, bytes32 vs)
    {
        return _compact(_sign(key, channelId, cumulativeAmount));
    }

    /// @dev EIP-2098: (r, s, v) -> (r, vs), vs = s with the top bit set when v is 28.
    function _compact(bytes memory signature) internal pure returns (bytes32 r, bytes32 vs) {
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            r := mload(add(signature, 0x20))
            s := mload(add(signature, 0x40))
            v := byte(0, mload(add(signature, 0x60)))
        }
        vs = bytes32(uint256(s) | uint256(v - 27) << 255);
    }

    /// @dev The payee closes the `payer` channel signed by `signer`, with `key`'s compact voucher.
    function _close(address asset, bytes32 salt, address signer, uint256 key, uint256 cumulativeAmount) internal {
        bytes32 channelId = channels.computeChannelId(payer, payee, asset, signer, salt);
        (bytes32 r, bytes32 vs) = _signCompact(key, channelId, cumulativeAmount);
        vm.prank(payee);
        channels.closeCompact(payer, asset, signer, salt, cumulativeAmount, r, vs);
    }

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
