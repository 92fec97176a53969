//! Agora's compute backend on iExec: a ComputeMarket task of an iExec-backed service becomes an
//! iExec deal made with the real `iexec` CLI (`cli.rs`), and its outcome comes back as a
//! result CID or a failure reason for the scheduler to settle on ComputeMarket.
//!
//! For each task: the service's app is deployed once (`iexec app deploy`, by the provider's
//! wallet) and its app order signed (`iexec order sign --app`); a request order carrying the task's
//! input is signed by the requester's wallet (`iexec order sign --request`) and recorded with its
//! EIP-712 hash *before* it is filled; the requester's iExec account is topped up when it cannot pay
//! (`iexec account deposit`); the app order, the workerpool's current order and the request order
//! are filled (`iexec order fill`) into a deal whose task is then polled (`iexec task show`). A
//! COMPLETED task's result archive is fetched with `iexec task show --download` (from the chain's
//! IPFS gateway: on the dev chain, this node's API), its output (computed.json's deterministic
//! output) stored in the content store, and its CID returned. A task that reaches its final
//! deadline first — judged by chain time, as PoCo does — is claimed on the hub directly (the CLI
//! judges deadlines by the wall clock), which refunds the requester on iExec, and the job fails
//! with a reason. Reads that need no wallet (the account's stake, the deal's deadline, whether an
//! order was consumed) go to the hub directly: the same answers, without a 2 s CLI start each.
//!
//! The files: `cli.rs` runs the CLI; `job.rs` is the job's life, one recorded step at a time;
//! `app.rs` deploys a service's app and signs its app order; `request.rs` builds and signs the
//! request order; `deal.rs` fills the orders into a deal, reads its deadline, claims it and
//! fetches its result.
//!
//! Crash safety: a deal's id is `keccak256(requestHash ‖ 0)` for a fresh request order of volume
//! 1, so a backend restarted after `order fill` finds the deal from the recorded order (the hub's
//! `viewConsumed`) instead of making a second one; the order itself can be filled only once.
//! Every step is recorded in the store before the next begins.

pub(crate) mod cli;

mod app;
mod deal;
mod job;
mod request;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use agora_chain::Sender;
use agora_content::{AnyStore, Cid};
use agora_store::{IexecJobRow, Store};
use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider};
use alloy::sol_types::Eip712Domain;
use serde_json::{Value, json};
use tokio::sync::{Mutex, OnceCell};

use crate::bindings::IexecHub;
use crate::{Error, Result};
use cli::Cli;

/// The app a service runs on iExec, as registered in the app registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSpec {
    /// What the workerpool resolves to an executable, e.g. `agora:wordcount`.
    pub multiaddr: String,
    /// `0x` + the SHA-256 of the app (the wasm module), or zero when not checked.
    pub checksum: B256,
}

/// What [`Backend::start`] needs: where iExec is, the two wallets, the apps, and how to poll.
#[derive(Debug, Clone)]
pub struct BackendConfig {
    /// Agora's chain (where ComputeMarket lives); the store keys jobs by it.
    pub chain_id: u64,
    /// The `iexec` executable (`node_modules/.bin/iexec`).
    pub cli: PathBuf,
    /// Working directories (wallets, `iexec.json`, `orders.json`) and downloaded results.
    pub work_dir: PathBuf,
    /// A `chain.json` to use as it is (a real iExec chain); `None`: one is written for `rpc_url`
    /// and `hub` with `api_url` as the IPFS gateway (the dev chain).
    pub chain_json: Option<PathBuf>,
    /// The chain's name in `chain.json`.
    pub chain_name: String,
    /// JSON-RPC of the chain iExec runs on (direct hub reads and claims).
    pub rpc_url: String,
    /// The iExec hub (PoCo's diamond) on that chain; [`Backend::start`] fails if none answers there.
    pub hub: Address,
    /// The wallet that signs request orders and pays for deals (its iExec account): its key's
    /// one sender in the node, held while the CLI transacts with the same key.
    pub requester: Sender,
    /// The apps' owner (deploys them, signs their app orders), likewise.
    pub app_owner: Sender,
    /// Only this workerpool's orders are used; `None`: the first order of the right category.
    pub workerpool: Option<Address>,
    /// The workerpool's signed orders: a JSON array (or one order) in the CLI's format.
    pub workerpool_orders: PathBuf,
    /// Apps by the name services give in their metadata (`"app":"wordcount"`).
    pub apps: BTreeMap<String, AppSpec>,
    /// The node's API: task inputs are handed to workers as `<api_url>/ipfs/<cid>`.
    pub api_url: String,
    /// Time between `iexec task show` polls.
    pub poll: Duration,
    /// When the requester's iExec account cannot pay for a task, it is topped up by this many
    /// tasks' worth at once.
    pub deposit_tasks: u64,
    /// Crash tests: abort right after this point (`iexec-app-deployed`, `iexec-signed`,
    /// `iexec-filled`, `iexec-deal`, `iexec-completed`, `iexec-claim-sent`).
    pub failpoint: Option<String>,
    /// Told the ComputeMarket task id each time a task's iExec state is recorded (live pages).
    pub updates: Option<tokio::sync::broadcast::Sender<u64>>,
}

