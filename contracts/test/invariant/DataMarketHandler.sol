// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../utils/Test.sol";
import {DataMarket} from "../../src/DataMarket.sol";
import {MarketToken} from "../../src/MarketToken.sol";
import {IDataMarket} from "../../src/interfaces/IDataMarket.sol";
import {IPayouts} from "../../src/interfaces/IPayouts.sol";
import {FaultyToken, FeeOnTransferToken, Receiver, ReentrantToken} from "../utils/Mocks.sol";
import {SmartWallet} from "../utils/ChannelMocks.sol";

/// @notice Drives the data market through random but valid sequences: orders (escrowed in ETH, AMT, a
/// token that fails transfers to accounts it blocks and a token that re-enters on every transfer, or
/// paid off chain) from EOA buyers and a contract buyer to an EOA seller and a contract seller; data
/// delivered and acknowledged (the ackSigner signs a growing figure: the buyer's key, a session key, or an
/// ERC-1271 wallet its owner can revoke); ends by either party, the buyer stating any figure (often too
/// low), the seller presenting any ACK it holds; challenges; settlements by a stranger once due and
/// attempts before; off-chain confirmations and expiries; ratings; withdrawals; time jumps; receivers that
/// start and stop rejecting ETH. Hostile calls must be refused: a fee-on-transfer escrow, ACKs above what
/// was signed (a signature for a lower figure, a wrong key), a revoked wallet's ACK, strangers acting as a
/// party, a second settlement, re-entry. Ghost variables record what went in and out, and for each order
/// the highest figure signed, stated and recorded, and what it paid to whom.
contract DataMarketHandler is Test {
    uint256 internal constant MAX_PRICE = 1_000 ether;
    uint64 internal constant MAX_TOTAL = 1 << 40;

    /// @notice What the handler knows of an order.
    struct Ghost {
        address asset;
        uint256 price; // 0 for off-chain orders: nothing held
        uint64 totalBytes;
        uint64 signed; // the highest figure the ackSigner signed (what the seller can prove)
        uint64 stated; // the highest figure the buyer stated itself
        uint64 recorded; // the highest figure the contract accepted
        uint256 toSeller;
        uint256 toBuyer;
        uint256 settlements;
    }

    struct Params {
        address buyer;
        address seller;
        address ackSigner;
        uint256 ackKey;
        bool walletSigner;
        bool offChain;
    }

    DataMarket public immutable market;
    MarketToken public immutable token;
    FaultyToken public immutable faulty;
    ReentrantToken public immutable reentrant;
    FeeOnTransferToken public immutable taxed;
    SmartWallet public immutable wallet;
    uint256 internal walletOwnerKey;
    address public immutable stranger;
    address public immutable rescue;
    Receiver public immutable contractBuyer;
    Receiver public immutable contractSeller;
    mapping(address account => uint256) internal keys; // accounts that sign ACKs or withdrawals

    address[] internal buyers;
    address[] internal sellers;
    address[2] internal sessionKeys;
    uint256[2] internal sessionKeyKeys;
    /// @notice Everyone who can receive money from the contract.
    address[] public participants;

    /// @notice Every order opened, and those not finished.
    bytes32[] public orderIds;
    bytes32[] internal activeIds;
    mapping(bytes32 orderId => Params) internal params;
    uint256 internal nonce;

    // ghost state, per asset (address(0) = ETH)
    mapping(address asset => uint256) public ghostPaidIn;
    mapping(address asset => uint256) public ghostPaidOut;
    mapping(address asset => uint256) public ghostOpenEscrow;
    // ghost state, per order
    mapping(bytes32 orderId => Ghost) internal ghosts;
    // ghost state, for hostile calls: each must stay zero
    uint256 public ghostTaxedAccepted;
    uint256 public ghostForgedAccepted;
    uint256 public ghostRevokedAccepted;
    uint256 public ghostUnauthorizedAccepted;
    uint256 public ghostEarlySettleAccepted;
    uint256 public ghostSecondSettleAccepted;
    uint256 public ghostReentriesAccepted;

    mapping(bytes32 => uint256) public calls;

    constructor(DataMarket market_) {
        market = market_;
        token = new MarketToken(); // the handler mints
        faulty = new FaultyToken();
        reentrant = new ReentrantToken(address(market_));
        taxed = new FeeOnTransferToken(100);
        address walletOwner;
        (walletOwner, walletOwnerKey) = makeAddrAndKey("walletOwner");
        wallet = new SmartWallet(walletOwner);
        stranger = makeAddr("stranger");
        rescue = makeAddr("rescue");
        contractBuyer = new Receiver();
        contractSeller = new Receiver();

        (address buyerA, uint256 keyA) = makeAddrAndKey("buyerA");
        (address buyerB, uint256 keyB) = makeAddrAndKey("buyerB");
        buyers = [buyerA, buyerB, address(contractBuyer)];
        keys[buyerA] = keyA;
        keys[buyerB] = keyB;
        (address sellerA, uint256 sellerKey) = makeAddrAndKey("sellerA");
        sellers = [sellerA, address(contractSeller)];
        keys[sellerA] = sellerKey;
        (sessionKeys[0], sessionKeyKeys[0]) = makeAddrAndKey("session0");
        (sessionKeys[1], sessionKeyKeys[1]) = makeAddrAndKey("session1");
        participants = buyers;
        participants.push(sellerA);
        participants.push(address(contractSeller));
        participants.push(rescue);
        for (uint256 i; i < sellers.length; ++i) {
            vm.prank(sellers[i]);
            market.register("seller.example.org:7400", makeAddr("messageKey"), keccak256("menu"), "");
        }
        for (uint256 i; i < buyers.length; ++i) {
            vm.startPrank(buyers[i]);
            token.approve(address(market), type(uint256).max);
            faulty.approve(address(market), type(uint256).max);
            reentrant.approve(address(market), type(uint256).max);
            taxed.approve(address(market), type(uint256).max);
            vm.stopPrank();
        }
    }

    // ------------------------------------------------------------ actions

    function open(
        uint256 buyerSeed,
        uint256 sellerSeed,
        uint8 assetSeed,
        uint256 price,
        uint64 totalBytes,
        uint256 duration,
        uint8 how
    ) external {
        _open(buyerSeed, sellerSeed, assetSeed, price, totalBytes, duration, how);
    }

    /// @notice A buyer tries to escrow the fee-on-transfer token: it must be refused.
    function openTaxed(uint256 buyerSeed, uint256 price) external {
        address buyer = buyers[buyerSeed % buyers.length];
        price = bound(price, 100, MAX_PRICE);
        taxed.mint(buyer, price);
        vm.prank(buyer);
        (bool ok, bytes memory ret) = address(market)
            .call(
                abi.encodeCall(
                    IDataMarket.openOrder,
                    (
                        sellers[0],
                        address(taxed),
                        price,
                        1000,
                        uint64(block.timestamp + 1 days),
                        uint64(block.timestamp),
                        ++nonce,
                        buyer,
                        IDataMarket.PaymentMethod.Escrow
                    )
                )
            );
        if (ok) {
            ++ghostTaxedAccepted;
        } else {
            assertEq(
                ret,
                abi.encodeWithSelector(IPayouts.AmountNotReceived.selector, address(taxed), price, price - price / 100)
            );
        }
        ++calls["openTaxed"];
    }

    /// @notice More data reaches the buyer, which acknowledges it: the ackSigner signs a higher figure.
    function deliver(uint256 orderSeed, uint64 bytes_) external {
        (bytes32 orderId,) = _pickActive(orderSeed);
        if (orderId == bytes32(0)) return;
        Ghost storage ghost = ghosts[orderId];
        if (ghost.signed == ghost.totalBytes) return;
        ghost.signed += uint64(bound(bytes_, 1, ghost.totalBytes - ghost.signed));
        ++calls["deliver"];
    }

    /// @notice The seller ends with an ACK it holds (the highest, or an older one).
    function endBySeller(uint256 orderSeed, uint64 figure, bool highest) external {
        (bytes32 orderId,) = _pickActive(orderSeed);
        if (orderId == bytes32(0)) return;
        Params memory p = params[orderId];
        Ghost storage ghost = ghosts[orderId];
        figure = highest ? ghost.signed : uint64(bound(figure, 0, ghost.signed));
        bytes memory data = abi.encodeCall(IDataMarket.end, (orderId, figure, _sign(p, orderId, figure)));
        _present(orderId, data, figure, false, "endBySeller");
    }

    /// @notice The buyer ends stating a figure of its choice (honest or too low, even above what it signed).
    function endByBuyer(uint256 orderSeed, uint64 figure) external {
        (bytes32 orderId,) = _pickActive(orderSeed);
        if (orderId == bytes32(0)) return;
        Params memory p = params[orderId];
        figure = uint64(bound(figure, 0, ghosts[orderId].totalBytes));
        bytes memory data = abi.encodeCall(IDataMarket.end, (orderId, figure, bytes("")));
        _present(orderId, data, figure, true, "endByBuyer");
    }

    /// @notice The seller answers an end with its highest ACK, or the buyer raises its own figure.
    function challenge(uint256 orderSeed, bool bySeller, uint64 figure) external {
        (bytes32 orderId,) = _pickActive(orderSeed);
        if (orderId == bytes32(0)) return;
        Params memory p = params[orderId];
        Ghost storage ghost = ghosts[orderId];
        figure = bySeller ? ghost.signed : uint64(bound(figure, 0, ghost.totalBytes));
        bytes memory data =
            abi.encodeCall(IDataMarket.challenge, (orderId, figure, bySeller ? _sign(p, orderId, figure) : bytes("")));
        _present(orderId, data, figure, !bySeller, "challenge");
    }

    /// @notice The seller tries to be paid for more than was signed: a signature of a lower figure, or of
    /// the right figure by a key that is not the ackSigner.
    function forgeAck(uint256 orderSeed, uint64 extra, bool wrongKey) external {
        (bytes32 orderId,) = _pickActive(orderSeed);
        if (orderId == bytes32(0)) return;
        Params memory p = params[orderId];
        Ghost storage ghost = ghosts[orderId];
        if (ghost.signed == ghost.totalBytes || p.offChain) return;
        uint64 figure = ghost.signed + uint64(bound(extra, 1, ghost.totalBytes - ghost.signed));
        bytes memory signature;
        if (wrongKey) {
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[sellers[0]], market.ackDigest(orderId, figure));
            signature = abi.encodePacked(r, s, v);
        } else {
            signature = _sign(p, orderId, ghost.signed);
        }
        uint256 state = uint256(market.getOrder(orderId).state);
        bytes memory data = state == uint256(IDataMarket.OrderState.Open)
            ? abi.encodeCall(IDataMarket.end, (orderId, figure, signature))
            : abi.encodeCall(IDataMarket.challenge, (orderId, figure, signature));
        vm.prank(p.seller);
        (bool ok,) = address(market).call(data);
        if (ok) ++ghostForgedAccepted;
        ++calls["forgeAck"];
    }

    /// @notice A stranger settles an order once it is due (and tries one second before).
    function settle(uint256 orderSeed, bool tryEarly) external {
        (bytes32 orderId,) = _pickActive(orderSeed);
        if (orderId == bytes32(0)) return;
        Params memory p = params[orderId];
        uint256 settleAt = uint256(market.getOrder(orderId).deadline) + market.CHALLENGE_WINDOW();
        if (tryEarly && block.timestamp < settleAt) {
            vm.warp(settleAt - 1);
            vm.prank(stranger);
            (bool early, bytes memory ret) = address(market).call(abi.encodeCall(IDataMarket.settle, (orderId)));
            if (early) ++ghostEarlySettleAccepted;
            else assertEq(bytes4(ret), IDataMarket.SettlementNotDue.selector);
        }
        if (block.timestamp < settleAt) vm.warp(settleAt);
        Ghost storage ghost = ghosts[orderId];
        (uint256 toSeller, uint256 toBuyer,) =
            _run(orderId, abi.encodeCall(IDataMarket.settle, (orderId)), stranger, true);
        if (p.offChain) {
            assertEq(uint256(market.getOrder(orderId).state), uint256(IDataMarket.OrderState.Expired));
        } else {
            assertEq(toSeller, ghost.price * ghost.recorded / ghost.totalBytes, "seller paid for the figure on record");
            assertEq(toBuyer, ghost.price - toSeller, "buyer refunded the rest");
        }
        _finish(orderId, toSeller, toBuyer);
        ++calls["settle"];
    }

    function confirmPaid(uint256 orderSeed) external {
        (bytes32 orderId,) = _pickActive(orderSeed);
        if (orderId == bytes32(0) || !params[orderId].offChain) return;
        vm.prank(params[orderId].seller);
        market.confirmPaid(orderId);
        _finish(orderId, 0, 0);
        ++calls["confirmPaid"];
    }

    /// @notice A party rates a finished order (a second rating must be refused).
    function rate(uint256 orderSeed, bool byBuyer, uint8 score) external {
        if (orderIds.length == 0) return;
        bytes32 orderId = orderIds[orderSeed % orderIds.length];
        IDataMarket.Order memory order = market.getOrder(orderId);
        if (
            order.state != IDataMarket.OrderState.Settled && order.state != IDataMarket.OrderState.Paid
                && order.state != IDataMarket.OrderState.Expired
        ) return;
        address rater = byBuyer ? order.buyer : order.seller;
        bool already = byBuyer ? order.ratedByBuyer : order.ratedBySeller;
        score = uint8(bound(score, 1, 5));
        vm.prank(rater);
        (bool ok, bytes memory ret) = address(market).call(abi.encodeCall(IDataMarket.rate, (orderId, score, 0)));
        if (already) {
            assertFalse(ok, "rated twice");
            assertEq(ret, abi.encodeWithSelector(IDataMarket.AlreadyRated.selector, orderId, rater));
        } else {
            assertTrue(ok);
        }
        ++calls["rate"];
    }

    /// @notice Try to settle, end, challenge or confirm a finished order: the contract must refuse, and
    /// pay nothing.
    function settleAgain(uint256 orderSeed, uint8 how) external {
        if (orderIds.length == 0) return;
        bytes32 orderId = orderIds[orderSeed % orderIds.length];
        IDataMarket.OrderState state = market.getOrder(orderId).state;
        if (state == IDataMarket.OrderState.Open || state == IDataMarket.OrderState.Ending) return;
        Params memory p = params[orderId];
        Ghost storage ghost = ghosts[orderId];
        how %= 4;
        bytes memory data;
        address caller = stranger;
        if (how == 0) {
            data = abi.encodeCall(IDataMarket.settle, (orderId));
        } else if (how == 1) {
            data = abi.encodeCall(IDataMarket.end, (orderId, ghost.signed, _sign(p, orderId, ghost.signed)));
            caller = p.seller;
        } else if (how == 2) {
            data = abi.encodeCall(IDataMarket.challenge, (orderId, ghost.totalBytes, bytes("")));
            caller = p.buyer;
        } else {
            data = abi.encodeCall(IDataMarket.confirmPaid, (orderId));
            caller = p.seller;
        }
        (uint256 toSeller, uint256 toBuyer, bool ok) = _run(orderId, data, caller, false);
        if (ok) ++ghostSecondSettleAccepted;
        if (toSeller + toBuyer != 0) _book(orderId, toSeller, toBuyer);
        ++calls["settleAgain"];
    }

    /// @notice A stranger acts as a party: it must be refused.
    function wrongParty(uint256 orderSeed, uint8 how) external {
        (bytes32 orderId,) = _pickActive(orderSeed);
        if (orderId == bytes32(0)) return;
        Params memory p = params[orderId];
        how %= 3;
        bytes memory data;
        bytes memory expected;
        IDataMarket.Order memory order = market.getOrder(orderId);
        bool windowOpen = block.timestamp < uint256(order.deadline) + market.CHALLENGE_WINDOW();
        if (how == 0 && order.state == IDataMarket.OrderState.Open && !p.offChain && windowOpen) {
            data = abi.encodeCall(IDataMarket.end, (orderId, 0, bytes("")));
            expected = abi.encodeWithSelector(IDataMarket.NotOrderParty.selector, orderId, stranger);
        } else if (how == 1 && order.state == IDataMarket.OrderState.Ending && windowOpen) {
            data = abi.encodeCall(IDataMarket.challenge, (orderId, order.totalBytes, bytes("")));
            expected = abi.encodeWithSelector(IDataMarket.NotOrderParty.selector, orderId, stranger);
        } else if (how == 2 && p.offChain) {
            data = abi.encodeCall(IDataMarket.confirmPaid, (orderId));
            expected = abi.encodeWithSelector(IDataMarket.NotOrderSeller.selector, orderId, stranger);
        } else {
            return;
        }
        vm.prank(stranger);
        (bool ok, bytes memory ret) = address(market).call(data);
        if (ok) ++ghostUnauthorizedAccepted;
        else assertEq(ret, expected);
        ++calls["wrongParty"];
    }

    function withdraw(uint256 participantSeed, uint8 assetSeed) external {
        address asset = _asset(assetSeed);
        bool eth = asset == address(0);
        address account;
        uint256 amount;
        for (uint256 i; i < participants.length; ++i) {
            address candidate = participants[(participantSeed % participants.length + i) % participants.length];
            bool rejects = eth && candidate.code.length != 0 && !Receiver(payable(candidate)).accepts()
                || asset == address(faulty) && faulty.blocked(candidate);
            amount = market.owed(candidate, asset);
            if (amount != 0 && !rejects) {
                account = candidate;
                break;
            }
        }
        if (account == address(0)) return;
        uint256 before = _balanceOf(account, asset);
        _armReentry(asset);
        vm.prank(account);
        market.withdraw(asset);
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
        uint256 amount = market.owed(account, asset);
        if (amount == 0 || account == rescue) return;
        uint256 before = _balanceOf(rescue, asset);
        _armReentry(asset);
        if (keys[account] != 0) {
            uint256 deadline = block.timestamp + 1 hours;
            bytes32 digest = market.hashWithdrawal(account, asset, rescue, market.withdrawalNonce(account), deadline);
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[account], digest);
            vm.prank(stranger);
            market.withdrawTo(account, asset, rescue, deadline, abi.encodePacked(r, s, v));
        } else {
            vm.prank(account);
            market.withdrawTo(account, asset, rescue, 0, "");
        }
        _checkReentry(asset);
        assertEq(_balanceOf(rescue, asset) - before, amount, "withdrawTo pays what is owed to the destination");
        ghostPaidOut[asset] += amount;
        ++calls["withdrawTo"];
    }

    function toggleRevoked() external {
        bool revoked = !wallet.revoked();
        vm.prank(wallet.owner());
        wallet.setRevoked(revoked);
        ++calls["toggleRevoked"];
    }

    /// @notice The faulty token starts or stops refusing transfers to one participant (never `rescue`).
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

    function toggleRejecting(bool buyerNotSeller) external {
        Receiver receiver = buyerNotSeller ? contractBuyer : contractSeller;
        receiver.setAccepts(!receiver.accepts());
        ++calls["toggle"];
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 0, 1 days));
        ++calls["warp"];
    }

    // ------------------------------------------------------------ views for the invariants

    function orderCount() external view returns (uint256) {
        return orderIds.length;
    }

    function participantCount() external view returns (uint256) {
        return participants.length;
    }

    function ghostOf(bytes32 orderId) external view returns (Ghost memory) {
        return ghosts[orderId];
    }

    function isOffChain(bytes32 orderId) external view returns (bool) {
        return params[orderId].offChain;
    }

    /// @notice The asset with index `i` (0: ETH, 1: AMT, 2: faulty, 3: re-entering).
    function assetAt(uint256 i) external view returns (address) {
        return _asset(i);
    }

    // ------------------------------------------------------------ internal

    function _open(
        uint256 buyerSeed,
        uint256 sellerSeed,
        uint8 assetSeed,
        uint256 price,
        uint64 totalBytes,
        uint256 duration,
        uint8 how
    ) internal {
        uint256 who = buyerSeed % buyers.length;
        Params memory p;
        p.buyer = buyers[who];
        p.seller = sellers[sellerSeed % sellers.length];
        p.offChain = how % 5 == 4;
        if (how % 3 == 2) {
            p.ackSigner = address(wallet);
            p.ackKey = walletOwnerKey;
            p.walletSigner = true;
        } else if (how % 3 == 1 || keys[p.buyer] == 0) {
            p.ackSigner = sessionKeys[sellerSeed % 2];
            p.ackKey = sessionKeyKeys[sellerSeed % 2];
        } else {
            p.ackSigner = p.buyer;
            p.ackKey = keys[p.buyer];
        }
        address asset = _asset(assetSeed);
        price = bound(price, 1, MAX_PRICE);
        totalBytes = uint64(bound(totalBytes, 1, MAX_TOTAL));
        uint64 deadline = uint64(block.timestamp + bound(duration, 1, 3 days));

        uint256 value = p.offChain ? 0 : _fund(p.buyer, asset, price);
        if (!p.offChain) _armReentry(asset);
        vm.prank(p.buyer);
        bytes32 orderId = market.openOrder{value: value}(
            p.seller,
            asset,
            price,
            totalBytes,
            deadline,
            uint64(block.timestamp),
            ++nonce,
            p.ackSigner,
            p.offChain ? IDataMarket.PaymentMethod.OffChain : IDataMarket.PaymentMethod.Escrow
        );
        if (!p.offChain) _checkReentry(asset);
        params[orderId] = p;
        orderIds.push(orderId);
        activeIds.push(orderId);
        Ghost storage ghost = ghosts[orderId];
        ghost.asset = asset;
        ghost.totalBytes = totalBytes;
        if (!p.offChain) {
            ghost.price = price;
            ghostPaidIn[asset] += price;
            ghostOpenEscrow[asset] += price;
        }
        ++calls["open"];
    }

    /// @dev Presents `figure` for `orderId` with `data` as `caller` (an `end` or a `challenge`), checking
    /// the contract's answer against what the ghosts know: refused when the window closed, the state is
    /// wrong, the figure does not raise a challenge, or (a revoked wallet) the ACK no longer verifies;
    /// accepted otherwise, and a full figure settles at once.
    function _present(bytes32 orderId, bytes memory data, uint64 figure, bool byBuyer, bytes32 label) internal {
        Params memory p = params[orderId];
        IDataMarket.Order memory order = market.getOrder(orderId);
        (bool expectOk, bool revoked) = _expectAccepted(p, order, data, figure, byBuyer);
        (uint256 toSeller, uint256 toBuyer,) = _run(orderId, data, byBuyer ? p.buyer : p.seller, false);
        IDataMarket.Order memory afterwards = market.getOrder(orderId);
        bool accepted = afterwards.received != order.received || afterwards.state != order.state;
        if (revoked && accepted) ++ghostRevokedAccepted;
        assertEq(accepted, expectOk);
        if (!accepted) return;
        Ghost storage ghost = ghosts[orderId];
        ghost.recorded = figure;
        if (byBuyer && figure > ghost.stated) ghost.stated = figure;
        if (figure == ghost.totalBytes) {
            assertEq(toSeller, ghost.price, "a full figure pays the whole price at once");
            _finish(orderId, toSeller, toBuyer);
        }
        ++calls[label];
    }

    /// @dev Whether the contract must accept this presentation (an `end` or a `challenge` in `data`), and
    /// whether it carries the ACK of a wallet that revoked its approval.
    function _expectAccepted(
        Params memory p,
        IDataMarket.Order memory order,
        bytes memory data,
        uint64 figure,
        bool byBuyer
    ) internal view returns (bool expectOk, bool revoked) {
        bool isEnd = bytes4(data) == IDataMarket.end.selector;
        bool windowOpen = block.timestamp < uint256(order.deadline) + market.CHALLENGE_WINDOW();
        bool stateOk = isEnd ? order.state == IDataMarket.OrderState.Open : order.state == IDataMarket.OrderState.Ending;
        revoked = !byBuyer && figure != 0 && p.walletSigner && wallet.revoked();
        expectOk = stateOk && !p.offChain && windowOpen && !revoked && (isEnd || figure > order.received);
    }

    /// @dev Runs `data` as `caller` on `orderId` and returns what its seller and its buyer received, pushed
    /// or credited to `owed`, and whether the call succeeded. Reverts with the call's error when
    /// `mustSucceed`.
    function _run(bytes32 orderId, bytes memory data, address caller, bool mustSucceed)
        internal
        returns (uint256 toSeller, uint256 toBuyer, bool ok)
    {
        address asset = ghosts[orderId].asset;
        uint256[3] memory before = [
            _holding(params[orderId].seller, asset), _holding(params[orderId].buyer, asset), _participantBalances(asset)
        ];
        _armReentry(asset);
        vm.prank(caller);
        bytes memory ret;
        (ok, ret) = address(market).call(data);
        _checkReentry(asset);
        if (!ok) {
            if (mustSucceed) {
                assembly ("memory-safe") {
                    revert(add(ret, 0x20), mload(ret))
                }
            }
            return (0, 0, false);
        }
        toSeller = _holding(params[orderId].seller, asset) - before[0];
        toBuyer = _holding(params[orderId].buyer, asset) - before[1];
        ghostPaidOut[asset] += _participantBalances(asset) - before[2];
    }

    /// @dev What `account` has of `asset`, in hand or owed by the market.
    function _holding(address account, address asset) internal view returns (uint256) {
        return _balanceOf(account, asset) + market.owed(account, asset);
    }

    function _finish(bytes32 orderId, uint256 toSeller, uint256 toBuyer) internal {
        uint256 index;
        while (activeIds[index] != orderId) ++index;
        activeIds[index] = activeIds[activeIds.length - 1];
        activeIds.pop();
        Ghost storage ghost = ghosts[orderId];
        ghostOpenEscrow[ghost.asset] -= ghost.price;
        _book(orderId, toSeller, toBuyer);
    }

    function _book(bytes32 orderId, uint256 toSeller, uint256 toBuyer) internal {
        Ghost storage ghost = ghosts[orderId];
        ghost.toSeller += toSeller;
        ghost.toBuyer += toBuyer;
        ++ghost.settlements;
        if (ghost.settlements > 1) ++ghostSecondSettleAccepted;
    }

    /// @dev An order not finished (opened first when there is none), or zero when there is none to pick.
    function _pickActive(uint256 seed) internal returns (bytes32 orderId, uint256 index) {
        if (activeIds.length == 0) {
            _open(seed, seed >> 8, uint8(seed >> 40), seed >> 16, uint64(seed >> 64), seed >> 32, uint8(seed >> 48));
        }
        index = seed % activeIds.length;
        orderId = activeIds[index];
    }

    /// @dev The ackSigner's 65-byte signature of `figure` (empty for zero: none is needed).
    function _sign(Params memory p, bytes32 orderId, uint64 figure) internal view returns (bytes memory) {
        if (figure == 0) return "";
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(p.ackKey, market.ackDigest(orderId, figure));
        return abi.encodePacked(r, s, v);
    }

    /// @dev Gives `account` what it is about to pay in; returns the ETH to send.
    function _fund(address account, address asset, uint256 amount) internal returns (uint256 value) {
        if (asset == address(0)) {
            vm.deal(account, account.balance + amount);
            return amount;
        }
        MarketToken(asset).mint(account, amount);
    }

    function _participantBalances(address asset) internal view returns (uint256 sum) {
        for (uint256 i; i < participants.length; ++i) {
            sum += _balanceOf(participants[i], asset);
        }
    }

    function _balanceOf(address account, address asset) internal view returns (uint256) {
        return asset == address(0) ? account.balance : MarketToken(asset).balanceOf(account);
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
