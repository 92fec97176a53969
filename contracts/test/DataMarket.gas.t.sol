// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IDataMarket} from "../src/interfaces/IDataMarket.sol";
import {DataFixture} from "./utils/DataFixture.sol";
import {GasMeter} from "./utils/GasMeter.sol";

/// @notice What buyers and sellers pay per transaction: 21,000 + calldata + execution - refund, every
/// account and slot cold (one fresh transaction per test). Buyer and seller already hold ETH and AMT,
/// and another buyer's order keeps AMT in the contract, so no token balance goes from or to zero. The
/// buyer's allowance is finite, so each AMT order also pays to lower it (the approval is not counted).
/// Nonces are 32 random-looking bytes (the dearest calldata), ACKs are signed by a session key, and
/// partial settlements pay both parties (two payouts).
/// The issue's bar is an order and its settlement together below four ERC-20 transfers;
/// `script/measure-data-gas.sh` measures that on anvil from receipts and prints how far it is. The
/// budgets here hold each transaction to what it costs today (about 1,000 gas of slack).
contract DataMarketGasTest is DataFixture, GasMeter {
    uint256 internal constant OPEN_BUDGET = 145_000;
    uint256 internal constant END_BUDGET = 46_500;
    uint256 internal constant END_FULL_BUDGET = 62_500;
    uint256 internal constant SETTLE_BUDGET = 61_500;
    uint64 internal constant PART = 3 * 1024 * 1024;
    uint256 internal constant TOKEN_NONCE = uint256(keccak256("order amt"));
    uint256 internal constant ENDED_NONCE = uint256(keccak256("order ended"));
    uint256 internal constant NONCE3 = uint256(keccak256("order 3"));

    bytes32 internal tokenOrder;
    bytes internal tokenAck;
    bytes internal tokenFullAck;
    bytes32 internal endedOrder;
    bytes internal endedAck;
    bytes32 internal ethSettling;
    bytes32 internal tokenSettling;

    function setUp() public override {
        super.setUp();
        vm.deal(seller, 1 ether);
        token.mint(seller, 1_000 ether);
        vm.prank(buyer);
        token.approve(address(market), 500_000 ether);
        // Another buyer's order keeps AMT in the contract.
        address other = makeAddr("otherBuyer");
        token.mint(other, 1_000 ether);
        vm.startPrank(other);
        token.approve(address(market), type(uint256).max);
        market.openOrder(
            seller,
            address(token),
            10 ether,
            TOTAL,
            deadline,
            startedFrom,
            NONCE,
            other,
            IDataMarket.PaymentMethod.Escrow
        );
        vm.stopPrank();

        // Orders to end and settle; the open tests use NONCE3.
        tokenOrder = _open(address(token), TOKEN_PRICE, TOKEN_NONCE);
        tokenAck = _ack(tokenOrder, PART);
        tokenFullAck = _ack(tokenOrder, TOTAL);
        // An order the buyer ended with a low figure, for the seller to challenge.
        endedOrder = _open(address(token), TOKEN_PRICE, ENDED_NONCE);
        _endByBuyer(endedOrder, 1);
        endedAck = _ack(endedOrder, PART);
        // Orders the seller ended with its ACK, for a third party to settle once the window is over.
        ethSettling = _open(address(0), ETH_PRICE, uint256(keccak256("settling eth")));
        _endBySeller(ethSettling, PART);
        tokenSettling = _open(address(token), TOKEN_PRICE, uint256(keccak256("settling amt")));
        _endBySeller(tokenSettling, PART);
    }

    function _openCall(address asset, uint256 price) internal view returns (bytes memory) {
        return abi.encodeCall(
            IDataMarket.openOrder,
            (seller, asset, price, TOTAL, deadline, startedFrom, NONCE3, sessionKey, IDataMarket.PaymentMethod.Escrow)
        );
    }

    function test_gas_openOrder_eth() public {
        _open(address(0), ETH_PRICE, NONCE3);
        _checkBudget("openOrder ETH", _openCall(address(0), ETH_PRICE), OPEN_BUDGET);
    }

    function test_gas_openOrder_token() public {
        _open(address(token), TOKEN_PRICE, NONCE3);
        _checkBudget("openOrder AMT", _openCall(address(token), TOKEN_PRICE), OPEN_BUDGET);
    }

    function test_gas_end_bySeller() public {
        vm.prank(seller);
        market.end(tokenOrder, PART, tokenAck);
        _checkBudget(
            "end by the seller (65-byte ACK)", abi.encodeCall(market.end, (tokenOrder, PART, tokenAck)), END_BUDGET
        );
    }

    function test_gas_end_bySellerCompact() public {
        bytes memory compact = _compact(tokenAck);
        vm.prank(seller);
        market.end(tokenOrder, PART, compact);
        _checkBudget(
            "end by the seller (64-byte ACK)", abi.encodeCall(market.end, (tokenOrder, PART, compact)), END_BUDGET
        );
    }

    function test_gas_end_byBuyer() public {
        vm.prank(buyer);
        market.end(tokenOrder, PART, "");
        _checkBudget("end by the buyer", abi.encodeCall(market.end, (tokenOrder, PART, bytes(""))), END_BUDGET);
    }

    function test_gas_end_fullAckSettlesToken() public {
        vm.prank(seller);
        market.end(tokenOrder, TOTAL, tokenFullAck);
        _checkBudget(
            "end AMT with the full ACK (settles)",
            abi.encodeCall(market.end, (tokenOrder, TOTAL, tokenFullAck)),
            END_FULL_BUDGET
        );
    }

    function test_gas_settle_token() public {
        vm.warp(block.timestamp + WINDOW);
        vm.prank(stranger);
        market.settle(tokenSettling);
        _checkBudget("settle AMT (two payouts)", abi.encodeCall(market.settle, (tokenSettling)), SETTLE_BUDGET);
    }

    function test_gas_settle_eth() public {
        vm.warp(block.timestamp + WINDOW);
        vm.prank(stranger);
        market.settle(ethSettling);
        _checkBudget("settle ETH (two payouts)", abi.encodeCall(market.settle, (ethSettling)), SETTLE_BUDGET);
    }

    function test_gas_challenge_bySeller() public {
        vm.prank(seller);
        market.challenge(endedOrder, PART, endedAck);
        _checkBudget(
            "challenge by the seller", abi.encodeCall(market.challenge, (endedOrder, PART, endedAck)), END_BUDGET
        );
    }
}
