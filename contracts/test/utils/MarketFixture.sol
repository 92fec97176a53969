// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "./Test.sol";
import {ComputeMarket} from "../../src/ComputeMarket.sol";
import {MarketToken} from "../../src/MarketToken.sol";
import {IComputeMarket} from "../../src/interfaces/IComputeMarket.sol";

/// @notice A market with an operator, a provider selling one ETH and one AMT service, and a funded buyer.
abstract contract MarketFixture is Test {
    uint256 internal constant ETH_PRICE = 0.01 ether;
    uint256 internal constant TOKEN_PRICE = 5 ether;
    uint64 internal constant RUN_TIME = 1 hours;
    // Realistic payloads: CIDv1 (raw, base32) strings as the backend sends them.
    string internal constant INPUT = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
    string internal constant RESULT = "bafkreidvbhs33ighmljlvr7zbv2ywwzcmp5adtf4kqvgdhsjnx4ctlpqlq";
    string internal constant METADATA = "ipfs://bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

    ComputeMarket internal market;
    MarketToken internal token;

    address internal owner = makeAddr("owner");
    address internal operator = makeAddr("operator");
    address internal provider = makeAddr("provider");
    address internal buyer = makeAddr("buyer");
    address internal stranger = makeAddr("stranger");
    address internal feeTo = makeAddr("feeTo");

    uint256 internal ethService;
    uint256 internal tokenService;

    function setUp() public virtual {
        vm.warp(1_750_000_000);
        token = new MarketToken();
        market = new ComputeMarket(owner);
        vm.prank(owner);
        market.setOperator(operator, true);

        vm.startPrank(provider);
        ethService = market.listService(address(0), ETH_PRICE, RUN_TIME, METADATA);
        tokenService = market.listService(address(token), TOKEN_PRICE, RUN_TIME, METADATA);
        vm.stopPrank();

        vm.deal(buyer, 100 ether);
        token.mint(buyer, 1_000 ether);
        vm.prank(buyer);
        token.approve(address(market), type(uint256).max);
    }

    function _buyEth() internal returns (uint256) {
        vm.prank(buyer);
        return market.buyCompute{value: ETH_PRICE}(ethService, INPUT);
    }

    function _buyToken() internal returns (uint256) {
        vm.prank(buyer);
        return market.buyCompute(tokenService, INPUT);
    }

    function _status(uint256 taskId) internal view returns (IComputeMarket.TaskStatus) {
        return market.getTask(taskId).status;
    }
}
