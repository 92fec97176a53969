// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DataMarket} from "../src/DataMarket.sol";
import {IDataMarket} from "../src/interfaces/IDataMarket.sol";
import {DataFixture} from "./utils/DataFixture.sol";

/// @notice The constructor and the views: the window, the ACK digest, order ids and the stored order.
contract DataMarketViewsTest is DataFixture {
    function test_constructor_setsTheWindow() public view {
        assertEq(market.CHALLENGE_WINDOW(), WINDOW);
        assertEq(market.MAX_CHALLENGE_WINDOW(), 7 days);
    }

    function test_constructor_revertsForWindowOutOfRange() public {
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidChallengeWindow.selector, 0));
        new DataMarket(0);
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidChallengeWindow.selector, 7 days + 1));
        new DataMarket(7 days + 1);
        assertEq(new DataMarket(7 days).CHALLENGE_WINDOW(), 7 days);
        assertEq(new DataMarket(1).CHALLENGE_WINDOW(), 1);
    }

    function test_ackTypehash_isTheDocumentedType() public view {
        assertEq(market.ACK_TYPEHASH(), keccak256("Ack(bytes32 orderId,uint64 received)"));
    }

    function test_ackDigest_matchesEip712() public view {
        bytes32 orderId = keccak256("some order");
        assertEq(market.ackDigest(orderId, 12345), _digest(address(market), orderId, 12345));
        assertEq(market.ackDigest(orderId, type(uint64).max), _digest(address(market), orderId, type(uint64).max));
    }

    function test_eip712Domain_isAgoraDataMarketV1() public view {
        (, string memory name, string memory version, uint256 chainId, address verifyingContract,,) =
            market.eip712Domain();
        assertEq(name, "Agora DataMarket");
        assertEq(version, "1");
        assertEq(chainId, block.chainid);
        assertEq(verifyingContract, address(market));
    }

    function test_computeOrderId_commitsToChainAndContract() public {
        bytes32 id = market.computeOrderId(buyer, seller, startedFrom, NONCE);
        assertEq(id, keccak256(abi.encode(block.chainid, address(market), buyer, seller, startedFrom, NONCE)));
        assertNotEq(id, new DataMarket(WINDOW).computeOrderId(buyer, seller, startedFrom, NONCE));
        assertNotEq(id, market.computeOrderId(seller, buyer, startedFrom, NONCE));
        assertNotEq(id, market.computeOrderId(buyer, seller, startedFrom + 1, NONCE));
        assertNotEq(id, market.computeOrderId(buyer, seller, startedFrom, NONCE + 1));
        uint256 chainId = block.chainid;
        vm.chainId(chainId + 1);
        assertNotEq(id, market.computeOrderId(buyer, seller, startedFrom, NONCE));
        vm.chainId(chainId);
    }

    function test_getOrder_unknownIsZero() public view {
        IDataMarket.Order memory o = market.getOrder(keccak256("unknown"));
        assertEq(o.buyer, address(0));
        assertEq(uint256(o.state), uint256(IDataMarket.OrderState.None));
        assertEq(o.price, 0);
        assertEq(o.received, 0);
    }

    function test_getOrder_agreesWithTheWordsAfterEnding() public {
        bytes32 orderId = _openToken();
        vm.warp(block.timestamp + 77);
        _endBySeller(orderId, 4321);
        bytes32 slot = keccak256(abi.encode(orderId, ORDERS_SLOT));
        uint256 w0 = uint256(vm.load(address(market), slot));
        uint256 w3 = uint256(vm.load(address(market), bytes32(uint256(slot) + 3)));
        assertEq(w0, uint256(uint160(buyer)) | uint256(startedFrom) << 160 | block.timestamp << 200 | 2 << 240);
        assertEq(w3, uint256(uint160(sessionKey)) | uint256(4321) << 160);
        IDataMarket.Order memory o = market.getOrder(orderId);
        assertEq(o.deadline, block.timestamp);
        assertEq(o.received, 4321);
        assertEq(uint256(o.state), uint256(IDataMarket.OrderState.Ending));
    }

    function test_getOrder_agreesWithTheWordsAfterRating() public {
        bytes32 orderId = _openToken();
        _endBySeller(orderId, TOTAL);
        vm.prank(seller);
        market.rate(orderId, 3, COMMENT);
        bytes32 slot = keccak256(abi.encode(orderId, ORDERS_SLOT));
        uint256 w2 = uint256(vm.load(address(market), bytes32(uint256(slot) + 2)));
        assertEq(w2, uint256(uint160(address(token))) | uint256(TOTAL) << 160 | 1 << 232);
        assertTrue(market.getOrder(orderId).ratedBySeller);
        assertFalse(market.getOrder(orderId).ratedByBuyer);
    }
}
