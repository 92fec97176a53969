//! A framed, signed connection: what both sides' state machines send and receive through.

use std::time::Duration;

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use tokio::io::{AsyncRead, AsyncWrite, ReadHalf, WriteHalf};

use crate::error::{Error, Result, State};
use crate::frame::{Frame, FrameReader, FrameWriter, Limits};
use crate::message::{Failure, Message, Signed};

/// A received, verified message and the frame it came in (a chunk's body is in it).
pub(crate) struct Received {
    pub(crate) message: Message,
    pub(crate) frame: Frame,
    pub(crate) signer: Address,
}

pub(crate) struct Conn<S> {
    reader: FrameReader<ReadHalf<S>>,
    writer: FrameWriter<WriteHalf<S>>,
    key: PrivateKeySigner,
    /// The longest a frame may take to write: a peer that stops reading (a dead link, full
    /// buffers) ends the session instead of holding it, and its order, for as long as TCP retries.
    write_timeout: Duration,
}

impl<S: AsyncRead + AsyncWrite> Conn<S> {
    pub(crate) fn new(stream: S, limits: Limits, key: PrivateKeySigner, write_timeout: Duration) -> Self {
        let (r, w) = tokio::io::split(stream);
        Self { reader: FrameReader::new(r, limits), writer: FrameWriter::new(w, limits), key, write_timeout }
    }

    /// Signs and sends `message` (with `body` for `data`), within the write timeout.
    pub(crate) async fn send(&mut self, message: &Message, body: &[u8]) -> Result<()> {
        let header = message.encode(&self.key)?;
        let after = self.write_timeout;
        tokio::time::timeout(after, self.writer.send(&header, body)).await.map_err(|_| Error::WriteStalled { after })?
    }

    /// Shuts the write side down, giving up after the write timeout.
    async fn shutdown(&mut self) {
        let _ = tokio::time::timeout(self.write_timeout, self.writer.shutdown()).await;
    }

    /// The next message, within `timeout`, signed by `signer` when given (else by anyone: the
    /// caller checks). An `error` from the peer becomes [`Error::Peer`].
    pub(crate) async fn recv(&mut self, state: State, timeout: Duration, signer: Option<Address>) -> Result<Received> {
        let frame = tokio::time::timeout(timeout, self.reader.next(state))
            .await
            .map_err(|_| Error::Timeout { state, after: timeout })??;
        Self::verify(frame, signer)
    }

    /// A message that has already arrived, without waiting; `None` when none has.
    pub(crate) async fn try_recv(&mut self, state: State, signer: Option<Address>) -> Option<Result<Received>> {
        // `next` is cancel-safe: a frame half read stays buffered for the next call.
        let frame = tokio::select! {
            biased;
            f = self.reader.next(state) => f,
            () = std::future::ready(()) => return None,
        };
        Some(frame.and_then(|f| Self::verify(f, signer)))
    }

    fn verify(frame: Frame, signer: Option<Address>) -> Result<Received> {
        let Signed { message, signer: got } = Message::decode(frame.header(), frame.body())?;
        if let Some(expected) = signer
            && expected != got
        {
            return Err(Error::WrongSigner { message: message.kind(), expected, got });
        }
        if let Message::Error(Failure { code, message }) = message {
            return Err(Error::Peer { code, message });
        }
        Ok(Received { message, frame, signer: got })
    }

    /// Tells the peer why the session ends (best effort: the connection may be gone) and hands the
    /// error back.
    pub(crate) async fn fail(&mut self, error: Error) -> Error {
        if error.tell_peer() {
            let failure = Message::Error(Failure { code: error.code(), message: error.to_string() });
            if let Err(e) = self.send(&failure, &[]).await {
                tracing::debug!(error = %e, "could not tell the peer why the session ends");
            }
        }
        self.shutdown().await;
        error
    }

    /// Shuts the write side down after a session that ended well.
    pub(crate) async fn close(&mut self) {
        self.shutdown().await;
    }
}

/// Unix seconds now.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}
