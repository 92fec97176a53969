// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IDataMarket} from "../src/interfaces/IDataMarket.sol";
import {DataFixture} from "./utils/DataFixture.sol";

/// @notice `settle` tests: the proportional split, when it is due, and the deadline path by a third party.
contract DataMarketSettleTest is DataFixture {
    uint64 internal constant PART = 3 * 1024 * 1024;

    function test_settle_paysProportionallyAfterTheWindowByAnyone() public {
        bytes32 orderId = _openToken();
        _endBySeller(orderId, PART);
        vm.warp(block.timestamp + WINDOW);
        uint256 toSeller = _share(TOKEN_PRICE, PART);
        vm.expectEmit(address(market));
        emit IDataMarket.OrderSettled(orderId, PART, toSeller, TOKEN_PRICE - toSeller);
        vm.prank(stranger);
        market.settle(orderId);

        _assertState(orderId, IDataMarket.OrderState.Settled);
        assertEq(token.balanceOf(seller), toSeller);
        assertEq(token.balanceOf(buyer), 1_000_000 ether - toSeller);
        assertEq(token.balanceOf(address(market)), 0);
        assertEq(token.balanceOf(stranger), 0);
    }

    function test_settle_ethSplit() public {
        bytes32 orderId = _openEth();
        uint256 sellerBefore = seller.balance;
        _endByBuyer(orderId, PART);
        vm.warp(block.timestamp + WINDOW);
        market.settle(orderId);
        assertEq(seller.balance - sellerBefore, _share(ETH_PRICE, PART));
        assertEq(buyer.balance, 100 ether - _share(ETH_PRICE, PART));
        assertEq(address(market).balance, 0);
    }

    function test_settle_revertsBeforeTheWindowEnds() public {
        bytes32 orderId = _openEth();
        _endByBuyer(orderId, PART);
        uint64 settleAt = uint64(block.timestamp) + WINDOW;
        vm.warp(settleAt - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IDataMarket.SettlementNotDue.selector, orderId, settleAt, block.timestamp)
        );
        market.settle(orderId);
    }

    function test_settle_endedEarlySettlesBeforeTheDeadline() public {
        bytes32 orderId = _openEth();
        _endBySeller(orderId, PART);
        vm.warp(block.timestamp + WINDOW);
        assertTrue(block.timestamp < deadline);
        market.settle(orderId);
        _assertState(orderId, IDataMarket.OrderState.Settled);
    }

    function test_settle_afterDeadlineByThirdPartyWithTheAckOnRecord() public {
        bytes32 orderId = _openToken();
        // The seller puts its last ACK on record in the window after the deadline; nobody ended before.
        vm.warp(uint256(deadline) + 100);
        _endBySeller(orderId, PART);
        vm.warp(uint256(deadline) + WINDOW - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IDataMarket.SettlementNotDue.selector, orderId, deadline + WINDOW, block.timestamp)
        );
        market.settle(orderId);
        vm.warp(uint256(deadline) + WINDOW);
        vm.prank(stranger);
        market.settle(orderId);
        assertEq(token.balanceOf(seller), _share(TOKEN_PRICE, PART));
        assertEq(token.balanceOf(address(market)), 0);
    }

    function test_settle_neverEndedRefundsBuyerAfterDeadlineAndWindow() public {
        bytes32 orderId = _openToken();
        vm.warp(uint256(deadline) + WINDOW - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IDataMarket.SettlementNotDue.selector, orderId, deadline + WINDOW, block.timestamp)
        );
        market.settle(orderId);

        vm.warp(uint256(deadline) + WINDOW);
        vm.expectEmit(address(market));
        emit IDataMarket.OrderSettled(orderId, 0, 0, TOKEN_PRICE);
        vm.prank(stranger);
        market.settle(orderId);
        assertEq(token.balanceOf(buyer), 1_000_000 ether);
        assertEq(token.balanceOf(seller), 0);
        assertEq(token.balanceOf(address(market)), 0);
    }

    function test_settle_zeroFigureRefundsAll() public {
        bytes32 orderId = _openEth();
        _endByBuyer(orderId, 0);
        vm.warp(block.timestamp + WINDOW);
        market.settle(orderId);
        assertEq(buyer.balance, 100 ether);
        assertEq(address(market).balance, 0);
    }

    function test_settle_roundsTheSellersShareDown() public {
        vm.prank(buyer);
        bytes32 orderId = market.openOrder(
            seller, address(token), 10, 3, deadline, startedFrom, NONCE, sessionKey, IDataMarket.PaymentMethod.Escrow
        );
        _endBySeller(orderId, 1);
        vm.warp(block.timestamp + WINDOW);
        vm.expectEmit(address(market));
        emit IDataMarket.OrderSettled(orderId, 1, 3, 7); // 10 * 1 / 3 = 3.33 -> 3
        market.settle(orderId);
        assertEq(token.balanceOf(seller), 3);
        assertEq(token.balanceOf(address(market)), 0);
    }

    function test_settle_revertsWhenSettledTwice() public {
        bytes32 orderId = _openEth();
        _endBySeller(orderId, PART);
        vm.warp(block.timestamp + WINDOW);
        market.settle(orderId);
        vm.expectRevert(
            abi.encodeWithSelector(IDataMarket.OrderNotActive.selector, orderId, IDataMarket.OrderState.Settled)
        );
        market.settle(orderId);
    }

    function test_settle_revertsForUnknownOrder() public {
        bytes32 orderId = keccak256("unknown");
        vm.expectRevert(
            abi.encodeWithSelector(IDataMarket.OrderNotActive.selector, orderId, IDataMarket.OrderState.None)
        );
        market.settle(orderId);
    }

    function test_settle_expiresUnconfirmedOffChainOrder() public {
        bytes32 orderId = _openOffChain();
        vm.warp(uint256(deadline) + WINDOW - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IDataMarket.SettlementNotDue.selector, orderId, deadline + WINDOW, block.timestamp)
        );
        market.settle(orderId);
        vm.warp(uint256(deadline) + WINDOW);
        vm.expectEmit(address(market));
        emit IDataMarket.OrderExpired(orderId);
        vm.prank(stranger);
        market.settle(orderId);
        _assertState(orderId, IDataMarket.OrderState.Expired);

        vm.expectRevert(
            abi.encodeWithSelector(IDataMarket.OrderNotActive.selector, orderId, IDataMarket.OrderState.Expired)
        );
        market.settle(orderId);
    }

    function test_settle_revertsForConfirmedOffChainOrder() public {
        bytes32 orderId = _openOffChain();
        vm.prank(seller);
        market.confirmPaid(orderId);
        vm.warp(uint256(deadline) + WINDOW);
        vm.expectRevert(
            abi.encodeWithSelector(IDataMarket.OrderNotActive.selector, orderId, IDataMarket.OrderState.Paid)
        );
        market.settle(orderId);
    }

    /// @notice For any price, total and figure the parts are the floor share and the rest, and sum exactly
    /// to the escrow.
    function testFuzz_settle_partsSumExactlyToTheEscrow(uint96 price, uint64 totalBytes, uint64 received) public {
        price = uint96(bound(price, 1, type(uint96).max));
        totalBytes = uint64(bound(totalBytes, 2, type(uint64).max));
        received = uint64(bound(received, 0, totalBytes - 1));
        token.mint(buyer, price);
        uint256 buyerBefore = token.balanceOf(buyer);
        vm.prank(buyer);
        bytes32 orderId = market.openOrder(
            seller,
            address(token),
            price,
            totalBytes,
            deadline,
            startedFrom,
            NONCE,
            sessionKey,
            IDataMarket.PaymentMethod.Escrow
        );
        _endBySeller(orderId, received);
        vm.warp(block.timestamp + WINDOW);
        market.settle(orderId);

        uint256 toSeller = uint256(price) * received / totalBytes;
        assertEq(token.balanceOf(seller), toSeller);
        assertEq(token.balanceOf(buyer), buyerBefore - toSeller);
        assertEq(token.balanceOf(address(market)), 0);
    }
}
