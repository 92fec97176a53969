//! `agora seller` and `agora buyer`: the data market's two ends (through `agora_node::data`). The
//! node's API says which chain and `DataMarket` to use.

use std::net::SocketAddr;
use std::path::PathBuf;

use agora_node::Config;
use agora_node::client::{Address, NodeApi};
use agora_node::data::{BuyRequest, DataChain, SellerReady};
use clap::Args;
use serde_json::{Value, json};

use crate::channel::{ClientFlags, KeyFlag};
use crate::out::{Failure, Out, Outcome};

/// `agora seller`'s flags: they override `[data]` (and where the node keeps its state).
#[derive(Args)]
pub(crate) struct SellerArgs {
    /// The node's API, which names the chain and the DataMarket contract.
    #[arg(long, env = "AGORA_API", default_value = "http://127.0.0.1:8080")]
    api: String,
    /// The chain's JSON-RPC URL; default: the one the node's API names.
    #[arg(long)]
    rpc_url: Option<String>,
    /// `[data] listen`: where buyers connect.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// `[data] endpoint`: what the registry tells buyers (default: the listen address).
    #[arg(long)]
    endpoint: Option<String>,
    /// `[data] catalogue_dir`: the files for sale.
    #[arg(long)]
    catalogue: Option<PathBuf>,
    /// `[data] confirmations`.
    #[arg(long)]
    confirmations: Option<u64>,
    /// `[data] price_per_mib`, in the token's smallest unit.
    #[arg(long)]
    price_per_mib: Option<u64>,
    /// Where the seller keeps its state (its database of ACKs, unless --database-url).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// sqlite://… or postgres://… (`[store] database_url`).
    #[arg(long)]
    database_url: Option<String>,
    /// `[data] off_chain`: also serve orders paid outside the chain, each once confirmed paid.
    #[arg(long)]
    off_chain: bool,
    /// Do not serve: confirm on chain that this off-chain order was paid, then exit.
    #[arg(long, value_name = "ORDER_ID")]
    confirm_paid: Option<agora_node::client::B256>,
    /// One JSON object per line, errors included.
    #[arg(long)]
    json: bool,
}

impl SellerArgs {
    pub(crate) fn out(&self) -> Out {
        Out { json: self.json }
    }

    fn overrides(&self) -> Value {
        let mut out = json!({});
        let mut data = json!({});
        if let Some(v) = self.listen {
            data["listen"] = v.to_string().into();
        }
        if let Some(v) = &self.endpoint {
            data["endpoint"] = v.as_str().into();
        }
        if let Some(v) = &self.catalogue {
            data["catalogue_dir"] = v.display().to_string().into();
        }
        if let Some(v) = self.confirmations {
            data["confirmations"] = v.into();
        }
        if let Some(v) = self.price_per_mib {
            data["price_per_mib"] = v.into();
        }
        if self.off_chain {
            data["off_chain"] = true.into();
        }
        out["data"] = data;
        if let Some(v) = &self.data_dir {
            out["data_dir"] = v.display().to_string().into();
        }
        if let Some(v) = &self.database_url {
            out["store"] = json!({ "database_url": v });
        }
        out
    }
}

/// `agora buyer`'s arguments.
#[derive(Args)]
pub(crate) struct BuyerArgs {
    /// The seller's account, as registered in the DataMarket registry.
    #[arg(long)]
    seller: Address,
    /// The item's name on the seller's menu.
    #[arg(long)]
    item: String,
    /// Where the item is written (`<out>.order.json` keeps the order for --resume).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    key: KeyFlag,
    /// Go on with the order recorded beside --out, from its last ACK.
    #[arg(long)]
    resume: bool,
    /// Rate the seller 1 to 5 once the order is settled.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=5))]
    rate: Option<u8>,
    /// Seconds from now (chain clock) to the order's deadline.
    #[arg(long, default_value_t = 3600)]
    deadline_secs: u64,
    /// Pay the seller outside the chain: nothing is escrowed, and the transfer starts once the
    /// seller confirms the payment on chain (`agora seller --confirm-paid ORDER_ID`).
    #[arg(long)]
    off_chain: bool,
}

