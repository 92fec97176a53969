// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "./utils/Test.sol";
import {MarketToken} from "../src/MarketToken.sol";
import {IMarketToken} from "../src/interfaces/IMarketToken.sol";

contract MarketTokenTest is Test {
    MarketToken internal token;
    address internal deployer = makeAddr("deployer");
    address internal alice = makeAddr("alice");

    function setUp() public {
        vm.prank(deployer);
        token = new MarketToken();
    }

    function test_constructor_setsMetadataAndMinter() public view {
        assertEq(token.name(), "Agora Market Token");
        assertEq(token.symbol(), "AMT");
        assertEq(token.decimals(), 18);
        assertEq(token.totalSupply(), 0);
        assertEq(token.minter(), deployer);
    }

    function test_mint_byMinterCreditsAndGrowsSupply() public {
        vm.prank(deployer);
        token.mint(alice, 5 ether);
        assertEq(token.balanceOf(alice), 5 ether);
        assertEq(token.totalSupply(), 5 ether);
    }

    function test_mint_revertsForOtherCaller() public {
        vm.expectRevert(abi.encodeWithSelector(IMarketToken.UnauthorizedMinter.selector, alice));
        vm.prank(alice);
        token.mint(alice, 1);
        assertEq(token.totalSupply(), 0);
    }

    function testFuzz_mint_onlyMinter(address caller, address to, uint256 amount) public {
        vm.assume(to != address(0));
        if (caller != deployer) {
            vm.expectRevert(abi.encodeWithSelector(IMarketToken.UnauthorizedMinter.selector, caller));
        }
        vm.prank(caller);
        token.mint(to, amount);
        assertEq(token.balanceOf(to), caller == deployer ? amount : 0);
    }
}
