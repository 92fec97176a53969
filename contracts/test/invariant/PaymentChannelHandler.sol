// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../utils/Test.sol";
import {PaymentChannel} from "../../src/PaymentChannel.sol";
import {MarketToken} from "../../src/MarketToken.sol";
import {IPaymentChannel} from "../../src/interfaces/IPaymentChannel.sol";
import {IPayouts} from "../../src/interfaces/IPayouts.sol";
import {FaultyToken, FeeOnTransferToken, Receiver, ReentrantToken} from "../utils/Mocks.sol";
import {SmartWallet} from "../utils/ChannelMocks.sol";

/// @notice Drives the channel contract through random but valid sequences of opens (ETH and AMT, signed
/// by the payer's key or a session key), top-ups, extensions, closes (compact and 65-byte signatures,
/// any amount up to the deposit), reclaims, attempts to settle a finished channel again, withdrawals and
/// time jumps, with a contract payer and a contract payee that start and stop rejecting ETH. Channels are
/// in ETH, AMT, a token that fails transfers to accounts it blocks, and a token that re-enters the
/// contract on every transfer; opens with a fee-on-transfer token must be refused. Vouchers are signed by
/// the payer's key, a session key, or an ERC-1271 wallet that its owner can revoke (then only a zero
/// voucher closes). Strangers and parties in the wrong role try to close, reclaim and extend, and must be
/// refused; the close/reclaim race at the expiry is explored (both tried, exactly one wins). Owed payouts
/// leave by `withdraw` or by `withdrawTo` a rescue address. Ghost variables record what went in and out,
/// and what each channel paid to whom.
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
        bool walletSigner;
    }

    PaymentChannel public immutable channels;
    MarketToken public immutable token;
    FaultyToken public immutable faulty;
    ReentrantToken public immutable reentrant;
    FeeOnTransferToken public immutable taxed;
    SmartWallet public immutable wallet;
    uint256 internal walletOwnerKey;
    address public immutable stranger;
    address public immutable rescue;
    mapping(address account => uint256) internal keys; // accounts that sign withdrawals
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
    // ghost state, for hostile calls: each must stay zero
    uint256 public ghostTaxedAccepted;
    uint256 public ghostUnauthorizedAccepted;
    uint256 public ghostReentriesAccepted;
    uint256 public ghostRacesNotExactlyOne;
    uint256 public ghostRevokedAccepted;

    mapping(bytes32 => uint256) public calls;

    constructor(PaymentChannel channels_) {
        channels = channels_;
        token = new MarketToken(); // the handler mints
        faulty = new FaultyToken();
        reentrant = new ReentrantToken(address(channels_));
        taxed = new FeeOnTransferToken(100);
        address walletOwner;
        (walletOwner, walletOwnerKey) = makeAddrAndKey("walletOwner");
        wallet = new SmartWallet(walletOwner);
        stranger = makeAddr("stranger");
        rescue = makeAddr("rescue");
        contractPayer = new Receiver();
        contractPayee = new Receiver();

        (address payerA, uint256 keyA) = makeAddrAndKey("payerA");
        (address payerB, uint256 keyB) = makeAddrAndKey("payerB");
        payers = [payerA, payerB, address(contractPayer)];
        payerKeys = [keyA, keyB, 0];
        (address payeeA, uint256 payeeKey) = makeAddrAndKey("payeeA");
        payees = [payeeA, address(contractPayee)];
        keys[payerA] = keyA;
        keys[payerB] = keyB;
        keys[payeeA] = payeeKey;
        (sessionKeys[0], sessionKeyKeys[0]) = makeAddrAndKey("session0");
        (sessionKeys[1], sessionKeyKeys[1]) = makeAddrAndKey("session1");
        participants = payers;
        participants.push(payees[0]);
        participants.push(payees[1]);
        participants.push(rescue);
        for (uint256 i; i < payers.length; ++i) {
            vm.startPrank(payers[i]);
            token.approve(address(channels), type(uint256).max);
            faulty.approve(address(channels), type(uint256).max);
            reentrant.approve(address(channels), type(uint256).max);
            taxed.approve(address(channels), type(uint256).max);
            vm.stopPrank();
        }
    }

    // ------------------------------------------------------------ actions

    function open(uint256 payerSeed, uint256 payeeSeed, uint8 assetSeed, uint256 amount, uint256 duration, uint8 how)
        external
    {
        _open(payerSeed, payeeSeed, assetSeed, amount, duration, how);
    }

    /// @notice A payer tries to open a channel in the fee-on-transfer token: it must be refused.
    function openTaxed(uint256 payerSeed, uint256 amount) external {
        address payer = payers[payerSeed % payers.length];
        amount = bound(amount, 100, MAX_AMOUNT);
        taxed.mint(payer, amount);
        vm.prank(payer);
        (bool ok, bytes memory ret) = address(channels)
            .call(
                abi.encodeCall(
                    IPaymentChannel.open,
                    (payees[0], address(taxed), amount, uint64(block.timestamp + 1 days), bytes32(++saltCounter), payer)
                )
            );
        if (ok) {
            ++ghostTaxedAccepted;
        } else {
            assertEq(
                ret,
                abi.encodeWithSelector(
                    IPayouts.AmountNotReceived.selector, address(taxed), amount, amount - amount / 100
                )
            );
        }
        ++calls["openTaxed"];
    }

    function topUp(uint256 channelSeed, uint256 amount) external {
        _ensureOpen(channelSeed);
        bytes32 channelId = openIds[channelSeed % openIds.length];
        Params memory p = params[channelId];
        amount = bound(amount, 1, MAX_AMOUNT);
        uint256 value = _fund(p.payer, p.token, amount);
        _armReentry(p.token);
        vm.prank(p.payer);
        channels.topUp{value: value}(p.payee, p.token, p.signer, p.salt, amount);
        _checkReentry(p.token);
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
        // Later than both the current expiry and now (an expiry in the past is refused).
        uint64 from = expiry > block.timestamp ? expiry : uint64(block.timestamp);
        channels.extend(p.payee, p.token, p.signer, p.salt, from + uint64(bound(by, 1, 2 days)));
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
        bytes memory data = _closeData(p, channelId, amount, compact);
        if (amount != 0 && p.walletSigner && wallet.revoked()) {
            // The wallet took its approval back: no voucher of it closes any more.
            vm.prank(p.payee);
            (bool ok, bytes memory ret) = address(channels).call(data);
            if (ok) {
                ++ghostRevokedAccepted;
            } else {
                assertEq(ret, abi.encodeWithSelector(IPaymentChannel.InvalidSignature.selector, channelId, p.signer));
            }
            ++calls["closeRevoked"];
            return;
        }
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

    function withdraw(uint256 participantSeed, uint8 assetSeed) external {
        address asset = _asset(assetSeed);
        bool eth = asset == address(0);
        // The first participant from the seed on that is owed something and can take it.
        address account;
        uint256 amount;
        for (uint256 i; i < participants.length; ++i) {
            address candidate = participants[(participantSeed % participants.length + i) % participants.length];
            bool rejects = eth && candidate.code.length != 0 && !Receiver(payable(candidate)).accepts()
                || asset == address(faulty) && faulty.blocked(candidate);
            amount = channels.owed(candidate, asset);
            if (amount != 0 && !rejects) {
                account = candidate;
                break;
            }
        }
        if (account == address(0)) return;
        uint256 before = _balanceOf(account, asset);
        _armReentry(asset);
        vm.prank(account);
        channels.withdraw(asset);
        _checkReentry(asset);
        assertEq(_balanceOf(account, asset) - before, amount, "withdraw pays what is owed");
        ghostPaidOut[asset] += amount;
        ++calls["withdraw"];
    }

    /// @notice Someone owed money has it sent to `rescue`: by a signature a stranger relays when it holds
    /// a key, else by calling itself.
    function withdrawTo(uint256 participantSeed, uint8 assetSeed) external {
        address asset = _asset(assetSeed);
        address account = participants[participantSeed % participants.length];
        uint256 amount = channels.owed(account, asset);
        if (amount == 0 || account == rescue) return;
        uint256 before = _balanceOf(rescue, asset);
        _armReentry(asset);
        if (keys[account] != 0) {
            uint256 deadline = block.timestamp + 1 hours;
            bytes32 digest =
                channels.hashWithdrawal(account, asset, rescue, channels.withdrawalNonce(account), deadline);
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[account], digest);
            vm.prank(stranger);
            channels.withdrawTo(account, asset, rescue, deadline, abi.encodePacked(r, s, v));
        } else {
            vm.prank(account);
            channels.withdrawTo(account, asset, rescue, 0, "");
        }
        _checkReentry(asset);
        assertEq(_balanceOf(rescue, asset) - before, amount, "withdrawTo pays what is owed to the destination");
        ghostPaidOut[asset] += amount;
        ++calls["withdrawTo"];
    }

    /// @notice The close/reclaim race: one second before the expiry (closing's last) or at it (reclaim's
    /// first), the payee's close and the payer's reclaim are both tried, in either order. Exactly one
    /// must go through.
    function race(uint256 channelSeed, bool atExpiry, bool reclaimFirst, uint256 amount) external {
        _ensureOpen(channelSeed);
        (bytes32 channelId, uint256 index) = _pickOpen(channelSeed);
        Params memory p = params[channelId];
        IPaymentChannel.Channel memory channel = channels.getChannel(channelId);
        uint256 moment = uint256(channel.expiry) - (atExpiry ? 0 : 1);
        if (block.timestamp > moment) return; // time only moves forward
        vm.warp(moment);
        // A revoked wallet signs nothing: the payee can still release the deposit with a zero voucher.
        amount = p.walletSigner && wallet.revoked() ? 0 : bound(amount, 0, channel.deposit);
        bytes memory closing = _closeData(p, channelId, amount, amount % 2 == 0);
        bytes memory reclaiming = abi.encodeCall(IPaymentChannel.reclaim, (p.payee, p.token, p.signer, p.salt));
        uint256[4] memory paid;
        if (reclaimFirst) {
            (paid[2], paid[3]) = _settle(p, reclaiming, p.payer, false);
            (paid[0], paid[1]) = _settle(p, closing, p.payee, false);
        } else {
            (paid[0], paid[1]) = _settle(p, closing, p.payee, false);
            (paid[2], paid[3]) = _settle(p, reclaiming, p.payer, false);
        }
        IPaymentChannel.ChannelState state = channels.getChannel(channelId).state;
        bool closed = state == IPaymentChannel.ChannelState.Closed;
        bool reclaimed = state == IPaymentChannel.ChannelState.Reclaimed;
        if (closed == reclaimed || closed == atExpiry) ++ghostRacesNotExactlyOne;
        if (closed || reclaimed) {
            _removeOpen(index);
            ghostOpenDeposits[p.token] -= channel.deposit;
        }
        ghosts[channelId].closed = closed;
        ghosts[channelId].reclaimed = reclaimed;
        if (paid[0] + paid[1] != 0 || closed) _book(channelId, paid[0], paid[1]);
        if (paid[2] + paid[3] != 0 || reclaimed) _book(channelId, paid[2], paid[3]);
        ++calls["race"];
    }

    /// @notice A stranger, or a party in the other role, tries to act on an open channel: the id it
    /// derives names no channel, and the contract says so.
    function wrongRole(uint256 channelSeed, uint8 how) external {
        _ensureOpen(channelSeed);
        (bytes32 channelId,) = _pickOpen(channelSeed);
        Params memory p = params[channelId];
        IPaymentChannel.Channel memory channel = channels.getChannel(channelId);
        how %= 5;
        address caller = how == 3 ? p.payee : stranger;
        if (how == 4) caller = p.payer;
        bytes memory data;
        bytes32 derived;
        if (how == 0 || how == 4) {
            // Closing as if the caller were the payee.
            derived = channels.computeChannelId(p.payer, caller, p.token, p.signer, p.salt);
            data = abi.encodeCall(IPaymentChannel.close, (p.payer, p.token, p.signer, p.salt, 0, ""));
        } else if (how == 1 || how == 3) {
            // Reclaiming as if the caller were the payer.
            derived = channels.computeChannelId(caller, p.payee, p.token, p.signer, p.salt);
            data = abi.encodeCall(IPaymentChannel.reclaim, (p.payee, p.token, p.signer, p.salt));
        } else {
            derived = channels.computeChannelId(caller, p.payee, p.token, p.signer, p.salt);
            data = abi.encodeCall(IPaymentChannel.extend, (p.payee, p.token, p.signer, p.salt, channel.expiry + 1));
        }
        vm.prank(caller);
        (bool ok, bytes memory ret) = address(channels).call(data);
        if (ok) {
            ++ghostUnauthorizedAccepted;
        } else {
            assertEq(
                ret,
                abi.encodeWithSelector(
                    IPaymentChannel.ChannelNotOpen.selector, derived, IPaymentChannel.ChannelState.None
                )
            );
        }
        ++calls["wrongRole"];
    }

    function toggleRevoked() external {
        bool revoked = !wallet.revoked();
        vm.prank(wallet.owner());
        wallet.setRevoked(revoked);
        ++calls["toggleRevoked"];
    }

    /// @notice The faulty token starts or stops refusing transfers to one participant (never `rescue`),
    /// and switches between reverting and returning false.
    function toggleBlocked(uint256 participantSeed, bool switchMode) external {
        address account = participants[participantSeed % (participants.length - 1)];
        faulty.setBlocked(account, !faulty.blocked(account));
        if (switchMode) {
            faulty.setMode(
                faulty.mode() == FaultyToken.Mode.Revert ? FaultyToken.Mode.ReturnFalse : FaultyToken.Mode.Revert
            );
        }
        ++calls["toggleBlocked"];
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

    /// @notice The asset with index `i` (0: ETH, 1: AMT, 2: faulty, 3: re-entering).
    function assetAt(uint256 i) external view returns (address) {
        return _asset(i);
    }

    // ------------------------------------------------------------ internal

    function _open(uint256 payerSeed, uint256 payeeSeed, uint8 assetSeed, uint256 amount, uint256 duration, uint8 how)
        internal
    {
        uint256 who = payerSeed % payers.length;
        Params memory p;
        p.payer = payers[who];
        p.payee = payees[payeeSeed % payees.length];
        p.token = _asset(assetSeed);
        if (how % 3 == 2) {
            p.signer = address(wallet);
            p.signerKey = walletOwnerKey;
            p.walletSigner = true;
        } else if (how % 3 == 1 || payerKeys[who] == 0) {
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
        _armReentry(p.token);
        vm.prank(p.payer);
        bytes32 channelId = channels.open{value: value}(p.payee, p.token, amount, expiry, p.salt, p.signer);
        _checkReentry(p.token);
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
        MarketToken(asset).mint(account, amount);
    }

    function _ensureOpen(uint256 seed) internal {
        if (openIds.length == 0) _open(seed, seed >> 8, uint8(seed >> 40), seed >> 16, seed >> 32, uint8(seed >> 48));
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
        _armReentry(p.token);
        vm.prank(caller);
        (bool ok, bytes memory ret) = address(channels).call(data);
        _checkReentry(p.token);
        if (!ok) {
            if (mustSucceed) {
                assembly ("memory-safe") {
                    revert(add(ret, 0x20), mload(ret))
                }
            }
            bytes4 selector = bytes4(ret);
            assertTrue(
                selector == IPaymentChannel.ChannelNotOpen.selector
                    || selector == IPaymentChannel.ChannelExpired.selector
                    || selector == IPaymentChannel.ChannelNotExpired.selector
            );
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
        return asset == address(0) ? account.balance : MarketToken(asset).balanceOf(account);
    }

    /// @dev The payee's close of `channelId` for `amount`: 65-byte signature for wallet signers (only
    /// `close` asks ERC-1271), compact or not for keys.
    function _closeData(Params memory p, bytes32 channelId, uint256 amount, bool compact)
        internal
        view
        returns (bytes memory)
    {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(p.signerKey, channels.hashVoucher(channelId, amount));
        if (compact && !p.walletSigner) {
            return abi.encodeCall(
                IPaymentChannel.closeCompact,
                (p.payer, p.token, p.signer, p.salt, amount, r, bytes32(uint256(s) | uint256(v - 27) << 255))
            );
        }
        return
            abi.encodeCall(
                IPaymentChannel.close, (p.payer, p.token, p.signer, p.salt, amount, abi.encodePacked(r, s, v))
            );
    }

    function _asset(uint256 i) internal view returns (address) {
        i %= 4;
        if (i == 0) return address(0);
        if (i == 1) return address(token);
        if (i == 2) return address(faulty);
        return address(reentrant);
    }

    /// @dev The re-entering token calls back into the contract on its next transfer.
    function _armReentry(address asset) internal {
        if (asset == address(reentrant)) reentrant.arm(abi.encodeCall(IPayouts.withdraw, (address(reentrant))));
    }

    function _checkReentry(address asset) internal {
        if (asset != address(reentrant) || !reentrant.attempted()) return;
        if (reentrant.succeeded()) ++ghostReentriesAccepted;
        else assertEq(reentrant.returned(), abi.encodeWithSelector(IPayouts.ReentrantCall.selector));
        reentrant.arm("");
    }
}
