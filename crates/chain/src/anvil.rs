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
    /// The account's address, `0x`-prefixed hex as anvil reports it.
    pub address: String,
    /// Its private key, `0x`-prefixed hex; anvil derives it from a public test mnemonic.
    pub private_key: String,
}

/// How to start anvil.
#[derive(Debug, Clone)]
pub struct AnvilOptions {
    /// The anvil executable to run (usually [`ANVIL_NPM_PATH`] under the repository root).
    pub binary: PathBuf,
    /// 0: any free port, chosen by anvil as it binds (see [`Anvil::url`]).
    pub port: u16,
    /// The chain id anvil serves; start-up fails with [`Error::WrongChain`] if it answers another.
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

/// Finds anvil in `node_modules` of `root` or one of its parents.
pub fn locate_anvil(root: &Path) -> Option<PathBuf> {
    root.ancestors().map(|d| d.join(ANVIL_NPM_PATH)).find(|p| p.is_file())
}

/// How long anvil may take to start.
const START_LIMIT: Duration = Duration::from_secs(30);

/// What anvil prints once it listens, before the address.
const LISTENING: &str = "Listening on ";

/// Reads anvil's output until it says where it listens; then keeps draining it in the background
/// (anvil logs every request, and a full pipe would stall it). Returns the address, or the
/// output so far when anvil closed it first.
async fn listening_addr(stdout: tokio::process::ChildStdout) -> Result<String, String> {
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let mut seen = String::new();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(addr) = line.trim().strip_prefix(LISTENING) {
            let addr = addr.trim().to_owned();
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return Ok(addr);
        }
        if seen.len() < 4096 {
            seen.push_str(&line);
            seen.push('\n');
        }
    }
    Err(seen)
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
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // No --code-size-limit: the dev chain keeps EIP-170's 24,576 bytes, so a contract too large
        // for a public chain fails to deploy here too.
        if let Some(t) = opts.block_time {
            cmd.arg("--block-time").arg(t.to_string());
        }
        let mut child =
            cmd.spawn().map_err(|e| Error::Anvil(format!("cannot start {}: {e}", opts.binary.display())))?;
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let stdout = stdout.ok_or_else(|| Error::Anvil("no stdout".into()))?;
        // Port 0 lets anvil bind any free port itself (no race with another process picking the
        // same one); it says which in its output.
        let addr = match tokio::time::timeout(START_LIMIT, listening_addr(stdout)).await {
            Ok(Ok(addr)) => addr,
            Ok(Err(output)) => {
                let mut err = String::new();
                if let Some(mut stderr) = stderr {
                    use tokio::io::AsyncReadExt;
                    let _ = stderr.read_to_string(&mut err).await;
                }
                let status = child.wait().await?;
                return Err(Error::Anvil(format!(
                    "exited during start-up with {status}: {}{}",
                    err.trim(),
                    output.trim()
                )));
            }
            Err(_) => return Err(Error::Anvil(format!("did not listen within {} s", START_LIMIT.as_secs()))),
        };
        if let Some(mut stderr) = stderr {
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut stderr, &mut tokio::io::sink()).await;
            });
        }
        let url = format!("http://{addr}");
        let provider = read_provider(&url)?;
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait()? {
                return Err(Error::Anvil(format!("exited during start-up with {status}")));
            }
            if config_out.is_file()
                && let Ok(id) = provider.get_chain_id().await
            {
                if id != opts.chain_id {
                    return Err(Error::WrongChain { expected: opts.chain_id, actual: id });
                }
                break;
            }
            if started.elapsed() > START_LIMIT {
                return Err(Error::Anvil(format!("did not answer within {} s", START_LIMIT.as_secs())));
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

    /// Starts anvil on a port of its choosing with default options (tests).
    pub async fn spawn_default(binary: PathBuf) -> Result<Self> {
        Self::spawn(&AnvilOptions { binary, port: 0, chain_id: 31337, block_time: None }).await
    }

    /// The HTTP JSON-RPC URL anvil listens on (`http://127.0.0.1:<port>`, the port it bound).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The chain id it serves (checked at start-up).
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
