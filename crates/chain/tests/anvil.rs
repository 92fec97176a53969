//! The contracts on a real anvil: deployment, gas paid per purchase as receipts report it, and
//! reverts decoded into typed errors.

use agora_chain::anvil::Anvil;
use agora_chain::bindings::ComputeMarket::{self, ComputeMarketErrors};
use agora_chain::bindings::MarketToken;
use agora_chain::deploy::{Deployments, Listing};
use agora_chain::revert::ContractError;
use agora_chain::testing::{BUYER, OPERATOR, PROVIDER, TestChain, send};
use agora_chain::{Error, ensure_chain};
use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider};

const CID: &str = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

struct Env {
    anvil: Anvil,
    d: Deployments,
    provider: DynProvider,
    /// The backend's key, which completes tasks in production.
    operator: DynProvider,
    buyer: DynProvider,
    buyer_addr: Address,
}

/// The demo's terms: 0.01 ETH (300 s), 0.02 ETH (600 s), 5 MarketToken (300 s).
fn listings() -> Vec<Listing> {
    let listing = |in_token, price: u128, max_run_time, kind: &str| Listing {
        in_token,
        price: U256::from(price),
        max_run_time,
        metadata_uri: format!(r#"data:application/json,{{"kind":"{kind}"}}"#),
    };
    vec![
        listing(false, 10_000_000_000_000_000, 300, "ai-inference"),
        listing(false, 20_000_000_000_000_000, 600, "video-transcode"),
        listing(true, 5_000_000_000_000_000_000, 300, "data-processing"),
    ]
}

async fn env() -> anyhow::Result<Env> {
    let c = TestChain::start().await?;
    c.list(&listings()).await?;
    c.mint(&[c.address(BUYER), c.address(PROVIDER)], U256::from(10).pow(U256::from(21))).await?;
    let (provider, operator, buyer, buyer_addr) =
        (c.provider(PROVIDER), c.provider(OPERATOR), c.provider(BUYER), c.address(BUYER));
    Ok(Env { anvil: c.anvil, d: c.d, provider, operator, buyer, buyer_addr })
}

/// Buys `service` and completes it as the operator; returns (buy gas, complete gas) from the receipts.
async fn buy_and_complete(e: &Env, service: u64, value: U256) -> anyhow::Result<(u64, u64)> {
    let market = ComputeMarket::new(e.d.compute_market, e.buyer.clone());
    // The buyer repeats the terms it was shown; the market refuses the purchase if they changed.
    let terms = market.getService(U256::from(service)).call().await?;
    let buy = send(
        market.buyCompute(U256::from(service), CID.into(), U256::from(terms.price), terms.maxRunTime).value(value),
    )
    .await?;
    let task = buy.decoded_log::<ComputeMarket::TaskCreated>().expect("TaskCreated").data.taskId;
    let as_operator = ComputeMarket::new(e.d.compute_market, e.operator.clone());
    let done = send(as_operator.completeTask(task, CID.into())).await?;
    Ok((buy.gas_used, done.gas_used))
}

#[tokio::test]
async fn purchase_and_completion_fit_the_gas_budget() -> anyhow::Result<()> {
    let e = env().await?;
    let eth_price = U256::from(10_000_000_000_000_000u64);
    let token = MarketToken::new(e.d.market_token, e.buyer.clone());
    send(token.approve(e.d.compute_market, U256::MAX)).await?;

    // Warm-up: the first task ever costs extra once (the task counter's first write).
    buy_and_complete(&e, 1, eth_price).await?;
    // A market in use holds other buyers' escrow. When its token balance is zero, the token's own
    // zero→non-zero balance write adds 20,000 gas to a purchase; that case is printed, not budgeted.
    let (cold_buy, cold_complete) = buy_and_complete(&e, 3, U256::ZERO).await?;
    println!(
        "gas: ERC-20 buyCompute {cold_buy} + completeTask {cold_complete} = {} when the market held no AMT",
        cold_buy + cold_complete
    );
    let market = ComputeMarket::new(e.d.compute_market, e.buyer.clone());
    send(market.buyCompute(U256::from(3), CID.into(), U256::from(5_000_000_000_000_000_000u64), 300)).await?;

    let (eth_buy, eth_complete) = buy_and_complete(&e, 1, eth_price).await?;
    let (tok_buy, tok_complete) = buy_and_complete(&e, 3, U256::ZERO).await?;
    println!(
        "gas (receipts, intrinsic included): ETH buyCompute {eth_buy} + completeTask {eth_complete} = {}",
        eth_buy + eth_complete
    );
    println!(
        "gas (receipts, intrinsic included): ERC-20 buyCompute {tok_buy} + completeTask {tok_complete} = {}",
        tok_buy + tok_complete
    );
    assert!(eth_buy + eth_complete <= 130_000, "ETH purchase + completion used {}", eth_buy + eth_complete);
    assert!(tok_buy + tok_complete <= 160_000, "ERC-20 purchase + completion used {}", tok_buy + tok_complete);
    e.anvil.stop().await?;
    Ok(())
}

#[tokio::test]
async fn reverts_come_back_as_typed_errors_and_sentences() -> anyhow::Result<()> {
    let e = env().await?;
    let market = ComputeMarket::new(e.d.compute_market, e.buyer.clone());

    let eth_price = U256::from(10_000_000_000_000_000u64);
    let err =
        send(market.buyCompute(U256::from(1), CID.into(), eth_price, 300).value(U256::from(1))).await.unwrap_err();
    let Error::Contract(ContractError::Market(ComputeMarketErrors::InsufficientPayment(p))) = &err else {
        panic!("expected InsufficientPayment, got {err:?}");
    };
    assert_eq!(p.sent, U256::from(1));
    assert_eq!(p.price, U256::from(10_000_000_000_000_000u64));
    assert_eq!(err.to_string(), "payment of 1 wei does not match the service price of 10000000000000000 wei");

    // Terms that are not the service's: the purchase is refused with the terms to review.
    let err =
        send(market.buyCompute(U256::from(1), CID.into(), U256::from(1), 300).value(U256::from(1))).await.unwrap_err();
    let Error::Contract(ContractError::Market(ComputeMarketErrors::TermsChanged(t))) = &err else {
        panic!("expected TermsChanged, got {err:?}");
    };
    assert_eq!((t.agreedPrice, t.price, t.maxRunTime), (U256::from(1), eth_price, 300));
    assert_eq!(
        err.to_string(),
        "service 1 changed its terms to 10000000000000000 for at most 300 s (you agreed to 1 for at most 300 s): \
         nothing was bought, review the new terms"
    );

    let err = send(market.buyCompute(U256::from(42), CID.into(), U256::from(1), 300)).await.unwrap_err();
    assert!(
        matches!(&err, Error::Contract(ContractError::Market(ComputeMarketErrors::ServiceNotFound(x))) if x.serviceId == U256::from(42)),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "service 42 does not exist");

    // A token service bought without an approval: the token's own error, decoded.
    let err = send(market.buyCompute(U256::from(3), CID.into(), U256::from(5_000_000_000_000_000_000u64), 300))
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with("the token allowance for") && err.to_string().ends_with("approve the market first"),
        "{err}"
    );

    // A stranger may not complete someone's task.
    let buy = send(
        market
            .buyCompute(U256::from(1), CID.into(), U256::from(10_000_000_000_000_000u64), 300)
            .value(U256::from(10_000_000_000_000_000u64)),
    )
    .await?;
    let task = buy.decoded_log::<ComputeMarket::TaskCreated>().expect("TaskCreated").data.taskId;
    let err = send(market.completeTask(task, CID.into())).await.unwrap_err();
    match &err {
        Error::Contract(c @ ContractError::Market(ComputeMarketErrors::NotAuthorized(x))) => {
            assert_eq!(x.caller, e.buyer_addr);
            assert_eq!(c.name().as_deref(), Some("NotAuthorized"));
        }
        other => panic!("expected NotAuthorized, got {other:?}"),
    }
    // The buyer cannot take the escrow back before the deadline.
    let err = send(market.claimRefund(task)).await.unwrap_err();
    assert!(
        matches!(&err, Error::Contract(ContractError::Market(ComputeMarketErrors::DeadlineNotReached(_)))),
        "{err:?}"
    );
    e.anvil.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_node_on_another_chain_is_refused() -> anyhow::Result<()> {
    let e = env().await?;
    let err = ensure_chain(&e.provider, 1).await.unwrap_err();
    assert!(matches!(err, Error::WrongChain { expected: 1, actual: 31337 }), "{err:?}");
    assert_eq!(e.provider.get_chain_id().await?, e.d.chain_id);
    e.anvil.stop().await?;
    Ok(())
}
