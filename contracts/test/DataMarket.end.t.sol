// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DataMarket} from "../src/DataMarket.sol";
import {IDataMarket} from "../src/interfaces/IDataMarket.sol";
import {DataFixture} from "./utils/DataFixture.sol";
import {Vm} from "./utils/Test.sol";
import {ApproveAll, SmartWallet} from "./utils/ChannelMocks.sol";

/// @notice `end` tests: who may end, with what proof, until when, and the settlement at once on a full
/// ACK.
contract DataMarketEndTest is DataFixture {
    uint64 internal constant HALF = TOTAL / 2;

    function test_end_bySellerRecordsAckBringsDeadlineForwardAndEmits() public {
        bytes32 orderId = _openToken();
        vm.warp(block.timestamp + 600);
        bytes memory signature = _ack(orderId, HALF);
        vm.expectEmit(address(market));
        emit IDataMarket.OrderEnded(orderId, seller, HALF, uint64(block.timestamp) + WINDOW);
        vm.prank(seller);
        market.end(orderId, HALF, signature);

        IDataMarket.Order memory o = _order(orderId);
        assertEq(uint256(o.state), uint256(IDataMarket.OrderState.Ending));
        assertEq(o.received, HALF);
        assertEq(o.deadline, block.timestamp);
        assertEq(token.balanceOf(address(market)), TOKEN_PRICE, "nothing paid before the window");
    }

    function test_end_byBuyerStatesFigureWithoutSignature() public {
        bytes32 orderId = _openEth();
        vm.expectEmit(address(market));
        emit IDataMarket.OrderEnded(orderId, buyer, 1234, uint64(block.timestamp) + WINDOW);
        _endByBuyer(orderId, 1234);
        assertEq(_order(orderId).received, 1234);
        _assertState(orderId, IDataMarket.OrderState.Ending);
    }

    function test_end_buyersSignatureIsIgnored() public {
        bytes32 orderId = _openEth();
        vm.prank(buyer);
        market.end(orderId, 99, hex"deadbeef");
        assertEq(_order(orderId).received, 99);
    }

    function test_end_bySellerWithZeroNeedsNoSignature() public {
        bytes32 orderId = _openEth();
        vm.prank(seller);
        market.end(orderId, 0, "");
        _assertState(orderId, IDataMarket.OrderState.Ending);
        assertEq(_order(orderId).received, 0);
    }

    function test_end_fullAckBySellerSettlesAtOnce() public {
        bytes32 orderId = _openToken();
        bytes memory signature = _ack(orderId, TOTAL);
        vm.recordLogs();
        vm.prank(seller);
        market.end(orderId, TOTAL, signature);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        // OrderSettled alone, then the seller's Transfer (nothing is refunded): no OrderEnded.
        assertEq(logs.length, 2);
        assertEq(logs[0].topics[0], IDataMarket.OrderSettled.selector);
        assertEq(logs[0].topics[1], orderId);
        assertEq(logs[0].data, abi.encode(TOTAL, TOKEN_PRICE, uint256(0)));

        _assertState(orderId, IDataMarket.OrderState.Settled);
        assertEq(_order(orderId).received, TOTAL);
        assertEq(token.balanceOf(seller), TOKEN_PRICE);
        assertEq(token.balanceOf(address(market)), 0);
    }

    function test_end_fullFigureByBuyerSettlesAtOnce() public {
        bytes32 orderId = _openEth();
        uint256 sellerBefore = seller.balance;
        _endByBuyer(orderId, TOTAL);
        _assertState(orderId, IDataMarket.OrderState.Settled);
        assertEq(seller.balance - sellerBefore, ETH_PRICE);
        assertEq(address(market).balance, 0);
    }

    function test_end_acceptsCompactSignature() public {
        bytes32 orderId = _openToken();
        bytes memory compact = _compact(_ack(orderId, HALF));
        assertEq(compact.length, 64);
        vm.prank(seller);
        market.end(orderId, HALF, compact);
        assertEq(_order(orderId).received, HALF);
    }

    function test_end_buyerAsAckSigner() public {
        vm.prank(buyer);
        bytes32 orderId = market.openOrder{value: ETH_PRICE}(
            seller, address(0), ETH_PRICE, TOTAL, deadline, startedFrom, NONCE, buyer, IDataMarket.PaymentMethod.Escrow
        );
        bytes memory signature = _ack(buyerKey, orderId, HALF);
        vm.prank(seller);
        market.end(orderId, HALF, signature);
        assertEq(_order(orderId).received, HALF);
    }

    function test_end_contractAckSignerApprovesThroughErc1271() public {
        (address owner, uint256 ownerKey) = makeAddrAndKey("walletOwner");
        SmartWallet wallet = new SmartWallet(owner);
        vm.prank(buyer);
        bytes32 orderId = market.openOrder{value: ETH_PRICE}(
            seller,
            address(0),
            ETH_PRICE,
            TOTAL,
            deadline,
            startedFrom,
            NONCE,
            address(wallet),
            IDataMarket.PaymentMethod.Escrow
        );
        bytes memory signature = _ack(ownerKey, orderId, HALF);

        vm.prank(owner);
        wallet.setRevoked(true);
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidAckSignature.selector, orderId, address(wallet)));
        vm.prank(seller);
        market.end(orderId, HALF, signature);

        vm.prank(owner);
        wallet.setRevoked(false);
        vm.prank(seller);
        market.end(orderId, HALF, signature);
        assertEq(_order(orderId).received, HALF);
    }

    function test_end_contractAckSignerDecidesAlone() public {
        // A careless buyer picks a contract that approves everything: then any figure passes. The
        // ERC-1271 path is the signer's to decide; the ECDSA rules do not apply to it.
        ApproveAll careless = new ApproveAll();
        vm.prank(buyer);
        bytes32 orderId = market.openOrder{value: ETH_PRICE}(
            seller,
            address(0),
            ETH_PRICE,
            TOTAL,
            deadline,
            startedFrom,
            NONCE,
            address(careless),
            IDataMarket.PaymentMethod.Escrow
        );
        vm.prank(seller);
        market.end(orderId, HALF, "anything");
        assertEq(_order(orderId).received, HALF);
    }

    function test_end_revertsForUnknownOrder() public {
        bytes32 orderId = keccak256("no such order");
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.OrderNotOpen.selector, orderId, IDataMarket.OrderState.None));
        vm.prank(buyer);
        market.end(orderId, 0, "");
    }

    function test_end_revertsWhenAlreadyEnded() public {
        bytes32 orderId = _openEth();
        _endByBuyer(orderId, 10);
        vm.expectRevert(
            abi.encodeWithSelector(IDataMarket.OrderNotOpen.selector, orderId, IDataMarket.OrderState.Ending)
        );
        _endBySeller(orderId, 20);
    }

    function test_end_revertsWhenSettled() public {
        bytes32 orderId = _openEth();
        _endBySeller(orderId, TOTAL);
        vm.expectRevert(
            abi.encodeWithSelector(IDataMarket.OrderNotOpen.selector, orderId, IDataMarket.OrderState.Settled)
        );
        _endByBuyer(orderId, 0);
    }

    function test_end_revertsForOffChainOrder() public {
        bytes32 orderId = _openOffChain();
        vm.expectRevert(
            abi.encodeWithSelector(IDataMarket.WrongPaymentMethod.selector, orderId, IDataMarket.PaymentMethod.OffChain)
        );
        _endBySeller(orderId, HALF);
    }

    function test_end_revertsForStranger() public {
        bytes32 orderId = _openEth();
        bytes memory signature = _ack(orderId, HALF);
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.NotOrderParty.selector, orderId, stranger));
        vm.prank(stranger);
        market.end(orderId, HALF, signature);
        // Nor may the ackSigner itself act as the buyer.
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.NotOrderParty.selector, orderId, sessionKey));
        vm.prank(sessionKey);
        market.end(orderId, 0, "");
    }

    function test_end_revertsForFigureAboveTotal() public {
        bytes32 orderId = _openEth();
        bytes memory signature = _ack(orderId, TOTAL + 1);
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.AckExceedsTotal.selector, orderId, TOTAL + 1, TOTAL));
        vm.prank(seller);
        market.end(orderId, TOTAL + 1, signature);
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.AckExceedsTotal.selector, orderId, TOTAL + 1, TOTAL));
        _endByBuyer(orderId, TOTAL + 1);
    }

    function test_end_revertsWhenSellerHasNoSignature() public {
        bytes32 orderId = _openEth();
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidAckSignature.selector, orderId, sessionKey));
        vm.prank(seller);
        market.end(orderId, 1, "");
    }

    function test_end_revertsForAckOfAnotherFigure() public {
        bytes32 orderId = _openEth();
        bytes memory signature = _ack(orderId, HALF);
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidAckSignature.selector, orderId, sessionKey));
        vm.prank(seller);
        market.end(orderId, HALF + 1, signature);
    }

    function test_end_revertsForAckOfAnotherOrder() public {
        bytes32 orderId = _openEth();
        bytes32 other = _open(address(0), ETH_PRICE, NONCE + 1);
        bytes memory signature = _ack(other, HALF);
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidAckSignature.selector, orderId, sessionKey));
        vm.prank(seller);
        market.end(orderId, HALF, signature);
    }

    function test_end_revertsForAckSignedByAnotherKey() public {
        bytes32 orderId = _openEth();
        // The buyer's own key is not this order's ackSigner (the session key is), nor is the seller's.
        uint256[2] memory keys = [buyerKey, sellerKey];
        for (uint256 i; i < keys.length; ++i) {
            bytes memory signature = _ack(keys[i], orderId, HALF);
            vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidAckSignature.selector, orderId, sessionKey));
            vm.prank(seller);
            market.end(orderId, HALF, signature);
        }
    }

    function test_end_revertsForAckOfAnotherDeploymentOrChain() public {
        bytes32 orderId = _openEth();
        DataMarket otherMarket = new DataMarket(WINDOW);
        bytes memory wrongContract = _signDigest(sessionKeyKey, _digest(address(otherMarket), orderId, HALF));
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidAckSignature.selector, orderId, sessionKey));
        vm.prank(seller);
        market.end(orderId, HALF, wrongContract);

        uint256 chainId = block.chainid;
        vm.chainId(chainId + 1);
        bytes memory wrongChain = _ack(orderId, HALF);
        vm.chainId(chainId);
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidAckSignature.selector, orderId, sessionKey));
        vm.prank(seller);
        market.end(orderId, HALF, wrongChain);
    }

    function test_end_revertsForHighSTwin() public {
        bytes32 orderId = _openEth();
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(sessionKeyKey, _digest(address(market), orderId, HALF));
        // (r, n - s, v ^ 1) recovers the same key: the malleable twin, refused as OpenZeppelin's ECDSA does.
        bytes memory twin = abi.encodePacked(r, bytes32(SECP256K1_N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidAckSignature.selector, orderId, sessionKey));
        vm.prank(seller);
        market.end(orderId, HALF, twin);
    }

    function test_end_revertsForMalformedSignatures() public {
        bytes32 orderId = _openEth();
        bytes memory good = _ack(orderId, HALF);
        bytes memory badV = bytes.concat(good);
        badV[64] = bytes1(uint8(29));
        bytes memory truncated = new bytes(63);
        bytes[3] memory bad = [badV, truncated, bytes.concat(good, hex"00")];
        for (uint256 i; i < bad.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidAckSignature.selector, orderId, sessionKey));
            vm.prank(seller);
            market.end(orderId, HALF, bad[i]);
        }
    }

    function test_end_afterDeadlineKeepsDeadlineUntilWindowCloses() public {
        bytes32 orderId = _openToken();
        // One second before the settlement is due, the seller still puts its last ACK on record.
        vm.warp(uint256(deadline) + WINDOW - 1);
        bytes memory signature = _ack(orderId, HALF);
        vm.expectEmit(address(market));
        emit IDataMarket.OrderEnded(orderId, seller, HALF, deadline + WINDOW);
        vm.prank(seller);
        market.end(orderId, HALF, signature);
        assertEq(_order(orderId).deadline, deadline, "an end after the deadline does not move it later");
    }

    function test_end_revertsOnceSettlementIsDue() public {
        bytes32 orderId = _openToken();
        vm.warp(uint256(deadline) + WINDOW);
        bytes memory signature = _ack(orderId, HALF);
        vm.expectRevert(
            abi.encodeWithSelector(IDataMarket.AckWindowClosed.selector, orderId, deadline + WINDOW, block.timestamp)
        );
        vm.prank(seller);
        market.end(orderId, HALF, signature);
    }

    function testFuzz_end_recordsAnySignedFigure(uint64 received, uint64 elapsed, bool compact) public {
        received = uint64(bound(received, 0, TOTAL - 1));
        bytes32 orderId = _openToken();
        vm.warp(block.timestamp + bound(elapsed, 0, DURATION + WINDOW - 1));
        bytes memory signature = _ack(orderId, received);
        if (compact) signature = _compact(signature);
        vm.prank(seller);
        market.end(orderId, received, signature);
        IDataMarket.Order memory o = _order(orderId);
        assertEq(o.received, received);
        assertEq(o.deadline, block.timestamp < deadline ? block.timestamp : deadline);
        assertEq(uint256(o.state), uint256(IDataMarket.OrderState.Ending));
    }
}
