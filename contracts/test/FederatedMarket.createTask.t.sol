// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IFederatedMarket} from "../src/interfaces/IFederatedMarket.sol";
import {IPayouts} from "../src/interfaces/IPayouts.sol";
import {FederatedFixture} from "./utils/FederatedFixture.sol";
import {FeeOnTransferToken, ReentrantToken} from "./utils/Mocks.sol";

/// @notice `createTask`: the pool escrowed exactly (ETH or a measured ERC-20 pull), the terms stored and
/// emitted, and every refusal with its figures.
contract FederatedMarketCreateTaskTest is FederatedFixture {
    function test_createTask_ethPoolIsEscrowedAndEmitted() public {
        IFederatedMarket.TaskParams memory p = _params(IFederatedMarket.Mode.RewardPool, address(0), uint96(ETH_POOL));
        vm.expectEmit(address(market));
        emit IFederatedMarket.TaskCreated(
            1, investor, coordinator, IFederatedMarket.Mode.RewardPool, address(0), ETH_POOL, FEE, SPEC
        );
        vm.expectEmit(address(market));
        emit IFederatedMarket.TaskTerms(1, address(token), BLOCK_PRICE, BLOCKS, MIN, p.startDeadline, p.finishDeadline);
        uint256 taskId = _create(p);
        assertEq(taskId, 1);
        assertEq(market.taskCount(), 1);
        assertEq(address(market).balance, ETH_POOL);
        assertEq(investor.balance, 100 ether - ETH_POOL);

        IFederatedMarket.Task memory task = _task(taskId);
        assertEq(task.investor, investor);
        assertEq(task.coordinator, coordinator);
        assertEq(uint256(task.mode), uint256(IFederatedMarket.Mode.RewardPool));
        assertEq(uint256(task.state), uint256(IFederatedMarket.TaskState.Open));
        assertEq(task.token, address(0));
        assertEq(task.pool, ETH_POOL);
        assertEq(task.predictionFee, FEE);
        assertEq(task.blockToken, address(token));
        assertEq(task.blockPrice, BLOCK_PRICE);
        assertEq(task.totalBlocks, BLOCKS);
        assertEq(task.minParticipants, MIN);
        assertEq(task.startDeadline, p.startDeadline);
        assertEq(task.finishDeadline, p.finishDeadline);
        assertEq(task.members + task.blocksSold + task.claimed + task.blockEscrow + task.finishedAt, 0);
        assertEq(task.rewardRoot, bytes32(0));
        assertFalse(task.reclaimed);
    }

    function test_createTask_tokenPoolIsPulled() public {
        uint256 before = token.balanceOf(investor);
        uint256 taskId = _createTokenPool();
        assertEq(token.balanceOf(address(market)), TOKEN_POOL);
        assertEq(token.balanceOf(investor), before - TOKEN_POOL);
        assertEq(_task(taskId).pool, TOKEN_POOL);
    }

    function test_createTask_shareholdingHoldsNothing() public {
        uint256 taskId = _createShares(address(0));
        IFederatedMarket.Task memory task = _task(taskId);
        assertEq(uint256(task.mode), uint256(IFederatedMarket.Mode.Shareholding));
        assertEq(task.pool, 0);
        assertEq(address(market).balance, 0);
        assertEq(token.balanceOf(address(market)), 0);
    }

    function test_createTask_idsIncrease() public {
        assertEq(_createEthPool(), 1);
        assertEq(_createShares(address(token)), 2);
        assertEq(_createTokenPool(), 3);
        assertEq(market.taskCount(), 3);
    }

    function test_createTask_revertsForZeroCoordinator() public {
        IFederatedMarket.TaskParams memory p = _params(IFederatedMarket.Mode.RewardPool, address(0), uint96(ETH_POOL));
        p.coordinator = address(0);
        _expectCreateRevert(p, abi.encodeWithSelector(IFederatedMarket.InvalidCoordinator.selector, address(0)));
    }

    function test_createTask_revertsForEmptyPool() public {
        IFederatedMarket.TaskParams memory p = _params(IFederatedMarket.Mode.RewardPool, address(0), 0);
        _expectCreateRevert(
            p, abi.encodeWithSelector(IFederatedMarket.InvalidPool.selector, IFederatedMarket.Mode.RewardPool, 0)
        );
    }

    function test_createTask_revertsForPoolInShareholding() public {
        IFederatedMarket.TaskParams memory p = _params(IFederatedMarket.Mode.Shareholding, address(token), 1);
        _expectCreateRevert(
            p, abi.encodeWithSelector(IFederatedMarket.InvalidPool.selector, IFederatedMarket.Mode.Shareholding, 1)
        );
    }

    function test_createTask_revertsForShareholdingWithoutFee() public {
        IFederatedMarket.TaskParams memory p = _params(IFederatedMarket.Mode.Shareholding, address(token), 0);
        p.predictionFee = 0;
        _expectCreateRevert(
            p,
            abi.encodeWithSelector(
                IFederatedMarket.InvalidPredictionFee.selector, IFederatedMarket.Mode.Shareholding, 0
            )
        );
    }

    function test_createTask_rewardPoolMayOfferNoPredictions() public {
        IFederatedMarket.TaskParams memory p = _params(IFederatedMarket.Mode.RewardPool, address(0), uint96(ETH_POOL));
        p.predictionFee = 0;
        assertEq(_task(_create(p)).predictionFee, 0);
    }

    function test_createTask_revertsForZeroBlocks() public {
        IFederatedMarket.TaskParams memory p = _params(IFederatedMarket.Mode.Shareholding, address(token), 0);
        p.totalBlocks = 0;
        _expectCreateRevert(p, abi.encodeWithSelector(IFederatedMarket.InvalidTotalBlocks.selector, 0));
    }

    function test_createTask_revertsForMinParticipantsOutOfRange() public {
        IFederatedMarket.TaskParams memory p = _params(IFederatedMarket.Mode.Shareholding, address(token), 0);
        p.minParticipants = 0;
        _expectCreateRevert(p, abi.encodeWithSelector(IFederatedMarket.InvalidMinParticipants.selector, 0));
        p.minParticipants = market.MAX_MIN_PARTICIPANTS() + 1;
        _expectCreateRevert(
            p, abi.encodeWithSelector(IFederatedMarket.InvalidMinParticipants.selector, p.minParticipants)
        );
        p.minParticipants = market.MAX_MIN_PARTICIPANTS();
        _create(p);
    }

    function test_createTask_revertsForStartDeadlineNotInFuture() public {
        IFederatedMarket.TaskParams memory p = _params(IFederatedMarket.Mode.Shareholding, address(token), 0);
        p.startDeadline = uint40(block.timestamp);
        _expectCreateRevert(
            p,
            abi.encodeWithSelector(
                IFederatedMarket.InvalidDeadlines.selector, p.startDeadline, p.finishDeadline, block.timestamp
            )
        );
    }

    function test_createTask_revertsForFinishNotAfterStart() public {
        IFederatedMarket.TaskParams memory p = _params(IFederatedMarket.Mode.Shareholding, address(token), 0);
        p.finishDeadline = p.startDeadline;
        _expectCreateRevert(
            p,
            abi.encodeWithSelector(
                IFederatedMarket.InvalidDeadlines.selector, p.startDeadline, p.finishDeadline, block.timestamp
            )
        );
    }

    function test_createTask_revertsForFinishTooFar() public {
        IFederatedMarket.TaskParams memory p = _params(IFederatedMarket.Mode.Shareholding, address(token), 0);
        p.finishDeadline = uint40(block.timestamp + market.MAX_TASK_DURATION() + 1);
        _expectCreateRevert(
            p,
            abi.encodeWithSelector(
                IFederatedMarket.InvalidDeadlines.selector, p.startDeadline, p.finishDeadline, block.timestamp
            )
        );
        p.finishDeadline -= 1;
        _create(p);
    }

    function test_createTask_revertsForSpecLength() public {
        IFederatedMarket.TaskParams memory p = _params(IFederatedMarket.Mode.Shareholding, address(token), 0);
        p.spec = "";
        _expectCreateRevert(p, abi.encodeWithSelector(IFederatedMarket.InvalidUri.selector, 0));
        p.spec = string(new bytes(513));
        _expectCreateRevert(p, abi.encodeWithSelector(IFederatedMarket.InvalidUri.selector, 513));
        p.spec = string(new bytes(512));
        _create(p);
    }

    function test_createTask_revertsForWrongEth() public {
        IFederatedMarket.TaskParams memory p = _params(IFederatedMarket.Mode.RewardPool, address(0), uint96(ETH_POOL));
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.ValueMismatch.selector, ETH_POOL - 1, ETH_POOL));
        vm.prank(investor);
        market.createTask{value: ETH_POOL - 1}(p);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.ValueMismatch.selector, ETH_POOL + 1, ETH_POOL));
        vm.prank(investor);
        market.createTask{value: ETH_POOL + 1}(p);
    }

    function test_createTask_revertsForEthWithTokenPoolOrShares() public {
        IFederatedMarket.TaskParams memory p = _params(IFederatedMarket.Mode.RewardPool, address(token), TOKEN_POOL);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.ValueMismatch.selector, 1, 0));
        vm.prank(investor);
        market.createTask{value: 1}(p);
        p = _params(IFederatedMarket.Mode.Shareholding, address(0), 0);
        vm.expectRevert(abi.encodeWithSelector(IFederatedMarket.ValueMismatch.selector, 1, 0));
        vm.prank(investor);
        market.createTask{value: 1}(p);
    }

    function test_createTask_revertsWithoutAllowance() public {
        vm.prank(investor);
        token.approve(address(market), TOKEN_POOL - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IERC20Errors.ERC20InsufficientAllowance.selector, address(market), TOKEN_POOL - 1, TOKEN_POOL
            )
        );
        _create(_params(IFederatedMarket.Mode.RewardPool, address(token), TOKEN_POOL));
        assertEq(market.taskCount(), 0);
    }

    function test_createTask_refusesFeeOnTransferToken() public {
        FeeOnTransferToken taxed = new FeeOnTransferToken(100);
        taxed.mint(investor, TOKEN_POOL);
        vm.prank(investor);
        taxed.approve(address(market), TOKEN_POOL);
        IFederatedMarket.TaskParams memory p = _params(IFederatedMarket.Mode.RewardPool, address(taxed), TOKEN_POOL);
        _expectCreateRevert(
            p,
            abi.encodeWithSelector(
                IPayouts.AmountNotReceived.selector, address(taxed), TOKEN_POOL, TOKEN_POOL - TOKEN_POOL / 100
            )
        );
    }

    function test_createTask_blocksReentryFromToken() public {
        ReentrantToken hostile = new ReentrantToken(address(market));
        hostile.mint(investor, TOKEN_POOL);
        vm.prank(investor);
        hostile.approve(address(market), TOKEN_POOL);
        // While the pool is pulled, the token tries to create a second task.
        IFederatedMarket.TaskParams memory p = _params(IFederatedMarket.Mode.Shareholding, address(0), 0);
        hostile.arm(abi.encodeCall(IFederatedMarket.createTask, (p)));
        _create(_params(IFederatedMarket.Mode.RewardPool, address(hostile), TOKEN_POOL));
        assertTrue(hostile.attempted());
        assertFalse(hostile.succeeded());
        assertEq(hostile.returned(), abi.encodeWithSelector(IPayouts.ReentrantCall.selector));
        assertEq(market.taskCount(), 1);
        assertEq(hostile.balanceOf(address(market)), TOKEN_POOL);
    }

    function testFuzz_createTask_storesTermsExactly(
        uint96 pool,
        uint96 fee,
        uint96 blockPrice,
        uint32 blocks,
        uint16 minimum,
        uint40 startIn,
        uint40 finishAfter
    ) public {
        pool = uint96(bound(pool, 1, type(uint96).max));
        blocks = uint32(bound(blocks, 1, type(uint32).max));
        minimum = uint16(bound(minimum, 1, market.MAX_MIN_PARTICIPANTS()));
        startIn = uint40(bound(startIn, 1, market.MAX_TASK_DURATION() - 1));
        finishAfter = uint40(bound(finishAfter, 1, market.MAX_TASK_DURATION() - startIn));
        token.mint(investor, pool);
        IFederatedMarket.TaskParams memory p = _params(IFederatedMarket.Mode.RewardPool, address(token), pool);
        p.predictionFee = fee;
        p.blockPrice = blockPrice;
        p.totalBlocks = blocks;
        p.minParticipants = minimum;
        p.startDeadline = uint40(block.timestamp) + startIn;
        p.finishDeadline = p.startDeadline + finishAfter;
        uint256 taskId = _create(p);
        IFederatedMarket.Task memory task = _task(taskId);
        assertEq(task.pool, pool);
        assertEq(task.predictionFee, fee);
        assertEq(task.blockPrice, blockPrice);
        assertEq(task.totalBlocks, blocks);
        assertEq(task.minParticipants, minimum);
        assertEq(task.startDeadline, p.startDeadline);
        assertEq(task.finishDeadline, p.finishDeadline);
        assertEq(token.balanceOf(address(market)), pool);
    }

    function _expectCreateRevert(IFederatedMarket.TaskParams memory p, bytes memory err) internal {
        vm.expectRevert(err);
        vm.prank(investor);
        market.createTask(p);
    }
}
