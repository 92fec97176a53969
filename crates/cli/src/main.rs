//! The `agora` command: argument parsing and wiring only.

// The command's answers (the API's URL, what `deploy` did) are its output.
#![allow(clippy::print_stdout)]

mod board;
mod channel;
mod chat;
mod community;
mod data;
mod fl;
mod fl_list;
mod fl_pay;
mod fl_verify;
mod local;
mod out;

use std::net::SocketAddr;
use std::path::PathBuf;

use agora_node::Config;
use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};

#[derive(Parser)]
#[command(
    name = "agora",
    version,
    about = "Agora: an open marketplace for compute, data, models and work, settled on an EVM chain"
)]
struct Cli {
    /// Configuration file (TOML); missing is fine.
    #[arg(long, global = true, default_value = "agora.toml")]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

/// Flags that override the configuration file and `AGORA_*` variables.
#[derive(Args, Default)]
struct Overrides {
    /// EVM JSON-RPC URL (`[chain] rpc_url`); without it `up` starts the embedded anvil dev chain.
    #[arg(long)]
    rpc_url: Option<String>,
    /// Deployments file written by `agora deploy` (`[chain] deployments`).
    #[arg(long)]
    deployments: Option<PathBuf>,
    /// sqlite://… or postgres://… (`[store] database_url`).
    #[arg(long)]
    database_url: Option<String>,
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// `[api] http_addr`.
    #[arg(long)]
    http_addr: Option<SocketAddr>,
    /// `[indexer] confirmations`.
    #[arg(long)]
    confirmations: Option<u64>,
    /// `[indexer] batch_blocks`.
    #[arg(long)]
    batch_blocks: Option<u64>,
    /// The embedded chain's port (`[chain.dev] anvil_port`); 0: any free port.
    #[arg(long)]
    anvil_port: Option<u16>,
}

/// Inserts `value` at `path` in a JSON object, making the sections on the way.
fn set(root: &mut Value, path: &[&str], value: Value) {
    let Some((last, sections)) = path.split_last() else { return };
    let mut at = root;
    for section in sections {
        at = &mut at[*section];
    }
    at[*last] = value;
}

impl Overrides {
    /// The flags given, nested like the configuration file.
    fn to_config(&self) -> Value {
        let mut out = json!({});
        let text = |p: &PathBuf| Value::String(p.display().to_string());
        if let Some(v) = &self.rpc_url {
            set(&mut out, &["chain", "rpc_url"], v.as_str().into());
        }
        if let Some(v) = &self.deployments {
            set(&mut out, &["chain", "deployments"], text(v));
        }
        if let Some(v) = &self.database_url {
            set(&mut out, &["store", "database_url"], v.as_str().into());
        }
        if let Some(v) = &self.data_dir {
            set(&mut out, &["data_dir"], text(v));
        }
        if let Some(v) = &self.http_addr {
            set(&mut out, &["api", "http_addr"], v.to_string().into());
        }
        if let Some(v) = self.confirmations {
            set(&mut out, &["indexer", "confirmations"], v.into());
        }
        if let Some(v) = self.batch_blocks {
            set(&mut out, &["indexer", "batch_blocks"], v.into());
        }
        if let Some(v) = self.anvil_port {
            set(&mut out, &["chain", "dev", "anvil_port"], v.into());
        }
        out
    }
}

/// `agora workerpool`'s flags: the common ones, and where the pool is.
#[derive(Args, Default)]
struct WorkerpoolFlags {
    #[command(flatten)]
    common: Overrides,
    /// The iExec hub (PoCo's diamond; `[iexec] hub`).
    #[arg(long)]
    hub: Option<String>,
    /// The workerpool to serve (`[iexec] workerpool_address`); without it, the owner's pool
    /// registered under `[iexec.workerpool] description`, registered now if there is none. The
    /// owner's key comes from AGORA_IEXEC__WORKERPOOL__OWNER_KEY, this worker's (default: the
    /// owner's) from AGORA_IEXEC__WORKERPOOL__WORKER_KEY.
    #[arg(long)]
    workerpool: Option<String>,
}

impl WorkerpoolFlags {
    fn to_config(&self) -> Value {
        let mut out = self.common.to_config();
        if let Some(v) = &self.hub {
            set(&mut out, &["iexec", "hub"], v.as_str().into());
        }
        if let Some(v) = &self.workerpool {
            set(&mut out, &["iexec", "workerpool_address"], v.as_str().into());
        }
        out
    }
}

#[derive(Subcommand)]
enum Command {
    /// Bring everything up: chain (embedded unless --rpc-url), indexer, HTTP API.
    Up(Overrides),
    /// Serve the HTTP API alone against a running deployment (--rpc-url, its deployments file and
    /// database), with live events from the indexing node through Redis (`[redis] url`).
    Serve(Overrides),
    /// Run only the indexer against --rpc-url and the deployments file.
    Index(Overrides),
    /// Run one worker of an iExec workerpool against --rpc-url and --hub: it registers the pool if
    /// needed, keeps its stake, signs its orders, and runs the tasks of its deals on the local
    /// executor (`agora up` runs one on the dev chain by itself).
    Workerpool(WorkerpoolFlags),
    /// Deploy the contracts to a chain and write the deployments file.
    Deploy {
        #[arg(long, env = "AGORA_CHAIN__RPC_URL")]
        rpc_url: String,
        /// The deployer's private key; it becomes the contracts' owner.
        #[arg(long, env = "AGORA_DEPLOYER_KEY", hide_env_values = true)]
        deployer_key: String,
        /// The backend's address, allowed to start, complete and fail tasks.
        #[arg(long)]
        operator: agora_node::Address,
        #[arg(long, default_value = ".agora/deployments.json")]
        out: PathBuf,
    },
    /// A payment channel's steps: open (with a fresh session key), top-up, extend, show, settle
    /// (the payee), reclaim (the payer, after expiry).
    Channel {
        #[command(subcommand)]
        cmd: channel::ChannelCmd,
        #[command(flatten)]
        flags: channel::ClientFlags,
    },
    /// Ask the node's AI assistant; the reply streams here and each chunk is paid from the
    /// channel's session key once its price checks out.
    Chat {
        #[command(flatten)]
        args: chat::ChatArgs,
        #[command(flatten)]
        flags: channel::ClientFlags,
    },
    /// Sell the files of a directory in the data market: register in the DataMarket registry when
    /// needed, serve buyers over TCP, end and settle each order with the buyer's highest ACK. The
    /// key comes from `[data] seller_key` (AGORA_DATA__SELLER_KEY).
    Seller(data::SellerArgs),
    /// Buy an item from a data seller found in the registry: open the order on chain (ETH or a
    /// token), receive it into a file with a progress line, --resume after an interruption, --rate.
    Buyer {
        #[command(flatten)]
        args: data::BuyerArgs,
        #[command(flatten)]
        flags: channel::ClientFlags,
    },
    /// The federated-learning market: create a task, join, leave, buy blocks, verify a finished
    /// task's contributions and payouts, claim a reward, withdraw dividends, pay for a prediction.
    Fl {
        #[command(subcommand)]
        cmd: fl::FlCmd,
        #[command(flatten)]
        flags: channel::ClientFlags,
    },
    /// The community task market: publish a task with an escrowed reward, accept, submit, approve
    /// or reject, dispute and resolve, cancel, refund, approve a lapsed review, show, withdraw.
    Board {
        #[command(subcommand)]
        cmd: board::BoardCmd,
        #[command(flatten)]
        flags: channel::ClientFlags,
    },
    /// The task market's communities: create, join, leave, admins, points, transfers, the task
    /// board's minting budget, show.
    Community {
        #[command(subcommand)]
        cmd: community::CommunityCmd,
        #[command(flatten)]
        flags: channel::ClientFlags,
    },
    /// Train in a federated-learning task: sign in to its coordinator, train each round on the
    /// blocks you hold, send the updates; prints each round and the final report.
    FlClient(fl::ClientArgs),
}

#[tokio::main]
async fn main() -> Result<()> {
    // Logs on standard error: standard output carries the commands' results (JSON lines with --json).
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn,sqlx=warn,alloy=warn,llama_cpp_2=error".into()),
        )
        .init();
    let cli = Cli::parse();
    let client = match cli.command {
        Command::Channel { cmd, flags } => {
            let out = out::Out { json: flags.json };
            Some((out, channel::run(cmd, &flags, out).await))
        }
        Command::Chat { args, flags } => {
            let out = out::Out { json: flags.json };
            Some((out, chat::run(args, &flags, out).await))
        }
        Command::Seller(args) => {
            let out = args.out();
            Some((out, data::seller(&cli.config, args, shutdown_signal()).await))
        }
        Command::Buyer { args, flags } => {
            let out = out::Out { json: flags.json };
            Some((out, data::buyer(args, &flags, out).await))
        }
        Command::Fl { cmd, flags } => {
            let out = out::Out { json: flags.json };
            Some((out, fl::run(cmd, &flags, out).await))
        }
        Command::Board { cmd, flags } => {
            let out = out::Out { json: flags.json };
            Some((out, board::run(cmd, &flags, out).await))
        }
        Command::Community { cmd, flags } => {
            let out = out::Out { json: flags.json };
            Some((out, community::run(cmd, &flags, out).await))
        }
        Command::FlClient(args) => {
            let out = out::Out { json: args.json };
            Some((out, fl::client(args, out).await))
        }
        command => {
            serve(&cli.config, command).await?;
            None
        }
    };
    if let Some((out, Err(failure))) = client {
        out.fail(&failure);
        std::process::exit(1);
    }
    Ok(())
}

