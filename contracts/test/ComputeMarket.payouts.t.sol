// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ComputeMarket} from "../src/ComputeMarket.sol";
import {IComputeMarket} from "../src/interfaces/IComputeMarket.sol";
import {IPayouts} from "../src/interfaces/IPayouts.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";
import {Erc1271Vault, FaultyToken, GasBurner, Receiver, ReentrantReceiver, ReentrantToken} from "./utils/Mocks.sol";

/// @notice `payouts` tests, on the shared fixture.
contract ComputeMarketPayoutsTest is MarketFixture {
    function test_withdraw_revertsWhenNothingOwed() public {
        vm.expectRevert(abi.encodeWithSelector(IPayouts.NothingToWithdraw.selector, stranger, address(token)));
        vm.prank(stranger);
        market.withdraw(address(token));
    }

    // Flaw 5: funds owed to a receiver that cannot call `withdraw` (a contract without that call, an
    // address a token blocks) were stuck. The owner of the balance signs for another destination.

    function test_withdrawTo_contractWithoutCallsSignsThroughErc1271() public {
        (address vaultOwner, uint256 vaultKey) = makeAddrAndKey("vaultOwner");
        Erc1271Vault vault = new Erc1271Vault(vaultOwner);
        uint256 serviceId = _listAs(address(vault), address(0), ETH_PRICE);
        vm.prank(buyer);
        uint256 taskId = market.buyCompute{value: ETH_PRICE}(serviceId, INPUT, ETH_PRICE, RUN_TIME);
        vm.prank(operator);
        market.completeTask(taskId, RESULT);
        assertEq(market.owed(address(vault), address(0)), ETH_PRICE);

        address to = makeAddr("vaultTreasury");
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory signature = _signWithdrawal(vaultKey, address(vault), address(0), to, 0, deadline);
        vm.expectEmit(address(market));
        emit IPayouts.WithdrawnTo(address(vault), address(0), to, ETH_PRICE);
        vm.prank(stranger); // anyone may relay it
        market.withdrawTo(address(vault), address(0), to, deadline, signature);
        assertEq(to.balance, ETH_PRICE);
        assertEq(market.owed(address(vault), address(0)), 0);
        assertEq(market.withdrawalNonce(address(vault)), 1);
        assertEq(address(market).balance, 0);
    }

    function test_withdrawTo_blockedAccountSignsWithItsKey() public {
        (address blocked, uint256 key) = makeAddrAndKey("blockedProvider");
        FaultyToken faulty = new FaultyToken();
        uint256 serviceId = _listAs(blocked, address(faulty), 100);
        faulty.mint(buyer, 100);
        vm.startPrank(buyer);
        faulty.approve(address(market), 100);
        uint256 taskId = market.buyCompute(serviceId, INPUT, 100, RUN_TIME);
        vm.stopPrank();
        faulty.setBlocked(blocked, true);
        vm.prank(operator);
        market.completeTask(taskId, RESULT);
        assertEq(market.owed(blocked, address(faulty)), 100);

        address to = makeAddr("newAddress");
        bytes memory signature = _signWithdrawal(key, blocked, address(faulty), to, 0, block.timestamp);
        vm.prank(stranger);
        market.withdrawTo(blocked, address(faulty), to, block.timestamp, signature);
        assertEq(faulty.balanceOf(to), 100);
        assertEq(faulty.balanceOf(address(market)), 0);
    }

    function test_withdrawTo_byTheAccountItselfNeedsNoSignature() public {
        Receiver rejecting = _owedEthTo();
        address to = makeAddr("elsewhere");
        vm.prank(address(rejecting));
        market.withdrawTo(address(rejecting), address(0), to, 0, "");
        assertEq(to.balance, ETH_PRICE);
        assertEq(market.withdrawalNonce(address(rejecting)), 0);
    }

    function test_withdrawTo_revertsForSignatureReplay() public {
        (address account, uint256 key) = makeAddrAndKey("replayed");
        Receiver rejecting = _owedEthTo();
        // `account` is not owed anything; a signature by it cannot take `rejecting`'s balance.
        bytes memory signature = _signWithdrawal(key, address(rejecting), address(0), account, 0, block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(IPayouts.InvalidWithdrawalSignature.selector, address(rejecting)));
        market.withdrawTo(address(rejecting), address(0), account, block.timestamp, signature);

        // The owner's own signature works once; the same signature fails on the next balance.
        (address vaultOwner, uint256 vaultKey) = makeAddrAndKey("vaultOwner");
        Erc1271Vault vault = new Erc1271Vault(vaultOwner);
        uint256 serviceId = _listAs(address(vault), address(0), ETH_PRICE);
        vm.startPrank(buyer);
        uint256 first = market.buyCompute{value: ETH_PRICE}(serviceId, INPUT, ETH_PRICE, RUN_TIME);
        uint256 second = market.buyCompute{value: ETH_PRICE}(serviceId, INPUT, ETH_PRICE, RUN_TIME);
        vm.stopPrank();
        vm.prank(operator);
        market.completeTask(first, RESULT);
        bytes memory once = _signWithdrawal(vaultKey, address(vault), address(0), account, 0, block.timestamp);
        market.withdrawTo(address(vault), address(0), account, block.timestamp, once);
        vm.prank(operator);
        market.completeTask(second, RESULT);
        vm.expectRevert(abi.encodeWithSelector(IPayouts.InvalidWithdrawalSignature.selector, address(vault)));
        market.withdrawTo(address(vault), address(0), account, block.timestamp, once);
        assertEq(account.balance, ETH_PRICE);
        assertEq(market.owed(address(vault), address(0)), ETH_PRICE);
    }

    function test_withdrawTo_revertsAfterDeadline() public {
        (address vaultOwner, uint256 vaultKey) = makeAddrAndKey("vaultOwner");
        Erc1271Vault vault = new Erc1271Vault(vaultOwner);
        uint256 deadline = block.timestamp;
        bytes memory signature = _signWithdrawal(vaultKey, address(vault), address(0), stranger, 0, deadline);
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(IPayouts.WithdrawalExpired.selector, deadline, deadline + 1));
        market.withdrawTo(address(vault), address(0), stranger, deadline, signature);
    }

    function test_withdrawTo_revertsForZeroRecipient() public {
        vm.expectRevert(abi.encodeWithSelector(IPayouts.InvalidWithdrawalRecipient.selector, address(0)));
        vm.prank(stranger);
        market.withdrawTo(stranger, address(0), address(0), 0, "");
    }

    function test_hashWithdrawal_matchesEip712() public view {
        bytes32 expected =
            _withdrawalDigest(address(market), "Agora ComputeMarket", buyer, address(token), feeTo, 7, 99);
        assertEq(market.hashWithdrawal(buyer, address(token), feeTo, 7, 99), expected);
    }

    /// @dev A provider contract that rejects ETH, owed one ETH task's price.
    function _owedEthTo() internal returns (Receiver rejecting) {
        rejecting = new Receiver();
        rejecting.setAccepts(false);
        uint256 serviceId = _listAs(address(rejecting), address(0), ETH_PRICE);
        vm.prank(buyer);
        uint256 taskId = market.buyCompute{value: ETH_PRICE}(serviceId, INPUT, ETH_PRICE, RUN_TIME);
        vm.prank(operator);
        market.completeTask(taskId, RESULT);
        assertEq(market.owed(address(rejecting), address(0)), ETH_PRICE);
    }

    function _signWithdrawal(uint256 key, address account, address asset, address to, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes memory)
    {
        return _signWithdrawalFor(address(market), "Agora ComputeMarket", key, account, asset, to, nonce, deadline);
    }
}
