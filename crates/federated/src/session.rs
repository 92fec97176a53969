//! The coordinator's side of one participant's connection: sign-in, then a pump between the
//! WebSocket and the coordinator's round loop.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use alloy::primitives::{Address, B256};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Mutex, mpsc};
use tokio_tungstenite::WebSocketStream;

use crate::book::{Membership, TaskBook};
use crate::protocol::{Challenge, Conn, Incoming, Params, ParamsKind, ToClient, ToCoordinator};
use crate::{Error, Result, TaskSpec};

/// What the round loop sends a participant.
#[derive(Debug, Clone)]
pub(crate) enum Outgoing {
    Control(ToClient),
    Params(Arc<Params>),
    /// Send this and close.
    Close(ToClient),
}

/// What a participant's connection tells the round loop.
#[derive(Debug)]
pub(crate) enum FromParticipant {
    Update { account: Address, round: u32, samples: u64, loss: f32, delta: Vec<f32> },
    Gone { account: Address },
}

/// What connections share with the round loop.
pub(crate) struct Gatehouse {
    pub(crate) task: u64,
    pub(crate) chain_id: u64,
    pub(crate) coordinator: Address,
    pub(crate) spec: TaskSpec,
    pub(crate) spec_text: String,
    pub(crate) for_sale: u32,
    pub(crate) book: Arc<dyn TaskBook>,
    pub(crate) sign_in_timeout: Duration,
    /// Signed-in participants: their outbox and the connection's generation.
    pub(crate) sessions: Mutex<HashMap<Address, (mpsc::UnboundedSender<Outgoing>, u64)>>,
    pub(crate) inbox: mpsc::UnboundedSender<FromParticipant>,
    generation: AtomicU64,
    /// The contribution record's CID once training finished: a participant signing in after that
    /// (one reconnecting to a coordinator that resumed straight to the payouts) is told at once.
    finished: std::sync::Mutex<Option<String>>,
}

impl Gatehouse {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        task: u64,
        chain_id: u64,
        coordinator: Address,
        spec: TaskSpec,
        for_sale: u32,
        book: Arc<dyn TaskBook>,
        sign_in_timeout: Duration,
        inbox: mpsc::UnboundedSender<FromParticipant>,
    ) -> Result<Self> {
        let spec_text = String::from_utf8(spec.to_bytes()?).map_err(|e| Error::Spec(e.to_string()))?;
        Ok(Self {
            task,
            chain_id,
            coordinator,
            spec,
            spec_text,
            for_sale,
            book,
            sign_in_timeout,
            sessions: Mutex::new(HashMap::new()),
            inbox,
            generation: AtomicU64::new(0),
            finished: std::sync::Mutex::new(None),
        })
    }

    /// Training finished with the contribution record `record`: every participant connected now
    /// or later is told so and sent away.
    pub(crate) async fn finish(&self, record: &str) {
        *self.finished.lock().unwrap_or_else(|p| p.into_inner()) = Some(record.to_owned());
        for (tx, _) in self.sessions.lock().await.values() {
            let _ = tx.send(Outgoing::Close(ToClient::Finished { record: record.to_owned() }));
        }
    }

    /// Members and their blocks now.
    pub(crate) async fn membership(&self) -> Result<Membership> {
        let events = self.book.events(self.task).await?;
        Membership::replay(&events, self.spec.blocks, self.spec.blocks_per_member, self.for_sale, self.spec.seed)
    }

    /// Signs a connection in and pumps it until it ends.
    pub(crate) async fn serve<S: AsyncRead + AsyncWrite + Unpin>(&self, ws: WebSocketStream<S>) -> Result<()> {
        let mut conn = Conn::new(ws);
        let account = match self.sign_in(&mut conn).await {
            Ok(a) => a,
            Err(e) => {
                let reason = e.to_string();
                tracing::info!(task = self.task, %reason, "sign-in refused");
                let _ = conn.send(&ToClient::Denied { reason }).await;
                conn.close().await;
                return Err(e);
            }
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let generation = self.generation.fetch_add(1, Ordering::Relaxed);
        self.sessions.lock().await.insert(account, (tx.clone(), generation));
        // Read after the insert: `finish` either saw this session or had set the record already.
        let finished = self.finished.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(record) = finished {
            let _ = tx.send(Outgoing::Close(ToClient::Finished { record }));
        }
        tracing::info!(task = self.task, %account, "participant signed in");
        let outcome = self.pump(&mut conn, account, rx).await;
        let mut sessions = self.sessions.lock().await;
        if sessions.get(&account).is_some_and(|(_, g)| *g == generation) {
            sessions.remove(&account);
            let _ = self.inbox.send(FromParticipant::Gone { account });
        }
        drop(sessions);
        conn.close().await;
        outcome
    }

    async fn sign_in<S: AsyncRead + AsyncWrite + Unpin>(&self, conn: &mut Conn<S>) -> Result<Address> {
        let mut nonce = B256::ZERO;
        getrandom::fill(nonce.as_mut_slice())
            .map_err(|e| Error::Protocol(format!("no randomness for a nonce: {e}")))?;
        let challenge = Challenge { task: self.task, chain_id: self.chain_id, coordinator: self.coordinator, nonce };
        conn.send(&ToClient::Challenge(challenge.clone())).await?;
        let (account, signature) = match conn.recv_within(self.sign_in_timeout, "the sign-in").await? {
            Incoming::Control(ToCoordinator::SignIn { account, signature }) => (account, signature),
            other => return Err(Error::Protocol(format!("expected sign_in, got {other:?}"))),
        };
        let signer = challenge.signer(&signature)?;
        if signer != account {
            return Err(Error::Denied(format!("the signature is {signer}'s, not {account}'s")));
        }
        let membership = self.membership().await?;
        let Some(blocks) = membership.blocks_of(account) else {
            return Err(Error::NotMember { task: self.task, account });
        };
        conn.send(&ToClient::Welcome { account, spec: self.spec_text.clone(), blocks: blocks.to_vec() }).await?;
        Ok(account)
    }

    async fn pump<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        conn: &mut Conn<S>,
        account: Address,
        mut outbox: mpsc::UnboundedReceiver<Outgoing>,
    ) -> Result<()> {
        let mut pending: Option<(u32, u64, f32)> = None;
        loop {
            tokio::select! {
                out = outbox.recv() => match out {
                    Some(Outgoing::Control(m)) => conn.send(&m).await?,
                    Some(Outgoing::Params(p)) => conn.send_params(&p).await?,
                    Some(Outgoing::Close(m)) => {
                        let _ = conn.send(&m).await;
                        return Ok(());
                    }
                    // Replaced by a newer connection of the same account.
                    None => return Ok(()),
                },
                incoming = conn.recv::<ToCoordinator>() => match incoming? {
                    Incoming::Control(ToCoordinator::Update { round, samples, loss }) => pending = Some((round, samples, loss)),
                    Incoming::Control(ToCoordinator::Leave) => return Ok(()),
                    Incoming::Control(other) => return Err(Error::Protocol(format!("unexpected {other:?}"))),
                    Incoming::Params(p) => {
                        let Some((round, samples, loss)) = pending.take() else {
                            return Err(Error::Protocol("parameters without an update message".into()));
                        };
                        if p.kind != ParamsKind::Delta || p.round != round {
                            return Err(Error::Protocol(format!("expected round {round}'s delta, got {:?} for round {}", p.kind, p.round)));
                        }
                        let _ = self.inbox.send(FromParticipant::Update { account, round, samples, loss, delta: p.values });
                    }
                },
            }
        }
    }
}
