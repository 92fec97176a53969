//! The fee receiver's forwarding against FederatedMarket on anvil, where it must not pay: a receiver
//! holding too little of the task's token is refused before anything is sent (ETH and ERC-20), and a
//! task the contract does not take fees for yet is a failed outcome of the pass, named by the
//! contract's custom error, not a panic. (Fees
//! forwarded for a finished task, by hand and by the node's job, are tested end to end in
//! crates/cli/tests/fl.rs.)

use agora_chain::bindings::{FederatedMarket, IFederatedMarket};
use agora_chain::testing::{TestChain, send, signing_provider};
use agora_chain::{SendPolicy, Sender};
use agora_federated::fees::Outcome;
use agora_federated::{Error, FeeForwarder, Owed};
use alloy::primitives::aliases::{U40, U96};
use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;

use super::common::spec;

const INVESTOR: usize = 4;
const RECEIVER: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_short_of_the_token_or_a_task_not_finished_pays_nothing() -> anyhow::Result<()> {
    let tc = TestChain::start().await?;
    let market = tc.d.federated_market.expect("the dev deployment has a FederatedMarket");
    let investor = FederatedMarket::new(market, signing_provider(tc.url(), tc.key(INVESTOR))?);
    let now = investor.provider().get_block(alloy::eips::BlockId::latest()).await?.expect("head").header.timestamp;
    let fee = 1_000u64;
    for token in [Address::ZERO, tc.d.market_token] {
        let params = IFederatedMarket::TaskParams {
            mode: 1,
            coordinator: tc.address(INVESTOR),
            token,
            pool: U96::ZERO,
            predictionFee: U96::from(fee),
            blockToken: Address::ZERO,
            blockPrice: U96::ZERO,
            totalBlocks: 1,
            minParticipants: 1,
            startDeadline: U40::from(now + 3_600),
            finishDeadline: U40::from(now + 7_200),
            spec: spec(1, 60).cid()?.to_string(),
        };
        send(investor.createTask(params)).await?;
    }
    let (eth_task, token_task) = (1u64, 2u64);

    // A fresh receiver holds nothing: refused before sending, with what it would take.
    let broke = Sender::connect(tc.url(), PrivateKeySigner::random(), SendPolicy::dev()).await?;
    let forwarder = FeeForwarder::new(broke.clone(), market, tc.d.deploy_block);
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
    let forwarder = FeeForwarder::new(funded, market, tc.d.deploy_block);
    let owed = [Owed { task: eth_task, count: 2 }, Owed { task: 7, count: 0 }, Owed { task: token_task, count: 1 }];
    let outcomes = forwarder.forward_owed(&owed, None).await;
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
    assert_eq!(forwarder.paid_since(eth_task, 0).await?, 0);
    assert_eq!(forwarder.paid_since(eth_task, u64::MAX).await?, 0, "a range past the head reads nothing");
    tc.stop().await?;
    Ok(())
}
