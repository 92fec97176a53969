// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {WithdrawalSigner} from "./WithdrawalSigner.sol";
import {ComputeMarket} from "../../src/ComputeMarket.sol";
import {MarketToken} from "../../src/MarketToken.sol";
import {IComputeMarket} from "../../src/interfaces/IComputeMarket.sol";
import {IPayouts} from "../../src/interfaces/IPayouts.sol";
import {FaultyToken} from "./Mocks.sol";

/// @notice A market with an operator, a provider selling one ETH and one AMT service, and a funded buyer.
abstract contract MarketFixture is WithdrawalSigner {
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
        return market.buyCompute{value: ETH_PRICE}(ethService, INPUT, ETH_PRICE, RUN_TIME);
    }

    function _buyToken() internal returns (uint256) {
        vm.prank(buyer);
        return market.buyCompute(tokenService, INPUT, TOKEN_PRICE, RUN_TIME);
    }

    function _status(uint256 taskId) internal view returns (IComputeMarket.TaskStatus) {
        return market.getTask(taskId).status;
    }

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
        uint256 taskId = market.buyCompute(serviceId, INPUT, 100, RUN_TIME);
        vm.stopPrank();
        faulty.setBlocked(provider, true);

        vm.expectEmit(address(market));
        emit IPayouts.PayoutDeferred(provider, address(faulty), 100);
        vm.prank(operator);
        market.completeTask(taskId, RESULT);
        assertEq(market.owed(provider, address(faulty)), 100);
        assertEq(faulty.balanceOf(address(market)), 100);

        vm.expectRevert(abi.encodeWithSelector(IPayouts.TransferFailed.selector, provider, address(faulty), 100));
        vm.prank(provider);
        market.withdraw(address(faulty));

        faulty.setBlocked(provider, false);
        vm.prank(provider);
        market.withdraw(address(faulty));
        assertEq(faulty.balanceOf(provider), 100);
        assertEq(market.owed(provider, address(faulty)), 0);
    }
}
