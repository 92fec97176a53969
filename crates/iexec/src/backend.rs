//! Agora's compute backend on iExec: a ComputeMarket task of an iExec-backed service becomes an
//! iExec deal made with the real `iexec` CLI ([`crate::cli`]), and its outcome comes back as a
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
//! Crash safety: a deal's id is `keccak256(requestHash ‖ 0)` for a fresh request order of volume
//! 1, so a backend restarted after `order fill` finds the deal from the recorded order (the hub's
//! `viewConsumed`) instead of making a second one; the order itself can be filled only once.
//! Every step is recorded in the store before the next begins.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use agora_content::{AnyStore, Cid, ContentStore};
use agora_store::{IexecAppRow, IexecJobRow, Store};
use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256, Signature, U256, keccak256};
use alloy::providers::{DynProvider, Provider};
use alloy::sol_types::{Eip712Domain, SolStruct};
use serde_json::{Value, json};
use tokio::sync::{Mutex, OnceCell};

use crate::bindings::{IexecHub, RequestOrder};
use crate::cli::{Cli, TaskInfo, status_name};
use crate::{Error, Result};

/// The app a service runs on iExec, as registered in the app registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSpec {
    /// What the workerpool resolves to an executable, e.g. `agora:wordcount`.
    pub multiaddr: String,
    /// `0x` + the SHA-256 of the app (the wasm module), or zero when not checked.
    pub checksum: B256,
}

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
    pub hub: Address,
    /// Key of the wallet that signs request orders and pays for deals (its iExec account).
    pub requester_key: String,
    /// Key of the apps' owner (deploys them, signs their app orders).
    pub app_owner_key: String,
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
pub struct IexecRequest<'a> {
    pub task_id: u64,
    pub service_id: u64,
    /// A key of [`BackendConfig::apps`].
    pub app: &'a str,
    pub category: u64,
    /// The task's input: a CID of content in the store, or text.
    pub input: &'a str,
}

/// How an iExec task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// COMPLETED; the output is in the content store under `cid`.
    Completed { cid: Cid },
    /// Claimed after its deadline, or unrunnable (bad input); `reason` is for people.
    Failed { reason: String },
}

