// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../utils/Test.sol";
import {PaymentChannel} from "../../src/PaymentChannel.sol";
import {MarketToken} from "../../src/MarketToken.sol";
import {IPaymentChannel} from "../../src/interfaces/IPaymentChannel.sol";
import {Receiver} from "../utils/Mocks.sol";

/// @notice Drives the channel contract through random but valid sequences of opens (ETH and AMT, signed
/// by the payer's key or a session key), top-ups, extensions, closes (compact and 65-byte signatures,
/// any amount up to the deposit), reclaims, attempts to settle a finished channel again, withdrawals and
/// time jumps, with a contract payer and a contract payee that start and stop rejecting ETH. Ghost
/// variables record what went in and out, and what each channel paid to whom.
contract PaymentChannelHandler is Test {
    uint256 internal constant MAX_AMOUNT = 1_000 ether;

    /// @notice What the handler knows of a channel: who paid in how much, and who got what back.
    struct Ghost {
        address asset;
        uint256 deposit;
        uint256 toPayee;
        uint256 toPayer;
        uint256 settlements;
        bool closed;
        bool reclaimed;
    }

    struct Params {
        address payer;
        address payee;
        address token;
        address signer;
        uint256 signerKey;
        bytes32 salt;
    }

    PaymentChannel public immutable channels;
    MarketToken public immutable token;
    Receiver public immutable contractPayer;
    Receiver public immutable contractPayee;

    address[] internal payers;
    uint256[] internal payerKeys; // 0 for the contract payer: it always uses a session key
    address[] internal payees;
    address[2] internal sessionKeys;
    uint256[2] internal sessionKeyKeys;
    /// @notice Everyone who can receive money from the contract.
    address[] public participants;

    /// @notice Every channel opened, and those still open.
    bytes32[] public channelIds;
    bytes32[] internal openIds;
    mapping(bytes32 channelId => Params) internal params;
    uint256 internal saltCounter;

    // ghost state, per asset (address(0) = ETH)
    mapping(address asset => uint256) public ghostPaidIn;
    mapping(address asset => uint256) public ghostPaidOut;
    mapping(address asset => uint256) public ghostOpenDeposits;
    // ghost state, per channel
    mapping(bytes32 channelId => Ghost) internal ghosts;

    mapping(bytes32 => uint256) public calls;

    constructor(PaymentChannel channels_) {
        channels = channels_;
        token = new MarketToken(); // the handler mints
        contractPayer = new Receiver();
        contractPayee = new Receiver();

        (address payerA, uint256 keyA) = makeAddrAndKey("payerA");
        (address payerB, uint256 keyB) = makeAddrAndKey("payerB");
        payers = [payerA, payerB, address(contractPayer)];
        payerKeys = [keyA, keyB, 0];
        payees = [makeAddr("payeeA"), address(contractPayee)];
        (sessionKeys[0], sessionKeyKeys[0]) = makeAddrAndKey("session0");
        (sessionKeys[1], sessionKeyKeys[1]) = makeAddrAndKey("session1");
        participants = payers;
        participants.push(payees[0]);
        participants.push(payees[1]);

        for (uint256 i; i < payers.length; ++i) {
            vm.prank(payers[i]);
            token.approve(address(channels), type(uint256).max);
        }
    }

    // ------------------------------------------------------------ actions

    function open(uint256 payerSeed, uint256 payeeSeed, bool eth, uint256 amount, uint256 duration, bool bySession)
        external
    {
        _open(payerSeed, payeeSeed, eth, amount, duration, bySession);
    }

    function topUp(uint256 channelSeed, uint256 amount) external {
        _ensureOpen(channelSeed);
        bytes32 channelId = openIds[channelSeed % openIds.length];
        Params memory p = params[channelId];
        amount = bound(amount, 1, MAX_AMOUNT);
        uint256 value = _fund(p.payer, p.token, amount);
        vm.prank(p.payer);
        channels.topUp{value: value}(p.payee, p.token, p.signer, p.salt, amount);
        ghostPaidIn[p.token] += amount;
        ghostOpenDeposits[p.token] += amount;
        ghosts[channelId].deposit += amount;
        ++calls["topUp"];
    }

    function extend(uint256 channelSeed, uint256 by) external {
        _ensureOpen(channelSeed);
        bytes32 channelId = openIds[channelSeed % openIds.length];
        Params memory p = params[channelId];
        uint64 expiry = channels.getChannel(channelId).expiry;
        vm.prank(p.payer);
        channels.extend(p.payee, p.token, p.signer, p.salt, expiry + uint64(bound(by, 1, 2 days)));
        ++calls["extend"];
    }

    /// @notice The payee closes with a voucher for any amount up to the deposit, in either signature form.
    function close(uint256 channelSeed, uint256 amount, bool compact) external {
        _ensureOpen(channelSeed);
        (bytes32 channelId, uint256 index) = _pickOpen(channelSeed);
        Params memory p = params[channelId];
        IPaymentChannel.Channel memory channel = channels.getChannel(channelId);
        if (block.timestamp >= channel.expiry) {
            // Too late to close: the payer extends first (its choice in real life; here to keep closing).
            vm.prank(p.payer);
            channels.extend(p.payee, p.token, p.signer, p.salt, uint64(block.timestamp) + 1 hours);
        }
        amount = bound(amount, 0, channel.deposit);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(p.signerKey, channels.hashVoucher(channelId, amount));
        bytes memory data = compact
            ? abi.encodeCall(
                IPaymentChannel.closeCompact,
                (p.payer, p.token, p.signer, p.salt, amount, r, bytes32(uint256(s) | uint256(v - 27) << 255))
            )
            : abi.encodeCall(
                IPaymentChannel.close, (p.payer, p.token, p.signer, p.salt, amount, abi.encodePacked(r, s, v))
            );
        (uint256 toPayee, uint256 toPayer) = _settle(p, data, p.payee, true);
        assertEq(toPayee, amount, "close pays the voucher to the payee");
        assertEq(toPayer, channel.deposit - amount, "close refunds the rest to the payer");
        _removeOpen(index);
        ghosts[channelId].closed = true;
        ghostOpenDeposits[p.token] -= channel.deposit;
        _book(channelId, toPayee, toPayer);
        ++calls["close"];
    }

    function reclaim(uint256 channelSeed) external {
        _ensureOpen(channelSeed);
        (bytes32 channelId, uint256 index) = _pickOpen(channelSeed);
        Params memory p = params[channelId];
        IPaymentChannel.Channel memory channel = channels.getChannel(channelId);
        if (block.timestamp < channel.expiry) vm.warp(channel.expiry);
        (uint256 toPayee, uint256 toPayer) =
            _settle(p, abi.encodeCall(IPaymentChannel.reclaim, (p.payee, p.token, p.signer, p.salt)), p.payer, true);
        assertEq(toPayee, 0, "reclaim pays the payee nothing");
        assertEq(toPayer, channel.deposit, "reclaim refunds the deposit");
        _removeOpen(index);
        ghosts[channelId].reclaimed = true;
        ghostOpenDeposits[p.token] -= channel.deposit;
        _book(channelId, toPayee, toPayer);
        ++calls["reclaim"];
    }

    /// @notice Try to close, reclaim, top up or extend a finished channel, as the party who could have.
    /// The contract must refuse; if it did not, the ghosts would book a second settlement.
    function settleAgain(uint256 channelSeed, uint8 how) external {
        if (channelIds.length == 0) return;
        bytes32 channelId = channelIds[channelSeed % channelIds.length];
        IPaymentChannel.Channel memory channel = channels.getChannel(channelId);
        if (channel.state == IPaymentChannel.ChannelState.Open) return;
        Params memory p = params[channelId];
        uint256 amount = channel.deposit;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(p.signerKey, channels.hashVoucher(channelId, amount));
        bytes memory data;
        address caller = p.payee;
        how %= 4;
        if (how == 0) {
            data = abi.encodeCall(
                IPaymentChannel.closeCompact,
                (p.payer, p.token, p.signer, p.salt, amount, r, bytes32(uint256(s) | uint256(v - 27) << 255))
            );
        } else if (how == 1) {
            data = abi.encodeCall(
                IPaymentChannel.close, (p.payer, p.token, p.signer, p.salt, amount, abi.encodePacked(r, s, v))
            );
        } else if (how == 2) {
            data = abi.encodeCall(IPaymentChannel.reclaim, (p.payee, p.token, p.signer, p.salt));
            caller = p.payer;
            if (block.timestamp < channel.expiry) vm.warp(channel.expiry);
        } else {
            data = abi.encodeCall(IPaymentChannel.extend, (p.payee, p.token, p.signer, p.salt, type(uint64).max));
            caller = p.payer;
        }
        (uint256 toPayee, uint256 toPayer) = _settle(p, data, caller, false);
        if (toPayee + toPayer != 0) _book(channelId, toPayee, toPayer);
        ++calls["settleAgain"];
    }

    function withdraw(uint256 participantSeed, bool eth) external {
        address asset = eth ? address(0) : address(token);
        // The first participant from the seed on that is owed something and can take it.
        address account;
        uint256 amount;
        for (uint256 i; i < participants.length; ++i) {
            address candidate = participants[(participantSeed % participants.length + i) % participants.length];
            bool rejects = eth && candidate.code.length != 0 && !Receiver(payable(candidate)).accepts();
            amount = channels.owed(candidate, asset);
            if (amount != 0 && !rejects) {
                account = candidate;
                break;
            }
        }
        if (account == address(0)) return;
        uint256 before = _balanceOf(account, asset);
        vm.prank(account);
        channels.withdraw(asset);
        assertEq(_balanceOf(account, asset) - before, amount, "withdraw pays what is owed");
        ghostPaidOut[asset] += amount;
        ++calls["withdraw"];
    }

    function toggleRejecting(bool payerNotPayee) external {
        Receiver receiver = payerNotPayee ? contractPayer : contractPayee;
        receiver.setAccepts(!receiver.accepts());
        ++calls["toggle"];
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 0, 1 days));
        ++calls["warp"];
    }

    // ------------------------------------------------------------ views for the invariants

    function channelCount() external view returns (uint256) {
        return channelIds.length;
    }

    function participantCount() external view returns (uint256) {
        return participants.length;
    }

    function ghostOf(bytes32 channelId) external view returns (Ghost memory) {
        return ghosts[channelId];
    }

    // ------------------------------------------------------------ internal

    function _open(uint256 payerSeed, uint256 payeeSeed, bool eth, uint256 amount, uint256 duration, bool bySession)
        internal
    {
        uint256 who = payerSeed % payers.length;
        Params memory p;
        p.payer = payers[who];
        p.payee = payees[payeeSeed % payees.length];
        p.token = eth ? address(0) : address(token);
        if (bySession || payerKeys[who] == 0) {
            p.signer = sessionKeys[payeeSeed % 2];
            p.signerKey = sessionKeyKeys[payeeSeed % 2];
        } else {
            p.signer = p.payer;
            p.signerKey = payerKeys[who];
        }
        p.salt = bytes32(++saltCounter);
        amount = bound(amount, 1, MAX_AMOUNT);
        uint64 expiry = uint64(block.timestamp + bound(duration, 1, 3 days));

        uint256 value = _fund(p.payer, p.token, amount);
        vm.prank(p.payer);
        bytes32 channelId = channels.open{value: value}(p.payee, p.token, amount, expiry, p.salt, p.signer);
        params[channelId] = p;
        channelIds.push(channelId);
        openIds.push(channelId);
        ghostPaidIn[p.token] += amount;
        ghostOpenDeposits[p.token] += amount;
        ghosts[channelId].asset = p.token;
        ghosts[channelId].deposit = amount;
        ++calls["open"];
    }

    /// @dev Gives `account` what it is about to pay in; returns the ETH to send.
    function _fund(address account, address asset, uint256 amount) internal returns (uint256 value) {
        if (asset == address(0)) {
            vm.deal(account, account.balance + amount);
            return amount;
        }
        token.mint(account, amount);
    }

    function _ensureOpen(uint256 seed) internal {
        if (openIds.length == 0) _open(seed, seed >> 8, seed & 1 == 0, seed >> 16, seed >> 32, seed & 2 == 0);
    }

    function _pickOpen(uint256 seed) internal view returns (bytes32 channelId, uint256 index) {
        index = seed % openIds.length;
        channelId = openIds[index];
    }

    function _removeOpen(uint256 index) internal {
        openIds[index] = openIds[openIds.length - 1];
        openIds.pop();
    }

    /// @dev Runs `data` as `caller` and returns what the payee and the payer received, pushed or credited
    /// to `owed`. Reverts with the call's error when `mustSucceed`; otherwise a refusal must say the
    /// channel is not open.
    function _settle(Params memory p, bytes memory data, address caller, bool mustSucceed)
        internal
        returns (uint256 toPayee, uint256 toPayer)
    {
        uint256 payeeBefore = _balanceOf(p.payee, p.token) + channels.owed(p.payee, p.token);
        uint256 payerBefore = _balanceOf(p.payer, p.token) + channels.owed(p.payer, p.token);
        uint256 pushedBefore = _participantBalances(p.token);
        vm.prank(caller);
        (bool ok, bytes memory ret) = address(channels).call(data);
        if (!ok) {
            if (mustSucceed) {
                assembly ("memory-safe") {
                    revert(add(ret, 0x20), mload(ret))
                }
            }
            assertEq(bytes4(ret), IPaymentChannel.ChannelNotOpen.selector);
            return (0, 0);
        }
        toPayee = _balanceOf(p.payee, p.token) + channels.owed(p.payee, p.token) - payeeBefore;
        toPayer = _balanceOf(p.payer, p.token) + channels.owed(p.payer, p.token) - payerBefore;
        ghostPaidOut[p.token] += _participantBalances(p.token) - pushedBefore;
    }

    function _book(bytes32 channelId, uint256 toPayee, uint256 toPayer) internal {
        Ghost storage ghost = ghosts[channelId];
        ghost.toPayee += toPayee;
        ghost.toPayer += toPayer;
        ++ghost.settlements;
    }

    function _participantBalances(address asset) internal view returns (uint256 sum) {
        for (uint256 i; i < participants.length; ++i) {
            sum += _balanceOf(participants[i], asset);
        }
    }

    function _balanceOf(address account, address asset) internal view returns (uint256) {
        return asset == address(0) ? account.balance : token.balanceOf(account);
    }
}
