//! How frames travel: TCP, or a WebSocket for buyers in a browser, both on the seller's one port.
//!
//! A seller's registered endpoint `host:port` answers both. The first byte a client sends decides:
//! a frame starts with its length, big-endian, and no frame allowed by [`Limits`] reaches 16 MiB,
//! so a frame's first byte is always `0`; an HTTP request (`GET …`) starts with `G`. A connection
//! that opens with `G` is taken through the WebSocket handshake, anything else is read as frames.
//!
//! Over a WebSocket every binary message carries exactly one frame, in both directions (so a
//! browser can decode each message on its own); [`bridge`] turns the WebSocket into the byte
//! stream the sessions read and write, re-cutting what the session writes at frame boundaries.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream, ReadBuf};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::error::{Error, Result, State};
use crate::frame::Limits;

/// How long the pump waits for the other direction to finish once one has.
const DRAIN: Duration = Duration::from_secs(5);
/// Bytes buffered between a WebSocket and its session.
const PIPE: usize = 256 * 1024;

/// A connection to or from a seller: frames straight over TCP, or a WebSocket bridged into a byte
/// stream of frames. Both sides' sessions run over it unchanged.
#[derive(Debug)]
pub enum Stream {
    /// Frames straight over TCP.
    Tcp(TcpStream),
    /// A WebSocket, bridged into a byte stream of frames.
    WebSocket(DuplexStream),
}

/// Reads the first byte `stream` sends (within `timeout`) and, for a WebSocket, completes its
/// handshake. Nothing is consumed from a TCP client: its frames are read from the start.
pub async fn accept(stream: TcpStream, limits: Limits, timeout: Duration) -> Result<Stream> {
    let first = async {
        let mut byte = [0u8; 1];
        match stream.peek(&mut byte).await? {
            0 => Err(Error::Closed { state: State::AwaitingHello }),
            _ => Ok(byte[0]),
        }
    };
    let first = tokio::time::timeout(timeout, first)
        .await
        .map_err(|_| Error::Timeout { state: State::AwaitingHello, after: timeout })??;
    if first != b'G' {
        return Ok(Stream::Tcp(stream));
    }
    let ws = tokio::time::timeout(timeout, tokio_tungstenite::accept_async_with_config(stream, Some(config(limits))))
        .await
        .map_err(|_| Error::Timeout { state: State::AwaitingHello, after: timeout })?
        .map_err(|e| Error::MalformedFrame(format!("WebSocket handshake: {e}")))?;
    Ok(Stream::WebSocket(bridge(ws, limits)))
}

/// Connects to a seller's `endpoint`: `ws://host:port/…` through a WebSocket, anything else
/// (`host:port`, as sellers register) over TCP.
pub async fn connect(endpoint: &str, limits: Limits) -> Result<Stream> {
    let Some(rest) = endpoint.strip_prefix("ws://") else {
        return Ok(Stream::Tcp(TcpStream::connect(endpoint).await?));
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let tcp = TcpStream::connect(authority).await?;
    let (ws, _) = tokio_tungstenite::client_async_with_config(endpoint, tcp, Some(config(limits))).await.map_err(
        |e| match e {
            tokio_tungstenite::tungstenite::Error::Io(io) => Error::Io(io),
            other => Error::MalformedFrame(format!("WebSocket handshake with {endpoint}: {other}")),
        },
    )?;
    Ok(Stream::WebSocket(bridge(ws, limits)))
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Self::WebSocket(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Self::WebSocket(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Self::WebSocket(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Tcp(s) => s.is_write_vectored(),
            Self::WebSocket(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_flush(cx),
            Self::WebSocket(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Self::WebSocket(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

fn config(limits: Limits) -> WebSocketConfig {
    let most = limits.max_frame as usize + 4;
    WebSocketConfig::default().max_message_size(Some(most)).max_frame_size(Some(most))
}

/// Runs `ws` behind a byte stream: the returned end reads what the peer's binary messages carry,
/// in order, and what is written to it goes out one frame per message. A text message or a frame
/// the other side writes beyond `limits` ends the connection (the session then sees it closed).
pub fn bridge<S>(ws: WebSocketStream<S>, limits: Limits) -> DuplexStream
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (session, pump) = tokio::io::duplex(PIPE);
    tokio::spawn(run_bridge(ws, pump, limits));
    session
}

async fn run_bridge<S>(ws: WebSocketStream<S>, pipe: DuplexStream, limits: Limits)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sink, mut source) = ws.split();
    let (mut from_session, mut to_session) = tokio::io::split(pipe);
    let inbound = async move {
        while let Some(message) = source.next().await {
            match message {
                Ok(WsMessage::Binary(bytes)) => {
                    if to_session.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
                Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_)) => {}
                Ok(WsMessage::Text(_) | WsMessage::Close(_)) | Err(_) => break,
            }
        }
        let _ = to_session.shutdown().await;
    };
    let outbound = async move {
        loop {
            let mut length = [0u8; 4];
            if from_session.read_exact(&mut length).await.is_err() {
                break;
            }
            let n = u32::from_be_bytes(length);
            if n > limits.max_frame {
                break;
            }
            let mut frame = vec![0u8; 4 + n as usize];
            frame[..4].copy_from_slice(&length);
            if from_session.read_exact(&mut frame[4..]).await.is_err() {
                break;
            }
            if sink.send(WsMessage::Binary(frame.into())).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    };
    let (mut inbound, mut outbound) = (Box::pin(inbound), Box::pin(outbound));
    // Either direction ending ends the connection; the other gets a moment to deliver what it holds
    // (the last `exit`), and no more: a peer that vanished must not keep the task alive.
    tokio::select! {
        () = &mut inbound => { let _ = tokio::time::timeout(DRAIN, outbound).await; }
        () = &mut outbound => { let _ = tokio::time::timeout(DRAIN, inbound).await; }
    }
}
