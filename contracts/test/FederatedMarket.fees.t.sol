// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IFederatedMarket} from "../src/interfaces/IFederatedMarket.sol";
import {FederatedFixture} from "./utils/FederatedFixture.sol";

/// @notice `payPredictionFees`: the fee receiver of predictions paid by vouchers forwards `count` fees
/// at once, and they land exactly where `count` `requestPrediction` fees would (the shareholders'
/// dividends, or the investor).
contract FederatedMarketFeesTest is FederatedFixture {
    address internal receiver = makeAddr("receiver");
    uint256 internal taskId;

    function setUp() public override {
        super.setUp();
        vm.deal(receiver, 100 ether);
        token.mint(receiver, 1_000 ether);
        vm.prank(receiver);
        token.approve(address(market), type(uint256).max);
        taskId = _createShares(address(token));
    }

    function _payFees(uint256 id, uint32 count) internal returns (uint256) {
        IFederatedMarket.Task memory task = market.getTask(id);
        uint256 value = task.token == address(0) ? uint256(task.predictionFee) * count : 0;
        uint64 before = market.predictionFeesPaidBy(id, receiver);
        vm.prank(receiver);
        uint256 amount = market.payPredictionFees{value: value}(id, count, before);
        assertEq(market.predictionFeesPaidBy(id, receiver), before + count, "the receiver's count");
        return amount;
    }

    function test_payPredictionFees_accruesLikeRequests() public {
        _finishWithShares(taskId);
        uint256 twin = _createShares(address(token));
        _finishWithShares(twin);
        for (uint256 i; i < 7; ++i) {
            _predict(twin, stranger);
        }
        vm.expectEmit(address(market));
        emit IFederatedMarket.PredictionFeesPaid(taskId, receiver, 7, 7 * uint256(FEE));
        assertEq(_payFees(taskId, 7), 7 * uint256(FEE));
        IFederatedMarket.Dividends memory paid = market.getDividends(taskId);
        IFederatedMarket.Dividends memory requested = market.getDividends(twin);
        assertEq(paid.feesIn, requested.feesIn, "feesIn");
        assertEq(paid.magnifiedFeePerShare, requested.magnifiedFeePerShare, "accumulator");
        assertEq(paid.remainder, requested.remainder, "remainder");
        (address[] memory holders,) = _holders();
        for (uint256 i; i < holders.length; ++i) {
            assertEq(market.withdrawableDividendOf(taskId, holders[i]), market.withdrawableDividendOf(twin, holders[i]));
        }
        assertEq(market.predictionCount(), 7, "forwarded fees take no request id");
    }

    function test_payPredictionFees_reachesShareholders() public {
        _finishWithShares(taskId);
        _payFees(taskId, 4);
        uint256 total = 4 * uint256(FEE);
        uint256 before = token.balanceOf(bob);
        market.withdrawDividends(taskId, bob);
        assertEq(token.balanceOf(bob), before + total * 3 / 10);
        market.withdrawDividends(taskId, alice);
        market.withdrawDividends(taskId, carol);
        IFederatedMarket.Dividends memory d = market.getDividends(taskId);
        assertEq(d.dividendsPaid, total, "every unit of the forwarded fees reached a holder");
        assertEq(token.balanceOf(address(market)), d.feesIn - d.dividendsPaid);
    }

    function test_payPredictionFees_rewardPoolPaysInvestor() public {
        uint256 poolTask = _createEthPool();
        _finishWithRewards(poolTask, ETH_POOL);
        uint256 before = investor.balance;
        _payFees(poolTask, 3);
        assertEq(investor.balance, before + 3 * uint256(FEE));
        assertEq(address(market).balance, ETH_POOL, "only the pool stays");
        assertEq(market.getDividends(poolTask).feesIn, 0);
    }

    function test_payPredictionFees_ethOnShareholding() public {
        uint256 ethTask = _createShares(address(0));
        _finishWithShares(ethTask);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.ValueMismatch.selector, FEE, 2 * uint256(FEE)));
        vm.prank(receiver);
        market.payPredictionFees{value: FEE}(ethTask, 2, 0);
        _payFees(ethTask, 2);
        assertEq(address(market).balance, 2 * uint256(FEE));
        uint256 before = alice.balance;
        market.withdrawDividends(ethTask, alice);
        assertEq(alice.balance, before + FEE);
    }

    function test_payPredictionFees_revertsOnZeroCount() public {
        _finishWithShares(taskId);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.InvalidPredictionCount.selector, taskId, 0));
        vm.prank(receiver);
        market.payPredictionFees(taskId, 0, 0);
    }

    function test_payPredictionFees_revertsOnEtherForTokenFee() public {
        _finishWithShares(taskId);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.ValueMismatch.selector, 1, 0));
        vm.prank(receiver);
        market.payPredictionFees{value: 1}(taskId, 1, 0);
    }

    function test_payPredictionFees_revertsBeforeResults() public {
        _joinAndStart(taskId);
        vm.expectRevert(
            abi.encodeWithSelector(IFederatedMarket.WrongState.selector, taskId, IFederatedMarket.TaskState.Training)
        );
        vm.prank(receiver);
        market.payPredictionFees(taskId, 1, 0);
    }

    function test_payPredictionFees_revertsWhenNotOffered() public {
        IFederatedMarket.TaskParams memory p = _params(IFederatedMarket.Mode.RewardPool, address(0), uint96(ETH_POOL));
        p.predictionFee = 0;
        uint256 poolTask = _create(p);
        _finishWithRewards(poolTask, ETH_POOL);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.PredictionsNotOffered.selector, poolTask));
        vm.prank(receiver);
        market.payPredictionFees(poolTask, 1, 0);
    }

    function test_payPredictionFees_revertsForUnknownTask() public {
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.UnknownTask.selector, 99));
        vm.prank(receiver);
        market.payPredictionFees(99, 1, 0);
    }

    /// @dev Two payments computed from the same figure (two processes of one fee receiver): the first
    /// goes through, the second is refused with both figures, and nothing is paid twice.
    function test_payPredictionFees_refusesAStaleFigure() public {
        _finishWithShares(taskId);
        _payFees(taskId, 2);
        vm.prank(receiver);
        market.payPredictionFees(taskId, 3, 2);
        uint256 feesIn = market.getDividends(taskId).feesIn;
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.PaidFeesMoved.selector, taskId, receiver, 2, 5));
        vm.prank(receiver);
        market.payPredictionFees(taskId, 3, 2);
        assertEq(market.getDividends(taskId).feesIn, feesIn, "the second payment took nothing");
        assertEq(market.predictionFeesPaidBy(taskId, receiver), 5);
        assertEq(market.predictionFeesPaidBy(taskId, stranger), 0, "counted per payer");
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.PaidFeesMoved.selector, taskId, stranger, 5, 0));
        market.payPredictionFees(taskId, 1, 5);
    }

    /// @dev Whatever mix of single requests and forwarded batches, the holders' entitlements add up to
    /// the fees in less at most one unit per holder, and the accumulator identity holds.
    function testFuzz_payPredictionFees_mixedWithRequests(uint8 requests, uint32 count) public {
        count = uint32(bound(count, 1, 1_000));
        requests = uint8(bound(requests, 0, 20));
        _finishWithShares(taskId);
        token.mint(receiver, uint256(FEE) * count);
        for (uint256 i; i < requests; ++i) {
            _predict(taskId, stranger);
        }
        _payFees(taskId, count);
        IFederatedMarket.Dividends memory d = market.getDividends(taskId);
        uint256 total = (uint256(requests) + count) * FEE;
        assertEq(d.feesIn, total);
        assertEq(d.feesIn * market.MAGNITUDE(), d.magnifiedFeePerShare * SHARES + d.remainder, "accumulator identity");
        (address[] memory holders,) = _holders();
        uint256 entitled;
        for (uint256 i; i < holders.length; ++i) {
            entitled += market.accumulativeDividendOf(taskId, holders[i]);
        }
        assertLe(entitled, total, "never more than the fees");
        assertLe(total - entitled, holders.length, "dust at most one unit per holder");
    }
}
