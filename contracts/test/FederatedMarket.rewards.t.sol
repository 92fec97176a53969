// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IFederatedMarket} from "../src/interfaces/IFederatedMarket.sol";
import {FederatedFixture, RewardTree} from "./utils/FederatedFixture.sol";

/// @notice `postRewards`, `claimReward` and `reclaimUnclaimed`: the coordinator's root and record CID,
/// claims by proof (leaves hashed here as OpenZeppelin's standard tree does), once per account, never
/// beyond the pool even under a bad root, within the claim period; the unclaimed rest back to the
/// investor once, after it.
contract FederatedMarketRewardsTest is FederatedFixture {
    uint256 internal taskId;

    function setUp() public override {
        super.setUp();
        taskId = _createEthPool();
    }

    // ------------------------------------------------------------ postRewards

    function test_postRewards_storesRootAndEmits() public {
        _joinAndStart(taskId);
        (address[] memory accounts, uint256[] memory amounts) = _split(ETH_POOL);
        bytes32 root = _root(accounts, amounts);
        vm.expectEmit(address(market));
        emit IFederatedMarket.RewardsPosted(taskId, root, CID, uint64(block.timestamp) + 90 days);
        _postRewards(taskId, root);
        IFederatedMarket.Task memory task = _task(taskId);
        assertEq(task.rewardRoot, root);
        assertEq(task.finishedAt, block.timestamp);
        assertEq(uint256(task.state), uint256(IFederatedMarket.TaskState.Finished));
    }

    function test_postRewards_revertsBeforeStartOrTwice() public {
        vm.expectRevert(
            abi.encodeWithSelector(IFederatedMarket.WrongState.selector, taskId, IFederatedMarket.TaskState.Open)
        );
        _postRewards(taskId, keccak256("root"));
        _joinAndStart(taskId);
        _postRewards(taskId, keccak256("root"));
        vm.expectRevert(
            abi.encodeWithSelector(IFederatedMarket.WrongState.selector, taskId, IFederatedMarket.TaskState.Finished)
        );
        _postRewards(taskId, keccak256("another root"));
    }

    function test_postRewards_revertsForNonCoordinator() public {
        _joinAndStart(taskId);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.NotCoordinator.selector, taskId, investor));
        vm.prank(investor);
        market.postRewards(taskId, keccak256("root"), CID);
    }

    function test_postRewards_revertsOnShareholdingTask() public {
        uint256 sharesTask = _createShares(address(token));
        _joinAndStart(sharesTask);
        vm.expectRevert(
            abi.encodeWithSelector(IFederatedMarket.WrongMode.selector, sharesTask, IFederatedMarket.Mode.Shareholding)
        );
        _postRewards(sharesTask, keccak256("root"));
    }

    function test_postRewards_revertsForZeroRootOrBadCid() public {
        _joinAndStart(taskId);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.InvalidRoot.selector));
        _postRewards(taskId, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.InvalidUri.selector, 0));
        vm.prank(coordinator);
        market.postRewards(taskId, keccak256("root"), "");
    }

    function test_postRewards_onlyBeforeFinishDeadline() public {
        _joinAndStart(taskId);
        uint40 deadline = _task(taskId).finishDeadline;
        vm.warp(deadline);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.DeadlinePassed.selector, taskId, deadline, deadline));
        _postRewards(taskId, keccak256("root"));
        vm.warp(deadline - 1);
        _postRewards(taskId, keccak256("root"));
    }

    // ------------------------------------------------------------ claimReward

    function test_claimReward_paysEachAccountAndSumsToPool() public {
        (address[] memory accounts, uint256[] memory amounts) = _finishWithRewards(taskId, ETH_POOL);
        uint256[3] memory before = [alice.balance, bob.balance, carol.balance];
        vm.expectEmit(address(market));
        emit IFederatedMarket.RewardClaimed(taskId, alice, amounts[0]);
        _claim(taskId, accounts, amounts, 0);
        vm.prank(stranger); // a relayer: the money goes to the account
        _claim(taskId, accounts, amounts, 1);
        _claim(taskId, accounts, amounts, 2);
        assertEq(alice.balance, before[0] + amounts[0]);
        assertEq(bob.balance, before[1] + amounts[1]);
        assertEq(carol.balance, before[2] + amounts[2], "a trainer who left still claims");
        assertEq(_task(taskId).claimed, ETH_POOL);
        assertEq(address(market).balance, 0);
        assertTrue(market.getMember(taskId, alice).rewardClaimed);
    }

    function test_claimReward_tokenPool() public {
        uint256 tokenTask = _createTokenPool();
        (address[] memory accounts, uint256[] memory amounts) = _finishWithRewards(tokenTask, TOKEN_POOL);
        uint256 before = token.balanceOf(bob);
        _claim(tokenTask, accounts, amounts, 1);
        assertEq(token.balanceOf(bob), before + amounts[1]);
        assertEq(token.balanceOf(address(market)), TOKEN_POOL - amounts[1]);
    }

    function test_claimReward_revertsOnSecondClaim() public {
        (address[] memory accounts, uint256[] memory amounts) = _finishWithRewards(taskId, ETH_POOL);
        _claim(taskId, accounts, amounts, 0);
        bytes32[] memory proof = _proof(accounts, amounts, 0);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.AlreadyClaimed.selector, taskId, alice));
        market.claimReward(taskId, alice, amounts[0], proof);
    }

    function test_claimReward_oneClaimPerAccountEvenWithTwoLeaves() public {
        // A root that lists alice twice pays her once.
        _joinAndStart(taskId);
        address[] memory accounts = new address[](2);
        uint256[] memory amounts = new uint256[](2);
        (accounts[0], accounts[1]) = (alice, alice);
        (amounts[0], amounts[1]) = (1 ether, 2 ether);
        _postRewards(taskId, _root(accounts, amounts));
        _claim(taskId, accounts, amounts, 1);
        bytes32[] memory proof = _proof(accounts, amounts, 0);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.AlreadyClaimed.selector, taskId, alice));
        market.claimReward(taskId, alice, 1 ether, proof);
    }

    function test_claimReward_revertsForWrongAmountOrAccount() public {
        (address[] memory accounts, uint256[] memory amounts) = _finishWithRewards(taskId, ETH_POOL);
        bytes32[] memory proof = _proof(accounts, amounts, 0);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.InvalidProof.selector, taskId, alice, amounts[0] + 1));
        market.claimReward(taskId, alice, amounts[0] + 1, proof);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.InvalidProof.selector, taskId, stranger, amounts[0]));
        market.claimReward(taskId, stranger, amounts[0], proof);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.InvalidProof.selector, taskId, bob, amounts[1]));
        market.claimReward(taskId, bob, amounts[1], proof); // alice's proof
    }

    function test_claimReward_neverBeyondPoolUnderBadRoot() public {
        // The coordinator posts leaves summing to twice the pool: claims stop at the pool.
        _joinAndStart(taskId);
        address[] memory accounts = new address[](3);
        uint256[] memory amounts = new uint256[](3);
        (accounts[0], accounts[1], accounts[2]) = (alice, bob, carol);
        (amounts[0], amounts[1], amounts[2]) = (ETH_POOL, ETH_POOL / 2, ETH_POOL / 2);
        _postRewards(taskId, _root(accounts, amounts));
        _claim(taskId, accounts, amounts, 1);
        bytes32[] memory proof = _proof(accounts, amounts, 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IFederatedMarket.ClaimExceedsPool.selector, taskId, ETH_POOL + ETH_POOL / 2, ETH_POOL
            )
        );
        market.claimReward(taskId, alice, ETH_POOL, proof);
        _claim(taskId, accounts, amounts, 2);
        assertEq(_task(taskId).claimed, ETH_POOL);
        assertEq(address(market).balance, 0);
        assertFalse(market.getMember(taskId, alice).rewardClaimed);
    }

    function test_claimReward_onlyWithinClaimPeriod() public {
        (address[] memory accounts, uint256[] memory amounts) = _finishWithRewards(taskId, ETH_POOL);
        uint64 claimDeadline = uint64(_task(taskId).finishedAt) + market.CLAIM_PERIOD();
        vm.warp(claimDeadline - 1);
        _claim(taskId, accounts, amounts, 0);
        vm.warp(claimDeadline);
        bytes32[] memory proof = _proof(accounts, amounts, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IFederatedMarket.ClaimPeriodOver.selector, taskId, claimDeadline, claimDeadline)
        );
        market.claimReward(taskId, bob, amounts[1], proof);
    }

    function test_claimReward_revertsBeforeResultsOrOnShareholding() public {
        _joinAndStart(taskId);
        vm.expectRevert(
            abi.encodeWithSelector(IFederatedMarket.WrongState.selector, taskId, IFederatedMarket.TaskState.Training)
        );
        market.claimReward(taskId, alice, 1, new bytes32[](0));

        uint256 sharesTask = _createShares(address(token));
        _finishWithShares(sharesTask);
        vm.expectRevert(
            abi.encodeWithSelector(IFederatedMarket.WrongMode.selector, sharesTask, IFederatedMarket.Mode.Shareholding)
        );
        market.claimReward(sharesTask, alice, 1, new bytes32[](0));
    }

    function test_claimReward_singleLeafTree() public {
        _joinAndStart(taskId);
        bytes32 leaf = RewardTree.leaf(alice, ETH_POOL);
        assertEq(market.rewardLeaf(alice, ETH_POOL), leaf);
        _postRewards(taskId, leaf);
        uint256 before = alice.balance;
        market.claimReward(taskId, alice, ETH_POOL, new bytes32[](0));
        assertEq(alice.balance, before + ETH_POOL);
    }

    // ------------------------------------------------------------ reclaimUnclaimed

    function test_reclaimUnclaimed_paysRestToInvestorAfterClaimPeriod() public {
        (address[] memory accounts, uint256[] memory amounts) = _finishWithRewards(taskId, ETH_POOL);
        _claim(taskId, accounts, amounts, 0);
        uint64 claimDeadline = uint64(_task(taskId).finishedAt) + market.CLAIM_PERIOD();
        vm.warp(claimDeadline - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IFederatedMarket.ClaimPeriodNotOver.selector, taskId, claimDeadline, claimDeadline - 1
            )
        );
        market.reclaimUnclaimed(taskId);

        vm.warp(claimDeadline);
        uint256 before = investor.balance;
        vm.expectEmit(address(market));
        emit IFederatedMarket.UnclaimedReclaimed(taskId, ETH_POOL - amounts[0]);
        vm.prank(stranger);
        market.reclaimUnclaimed(taskId);
        assertEq(investor.balance, before + ETH_POOL - amounts[0]);
        assertEq(address(market).balance, 0);
        assertTrue(_task(taskId).reclaimed);

        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.AlreadyReclaimed.selector, taskId));
        market.reclaimUnclaimed(taskId);
    }

    function test_reclaimUnclaimed_nothingLeftStillCloses() public {
        (address[] memory accounts, uint256[] memory amounts) = _finishWithRewards(taskId, ETH_POOL);
        for (uint256 i; i < 3; ++i) {
            _claim(taskId, accounts, amounts, i);
        }
        vm.warp(block.timestamp + market.CLAIM_PERIOD());
        uint256 before = investor.balance;
        vm.expectEmit(address(market));
        emit IFederatedMarket.UnclaimedReclaimed(taskId, 0);
        market.reclaimUnclaimed(taskId);
        assertEq(investor.balance, before);
    }

    function test_reclaimUnclaimed_revertsOnShareholding() public {
        uint256 sharesTask = _createShares(address(token));
        _finishWithShares(sharesTask);
        vm.warp(block.timestamp + market.CLAIM_PERIOD());
        vm.expectRevert(
            abi.encodeWithSelector(IFederatedMarket.WrongMode.selector, sharesTask, IFederatedMarket.Mode.Shareholding)
        );
        market.reclaimUnclaimed(sharesTask);
    }

    /// @notice Any split of any pool among up to eight accounts (the remainder of the integer division
    /// given to the first, as the coordinator does): every claim pays its amount, the claims sum exactly
    /// to the pool, and nothing stays behind.
    function testFuzz_claimReward_splitsSumExactlyToPool(uint96 pool, uint256[8] memory weights, uint8 n) public {
        pool = uint96(bound(pool, 1, 1_000_000 ether));
        n = uint8(bound(n, 1, 8));
        token.mint(investor, pool);
        uint256 tokenTask = _create(_params(IFederatedMarket.Mode.RewardPool, address(token), pool));
        _joinAndStart(tokenTask);

        address[] memory accounts = new address[](n);
        uint256[] memory amounts = new uint256[](n);
        uint256 totalWeight;
        for (uint256 i; i < n; ++i) {
            weights[i] = bound(weights[i], 0, 1e18);
            totalWeight += weights[i];
            accounts[i] = address(uint160(0x1000 + i));
        }
        uint256 assigned;
        for (uint256 i; i < n; ++i) {
            amounts[i] = totalWeight == 0 ? 0 : uint256(pool) * weights[i] / totalWeight;
            assigned += amounts[i];
        }
        amounts[0] += pool - assigned;
        _postRewards(tokenTask, _root(accounts, amounts));

        for (uint256 i; i < n; ++i) {
            _claim(tokenTask, accounts, amounts, i);
            assertEq(token.balanceOf(accounts[i]), amounts[i]);
        }
        assertEq(_task(tokenTask).claimed, pool);
        assertEq(token.balanceOf(address(market)), 0);
    }
}
