// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IFederatedMarket} from "../src/interfaces/IFederatedMarket.sol";
import {FederatedFixture} from "./utils/FederatedFixture.sol";
import {GasMeter} from "./utils/GasMeter.sol";

/// @notice What each party pays per transaction: 21,000 + calldata + execution - refund, every account
/// and slot cold (one fresh transaction per test). Investor, trainers and payer already hold AMT, and
/// the contract holds AMT of other tasks, so no token balance goes from or to zero. The budgets hold each
/// transaction to what it costs today (about 1,000 gas of slack); `docs/fl-market-contract.md` lists
/// the figures.
contract FederatedMarketGasTest is FederatedFixture, GasMeter {
    uint256 internal constant CREATE_TOKEN_BUDGET = 180_500;
    uint256 internal constant CREATE_ETH_BUDGET = 157_000;
    uint256 internal constant JOIN_BUDGET = 55_000;
    uint256 internal constant BUY_BUDGET = 67_500;
    uint256 internal constant START_BUDGET = 50_500;
    uint256 internal constant POST_REWARDS_BUDGET = 60_500;
    uint256 internal constant POST_SHARES_BUDGET = 115_000;
    uint256 internal constant CLAIM_BUDGET = 63_500;
    uint256 internal constant PREDICT_SHARES_BUDGET = 71_000;
    uint256 internal constant PREDICT_POOL_BUDGET = 47_500;
    uint256 internal constant WITHDRAW_DIVIDENDS_BUDGET = 61_500;
    uint256 internal constant TRANSFER_SHARES_BUDGET = 103_500;

    uint256 internal openTask;
    uint256 internal trainingTask;
    uint256 internal trainingSharesTask;
    uint256 internal rewardTask;
    uint256 internal sharesTask;
    uint256 internal ethPoolTask;
    address[] internal accounts;
    uint256[] internal amounts;
    bytes32[] internal proof;
    address[] internal holders;
    uint256[] internal shares;

    function setUp() public override {
        super.setUp();
        vm.prank(investor);
        token.approve(address(market), 500_000 ether);
        // An open task alice joined and bought blocks of; bob has joined too.
        openTask = _createTokenPool();
        _join(openTask, alice);
        _join(openTask, bob);
        _buy(openTask, alice, 2);
        // Tasks in training, waiting for their results.
        trainingTask = _createTokenPool();
        _joinAndStart(trainingTask);
        trainingSharesTask = _createShares(address(token));
        _joinAndStart(trainingSharesTask);
        // A finished reward task with the fixture split.
        rewardTask = _createTokenPool();
        (address[] memory a, uint256[] memory m) = _finishWithRewards(rewardTask, TOKEN_POOL);
        (accounts, amounts) = (a, m);
        proof = _proof(a, m, 1);
        // A finished shareholding task that already earned a fee (the accumulator is not zero).
        sharesTask = _createShares(address(token));
        _finishWithShares(sharesTask);
        _predict(sharesTask, stranger);
        (address[] memory h, uint256[] memory s) = _holders();
        (holders, shares) = (h, s);
        // A finished ETH reward task whose model is paid for in ETH.
        ethPoolTask = _createEthPool();
        _finishWithRewards(ethPoolTask, ETH_POOL);
    }

    function test_gas_createTask_token() public {
        IFederatedMarket.TaskParams memory p = _params(IFederatedMarket.Mode.RewardPool, address(token), TOKEN_POOL);
        vm.prank(investor);
        market.createTask(p);
        _checkBudget("createTask AMT pool", abi.encodeCall(market.createTask, (p)), CREATE_TOKEN_BUDGET);
    }

    function test_gas_createTask_eth() public {
        IFederatedMarket.TaskParams memory p = _params(IFederatedMarket.Mode.RewardPool, address(0), uint96(ETH_POOL));
        vm.prank(investor);
        market.createTask{value: ETH_POOL}(p);
        _checkBudget("createTask ETH pool", abi.encodeCall(market.createTask, (p)), CREATE_ETH_BUDGET);
    }

    function test_gas_join() public {
        vm.prank(carol);
        market.join(openTask);
        _checkBudget("join", abi.encodeCall(market.join, (openTask)), JOIN_BUDGET);
    }

    function test_gas_buyBlocks_beforeStart() public {
        vm.prank(bob);
        market.buyBlocks(openTask, 3);
        _checkBudget("buyBlocks AMT (held)", abi.encodeCall(market.buyBlocks, (openTask, 3)), BUY_BUDGET);
    }

    function test_gas_start() public {
        vm.prank(coordinator);
        market.start(openTask);
        _checkBudget("start (pays held blocks)", abi.encodeCall(market.start, (openTask)), START_BUDGET);
    }

    function test_gas_postRewards() public {
        bytes32 root = keccak256("root");
        vm.prank(coordinator);
        market.postRewards(trainingTask, root, CID);
        _checkBudget("postRewards", abi.encodeCall(market.postRewards, (trainingTask, root, CID)), POST_REWARDS_BUDGET);
    }

    function test_gas_postShares_threeHolders() public {
        vm.prank(coordinator);
        market.postShares(trainingSharesTask, holders, shares, CID);
        _checkBudget(
            "postShares (3 holders)",
            abi.encodeCall(market.postShares, (trainingSharesTask, holders, shares, CID)),
            POST_SHARES_BUDGET
        );
    }

    function test_gas_claimReward() public {
        vm.prank(bob);
        market.claimReward(rewardTask, bob, amounts[1], proof);
        _checkBudget(
            "claimReward AMT (3 leaves)",
            abi.encodeCall(market.claimReward, (rewardTask, bob, amounts[1], proof)),
            CLAIM_BUDGET
        );
    }

    function test_gas_requestPrediction_shares() public {
        vm.prank(stranger);
        market.requestPrediction(sharesTask, INPUT);
        _checkBudget(
            "requestPrediction AMT (to shareholders)",
            abi.encodeCall(market.requestPrediction, (sharesTask, INPUT)),
            PREDICT_SHARES_BUDGET
        );
    }

    function test_gas_requestPrediction_pool() public {
        vm.prank(stranger);
        market.requestPrediction{value: FEE}(ethPoolTask, INPUT);
        _checkBudget(
            "requestPrediction ETH (to the investor)",
            abi.encodeCall(market.requestPrediction, (ethPoolTask, INPUT)),
            PREDICT_POOL_BUDGET
        );
    }

    function test_gas_withdrawDividends() public {
        vm.prank(alice);
        market.withdrawDividends(sharesTask, alice);
        _checkBudget(
            "withdrawDividends AMT",
            abi.encodeCall(market.withdrawDividends, (sharesTask, alice)),
            WITHDRAW_DIVIDENDS_BUDGET
        );
    }

    function test_gas_transferShares() public {
        vm.prank(alice);
        market.transferShares(sharesTask, stranger, SHARES / 10);
        _checkBudget(
            "transferShares (new holder)",
            abi.encodeCall(market.transferShares, (sharesTask, stranger, SHARES / 10)),
            TRANSFER_SHARES_BUDGET
        );
    }
}
