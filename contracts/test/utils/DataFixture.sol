// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {WithdrawalSigner} from "./WithdrawalSigner.sol";
import {DataMarket} from "../../src/DataMarket.sol";
import {MarketToken} from "../../src/MarketToken.sol";
import {IDataMarket} from "../../src/interfaces/IDataMarket.sol";

/// @notice A data market with a one-hour challenge window, an AMT token, a registered seller, and a
/// funded buyer whose browser session key signs the ACKs. ACKs are hashed here from the EIP-712
/// definition, independently of the contract's `ackDigest`, so every test that presents one also checks
/// the encoding.
abstract contract DataFixture is WithdrawalSigner {
    uint64 internal constant WINDOW = 1 hours;
    uint256 internal constant ETH_PRICE = 1 ether;
    uint256 internal constant TOKEN_PRICE = 100 ether;
    uint64 internal constant TOTAL = 10 * 1024 * 1024; // 10 MiB
    uint64 internal constant DURATION = 1 days;
    uint256 internal constant NONCE = 7;
    string internal constant ENDPOINT = "data.example.org:7400";
    string internal constant MENU_URI = "ipfs://bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
    bytes32 internal constant MENU_HASH = keccak256("menu v1");
    bytes32 internal constant COMMENT = keccak256("fast and complete");
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant ACK_TYPEHASH = keccak256("Ack(bytes32 orderId,uint64 received)");
    /// @dev secp256k1's group order: s and n - s are both valid ECDSA `s` values for the same signature.
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    /// @dev Slot of the `_orders` mapping: EIP712's two string fallbacks (0, 1), the Payouts base's `owed`
    /// and `withdrawalNonce` (2, 3), then `_sellers`, `_sellerRatings`, `_buyerRatings` (4-6).
    uint256 internal constant ORDERS_SLOT = 7;

    DataMarket internal market;
    MarketToken internal token;

    address internal buyer;
    uint256 internal buyerKey;
    address internal sessionKey;
    uint256 internal sessionKeyKey;
    address internal seller;
    uint256 internal sellerKey;
    address internal messageSigner = makeAddr("sellerMessageKey");
    address internal stranger;
    uint256 internal strangerKey;

    uint64 internal deadline;
    uint64 internal startedFrom;

    function setUp() public virtual {
        vm.warp(1_750_000_000);
        (buyer, buyerKey) = makeAddrAndKey("buyer");
        (sessionKey, sessionKeyKey) = makeAddrAndKey("sessionKey");
        (seller, sellerKey) = makeAddrAndKey("seller");
        (stranger, strangerKey) = makeAddrAndKey("stranger");
        token = new MarketToken();
        market = new DataMarket(WINDOW);
        deadline = uint64(block.timestamp) + DURATION;
        startedFrom = uint64(block.timestamp);

        vm.prank(seller);
        market.register(ENDPOINT, messageSigner, MENU_HASH, MENU_URI);
        vm.deal(buyer, 100 ether);
        token.mint(buyer, 1_000_000 ether);
        vm.prank(buyer);
        token.approve(address(market), type(uint256).max);
    }

    // ------------------------------------------------------------ opening

    function _openEth() internal returns (bytes32) {
        return _open(address(0), ETH_PRICE, NONCE);
    }

    function _openToken() internal returns (bytes32) {
        return _open(address(token), TOKEN_PRICE, NONCE);
    }

    /// @dev An escrowed order from `buyer` to `seller` for TOTAL bytes until `deadline`, ACKs by the
    /// session key.
    function _open(address asset, uint256 price, uint256 nonce) internal returns (bytes32) {
        vm.prank(buyer);
        return market.openOrder{value: asset == address(0) ? price : 0}(
            seller, asset, price, TOTAL, deadline, startedFrom, nonce, sessionKey, IDataMarket.PaymentMethod.Escrow
        );
    }

    function _openOffChain() internal returns (bytes32) {
        vm.prank(buyer);
        return market.openOrder(
            seller,
            address(0),
            ETH_PRICE,
            TOTAL,
            deadline,
            startedFrom,
            NONCE,
            sessionKey,
            IDataMarket.PaymentMethod.OffChain
        );
    }

    // ------------------------------------------------------------ ACKs

    function _domainSeparator(address verifyingContract) internal view returns (bytes32) {
        return keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("Agora DataMarket"), keccak256("1"), block.chainid, verifyingContract)
        );
    }

    /// @dev The EIP-712 digest of an ACK for `verifyingContract` on the current chain.
    function _digest(address verifyingContract, bytes32 orderId, uint64 received) internal view returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(ACK_TYPEHASH, orderId, received));
        return keccak256(abi.encodePacked("\x19\x01", _domainSeparator(verifyingContract), structHash));
    }

    /// @dev `key`'s 65-byte `r || s || v` signature of an ACK for `market`.
    function _ack(uint256 key, bytes32 orderId, uint64 received) internal view returns (bytes memory) {
        return _signDigest(key, _digest(address(market), orderId, received));
    }

    /// @dev The session key's ACK, as the seller holds it.
    function _ack(bytes32 orderId, uint64 received) internal view returns (bytes memory) {
        return _ack(sessionKeyKey, orderId, received);
    }

    function _signDigest(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev EIP-2098: 65-byte (r, s, v) -> 64-byte r || vs, vs = s with the top bit set when v is 28.
    function _compact(bytes memory signature) internal pure returns (bytes memory) {
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            r := mload(add(signature, 0x20))
            s := mload(add(signature, 0x40))
            v := byte(0, mload(add(signature, 0x60)))
        }
        return abi.encodePacked(r, bytes32(uint256(s) | uint256(v - 27) << 255));
    }

    // ------------------------------------------------------------ ending

    /// @dev The seller ends `orderId` with the session key's ACK for `received`.
    function _endBySeller(bytes32 orderId, uint64 received) internal {
        bytes memory signature = _ack(orderId, received);
        vm.prank(seller);
        market.end(orderId, received, signature);
    }

    /// @dev The buyer ends `orderId`, stating `received`.
    function _endByBuyer(bytes32 orderId, uint64 received) internal {
        vm.prank(buyer);
        market.end(orderId, received, "");
    }

    /// @dev What the seller is paid for `received` of TOTAL bytes at `price`.
    function _share(uint256 price, uint64 received) internal pure returns (uint256) {
        return price * received / TOTAL;
    }

    function _order(bytes32 orderId) internal view returns (IDataMarket.Order memory) {
        return market.getOrder(orderId);
    }

    function _assertState(bytes32 orderId, IDataMarket.OrderState state) internal view {
        assertEq(uint256(market.getOrder(orderId).state), uint256(state), "state");
    }

    function _balance(address account, address asset) internal view returns (uint256) {
        return asset == address(0) ? account.balance : token.balanceOf(account);
    }
}
