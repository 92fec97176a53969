// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IDataMarket} from "../src/interfaces/IDataMarket.sol";
import {DataFixture} from "./utils/DataFixture.sol";
import {Vm} from "./utils/Test.sol";

/// @notice `challenge` tests: the answer to an early end with a higher ACK, within the window only.
contract DataMarketChallengeTest is DataFixture {
    uint64 internal constant LOW = 1024;
    uint64 internal constant HIGH = 8 * 1024 * 1024;

    function test_challenge_sellerCorrectsBuyersLowFigure() public {
        bytes32 orderId = _openToken();
        vm.warp(block.timestamp + 3600);
        uint64 endedAt = uint64(block.timestamp);
        _endByBuyer(orderId, LOW); // the buyer got HIGH bytes but claims LOW

        vm.warp(block.timestamp + WINDOW - 1);
        bytes memory signature = _ack(orderId, HIGH);
        vm.expectEmit(address(market));
        emit IDataMarket.OrderChallenged(orderId, seller, HIGH);
        vm.prank(seller);
        market.challenge(orderId, HIGH, signature);
        assertEq(_order(orderId).received, HIGH);
        assertEq(_order(orderId).deadline, endedAt, "a challenge does not move the deadline");

        vm.warp(endedAt + WINDOW);
        market.settle(orderId);
        assertEq(token.balanceOf(seller), _share(TOKEN_PRICE, HIGH));
        assertEq(token.balanceOf(buyer), 1_000_000 ether - _share(TOKEN_PRICE, HIGH));
    }

    function test_challenge_buyerMayRaiseToo() public {
        bytes32 orderId = _openEth();
        _endBySeller(orderId, LOW);
        vm.expectEmit(address(market));
        emit IDataMarket.OrderChallenged(orderId, buyer, HIGH);
        vm.prank(buyer);
        market.challenge(orderId, HIGH, "");
        assertEq(_order(orderId).received, HIGH);
    }

    function test_challenge_sellerRaisesItsOwnEnd() public {
        bytes32 orderId = _openEth();
        _endBySeller(orderId, LOW);
        bytes memory signature = _ack(orderId, HIGH);
        vm.prank(seller);
        market.challenge(orderId, HIGH, signature);
        assertEq(_order(orderId).received, HIGH);
    }

    function test_challenge_fullAckSettlesAtOnce() public {
        bytes32 orderId = _openToken();
        _endByBuyer(orderId, LOW);
        bytes memory signature = _ack(orderId, TOTAL);
        vm.recordLogs();
        vm.prank(seller);
        market.challenge(orderId, TOTAL, signature);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        // OrderSettled alone, then the seller's Transfer (nothing is refunded): no OrderChallenged.
        assertEq(logs.length, 2);
        assertEq(logs[0].emitter, address(market));
        assertEq(logs[0].topics[0], IDataMarket.OrderSettled.selector);
        assertEq(logs[0].data, abi.encode(TOTAL, TOKEN_PRICE, uint256(0)));
        _assertState(orderId, IDataMarket.OrderState.Settled);
        assertEq(token.balanceOf(seller), TOKEN_PRICE);
        assertEq(token.balanceOf(address(market)), 0);
    }

    function test_challenge_revertsForEqualOrLowerFigure() public {
        bytes32 orderId = _openEth();
        _endBySeller(orderId, HIGH);
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.AckNotHigher.selector, orderId, HIGH, HIGH));
        vm.prank(buyer);
        market.challenge(orderId, HIGH, "");
        // The buyer cannot lower the seller's proven figure.
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.AckNotHigher.selector, orderId, LOW, HIGH));
        vm.prank(buyer);
        market.challenge(orderId, LOW, "");
        bytes memory signature = _ack(orderId, LOW);
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.AckNotHigher.selector, orderId, LOW, HIGH));
        vm.prank(seller);
        market.challenge(orderId, LOW, signature);
    }

    function test_challenge_revertsWhenNotEnding() public {
        bytes32 orderId = _openEth();
        vm.expectRevert(
            abi.encodeWithSelector(IDataMarket.OrderNotEnding.selector, orderId, IDataMarket.OrderState.Open)
        );
        vm.prank(buyer);
        market.challenge(orderId, LOW, "");

        bytes32 unknown = keccak256("unknown");
        vm.expectRevert(
            abi.encodeWithSelector(IDataMarket.OrderNotEnding.selector, unknown, IDataMarket.OrderState.None)
        );
        vm.prank(buyer);
        market.challenge(unknown, LOW, "");

        _endBySeller(orderId, TOTAL);
        vm.expectRevert(
            abi.encodeWithSelector(IDataMarket.OrderNotEnding.selector, orderId, IDataMarket.OrderState.Settled)
        );
        vm.prank(buyer);
        market.challenge(orderId, TOTAL, "");
    }

    function test_challenge_revertsForOffChainOrder() public {
        // Off-chain orders are never ended, so never `Ending`.
        bytes32 orderId = _openOffChain();
        vm.expectRevert(
            abi.encodeWithSelector(IDataMarket.OrderNotEnding.selector, orderId, IDataMarket.OrderState.Open)
        );
        vm.prank(seller);
        market.challenge(orderId, 1, "");
    }

    function test_challenge_revertsForStranger() public {
        bytes32 orderId = _openEth();
        _endByBuyer(orderId, LOW);
        bytes memory signature = _ack(orderId, HIGH);
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.NotOrderParty.selector, orderId, stranger));
        vm.prank(stranger);
        market.challenge(orderId, HIGH, signature);
    }

    function test_challenge_revertsForInvalidSignature() public {
        bytes32 orderId = _openEth();
        _endByBuyer(orderId, LOW);
        bytes memory signature = _ack(buyerKey, orderId, HIGH);
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidAckSignature.selector, orderId, sessionKey));
        vm.prank(seller);
        market.challenge(orderId, HIGH, signature);
    }

    function test_challenge_revertsForFigureAboveTotal() public {
        bytes32 orderId = _openEth();
        _endByBuyer(orderId, LOW);
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.AckExceedsTotal.selector, orderId, TOTAL + 1, TOTAL));
        vm.prank(buyer);
        market.challenge(orderId, TOTAL + 1, "");
    }

    function test_challenge_revertsOnceSettlementIsDue() public {
        bytes32 orderId = _openEth();
        _endByBuyer(orderId, LOW);
        uint64 settleAt = uint64(block.timestamp) + WINDOW;
        vm.warp(settleAt);
        bytes memory signature = _ack(orderId, HIGH);
        vm.expectRevert(
            abi.encodeWithSelector(IDataMarket.AckWindowClosed.selector, orderId, settleAt, block.timestamp)
        );
        vm.prank(seller);
        market.challenge(orderId, HIGH, signature);
    }

    function test_challenge_endAfterDeadlineLeavesWindowFromDeadline() public {
        bytes32 orderId = _openEth();
        // Ended in the window after the deadline: the settlement is due at deadline + WINDOW, not later.
        vm.warp(uint256(deadline) + 10);
        _endByBuyer(orderId, LOW);
        vm.warp(uint256(deadline) + WINDOW - 1);
        bytes memory signature = _ack(orderId, HIGH);
        vm.prank(seller);
        market.challenge(orderId, HIGH, signature);
        vm.warp(uint256(deadline) + WINDOW);
        vm.expectRevert(
            abi.encodeWithSelector(IDataMarket.AckWindowClosed.selector, orderId, deadline + WINDOW, block.timestamp)
        );
        vm.prank(buyer);
        market.challenge(orderId, HIGH + 1, "");
    }

    function testFuzz_challenge_settlesOnTheHighestFigure(uint64 first, uint64 second, bool buyerFirst) public {
        first = uint64(bound(first, 0, TOTAL - 2));
        second = uint64(bound(second, first + 1, TOTAL - 1));
        bytes32 orderId = _openToken();
        if (buyerFirst) _endByBuyer(orderId, first);
        else _endBySeller(orderId, first);
        bytes memory signature = _ack(orderId, second);
        vm.prank(seller);
        market.challenge(orderId, second, signature);
        vm.warp(block.timestamp + WINDOW);
        market.settle(orderId);
        assertEq(token.balanceOf(seller), _share(TOKEN_PRICE, second));
        assertEq(token.balanceOf(address(market)), 0);
    }
}
