// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IFederatedMarket} from "../src/interfaces/IFederatedMarket.sol";
import {IPayouts} from "../src/interfaces/IPayouts.sol";
import {FederatedFixture} from "./utils/FederatedFixture.sol";
import {FaultyToken, GasBurner, Receiver, ReentrantToken} from "./utils/Mocks.sol";
import {ReentrantAccount} from "./utils/ChannelMocks.sol";

/// @notice Payouts of the federated market: receivers that refuse ETH or burn gas are owed instead and
/// cannot block a claim, a refund or a fee; blocked accounts withdraw elsewhere by signature; hostile
/// tokens and receivers cannot re-enter.
contract FederatedMarketPayoutsTest is FederatedFixture {
    function test_claimReward_rejectingReceiverIsOwed() public {
        Receiver rejecting = new Receiver();
        rejecting.setAccepts(false);
        uint256 taskId = _createEthPool();
        _joinAndStart(taskId);
        address[] memory accounts = new address[](2);
        uint256[] memory amounts = new uint256[](2);
        (accounts[0], accounts[1]) = (address(rejecting), alice);
        (amounts[0], amounts[1]) = (4 ether, 6 ether);
        _postRewards(taskId, _root(accounts, amounts));

        vm.expectEmit(address(market));
        emit IPayouts.PayoutDeferred(address(rejecting), address(0), 4 ether);
        _claim(taskId, accounts, amounts, 0);
        assertEq(market.owed(address(rejecting), address(0)), 4 ether);
        assertEq(address(market).balance, ETH_POOL);

        rejecting.setAccepts(true);
        rejecting.exec(address(market), 0, abi.encodeCall(IPayouts.withdraw, (address(0))));
        assertEq(address(rejecting).balance, 4 ether);
        assertEq(address(market).balance, 6 ether);
    }

    function test_predictionFee_gasBurningInvestorIsOwed() public {
        GasBurner burner = new GasBurner();
        vm.deal(address(burner), ETH_POOL);
        vm.prank(address(burner));
        uint256 taskId =
            market.createTask{value: ETH_POOL}(_params(IFederatedMarket.Mode.RewardPool, address(0), uint96(ETH_POOL)));
        _finishWithRewards(taskId, ETH_POOL);
        _predict(taskId, stranger);
        assertEq(market.owed(address(burner), address(0)), FEE);
        assertEq(address(market).balance, ETH_POOL + FEE);
    }

    function test_cancel_rejectingInvestorIsOwed() public {
        Receiver contractInvestor = new Receiver();
        vm.deal(address(contractInvestor), ETH_POOL);
        bytes memory ret = contractInvestor.exec(
            address(market),
            ETH_POOL,
            abi.encodeCall(
                IFederatedMarket.createTask, (_params(IFederatedMarket.Mode.RewardPool, address(0), uint96(ETH_POOL)))
            )
        );
        uint256 taskId = abi.decode(ret, (uint256));
        contractInvestor.setAccepts(false);
        vm.warp(_task(taskId).startDeadline);
        vm.prank(stranger);
        market.cancel(taskId);
        _assertState(taskId, IFederatedMarket.TaskState.Cancelled);
        assertEq(market.owed(address(contractInvestor), address(0)), ETH_POOL);
    }

    function test_withdrawTo_blockedHolderSignsForAnotherAddress() public {
        FaultyToken faulty = new FaultyToken();
        faulty.mint(stranger, 10 ether);
        vm.prank(stranger);
        faulty.approve(address(market), type(uint256).max);
        uint256 taskId = _createShares(address(faulty));
        _finishWithShares(taskId);
        _predict(taskId, stranger);

        faulty.setBlocked(alice, true);
        market.withdrawDividends(taskId, alice);
        assertEq(market.owed(alice, address(faulty)), FEE / 2);
        assertEq(market.withdrawableDividendOf(taskId, alice), 0, "credited once, to owed");

        address to = makeAddr("aliceColdWallet");
        bytes memory signature = _signWithdrawalFor(
            address(market), "Agora FederatedMarket", aliceKey, alice, address(faulty), to, 0, block.timestamp
        );
        vm.prank(stranger);
        market.withdrawTo(alice, address(faulty), to, block.timestamp, signature);
        assertEq(faulty.balanceOf(to), FEE / 2);
        assertEq(faulty.balanceOf(address(market)), FEE - FEE / 2);
    }

    function test_withdrawDividends_blocksReentryFromToken() public {
        ReentrantToken hostile = new ReentrantToken(address(market));
        hostile.mint(stranger, 10 ether);
        vm.prank(stranger);
        hostile.approve(address(market), type(uint256).max);
        uint256 taskId = _createShares(address(hostile));
        _finishWithShares(taskId);
        _predict(taskId, stranger);

        // While alice is paid, the token tries to withdraw her dividends a second time.
        hostile.arm(abi.encodeCall(IFederatedMarket.withdrawDividends, (taskId, alice)));
        market.withdrawDividends(taskId, alice);
        assertTrue(hostile.attempted());
        assertFalse(hostile.succeeded());
        assertEq(hostile.returned(), abi.encodeWithSelector(IPayouts.ReentrantCall.selector));
        assertEq(hostile.balanceOf(alice), FEE / 2);
        assertEq(hostile.balanceOf(address(market)), FEE - FEE / 2);
    }

    function test_requestPrediction_blocksReentryFromToken() public {
        ReentrantToken hostile = new ReentrantToken(address(market));
        hostile.mint(stranger, 10 ether);
        vm.prank(stranger);
        hostile.approve(address(market), type(uint256).max);
        uint256 taskId = _createShares(address(hostile));
        _finishWithShares(taskId);

        // While the fee is pulled, the token tries to move shares it does not hold: every entry point is locked.
        hostile.arm(abi.encodeCall(IFederatedMarket.transferShares, (taskId, stranger, 0)));
        _predict(taskId, stranger);
        assertTrue(hostile.attempted());
        assertFalse(hostile.succeeded());
        assertEq(hostile.returned(), abi.encodeWithSelector(IPayouts.ReentrantCall.selector));
        assertEq(market.getDividends(taskId).feesIn, FEE);
    }

    function test_claimReward_blocksReentryFromEthReceiver() public {
        ReentrantAccount account = new ReentrantAccount();
        uint256 taskId = _createEthPool();
        _joinAndStart(taskId);
        address[] memory accounts = new address[](2);
        uint256[] memory amounts = new uint256[](2);
        (accounts[0], accounts[1]) = (address(account), alice);
        (amounts[0], amounts[1]) = (4 ether, 6 ether);
        _postRewards(taskId, _root(accounts, amounts));

        // When paid, the account tries to claim alice's reward for her (a call otherwise allowed).
        account.arm(
            address(market),
            abi.encodeCall(IFederatedMarket.claimReward, (taskId, alice, 6 ether, _proof(accounts, amounts, 1))),
            0
        );
        _claim(taskId, accounts, amounts, 0);
        assertTrue(account.attempted());
        assertFalse(account.succeeded());
        assertEq(account.returned(), abi.encodeWithSelector(IPayouts.ReentrantCall.selector));
        assertEq(address(account).balance, 4 ether);
        assertFalse(market.getMember(taskId, alice).rewardClaimed);

        _claim(taskId, accounts, amounts, 1);
        assertEq(address(market).balance, 0);
    }

    function test_leave_refundToRejectingMemberIsOwed() public {
        IFederatedMarket.TaskParams memory p = _params(IFederatedMarket.Mode.Shareholding, address(0), 0);
        p.blockToken = address(0);
        p.blockPrice = 1 ether;
        uint256 taskId = _create(p);
        Receiver member = new Receiver();
        vm.deal(address(member), 2 ether);
        member.exec(address(market), 0, abi.encodeCall(IFederatedMarket.join, (taskId)));
        member.exec(address(market), 2 ether, abi.encodeCall(IFederatedMarket.buyBlocks, (taskId, 2)));
        member.setAccepts(false);
        member.exec(address(market), 0, abi.encodeCall(IFederatedMarket.leave, (taskId)));
        assertEq(market.owed(address(member), address(0)), 2 ether);
        assertEq(_task(taskId).blocksSold, 0);
    }
}