/// One iExec-backed ComputeMarket task, as the scheduler hands it over.
#[derive(Debug, Clone)]
pub(crate) struct IexecRequest<'a> {
    /// The ComputeMarket task id; the iExec job is recorded under it.
    pub(crate) task_id: u64,
    /// The service the task was bought from; its iExec app is deployed once per service.
    pub(crate) service_id: u64,
    /// A key of [`BackendConfig::apps`].
    pub(crate) app: &'a str,
    /// The iExec category (work clock) to buy the deal in, from the service's runtime.
    pub(crate) category: u64,
    /// The task's input: a CID of content in the store, or text.
    pub(crate) input: &'a str,
}

/// How an iExec task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// COMPLETED; the output is in the content store under `cid`.
    Completed { cid: Cid },
    /// Claimed after its deadline, or unrunnable (bad input); `reason` is for people.
    Failed { reason: String },
}

/// The requester side of iExec for one node: turns ComputeMarket tasks into deals made with the
/// `iexec` CLI and follows them to their end, recording each step in the store. See the module
/// docs.
pub struct Backend {
    cfg: BackendConfig,
    cli: Cli,
    store: Store,
    content: Arc<AnyStore>,
    reader: DynProvider,
    requester: Address,
    app_owner: Address,
    requester_dir: PathBuf,
    provider_dir: PathBuf,
    iexec_chain_id: u64,
    /// The requester's calls that read or write its working directory's order files, and its
    /// transactions, one at a time (the CLI and alloy both pick nonces from the node).
    requester_lock: Mutex<()>,
    /// The provider's deploys and signatures, one at a time.
    provider_lock: Mutex<()>,
    domain: OnceCell<Eip712Domain>,
    wallets: OnceCell<()>,
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

/// A sender's private key as hex, for the CLI's wallet.
fn key_hex(sender: &Sender) -> String {
    format!("0x{}", alloy::primitives::hex::encode(sender.signer().to_bytes()))
}

fn hex_addr(a: Address) -> String {
    a.to_string().to_ascii_lowercase()
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::Invalid(msg.into())
}

impl Backend {
    /// Prepares the working directories (`chain.json`), checks that a hub answers at `hub`, and
    /// starts importing the two wallets with the CLI in the background.
    pub async fn start(cfg: BackendConfig, store: Store, content: Arc<AnyStore>) -> Result<Arc<Self>> {
        let reader = agora_chain::read_provider(&cfg.rpc_url)?;
        let iexec_chain_id = reader.get_chain_id().await?;
        let hub = IexecHub::new(cfg.hub, reader.clone());
        let token = hub.token().call().await.map_err(|e| crate::tx::call_error("hub.token()", e))?;
        if token == Address::ZERO {
            return Err(invalid(format!("no configured iExec hub at {} on chain {iexec_chain_id}", cfg.hub)));
        }
        let cli = Cli::new(&cfg.cli, &cfg.chain_name);
        let requester_dir = cfg.work_dir.join("requester");
        let provider_dir = cfg.work_dir.join("provider");
        let chain_json = chain_json(&cfg, iexec_chain_id).await?;
        for dir in [&requester_dir, &provider_dir] {
            tokio::fs::create_dir_all(dir).await?;
            tokio::fs::write(dir.join("chain.json"), &chain_json).await?;
        }
        let requester = cfg.requester.address();
        let app_owner = cfg.app_owner.address();
        let backend = Arc::new(Self {
            cfg,
            cli,
            store,
            content,
            reader,
            requester,
            app_owner,
            requester_dir,
            provider_dir,
            iexec_chain_id,
            requester_lock: Mutex::new(()),
            provider_lock: Mutex::new(()),
            domain: OnceCell::new(),
            wallets: OnceCell::new(),
        });
        // Importing the wallets takes the CLI a few seconds: done now, in the background, so the
        // first task does not wait for it (it awaits the same once-cell).
        let warm = backend.clone();
        tokio::spawn(async move {
            if let Err(e) = warm.ensure_wallets().await {
                tracing::warn!(error = %e, "importing the iExec wallets failed; the first task retries");
            }
        });
        Ok(backend)
    }

