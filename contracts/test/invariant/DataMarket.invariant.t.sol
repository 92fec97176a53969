// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test, console} from "../utils/Test.sol";
import {DataMarket} from "../../src/DataMarket.sol";
import {MarketToken} from "../../src/MarketToken.sol";
import {IDataMarket} from "../../src/interfaces/IDataMarket.sol";
import {DataMarketHandler} from "./DataMarketHandler.sol";

/// @notice Escrow conserved per asset (ETH, AMT, a failing token, a re-entering token), the seller never
/// paid beyond what the highest ACK (or the buyer's own statement) proves, and every order settled at
/// most once, over random action sequences with hostile tokens, signers and actors (see
/// {DataMarketHandler}).
contract DataMarketInvariantTest is Test {
    DataMarket internal market;
    DataMarketHandler internal handler;

    function setUp() public {
        vm.warp(1_750_000_000);
        market = new DataMarket(1 hours);
        handler = new DataMarketHandler(market);
        targetContract(address(handler));
    }

    /// @notice The contract holds exactly the escrow of unfinished orders plus what it owes.
    function invariant_balanceIsOpenEscrowPlusOwed() public view {
        for (uint256 a; a < 4; ++a) {
            address asset = handler.assetAt(a);
            uint256 owed;
            uint256 participants = handler.participantCount();
            for (uint256 i; i < participants; ++i) {
                owed += market.owed(handler.participants(i), asset);
            }
            assertEq(_balance(asset), handler.ghostOpenEscrow(asset) + owed, "balance != open escrow + owed");
        }
        assertEq(handler.taxed().balanceOf(address(market)), 0, "a fee-on-transfer escrow went through");
    }

    /// @notice Nothing is created or lost: what was paid in is either still held or was paid out.
    function invariant_paidOutPlusBalanceIsPaidIn() public view {
        for (uint256 a; a < 4; ++a) {
            address asset = handler.assetAt(a);
            assertEq(handler.ghostPaidOut(asset) + _balance(asset), handler.ghostPaidIn(asset));
        }
    }

    /// @notice Each settled order paid its seller `price * received / totalBytes` and its buyer the rest,
    /// exactly once, and the figure on record is never above the highest one signed or stated by the
    /// buyer; an unfinished order paid nothing; an off-chain order never pays.
    function invariant_eachOrderPaysAtMostWhatIsProvenOnce() public view {
        uint256 count = handler.orderCount();
        for (uint256 i; i < count; ++i) {
            bytes32 orderId = handler.orderIds(i);
            IDataMarket.Order memory order = market.getOrder(orderId);
            DataMarketHandler.Ghost memory ghost = handler.ghostOf(orderId);
            uint64 proven = ghost.signed > ghost.stated ? ghost.signed : ghost.stated;
            assertLe(order.received, proven, "a figure on record that nobody proved");
            assertEq(order.received, ghost.recorded, "figure on record");
            if (order.state == IDataMarket.OrderState.Open || order.state == IDataMarket.OrderState.Ending) {
                assertEq(ghost.toSeller + ghost.toBuyer, 0, "an unfinished order paid out");
                assertEq(ghost.settlements, 0);
                continue;
            }
            assertEq(ghost.settlements, 1, "finished more than once");
            if (handler.isOffChain(orderId)) {
                assertEq(ghost.toSeller + ghost.toBuyer, 0, "an off-chain order paid out");
                assertTrue(order.state != IDataMarket.OrderState.Settled);
                continue;
            }
            assertEq(uint256(order.state), uint256(IDataMarket.OrderState.Settled));
            assertEq(ghost.toSeller + ghost.toBuyer, ghost.price, "seller + buyer != escrow");
            assertEq(ghost.toSeller, ghost.price * order.received / order.totalBytes, "seller's share");
            assertLe(ghost.toSeller, ghost.price * proven / order.totalBytes, "seller paid beyond the proof");
        }
    }

    /// @notice No hostile call got through.
    function invariant_hostileCallsAreRefused() public view {
        assertEq(handler.ghostTaxedAccepted(), 0, "fee-on-transfer escrow accepted");
        assertEq(handler.ghostForgedAccepted(), 0, "an ACK above what was signed accepted");
        assertEq(handler.ghostRevokedAccepted(), 0, "a revoked wallet's ACK accepted");
        assertEq(handler.ghostUnauthorizedAccepted(), 0, "a stranger acted as a party");
        assertEq(handler.ghostEarlySettleAccepted(), 0, "settled before the window closed");
        assertEq(handler.ghostSecondSettleAccepted(), 0, "a finished order settled again");
        assertEq(handler.ghostReentriesAccepted(), 0, "re-entry accepted");
    }

    /// @notice Shows how much each run exercised (`forge test -vv`).
    function afterInvariant() public view {
        string[18] memory names = [
            "open",
            "openTaxed",
            "deliver",
            "endBySeller",
            "endByBuyer",
            "challenge",
            "forgeAck",
            "settle",
            "confirmPaid",
            "rate",
            "settleAgain",
            "wrongParty",
            "withdraw",
            "withdrawTo",
            "toggle",
            "toggleBlocked",
            "toggleRevoked",
            "warp"
        ];
        for (uint256 i; i < names.length; ++i) {
            console.log("%s: %d", names[i], handler.calls(bytes32(bytes(names[i]))));
        }
    }

    function _balance(address asset) internal view returns (uint256) {
        return asset == address(0) ? address(market).balance : MarketToken(asset).balanceOf(address(market));
    }
}
