// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICommunities} from "../src/interfaces/ICommunities.sol";
import {TaskFixture} from "./utils/TaskFixture.sol";

/// @notice Owner, admins, arbiter, metadata and membership.
contract CommunitiesRolesTest is TaskFixture {
    function test_ownership_movesInTwoSteps() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.NotCommunityOwner.selector, uint256(guild), stranger));
        communities.transferOwnership(guild, stranger);
        vm.expectEmit(address(communities));
        emit ICommunities.OwnershipTransferStarted(guild, guildOwner, alice);
        vm.prank(guildOwner);
        communities.transferOwnership(guild, alice);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.NotPendingOwner.selector, uint256(guild), bob));
        communities.acceptOwnership(guild);
        vm.expectEmit(address(communities));
        emit ICommunities.OwnershipTransferred(guild, guildOwner, alice);
        vm.prank(alice);
        communities.acceptOwnership(guild);
        ICommunities.Community memory c = communities.getCommunity(guild);
        assertEq(c.owner, alice);
        assertEq(c.pendingOwner, address(0));
        assertTrue(communities.isMember(guild, alice));
        assertEq(c.memberCount, 2);
        assertFalse(communities.isAdmin(guild, guildOwner));
        // The previous owner may now leave; the new one may not.
        vm.prank(guildOwner);
        communities.leave(guild);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.CannotLeave.selector, uint256(guild), alice));
        communities.leave(guild);
    }

    function test_admins_addedAndRemovedByTheOwner() public {
        vm.prank(publisher);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.NotCommunityOwner.selector, uint256(guild), publisher));
        communities.addAdmin(guild, alice);
        vm.expectEmit(address(communities));
        emit ICommunities.AdminAdded(guild, alice);
        vm.prank(guildOwner);
        communities.addAdmin(guild, alice);
        assertTrue(communities.isAdmin(guild, alice));
        vm.prank(guildOwner);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.AdminUnchanged.selector, uint256(guild), alice, true));
        communities.addAdmin(guild, alice);
        vm.prank(guildOwner);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.InvalidAccount.selector, address(0)));
        communities.addAdmin(guild, address(0));
        vm.expectEmit(address(communities));
        emit ICommunities.AdminRemoved(guild, alice);
        vm.prank(guildOwner);
        communities.removeAdmin(guild, alice);
        assertFalse(communities.isAdmin(guild, alice));
        vm.prank(guildOwner);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.AdminUnchanged.selector, uint256(guild), alice, false));
        communities.removeAdmin(guild, alice);
    }

    function test_arbiterAndMetadata_setByTheOwner() public {
        vm.prank(publisher);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.NotCommunityOwner.selector, uint256(guild), publisher));
        communities.setArbiter(guild, alice);
        vm.prank(guildOwner);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.InvalidArbiter.selector, address(0)));
        communities.setArbiter(guild, address(0));
        vm.expectEmit(address(communities));
        emit ICommunities.ArbiterSet(guild, alice);
        vm.prank(guildOwner);
        communities.setArbiter(guild, alice);
        assertEq(communities.arbiterOf(guild), alice);

        vm.expectEmit(address(communities));
        emit ICommunities.MetadataUriSet(guild, "ipfs://v2");
        vm.prank(guildOwner);
        communities.setMetadataUri(guild, "ipfs://v2");
        assertEq(communities.getCommunity(guild).metadataUri, "ipfs://v2");
        vm.prank(guildOwner);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.InvalidMetadataUri.selector, 513));
        communities.setMetadataUri(guild, string(new bytes(513)));
    }

    function test_membership_joinAndLeave() public {
        vm.expectEmit(address(communities));
        emit ICommunities.MemberJoined(guild, alice, 2);
        vm.prank(alice);
        communities.join(guild);
        assertTrue(communities.isMember(guild, alice));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.AlreadyMember.selector, uint256(guild), alice));
        communities.join(guild);
        vm.expectEmit(address(communities));
        emit ICommunities.MemberLeft(guild, alice, 1);
        vm.prank(alice);
        communities.leave(guild);
        assertFalse(communities.isMember(guild, alice));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.CannotLeave.selector, uint256(guild), alice));
        communities.leave(guild);
        vm.prank(guildOwner);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.CannotLeave.selector, uint256(guild), guildOwner));
        communities.leave(guild);
    }
}
