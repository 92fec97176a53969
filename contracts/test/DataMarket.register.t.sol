// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IDataMarket} from "../src/interfaces/IDataMarket.sol";
import {DataFixture} from "./utils/DataFixture.sol";

/// @notice The seller registry: `register`, `update`, `deregister` and `getSeller`.
contract DataMarketRegisterTest is DataFixture {
    address internal newSeller = makeAddr("newSeller");

    function test_register_storesSellerAndEmits() public {
        vm.expectEmit(address(market));
        emit IDataMarket.SellerRegistered(newSeller, "10.0.0.2:7400", messageSigner, MENU_HASH, "");
        vm.prank(newSeller);
        market.register("10.0.0.2:7400", messageSigner, MENU_HASH, "");

        IDataMarket.Seller memory s = market.getSeller(newSeller);
        assertTrue(s.registered);
        assertEq(s.messageSigner, messageSigner);
        assertEq(s.menuHash, MENU_HASH);
        assertEq(s.endpoint, "10.0.0.2:7400");
        assertEq(s.menuUri, "");
    }

    function test_register_fixtureSellerIsRegistered() public view {
        IDataMarket.Seller memory s = market.getSeller(seller);
        assertTrue(s.registered);
        assertEq(s.endpoint, ENDPOINT);
        assertEq(s.menuUri, MENU_URI);
    }

    function test_register_revertsWhenAlreadyRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.SellerAlreadyRegistered.selector, seller));
        vm.prank(seller);
        market.register(ENDPOINT, messageSigner, MENU_HASH, MENU_URI);
    }

    function test_register_revertsForEmptyEndpoint() public {
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidEndpoint.selector, 0));
        vm.prank(newSeller);
        market.register("", messageSigner, MENU_HASH, MENU_URI);
    }

    function test_register_acceptsEndpointAtMaxAndRevertsAbove() public {
        uint256 max = market.MAX_ENDPOINT_LENGTH();
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidEndpoint.selector, max + 1));
        vm.prank(newSeller);
        market.register(string(new bytes(max + 1)), messageSigner, MENU_HASH, MENU_URI);

        vm.prank(newSeller);
        market.register(string(new bytes(max)), messageSigner, MENU_HASH, MENU_URI);
        assertEq(bytes(market.getSeller(newSeller).endpoint).length, max);
    }

    function test_register_acceptsMenuUriAtMaxAndRevertsAbove() public {
        uint256 max = market.MAX_MENU_URI_LENGTH();
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidMenuUri.selector, max + 1));
        vm.prank(newSeller);
        market.register(ENDPOINT, messageSigner, MENU_HASH, string(new bytes(max + 1)));

        vm.prank(newSeller);
        market.register(ENDPOINT, messageSigner, MENU_HASH, string(new bytes(max)));
        assertEq(bytes(market.getSeller(newSeller).menuUri).length, max);
    }

    function test_register_revertsForZeroMessageSigner() public {
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidMessageSigner.selector, address(0)));
        vm.prank(newSeller);
        market.register(ENDPOINT, address(0), MENU_HASH, MENU_URI);
    }

    function test_register_revertsForZeroMenuHash() public {
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidMenuHash.selector, bytes32(0)));
        vm.prank(newSeller);
        market.register(ENDPOINT, messageSigner, bytes32(0), MENU_URI);
    }

    function test_update_replacesRegistrationAndEmits() public {
        address newKey = makeAddr("rotatedKey");
        bytes32 newMenu = keccak256("menu v2");
        vm.expectEmit(address(market));
        emit IDataMarket.SellerUpdated(seller, "https://data.example.org/stream", newKey, newMenu, "");
        vm.prank(seller);
        market.update("https://data.example.org/stream", newKey, newMenu, "");

        IDataMarket.Seller memory s = market.getSeller(seller);
        assertTrue(s.registered);
        assertEq(s.messageSigner, newKey);
        assertEq(s.menuHash, newMenu);
        assertEq(s.endpoint, "https://data.example.org/stream");
        assertEq(s.menuUri, "");
    }

    function test_update_revertsWhenNotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.SellerNotRegistered.selector, newSeller));
        vm.prank(newSeller);
        market.update(ENDPOINT, messageSigner, MENU_HASH, MENU_URI);
    }

    function test_update_checksFieldsLikeRegister() public {
        vm.startPrank(seller);
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidEndpoint.selector, 0));
        market.update("", messageSigner, MENU_HASH, MENU_URI);
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidMessageSigner.selector, address(0)));
        market.update(ENDPOINT, address(0), MENU_HASH, MENU_URI);
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidMenuHash.selector, bytes32(0)));
        market.update(ENDPOINT, messageSigner, bytes32(0), MENU_URI);
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.InvalidMenuUri.selector, 513));
        market.update(ENDPOINT, messageSigner, MENU_HASH, string(new bytes(513)));
        vm.stopPrank();
    }

    function test_deregister_clearsSellerAndEmits() public {
        vm.expectEmit(address(market));
        emit IDataMarket.SellerDeregistered(seller);
        vm.prank(seller);
        market.deregister();

        IDataMarket.Seller memory s = market.getSeller(seller);
        assertFalse(s.registered);
        assertEq(s.messageSigner, address(0));
        assertEq(s.menuHash, bytes32(0));
        assertEq(s.endpoint, "");
        assertEq(s.menuUri, "");
    }

    function test_deregister_revertsWhenNotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(IDataMarket.SellerNotRegistered.selector, newSeller));
        vm.prank(newSeller);
        market.deregister();
    }

    function test_deregister_refusesNewOrdersButOpenOnesGoOn() public {
        bytes32 orderId = _openToken();
        vm.prank(seller);
        market.deregister();

        vm.expectRevert(abi.encodeWithSelector(IDataMarket.SellerNotRegistered.selector, seller));
        _open(address(token), TOKEN_PRICE, NONCE + 1);

        _endBySeller(orderId, TOTAL);
        assertEq(token.balanceOf(seller), TOKEN_PRICE);
    }

    function test_deregister_thenRegisterAgain() public {
        vm.startPrank(seller);
        market.deregister();
        market.register("new.example.org:1", messageSigner, MENU_HASH, "");
        vm.stopPrank();
        assertTrue(market.getSeller(seller).registered);
        assertEq(market.getSeller(seller).endpoint, "new.example.org:1");
    }

    function test_deregister_keepsRatings() public {
        bytes32 orderId = _openToken();
        _endBySeller(orderId, TOTAL);
        vm.prank(buyer);
        market.rate(orderId, 4, COMMENT);
        vm.prank(seller);
        market.deregister();
        IDataMarket.Rating memory rating = market.sellerRating(seller);
        assertEq(rating.count, 1);
        assertEq(rating.scoreSum, 4);
    }

    function test_getSeller_unknownIsZero() public {
        IDataMarket.Seller memory s = market.getSeller(makeAddr("nobody"));
        assertFalse(s.registered);
        assertEq(s.messageSigner, address(0));
        assertEq(s.endpoint, "");
    }
}
