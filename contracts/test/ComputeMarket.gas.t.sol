// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {GasMeter} from "./utils/GasMeter.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";

/// @notice What a buyer and the operator pay per transaction: 21,000 + calldata + execution (each test
/// function is a fresh transaction, so every account and slot starts cold), platform fee 0, with
/// counters and balances warm: earlier tasks exist and one AMT task stays in escrow. The targets are
/// buy + complete <= 130,000 gas for ETH and <= 160,000 for AMT; each is split here into a budget per
/// transaction (the ERC-20 purchase also reads the market's token balance before and after the pull, to
/// refuse tokens that deliver less). The operator path is the dearer one (the provider's account is cold, and the operator
/// is checked). `script/measure-gas.sh` measures the same on anvil, the provider path included.
contract ComputeMarketGasTest is MarketFixture, GasMeter {
    uint256 internal constant ETH_BUY_BUDGET = 82_500;
    uint256 internal constant ETH_COMPLETE_BUDGET = 130_000 - ETH_BUY_BUDGET;
    uint256 internal constant TOKEN_BUY_BUDGET = 105_700;
    uint256 internal constant TOKEN_COMPLETE_BUDGET = 160_000 - TOKEN_BUY_BUDGET;

    uint256 internal pendingEth;
    uint256 internal pendingToken;

    function setUp() public override {
        super.setUp();
        token.mint(provider, 1_000 ether);
        // A finite allowance, so each purchase also pays to lower it.
        vm.prank(buyer);
        token.approve(address(market), 500 ether);
        uint256 ethTask = _buyEth();
        uint256 tokenTask = _buyToken();
        vm.startPrank(operator);
        market.completeTask(ethTask, RESULT);
        market.completeTask(tokenTask, RESULT);
        vm.stopPrank();
        _buyToken(); // stays in escrow
        pendingEth = _buyEth();
        pendingToken = _buyToken();
    }

    function test_gas_buyCompute_eth() public {
        vm.prank(buyer);
        market.buyCompute{value: ETH_PRICE}(ethService, INPUT, ETH_PRICE, RUN_TIME);
        _checkBudget(
            "buyCompute ETH",
            abi.encodeCall(market.buyCompute, (ethService, INPUT, ETH_PRICE, RUN_TIME)),
            ETH_BUY_BUDGET
        );
    }

    function test_gas_completeTask_ethByOperator() public {
        vm.prank(operator);
        market.completeTask(pendingEth, RESULT);
        _checkBudget("completeTask ETH", abi.encodeCall(market.completeTask, (pendingEth, RESULT)), ETH_COMPLETE_BUDGET);
    }

    function test_gas_buyCompute_token() public {
        vm.prank(buyer);
        market.buyCompute(tokenService, INPUT, TOKEN_PRICE, RUN_TIME);
        _checkBudget(
            "buyCompute AMT",
            abi.encodeCall(market.buyCompute, (tokenService, INPUT, TOKEN_PRICE, RUN_TIME)),
            TOKEN_BUY_BUDGET
        );
    }

    function test_gas_completeTask_tokenByOperator() public {
        vm.prank(operator);
        market.completeTask(pendingToken, RESULT);
        _checkBudget(
            "completeTask AMT", abi.encodeCall(market.completeTask, (pendingToken, RESULT)), TOKEN_COMPLETE_BUDGET
        );
    }
}
