//! The per-key sender on a real anvil: concurrent users of one key never collide on a nonce, a
//! revert costs no nonce, and a transaction left pending is replaced with higher fees.

use std::time::{Duration, Instant};

use agora_chain::bindings::MarketToken;
use agora_chain::revert::ContractError;
use agora_chain::testing::{BUYER, OWNER, PROVIDER, TestChain};
use agora_chain::{Error, SendPolicy, Sender};
use alloy::network::TransactionBuilder;
use alloy::primitives::U256;
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;

#[tokio::test]
async fn two_subsystems_sending_with_one_key_never_collide() -> anyhow::Result<()> {
    let c = TestChain::start().await?;
    let sender = c.sender(OWNER).await?;
    let start_nonce = sender.provider().get_transaction_count(sender.address()).await?;
    let token = MarketToken::new(c.d.market_token, sender.provider().clone());
    // Two parts of the node (say the settle job and the iExec backend) hold clones of one sender
    // and send at the same time, 15 transactions each.
    let mint = |to| {
        let (sender, token) = (sender.clone(), token.clone());
        tokio::spawn(async move {
            let mut receipts = Vec::new();
            for _ in 0..15 {
                receipts.push(sender.send(token.mint(to, U256::from(1))).await?);
            }
            Ok::<_, Error>(receipts)
        })
    };
    let (a, b) = (mint(c.address(BUYER)), mint(c.address(PROVIDER)));
    let (a, b) = (a.await??, b.await??);
    let mut nonces = Vec::new();
    for r in a.iter().chain(&b) {
        assert!(r.status());
        let tx = sender.provider().get_transaction_by_hash(r.transaction_hash).await?.expect("mined transaction");
        nonces.push(alloy::consensus::Transaction::nonce(&tx));
    }
    nonces.sort_unstable();
    let expected: Vec<u64> = (start_nonce..start_nonce + 30).collect();
    assert_eq!(nonces, expected, "30 transactions, 30 consecutive nonces, none reused or skipped");
    let token = MarketToken::new(c.d.market_token, c.provider(BUYER));
    assert_eq!(token.balanceOf(c.address(BUYER)).call().await?, U256::from(15));
    c.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_revert_is_decoded_and_costs_no_nonce() -> anyhow::Result<()> {
    let c = TestChain::start().await?;
    // Only the token's deployer mints: the buyer's attempt reverts in estimation.
    let buyer = c.sender(BUYER).await?;
    let before = buyer.provider().get_transaction_count(buyer.address()).await?;
    let token = MarketToken::new(c.d.market_token, buyer.provider().clone());
    let err = buyer.send(token.mint(buyer.address(), U256::from(1))).await.unwrap_err();
    assert!(matches!(&err, Error::Contract(ContractError::Token(_))), "{err:?}");
    assert!(err.to_string().contains("may not mint"), "{err}");
    // The next transaction takes the nonce the failed one would have had.
    let r = buyer
        .send_request(TransactionRequest::default().with_to(c.address(PROVIDER)).with_value(U256::from(1)))
        .await?;
    let tx = buyer.provider().get_transaction_by_hash(r.transaction_hash).await?.expect("mined");
    assert_eq!(alloy::consensus::Transaction::nonce(&tx), before);
    c.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_stuck_transaction_is_replaced_with_higher_fees() -> anyhow::Result<()> {
    let c = TestChain::start().await?;
    let provider = c.provider(OWNER);
    provider.raw_request::<_, serde_json::Value>("evm_setAutomine".into(), (false,)).await?;
    let policy = SendPolicy {
        poll: Duration::from_millis(20),
        stuck_after: Some(Duration::from_millis(300)),
        max_bumps: 3,
        ..SendPolicy::dev()
    };
    let sender = Sender::connect(c.url(), c.key(BUYER), policy).await?;
    let first_fee = sender.provider().estimate_eip1559_fees().await?.max_fee_per_gas;
    let to = c.address(PROVIDER);
    let sending = {
        let sender = sender.clone();
        tokio::spawn(async move {
            sender.send_request(TransactionRequest::default().with_to(to).with_value(U256::from(7))).await
        })
    };
    // Wait for the state the test is about: the pool holds a version priced above the first.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let pool: serde_json::Value = provider.raw_request("txpool_content".into(), ()).await?;
        let fees: Vec<u128> = pool["pending"]
            .as_object()
            .into_iter()
            .flat_map(|by_sender| by_sender.values())
            .flat_map(|by_nonce| by_nonce.as_object().into_iter().flat_map(|m| m.values()))
            .filter_map(|tx| u128::from_str_radix(tx["maxFeePerGas"].as_str()?.trim_start_matches("0x"), 16).ok())
            .collect();
        if fees.iter().any(|f| *f > first_fee) {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "no replacement reached the pool: {pool}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    provider.raw_request::<_, serde_json::Value>("evm_mine".into(), ()).await?;
    let receipt = sending.await??;
    let mined = provider.get_transaction_by_hash(receipt.transaction_hash).await?.expect("mined");
    assert!(alloy::consensus::Transaction::max_fee_per_gas(&mined) > first_fee, "the replacement was mined");
    assert_eq!(alloy::consensus::Transaction::nonce(&mined), 0, "with the first version's nonce");
    c.stop().await?;
    Ok(())
}
