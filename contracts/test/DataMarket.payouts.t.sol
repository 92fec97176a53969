// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IDataMarket} from "../src/interfaces/IDataMarket.sol";
import {IPayouts} from "../src/interfaces/IPayouts.sol";
import {DataFixture} from "./utils/DataFixture.sol";
import {FaultyToken, GasBurner, Receiver, ReentrantToken} from "./utils/Mocks.sol";
import {ReentrantAccount} from "./utils/ChannelMocks.sol";

/// @notice Payouts of settlements: receivers that refuse or burn gas are owed instead, blocked accounts
/// withdraw elsewhere by signature, and hostile tokens and receivers cannot re-enter.
contract DataMarketPayoutsTest is DataFixture {
    uint64 internal constant PART = TOTAL / 4;

    /// @dev A contract seller, registered, whose orders the fixture buyer opens.
    function _contractSeller(address account) internal {
        Receiver(payable(account))
            .exec(
                address(market), 0, abi.encodeCall(IDataMarket.register, (ENDPOINT, messageSigner, MENU_HASH, MENU_URI))
            );
    }

    function _openWith(address sellerAccount, address asset, uint256 price) internal returns (bytes32) {
        vm.prank(buyer);
        return market.openOrder{value: asset == address(0) ? price : 0}(
            sellerAccount,
            asset,
            price,
            TOTAL,
            deadline,
            startedFrom,
            NONCE,
            sessionKey,
            IDataMarket.PaymentMethod.Escrow
        );
    }

    function test_settle_sellerRejectingEthIsOwedAndWithdrawsLater() public {
        Receiver rejecting = new Receiver();
        _contractSeller(address(rejecting));
        rejecting.setAccepts(false);
        bytes32 orderId = _openWith(address(rejecting), address(0), ETH_PRICE);
        _endByBuyer(orderId, PART);
        vm.warp(block.timestamp + WINDOW);
        vm.expectEmit(address(market));
        emit IPayouts.PayoutDeferred(address(rejecting), address(0), _share(ETH_PRICE, PART));
        market.settle(orderId);
        assertEq(market.owed(address(rejecting), address(0)), _share(ETH_PRICE, PART));
        assertEq(buyer.balance, 100 ether - _share(ETH_PRICE, PART), "the buyer's part is pushed regardless");
        assertEq(address(market).balance, _share(ETH_PRICE, PART));

        rejecting.setAccepts(true);
        rejecting.exec(address(market), 0, abi.encodeCall(IPayouts.withdraw, (address(0))));
        assertEq(address(rejecting).balance, _share(ETH_PRICE, PART));
        assertEq(address(market).balance, 0);
    }

    function test_settle_gasBurningSellerCannotBlockTheBuyersRefund() public {
        GasBurner burner = new GasBurner();
        vm.prank(address(burner));
        market.register(ENDPOINT, messageSigner, MENU_HASH, MENU_URI);
        bytes32 orderId = _openWith(address(burner), address(0), ETH_PRICE);
        _endByBuyer(orderId, PART);
        vm.warp(block.timestamp + WINDOW);
        market.settle(orderId);
        assertEq(market.owed(address(burner), address(0)), _share(ETH_PRICE, PART));
        assertEq(buyer.balance, 100 ether - _share(ETH_PRICE, PART));
    }

    function test_settle_buyerRejectingEthIsOwed() public {
        Receiver contractBuyer = new Receiver();
        vm.deal(address(contractBuyer), ETH_PRICE);
        bytes32 orderId = abi.decode(
            contractBuyer.exec(
                address(market),
                ETH_PRICE,
                abi.encodeCall(
                    IDataMarket.openOrder,
                    (
                        seller,
                        address(0),
                        ETH_PRICE,
                        TOTAL,
                        deadline,
                        startedFrom,
                        NONCE,
                        sessionKey,
                        IDataMarket.PaymentMethod.Escrow
                    )
                )
            ),
            (bytes32)
        );
        contractBuyer.setAccepts(false);
        _endBySeller(orderId, PART);
        vm.warp(block.timestamp + WINDOW);
        market.settle(orderId);
        assertEq(market.owed(address(contractBuyer), address(0)), ETH_PRICE - _share(ETH_PRICE, PART));
        assertEq(address(market).balance, ETH_PRICE - _share(ETH_PRICE, PART));
    }

    function test_withdrawTo_blockedSellerSignsForAnotherAddress() public {
        FaultyToken faulty = new FaultyToken();
        faulty.mint(buyer, 1_000);
        vm.prank(buyer);
        faulty.approve(address(market), 1_000);
        vm.prank(buyer);
        bytes32 orderId = market.openOrder(
            seller,
            address(faulty),
            1_000,
            4,
            deadline,
            startedFrom,
            NONCE,
            sessionKey,
            IDataMarket.PaymentMethod.Escrow
        );
        faulty.setBlocked(seller, true);
        _endByBuyer(orderId, 3);
        vm.warp(block.timestamp + WINDOW);
        market.settle(orderId);
        assertEq(market.owed(seller, address(faulty)), 750);
        assertEq(faulty.balanceOf(buyer), 250);

        address to = makeAddr("sellerColdWallet");
        bytes memory signature = _signWithdrawalFor(
            address(market), "Agora DataMarket", sellerKey, seller, address(faulty), to, 0, block.timestamp
        );
        vm.prank(stranger);
        market.withdrawTo(seller, address(faulty), to, block.timestamp, signature);
        assertEq(faulty.balanceOf(to), 750);
        assertEq(faulty.balanceOf(address(market)), 0);
    }

    function test_settle_blocksReentryFromToken() public {
        ReentrantToken hostile = new ReentrantToken(address(market));
        hostile.mint(buyer, TOKEN_PRICE);
        vm.prank(buyer);
        hostile.approve(address(market), TOKEN_PRICE);
        bytes32 orderId = _openWith(seller, address(hostile), TOKEN_PRICE);
        _endByBuyer(orderId, PART);
        vm.warp(block.timestamp + WINDOW);

        // While the seller is paid, the token tries to settle the same order again.
        hostile.arm(abi.encodeCall(IDataMarket.settle, (orderId)));
        market.settle(orderId);
        assertTrue(hostile.attempted());
        assertFalse(hostile.succeeded());
        assertEq(hostile.returned(), abi.encodeWithSelector(IPayouts.ReentrantCall.selector));
        assertEq(hostile.balanceOf(seller), _share(TOKEN_PRICE, PART));
        assertEq(hostile.balanceOf(buyer), TOKEN_PRICE - _share(TOKEN_PRICE, PART));
        assertEq(hostile.balanceOf(address(market)), 0);
    }

    function test_end_fullAckBlocksReentryFromToken() public {
        ReentrantToken hostile = new ReentrantToken(address(market));
        hostile.mint(buyer, TOKEN_PRICE);
        vm.prank(buyer);
        hostile.approve(address(market), TOKEN_PRICE);
        bytes32 orderId = _openWith(seller, address(hostile), TOKEN_PRICE);
        // From inside the payout the token tries to register: every entry point is locked, not only settle.
        hostile.arm(abi.encodeCall(IDataMarket.register, (ENDPOINT, messageSigner, MENU_HASH, MENU_URI)));
        _endBySeller(orderId, TOTAL);
        assertTrue(hostile.attempted());
        assertFalse(hostile.succeeded());
        assertEq(hostile.returned(), abi.encodeWithSelector(IPayouts.ReentrantCall.selector));
        assertFalse(market.getSeller(address(hostile)).registered);
        assertEq(hostile.balanceOf(seller), TOKEN_PRICE);
    }

    function test_settle_blocksReentryFromEthReceiver() public {
        ReentrantAccount account = new ReentrantAccount();
        account.exec(
            address(market), 0, abi.encodeCall(IDataMarket.register, (ENDPOINT, messageSigner, MENU_HASH, MENU_URI))
        );
        bytes32 orderId = _openWith(address(account), address(0), ETH_PRICE);
        bytes32 other = _open(address(0), ETH_PRICE, NONCE + 1); // with the fixture seller
        _endByBuyer(orderId, PART);
        _endByBuyer(other, PART);
        vm.warp(block.timestamp + WINDOW);

        // When paid, the seller tries to settle the other order (a call that is otherwise allowed).
        account.arm(address(market), abi.encodeCall(IDataMarket.settle, (other)), 0);
        market.settle(orderId);
        assertTrue(account.attempted());
        assertFalse(account.succeeded());
        assertEq(account.returned(), abi.encodeWithSelector(IPayouts.ReentrantCall.selector));
        assertEq(address(account).balance, _share(ETH_PRICE, PART));
        _assertState(other, IDataMarket.OrderState.Ending);

        market.settle(other);
        _assertState(other, IDataMarket.OrderState.Settled);
    }

    function test_withdraw_revertsWhenNothingOwed() public {
        vm.expectRevert(abi.encodeWithSelector(IPayouts.NothingToWithdraw.selector, stranger, address(token)));
        vm.prank(stranger);
        market.withdraw(address(token));
    }
}
