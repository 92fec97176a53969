// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IDataMarket} from "../src/interfaces/IDataMarket.sol";
import {IPayouts} from "../src/interfaces/IPayouts.sol";
import {DataFixture} from "./utils/DataFixture.sol";
import {FeeOnTransferToken, ReentrantToken} from "./utils/Mocks.sol";

/// @notice `openOrder` tests.
contract DataMarketOpenOrderTest is DataFixture {
    IDataMarket.PaymentMethod internal constant ESCROW = IDataMarket.PaymentMethod.Escrow;
    IDataMarket.PaymentMethod internal constant OFF_CHAIN = IDataMarket.PaymentMethod.OffChain;

    function test_openOrder_ethEscrowsPriceStoresAndEmits() public {
        bytes32 expectedId = market.computeOrderId(buyer, seller, startedFrom, NONCE);
        vm.expectEmit(address(market));
        emit IDataMarket.OrderOpened(
            expectedId, buyer, seller, address(0), ETH_PRICE, TOTAL, deadline, startedFrom, NONCE, sessionKey, ESCROW
        );
        bytes32 orderId = _openEth();

        assertEq(orderId, expectedId);
        assertEq(address(market).balance, ETH_PRICE);
        assertEq(buyer.balance, 100 ether - ETH_PRICE);
        IDataMarket.Order memory o = _order(orderId);
        assertEq(o.buyer, buyer);
        assertEq(o.startedFrom, startedFrom);
        assertEq(o.deadline, deadline);
        assertEq(uint256(o.state), uint256(IDataMarket.OrderState.Open));
        assertEq(uint256(o.method), uint256(ESCROW));
        assertEq(o.seller, seller);
        assertEq(o.price, ETH_PRICE);
        assertEq(o.token, address(0));
        assertEq(o.totalBytes, TOTAL);
        assertFalse(o.ratedByBuyer);
        assertFalse(o.ratedBySeller);
        assertEq(o.ackSigner, sessionKey);
        assertEq(o.received, 0);
    }

    function test_openOrder_tokenPullsPriceAndEmits() public {
        bytes32 expectedId = market.computeOrderId(buyer, seller, startedFrom, NONCE);
        vm.expectEmit(address(market));
        emit IDataMarket.OrderOpened(
            expectedId,
            buyer,
            seller,
            address(token),
            TOKEN_PRICE,
            TOTAL,
            deadline,
            startedFrom,
            NONCE,
            sessionKey,
            ESCROW
        );
        bytes32 orderId = _openToken();
        assertEq(orderId, expectedId);
        assertEq(token.balanceOf(address(market)), TOKEN_PRICE);
        assertEq(token.balanceOf(buyer), 1_000_000 ether - TOKEN_PRICE);
        assertEq(_order(orderId).token, address(token));
    }

    function test_openOrder_offChainHoldsNothing() public {
        vm.expectEmit(address(market));
        emit IDataMarket.OrderOpened(
            market.computeOrderId(buyer, seller, startedFrom, NONCE),
            buyer,
            seller,
            address(0),
            ETH_PRICE,
            TOTAL,
            deadline,
            startedFrom,
            NONCE,
            sessionKey,
            OFF_CHAIN
        );
        bytes32 orderId = _openOffChain();
        assertEq(address(market).balance, 0);
        assertEq(uint256(_order(orderId).method), uint256(OFF_CHAIN));
        assertEq(uint256(_order(orderId).state), uint256(IDataMarket.OrderState.Open));

        // A token off-chain order pulls nothing either (no approval needed).
        vm.prank(buyer);
        market.openOrder(seller, address(token), TOKEN_PRICE, TOTAL, deadline, startedFrom, NONCE + 1, buyer, OFF_CHAIN);
        assertEq(token.balanceOf(address(market)), 0);
    }

    function test_openOrder_idIsTheDocumentedHash() public {
        bytes32 orderId = _openToken();
        assertEq(orderId, keccak256(abi.encode(block.chainid, address(market), buyer, seller, startedFrom, NONCE)));
    }

    function test_openOrder_storesWordsInDocumentedLayout() public {
        bytes32 orderId = _open(address(token), 0xabcdef, NONCE);
        bytes32 slot = keccak256(abi.encode(orderId, ORDERS_SLOT));
        uint256 w0 = uint256(vm.load(address(market), slot));
        uint256 w1 = uint256(vm.load(address(market), bytes32(uint256(slot) + 1)));
        uint256 w2 = uint256(vm.load(address(market), bytes32(uint256(slot) + 2)));
        uint256 w3 = uint256(vm.load(address(market), bytes32(uint256(slot) + 3)));
        assertEq(w0, uint256(uint160(buyer)) | uint256(startedFrom) << 160 | uint256(deadline) << 200 | 1 << 240);
        assertEq(w1, uint256(uint160(seller)) | uint256(0xabcdef) << 160);
        assertEq(w2, uint256(uint160(address(token))) | uint256(TOTAL) << 160);
        assertEq(w3, uint256(uint160(sessionKey)));
    }

    function test_openOrder_sameIdTwiceReverts() public {
        bytes32 orderId = _openEth();
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.OrderExists.selector, orderId));
        _openEth();
        // Another nonce is another order.
        bytes32 other = _open(address(0), ETH_PRICE, NONCE + 1);
        assertNotEq(other, orderId);
    }

    function test_openOrder_finishedIdCannotBeReopened() public {
        bytes32 orderId = _openToken();
        _endBySeller(orderId, TOTAL);
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.OrderExists.selector, orderId));
        _openToken();
    }

    function test_openOrder_offChainIdCollidesWithEscrowId() public {
        bytes32 orderId = _openOffChain();
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.OrderExists.selector, orderId));
        _openEth();
    }

    function test_openOrder_revertsForSelfOrder() public {
        vm.prank(seller);
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.SellerIsBuyer.selector, seller));
        market.openOrder(seller, address(0), 1, TOTAL, deadline, startedFrom, NONCE, seller, OFF_CHAIN);
    }

    function test_openOrder_revertsForUnregisteredSeller() public {
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.SellerNotRegistered.selector, stranger));
        vm.prank(buyer);
        market.openOrder{value: ETH_PRICE}(
            stranger, address(0), ETH_PRICE, TOTAL, deadline, startedFrom, NONCE, sessionKey, ESCROW
        );
    }

    function test_openOrder_revertsForZeroAckSigner() public {
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidAckSigner.selector, address(0)));
        vm.prank(buyer);
        market.openOrder{value: ETH_PRICE}(
            seller, address(0), ETH_PRICE, TOTAL, deadline, startedFrom, NONCE, address(0), ESCROW
        );
    }

    function test_openOrder_revertsForZeroPrice() public {
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidPrice.selector, 0));
        vm.prank(buyer);
        market.openOrder(seller, address(token), 0, TOTAL, deadline, startedFrom, NONCE, sessionKey, ESCROW);
    }

    function test_openOrder_acceptsUint96MaxPriceAndRevertsAbove() public {
        uint256 max = type(uint96).max;
        token.mint(buyer, max + 1);
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidPrice.selector, max + 1));
        _open(address(token), max + 1, NONCE);

        bytes32 orderId = _open(address(token), max, NONCE);
        assertEq(_order(orderId).price, max);
        // The largest price and the largest figure settle exactly (no overflow in price * received).
        _endBySeller(orderId, TOTAL - 1);
        vm.warp(block.timestamp + WINDOW);
        market.settle(orderId);
        uint256 toSeller = max * (TOTAL - 1) / TOTAL;
        assertEq(token.balanceOf(seller), toSeller);
        assertEq(token.balanceOf(address(market)), 0);
    }

    function test_openOrder_revertsForZeroTotalBytes() public {
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidTotalBytes.selector, 0));
        vm.prank(buyer);
        market.openOrder{value: ETH_PRICE}(
            seller, address(0), ETH_PRICE, 0, deadline, startedFrom, NONCE, sessionKey, ESCROW
        );
    }

    function test_openOrder_revertsForDeadlineNotInTheFuture() public {
        uint64 nowTs = uint64(block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidDeadline.selector, nowTs, block.timestamp));
        vm.prank(buyer);
        market.openOrder{value: ETH_PRICE}(
            seller, address(0), ETH_PRICE, TOTAL, nowTs, startedFrom, NONCE, sessionKey, ESCROW
        );
    }

    function test_openOrder_deadlineBoundIsMaxOrderDuration() public {
        uint64 max = uint64(block.timestamp) + market.MAX_ORDER_DURATION();
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidDeadline.selector, max + 1, block.timestamp));
        vm.prank(buyer);
        market.openOrder{value: ETH_PRICE}(
            seller, address(0), ETH_PRICE, TOTAL, max + 1, startedFrom, NONCE, sessionKey, ESCROW
        );

        // A deadline in milliseconds by mistake is refused rather than locking the escrow for millennia.
        uint64 millis = uint64(block.timestamp) * 1000;
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidDeadline.selector, millis, block.timestamp));
        vm.prank(buyer);
        market.openOrder{value: ETH_PRICE}(
            seller, address(0), ETH_PRICE, TOTAL, millis, startedFrom, NONCE, sessionKey, ESCROW
        );

        vm.prank(buyer);
        bytes32 orderId = market.openOrder{value: ETH_PRICE}(
            seller, address(0), ETH_PRICE, TOTAL, max, startedFrom, NONCE, sessionKey, ESCROW
        );
        assertEq(_order(orderId).deadline, max);
        assertEq(market.MAX_ORDER_DURATION(), 365 days);
    }

    function test_openOrder_revertsForStartedFromInTheFuture() public {
        uint64 future = uint64(block.timestamp) + 1;
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidStartedFrom.selector, future, block.timestamp));
        vm.prank(buyer);
        market.openOrder{value: ETH_PRICE}(
            seller, address(0), ETH_PRICE, TOTAL, deadline, future, NONCE, sessionKey, ESCROW
        );
    }

    function test_openOrder_startedFromMayBeUpToMaxStartAgeOld() public {
        uint64 oldest = uint64(block.timestamp) - market.MAX_START_AGE();
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidStartedFrom.selector, oldest - 1, block.timestamp));
        vm.prank(buyer);
        market.openOrder{value: ETH_PRICE}(
            seller, address(0), ETH_PRICE, TOTAL, deadline, oldest - 1, NONCE, sessionKey, ESCROW
        );

        vm.prank(buyer);
        bytes32 orderId = market.openOrder{value: ETH_PRICE}(
            seller, address(0), ETH_PRICE, TOTAL, deadline, oldest, NONCE, sessionKey, ESCROW
        );
        assertEq(_order(orderId).startedFrom, oldest);
        assertEq(market.MAX_START_AGE(), 1 hours);
    }

    function test_openOrder_revertsForWrongEthValue() public {
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.ValueMismatch.selector, ETH_PRICE - 1, ETH_PRICE));
        vm.prank(buyer);
        market.openOrder{value: ETH_PRICE - 1}(
            seller, address(0), ETH_PRICE, TOTAL, deadline, startedFrom, NONCE, sessionKey, ESCROW
        );
    }

    function test_openOrder_revertsForEthSentWithToken() public {
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.ValueMismatch.selector, 1, 0));
        vm.prank(buyer);
        market.openOrder{value: 1}(
            seller, address(token), TOKEN_PRICE, TOTAL, deadline, startedFrom, NONCE, sessionKey, ESCROW
        );
    }

    function test_openOrder_revertsForEthSentOffChain() public {
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.ValueMismatch.selector, ETH_PRICE, 0));
        vm.prank(buyer);
        market.openOrder{value: ETH_PRICE}(
            seller, address(0), ETH_PRICE, TOTAL, deadline, startedFrom, NONCE, sessionKey, OFF_CHAIN
        );
    }

    function test_openOrder_revertsWithoutAllowance() public {
        vm.prank(buyer);
        token.approve(address(market), TOKEN_PRICE - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IERC20Errors.ERC20InsufficientAllowance.selector, address(market), TOKEN_PRICE - 1, TOKEN_PRICE
            )
        );
        _openToken();
        assertEq(token.balanceOf(address(market)), 0);
    }

    function test_openOrder_revertsForTokenWithoutCode() public {
        address noCode = makeAddr("notAToken");
        vm.expectRevert(abi.encodeWithSelector(SafeERC20.SafeERC20FailedOperation.selector, noCode));
        _open(noCode, TOKEN_PRICE, NONCE);
    }

    function test_openOrder_refusesFeeOnTransferToken() public {
        FeeOnTransferToken taxed = new FeeOnTransferToken(100); // 1%
        taxed.mint(buyer, TOKEN_PRICE);
        vm.prank(buyer);
        taxed.approve(address(market), TOKEN_PRICE);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPayouts.AmountNotReceived.selector, address(taxed), TOKEN_PRICE, TOKEN_PRICE - TOKEN_PRICE / 100
            )
        );
        _open(address(taxed), TOKEN_PRICE, NONCE);
        assertEq(taxed.balanceOf(address(market)), 0);

        // The same token once it stops taxing is accepted: the check is on what arrives.
        taxed.setFeeBps(0);
        _open(address(taxed), TOKEN_PRICE, NONCE);
        assertEq(taxed.balanceOf(address(market)), TOKEN_PRICE);
    }

    function test_openOrder_blocksReentryFromToken() public {
        ReentrantToken hostile = new ReentrantToken(address(market));
        hostile.mint(buyer, TOKEN_PRICE);
        vm.prank(buyer);
        hostile.approve(address(market), TOKEN_PRICE);
        // While the price is pulled, the token tries to open a second order with the same id's nonce + 1.
        hostile.arm(
            abi.encodeCall(
                IDataMarket.openOrder,
                (seller, address(0), 1, TOTAL, deadline, startedFrom, NONCE + 1, sessionKey, OFF_CHAIN)
            )
        );
        bytes32 orderId = _open(address(hostile), TOKEN_PRICE, NONCE);
        assertTrue(hostile.attempted());
        assertFalse(hostile.succeeded());
        assertEq(hostile.returned(), abi.encodeWithSelector(IPayouts.ReentrantCall.selector));
        assertEq(hostile.balanceOf(address(market)), TOKEN_PRICE);
        assertEq(uint256(_order(orderId).state), uint256(IDataMarket.OrderState.Open));
    }

    function testFuzz_openOrder_storesTermsExactly(
        uint96 price,
        uint64 totalBytes,
        uint64 duration,
        uint64 age,
        uint256 nonce,
        bool offChain
    ) public {
        price = uint96(bound(price, 1, type(uint96).max));
        totalBytes = uint64(bound(totalBytes, 1, type(uint64).max));
        uint64 dl = uint64(block.timestamp + bound(duration, 1, market.MAX_ORDER_DURATION()));
        uint64 started = uint64(block.timestamp - bound(age, 0, market.MAX_START_AGE()));
        IDataMarket.PaymentMethod method = offChain ? OFF_CHAIN : ESCROW;
        token.mint(buyer, price);
        vm.prank(buyer);
        bytes32 orderId =
            market.openOrder(seller, address(token), price, totalBytes, dl, started, nonce, sessionKey, method);

        IDataMarket.Order memory o = _order(orderId);
        assertEq(orderId, market.computeOrderId(buyer, seller, started, nonce));
        assertEq(o.buyer, buyer);
        assertEq(o.seller, seller);
        assertEq(o.price, price);
        assertEq(o.totalBytes, totalBytes);
        assertEq(o.deadline, dl);
        assertEq(o.startedFrom, started);
        assertEq(o.ackSigner, sessionKey);
        assertEq(uint256(o.method), uint256(method));
        assertEq(uint256(o.state), uint256(IDataMarket.OrderState.Open));
        assertEq(token.balanceOf(address(market)), offChain ? 0 : price);
    }
}
