// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IFederatedMarket} from "../src/interfaces/IFederatedMarket.sol";
import {FederatedFixture} from "./utils/FederatedFixture.sol";

/// @notice `postShares`, `requestPrediction`, `transferShares` and `withdrawDividends`: shares summing
/// exactly to 1e18, fees to the investor in reward-pool mode and to the shareholders in shareholding
/// mode (O(1) accumulator, remainder carried), accrued fees staying with the sender of shares, and
/// dividends that add up to the fees paid in less a dust of at most one unit per holder.
contract FederatedMarketSharesTest is FederatedFixture {
    uint256 internal taskId;

    function setUp() public override {
        super.setUp();
        taskId = _createShares(address(token));
    }

    // ------------------------------------------------------------ postShares

    function test_postShares_assignsAndEmits() public {
        _joinAndStart(taskId);
        (address[] memory holders, uint256[] memory shares) = _holders();
        for (uint256 i; i < 3; ++i) {
            vm.expectEmit(address(market));
            emit IFederatedMarket.SharesAssigned(taskId, holders[i], shares[i]);
        }
        vm.expectEmit(address(market));
        emit IFederatedMarket.SharesPosted(taskId, 3, CID);
        vm.prank(coordinator);
        market.postShares(taskId, holders, shares, CID);
        for (uint256 i; i < 3; ++i) {
            assertEq(market.sharesOf(taskId, holders[i]), shares[i]);
        }
        _assertState(taskId, IFederatedMarket.TaskState.Finished);
        assertEq(_task(taskId).finishedAt, block.timestamp);
    }

    function test_postShares_revertsUnlessSumIsExact() public {
        _joinAndStart(taskId);
        (address[] memory holders, uint256[] memory shares) = _holders();
        shares[2] -= 1;
        _expectPostSharesRevert(
            holders, shares, abi.encodeWithSelector(IFederatedMarket.SharesDoNotSumToTotal.selector, SHARES - 1)
        );
        shares[2] += 2;
        _expectPostSharesRevert(
            holders, shares, abi.encodeWithSelector(IFederatedMarket.SharesDoNotSumToTotal.selector, SHARES + 1)
        );
    }

    function test_postShares_revertsForBadHolders() public {
        _joinAndStart(taskId);
        (address[] memory holders, uint256[] memory shares) = _holders();
        holders[1] = alice; // listed twice
        _expectPostSharesRevert(
            holders, shares, abi.encodeWithSelector(IFederatedMarket.InvalidHolder.selector, alice, shares[1])
        );
        holders[1] = address(0);
        _expectPostSharesRevert(
            holders, shares, abi.encodeWithSelector(IFederatedMarket.InvalidHolder.selector, address(0), shares[1])
        );
        (holders, shares) = _holders();
        (shares[0], shares[1]) = (shares[0] + shares[1], 0);
        _expectPostSharesRevert(
            holders, shares, abi.encodeWithSelector(IFederatedMarket.InvalidHolder.selector, bob, 0)
        );
        // An amount above the total would wrap a 128-bit balance if it were not refused.
        (holders, shares) = _holders();
        shares[0] = SHARES + 1;
        _expectPostSharesRevert(
            holders, shares, abi.encodeWithSelector(IFederatedMarket.InvalidHolder.selector, alice, SHARES + 1)
        );
    }

    function test_postShares_revertsForBadLengths() public {
        _joinAndStart(taskId);
        (address[] memory holders,) = _holders();
        _expectPostSharesRevert(
            holders, new uint256[](2), abi.encodeWithSelector(IFederatedMarket.InvalidHolders.selector, 3, 2)
        );
        _expectPostSharesRevert(
            new address[](0), new uint256[](0), abi.encodeWithSelector(IFederatedMarket.InvalidHolders.selector, 0, 0)
        );
        uint256 tooMany = market.MAX_HOLDERS() + 1;
        _expectPostSharesRevert(
            new address[](tooMany),
            new uint256[](tooMany),
            abi.encodeWithSelector(IFederatedMarket.InvalidHolders.selector, tooMany, tooMany)
        );
    }

    function test_postShares_maxHolders() public {
        _joinAndStart(taskId);
        uint256 count = market.MAX_HOLDERS();
        address[] memory holders = new address[](count);
        uint256[] memory shares = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            holders[i] = address(uint160(0x1000 + i));
            shares[i] = SHARES / count;
        }
        shares[0] += SHARES % count;
        vm.prank(coordinator);
        market.postShares(taskId, holders, shares, CID);
        assertEq(market.sharesOf(taskId, holders[count - 1]), SHARES / count);
    }

    function test_postShares_revertsForNonCoordinatorOrRewardTask() public {
        _joinAndStart(taskId);
        (address[] memory holders, uint256[] memory shares) = _holders();
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.NotCoordinator.selector, taskId, alice));
        vm.prank(alice);
        market.postShares(taskId, holders, shares, CID);

        uint256 poolTask = _createEthPool();
        _joinAndStart(poolTask);
        vm.expectRevert(
            abi.encodeWithSelector(IFederatedMarket.WrongMode.selector, poolTask, IFederatedMarket.Mode.RewardPool)
        );
        vm.prank(coordinator);
        market.postShares(poolTask, holders, shares, CID);
    }

    function test_postShares_revertsBeforeStartAndAfterDeadline() public {
        (address[] memory holders, uint256[] memory shares) = _holders();
        _expectPostSharesRevert(
            holders,
            shares,
            abi.encodeWithSelector(IFederatedMarket.WrongState.selector, taskId, IFederatedMarket.TaskState.Open)
        );
        _joinAndStart(taskId);
        uint40 deadline = _task(taskId).finishDeadline;
        vm.warp(deadline);
        _expectPostSharesRevert(
            holders,
            shares,
            abi.encodeWithSelector(IFederatedMarket.DeadlinePassed.selector, taskId, deadline, deadline)
        );
    }

    // ------------------------------------------------------------ requestPrediction

    function test_requestPrediction_feeAccruesToShareholders() public {
        _finishWithShares(taskId);
        vm.expectEmit(address(market));
        emit IFederatedMarket.PredictionRequested(1, taskId, stranger, FEE, INPUT);
        assertEq(_predict(taskId, stranger), 1);
        assertEq(market.predictionCount(), 1);
        assertEq(token.balanceOf(address(market)), FEE);
        assertEq(market.withdrawableDividendOf(taskId, alice), FEE / 2);
        assertEq(market.withdrawableDividendOf(taskId, bob), FEE * 3 / 10);
        assertEq(market.withdrawableDividendOf(taskId, carol), FEE / 5);
        assertEq(market.getDividends(taskId).feesIn, FEE);
    }

    function test_requestPrediction_rewardPoolFeeGoesToInvestor() public {
        uint256 poolTask = _createEthPool();
        _finishWithRewards(poolTask, ETH_POOL);
        uint256 before = investor.balance;
        _predict(poolTask, stranger);
        assertEq(investor.balance, before + FEE);
        assertEq(address(market).balance, ETH_POOL, "only the pool stays");
        assertEq(market.getDividends(poolTask).feesIn, 0);
    }

    function test_requestPrediction_ethFeeOnShareholding() public {
        uint256 ethTask = _createShares(address(0));
        _finishWithShares(ethTask);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.ValueMismatch.selector, FEE - 1, FEE));
        vm.prank(stranger);
        market.requestPrediction{value: FEE - 1}(ethTask, INPUT);
        _predict(ethTask, stranger);
        assertEq(address(market).balance, FEE);
        uint256 before = alice.balance;
        market.withdrawDividends(ethTask, alice);
        assertEq(alice.balance, before + FEE / 2);
    }

    function test_requestPrediction_revertsOnEtherForTokenFee() public {
        _finishWithShares(taskId);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.ValueMismatch.selector, 1, 0));
        vm.prank(stranger);
        market.requestPrediction{value: 1}(taskId, INPUT);
    }

    function test_requestPrediction_revertsBeforeResults() public {
        _joinAndStart(taskId);
        vm.expectRevert(
            abi.encodeWithSelector(IFederatedMarket.WrongState.selector, taskId, IFederatedMarket.TaskState.Training)
        );
        vm.prank(stranger);
        market.requestPrediction(taskId, INPUT);
    }

    function test_requestPrediction_revertsWhenNotOffered() public {
        IFederatedMarket.TaskParams memory p = _params(IFederatedMarket.Mode.RewardPool, address(0), uint96(ETH_POOL));
        p.predictionFee = 0;
        uint256 poolTask = _create(p);
        _finishWithRewards(poolTask, ETH_POOL);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.PredictionsNotOffered.selector, poolTask));
        vm.prank(stranger);
        market.requestPrediction(poolTask, INPUT);
    }

    function test_requestPrediction_remainderIsCarried() public {
        // A fee of 1 unit among 1e18 shares: each fee adds 2^128 / 1e18 to the accumulator with a remainder;
        // carried over a thousand fees, the accumulator is exactly what a thousand units divide into.
        IFederatedMarket.TaskParams memory p = _params(IFederatedMarket.Mode.Shareholding, address(token), 0);
        p.predictionFee = 1;
        uint256 tiny = _create(p);
        _finishWithShares(tiny);
        uint256 n = 1_000;
        for (uint256 i; i < n; ++i) {
            _predict(tiny, stranger);
        }
        IFederatedMarket.Dividends memory d = market.getDividends(tiny);
        assertEq(d.magnifiedFeePerShare * SHARES + d.remainder, n * market.MAGNITUDE());
        assertEq(d.feesIn, n);
        uint256 entitled = market.accumulativeDividendOf(tiny, alice) + market.accumulativeDividendOf(tiny, bob)
            + market.accumulativeDividendOf(tiny, carol);
        assertLe(n / 2 - market.accumulativeDividendOf(tiny, alice), 1, "alice: half, rounded down once");
        assertLe(n - entitled, 3, "dust above one unit per holder");
        assertLe(entitled, n, "more entitled than paid in");
    }

    // ------------------------------------------------------------ withdrawDividends

    function test_withdrawDividends_paysAndRemembers() public {
        _finishWithShares(taskId);
        for (uint256 i; i < 4; ++i) {
            _predict(taskId, stranger);
        }
        uint256 before = token.balanceOf(alice);
        vm.expectEmit(address(market));
        emit IFederatedMarket.DividendsWithdrawn(taskId, alice, 4 * FEE / 2);
        vm.prank(stranger); // anyone may push it: the money goes to the holder
        market.withdrawDividends(taskId, alice);
        assertEq(token.balanceOf(alice), before + 2 * FEE);
        assertEq(market.withdrawnDividendOf(taskId, alice), 2 * FEE);
        assertEq(market.withdrawableDividendOf(taskId, alice), 0);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.NothingToPay.selector, taskId, alice));
        market.withdrawDividends(taskId, alice);

        _predict(taskId, stranger);
        market.withdrawDividends(taskId, alice);
        assertEq(token.balanceOf(alice), before + 5 * FEE / 2);
        assertEq(market.getDividends(taskId).dividendsPaid, 5 * FEE / 2);
    }

    function test_withdrawDividends_revertsForNonHolder() public {
        _finishWithShares(taskId);
        _predict(taskId, stranger);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.NothingToPay.selector, taskId, stranger));
        market.withdrawDividends(taskId, stranger);
    }

    function test_withdrawDividends_revertsBeforeResultsOrOnRewardTask() public {
        vm.expectRevert(
            abi.encodeWithSelector(IFederatedMarket.WrongState.selector, taskId, IFederatedMarket.TaskState.Open)
        );
        market.withdrawDividends(taskId, alice);
        uint256 poolTask = _createEthPool();
        _finishWithRewards(poolTask, ETH_POOL);
        vm.expectRevert(
            abi.encodeWithSelector(IFederatedMarket.WrongMode.selector, poolTask, IFederatedMarket.Mode.RewardPool)
        );
        market.withdrawDividends(poolTask, alice);
    }

    // ------------------------------------------------------------ transferShares

    function test_transferShares_accruedFeesStayWithSender() public {
        _finishWithShares(taskId);
        _predict(taskId, stranger); // alice earned FEE / 2 on 50 %
        vm.expectEmit(address(market));
        emit IFederatedMarket.SharesTransferred(taskId, alice, stranger, SHARES / 5);
        vm.prank(alice);
        market.transferShares(taskId, stranger, SHARES / 5);
        assertEq(market.sharesOf(taskId, alice), SHARES * 3 / 10);
        assertEq(market.sharesOf(taskId, stranger), SHARES / 5);
        assertEq(market.withdrawableDividendOf(taskId, alice), FEE / 2, "alice keeps what her shares earned");
        assertEq(market.withdrawableDividendOf(taskId, stranger), 0, "the buyer earns only from now on");

        _predict(taskId, stranger);
        assertEq(market.withdrawableDividendOf(taskId, alice), FEE / 2 + FEE * 3 / 10);
        assertEq(market.withdrawableDividendOf(taskId, stranger), FEE / 5);
        assertEq(market.withdrawableDividendOf(taskId, bob), 2 * FEE * 3 / 10);
        assertEq(market.withdrawableDividendOf(taskId, carol), 2 * FEE / 5);
    }

    function test_transferShares_afterWithdrawal() public {
        _finishWithShares(taskId);
        _predict(taskId, stranger);
        market.withdrawDividends(taskId, alice);
        vm.prank(alice);
        market.transferShares(taskId, bob, SHARES / 2);
        assertEq(market.withdrawableDividendOf(taskId, alice), 0);
        _predict(taskId, stranger);
        assertEq(market.withdrawableDividendOf(taskId, alice), 0);
        assertEq(market.withdrawableDividendOf(taskId, bob), FEE * 3 / 10 + FEE * 8 / 10);
    }

    function test_transferShares_toSelfChangesNothing() public {
        _finishWithShares(taskId);
        _predict(taskId, stranger);
        vm.prank(alice);
        market.transferShares(taskId, alice, SHARES / 4);
        assertEq(market.sharesOf(taskId, alice), SHARES / 2);
        assertEq(market.withdrawableDividendOf(taskId, alice), FEE / 2);
    }

    function test_transferShares_revertsBeyondBalanceOrToZero() public {
        _finishWithShares(taskId);
        vm.expectRevert(
            abi.encodeWithSelector(
                IFederatedMarket.InsufficientShares.selector, taskId, bob, SHARES * 3 / 10, SHARES * 3 / 10 + 1
            )
        );
        vm.prank(bob);
        market.transferShares(taskId, alice, SHARES * 3 / 10 + 1);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.InvalidRecipient.selector, address(0)));
        vm.prank(bob);
        market.transferShares(taskId, address(0), 1);
    }

    function test_transferShares_revertsBeforeResultsOrOnRewardTask() public {
        vm.expectRevert(
            abi.encodeWithSelector(IFederatedMarket.WrongState.selector, taskId, IFederatedMarket.TaskState.Open)
        );
        vm.prank(alice);
        market.transferShares(taskId, bob, 0);
        uint256 poolTask = _createEthPool();
        _finishWithRewards(poolTask, ETH_POOL);
        vm.expectRevert(
            abi.encodeWithSelector(IFederatedMarket.WrongMode.selector, poolTask, IFederatedMarket.Mode.RewardPool)
        );
        vm.prank(alice);
        market.transferShares(poolTask, bob, 0);
    }

    /// @notice Fees of any size interleaved with share transfers among four accounts: every account's
    /// entitlement is its exact share of each fee it held shares for (rounded down once, on the total),
    /// the entitlements add up to the fees less at most one unit per account, and what is withdrawn is
    /// what was entitled.
    /// Histories of transfers, fees and withdrawals drawn from a hash, not from forge's fuzzer: the
    /// fuzzer's inputs (and so this test's gas in the snapshot) varied between runs of the whole
    /// suite, which `forge snapshot --check` cannot tolerate.
    function test_dividends_sumToFeesLessDust_acrossDrawnHistories() public {
        for (uint256 h; h < 24; ++h) {
            uint96[6] memory fees;
            uint256[6] memory moves;
            for (uint256 r; r < 6; ++r) {
                fees[r] = uint96(uint256(keccak256(abi.encode("fee", h, r))));
                moves[r] = uint256(keccak256(abi.encode("move", h, r)));
            }
            uint256 held = address(market).balance;
            uint256 kept = _dividendsSumToFeesLessDust(fees, moves);
            assertEq(address(market).balance - held, kept, "the market holds the fees not paid out");
        }
    }

    /// One history; returns what of its fees the market still holds.
    function _dividendsSumToFeesLessDust(uint96[6] memory fees, uint256[6] memory moves) internal returns (uint256) {
        address[4] memory accounts = [alice, bob, carol, stranger];
        // A task's fee is fixed: fuzz its size, and how many fees arrive between transfers.
        uint96 fee = uint96(bound(fees[0], 1, 1_000 ether));
        IFederatedMarket.TaskParams memory p = _params(IFederatedMarket.Mode.Shareholding, address(0), 0);
        p.predictionFee = fee;
        uint256 ethTask = _create(p);
        _finishWithShares(ethTask);
        // expected[i] * SHARES: what account i is owed, to the unit, scaled by SHARES
        uint256[4] memory expected;
        uint256 paidIn;
        for (uint256 round; round < 6; ++round) {
            // a transfer
            {
                address from = accounts[moves[round] % 4];
                address to = accounts[(moves[round] >> 8) % 4];
                uint256 amount = bound(moves[round] >> 16, 0, market.sharesOf(ethTask, from));
                vm.prank(from);
                market.transferShares(ethTask, to, amount);
            }
            // a few fees
            uint256 count = bound(fees[round], 1, 3);
            for (uint256 k; k < count; ++k) {
                vm.deal(stranger, stranger.balance + fee);
                _predict(ethTask, stranger);
                paidIn += fee;
                for (uint256 i; i < 4; ++i) {
                    expected[i] += uint256(fee) * market.sharesOf(ethTask, accounts[i]);
                }
            }
            if (moves[round] & 1 == 1) {
                address who = accounts[(moves[round] >> 4) % 4];
                if (market.withdrawableDividendOf(ethTask, who) != 0) market.withdrawDividends(ethTask, who);
            }
        }
        uint256 entitled;
        for (uint256 i; i < 4; ++i) {
            uint256 mine = market.accumulativeDividendOf(ethTask, accounts[i]);
            entitled += mine;
            // Rounded down once from the exact figure (the accumulator loses less than a unit per account).
            assertLe(mine, expected[i] / SHARES, "more than its exact share");
            assertLe(expected[i] / SHARES - mine, 1, "less than its exact share, beyond rounding");
        }
        assertLe(entitled, paidIn, "more entitled than paid in");
        assertLe(paidIn - entitled, 4, "dust above one unit per holder");
        IFederatedMarket.Dividends memory d = market.getDividends(ethTask);
        assertEq(d.feesIn, paidIn);
        return paidIn - d.dividendsPaid;
    }

    function _expectPostSharesRevert(address[] memory holders, uint256[] memory shares, bytes memory err) internal {
        vm.expectRevert(err);
        vm.prank(coordinator);
        market.postShares(taskId, holders, shares, CID);
    }
}
