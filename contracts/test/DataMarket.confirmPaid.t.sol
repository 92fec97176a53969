// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IDataMarket} from "../src/interfaces/IDataMarket.sol";
import {DataFixture} from "./utils/DataFixture.sol";

/// @notice `confirmPaid` tests: the seller finishes an off-chain-paid order.
contract DataMarketConfirmPaidTest is DataFixture {
    function test_confirmPaid_finishesOffChainOrderAndEmits() public {
        bytes32 orderId = _openOffChain();
        vm.expectEmit(address(market));
        emit IDataMarket.OrderConfirmedPaid(orderId);
        vm.prank(seller);
        market.confirmPaid(orderId);
        _assertState(orderId, IDataMarket.OrderState.Paid);
        assertEq(address(market).balance, 0);
    }

    function test_confirmPaid_worksAfterTheDeadlineUntilExpired() public {
        bytes32 orderId = _openOffChain();
        vm.warp(uint256(deadline) + WINDOW + 1 days);
        vm.prank(seller);
        market.confirmPaid(orderId);
        _assertState(orderId, IDataMarket.OrderState.Paid);
    }

    function test_confirmPaid_revertsForEscrowedOrder() public {
        bytes32 orderId = _openEth();
        vm.expectRevert(
            abi.encodeWithSelector(IDataMarket.WrongPaymentMethod.selector, orderId, IDataMarket.PaymentMethod.Escrow)
        );
        vm.prank(seller);
        market.confirmPaid(orderId);
    }

    function test_confirmPaid_revertsForAnyoneButTheSeller() public {
        bytes32 orderId = _openOffChain();
        address[3] memory others = [buyer, stranger, sessionKey];
        for (uint256 i; i < others.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IDataMarket.NotOrderSeller.selector, orderId, others[i]));
            vm.prank(others[i]);
            market.confirmPaid(orderId);
        }
    }

    function test_confirmPaid_revertsWhenNotOpen() public {
        bytes32 orderId = _openOffChain();
        vm.prank(seller);
        market.confirmPaid(orderId);
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.OrderNotOpen.selector, orderId, IDataMarket.OrderState.Paid));
        vm.prank(seller);
        market.confirmPaid(orderId);

        bytes32 unknown = keccak256("unknown");
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.OrderNotOpen.selector, unknown, IDataMarket.OrderState.None));
        vm.prank(seller);
        market.confirmPaid(unknown);
    }

    function test_confirmPaid_revertsWhenExpired() public {
        bytes32 orderId = _openOffChain();
        vm.warp(uint256(deadline) + WINDOW);
        market.settle(orderId);
        vm.expectRevert(
            abi.encodeWithSelector(IDataMarket.OrderNotOpen.selector, orderId, IDataMarket.OrderState.Expired)
        );
        vm.prank(seller);
        market.confirmPaid(orderId);
    }
}
