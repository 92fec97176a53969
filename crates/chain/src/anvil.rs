//! The embedded dev chain: anvil from `node_modules`, run as a child process that dies with us.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use alloy::providers::Provider;
use serde::Deserialize;
use tokio::process::{Child, Command};

use crate::{Error, Result, read_provider};

/// Where `npm ci` puts anvil, relative to the repository root.
pub const ANVIL_NPM_PATH: &str = "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil";

/// A funded account of the dev chain. Its key is only meaningful on that local chain.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DevAccount {
    pub address: String,
    pub private_key: String,
}

#[derive(Debug, Clone)]
pub struct AnvilOptions {
    pub binary: PathBuf,
    pub port: u16,
    pub chain_id: u64,
    /// Seconds between blocks; `None` mines each transaction at once.
    pub block_time: Option<u64>,
}

/// A running anvil. Killed when dropped.
#[derive(Debug)]
pub struct Anvil {
    child: Child,
    url: String,
    chain_id: u64,
    accounts: Vec<DevAccount>,
    _config_dir: tempfile::TempDir,
}

#[derive(Deserialize)]
struct ConfigOut {
    available_accounts: Vec<String>,
    private_keys: Vec<String>,
}

/// Finds anvil: `$AGORA_ANVIL`, else `node_modules/…/anvil` in `root` or one of its parents.
pub fn locate_anvil(root: &Path) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("AGORA_ANVIL") {
        return Some(PathBuf::from(p));
    }
    root.ancestors().map(|d| d.join(ANVIL_NPM_PATH)).find(|p| p.is_file())
}

/// A TCP port nobody listens on right now.
pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Anvil {
    /// Starts anvil and waits until it answers RPC calls.
    pub async fn spawn(opts: &AnvilOptions) -> Result<Self> {
        let config_dir = tempfile::Builder::new().prefix("agora-anvil-").tempdir()?;
        let config_out = config_dir.path().join("anvil.json");
        let mut cmd = Command::new(&opts.binary);
        cmd.arg("--host")
            .arg("127.0.0.1")
            .arg("--port")
            .arg(opts.port.to_string())
            .arg("--chain-id")
            .arg(opts.chain_id.to_string())
            .arg("--config-out")
            .arg(&config_out)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        if let Some(t) = opts.block_time {
            cmd.arg("--block-time").arg(t.to_string());
        }
        let mut child =
            cmd.spawn().map_err(|e| Error::Anvil(format!("cannot start {}: {e}", opts.binary.display())))?;
        let url = format!("http://127.0.0.1:{}", opts.port);
        let provider = read_provider(&url)?;
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait()? {
                return Err(Error::Anvil(format!("exited during start-up with {status} (port {} taken?)", opts.port)));
            }
            if config_out.is_file()
                && let Ok(id) = provider.get_chain_id().await
            {
                if id != opts.chain_id {
                    return Err(Error::WrongChain { expected: opts.chain_id, actual: id });
                }
                break;
            }
            if started.elapsed() > Duration::from_secs(20) {
                return Err(Error::Anvil("did not answer within 20 s".into()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let out: ConfigOut = serde_json::from_slice(&std::fs::read(&config_out)?)?;
        let accounts = out
            .available_accounts
            .into_iter()
            .zip(out.private_keys)
            .map(|(address, private_key)| DevAccount { address, private_key })
            .collect();
        Ok(Self { child, url, chain_id: opts.chain_id, accounts, _config_dir: config_dir })
    }

    /// Starts anvil on a free port with default options (tests).
    pub async fn spawn_default(binary: PathBuf) -> Result<Self> {
        Self::spawn(&AnvilOptions { binary, port: free_port()?, chain_id: 31337, block_time: None }).await
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The funded dev accounts, in anvil's order.
    pub fn accounts(&self) -> &[DevAccount] {
        &self.accounts
    }

    /// Stops anvil and waits for it to exit.
    pub async fn stop(mut self) -> Result<()> {
        self.child.kill().await?;
        Ok(())
    }
}
