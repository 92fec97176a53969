//! The federated-learning market's logs on anvil, from the real contract through the indexer into
//! the `fl_*` tables, on both databases.

use agora_chain::bindings::{FederatedMarket, IFederatedMarket, MarketToken};
use agora_chain::testing::{BUYER, OPERATOR, OWNER, PROVIDER, TestChain, send};
use agora_store::testing::TestDb;
use agora_store::{FlMode, FlTaskFilter, FlTaskState};
use alloy::primitives::aliases::{U40, U96};
use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::providers::Provider;

use super::{Chain, head, indexer};

const PAYER: usize = 4;

/// The root of a two-leaf standard Merkle tree (pairs hashed in sorted order).
fn root_of(a: B256, b: B256) -> B256 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    keccak256([lo.as_slice(), hi.as_slice()].concat())
}

/// A reward-pool task (pool in ETH, blocks in MarketToken): two join, one buys blocks, the
/// coordinator starts it and posts a root of two rewards, one is claimed. A shareholding task:
/// shares posted, a paid prediction, a share transfer, a dividend withdrawal.
#[tokio::test]
async fn the_fl_market_is_indexed() -> anyhow::Result<()> {
    let tc = TestChain::start().await?;
    let address = tc.d.federated_market.expect("the dev deployment has a FederatedMarket");
    let (a, b, payer) = (tc.address(PROVIDER), tc.address(BUYER), tc.address(PAYER));
    let (investor, coordinator) = (tc.address(OWNER), tc.address(OPERATOR));
    let as_ = |account: usize| FederatedMarket::new(address, tc.provider(account));
    let now = tc.provider(OWNER).get_block(alloy::eips::BlockId::latest()).await?.expect("head").header.timestamp;
    let params = |mode: u8, pool: u64, fee: u64, block_token: Address, block_price: u64| IFederatedMarket::TaskParams {
        mode,
        coordinator,
        token: Address::ZERO,
        pool: U96::from(pool),
        predictionFee: U96::from(fee),
        blockToken: block_token,
        blockPrice: U96::from(block_price),
        totalBlocks: 100,
        minParticipants: 1,
        startDeadline: U40::from(now + 3_600),
        finishDeadline: U40::from(now + 7_200),
        spec: "ipfs://bafkreispec".into(),
    };

    // The reward-pool task.
    let token = tc.d.market_token;
    send(as_(OWNER).createTask(params(0, 1_000, 5, token, 10)).value(U256::from(1_000))).await?;
    send(as_(PROVIDER).join(U256::from(1))).await?;
    send(as_(BUYER).join(U256::from(1))).await?;
    tc.mint(&[a], U256::from(1_000)).await?;
    send(MarketToken::new(token, tc.provider(PROVIDER)).approve(address, U256::from(30))).await?;
    send(as_(PROVIDER).buyBlocks(U256::from(1), 3)).await?;
    send(as_(OPERATOR).start(U256::from(1))).await?;
    let market = as_(OWNER);
    let (leaf_a, leaf_b) =
        (market.rewardLeaf(a, U256::from(600)).call().await?, market.rewardLeaf(b, U256::from(400)).call().await?);
    let root = root_of(leaf_a, leaf_b);
    send(as_(OPERATOR).postRewards(U256::from(1), root, "bafyreirecord1".into())).await?;
    // Anyone may send a claim; the money goes to the account.
    send(as_(PAYER).claimReward(U256::from(1), a, U256::from(600), vec![leaf_b])).await?;

    // The shareholding task.
    let e17 = U256::from(100_000_000_000_000_000u64);
    send(as_(OWNER).createTask(params(1, 0, 1_000, Address::ZERO, 0))).await?;
    send(as_(PROVIDER).join(U256::from(2))).await?;
    send(as_(BUYER).join(U256::from(2))).await?;
    send(as_(OPERATOR).start(U256::from(2))).await?;
    let shares = vec![e17 * U256::from(7), e17 * U256::from(3)];
    send(as_(OPERATOR).postShares(U256::from(2), vec![a, b], shares, "bafyreirecord2".into())).await?;
    send(as_(PAYER).requestPrediction(U256::from(2), B256::repeat_byte(0x66)).value(U256::from(1_000))).await?;
    send(as_(PROVIDER).transferShares(U256::from(2), payer, e17 * U256::from(2))).await?;
    send(as_(PAYER).withdrawDividends(U256::from(2), a)).await?;

    let withdrawn = market.withdrawnDividendOf(U256::from(2), a).call().await?;
    assert!(withdrawn == U256::from(700) || withdrawn == U256::from(699), "{withdrawn}");
    let c =
        Chain { provider: tc.provider(PROVIDER), buyer: tc.provider(BUYER), buyer_addr: b, anvil: tc.anvil, d: tc.d };
    for db in TestDb::both().await? {
        indexer(&c, &db).sync_to(head(&c).await?).await?;
        let (s, chain_id, label) = (&db.store, c.d.chain_id, db.label);
        let t1 = s.fl_task(chain_id, 1).await?.expect("task 1");
        assert_eq!(
            (t1.mode, t1.state, t1.investor, t1.coordinator),
            (FlMode::RewardPool, FlTaskState::Finished, investor, coordinator),
            "{label}"
        );
        assert_eq!((t1.pool, t1.block_token, t1.blocks_sold, t1.members), (U256::from(1_000), token, 3, 2));
        assert_eq!(
            (t1.block_payments, t1.rewards_root, t1.claimed),
            (Some(U256::from(30)), Some(root), U256::from(600))
        );
        assert!(t1.claim_deadline.is_some_and(|d| d > now));
        let members: Vec<_> = s.fl_members(chain_id, 1).await?.into_iter().map(|m| (m.account, m.blocks)).collect();
        assert_eq!(members, [(a, 3), (b, 0)], "in join order");
        let bought = s.fl_purchases(chain_id, 1, Some(a)).await?;
        assert_eq!((bought.len(), bought[0].count, bought[0].cost, bought[0].held), (1, 3, U256::from(30), true));
        let claims = s.fl_claims(chain_id, 1).await?;
        assert_eq!(claims.iter().map(|c| (c.account, c.amount)).collect::<Vec<_>>(), [(a, U256::from(600))]);

        let t2 = s.fl_task(chain_id, 2).await?.expect("task 2");
        assert_eq!((t2.mode, t2.state, t2.holders), (FlMode::Shareholding, FlTaskState::Finished, Some(2)));
        let held: Vec<_> = s.fl_shares(chain_id, 2).await?.into_iter().map(|h| (h.account, h.shares)).collect();
        assert_eq!(held, [(a, e17 * U256::from(5)), (b, e17 * U256::from(3)), (payer, e17 * U256::from(2))]);
        assert_eq!(s.fl_prediction_totals(chain_id, 2).await?, (1, U256::from(1_000)));
        let of_a = s.fl_account(chain_id, a).await?;
        // 70 % of the fee, less the rounding dust the contract keeps (under one unit per holder).
        assert_eq!(of_a.dividends.iter().map(|d| d.amount).collect::<Vec<_>>(), [withdrawn], "as the chain paid it");
        assert_eq!(of_a.memberships.len(), 2);
        assert_eq!(s.fl_account(chain_id, payer).await?.predictions.len(), 1);
        let mine = s.fl_tasks(chain_id, FlTaskFilter { member: Some(b), ..Default::default() }, 10).await?;
        assert_eq!(mine.len(), 2);
        db.finish().await?;
    }
    c.anvil.stop().await?;
    Ok(())
}
