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

/// @notice `admin` tests, on the shared fixture.
contract ComputeMarketAdminTest is MarketFixture {
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

    // Flaw 6: ownership moved in one step, so a typo handed the market to an address nobody controls.

    function test_transferOwnership_takesTwoSteps() public {
        address next = makeAddr("nextOwner");
        vm.prank(owner);
        market.transferOwnership(next);
        assertEq(market.owner(), owner);
        assertEq(market.pendingOwner(), next);

        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        market.acceptOwnership();

        vm.prank(next);
        market.acceptOwnership();
        assertEq(market.owner(), next);
        assertEq(market.pendingOwner(), address(0));
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, owner));
        vm.prank(owner);
        market.setPlatformFee(0, address(0));
    }
}
