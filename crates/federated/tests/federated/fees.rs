//! The fee receiver's forwarding against FederatedMarket on anvil. Where it must not pay: a
//! receiver holding too little of the task's token is refused before anything is sent (ETH and
//! ERC-20), and a task the contract does not take fees for yet is a failed outcome of the pass,
//! named by the contract's custom error, not a panic. Where it pays: two forwarders of one receiver
//! (the node's job and `agora fl forward-fees`) running the same pass at once pay each recorded fee
//! exactly once — the contract refuses a payment computed from a count another one moved, and the
//! loser reads the count again. (Fees forwarded for a task trained end to end, by hand and by the
//! node's job, are tested in crates/cli/tests/fl.rs.)

use agora_chain::bindings::{FederatedMarket, IFederatedMarket};
use agora_chain::testing::{TestChain, send, signing_provider};
use agora_chain::{SendPolicy, Sender};
use agora_federated::fees::Outcome;
use agora_federated::{Error, FeeForwarder, Recorded};
use alloy::primitives::aliases::{U40, U96};
use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;

use super::common::spec;

const INVESTOR: usize = 4;
const RECEIVER: usize = 6;
const MEMBER: usize = 7;

/// Each prediction's fee.
const FEE: u64 = 1_000;

/// A shareholding task the investor coordinates, its fee [`FEE`] in `token`, one member to start.
async fn shareholding(tc: &TestChain, token: Address) -> anyhow::Result<IFederatedMarket::TaskParams> {
    let head = signing_provider(tc.url(), tc.key(INVESTOR))?.get_block(alloy::eips::BlockId::latest()).await?;
    let now = head.expect("head").header.timestamp;
    Ok(IFederatedMarket::TaskParams {
        mode: 1,
        coordinator: tc.address(INVESTOR),
        token,
        pool: U96::ZERO,
        predictionFee: U96::from(FEE),
        blockToken: Address::ZERO,
        blockPrice: U96::ZERO,
        totalBlocks: 1,
        minParticipants: 1,
        startDeadline: U40::from(now + 3_600),
        finishDeadline: U40::from(now + 7_200),
        spec: spec(1, 60).cid()?.to_string(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_short_of_the_token_or_a_task_not_finished_pays_nothing() -> anyhow::Result<()> {
    let tc = TestChain::start().await?;
    let market = tc.d.federated_market.expect("the dev deployment has a FederatedMarket");
    let investor = FederatedMarket::new(market, signing_provider(tc.url(), tc.key(INVESTOR))?);
    for token in [Address::ZERO, tc.d.market_token] {
        send(investor.createTask(shareholding(&tc, token).await?)).await?;
    }
    let (eth_task, token_task) = (1u64, 2u64);

    // A fresh receiver holds nothing: refused before sending, with what it would take.
    let broke = Sender::connect(tc.url(), PrivateKeySigner::random(), SendPolicy::dev()).await?;
    let forwarder = FeeForwarder::new(broke.clone(), market);
    for task in [eth_task, token_task] {
        match forwarder.pay(task, 3).await {
            Err(Error::Task { task: t, reason }) => {
                assert_eq!(t, task);
                assert!(reason.contains("come to 3000") && reason.contains("holds 0"), "{reason}");
                assert!(reason.contains("when its channels are settled"), "{reason}");
            }
            other => panic!("task {task}: {other:?}"),
        }
    }
    let nonce = broke.provider().get_transaction_count(broke.address()).await?;
    assert_eq!(nonce, 0, "nothing was sent");

    // A funded receiver, but the tasks are still open: the contract refuses, the pass goes on.
    tc.mint(&[tc.address(RECEIVER)], U256::from(1_000_000u64)).await?;
    let funded = Sender::connect(tc.url(), tc.key(RECEIVER), SendPolicy::dev()).await?;
    let forwarder = FeeForwarder::new(funded, market);
    let recorded = [
        Recorded { task: eth_task, count: 2 },
        Recorded { task: 7, count: 0 },
        Recorded { task: token_task, count: 1 },
    ];
    let outcomes = forwarder.forward_owed(&recorded).await;
    assert_eq!(outcomes.len(), 2, "a task owed nothing is skipped: {outcomes:?}");
    for (outcome, task) in outcomes.iter().zip([eth_task, token_task]) {
        match outcome {
            Outcome::Failed { task: t, error: Error::Task { reason, .. } } => {
                assert_eq!(*t, task);
                assert!(reason.starts_with("FederatedMarket refused: WrongState"), "{reason}");
            }
            other => panic!("task {task}: {other:?}"),
        }
    }
    assert_eq!(forwarder.paid(eth_task).await?, 0);
    tc.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_forwarders_of_one_receiver_pay_each_recorded_fee_once() -> anyhow::Result<()> {
    let tc = TestChain::start().await?;
    let market = tc.d.federated_market.expect("the dev deployment has a FederatedMarket");
    let as_ = |i: usize| FederatedMarket::new(market, signing_provider(tc.url(), tc.key(i)).expect("URL parses"));
    // A finished shareholding task with an ETH fee: one member, all the shares.
    send(as_(INVESTOR).createTask(shareholding(&tc, Address::ZERO).await?)).await?;
    let task = U256::from(1);
    send(as_(MEMBER).join(task)).await?;
    send(as_(INVESTOR).start(task)).await?;
    let total = as_(INVESTOR).TOTAL_SHARES().call().await?;
    send(as_(INVESTOR).postShares(task, vec![tc.address(MEMBER)], vec![total], "bafy-record".into())).await?;

    // The node's job and the command, each with its own sender for the receiver's key.
    let forwarder = || async {
        let sender = Sender::connect(tc.url(), tc.key(RECEIVER), SendPolicy::dev()).await?;
        anyhow::Ok(FeeForwarder::new(sender, market))
    };
    let (a, b) = (forwarder().await?, forwarder().await?);
    // One payment by hand first: the pass owes the rest of the five recorded.
    a.pay(1, 2).await?;
    let recorded = [Recorded { task: 1, count: 5 }];
    let (one, two) = tokio::join!(a.forward_owed(&recorded), b.forward_owed(&recorded));
    let mut forwarded = 0;
    for outcome in one.iter().chain(&two) {
        match outcome {
            Outcome::Forwarded(f) => forwarded += f.count,
            Outcome::AlreadyPaid { task } => assert_eq!(*task, 1),
            Outcome::Failed { task, error } => panic!("task {task}: {error}"),
        }
    }
    assert_eq!(forwarded, 3, "{one:?} {two:?}");
    assert_eq!(a.paid(1).await?, 5);
    let dividends = as_(INVESTOR).getDividends(task).call().await?;
    assert_eq!(U256::from(dividends.feesIn), U256::from(5 * FEE), "five fees in, none twice");
    // A pass over what is all paid sends nothing.
    let nonce = as_(INVESTOR).provider().get_transaction_count(tc.address(RECEIVER)).await?;
    assert!(matches!(b.forward_owed(&recorded).await.as_slice(), [Outcome::AlreadyPaid { task: 1 }]));
    assert_eq!(as_(INVESTOR).provider().get_transaction_count(tc.address(RECEIVER)).await?, nonce);
    tc.stop().await?;
    Ok(())
}
