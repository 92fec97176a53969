// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test, console} from "../utils/Test.sol";
import {FederatedMarket} from "../../src/FederatedMarket.sol";
import {MarketToken} from "../../src/MarketToken.sol";
import {IFederatedMarket} from "../../src/interfaces/IFederatedMarket.sol";
import {FederatedMarketHandler} from "./FederatedMarketHandler.sol";

/// @notice Escrow conserved per asset (ETH, AMT, a failing token, a re-entering token), claims never
/// beyond a pool and never twice, dividends adding up to the fees paid in less a bounded dust, over
/// random action sequences with hostile tokens, receivers and roots (see {FederatedMarketHandler}).
contract FederatedMarketInvariantTest is Test {
    FederatedMarket internal market;
    FederatedMarketHandler internal handler;

    function setUp() public {
        vm.warp(1_750_000_000);
        market = new FederatedMarket();
        handler = new FederatedMarketHandler(market);
        targetContract(address(handler));
    }

    /// @notice The contract holds exactly what its tasks hold plus what it owes: reward pools not yet
    /// refunded, claimed or reclaimed; block payments held before a start; fees not yet withdrawn as
    /// dividends (the dust included).
    function invariant_balanceIsHeldPlusOwed() public view {
        uint256[4] memory held;
        uint256 tasks = handler.taskCount();
        for (uint256 i; i < tasks; ++i) {
            uint256 taskId = handler.taskIds(i);
            IFederatedMarket.Task memory task = market.getTask(taskId);
            held[_index(task.blockToken)] += task.blockEscrow;
            if (task.mode == IFederatedMarket.Mode.Shareholding) {
                IFederatedMarket.Dividends memory d = market.getDividends(taskId);
                held[_index(task.token)] += d.feesIn - d.dividendsPaid;
            } else if (
                task.state == IFederatedMarket.TaskState.Open || task.state == IFederatedMarket.TaskState.Training
            ) {
                held[_index(task.token)] += task.pool;
            } else if (task.state == IFederatedMarket.TaskState.Finished && !task.reclaimed) {
                held[_index(task.token)] += task.pool - task.claimed;
            }
        }
        for (uint256 a; a < 4; ++a) {
            address asset = handler.assetAt(a);
            uint256 owed;
            uint256 participants = handler.participantCount();
            for (uint256 i; i < participants; ++i) {
                owed += market.owed(handler.participants(i), asset);
            }
            assertEq(_balance(asset), held[a] + owed, "balance != held + owed");
        }
    }

    /// @notice Nothing is created or lost: everything paid in is either still held or was paid out.
    function invariant_paidOutPlusBalanceIsPaidIn() public view {
        for (uint256 a; a < 4; ++a) {
            address asset = handler.assetAt(a);
            assertEq(handler.ghostPaidOut(asset) + _balance(asset), handler.ghostPaidIn(asset), "in != out + held");
        }
    }

    /// @notice Claims never take more than the pool, whatever the root, and no account claims twice.
    function invariant_claimsNeverExceedThePool() public view {
        uint256 tasks = handler.taskCount();
        uint256 holders = handler.holderCount();
        for (uint256 i; i < tasks; ++i) {
            uint256 taskId = handler.taskIds(i);
            IFederatedMarket.Task memory task = market.getTask(taskId);
            assertLe(task.claimed, task.pool, "claimed beyond the pool");
            assertEq(handler.ghostClaimedOut(taskId), task.claimed, "claims paid != claimed");
            for (uint256 h; h < holders; ++h) {
                assertLe(handler.ghostClaims(taskId, handler.holderAccounts(h)), 1, "a second claim");
            }
        }
    }

    /// @notice For every shareholding task with shares: they sum to 1e18; the holders' dividends (withdrawn
    /// or not) add up to the fees paid in less a dust of at most one unit per holder; what was withdrawn is
    /// what the holders were paid.
    function invariant_dividendsSumToFeesLessDust() public view {
        uint256 tasks = handler.taskCount();
        uint256 holders = handler.holderCount();
        for (uint256 i; i < tasks; ++i) {
            uint256 taskId = handler.taskIds(i);
            IFederatedMarket.Task memory task = market.getTask(taskId);
            if (task.mode != IFederatedMarket.Mode.Shareholding) continue;
            assertEq(
                market.predictionFeesPaidBy(taskId, handler.payer()),
                handler.ghostFeesForwarded(taskId),
                "forwarded fees counted once each"
            );
            IFederatedMarket.Dividends memory d = market.getDividends(taskId);
            assertEq(d.feesIn, handler.ghostFeesIn(taskId), "fees in");
            assertEq(d.dividendsPaid, handler.ghostDividendsOut(taskId), "dividends paid");
            if (task.state != IFederatedMarket.TaskState.Finished) {
                assertEq(d.feesIn, 0, "a fee before the shares");
                continue;
            }
            uint256 shares;
            uint256 entitled;
            uint256 withdrawn;
            for (uint256 h; h < holders; ++h) {
                address account = handler.holderAccounts(h);
                shares += market.sharesOf(taskId, account);
                entitled += market.accumulativeDividendOf(taskId, account);
                withdrawn += market.withdrawnDividendOf(taskId, account);
            }
            assertEq(shares, market.TOTAL_SHARES(), "shares do not sum to the total");
            assertLe(entitled, d.feesIn, "more entitled than paid in");
            assertLe(d.feesIn - entitled, holders, "dust above one unit per holder");
            assertEq(withdrawn, d.dividendsPaid, "withdrawn != paid");
            assertEq(
                d.magnifiedFeePerShare * market.TOTAL_SHARES() + d.remainder,
                uint256(d.feesIn) * market.MAGNITUDE(),
                "accumulator lost a part of a fee"
            );
        }
    }

    /// @notice No hostile call got through, and every payout went to whom it should, in full.
    function invariant_hostileCallsAreRefused() public view {
        assertEq(handler.ghostTaxedAccepted(), 0, "fee-on-transfer pool accepted");
        assertEq(handler.ghostForgedAccepted(), 0, "a claim above its leaf accepted");
        assertEq(handler.ghostReentriesAccepted(), 0, "re-entry accepted");
        assertEq(handler.ghostMispaid(), 0, "a payout that did not reach its receiver in full");
    }

    /// @notice Shows how much each run exercised (`forge test -vv`).
    function afterInvariant() public view {
        string[23] memory names = [
            "create",
            "createTaxed",
            "join",
            "leave",
            "buy",
            "start",
            "cancel",
            "refundBlocks",
            "postRewards",
            "claim",
            "claimForged",
            "reclaim",
            "postShares",
            "predict",
            "payFees",
            "transferShares",
            "withdrawDividends",
            "withdraw",
            "toggleRejecting",
            "toggleBlocked",
            "warp",
            "advance",
            "refused"
        ];
        for (uint256 i; i < names.length; ++i) {
            console.log("%s: %d", names[i], handler.calls(bytes32(bytes(names[i]))));
        }
    }

    function _index(address asset) internal view returns (uint256) {
        for (uint256 a; a < 4; ++a) {
            if (handler.assetAt(a) == asset) return a;
        }
        revert("unknown asset");
    }

    function _balance(address asset) internal view returns (uint256) {
        return asset == address(0) ? address(market).balance : MarketToken(asset).balanceOf(address(market));
    }
}