/// The chain and DataMarket, from the node's API.
async fn data_chain(api: &str, rpc_url: Option<&String>) -> Outcome<DataChain> {
    let api = NodeApi::new(api)?;
    let net = api.get_json("/api/network").await?;
    let text = |name: &str| {
        net[name].as_str().map(str::to_owned).ok_or_else(|| Failure::new("protocol", format!("no {name} in {net}")))
    };
    Ok(DataChain {
        rpc_url: match rpc_url {
            Some(url) => url.clone(),
            None => text("rpcUrl")?,
        },
        chain_id: net["chainId"].as_u64().ok_or_else(|| Failure::new("protocol", format!("no chainId in {net}")))?,
        market: text("dataMarket")?
            .parse()
            .map_err(|_| Failure::new("no_data_market", "the node's chain has no DataMarket deployed"))?,
    })
}

fn failed(code: &str) -> impl Fn(anyhow::Error) -> Failure + '_ {
    move |e| Failure::new(code, format!("{e:#}"))
}

/// Serves until `shutdown`.
pub(crate) async fn seller(
    config_file: &std::path::Path,
    args: SellerArgs,
    shutdown: impl std::future::Future<Output = ()>,
) -> Outcome {
    let out = args.out();
    let config = Config::load(config_file, args.overrides()).map_err(|e| Failure::new("config", e.to_string()))?;
    let chain = data_chain(&args.api, args.rpc_url.as_ref()).await?;
    if let Some(order) = args.confirm_paid {
        let tx = agora_node::data::confirm_paid(&config, &chain, order).await.map_err(failed("confirm_paid"))?;
        let v = json!({ "confirmedPaid": { "orderId": order.to_string(), "tx": tx.to_string() } });
        out.result(&v, &format!("order {order} confirmed paid in {tx}"));
        return Ok(());
    }
    let ready = |r: &SellerReady| {
        let v = json!({ "seller": {
            "account": r.account.to_string(),
            "listen": r.listen.to_string(),
            "items": r.items,
            "registeredTx": r.registered_tx.map(|t| t.to_string()),
        }});
        out.result(&v, &format!("Selling {} item(s) as {} on {}", r.items.len(), r.account, r.listen));
    };
    agora_node::data::seller(&config, &chain, ready, shutdown).await.map_err(failed("seller"))
}

/// One purchase, with a progress line.
pub(crate) async fn buyer(args: BuyerArgs, flags: &ClientFlags, out: Out) -> Outcome {
    let chain = data_chain(&flags.api, flags.rpc_url.as_ref()).await?;
    let req = BuyRequest {
        key: args.key.key.clone(),
        seller: args.seller,
        item: args.item.clone(),
        out: args.out.clone(),
        resume: args.resume,
        rate: args.rate,
        deadline_secs: args.deadline_secs,
        off_chain: args.off_chain,
    };
    let mut shown = u64::MAX;
    let progress = |p: agora_node::data::Progress| {
        let percent = (p.received * 100).checked_div(p.total).unwrap_or(0);
        if percent == shown {
            return;
        }
        shown = percent;
        if out.json {
            out.object(&json!({ "progress": { "received": p.received, "total": p.total } }));
        } else {
            progress_line(p.received, p.total, percent);
        }
    };
    let bought = agora_node::data::buy(&chain, &req, progress).await.map_err(failed("buy"))?;
    if !out.json {
        progress_line(bought.received, bought.total, 100);
    }
    let v = json!({ "bought": bought });
    let line = format!(
        "order {}: {} of {} bytes into {}{}",
        bought.order_id,
        bought.received,
        bought.total,
        args.out.display(),
        if bought.complete { ", complete" } else { ", incomplete (agora buyer --resume)" }
    );
    out.result(&v, &line);
    if !bought.complete {
        return Err(Failure::new("incomplete", format!("{} of {} bytes received", bought.received, bought.total)));
    }
    Ok(())
}

#[allow(clippy::print_stderr)]
fn progress_line(received: u64, total: u64, percent: u64) {
    eprint!("\rreceived {received} of {total} bytes ({percent}%)");
    if received == total {
        eprintln!();
    }
}
