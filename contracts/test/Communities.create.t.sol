// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICommunities} from "../src/interfaces/ICommunities.sol";
import {ICommunityPoints} from "../src/interfaces/ICommunityPoints.sol";
import {CommunityPoints} from "../src/CommunityPoints.sol";
import {TaskFixture} from "./utils/TaskFixture.sol";

/// @notice `createCommunity`: the community, its clone points token, and the refused arguments.
contract CommunitiesCreateTest is TaskFixture {
    function test_createCommunity_deploysAPointsCloneAndEmits() public {
        vm.recordLogs();
        vm.prank(alice);
        (uint256 id, address pointsToken) = communities.createCommunity("Speedrunners", "RUN", "ipfs://meta", bob);
        assertEq(id, 2);
        assertEq(communities.communityCount(), 2);
        ICommunities.Community memory c = communities.getCommunity(id);
        assertEq(c.owner, alice);
        assertEq(c.arbiter, bob);
        assertEq(c.points, pointsToken);
        assertEq(c.name, "Speedrunners");
        assertEq(c.metadataUri, "ipfs://meta");
        assertEq(c.memberCount, 1);
        assertTrue(communities.isMember(id, alice));
        assertTrue(communities.isAdmin(id, alice));
        assertEq(communities.arbiterOf(id), bob);
        assertEq(communities.pointsOf(id), pointsToken);

        // The token is an EIP-1167 clone of the implementation.
        bytes memory expected = abi.encodePacked(
            hex"363d3d373d3d3d363d73", communities.POINTS_IMPLEMENTATION(), hex"5af43d82803e903d91602b57fd5bf3"
        );
        assertEq(pointsToken.code, expected);
        CommunityPoints p = CommunityPoints(pointsToken);
        assertEq(p.name(), "Speedrunners");
        assertEq(p.symbol(), "RUN");
        assertEq(uint256(p.decimals()), 0);
        assertEq(p.communityId(), id);
        assertEq(p.COMMUNITIES(), address(communities));
        assertFalse(p.transfersEnabled());
        assertEq(p.totalSupply(), 0);
    }

    function test_createCommunity_emitsEverything() public {
        vm.expectEmit(address(communities));
        emit ICommunities.MemberJoined(2, alice, 1);
        vm.prank(alice);
        communities.createCommunity("Speedrunners", "RUN", "", bob);
    }

    function test_createCommunity_refusesBadArguments() public {
        vm.expectRevert(abi.encodeWithSelector(ICommunities.InvalidName.selector, 0));
        communities.createCommunity("", "RUN", "", bob);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.InvalidName.selector, 65));
        communities.createCommunity(string(new bytes(65)), "RUN", "", bob);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.InvalidSymbol.selector, 0));
        communities.createCommunity("A", "", "", bob);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.InvalidSymbol.selector, 17));
        communities.createCommunity("A", string(new bytes(17)), "", bob);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.InvalidMetadataUri.selector, 513));
        communities.createCommunity("A", "A", string(new bytes(513)), bob);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.InvalidArbiter.selector, address(0)));
        communities.createCommunity("A", "A", "", address(0));
    }

    function test_points_implementationAndClonesCannotBeInitialisedAgain() public {
        CommunityPoints implementation = CommunityPoints(communities.POINTS_IMPLEMENTATION());
        vm.prank(address(communities));
        vm.expectRevert(abi.encodeWithSelector(bytes4(keccak256("InvalidInitialization()"))));
        implementation.initialize(1, "x", "x");
        vm.prank(address(communities));
        vm.expectRevert(abi.encodeWithSelector(bytes4(keccak256("InvalidInitialization()"))));
        points.initialize(5, "x", "x");
    }

    function test_points_onlyCommunitiesMintsAndSwitches() public {
        vm.prank(guildOwner);
        vm.expectRevert(abi.encodeWithSelector(ICommunityPoints.NotCommunities.selector, guildOwner));
        points.mint(guildOwner, 1);
        vm.prank(guildOwner);
        vm.expectRevert(abi.encodeWithSelector(ICommunityPoints.NotCommunities.selector, guildOwner));
        points.setTransfersEnabled(true);
    }

    function test_unknownCommunity_isRefusedEverywhere() public {
        vm.expectRevert(abi.encodeWithSelector(ICommunities.CommunityNotFound.selector, 9));
        communities.join(9);
        vm.expectRevert(abi.encodeWithSelector(ICommunities.CommunityNotFound.selector, 9));
        communities.mint(9, alice, 1, "");
        vm.expectRevert(abi.encodeWithSelector(ICommunities.CommunityNotFound.selector, 9));
        communities.reserveMint(9, alice, 1);
        assertEq(communities.arbiterOf(9), address(0));
        assertFalse(communities.isAdmin(9, address(0)));
    }
}
