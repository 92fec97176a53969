//! The messages between a task's coordinator and a participant over a WebSocket (docs/fl-protocol.md).
//!
//! Control messages are JSON text messages tagged by `type` ([`ToClient`], [`ToCoordinator`]).
//! Parameter vectors travel as binary messages ([`Params`]): a 12-byte header — kind (1 byte),
//! three zero bytes, the round (`u32`, little-endian), the value count (`u32`, little-endian) —
//! then the values as little-endian `f32`s. A `round` message is followed by the global
//! parameters (kind [`ParamsKind::Global`]), an `update` by the update's delta
//! ([`ParamsKind::Delta`]).
//!
//! Sign-in: the coordinator's first message is a [`Challenge`]; the participant answers with an
//! EIP-191 (`personal_sign`) signature of [`Challenge::message`] by its key, and the coordinator
//! admits only the account that recovers from it if that account is a current member of the task.

use std::time::Duration;

use alloy::primitives::{Address, B256, Bytes, eip191_hash_message};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use agora_fl::Refusal;

use crate::{Error, Result};

/// Largest message either side accepts: a 784-200-200-10 MLP is 199,210 parameters (~0.8 MB).
pub const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// The header's length in bytes.
pub const HEADER_LEN: usize = 12;

/// What the coordinator asks a participant to sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// The task (FederatedMarket's id).
    pub task: u64,
    /// The chain the task lives on.
    pub chain_id: u64,
    /// The coordinator's account (the task's `coordinator`).
    pub coordinator: Address,
    /// Fresh for each connection.
    pub nonce: B256,
}

impl Challenge {
    /// The text signed (EIP-191, `personal_sign`).
    pub fn message(&self) -> String {
        format!(
            "Agora federated learning sign-in\ntask: {}\nchain: {}\ncoordinator: {}\nnonce: {}",
            self.task, self.chain_id, self.coordinator, self.nonce
        )
    }

    /// `key`'s signature of [`message`](Self::message) (65 bytes `r ‖ s ‖ v`).
    pub fn sign(&self, key: &PrivateKeySigner) -> Result<Bytes> {
        let sig =
            key.sign_message_sync(self.message().as_bytes()).map_err(|e| Error::Protocol(format!("signing: {e}")))?;
        Ok(Bytes::from(sig.as_bytes().to_vec()))
    }

    /// The account that signed [`message`](Self::message) with `signature`.
    pub fn signer(&self, signature: &[u8]) -> Result<Address> {
        agora_chain::signature::recover(eip191_hash_message(self.message()), signature)
            .map_err(|e| Error::Denied(format!("bad signature: {e}")))
    }
}

/// Control messages from the coordinator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ToClient {
    /// The first message: sign this.
    Challenge(Challenge),
    /// Signed in: the task's spec bytes (canonical JSON, whose CID the participant checks against
    /// the chain) and the blocks this member trains on.
    Welcome {
        /// The account admitted.
        account: Address,
        /// [`crate::TaskSpec::to_bytes`], as text.
        spec: String,
        /// Block ids (into the spec's blocks).
        blocks: Vec<u32>,
    },
    /// Sign-in refused; the connection closes.
    Denied {
        /// Why, in words.
        reason: String,
    },
    /// A round begins; the global parameters follow as a binary message.
    Round {
        /// 1-based.
        round: u32,
        /// Seconds the coordinator waits for the update.
        timeout_secs: u64,
    },
    /// The participant's update for `round` was not aggregated.
    Refused {
        /// The round.
        round: u32,
        /// Why.
        refusal: Refusal,
    },
    /// A round is over.
    RoundDone {
        /// The round.
        round: u32,
        /// The new global model's test accuracy (0..1).
        accuracy: f64,
        /// Whether this participant's update was aggregated.
        accepted: bool,
    },
    /// Training is over; the contribution record is stored under `record`.
    Finished {
        /// The contribution record's CID.
        record: String,
    },
    /// The coordinator gives up on this connection.
    Error {
        /// Why.
        message: String,
    },
}

/// Control messages from a participant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ToCoordinator {
    /// The answer to the challenge.
    SignIn {
        /// The account claimed (must be the one that recovers from the signature).
        account: Address,
        /// EIP-191 signature of the challenge's message.
        signature: Bytes,
    },
    /// The update for `round`; its delta follows as a binary message.
    Update {
        /// The round trained.
        round: u32,
        /// Samples trained on (the FedAvg weight).
        samples: u64,
        /// Mean local training loss.
        loss: f32,
    },
    /// The participant stops training (between rounds); the connection closes.
    Leave,
}

/// What a binary message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ParamsKind {
    /// The global model at the start of a round.
    Global = 1,
    /// A participant's update (`local − global`).
    Delta = 2,
}

/// A parameter vector with its header.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// What it is.
    pub kind: ParamsKind,
    /// The round it belongs to.
    pub round: u32,
    /// The values.
    pub values: Vec<f32>,
}

