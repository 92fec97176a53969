// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICommunities} from "../src/interfaces/ICommunities.sol";
import {ICommunityPoints} from "../src/interfaces/ICommunityPoints.sol";
import {TaskFixture} from "./utils/TaskFixture.sol";

/// @notice Points: minted by admins, non-transferable until the owner says otherwise, and minted by
/// contracts only within the budget admins set (reserve, mint from the reservation, release).
contract CommunitiesPointsTest is TaskFixture {
    function test_mint_byAnAdminForAReason() public {
        vm.expectEmit(address(communities));
        emit ICommunities.PointsMinted(guild, alice, publisher, 7, "post");
        vm.prank(publisher);
        communities.mint(guild, alice, 7, "post");
        assertEq(points.balanceOf(alice), 7);
        assertEq(points.totalSupply(), 7);
    }

    function test_mint_refusesStrangersZeroAndNobody() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.NotCommunityAdmin.selector, uint256(guild), alice));
        communities.mint(guild, alice, 7, "");
        vm.prank(guildOwner);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.InvalidAmount.selector, 0));
        communities.mint(guild, alice, 0, "");
        vm.prank(guildOwner);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.InvalidAccount.selector, address(0)));
        communities.mint(guild, address(0), 1, "");
    }

    function test_transfers_offUntilTheOwnerTurnsThemOn() public {
        vm.prank(guildOwner);
        communities.mint(guild, alice, 10, "");
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ICommunityPoints.PointsNotTransferable.selector, uint256(guild)));
        points.transfer(bob, 1);
        vm.prank(publisher);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.NotCommunityOwner.selector, uint256(guild), publisher));
        communities.setPointsTransfers(guild, true);

        vm.expectEmit(address(points));
        emit ICommunityPoints.TransfersEnabledSet(true);
        vm.prank(guildOwner);
        communities.setPointsTransfers(guild, true);
        vm.prank(alice);
        points.transfer(bob, 4);
        assertEq(points.balanceOf(bob), 4);

        vm.prank(guildOwner);
        communities.setPointsTransfers(guild, false);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ICommunityPoints.PointsNotTransferable.selector, uint256(guild)));
        points.transfer(alice, 1);
    }

    function test_budget_reserveMintRelease() public {
        address minter = makeAddr("minter");
        vm.prank(publisher);
        vm.expectEmit(address(communities));
        emit ICommunities.MinterAllowanceSet(guild, minter, publisher, 100);
        communities.setMinterAllowance(guild, minter, 100);

        vm.prank(minter);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.NotCommunityAdmin.selector, uint256(guild), alice));
        communities.reserveMint(guild, alice, 10);
        vm.prank(minter);
        vm.expectRevert(
            abi.encodeWithSelector(ICommunities.MintAllowanceExceeded.selector, uint256(guild), minter, 101, 100)
        );
        communities.reserveMint(guild, publisher, 101);
        vm.expectEmit(address(communities));
        emit ICommunities.MintReserved(guild, minter, publisher, 60);
        vm.prank(minter);
        communities.reserveMint(guild, publisher, 60);

        vm.prank(minter);
        vm.expectRevert(
            abi.encodeWithSelector(ICommunities.ReservationExceeded.selector, uint256(guild), minter, 61, 60)
        );
        communities.mintReserved(guild, alice, 61, "");
        vm.prank(minter);
        communities.mintReserved(guild, alice, 20, "task");
        vm.expectEmit(address(communities));
        emit ICommunities.MintReleased(guild, minter, 30);
        vm.prank(minter);
        communities.releaseMint(guild, 30);
        vm.prank(minter);
        vm.expectRevert(
            abi.encodeWithSelector(ICommunities.ReservationExceeded.selector, uint256(guild), minter, 11, 10)
        );
        communities.releaseMint(guild, 11);

        ICommunities.MintBudget memory b = communities.mintBudget(guild, minter);
        assertEq(b.allowance, 70);
        assertEq(b.reserved, 10);
        assertEq(points.balanceOf(alice), 20);
    }

    function test_budget_onlyAdminsSetItAndLoweringKeepsReservations() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.NotCommunityAdmin.selector, uint256(guild), alice));
        communities.setMinterAllowance(guild, alice, 1);
        vm.prank(guildOwner);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.InvalidAccount.selector, address(0)));
        communities.setMinterAllowance(guild, address(0), 1);
        uint256 taskId = _publishGuild();
        vm.prank(guildOwner);
        communities.setMinterAllowance(guild, address(board), 0);
        assertEq(_reserved(), uint256(POINTS) * SLOTS);
        _deliver(taskId, alice);
        _approve(taskId, alice);
        assertEq(points.balanceOf(alice), POINTS);
    }

    function testFuzz_budget_mintedNeverExceedsWhatWasAllowed(uint128 allowance, uint128 reserve, uint128 mintAmount)
        public
    {
        address minter = makeAddr("minter");
        allowance = uint128(bound(allowance, 1, type(uint128).max));
        reserve = uint128(bound(reserve, 1, allowance));
        mintAmount = uint128(bound(mintAmount, 1, reserve));
        vm.prank(guildOwner);
        communities.setMinterAllowance(guild, minter, allowance);
        vm.startPrank(minter);
        communities.reserveMint(guild, guildOwner, reserve);
        communities.mintReserved(guild, alice, mintAmount, "");
        communities.releaseMint(guild, reserve - mintAmount);
        vm.stopPrank();
        ICommunities.MintBudget memory b = communities.mintBudget(guild, minter);
        assertEq(b.reserved, 0);
        assertEq(uint256(b.allowance) + points.totalSupply(), allowance);
    }
}
