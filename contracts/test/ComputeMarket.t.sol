// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ComputeMarket} from "../src/ComputeMarket.sol";
import {IComputeMarket} from "../src/interfaces/IComputeMarket.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";
import {FaultyToken, GasBurner, Receiver, ReentrantReceiver, ReentrantToken} from "./utils/Mocks.sol";

contract ComputeMarketTest is MarketFixture {
    // ------------------------------------------------------------ constructor and views

    function test_constructor_setsOwnerAndDefaults() public view {
        assertEq(market.owner(), owner);
        assertEq(market.platformFeeBps(), 0);
        assertEq(market.feeRecipient(), address(0));
        assertEq(market.REFUND_GRACE(), 10 minutes);
        assertEq(market.taskCount(), 0);
        assertEq(market.serviceCount(), 2);
        assertTrue(market.isOperator(operator));
        assertFalse(market.isOperator(stranger));
    }

    function test_constructor_revertsForZeroOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableInvalidOwner.selector, address(0)));
        new ComputeMarket(address(0));
    }

    function test_getTask_unknownIsZero() public view {
        IComputeMarket.Task memory task = market.getTask(42);
        assertEq(task.user, address(0));
        assertEq(task.amount, 0);
        assertEq(market.getTask(0).user, address(0));
    }

    function test_getService_unknownIsZero() public view {
        IComputeMarket.Service memory service = market.getService(0);
        assertEq(service.provider, address(0));
        assertFalse(service.active);
        assertEq(market.getService(3).provider, address(0));
    }

    // ------------------------------------------------------------ listService

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

    // ------------------------------------------------------------ updateService

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
        uint256 later = market.buyCompute{value: 1 ether}(ethService, INPUT);

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

    // ------------------------------------------------------------ delistService

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

    // ------------------------------------------------------------ buyCompute

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
        market.buyCompute{value: ETH_PRICE}(0, INPUT);

        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.ServiceNotFound.selector, 3));
        vm.prank(buyer);
        market.buyCompute{value: ETH_PRICE}(3, INPUT);
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
        market.buyCompute{value: ETH_PRICE - 1}(ethService, INPUT);
    }

    function test_buyCompute_revertsOnOverpayment() public {
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.InsufficientPayment.selector, ETH_PRICE + 1, ETH_PRICE));
        vm.prank(buyer);
        market.buyCompute{value: ETH_PRICE + 1}(ethService, INPUT);
    }

    function test_buyCompute_revertsOnEtherForTokenService() public {
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.UnexpectedEther.selector, 1));
        vm.prank(buyer);
        market.buyCompute{value: 1}(tokenService, INPUT);
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
        market.buyCompute(serviceId, INPUT);
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
        uint256 taskId = market.buyCompute{value: price}(serviceId, INPUT);

        IComputeMarket.Task memory task = market.getTask(taskId);
        assertEq(task.user, buyer);
        assertEq(task.deadline, uint256(timestamp) + runTime + 10 minutes);
        assertEq(uint8(task.status), uint8(IComputeMarket.TaskStatus.Created));
        assertEq(task.serviceId, serviceId);
        assertEq(task.token, address(0));
        assertEq(task.amount, price);
        assertEq(address(market).balance, price);
    }

    // ------------------------------------------------------------ startTask

    function test_startTask_byProviderSetsRunning() public {
        uint256 taskId = _buyEth();
        vm.expectEmit(address(market));
        emit IComputeMarket.TaskStarted(taskId);
        vm.prank(provider);
        market.startTask(taskId);
        assertEq(uint8(_status(taskId)), uint8(IComputeMarket.TaskStatus.Running));
        // Nothing else in the task changes.
        assertEq(market.getTask(taskId).user, buyer);
        assertEq(market.getTask(taskId).amount, ETH_PRICE);
    }

    function test_startTask_byOperatorSetsRunning() public {
        uint256 taskId = _buyEth();
        vm.prank(operator);
        market.startTask(taskId);
        assertEq(uint8(_status(taskId)), uint8(IComputeMarket.TaskStatus.Running));
    }

    function test_startTask_revertsForUnknownTask() public {
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.TaskNotFound.selector, 1));
        vm.prank(operator);
        market.startTask(1);
    }

    function test_startTask_revertsForUnauthorizedCaller() public {
        uint256 taskId = _buyEth();
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.NotAuthorized.selector, taskId, buyer));
        vm.prank(buyer);
        market.startTask(taskId);
    }

    function test_startTask_revertsWhenAlreadyRunning() public {
        uint256 taskId = _buyEth();
        vm.startPrank(operator);
        market.startTask(taskId);
        vm.expectRevert(
            abi.encodeWithSelector(IComputeMarket.InvalidTaskStatus.selector, taskId, IComputeMarket.TaskStatus.Running)
        );
        market.startTask(taskId);
        vm.stopPrank();
    }

    function test_startTask_revertsWhenFinished() public {
        uint256 taskId = _buyEth();
        vm.startPrank(operator);
        market.completeTask(taskId, RESULT);
        vm.expectRevert(
            abi.encodeWithSelector(
                IComputeMarket.InvalidTaskStatus.selector, taskId, IComputeMarket.TaskStatus.Completed
            )
        );
        market.startTask(taskId);
        vm.stopPrank();
    }

    // ------------------------------------------------------------ completeTask

    function test_completeTask_fromCreatedPaysProviderAndEmits() public {
        uint256 taskId = _buyEth();
        vm.expectEmit(address(market));
        emit IComputeMarket.TaskCompleted(taskId, RESULT);
        vm.prank(operator);
        market.completeTask(taskId, RESULT);

        assertEq(uint8(_status(taskId)), uint8(IComputeMarket.TaskStatus.Completed));
        assertEq(provider.balance, ETH_PRICE);
        assertEq(address(market).balance, 0);
        // The task keeps its record.
        assertEq(market.getTask(taskId).amount, ETH_PRICE);
        assertEq(market.getTask(taskId).user, buyer);
    }

    function test_completeTask_fromRunningByProvider() public {
        uint256 taskId = _buyEth();
        vm.startPrank(provider);
        market.startTask(taskId);
        market.completeTask(taskId, RESULT);
        vm.stopPrank();
        assertEq(uint8(_status(taskId)), uint8(IComputeMarket.TaskStatus.Completed));
        assertEq(provider.balance, ETH_PRICE);
    }

    function test_completeTask_tokenPaysProvider() public {
        uint256 taskId = _buyToken();
        vm.prank(operator);
        market.completeTask(taskId, RESULT);
        assertEq(token.balanceOf(provider), TOKEN_PRICE);
        assertEq(token.balanceOf(address(market)), 0);
    }

    function test_completeTask_withFeeSplitsEth() public {
        vm.prank(owner);
        market.setPlatformFee(250, feeTo);
        uint256 taskId = _buyEth();
        vm.prank(operator);
        market.completeTask(taskId, RESULT);
        uint256 fee = ETH_PRICE * 250 / 10_000;
        assertEq(feeTo.balance, fee);
        assertEq(provider.balance, ETH_PRICE - fee);
        assertEq(address(market).balance, 0);
    }

    function test_completeTask_withFeeSplitsToken() public {
        vm.prank(owner);
        market.setPlatformFee(1000, feeTo);
        uint256 taskId = _buyToken();
        vm.prank(provider);
        market.completeTask(taskId, RESULT);
        assertEq(token.balanceOf(feeTo), TOKEN_PRICE / 10);
        assertEq(token.balanceOf(provider), TOKEN_PRICE - TOKEN_PRICE / 10);
        assertEq(token.balanceOf(address(market)), 0);
    }

    function test_completeTask_feeRoundingToZeroSkipsFeeTransfer() public {
        vm.prank(owner);
        market.setPlatformFee(100, feeTo);
        vm.prank(provider);
        uint256 serviceId = market.listService(address(token), 99, RUN_TIME, METADATA);
        vm.prank(buyer);
        uint256 taskId = market.buyCompute(serviceId, INPUT);

        vm.recordLogs();
        vm.prank(operator);
        market.completeTask(taskId, RESULT);
        // TaskCompleted and a single Transfer (to the provider): no zero-value fee transfer.
        assertEq(vm.getRecordedLogs().length, 2);
        assertEq(token.balanceOf(provider), 99);
        assertEq(token.balanceOf(feeTo), 0);
    }

    function test_completeTask_revertsForUnknownTask() public {
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.TaskNotFound.selector, 7));
        vm.prank(operator);
        market.completeTask(7, RESULT);
    }

    function test_completeTask_revertsForUnauthorizedCaller() public {
        uint256 taskId = _buyEth();
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.NotAuthorized.selector, taskId, stranger));
        vm.prank(stranger);
        market.completeTask(taskId, RESULT);

        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.NotAuthorized.selector, taskId, buyer));
        vm.prank(buyer);
        market.completeTask(taskId, RESULT);
    }

    function test_completeTask_revertsWhenCompleted() public {
        uint256 taskId = _buyEth();
        vm.startPrank(operator);
        market.completeTask(taskId, RESULT);
        vm.expectRevert(
            abi.encodeWithSelector(
                IComputeMarket.InvalidTaskStatus.selector, taskId, IComputeMarket.TaskStatus.Completed
            )
        );
        market.completeTask(taskId, RESULT);
        vm.stopPrank();
        assertEq(provider.balance, ETH_PRICE);
    }

    function test_completeTask_revertsWhenRefunded() public {
        uint256 taskId = _buyEth();
        vm.startPrank(operator);
        market.failTask(taskId, "boom");
        vm.expectRevert(
            abi.encodeWithSelector(
                IComputeMarket.InvalidTaskStatus.selector, taskId, IComputeMarket.TaskStatus.Refunded
            )
        );
        market.completeTask(taskId, RESULT);
        vm.stopPrank();
    }

    function test_completeTask_afterDeadlineStillAllowed() public {
        uint256 taskId = _buyEth();
        vm.warp(market.getTask(taskId).deadline + 1 days);
        vm.prank(operator);
        market.completeTask(taskId, RESULT);
        assertEq(provider.balance, ETH_PRICE);
    }

    function testFuzz_completeTask_feeMath(uint96 price, uint16 feeBps) public {
        price = uint96(bound(price, 1, type(uint96).max));
        feeBps = uint16(bound(feeBps, 0, market.MAX_FEE_BPS()));
        vm.prank(owner);
        market.setPlatformFee(feeBps, feeTo);
        vm.prank(provider);
        uint256 serviceId = market.listService(address(0), price, RUN_TIME, METADATA);
        vm.deal(buyer, price);
        vm.prank(buyer);
        uint256 taskId = market.buyCompute{value: price}(serviceId, INPUT);
        vm.prank(operator);
        market.completeTask(taskId, RESULT);

        uint256 fee = uint256(price) * feeBps / 10_000;
        assertEq(feeTo.balance, fee);
        assertEq(provider.balance, price - fee);
        assertEq(feeTo.balance + provider.balance, price);
        assertEq(address(market).balance, 0);
    }

    // ------------------------------------------------------------ operators

    function test_completeTask_byOlderOperatorAfterAnotherIsAdded() public {
        address second = makeAddr("second");
        vm.prank(owner);
        market.setOperator(second, true);
        uint256 a = _buyEth();
        uint256 b = _buyEth();
        vm.prank(operator);
        market.completeTask(a, RESULT);
        vm.prank(second);
        market.completeTask(b, RESULT);
        assertEq(provider.balance, 2 * ETH_PRICE);
    }

    function test_completeTask_revertsForRemovedOperator() public {
        uint256 taskId = _buyEth();
        vm.prank(owner);
        market.setOperator(operator, false);
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.NotAuthorized.selector, taskId, operator));
        vm.prank(operator);
        market.completeTask(taskId, RESULT);
    }

    function test_completeTask_revertsForRemovedOlderOperator() public {
        address second = makeAddr("second");
        vm.startPrank(owner);
        market.setOperator(second, true);
        market.setOperator(operator, false);
        vm.stopPrank();
        uint256 taskId = _buyEth();
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.NotAuthorized.selector, taskId, operator));
        vm.prank(operator);
        market.completeTask(taskId, RESULT);
        vm.prank(second);
        market.completeTask(taskId, RESULT);
    }

    // ------------------------------------------------------------ failTask

    function test_failTask_refundsBuyerAndEmitsFailedThenRefunded() public {
        uint256 taskId = _buyEth();
        vm.expectEmit(address(market));
        emit IComputeMarket.TaskFailed(taskId, "executor crashed");
        vm.expectEmit(address(market));
        emit IComputeMarket.TaskRefunded(taskId);
        vm.prank(operator);
        market.failTask(taskId, "executor crashed");

        assertEq(uint8(_status(taskId)), uint8(IComputeMarket.TaskStatus.Refunded));
        assertEq(buyer.balance, 100 ether);
        assertEq(address(market).balance, 0);
    }

    function test_failTask_fromRunningRefundsToken() public {
        uint256 taskId = _buyToken();
        vm.startPrank(provider);
        market.startTask(taskId);
        market.failTask(taskId, "out of memory");
        vm.stopPrank();
        assertEq(token.balanceOf(buyer), 1_000 ether);
        assertEq(token.balanceOf(address(market)), 0);
    }

    function test_failTask_refundsFullPriceDespiteFee() public {
        vm.prank(owner);
        market.setPlatformFee(1000, feeTo);
        uint256 taskId = _buyEth();
        vm.prank(operator);
        market.failTask(taskId, "");
        assertEq(buyer.balance, 100 ether);
        assertEq(feeTo.balance, 0);
    }

    function test_failTask_revertsForUnknownTask() public {
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.TaskNotFound.selector, 1));
        vm.prank(operator);
        market.failTask(1, "");
    }

    function test_failTask_revertsForUnauthorizedCaller() public {
        uint256 taskId = _buyEth();
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.NotAuthorized.selector, taskId, buyer));
        vm.prank(buyer);
        market.failTask(taskId, "");
    }

    function test_failTask_revertsWhenFinished() public {
        uint256 taskId = _buyEth();
        vm.startPrank(operator);
        market.completeTask(taskId, RESULT);
        vm.expectRevert(
            abi.encodeWithSelector(
                IComputeMarket.InvalidTaskStatus.selector, taskId, IComputeMarket.TaskStatus.Completed
            )
        );
        market.failTask(taskId, "");
        vm.stopPrank();
    }

    // ------------------------------------------------------------ claimRefund

    function test_claimRefund_revertsAtDeadline() public {
        uint256 taskId = _buyEth();
        uint256 deadline = market.getTask(taskId).deadline;
        vm.warp(deadline);
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.DeadlineNotReached.selector, taskId, deadline, deadline));
        vm.prank(buyer);
        market.claimRefund(taskId);
    }

    function test_claimRefund_refundsAfterDeadline() public {
        uint256 taskId = _buyEth();
        vm.warp(market.getTask(taskId).deadline + 1);
        vm.expectEmit(address(market));
        emit IComputeMarket.TaskRefunded(taskId);
        vm.prank(buyer);
        market.claimRefund(taskId);
        assertEq(uint8(_status(taskId)), uint8(IComputeMarket.TaskStatus.Refunded));
        assertEq(buyer.balance, 100 ether);
        assertEq(address(market).balance, 0);
    }

    function test_claimRefund_refundsRunningTokenTask() public {
        uint256 taskId = _buyToken();
        vm.prank(operator);
        market.startTask(taskId);
        vm.warp(market.getTask(taskId).deadline + 1);
        vm.prank(buyer);
        market.claimRefund(taskId);
        assertEq(token.balanceOf(buyer), 1_000 ether);
    }

    function test_claimRefund_revertsForUnknownTask() public {
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.TaskNotFound.selector, 5));
        vm.prank(buyer);
        market.claimRefund(5);
    }

    function test_claimRefund_revertsForOtherCaller() public {
        uint256 taskId = _buyEth();
        vm.warp(market.getTask(taskId).deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.NotTaskUser.selector, taskId, operator));
        vm.prank(operator);
        market.claimRefund(taskId);
    }

    function test_claimRefund_revertsWhenCompleted() public {
        uint256 taskId = _buyEth();
        vm.prank(operator);
        market.completeTask(taskId, RESULT);
        vm.warp(market.getTask(taskId).deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IComputeMarket.InvalidTaskStatus.selector, taskId, IComputeMarket.TaskStatus.Completed
            )
        );
        vm.prank(buyer);
        market.claimRefund(taskId);
    }

    function test_claimRefund_revertsWhenAlreadyRefunded() public {
        uint256 taskId = _buyEth();
        vm.warp(market.getTask(taskId).deadline + 1);
        vm.startPrank(buyer);
        market.claimRefund(taskId);
        vm.expectRevert(
            abi.encodeWithSelector(
                IComputeMarket.InvalidTaskStatus.selector, taskId, IComputeMarket.TaskStatus.Refunded
            )
        );
        market.claimRefund(taskId);
        vm.stopPrank();
        assertEq(buyer.balance, 100 ether);
    }

    function testFuzz_claimRefund_onlyAfterDeadline(uint64 runTime, uint256 elapsed) public {
        runTime = uint64(bound(runTime, 1, market.MAX_RUN_TIME()));
        elapsed = bound(elapsed, 0, uint256(runTime) * 2 + 1 hours);
        vm.prank(provider);
        uint256 serviceId = market.listService(address(0), ETH_PRICE, runTime, METADATA);
        uint256 start = block.timestamp;
        vm.prank(buyer);
        uint256 taskId = market.buyCompute{value: ETH_PRICE}(serviceId, INPUT);
        uint256 deadline = start + runTime + 10 minutes;
        assertEq(market.getTask(taskId).deadline, deadline);

        vm.warp(start + elapsed);
        if (block.timestamp <= deadline) {
            vm.expectRevert(
                abi.encodeWithSelector(IComputeMarket.DeadlineNotReached.selector, taskId, deadline, block.timestamp)
            );
        }
        vm.prank(buyer);
        market.claimRefund(taskId);
        if (block.timestamp > deadline) {
            assertEq(buyer.balance, 100 ether);
        } else {
            assertEq(buyer.balance, 100 ether - ETH_PRICE);
        }
    }

    // ------------------------------------------------------------ deferred payouts and withdraw

    function test_completeTask_defersPayoutToRejectingProvider() public {
        Receiver rejecting = new Receiver();
        rejecting.setAccepts(false);
        uint256 serviceId = _listAs(address(rejecting), address(0), ETH_PRICE);
        vm.prank(buyer);
        uint256 taskId = market.buyCompute{value: ETH_PRICE}(serviceId, INPUT);

        vm.expectEmit(address(market));
        emit IComputeMarket.PayoutDeferred(address(rejecting), address(0), ETH_PRICE);
        vm.prank(operator);
        market.completeTask(taskId, RESULT);

        assertEq(uint8(_status(taskId)), uint8(IComputeMarket.TaskStatus.Completed));
        assertEq(market.owed(address(rejecting), address(0)), ETH_PRICE);
        assertEq(address(market).balance, ETH_PRICE);

        // Still rejecting: withdraw fails and keeps the credit.
        vm.expectRevert(
            abi.encodeWithSelector(IComputeMarket.TransferFailed.selector, address(rejecting), address(0), ETH_PRICE)
        );
        vm.prank(address(rejecting));
        market.withdraw(address(0));
        assertEq(market.owed(address(rejecting), address(0)), ETH_PRICE);

        rejecting.setAccepts(true);
        vm.expectEmit(address(market));
        emit IComputeMarket.Withdrawn(address(rejecting), address(0), ETH_PRICE);
        vm.prank(address(rejecting));
        market.withdraw(address(0));
        assertEq(address(rejecting).balance, ETH_PRICE);
        assertEq(market.owed(address(rejecting), address(0)), 0);
        assertEq(address(market).balance, 0);
    }

    function test_failTask_defersRefundToRejectingBuyer() public {
        Receiver rejecting = new Receiver();
        rejecting.setAccepts(false);
        vm.deal(address(rejecting), ETH_PRICE);
        vm.prank(address(rejecting));
        uint256 taskId = market.buyCompute{value: ETH_PRICE}(ethService, INPUT);

        vm.prank(operator);
        market.failTask(taskId, "");
        assertEq(uint8(_status(taskId)), uint8(IComputeMarket.TaskStatus.Refunded));
        assertEq(market.owed(address(rejecting), address(0)), ETH_PRICE);

        rejecting.setAccepts(true);
        vm.prank(address(rejecting));
        market.withdraw(address(0));
        assertEq(address(rejecting).balance, ETH_PRICE);
    }

    function test_completeTask_defersFeeToRejectingRecipient() public {
        Receiver rejecting = new Receiver();
        rejecting.setAccepts(false);
        vm.prank(owner);
        market.setPlatformFee(500, address(rejecting));
        uint256 taskId = _buyEth();
        vm.prank(operator);
        market.completeTask(taskId, RESULT);
        uint256 fee = ETH_PRICE * 500 / 10_000;
        assertEq(market.owed(address(rejecting), address(0)), fee);
        assertEq(provider.balance, ETH_PRICE - fee);
        assertEq(address(market).balance, fee);
    }

    function test_completeTask_defersPayoutToGasBurner() public {
        GasBurner burner = new GasBurner();
        uint256 serviceId = _listAs(address(burner), address(0), ETH_PRICE);
        vm.prank(buyer);
        uint256 taskId = market.buyCompute{value: ETH_PRICE}(serviceId, INPUT);

        vm.prank(operator);
        market.completeTask{gas: 300_000}(taskId, RESULT);
        assertEq(uint8(_status(taskId)), uint8(IComputeMarket.TaskStatus.Completed));
        assertEq(market.owed(address(burner), address(0)), ETH_PRICE);
    }

    function test_completeTask_defersWhenTokenTransferReverts() public {
        _checkFaultyTokenDeferral(FaultyToken.Mode.Revert);
    }

    function test_completeTask_defersWhenTokenTransferReturnsFalse() public {
        _checkFaultyTokenDeferral(FaultyToken.Mode.ReturnFalse);
    }

    function test_withdraw_revertsWhenNothingOwed() public {
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.NothingToWithdraw.selector, stranger, address(token)));
        vm.prank(stranger);
        market.withdraw(address(token));
    }

    // ------------------------------------------------------------ reentrancy

    function test_completeTask_blocksReentryFromReceiver() public {
        ReentrantReceiver hostile = new ReentrantReceiver(market);
        uint256 serviceId = _listAs(address(hostile), address(0), ETH_PRICE);
        vm.startPrank(buyer);
        uint256 first = market.buyCompute{value: ETH_PRICE}(serviceId, INPUT);
        uint256 second = market.buyCompute{value: ETH_PRICE}(serviceId, INPUT);
        vm.stopPrank();
        // When paid for `first`, the provider tries to complete `second` from inside the payout.
        hostile.arm(abi.encodeCall(IComputeMarket.completeTask, (second, RESULT)), 0);

        vm.prank(operator);
        market.completeTask(first, RESULT);

        assertTrue(hostile.attempted());
        assertFalse(hostile.succeeded());
        assertEq(hostile.returned(), abi.encodeWithSelector(ComputeMarket.ReentrantCall.selector));
        assertEq(uint8(_status(first)), uint8(IComputeMarket.TaskStatus.Completed));
        assertEq(uint8(_status(second)), uint8(IComputeMarket.TaskStatus.Created));
        assertEq(address(hostile).balance, ETH_PRICE);
        assertEq(address(market).balance, ETH_PRICE);
    }

    function test_failTask_blocksReentryIntoWithdraw() public {
        ReentrantReceiver hostile = new ReentrantReceiver(market);
        bytes memory buy = abi.encodeCall(IComputeMarket.buyCompute, (ethService, INPUT));
        uint256 taskId = abi.decode(hostile.exec{value: ETH_PRICE}(address(market), ETH_PRICE, buy), (uint256));
        // When refunded, the buyer tries to withdraw from inside the refund push.
        hostile.arm(abi.encodeCall(IComputeMarket.withdraw, (address(0))), 0);

        vm.prank(operator);
        market.failTask(taskId, "");

        assertTrue(hostile.attempted());
        assertFalse(hostile.succeeded());
        assertEq(hostile.returned(), abi.encodeWithSelector(ComputeMarket.ReentrantCall.selector));
        assertEq(address(hostile).balance, ETH_PRICE);
        assertEq(market.owed(address(hostile), address(0)), 0);
        assertEq(address(market).balance, 0);
    }

    function test_completeTask_blocksReentryIntoBuyCompute() public {
        ReentrantReceiver hostile = new ReentrantReceiver(market);
        vm.deal(address(hostile), ETH_PRICE);
        vm.prank(owner);
        market.setPlatformFee(1000, address(hostile));
        // When paid its fee, the recipient tries to buy from inside the push.
        hostile.arm(abi.encodeCall(IComputeMarket.buyCompute, (ethService, INPUT)), ETH_PRICE);
        uint256 taskId = _buyEth();

        vm.prank(operator);
        market.completeTask(taskId, RESULT);

        assertTrue(hostile.attempted());
        assertEq(hostile.returned(), abi.encodeWithSelector(ComputeMarket.ReentrantCall.selector));
        assertEq(market.taskCount(), 1);
        assertEq(address(hostile).balance, ETH_PRICE + ETH_PRICE / 10);
        assertEq(provider.balance, ETH_PRICE - ETH_PRICE / 10);
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
        market.buyCompute(serviceId, INPUT);

        assertTrue(hostile.attempted());
        assertFalse(hostile.succeeded());
        assertEq(hostile.returned(), abi.encodeWithSelector(ComputeMarket.ReentrantCall.selector));
        assertEq(uint8(_status(nextTask)), uint8(IComputeMarket.TaskStatus.Created));
        assertEq(hostile.balanceOf(address(market)), TOKEN_PRICE);
    }

    function test_completeTask_blocksReentryFromTokenPayout() public {
        ReentrantToken hostile = new ReentrantToken(address(market));
        uint256 serviceId = _listAs(address(hostile), address(hostile), TOKEN_PRICE);
        hostile.mint(buyer, 2 * TOKEN_PRICE);
        vm.startPrank(buyer);
        hostile.approve(address(market), 2 * TOKEN_PRICE);
        uint256 first = market.buyCompute(serviceId, INPUT);
        uint256 second = market.buyCompute(serviceId, INPUT);
        vm.stopPrank();
        hostile.arm(abi.encodeCall(IComputeMarket.failTask, (second, "")));

        vm.prank(operator);
        market.completeTask(first, RESULT);

        assertEq(hostile.returned(), abi.encodeWithSelector(ComputeMarket.ReentrantCall.selector));
        assertEq(uint8(_status(second)), uint8(IComputeMarket.TaskStatus.Created));
        assertEq(hostile.balanceOf(address(market)), TOKEN_PRICE);
    }

    // ------------------------------------------------------------ owner

    function test_setOperator_setsAndEmits() public {
        vm.expectEmit(address(market));
        emit IComputeMarket.OperatorSet(stranger, true);
        vm.prank(owner);
        market.setOperator(stranger, true);
        assertTrue(market.isOperator(stranger));

        vm.expectEmit(address(market));
        emit IComputeMarket.OperatorSet(stranger, false);
        vm.prank(owner);
        market.setOperator(stranger, false);
        assertFalse(market.isOperator(stranger));
        assertTrue(market.isOperator(operator));
    }

    function test_setOperator_revertsForNonOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, operator));
        vm.prank(operator);
        market.setOperator(stranger, true);
    }

    function test_setPlatformFee_setsAndEmits() public {
        vm.expectEmit(address(market));
        emit IComputeMarket.PlatformFeeSet(1000, feeTo);
        vm.prank(owner);
        market.setPlatformFee(1000, feeTo);
        assertEq(market.platformFeeBps(), 1000);
        assertEq(market.feeRecipient(), feeTo);
        // Setting it does not disturb the cached operator sharing its storage word.
        assertTrue(market.isOperator(operator));
        uint256 taskId = _buyEth();
        vm.prank(operator);
        market.completeTask(taskId, RESULT);

        vm.prank(owner);
        market.setPlatformFee(0, address(0));
        assertEq(market.platformFeeBps(), 0);
        assertEq(market.feeRecipient(), address(0));
    }

    function test_setPlatformFee_revertsAboveMax() public {
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.FeeTooHigh.selector, 1001, 1000));
        vm.prank(owner);
        market.setPlatformFee(1001, feeTo);
    }

    function test_setPlatformFee_revertsForZeroRecipient() public {
        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.InvalidFeeRecipient.selector, address(0)));
        vm.prank(owner);
        market.setPlatformFee(1, address(0));
    }

    function test_setPlatformFee_revertsForNonOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        market.setPlatformFee(10, feeTo);
    }

    // ------------------------------------------------------------ helpers

    function _listAs(address who, address token_, uint256 price) internal returns (uint256 serviceId) {
        vm.prank(who);
        serviceId = market.listService(token_, price, RUN_TIME, METADATA);
    }

    function _checkFaultyTokenDeferral(FaultyToken.Mode mode) internal {
        FaultyToken faulty = new FaultyToken();
        faulty.setMode(mode);
        uint256 serviceId = _listAs(provider, address(faulty), 100);
        faulty.mint(buyer, 100);
        vm.startPrank(buyer);
        faulty.approve(address(market), 100);
        uint256 taskId = market.buyCompute(serviceId, INPUT);
        vm.stopPrank();
        faulty.setBlocked(provider, true);

        vm.expectEmit(address(market));
        emit IComputeMarket.PayoutDeferred(provider, address(faulty), 100);
        vm.prank(operator);
        market.completeTask(taskId, RESULT);
        assertEq(market.owed(provider, address(faulty)), 100);
        assertEq(faulty.balanceOf(address(market)), 100);

        vm.expectRevert(abi.encodeWithSelector(IComputeMarket.TransferFailed.selector, provider, address(faulty), 100));
        vm.prank(provider);
        market.withdraw(address(faulty));

        faulty.setBlocked(provider, false);
        vm.prank(provider);
        market.withdraw(address(faulty));
        assertEq(faulty.balanceOf(provider), 100);
        assertEq(market.owed(provider, address(faulty)), 0);
    }
}