/// The node's commands: `up`, `index`, `workerpool`, `deploy`.
async fn serve(cli_config: &std::path::Path, command: Command) -> Result<()> {
    match command {
        Command::Up(o) => {
            let config = Config::load(cli_config, o.to_config())?;
            let node = agora_node::up(&config).await?;
            if let Some(chain) = node.dev_chain() {
                tracing::info!(
                    rpc = chain.rpc_url(),
                    "embedded dev chain ready ({} dev accounts in {}/dev.json)",
                    chain.accounts().len(),
                    config.data_dir.display()
                );
            }
            tracing::info!(chain_id = node.network.chain_id, market = %node.network.compute_market, "indexing");
            println!("Agora is up: {}", node.api_url);
            shutdown_signal().await;
            tracing::info!("shutting down");
            node.shutdown().await?;
        }
        Command::Serve(o) => {
            let config = Config::load(cli_config, o.to_config())?;
            let node = agora_node::serve(&config).await?;
            println!("Agora is up: {}", node.api_url);
            shutdown_signal().await;
            node.shutdown().await?;
        }
        Command::Index(o) => {
            let config = Config::load(cli_config, o.to_config())?;
            agora_node::index(&config, shutdown_signal()).await?;
        }
        Command::Workerpool(flags) => {
            let config = Config::load(cli_config, flags.to_config())?;
            agora_node::workerpool(&config, shutdown_signal()).await?;
        }
        Command::Deploy { rpc_url, deployer_key, operator, out } => {
            let d = agora_node::deploy(&rpc_url, &deployer_key, operator, &out).await?;
            println!(
                "ComputeMarket {} and MarketToken {} on chain {}; wrote {}",
                d.compute_market,
                d.market_token,
                d.chain_id,
                out.display()
            );
        }
        Command::Channel { .. }
        | Command::Chat { .. }
        | Command::Seller(_)
        | Command::Buyer { .. }
        | Command::Fl { .. }
        | Command::Board { .. }
        | Command::Community { .. }
        | Command::FlClient(_) => {}
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