    /// Imports the two wallets with the CLI (once; a `wallet.json` already there is kept).
    async fn ensure_wallets(&self) -> Result<()> {
        self.wallets
            .get_or_try_init(|| async {
                self.cli.import_wallet(&self.requester_dir, &key_hex(&self.cfg.requester)).await?;
                self.cli.import_wallet(&self.provider_dir, &key_hex(&self.cfg.app_owner)).await?;
                Ok::<_, Error>(())
            })
            .await?;
        Ok(())
    }

    /// Gets a service ready before its first task: the wallets imported, its app deployed and the
    /// app order signed (a few CLI calls the first task then need not wait for).
    pub(crate) async fn prepare(&self, service_id: u64, app: &str) -> Result<()> {
        self.ensure_wallets().await?;
        self.ensure_app(service_id, app).await?;
        Ok(())
    }

    /// Whether this backend can run `app` (a name from a service's metadata).
    pub(crate) fn serves(&self, app: &str) -> bool {
        self.cfg.apps.contains_key(app)
    }

    /// The requester wallet's address: it signs request orders and pays for deals from its iExec
    /// account.
    pub fn requester(&self) -> Address {
        self.requester
    }

    /// The hub, for reads.
    fn hub(&self) -> IexecHub::IexecHubInstance<&DynProvider> {
        IexecHub::new(self.cfg.hub, &self.reader)
    }

    fn failpoint(&self, point: &str) {
        if self.cfg.failpoint.as_deref() == Some(point) {
            tracing::error!("failpoint {point} reached: aborting");
            std::process::abort();
        }
    }

    async fn save(&self, job: &IexecJobRow) -> Result<()> {
        self.store.put_iexec_job(self.cfg.chain_id, job, now()).await?;
        if let Some(updates) = &self.cfg.updates {
            // Nobody listening is fine.
            let _ = updates.send(job.task_id);
        }
        Ok(())
    }

    /// Drives the task's iExec deal until it ends, recording each step; resumes from the record.
    /// An error (a CLI call that failed, the chain unreachable) comes back after one poll interval,
    /// so a caller that simply retries does not hammer the CLI.
    pub(crate) async fn run(&self, req: &IexecRequest<'_>) -> Result<Outcome> {
        let outcome = self.drive(req).await;
        if outcome.is_err() {
            tokio::time::sleep(self.cfg.poll).await;
        }
        outcome
    }
}

/// The `chain.json` the CLI is given: the configured file as it is (a real iExec chain), else
/// one naming this chain, the hub, and the node's API as the IPFS gateway (the dev chain).
async fn chain_json(cfg: &BackendConfig, iexec_chain_id: u64) -> Result<Vec<u8>> {
    if let Some(path) = &cfg.chain_json {
        return tokio::fs::read(path)
            .await
            .map_err(|e| invalid(format!("cannot read the iExec chain.json {}: {e}", path.display())));
    }
    Ok(serde_json::to_vec_pretty(&json!({
        "default": cfg.chain_name,
        "chains": { cfg.chain_name.clone(): {
            "id": iexec_chain_id.to_string(),
            "host": cfg.rpc_url,
            "hub": hex_addr(cfg.hub),
            // Not used by this backend (no secrets, no result encryption, no marketplace); the
            // CLI's schema wants them.
            "sms": "http://127.0.0.1:13300",
            "ipfsGateway": cfg.api_url.trim_end_matches('/'),
            "iexecGateway": "http://127.0.0.1:3000",
        }},
    }))?)
}

fn ids(job: &IexecJobRow) -> Result<(B256, B256)> {
    job.deal_id.zip(job.iexec_task_id).ok_or_else(|| invalid(format!("iExec job of task {} has no deal", job.task_id)))
}

async fn write_json(path: &Path, value: &Value) -> Result<()> {
    tokio::fs::write(path, serde_json::to_vec_pretty(value)?).await?;
    Ok(())
}
