// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ComputeMarket} from "../src/ComputeMarket.sol";
import {IComputeMarket} from "../src/interfaces/IComputeMarket.sol";
import {IPayouts} from "../src/interfaces/IPayouts.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";
import {FaultyToken, GasBurner, Receiver, ReentrantReceiver, ReentrantToken} from "./utils/Mocks.sol";

/// @notice `services` tests, on the shared fixture.
contract ComputeMarketServicesTest is MarketFixture {
    function test_listService_storesServiceAndEmits() public {
        vm.expectEmit(address(market));
        emit IComputeMarket.ServiceListed(3, stranger, address(token), 7, 90, "ipfs://x");
        vm.prank(stranger);
        uint256 id = market.listService(address(token), 7, 90, "ipfs://x");

        assertEq(id, 3);
        assertEq(market.serviceCount(), 3);
        IComputeMarket.Service memory service = market.getService(id);
        assertEq(service.provider, stranger);
        assertEq(service.maxRunTime, 90);
        assertTrue(service.active);
        assertEq(service.token, address(token));
        assertEq(service.price, 7);
        assertEq(service.metadataURI, "ipfs://x");
    }

    function test_listService_idsStartAtOne() public {
        ComputeMarket fresh = new ComputeMarket(owner);
        assertEq(fresh.serviceCount(), 0);
        assertEq(fresh.listService(address(0), 1, 1, ""), 1);
        assertEq(fresh.listService(address(0), 1, 1, ""), 2);
        assertEq(fresh.serviceCount(), 2);
    }

    function test_listService_revertsOnZeroPrice() public {
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.InvalidPrice.selector, 0));
        market.listService(address(0), 0, RUN_TIME, METADATA);
    }

    function test_listService_revertsOnPriceAboveUint96() public {
        uint256 price = uint256(type(uint96).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.InvalidPrice.selector, price));
        market.listService(address(0), price, RUN_TIME, METADATA);
    }

    function test_listService_revertsOnZeroMaxRunTime() public {
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.InvalidMaxRunTime.selector, 0));
        market.listService(address(0), 1, 0, METADATA);
    }

    function test_listService_revertsOnMaxRunTimeAboveBound() public {
        uint64 runTime = market.MAX_RUN_TIME() + 1;
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.InvalidMaxRunTime.selector, runTime));
        market.listService(address(0), 1, runTime, METADATA);
    }

    function testFuzz_listService_acceptsValidTerms(address token_, uint96 price, uint64 runTime) public {
        price = uint96(bound(price, 1, type(uint96).max));
        runTime = uint64(bound(runTime, 1, market.MAX_RUN_TIME()));
        vm.prank(stranger);
        uint256 id = market.listService(token_, price, runTime, METADATA);
        IComputeMarket.Service memory service = market.getService(id);
        assertEq(service.provider, stranger);
        assertEq(service.token, token_);
        assertEq(service.price, price);
        assertEq(service.maxRunTime, runTime);
        assertTrue(service.active);
    }

    function test_updateService_changesTermsAndEmits() public {
        vm.expectEmit(address(market));
        emit IComputeMarket.ServiceUpdated(ethService, 2 ether, 2 hours, "ipfs://v2");
        vm.prank(provider);
        market.updateService(ethService, 2 ether, 2 hours, "ipfs://v2");

        IComputeMarket.Service memory service = market.getService(ethService);
        assertEq(service.price, 2 ether);
        assertEq(service.maxRunTime, 2 hours);
        assertEq(service.metadataURI, "ipfs://v2");
        assertEq(service.provider, provider);
        assertEq(service.token, address(0));
        assertTrue(service.active);
    }

    function test_updateService_appliesOnlyToNewPurchases() public {
        uint256 before = _buyEth();
        vm.prank(provider);
        market.updateService(ethService, 1 ether, 5 hours, METADATA);
        vm.prank(buyer);
        uint256 later = market.buyCompute{value: 1 ether}(ethService, INPUT, 1 ether, 5 hours);

        assertEq(market.getTask(before).amount, ETH_PRICE);
        assertEq(market.getTask(before).deadline, block.timestamp + RUN_TIME + 10 minutes);
        assertEq(market.getTask(later).amount, 1 ether);
        assertEq(market.getTask(later).deadline, block.timestamp + 5 hours + 10 minutes);
    }

    function test_updateService_revertsForUnknownService() public {
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.ServiceNotFound.selector, 9));
        vm.prank(provider);
        market.updateService(9, 1, 1, "");
    }

    function test_updateService_revertsForNonProvider() public {
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.NotServiceProvider.selector, ethService, stranger));
        vm.prank(stranger);
        market.updateService(ethService, 1, 1, "");
    }

    function test_updateService_revertsOnInvalidPrice() public {
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.InvalidPrice.selector, 0));
        vm.prank(provider);
        market.updateService(ethService, 0, 1, "");
    }

    function test_updateService_revertsOnInvalidMaxRunTime() public {
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.InvalidMaxRunTime.selector, 0));
        vm.prank(provider);
        market.updateService(ethService, 1, 0, "");
    }

    function test_delistService_deactivatesAndEmits() public {
        vm.expectEmit(address(market));
        emit IComputeMarket.ServiceDelisted(ethService);
        vm.prank(provider);
        market.delistService(ethService);
        assertFalse(market.getService(ethService).active);
    }

    function test_delistService_keepsBoughtTasksSettleable() public {
        uint256 taskId = _buyEth();
        vm.prank(provider);
        market.delistService(ethService);
        vm.prank(operator);
        market.completeTask(taskId, RESULT);
        assertEq(provider.balance, ETH_PRICE);
    }

    function test_delistService_revertsForUnknownService() public {
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.ServiceNotFound.selector, 0));
        vm.prank(provider);
        market.delistService(0);
    }

    function test_delistService_revertsForNonProvider() public {
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.NotServiceProvider.selector, ethService, operator));
        vm.prank(operator);
        market.delistService(ethService);
    }

    function test_delistService_revertsWhenAlreadyInactive() public {
        vm.startPrank(provider);
        market.delistService(ethService);
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.ServiceInactive.selector, ethService));
        market.delistService(ethService);
        vm.stopPrank();
    }
}