pub struct Backend {
    cfg: BackendConfig,
    cli: Cli,
    store: Store,
    content: Arc<AnyStore>,
    reader: DynProvider,
    requester_tx: DynProvider,
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
        let requester_signer = agora_chain::signer_from_key(&cfg.requester_key)?;
        let requester_tx = agora_chain::signing_provider(&cfg.rpc_url, requester_signer.clone())?;
        let cli = Cli::new(&cfg.cli, &cfg.chain_name);
        let requester_dir = cfg.work_dir.join("requester");
        let provider_dir = cfg.work_dir.join("provider");
        let chain_json = match &cfg.chain_json {
            Some(path) => tokio::fs::read(path)
                .await
                .map_err(|e| invalid(format!("cannot read the iExec chain.json {}: {e}", path.display())))?,
            None => serde_json::to_vec_pretty(&json!({
                "default": cfg.chain_name,
                "chains": { cfg.chain_name.clone(): {
                    "id": iexec_chain_id.to_string(),
                    "host": cfg.rpc_url,
                    "hub": hex_addr(cfg.hub),
                    // Not used by this backend (no secrets, no result encryption, no marketplace);
                    // the CLI's schema wants them.
                    "sms": "http://127.0.0.1:13300",
                    "ipfsGateway": cfg.api_url.trim_end_matches('/'),
                    "iexecGateway": "http://127.0.0.1:3000",
                }},
            }))?,
        };
        for dir in [&requester_dir, &provider_dir] {
            tokio::fs::create_dir_all(dir).await?;
            tokio::fs::write(dir.join("chain.json"), &chain_json).await?;
        }
        let requester = requester_signer.address();
        let app_owner = agora_chain::signer_from_key(&cfg.app_owner_key)?.address();
        let backend = Arc::new(Self {
            cfg,
            cli,
            store,
            content,
            reader,
            requester_tx,
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
                self.cli.import_wallet(&self.requester_dir, &self.cfg.requester_key).await?;
                self.cli.import_wallet(&self.provider_dir, &self.cfg.app_owner_key).await?;
                Ok::<_, Error>(())
            })
            .await?;
        Ok(())
    }

    /// Gets a service ready before its first task: the wallets imported, its app deployed and the
    /// app order signed (a few CLI calls the first task then need not wait for).
    pub async fn prepare(&self, service_id: u64, app: &str) -> Result<()> {
        self.ensure_wallets().await?;
        self.ensure_app(service_id, app).await?;
        Ok(())
    }

    /// Whether this backend can run `app` (a name from a service's metadata).
    pub fn serves(&self, app: &str) -> bool {
        self.cfg.apps.contains_key(app)
    }

    pub fn requester(&self) -> Address {
        self.requester
    }

    /// `iexec` processes started so far.
    pub fn cli_calls(&self) -> u64 {
        self.cli.calls()
    }

    fn hub_key(&self) -> String {
        hex_addr(self.cfg.hub)
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
    pub async fn run(&self, req: &IexecRequest<'_>) -> Result<Outcome> {
        let outcome = self.drive(req).await;
        if outcome.is_err() {
            tokio::time::sleep(self.cfg.poll).await;
        }
        outcome
    }

    async fn drive(&self, req: &IexecRequest<'_>) -> Result<Outcome> {
        let chain = self.cfg.chain_id;
        self.ensure_wallets().await?;
        let mut job = match self.store.iexec_job(chain, req.task_id).await? {
            Some(job) => job,
            None => {
                // A bad input fails before anything is deployed or signed.
                if let Err(reason) = self.params_for(req.input).await? {
                    return Ok(Outcome::Failed { reason });
                }
                let (app, _) = self.ensure_app(req.service_id, req.app).await?;
                let job = IexecJobRow::new(req.task_id, &self.hub_key(), &hex_addr(app));
                self.save(&job).await?;
                job
            }
        };
        // The first status seen by this run is logged even when it is the recorded one.
        let mut announced = false;
        let calls_before = self.cli.calls();
        loop {
            match job.status.as_str() {
                "NEW" => {
                    let params = match self.params_for(req.input).await? {
                        Ok(p) => p,
                        Err(reason) => return Ok(Outcome::Failed { reason }),
                    };
                    let (app, apporder) = self.ensure_app(req.service_id, req.app).await?;
                    let workerpoolorder = self.workerpool_order(req.category).await?;
                    let (order, hash) = self.sign_request(req, app, &apporder, &workerpoolorder, params).await?;
                    job.app = hex_addr(app);
                    job.requestorder = Some(order.to_string());
                    job.request_hash = Some(hash.to_string());
                    job.status = "SIGNED".into();
                    self.save(&job).await?;
                    self.failpoint("iexec-signed");
                }
                "SIGNED" => {
                    let deal = self.find_or_fill(req, &job).await?;
                    // The deal's only task (a request order of volume 1 starts at index 0) and its
                    // final deadline, read from the hub as PoCo will judge it.
                    let task = crate::poco::task_id(deal, U256::ZERO);
                    job.deal_id = Some(deal.to_string());
                    job.iexec_task_id = Some(task.to_string());
                    job.final_deadline = Some(self.final_deadline(deal).await?);
                    job.status = status_name(0).into();
                    self.save(&job).await?;
                    self.failpoint("iexec-deal");
                }
                "UNSET" | "ACTIVE" | "REVEALING" => {
                    let (deal, task) = ids(&job)?;
                    let seen = self.cli.task_show(&self.requester_dir, task).await?;
                    if seen.status_name != job.status || !announced {
                        announced = true;
                        tracing::info!("iExec deal {deal} task {task} status={}", seen.status_name);
                        if seen.status_name != job.status {
                            self.record(&mut job, &seen).await?;
                            if seen.status == 3 {
                                self.failpoint("iexec-completed");
                            }
                            continue;
                        }
                    }
                    let deadline = job.final_deadline.unwrap_or(u64::MAX);
                    if self.deadline_reached(deadline).await? && self.claim(deal, task, seen.status).await? {
                        tracing::info!("iExec task {task} claimed after its final deadline ({deadline})");
                        self.failpoint("iexec-claim-sent");
                        job.status = status_name(4).into();
                        self.save(&job).await?;
                        continue;
                    }
                    tokio::time::sleep(self.cfg.poll).await;
                }
                "COMPLETED" => {
                    let (_, task) = ids(&job)?;
                    let location = job.result_location.clone().unwrap_or_default();
                    return match self.fetch_result(req.task_id, task, &location).await? {
                        Ok(cid) => {
                            let calls = self.cli.calls().saturating_sub(calls_before);
                            tracing::info!(
                                "iExec task {task} COMPLETED result={location} ({calls} iexec CLI calls by this node meanwhile)"
                            );
                            Ok(Outcome::Completed { cid })
                        }
                        Err(reason) => Ok(Outcome::Failed { reason }),
                    };
                }
                "FAILED" => {
                    let (_, task) = ids(&job)?;
                    return Ok(Outcome::Failed {
                        reason: format!("iExec task {task} produced no result before its deadline and was claimed"),
                    });
                }
                other => {
                    return Err(invalid(format!("iExec job of task {} has unknown status {other:?}", req.task_id)));
                }
            }
        }
    }

    async fn record(&self, job: &mut IexecJobRow, seen: &TaskInfo) -> Result<()> {
        job.status = seen.status_name.to_owned();
        if let Some(d) = seen.final_deadline.filter(|d| *d > 0) {
            job.final_deadline = Some(d);
        }
        if seen.status == 3 {
            job.result_location = Some(seen.result_location.clone().unwrap_or_default());
        }
        self.save(job).await
    }

    /// The request's params for `input`: a CID in the content store becomes an input file served
    /// by the node, anything else is passed as `iexec_args`. `Ok(Err(reason))`: a bad input.
    async fn params_for(&self, input: &str) -> Result<Result<Value, String>> {
        let trimmed = input.trim();
        if trimmed.starts_with("baf") || trimmed.starts_with("Qm") {
            let cid: Cid = match trimmed.parse() {
                Ok(c) => c,
                Err(e) => return Ok(Err(format!("bad input: {e}"))),
            };
            if !self.content.has(&cid).await? {
                return Ok(Err(format!("bad input: {cid} is not in the content store")));
            }
            let url = format!("{}/ipfs/{cid}", self.cfg.api_url.trim_end_matches('/'));
            return Ok(Ok(json!({ "iexec_input_files": [url] })));
        }
        Ok(Ok(json!({ "iexec_args": input })))
    }

    /// The service's app, deployed and with a signed app order: from the store, else deployed now.
    async fn ensure_app(&self, service_id: u64, name: &str) -> Result<(Address, Value)> {
        let chain = self.cfg.chain_id;
        let hub = self.hub_key();
        if let Some(row) = self.store.iexec_app(chain, service_id, &hub).await?
            && let Some(order) = &row.apporder
        {
            return Ok((row.address.parse().map_err(|_| invalid("stored app address"))?, serde_json::from_str(order)?));
        }
        let spec = self.cfg.apps.get(name).ok_or_else(|| invalid(format!("no iExec app named {name:?}")))?;
        let _one = self.provider_lock.lock().await;
        let app_json = json!({
            "owner": hex_addr(self.app_owner),
            "name": format!("agora-{name}"),
            "type": "DOCKER",
            "multiaddr": spec.multiaddr,
            "checksum": spec.checksum.to_string(),
        });
        // Someone else may have finished while this waited for the lock.
        let address = match self.store.iexec_app(chain, service_id, &hub).await? {
            Some(IexecAppRow { apporder: Some(order), address, .. }) => {
                return Ok((
                    address.parse().map_err(|_| invalid("stored app address"))?,
                    serde_json::from_str(&order)?,
                ));
            }
            Some(row) => row.address.parse().map_err(|_| invalid("stored app address"))?,
            None => {
                write_json(&self.provider_dir.join("iexec.json"), &json!({ "app": app_json })).await?;
                let address = self.cli.app_deploy(&self.provider_dir).await?;
                let row = IexecAppRow {
                    service_id,
                    hub: hub.clone(),
                    app_name: name.to_owned(),
                    address: hex_addr(address),
                    apporder: None,
                };
                self.store.put_iexec_app(chain, &row, now()).await?;
                tracing::info!("iExec app {address} deployed for service {service_id} ({})", spec.multiaddr);
                self.failpoint("iexec-app-deployed");
                address
            }
        };
        let order = json!({
            "app": hex_addr(address),
            "appprice": "0",
            "volume": "1000000",
            "tag": B256::ZERO.to_string(),
            "datasetrestrict": hex_addr(Address::ZERO),
            "workerpoolrestrict": hex_addr(self.cfg.workerpool.unwrap_or(Address::ZERO)),
            "requesterrestrict": hex_addr(self.requester),
        });
        write_json(&self.provider_dir.join("iexec.json"), &json!({ "app": app_json, "order": { "apporder": order } }))
            .await?;
        let signed = self.cli.sign_apporder(&self.provider_dir).await?;
        let row = IexecAppRow {
            service_id,
            hub,
            app_name: name.to_owned(),
            address: hex_addr(address),
            apporder: Some(signed.to_string()),
        };
        self.store.put_iexec_app(chain, &row, now()).await?;
        Ok((address, signed))
    }

    /// The workerpool's current signed order for `category`.
    async fn workerpool_order(&self, category: u64) -> Result<Value> {
        let path = &self.cfg.workerpool_orders;
        let bytes = tokio::fs::read(path).await.map_err(|e| {
            invalid(format!("no workerpool orders at {} ({e}): is the workerpool running?", path.display()))
        })?;
        let orders = match serde_json::from_slice::<Value>(&bytes)? {
            Value::Array(list) => list,
            one @ Value::Object(_) => vec![one],
            other => {
                return Err(invalid(format!("{}: expected a list of workerpool orders, got {other}", path.display())));
            }
        };
        orders
            .into_iter()
            .rev()
            .find(|o| {
                u256_of(&o["category"]) == Some(U256::from(category))
                    && self
                        .cfg
                        .workerpool
                        .is_none_or(|p| o["workerpool"].as_str().and_then(|a| a.parse().ok()) == Some(p))
            })
            .ok_or_else(|| {
                invalid(format!("the workerpool offers no order for category {category} in {}", path.display()))
            })
    }

    /// Signs the task's request order with the CLI and checks the signature against the order's
    /// EIP-712 hash computed here (the hash the deal id follows from).
    async fn sign_request(
        &self,
        req: &IexecRequest<'_>,
        app: Address,
        apporder: &Value,
        workerpoolorder: &Value,
        params: Value,
    ) -> Result<(Value, B256)> {
        let order = json!({
            "app": hex_addr(app),
            "appmaxprice": apporder["appprice"].as_str().unwrap_or("0"),
            "dataset": hex_addr(Address::ZERO),
            "datasetmaxprice": "0",
            "workerpool": workerpoolorder["workerpool"],
            "workerpoolmaxprice": decimal(&workerpoolorder["workerpoolprice"]),
            "requester": hex_addr(self.requester),
            "volume": "1",
            "tag": B256::ZERO.to_string(),
            "category": req.category.to_string(),
            "trust": "0",
            "beneficiary": hex_addr(self.requester),
            "callback": hex_addr(Address::ZERO),
            "params": params,
        });
        let signed = {
            let _one = self.requester_lock.lock().await;
            write_json(&self.requester_dir.join("iexec.json"), &json!({ "order": { "requestorder": order } })).await?;
            self.cli.sign_requestorder(&self.requester_dir).await?
        };
        let hash = self.request_hash(&signed).await?;
        let sign: alloy::primitives::Bytes = signed["sign"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid(format!("signed request order without a signature: {signed}")))?;
        let signer = Signature::try_from(sign.as_ref())
            .ok()
            .and_then(|s| s.recover_address_from_prehash(&hash).ok())
            .ok_or_else(|| invalid("the request order's signature does not parse"))?;
        if signer != self.requester {
            return Err(invalid(format!(
                "request order hash {hash} does not match the CLI's signature (recovered {signer}); refusing to fill"
            )));
        }
        Ok((signed, hash))
    }

    async fn eip712_domain(&self) -> Result<&Eip712Domain> {
        self.domain
            .get_or_try_init(|| async {
                let hub = IexecHub::new(self.cfg.hub, self.reader.clone());
                let d = hub.domain().call().await.map_err(|e| crate::tx::call_error("hub.domain()", e))?;
                Ok(Eip712Domain::new(
                    Some(d.name.into()),
                    Some(d.version.into()),
                    Some(d.chainId),
                    Some(d.verifyingContract),
                    None,
                ))
            })
            .await
    }

    /// The EIP-712 hash PoCo gives a signed request order.
    pub async fn request_hash(&self, signed: &Value) -> Result<B256> {
        let order = request_order_of(signed)?;
        Ok(order.eip712_signing_hash(self.eip712_domain().await?))
    }

    /// The deal of the job's request order: found on chain when the order was already filled
    /// (a restart after `order fill`), else made now.
    async fn find_or_fill(&self, req: &IexecRequest<'_>, job: &IexecJobRow) -> Result<B256> {
        let hash: B256 =
            job.request_hash.as_deref().and_then(|h| h.parse().ok()).ok_or_else(|| invalid("no request hash"))?;
        let expected = keccak256([hash.as_slice(), &[0u8; 32]].concat());
        let hub = IexecHub::new(self.cfg.hub, self.reader.clone());
        let consumed = hub.viewConsumed(hash).call().await.map_err(|e| crate::tx::call_error("viewConsumed", e))?;
        if consumed > U256::ZERO {
            tracing::info!(task_id = req.task_id, "request order already filled: deal {expected}");
            return Ok(expected);
        }
        let requestorder: Value = serde_json::from_str(job.requestorder.as_deref().unwrap_or("null"))?;
        let (_, apporder) = self.ensure_app(req.service_id, req.app).await?;
        let workerpoolorder = self.workerpool_order(req.category).await?;
        let price = u256_of(&apporder["appprice"]).unwrap_or_default()
            + u256_of(&workerpoolorder["workerpoolprice"]).unwrap_or_default();
        let _one = self.requester_lock.lock().await;
        if price > U256::ZERO {
            // The balance is read from the hub (`iexec account show` says the same, 2 s slower).
            let account =
                hub.viewAccount(self.requester).call().await.map_err(|e| crate::tx::call_error("viewAccount", e))?;
            let stake = account.stake;
            if stake < price {
                let amount = price * U256::from(self.cfg.deposit_tasks.max(1));
                self.cli.account_deposit(&self.requester_dir, amount).await?;
                tracing::info!("iExec account of {} topped up with {amount} nRLC", self.requester);
            }
        }
        let orders = json!({ self.iexec_chain_id.to_string(): {
            "apporder": apporder,
            "workerpoolorder": workerpoolorder,
            "requestorder": requestorder,
        }});
        write_json(&self.requester_dir.join("orders.json"), &orders).await?;
        let deal = self.cli.fill(&self.requester_dir).await?;
        self.failpoint("iexec-filled");
        if deal != expected {
            return Err(invalid(format!("deal {deal} is not the expected {expected} for request order {hash}")));
        }
        Ok(deal)
    }

    /// A deal's final deadline: its start plus the final-deadline ratio times its category's work
    /// clock (what `iexec deal show` prints as `finalTime`).
    async fn final_deadline(&self, deal: B256) -> Result<u64> {
        let hub = IexecHub::new(self.cfg.hub, self.reader.clone());
        let d = hub.viewDeal(deal).call().await.map_err(|e| crate::tx::call_error("viewDeal", e))?;
        if d.requester == Address::ZERO {
            return Err(invalid(format!("deal {deal} is not on the hub")));
        }
        let category =
            hub.viewCategory(d.category).call().await.map_err(|e| crate::tx::call_error("viewCategory", e))?;
        let ratio =
            hub.final_deadline_ratio().call().await.map_err(|e| crate::tx::call_error("final_deadline_ratio", e))?;
        let deadline = d.startTime + ratio * category.workClockTimeRef;
        u64::try_from(deadline).map_err(|_| invalid(format!("deal {deal}: final deadline {deadline} out of range")))
    }

    async fn deadline_reached(&self, deadline: u64) -> Result<bool> {
        let block = self.reader.get_block_by_number(BlockNumberOrTag::Latest).await?;
        let chain_now = block.map(|b| b.header.timestamp).unwrap_or_default();
        // The next block's time is at least the wall clock's on a live chain; a claim sent too early
        // only fails its gas estimate and is tried again.
        Ok(chain_now.max(now()) >= deadline)
    }

    /// Claims the task on the hub (initializing it first if no worker did). Returns whether the
    /// claim went through now; `false`: the chain's time has not reached the deadline yet.
    async fn claim(&self, deal: B256, task: B256, status: u8) -> Result<bool> {
        let hub = IexecHub::new(self.cfg.hub, self.requester_tx.clone());
        let _one = self.requester_lock.lock().await;
        if status == 0
            && let Err(e) = crate::tx::send(&format!("initialize({deal}, 0)"), hub.initialize(deal, U256::ZERO)).await
        {
            // A worker may have initialized it meanwhile; the claim below decides.
            tracing::debug!(error = %e, "initialize before claim");
        }
        match crate::tx::send(&format!("claim({task})"), hub.claim(task)).await {
            Ok(_) => Ok(true),
            Err(e @ Error::Reverted { .. }) => {
                let state = IexecHub::new(self.cfg.hub, self.reader.clone())
                    .viewTask(task)
                    .call()
                    .await
                    .map_err(|e| crate::tx::call_error("viewTask", e))?;
                match state.status {
                    // Claimed by someone else: the requester is refunded all the same.
                    4 => Ok(true),
                    3 => Ok(false),
                    _ => {
                        tracing::debug!(error = %e, "claim not accepted yet");
                        Ok(false)
                    }
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Downloads the result archive with the CLI and stores its deterministic output.
    /// `Ok(Err(reason))`: the archive is not a usable iExec result.
    async fn fetch_result(&self, task_id: u64, task: B256, location: &str) -> Result<Result<Cid, String>> {
        // The download needs the requester's wallet: it runs in the requester's directory, into a
        // file named after the task.
        let path = self.cli.task_download(&self.requester_dir, task, &format!("task-{task_id}")).await?;
        let bytes = tokio::fs::read(&path).await?;
        if let Some(cid) = location.strip_prefix("/ipfs/").and_then(|c| c.parse::<Cid>().ok()) {
            let got = agora_content::cid_of(&bytes);
            if got != cid {
                return Ok(Err(format!("the result downloaded for {location} has CID {got}")));
            }
        }
        let output = match tokio::task::spawn_blocking(move || deterministic_output(&bytes)).await? {
            Ok(o) => o,
            Err(reason) => return Ok(Err(reason)),
        };
        let _ = tokio::fs::remove_file(&path).await;
        Ok(Ok(self.content.put(output).await?))
    }
}

fn ids(job: &IexecJobRow) -> Result<(B256, B256)> {
    let deal = job.deal_id.as_deref().and_then(|d| d.parse().ok());
    let task = job.iexec_task_id.as_deref().and_then(|t| t.parse().ok());
    deal.zip(task).ok_or_else(|| invalid(format!("iExec job of task {} has no deal", job.task_id)))
}

async fn write_json(path: &Path, value: &Value) -> Result<()> {
    tokio::fs::write(path, serde_json::to_vec_pretty(value)?).await?;
    Ok(())
}

fn u256_of(v: &Value) -> Option<U256> {
    match v {
        Value::String(s) if s.starts_with("0x") => U256::from_str_radix(&s[2..], 16).ok(),
        Value::String(s) => U256::from_str_radix(s, 10).ok(),
        Value::Number(n) => n.as_u64().map(U256::from),
        _ => None,
    }
}

fn decimal(v: &Value) -> String {
    u256_of(v).unwrap_or_default().to_string()
}

/// A signed request order as the CLI prints it, as PoCo's struct.
pub fn request_order_of(v: &Value) -> Result<RequestOrder> {
    let bad = |field: &str| invalid(format!("request order: bad {field}: {}", v[field]));
    let addr = |field: &str| v[field].as_str().and_then(|s| s.parse::<Address>().ok()).ok_or_else(|| bad(field));
    let num = |field: &str| u256_of(&v[field]).ok_or_else(|| bad(field));
    let word = |field: &str| v[field].as_str().and_then(|s| s.parse::<B256>().ok()).ok_or_else(|| bad(field));
    let params = match &v["params"] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    Ok(RequestOrder {
        app: addr("app")?,
        appmaxprice: num("appmaxprice")?,
        dataset: addr("dataset")?,
        datasetmaxprice: num("datasetmaxprice")?,
        workerpool: addr("workerpool")?,
        workerpoolmaxprice: num("workerpoolmaxprice")?,
        requester: addr("requester")?,
        volume: num("volume")?,
        tag: word("tag")?,
        category: num("category")?,
        trust: num("trust")?,
        beneficiary: addr("beneficiary")?,
        callback: addr("callback")?,
        params,
        salt: word("salt")?,
    })
}

/// The output an iExec result archive holds: the file `computed.json` names as its
/// `deterministic-output-path` (under `/iexec_out/`).
pub fn deterministic_output(archive: &[u8]) -> Result<Vec<u8>, String> {
    let mut zip =
        zip::ZipArchive::new(std::io::Cursor::new(archive)).map_err(|e| format!("result is not a zip: {e}"))?;
    let mut read = |name: &str| -> Result<Vec<u8>, String> {
        let mut entry = zip.by_name(name).map_err(|e| format!("result archive has no {name}: {e}"))?;
        let mut out = Vec::new();
        entry.read_to_end(&mut out).map_err(|e| format!("result archive: {name}: {e}"))?;
        Ok(out)
    };
    let computed: Value =
        serde_json::from_slice(&read("computed.json")?).map_err(|e| format!("computed.json is not JSON: {e}"))?;
    let path = computed["deterministic-output-path"]
        .as_str()
        .ok_or_else(|| format!("computed.json names no deterministic-output-path: {computed}"))?;
    let name = path.trim_start_matches("/iexec_out").trim_start_matches('/');
    if name.is_empty() || name.ends_with('/') {
        return Err(format!("the deterministic output {path} is a directory; Agora expects one file"));
    }
    read(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn archive(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, bytes) in entries {
            zip.start_file(*name, zip::write::SimpleFileOptions::default()).expect("entry");
            zip.write_all(bytes).expect("write");
        }
        zip.finish().expect("finish").into_inner()
    }

    #[test]
    fn the_deterministic_output_is_read_from_the_archive() {
        let zip = archive(&[
            ("computed.json", br#"{"deterministic-output-path":"/iexec_out/result.txt"}"#),
            ("result.txt", b"{\"words\":2}\n"),
        ]);
        assert_eq!(deterministic_output(&zip).expect("output"), b"{\"words\":2}\n");
        let no_computed = archive(&[("result.txt", b"x")]);
        assert!(deterministic_output(&no_computed).expect_err("missing").contains("no computed.json"));
        let dir = archive(&[("computed.json", br#"{"deterministic-output-path":"/iexec_out/"}"#)]);
        assert!(deterministic_output(&dir).expect_err("dir").contains("is a directory"));
        assert!(deterministic_output(b"not a zip").expect_err("not zip").contains("not a zip"));
    }

    #[test]
    fn signed_request_orders_parse_into_pocos_struct() {
        let v = json!({
            "app": "0x2a9a3a8e4ff06d1e0a1c7a1f6e3e5fbde1e7f9b1", "appmaxprice": "0",
            "dataset": "0x0000000000000000000000000000000000000000", "datasetmaxprice": "0",
            "workerpool": "0x9d4454b023096f34b160d6b654540c56a1f81688", "workerpoolmaxprice": "100000000",
            "requester": "0x976ea74026e726554db657fa54763abd0c3a0aa9", "volume": "1",
            "tag": "0x0000000000000000000000000000000000000000000000000000000000000009", "category": "0",
            "trust": "0", "beneficiary": "0x976ea74026e726554db657fa54763abd0c3a0aa9",
            "callback": "0x0000000000000000000000000000000000000000",
            "params": "{\"iexec_args\":\"one two\",\"iexec_result_storage_provider\":\"ipfs\"}",
            "salt": "0x0101010101010101010101010101010101010101010101010101010101010101", "sign": "0x00"
        });
        let order = request_order_of(&v).expect("parses");
        assert_eq!(order.workerpoolmaxprice, U256::from(100_000_000u64));
        assert_eq!(order.tag, B256::with_last_byte(9));
        assert!(order.params.contains("one two"));
        let mut broken = v.clone();
        broken["salt"] = json!("nope");
        assert!(request_order_of(&broken).expect_err("bad salt").to_string().contains("bad salt"));
    }
}
