//! The same end to end against FederatedMarket on anvil: the investor creates a reward-pool task,
//! members join on chain, the coordinator starts it, trains with them over loopback and posts the
//! root; a member's reward is claimed with its proof and pays exactly its amount.

use std::sync::Arc;

use agora_chain::bindings::FederatedMarket;
use agora_chain::testing::{TestChain, send, signing_provider};
use agora_chain::{SendPolicy, Sender};
use agora_content::LocalStore;
use agora_federated::{
    ChainTaskActions, ChainTaskBook, ClientOptions, Coordinator, CoordinatorOptions, MemoryJournal, TaskBook,
    TaskState, client,
};
use alloy::primitives::aliases::{U40, U96};
use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;

use super::common::spec;

const INVESTOR: usize = 4;
const COORDINATOR: usize = 5;
const MEMBERS: [usize; 3] = [6, 7, 8];
const RELAYER: usize = 9;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_on_chain_trains_posts_its_root_and_a_member_claims_exactly_its_reward() -> anyhow::Result<()> {
    let tc = TestChain::start().await?;
    let market = tc.d.federated_market.expect("the dev deployment has a FederatedMarket");
    scenario(tc.url(), market, tc.d.deploy_block, |i| tc.key(i)).await?;
    tc.stop().await?;
    Ok(())
}

/// The task's life on the chain at `url`, FederatedMarket at `market`; `key(i)` is funded account `i`.
pub async fn scenario(
    url: &str,
    market: Address,
    deploy_block: u64,
    key: impl Fn(usize) -> PrivateKeySigner,
) -> anyhow::Result<()> {
    let provider = |i: usize| signing_provider(url, key(i)).expect("URL parses");
    let as_ = |account: usize| FederatedMarket::new(market, provider(account));
    let now = provider(INVESTOR).get_block(alloy::eips::BlockId::latest()).await?.expect("head").header.timestamp;
    let spec = spec(21, 120);
    let pool = 3_000_000_000_000_000_001u128;
    let params = agora_chain::bindings::IFederatedMarket::TaskParams {
        mode: 0,
        coordinator: key(COORDINATOR).address(),
        token: Address::ZERO,
        pool: U96::from(pool),
        predictionFee: U96::ZERO,
        blockToken: Address::ZERO,
        blockPrice: U96::ZERO,
        totalBlocks: 2,
        minParticipants: 2,
        startDeadline: U40::from(now + 3_600),
        finishDeadline: U40::from(now + 7_200),
        spec: spec.cid()?.to_string(),
    };
    send(as_(INVESTOR).createTask(params).value(U256::from(pool))).await?;
    let task = 1u64;
    for m in MEMBERS {
        send(as_(m).join(U256::from(task))).await?;
    }

    let book = Arc::new(ChainTaskBook::new(provider(COORDINATOR), market, deploy_block));
    let terms = book.terms(task).await?;
    assert_eq!(
        (terms.state, terms.pool, terms.spec.clone()),
        (TaskState::Open, U256::from(pool), spec.cid()?.to_string())
    );
    let sender = Arc::new(Sender::connect(url, key(COORDINATOR), SendPolicy::dev()).await?);
    let actions = Arc::new(ChainTaskActions::new(sender, market));
    let dir = tempfile::tempdir()?;
    let store = LocalStore::open(dir.path()).await?;
    let chain_id = provider(COORDINATOR).get_chain_id().await?;
    let options = CoordinatorOptions::new(task, chain_id, key(COORDINATOR).address(), spec.clone());
    let journal = Arc::new(MemoryJournal::default());
    let coordinator = Arc::new(Coordinator::new(options, book.clone(), actions, store, journal).await?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("ws://{}", listener.local_addr()?);
    let server = coordinator.serve(listener);
    let run = {
        let c = coordinator.clone();
        tokio::spawn(async move { c.run().await })
    };
    let mut clients = Vec::new();
    for m in MEMBERS {
        // What a member reads from the chain before it connects: the coordinator and the spec.
        let terms = book.terms(task).await?;
        let mut options = ClientOptions::new(&url, task, chain_id, terms.coordinator, terms.spec);
        options.idle_timeout = std::time::Duration::from_secs(600);
        let key = key(m);
        clients.push(tokio::spawn(async move { client::run(&key, &options).await }));
    }
    let result = run.await??;
    for c in clients {
        assert_eq!(c.await??.record.as_deref(), Some(result.record_cid.as_str()));
    }
    server.abort();

    let on_chain = as_(INVESTOR).getTask(U256::from(task)).call().await?;
    assert_eq!(on_chain.state, 3, "Finished");
    assert_eq!(Some(on_chain.rewardRoot), result.root);
    assert_eq!(result.payouts.iter().map(|p| p.amount).sum::<U256>(), U256::from(pool));
    // A relayer claims for the best-paid member: the member's balance grows by exactly its amount.
    let best = result.payouts.iter().max_by_key(|p| p.amount).expect("payouts");
    let before = provider(RELAYER).get_balance(best.account).await?;
    send(as_(RELAYER).claimReward(U256::from(task), best.account, best.amount, best.proof.clone())).await?;
    let after = provider(RELAYER).get_balance(best.account).await?;
    assert_eq!(after - before, best.amount);
    // A second claim, or a claim of one unit more, is refused.
    assert!(
        send(as_(RELAYER).claimReward(U256::from(task), best.account, best.amount, best.proof.clone())).await.is_err()
    );
    let other = result.payouts.iter().find(|p| p.account != best.account).expect("two payouts");
    let more = other.amount + U256::from(1);
    assert!(send(as_(RELAYER).claimReward(U256::from(task), other.account, more, other.proof.clone())).await.is_err());
    Ok(())
}
