// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IDataMarket} from "../src/interfaces/IDataMarket.sol";
import {DataFixture} from "./utils/DataFixture.sol";

/// @notice `rate` tests: each party rates the other once a finished order, and the aggregates.
contract DataMarketRateTest is DataFixture {
    function _settled() internal returns (bytes32 orderId) {
        orderId = _openToken();
        _endBySeller(orderId, TOTAL);
    }

    function test_rate_buyerRatesSellerAndEmits() public {
        bytes32 orderId = _settled();
        vm.expectEmit(address(market));
        emit IDataMarket.OrderRated(orderId, buyer, seller, 5, COMMENT);
        vm.prank(buyer);
        market.rate(orderId, 5, COMMENT);

        IDataMarket.Rating memory rating = market.sellerRating(seller);
        assertEq(rating.count, 1);
        assertEq(rating.scoreSum, 5);
        assertEq(market.buyerRating(buyer).count, 0);
        assertTrue(_order(orderId).ratedByBuyer);
        assertFalse(_order(orderId).ratedBySeller);
    }

    function test_rate_sellerRatesBuyerAndEmits() public {
        bytes32 orderId = _settled();
        vm.expectEmit(address(market));
        emit IDataMarket.OrderRated(orderId, seller, buyer, 1, bytes32(0));
        vm.prank(seller);
        market.rate(orderId, 1, bytes32(0));
        IDataMarket.Rating memory rating = market.buyerRating(buyer);
        assertEq(rating.count, 1);
        assertEq(rating.scoreSum, 1);
        assertEq(market.sellerRating(seller).count, 0);
        assertTrue(_order(orderId).ratedBySeller);
    }

    function test_rate_eachPartyOnce() public {
        bytes32 orderId = _settled();
        vm.prank(buyer);
        market.rate(orderId, 4, COMMENT);
        vm.prank(seller);
        market.rate(orderId, 3, COMMENT);
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.AlreadyRated.selector, orderId, buyer));
        vm.prank(buyer);
        market.rate(orderId, 1, COMMENT);
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.AlreadyRated.selector, orderId, seller));
        vm.prank(seller);
        market.rate(orderId, 5, COMMENT);
        assertEq(market.sellerRating(seller).scoreSum, 4);
        assertEq(market.buyerRating(buyer).scoreSum, 3);
    }

    function test_rate_aggregatesAcrossOrders() public {
        uint8[3] memory scores = [5, 2, 4];
        for (uint256 i; i < scores.length; ++i) {
            bytes32 orderId = _open(address(token), TOKEN_PRICE, NONCE + i);
            _endByBuyer(orderId, TOTAL);
            vm.prank(buyer);
            market.rate(orderId, scores[i], COMMENT);
        }
        IDataMarket.Rating memory rating = market.sellerRating(seller);
        assertEq(rating.count, 3);
        assertEq(rating.scoreSum, 11);
    }

    function test_rate_revertsForScoreOutOfRange() public {
        bytes32 orderId = _settled();
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidScore.selector, 0));
        vm.prank(buyer);
        market.rate(orderId, 0, COMMENT);
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidScore.selector, 6));
        vm.prank(buyer);
        market.rate(orderId, 6, COMMENT);
    }

    function test_rate_revertsBeforeTheOrderIsFinished() public {
        bytes32 orderId = _openToken();
        vm.expectRevert(
            abi.encodeWithSelector(IDataMarket.OrderNotFinished.selector, orderId, IDataMarket.OrderState.Open)
        );
        vm.prank(buyer);
        market.rate(orderId, 5, COMMENT);
        _endByBuyer(orderId, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IDataMarket.OrderNotFinished.selector, orderId, IDataMarket.OrderState.Ending)
        );
        vm.prank(seller);
        market.rate(orderId, 5, COMMENT);
        bytes32 unknown = keccak256("unknown");
        vm.expectRevert(
            abi.encodeWithSelector(IDataMarket.OrderNotFinished.selector, unknown, IDataMarket.OrderState.None)
        );
        vm.prank(buyer);
        market.rate(unknown, 5, COMMENT);
    }

    function test_rate_revertsForStranger() public {
        bytes32 orderId = _settled();
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.NotOrderParty.selector, orderId, stranger));
        vm.prank(stranger);
        market.rate(orderId, 5, COMMENT);
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.NotOrderParty.selector, orderId, sessionKey));
        vm.prank(sessionKey);
        market.rate(orderId, 5, COMMENT);
    }

    function test_rate_afterOffChainPaymentAndExpiry() public {
        bytes32 paid = _openOffChain();
        vm.prank(seller);
        market.confirmPaid(paid);
        vm.prank(buyer);
        market.rate(paid, 5, COMMENT);

        vm.prank(buyer);
        bytes32 lapsed = market.openOrder(
            seller,
            address(0),
            ETH_PRICE,
            TOTAL,
            deadline,
            startedFrom,
            NONCE + 1,
            sessionKey,
            IDataMarket.PaymentMethod.OffChain
        );
        vm.warp(uint256(deadline) + WINDOW);
        market.settle(lapsed);
        vm.prank(buyer);
        market.rate(lapsed, 1, COMMENT);
        vm.prank(seller);
        market.rate(lapsed, 1, COMMENT);

        assertEq(market.sellerRating(seller).count, 2);
        assertEq(market.sellerRating(seller).scoreSum, 6);
        assertEq(market.buyerRating(buyer).scoreSum, 1);
    }

    function test_rate_keepsTheOrderWords() public {
        bytes32 orderId = _settled();
        IDataMarket.Order memory before = _order(orderId);
        vm.prank(buyer);
        market.rate(orderId, 5, COMMENT);
        vm.prank(seller);
        market.rate(orderId, 5, COMMENT);
        IDataMarket.Order memory after_ = _order(orderId);
        assertEq(after_.buyer, before.buyer);
        assertEq(after_.deadline, before.deadline);
        assertEq(uint256(after_.state), uint256(before.state));
        assertEq(after_.seller, before.seller);
        assertEq(after_.price, before.price);
        assertEq(after_.token, before.token);
        assertEq(after_.totalBytes, before.totalBytes);
        assertEq(after_.received, before.received);
        assertEq(after_.ackSigner, before.ackSigner);
    }
}
