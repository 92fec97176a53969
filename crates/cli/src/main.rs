//! The `agora` command: argument parsing and wiring only.

use std::net::SocketAddr;
use std::path::PathBuf;

use agora_node::Config;
use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use serde::Serialize;

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
#[derive(Args, Serialize, Default)]
struct Overrides {
    /// EVM JSON-RPC URL; without it `up` starts the embedded anvil dev chain.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    rpc_url: Option<String>,
    /// Deployments file written by `agora deploy`.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    deployments: Option<PathBuf>,
    /// sqlite://… or postgres://…
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    database_url: Option<String>,
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<PathBuf>,
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    http_addr: Option<SocketAddr>,
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    confirmations: Option<u64>,
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    batch_blocks: Option<u64>,
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    anvil_port: Option<u16>,
}

/// `agora workerpool`'s flags: the common ones, and where the pool is.
#[derive(Args, Serialize, Default)]
struct WorkerpoolFlags {
    #[command(flatten)]
    #[serde(flatten)]
    common: Overrides,
    /// The iExec hub (PoCo's diamond).
    #[arg(long)]
    #[serde(rename = "iexec_hub", skip_serializing_if = "Option::is_none")]
    hub: Option<String>,
    /// The workerpool to serve; without it, the owner's pool registered under the description
    /// (`iexec_workerpool_description`), registered now if there is none. The owner's key comes
    /// from AGORA_IEXEC_WORKERPOOL_KEY, this worker's (default: the owner's) from AGORA_IEXEC_WORKER_KEY.
    #[arg(long)]
    #[serde(rename = "iexec_workerpool", skip_serializing_if = "Option::is_none")]
    workerpool: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Bring everything up: chain (embedded unless --rpc-url), indexer, HTTP API.
    Up(Overrides),
    /// Run only the indexer against --rpc-url and the deployments file.
    Index(Overrides),
    /// Run one worker of an iExec workerpool against --rpc-url and --hub: it registers the pool if
    /// needed, keeps its stake, signs its orders, and runs the tasks of its deals on the local
    /// executor (`agora up` runs one on the dev chain by itself).
    Workerpool(WorkerpoolFlags),
    /// Deploy the contracts to a chain and write the deployments file.
    Deploy {
        #[arg(long, env = "AGORA_RPC_URL")]
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
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn,sqlx=warn,alloy=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Up(o) => {
            let config = Config::load(&cli.config, o)?;
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
        Command::Index(o) => {
            let config = Config::load(&cli.config, o)?;
            agora_node::index(&config, shutdown_signal()).await?;
        }
        Command::Workerpool(flags) => {
            let config = Config::load(&cli.config, flags)?;
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