impl Params {
    /// The binary message.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + 4 * self.values.len());
        out.extend([self.kind as u8, 0, 0, 0]);
        out.extend(self.round.to_le_bytes());
        out.extend((self.values.len() as u32).to_le_bytes());
        for v in &self.values {
            out.extend(v.to_le_bytes());
        }
        out
    }

    /// A binary message read back; a bad header or a length that disagrees with it is an error.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        if bytes.len() < HEADER_LEN {
            return Err(Error::Protocol(format!("binary message of {} bytes: no header", bytes.len())));
        }
        let kind = match bytes[0] {
            1 => ParamsKind::Global,
            2 => ParamsKind::Delta,
            k => return Err(Error::Protocol(format!("unknown parameter kind {k}"))),
        };
        let word = |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        let (round, count) = (word(4), word(8) as usize);
        let body = &bytes[HEADER_LEN..];
        if body.len() != count * 4 {
            return Err(Error::Protocol(format!("header says {count} values, the message holds {} bytes", body.len())));
        }
        let values = body.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        Ok(Self { kind, round, values })
    }
}

/// A message received.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming<T> {
    /// A control message.
    Control(T),
    /// A parameter vector.
    Params(Params),
}

/// The WebSocket settings both sides use.
pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default().max_message_size(Some(MAX_MESSAGE)).max_frame_size(Some(MAX_MESSAGE))
}

/// One side of a connection: sends `Out` control messages, receives `In` ones.
#[derive(Debug)]
pub struct Conn<S> {
    ws: WebSocketStream<S>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    /// Wraps an open WebSocket.
    pub fn new(ws: WebSocketStream<S>) -> Self {
        Self { ws }
    }

    /// Sends a control message.
    pub async fn send<T: Serialize>(&mut self, message: &T) -> Result<()> {
        self.ws.send(Message::text(serde_json::to_string(message)?)).await?;
        Ok(())
    }

    /// Sends a parameter vector.
    pub async fn send_params(&mut self, params: &Params) -> Result<()> {
        self.ws.send(Message::binary(params.encode())).await?;
        Ok(())
    }

    /// The next message (pings answered, closes reported as [`Error::Closed`]).
    pub async fn recv<T: for<'de> Deserialize<'de>>(&mut self) -> Result<Incoming<T>> {
        loop {
            let message =
                self.ws.next().await.ok_or_else(|| Error::Closed("the peer closed the connection".into()))??;
            match message {
                Message::Text(text) => {
                    return serde_json::from_str(text.as_str())
                        .map(Incoming::Control)
                        .map_err(|e| Error::Protocol(format!("bad control message: {e}")));
                }
                Message::Binary(bytes) => return Params::decode(&bytes).map(Incoming::Params),
                Message::Close(_) => return Err(Error::Closed("the peer closed the connection".into())),
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            }
        }
    }

    /// [`recv`](Self::recv) within `timeout`.
    pub async fn recv_within<T: for<'de> Deserialize<'de>>(
        &mut self,
        timeout: Duration,
        what: &str,
    ) -> Result<Incoming<T>> {
        tokio::time::timeout(timeout, self.recv()).await.map_err(|_| Error::Timeout(format!("waiting for {what}")))?
    }

    /// Closes the connection (errors ignored: the peer may be gone already).
    pub async fn close(&mut self) {
        let _ = self.ws.close(None).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_round_trip_and_bad_headers_are_refused() {
        let p = Params { kind: ParamsKind::Delta, round: 3, values: vec![1.5, -0.25, f32::NAN] };
        let bytes = p.encode();
        assert_eq!(&bytes[..12], &[2, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0]);
        assert_eq!(&bytes[12..16], &1.5f32.to_le_bytes());
        let back = Params::decode(&bytes).expect("decodes");
        assert_eq!((back.kind, back.round, back.values.len()), (ParamsKind::Delta, 3, 3));
        assert!(back.values[2].is_nan());
        assert!(Params::decode(&bytes[..15]).is_err());
        assert!(Params::decode(&[9; 12]).is_err());
    }

    #[test]
    fn the_signer_recovers_from_the_challenge() {
        let key = PrivateKeySigner::random();
        let c =
            Challenge { task: 4, chain_id: 31337, coordinator: Address::repeat_byte(7), nonce: B256::repeat_byte(1) };
        let sig = c.sign(&key).expect("signs");
        assert_eq!(c.signer(&sig).expect("recovers"), key.address());
        let other = Challenge { nonce: B256::repeat_byte(2), ..c.clone() };
        assert_ne!(other.signer(&sig).expect("recovers"), key.address());
        assert!(c.signer(&sig[..64]).is_err());
        let json = serde_json::to_string(&ToClient::Challenge(c)).expect("json");
        assert!(json.starts_with(r#"{"type":"challenge","task":4"#), "{json}");
    }
}
