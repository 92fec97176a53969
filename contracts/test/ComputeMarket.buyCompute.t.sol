// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ComputeMarket} from "../src/ComputeMarket.sol";
import {IComputeMarket} from "../src/interfaces/IComputeMarket.sol";
import {IPayouts} from "../src/interfaces/IPayouts.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";
import {
    FeeOnTransferToken,
    FaultyToken,
    GasBurner,
    Receiver,
    ReentrantReceiver,
    ReentrantToken
} from "./utils/Mocks.sol";

/// @notice `buyCompute` tests, on the shared fixture.
contract ComputeMarketBuyComputeTest is MarketFixture {
    function test_buyCompute_ethEscrowsPriceAndEmits() public {
        uint64 deadline = uint64(block.timestamp + RUN_TIME + 10 minutes);
        vm.expectEmit(address(market));
        emit IComputeMarket.TaskCreated(1, buyer, ethService, ETH_PRICE);
        vm.expectEmit(address(market));
        emit IComputeMarket.TaskInput(1, deadline, INPUT);
        uint256 taskId = _buyEth();

        assertEq(taskId, 1);
        assertEq(market.taskCount(), 1);
        assertEq(address(market).balance, ETH_PRICE);
        assertEq(buyer.balance, 100 ether - ETH_PRICE);
        IComputeMarket.Task memory task = market.getTask(taskId);
        assertEq(task.user, buyer);
        assertEq(task.deadline, deadline);
        assertEq(uint8(task.status), uint8(IComputeMarket.TaskStatus.Created));
        assertEq(task.serviceId, ethService);
        assertEq(task.token, address(0));
        assertEq(task.amount, ETH_PRICE);
    }

    function test_buyCompute_tokenPullsPriceAndEmits() public {
        vm.expectEmit(address(market));
        emit IComputeMarket.TaskCreated(1, buyer, tokenService, TOKEN_PRICE);
        vm.expectEmit(address(market));
        emit IComputeMarket.TaskInput(1, uint64(block.timestamp + RUN_TIME + 10 minutes), INPUT);
        uint256 taskId = _buyToken();

        assertEq(token.balanceOf(address(market)), TOKEN_PRICE);
        assertEq(token.balanceOf(buyer), 1_000 ether - TOKEN_PRICE);
        IComputeMarket.Task memory task = market.getTask(taskId);
        assertEq(task.token, address(token));
        assertEq(task.amount, TOKEN_PRICE);
        assertEq(task.serviceId, tokenService);
    }

    function test_buyCompute_taskIdsIncrease() public {
        assertEq(_buyEth(), 1);
        assertEq(_buyToken(), 2);
        assertEq(_buyEth(), 3);
        assertEq(market.taskCount(), 3);
    }

    function test_buyCompute_revertsForUnknownService() public {
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.ServiceNotFound.selector, 0));
        vm.prank(buyer);
        market.buyCompute{value: ETH_PRICE}(0, INPUT, ETH_PRICE, RUN_TIME);

        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.ServiceNotFound.selector, 3));
        vm.prank(buyer);
        market.buyCompute{value: ETH_PRICE}(3, INPUT, ETH_PRICE, RUN_TIME);
    }

    function test_buyCompute_revertsForInactiveService() public {
        vm.prank(provider);
        market.delistService(ethService);
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.ServiceInactive.selector, ethService));
        _buyEth();
    }

    function test_buyCompute_revertsOnUnderpayment() public {
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.InsufficientPayment.selector, ETH_PRICE - 1, ETH_PRICE));
        vm.prank(buyer);
        market.buyCompute{value: ETH_PRICE - 1}(ethService, INPUT, ETH_PRICE, RUN_TIME);
    }

    function test_buyCompute_revertsOnOverpayment() public {
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.InsufficientPayment.selector, ETH_PRICE + 1, ETH_PRICE));
        vm.prank(buyer);
        market.buyCompute{value: ETH_PRICE + 1}(ethService, INPUT, ETH_PRICE, RUN_TIME);
    }

    function test_buyCompute_revertsOnEtherForTokenService() public {
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.UnexpectedEther.selector, 1));
        vm.prank(buyer);
        market.buyCompute{value: 1}(tokenService, INPUT, TOKEN_PRICE, RUN_TIME);
    }

    function test_buyCompute_revertsWithoutAllowance() public {
        vm.prank(buyer);
        token.approve(address(market), TOKEN_PRICE - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IERC20Errors.ERC20InsufficientAllowance.selector, address(market), TOKEN_PRICE - 1, TOKEN_PRICE
            )
        );
        _buyToken();
        assertEq(market.taskCount(), 0);
    }

    function test_buyCompute_revertsForTokenWithoutCode() public {
        address notAToken = makeAddr("notAToken");
        uint256 serviceId = _listAs(provider, notAToken, 1);
        vm.expectRevert(abi.encodeWithSelector(SafeERC20.SafeERC20FailedOperation.selector, notAToken));
        vm.prank(buyer);
        market.buyCompute(serviceId, INPUT, 1, RUN_TIME);
    }

    function testFuzz_buyCompute_storesTermsExactly(uint96 price, uint64 runTime, uint40 timestamp) public {
        price = uint96(bound(price, 1, type(uint96).max));
        runTime = uint64(bound(runTime, 1, market.MAX_RUN_TIME()));
        timestamp = uint40(bound(timestamp, 1, type(uint40).max - market.MAX_RUN_TIME() - 10 minutes));
        vm.prank(provider);
        uint256 serviceId = market.listService(address(0), price, runTime, METADATA);
        vm.warp(timestamp);
        vm.deal(buyer, price);
        vm.prank(buyer);
        uint256 taskId = market.buyCompute{value: price}(serviceId, INPUT, price, runTime);

        IComputeMarket.Task memory task = market.getTask(taskId);
        assertEq(task.user, buyer);
        assertEq(task.deadline, uint256(timestamp) + runTime + 10 minutes);
        assertEq(uint8(task.status), uint8(IComputeMarket.TaskStatus.Created));
        assertEq(task.serviceId, serviceId);
        assertEq(task.token, address(0));
        assertEq(task.amount, price);
        assertEq(address(market).balance, price);
    }

    function test_buyCompute_blocksReentryFromToken() public {
        ReentrantToken hostile = new ReentrantToken(address(market));
        // The token is its own service's provider: without the lock, it could complete the task being
        // bought before the buyer's tokens arrive, paying itself out of other escrow.
        uint256 serviceId = _listAs(address(hostile), address(hostile), TOKEN_PRICE);
        hostile.mint(buyer, TOKEN_PRICE);
        vm.prank(buyer);
        hostile.approve(address(market), TOKEN_PRICE);
        uint256 nextTask = market.taskCount() + 1;
        hostile.arm(abi.encodeCall(IComputeMarket.completeTask, (nextTask, RESULT)));

        vm.prank(buyer);
        market.buyCompute(serviceId, INPUT, TOKEN_PRICE, RUN_TIME);

        assertTrue(hostile.attempted());
        assertFalse(hostile.succeeded());
        assertEq(hostile.returned(), abi.encodeWithSelector(IPayouts.ReentrantCall.selector));
        assertEq(uint8(_status(nextTask)), uint8(IComputeMarket.TaskStatus.Created));
        assertEq(hostile.balanceOf(address(market)), TOKEN_PRICE);
    }

    // Flaw 1: a provider front-running a purchase with `updateService` could charge a price the buyer
    // never saw (its allowance covered it) or lock its refund for a year.

    function test_buyCompute_revertsWhenPriceRaisedBeforePurchase() public {
        vm.prank(provider);
        market.updateService(tokenService, 3 * TOKEN_PRICE, RUN_TIME, METADATA);
        uint256 balance = token.balanceOf(buyer);

        vm.expectRevert(
            abi.encodeWithSelector(
                IComputeMarket.TermsChanged.selector, tokenService, TOKEN_PRICE, RUN_TIME, 3 * TOKEN_PRICE, RUN_TIME
            )
        );
        vm.prank(buyer);
        market.buyCompute(tokenService, INPUT, TOKEN_PRICE, RUN_TIME);
        assertEq(token.balanceOf(buyer), balance);
        assertEq(market.taskCount(), 0);
    }

    function test_buyCompute_revertsWhenRunTimeLengthenedBeforePurchase() public {
        vm.prank(provider);
        market.updateService(ethService, ETH_PRICE, 365 days, METADATA);

        vm.expectRevert(
            abi.encodeWithSelector(
                IComputeMarket.TermsChanged.selector, ethService, ETH_PRICE, RUN_TIME, ETH_PRICE, 365 days
            )
        );
        vm.prank(buyer);
        market.buyCompute{value: ETH_PRICE}(ethService, INPUT, ETH_PRICE, RUN_TIME);
        assertEq(buyer.balance, 100 ether);
    }

    function test_buyCompute_revertsWhenPriceLoweredBeforePurchase() public {
        // Even a cheaper price is not what the buyer agreed to: it must see the new terms first.
        vm.prank(provider);
        market.updateService(ethService, ETH_PRICE / 2, RUN_TIME, METADATA);
        vm.expectRevert(
            abi.encodeWithSelector(
                IComputeMarket.TermsChanged.selector, ethService, ETH_PRICE, RUN_TIME, ETH_PRICE / 2, RUN_TIME
            )
        );
        vm.prank(buyer);
        market.buyCompute{value: ETH_PRICE}(ethService, INPUT, ETH_PRICE, RUN_TIME);
    }

    function testFuzz_buyCompute_paysOnlyTheAgreedTerms(uint96 agreedPrice, uint64 agreedRunTime) public {
        agreedPrice = uint96(bound(agreedPrice, 1, 2 * TOKEN_PRICE));
        agreedRunTime = uint64(bound(agreedRunTime, 1, 2 * RUN_TIME));
        bool same = agreedPrice == TOKEN_PRICE && agreedRunTime == RUN_TIME;
        uint256 balance = token.balanceOf(buyer);
        if (!same) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IComputeMarket.TermsChanged.selector,
                    tokenService,
                    agreedPrice,
                    agreedRunTime,
                    TOKEN_PRICE,
                    RUN_TIME
                )
            );
        }
        vm.prank(buyer);
        market.buyCompute(tokenService, INPUT, agreedPrice, agreedRunTime);
        assertEq(balance - token.balanceOf(buyer), same ? TOKEN_PRICE : 0);
    }

    // Flaw 2: a fee-on-transfer token booked the requested amount as escrow while less arrived.

    function test_buyCompute_refusesFeeOnTransferToken() public {
        FeeOnTransferToken taxed = new FeeOnTransferToken(100); // 1%
        uint256 serviceId = _listAs(provider, address(taxed), TOKEN_PRICE);
        taxed.mint(buyer, TOKEN_PRICE);
        vm.prank(buyer);
        taxed.approve(address(market), TOKEN_PRICE);

        vm.expectRevert(
            abi.encodeWithSelector(
                IPayouts.AmountNotReceived.selector, address(taxed), TOKEN_PRICE, TOKEN_PRICE - TOKEN_PRICE / 100
            )
        );
        vm.prank(buyer);
        market.buyCompute(serviceId, INPUT, TOKEN_PRICE, RUN_TIME);
        assertEq(taxed.balanceOf(buyer), TOKEN_PRICE);
        assertEq(taxed.balanceOf(address(market)), 0);
    }

    function test_buyCompute_acceptsTheSameTokenOnceItStopsTaxing() public {
        FeeOnTransferToken taxed = new FeeOnTransferToken(0);
        uint256 serviceId = _listAs(provider, address(taxed), TOKEN_PRICE);
        taxed.mint(buyer, TOKEN_PRICE);
        vm.prank(buyer);
        taxed.approve(address(market), TOKEN_PRICE);
        vm.prank(buyer);
        uint256 taskId = market.buyCompute(serviceId, INPUT, TOKEN_PRICE, RUN_TIME);
        assertEq(taxed.balanceOf(address(market)), TOKEN_PRICE);
        assertEq(market.getTask(taskId).amount, TOKEN_PRICE);
    }
}
