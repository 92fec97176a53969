// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IFederatedMarket} from "../src/interfaces/IFederatedMarket.sol";
import {FederatedFixture} from "./utils/FederatedFixture.sol";

/// @notice `join`, `leave` and `buyBlocks`: membership counted, blocks capped at the task's total, block
/// payments held before the start (and paid back to a member that leaves then) and paid to the investor
/// during training, in AMT or ETH.
contract FederatedMarketMembersTest is FederatedFixture {
    uint256 internal taskId;

    function setUp() public override {
        super.setUp();
        taskId = _createEthPool();
    }

    // ------------------------------------------------------------ join

    function test_join_recordsMemberAndEmits() public {
        vm.expectEmit(address(market));
        emit IFederatedMarket.MemberJoined(taskId, alice, 1);
        _join(taskId, alice);
        vm.expectEmit(address(market));
        emit IFederatedMarket.MemberJoined(taskId, bob, 2);
        _join(taskId, bob);
        assertTrue(market.getMember(taskId, alice).joined);
        assertTrue(market.getMember(taskId, bob).joined);
        assertFalse(market.getMember(taskId, carol).joined);
        assertEq(_task(taskId).members, 2);
    }

    function test_join_revertsWhenAlreadyMember() public {
        _join(taskId, alice);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.AlreadyMember.selector, taskId, alice));
        _join(taskId, alice);
    }

    function test_join_betweenRoundsOfTraining() public {
        _joinAndStart(taskId);
        _join(taskId, carol);
        assertEq(_task(taskId).members, 3);
    }

    function test_join_revertsForUnknownTask() public {
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.UnknownTask.selector, 99));
        _join(99, alice);
    }

    function test_join_revertsOnceFinishedOrCancelled() public {
        _finishWithRewards(taskId, ETH_POOL);
        vm.expectRevert(
            abi.encodeWithSelector(IFederatedMarket.WrongState.selector, taskId, IFederatedMarket.TaskState.Finished)
        );
        _join(taskId, carol);

        uint256 other = _createEthPool();
        vm.prank(investor);
        market.cancel(other);
        vm.expectRevert(
            abi.encodeWithSelector(IFederatedMarket.WrongState.selector, other, IFederatedMarket.TaskState.Cancelled)
        );
        _join(other, carol);
    }

    // ------------------------------------------------------------ leave

    function test_leave_removesMemberAndEmits() public {
        _join(taskId, alice);
        _join(taskId, bob);
        vm.expectEmit(address(market));
        emit IFederatedMarket.MemberLeft(taskId, alice, 1, 0);
        vm.prank(alice);
        market.leave(taskId);
        assertFalse(market.getMember(taskId, alice).joined);
        assertEq(_task(taskId).members, 1);
        // and may come back
        _join(taskId, alice);
        assertEq(_task(taskId).members, 2);
    }

    function test_leave_revertsForNonMember() public {
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.NotMember.selector, taskId, alice));
        vm.prank(alice);
        market.leave(taskId);
    }

    function test_leave_beforeStartRefundsBlocksAndFreesThem() public {
        _join(taskId, alice);
        _buy(taskId, alice, 3);
        uint256 before = token.balanceOf(alice);
        vm.expectEmit(address(market));
        emit IFederatedMarket.MemberLeft(taskId, alice, 0, 3 * BLOCK_PRICE);
        vm.prank(alice);
        market.leave(taskId);
        assertEq(token.balanceOf(alice), before + 3 * BLOCK_PRICE);
        assertEq(token.balanceOf(address(market)), 0);
        IFederatedMarket.Member memory member = market.getMember(taskId, alice);
        assertEq(member.blocks, 0);
        assertEq(member.escrowed, 0);
        IFederatedMarket.Task memory task = _task(taskId);
        assertEq(task.blocksSold, 0);
        assertEq(task.blockEscrow, 0);
        // The blocks are for sale again, to anyone.
        _join(taskId, bob);
        _buy(taskId, bob, BLOCKS);
    }

    function test_leave_duringTrainingKeepsBlocksSoldAndPaid() public {
        _join(taskId, alice);
        _buy(taskId, alice, 2);
        _join(taskId, bob);
        vm.prank(coordinator);
        market.start(taskId);
        uint256 investorBefore = token.balanceOf(investor);
        vm.expectEmit(address(market));
        emit IFederatedMarket.MemberLeft(taskId, alice, 1, 0);
        vm.prank(alice);
        market.leave(taskId);
        assertEq(token.balanceOf(investor), investorBefore, "nothing comes back from the investor");
        assertEq(_task(taskId).blocksSold, 2);
        assertEq(market.getMember(taskId, alice).blocks, 2);
    }

    function test_leave_revertsOnceFinished() public {
        _finishWithRewards(taskId, ETH_POOL);
        vm.expectRevert(
            abi.encodeWithSelector(IFederatedMarket.WrongState.selector, taskId, IFederatedMarket.TaskState.Finished)
        );
        vm.prank(alice);
        market.leave(taskId);
    }

    // ------------------------------------------------------------ buyBlocks

    function test_buyBlocks_beforeStartIsHeld() public {
        _join(taskId, alice);
        vm.expectEmit(address(market));
        emit IFederatedMarket.BlocksBought(taskId, alice, 3, 3 * BLOCK_PRICE, 3);
        _buy(taskId, alice, 3);
        assertEq(token.balanceOf(address(market)), 3 * BLOCK_PRICE);
        assertEq(token.balanceOf(alice), 1_000 ether - 3 * BLOCK_PRICE);
        IFederatedMarket.Member memory member = market.getMember(taskId, alice);
        assertEq(member.blocks, 3);
        assertEq(member.escrowed, 3 * BLOCK_PRICE);
        assertEq(_task(taskId).blockEscrow, 3 * BLOCK_PRICE);
        assertEq(_task(taskId).blocksSold, 3);
    }

    function test_buyBlocks_startPaysHeldPaymentsToInvestor() public {
        _join(taskId, alice);
        _join(taskId, bob);
        _buy(taskId, alice, 3);
        _buy(taskId, bob, 1);
        uint256 before = token.balanceOf(investor);
        vm.expectEmit(address(market));
        emit IFederatedMarket.TaskStarted(taskId, 2, 4 * BLOCK_PRICE);
        vm.prank(coordinator);
        market.start(taskId);
        assertEq(token.balanceOf(investor), before + 4 * BLOCK_PRICE);
        assertEq(token.balanceOf(address(market)), 0);
        assertEq(_task(taskId).blockEscrow, 0);
    }

    function test_buyBlocks_duringTrainingPaysInvestorAtOnce() public {
        _joinAndStart(taskId);
        uint256 before = token.balanceOf(investor);
        vm.expectEmit(address(market));
        emit IFederatedMarket.BlocksBought(taskId, bob, 5, 5 * BLOCK_PRICE, 5);
        _buy(taskId, bob, 5);
        assertEq(token.balanceOf(investor), before + 5 * BLOCK_PRICE);
        assertEq(token.balanceOf(address(market)), 0);
        IFederatedMarket.Member memory member = market.getMember(taskId, bob);
        assertEq(member.blocks, 5);
        assertEq(member.escrowed, 0);
    }

    function test_buyBlocks_inEth() public {
        IFederatedMarket.TaskParams memory p = _params(IFederatedMarket.Mode.Shareholding, address(0), 0);
        p.blockToken = address(0);
        p.blockPrice = 0.01 ether;
        uint256 ethTask = _create(p);
        _join(ethTask, alice);
        vm.prank(alice);
        market.buyBlocks{value: 0.02 ether}(ethTask, 2);
        assertEq(address(market).balance, ETH_POOL + 0.02 ether);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.ValueMismatch.selector, 0.01 ether, 0.02 ether));
        vm.prank(alice);
        market.buyBlocks{value: 0.01 ether}(ethTask, 2);

        _join(ethTask, bob);
        uint256 before = investor.balance;
        vm.prank(coordinator);
        market.start(ethTask);
        assertEq(investor.balance, before + 0.02 ether);
        vm.prank(bob);
        market.buyBlocks{value: 0.01 ether}(ethTask, 1);
        assertEq(investor.balance, before + 0.03 ether);
        assertEq(address(market).balance, ETH_POOL);
    }

    function test_buyBlocks_revertsOnEtherForTokenBlocks() public {
        _join(taskId, alice);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.ValueMismatch.selector, 1, 0));
        vm.prank(alice);
        market.buyBlocks{value: 1}(taskId, 1);
    }

    function test_buyBlocks_capsAtTotalBlocks() public {
        _join(taskId, alice);
        _join(taskId, bob);
        _buy(taskId, alice, BLOCKS - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IFederatedMarket.InvalidBlockCount.selector, taskId, 2, BLOCKS - 1, BLOCKS)
        );
        _buy(taskId, bob, 2);
        _buy(taskId, bob, 1);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.InvalidBlockCount.selector, taskId, 1, BLOCKS, BLOCKS));
        _buy(taskId, bob, 1);
    }

    function test_buyBlocks_revertsForZero() public {
        _join(taskId, alice);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.InvalidBlockCount.selector, taskId, 0, 0, BLOCKS));
        _buy(taskId, alice, 0);
    }

    function test_buyBlocks_revertsForNonMember() public {
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.NotMember.selector, taskId, alice));
        _buy(taskId, alice, 1);
    }

    function test_buyBlocks_revertsWhenNotForSale() public {
        IFederatedMarket.TaskParams memory p = _params(IFederatedMarket.Mode.Shareholding, address(0), 0);
        p.blockPrice = 0;
        uint256 free = _create(p);
        _join(free, alice);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.BlocksNotForSale.selector, free));
        _buy(free, alice, 1);
    }

    function test_buyBlocks_revertsOnceFinished() public {
        _finishWithRewards(taskId, ETH_POOL);
        vm.expectRevert(
            abi.encodeWithSelector(IFederatedMarket.WrongState.selector, taskId, IFederatedMarket.TaskState.Finished)
        );
        _buy(taskId, alice, 1);
    }

    /// @notice Whatever members buy and leave before the start, the contract holds exactly what the members
    /// still in paid, and no more blocks are sold than exist.
    function testFuzz_buyBlocks_heldMatchesMembers(uint32[6] memory counts, bool[6] memory leaves) public {
        address[3] memory users = [alice, bob, carol];
        for (uint256 i; i < 3; ++i) {
            _join(taskId, users[i]);
        }
        for (uint256 i; i < 6; ++i) {
            address user = users[i % 3];
            IFederatedMarket.Task memory task = _task(taskId);
            if (!market.getMember(taskId, user).joined) _join(taskId, user);
            if (task.blocksSold < BLOCKS) _buy(taskId, user, uint32(bound(counts[i], 1, BLOCKS - task.blocksSold)));
            if (leaves[i]) {
                vm.prank(user);
                market.leave(taskId);
            }
        }
        uint256 held;
        uint256 blocks;
        for (uint256 i; i < 3; ++i) {
            IFederatedMarket.Member memory member = market.getMember(taskId, users[i]);
            held += member.escrowed;
            blocks += member.blocks;
            assertEq(member.escrowed, uint256(member.blocks) * BLOCK_PRICE);
            if (!member.joined) assertEq(member.blocks, 0);
        }
        IFederatedMarket.Task memory t = _task(taskId);
        assertEq(t.blockEscrow, held);
        assertEq(t.blocksSold, blocks);
        assertLe(blocks, BLOCKS, "more blocks sold than exist");
        assertEq(token.balanceOf(address(market)), held);
        assertEq(token.balanceOf(alice) + token.balanceOf(bob) + token.balanceOf(carol), 3_000 ether - held);
    }
}
