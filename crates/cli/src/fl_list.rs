//! `agora fl list-model`: the investor of a finished reward-pool task lists its model on the
//! compute market as an AI-inference service. The node says what to send
//! (`GET /api/fl/tasks/{id}/listing`: the metadata URI, the market, the investor); the node runs
//! the service's jobs only when its provider is the investor, so another key is refused here
//! before anything is sent.

use agora_node::client::{Address, U256};
use agora_node::fl_client::{FlNode, ServiceOffer};
use clap::Args;
use serde_json::{Value, json};

use crate::channel::{KeyFlag, key};
use crate::fl::{PoolToken, failed};
use crate::out::{Failure, Out, Outcome};

/// The longest run a service may promise (the market's `MAX_RUN_TIME`, 365 days).
const MAX_RUN_TIME: u64 = 365 * 86_400;

/// `agora fl list-model`'s flags.
#[derive(Args)]
pub(crate) struct ListModelArgs {
    task: u64,
    /// The price of one prediction job, in the token's smallest unit (wei for ETH).
    #[arg(long)]
    price: U256,
    /// What buyers pay in (default: the task's own token).
    #[arg(long, value_enum)]
    token: Option<PoolToken>,
    /// The longest a job may run, seconds: a task's deadline is its purchase plus this.
    #[arg(long, default_value_t = 300)]
    max_run_time: u64,
    #[command(flatten)]
    key: KeyFlag,
}

fn address(v: &Value, name: &str) -> Outcome<Address> {
    v[name]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Failure::new("bad_answer", format!("the node's answer has no address {name}: {v}")))
}

/// Runs `agora fl list-model`.
pub(crate) async fn list_model(node: &FlNode, a: ListModelArgs, out: Out) -> Outcome {
    if a.price.is_zero() || a.price > U256::from(u128::MAX >> 32) {
        return Err(Failure::new("usage", "--price must be from 1 to 2^96 - 1 (the token's smallest unit)"));
    }
    if a.max_run_time == 0 || a.max_run_time > MAX_RUN_TIME {
        return Err(Failure::new("usage", format!("--max-run-time must be from 1 to {MAX_RUN_TIME} seconds")));
    }
    let signer = key(&a.key.key)?;
    let listing = node.get(&format!("/api/fl/tasks/{}/listing", a.task)).await.map_err(failed)?;
    let investor = address(&listing, "investor")?;
    if signer.address() != investor {
        return Err(Failure::new(
            "not_investor",
            format!(
                "only task {}'s investor {investor:#x} may list its model; this key is {:#x}",
                a.task,
                signer.address()
            ),
        ));
    }
    let market = address(&listing, "computeMarket")?;
    let token = match a.token {
        None => address(&listing, "token")?,
        Some(PoolToken::Eth) => Address::ZERO,
        Some(PoolToken::Amt) => address(&node.get("/api/network").await.map_err(failed)?, "marketToken")?,
    };
    let uri = listing["metadataUri"]
        .as_str()
        .ok_or_else(|| Failure::new("bad_answer", format!("the node's answer has no metadataUri: {listing}")))?;
    let offer = ServiceOffer { token, price: a.price, max_run_time: a.max_run_time };
    let (service, tx) = node.list_service(&signer, market, offer, uri.to_owned()).await.map_err(failed)?;
    let v = json!({ "listed": {
        "task": a.task,
        "service": service,
        "token": format!("{token:#x}"),
        "price": a.price.to_string(),
        "maxRunTime": a.max_run_time,
        "tx": tx.to_string(),
    } });
    out.result(&v, &format!("listed task {}'s model as compute service {service} ({tx})", a.task));
    Ok(())
}
