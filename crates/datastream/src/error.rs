//! The crate's one error type, the protocol states a timeout names, and the codes an `error`
//! message carries on the wire.

use std::time::Duration;

use alloy::primitives::{Address, B256};
use serde::{Deserialize, Serialize};

use crate::message::MessageType;
use crate::sign::SignatureError;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where a session stands; a timeout names the state it expired in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// The seller waits for the buyer's `hello`.
    AwaitingHello,
    /// The buyer waits for the seller's `menu`.
    AwaitingMenu,
    /// The seller waits for the buyer's `order` (the buyer escrows in between).
    AwaitingOrder,
    /// The seller waits for the order's escrow to reach the confirmation depth.
    AwaitingEscrow,
    /// The seller has a full window of unacknowledged bytes and waits for an `ack`.
    AwaitingAck,
    /// The buyer waits for the next `data` frame.
    AwaitingData,
    /// Everything is acknowledged; each side waits for the other's `exit`.
    AwaitingExit,
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            Self::AwaitingHello => "awaiting hello",
            Self::AwaitingMenu => "awaiting menu",
            Self::AwaitingOrder => "awaiting order",
            Self::AwaitingEscrow => "awaiting escrow confirmation",
            Self::AwaitingAck => "awaiting ack",
            Self::AwaitingData => "awaiting data",
            Self::AwaitingExit => "awaiting exit",
        };
        f.write_str(s)
    }
}

/// What went wrong. Every refusal of something the peer sent has its own variant, so a caller can
/// tell a tampered chunk from a forged ACK without reading a sentence.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing the stream or a file failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The peer closed the connection.
    #[error("the peer closed the connection ({state})")]
    Closed {
        /// Where the session stood.
        state: State,
    },
    /// A frame announced more bytes than the configured maximum; nothing was allocated for it.
    #[error("frame of {len} bytes is over the maximum of {max}")]
    FrameTooLarge {
        /// The announced length.
        len: u64,
        /// The configured maximum.
        max: u32,
    },
    /// A frame's structure is wrong (lengths that do not add up, a header that is not UTF-8 JSON).
    #[error("malformed frame: {0}")]
    MalformedFrame(String),
    /// The envelope parsed but a message in it does not (unknown type, missing or extra fields,
    /// bad hex, a body where none belongs).
    #[error("malformed {message_type} message: {reason}")]
    MalformedMessage {
        /// The `message_type` as received.
        message_type: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A message that does not belong in this state.
    #[error("unexpected {got} message ({state})")]
    UnexpectedMessage {
        /// Where the session stood.
        state: State,
        /// What arrived.
        got: MessageType,
    },
    /// A signature that cannot be used at all (length, high s, recovery byte).
    #[error("bad signature on {message}: {source}")]
    BadSignature {
        /// The message it was on.
        message: MessageType,
        /// Why it is unusable.
        source: SignatureError,
    },
    /// A message signed by a key other than the one that must sign it.
    #[error("{message} message signed by {got}, expected {expected}")]
    WrongSigner {
        /// The message.
        message: MessageType,
        /// The key that must sign it.
        expected: Address,
        /// The key that did.
        got: Address,
    },
    /// A chunk whose body does not hash to the signed content hash.
    #[error("tampered chunk at offset {offset}: body hashes to {got}, the seller signed {expected}")]
    TamperedChunk {
        /// The chunk's offset.
        offset: u64,
        /// The hash the seller signed.
        expected: B256,
        /// The hash of the body received.
        got: B256,
    },
    /// A chunk that is not the next one (or is longer than the granularity, or runs past the end).
    #[error("chunk out of order: expected offset {expected}, got offset {got} ({reason})")]
    ChunkOutOfOrder {
        /// The offset expected next.
        expected: u64,
        /// The offset received.
        got: u64,
        /// What exactly is wrong.
        reason: &'static str,
    },
    /// An ACK whose EIP-712 voucher does not recover to the order's ACK signer.
    #[error("forged ack for {received} bytes: voucher signed by {got}, the order's ack signer is {expected}")]
    ForgedAck {
        /// The cumulative amount it claims.
        received: u64,
        /// The order's ACK signer.
        expected: Address,
        /// Who signed the voucher.
        got: Address,
    },
    /// An ACK (or a resume) below the highest one already accepted for the order: a replay.
    #[error("stale ack: {received} bytes is below the {highest} already acknowledged")]
    StaleAck {
        /// The cumulative amount it claims.
        received: u64,
        /// The highest accepted so far.
        highest: u64,
    },
    /// An ACK for bytes that were never sent.
    #[error("ack for {received} bytes, but only {sent} were sent")]
    AckBeyondSent {
        /// The cumulative amount it claims.
        received: u64,
        /// What was sent.
        sent: u64,
    },
    /// The whole file does not hash to the item's content hash.
    #[error("the received content hashes to {got}, the menu promised {expected}")]
    ContentMismatch {
        /// The item's content hash.
        expected: B256,
        /// The hash of what was received.
        got: B256,
    },
    /// The order or the menu disagrees with what it must match (order id, item, terms, chain).
    #[error("order refused: {0}")]
    OrderRefused(String),
    /// The order's escrow is not on chain or not confirmed deep enough before the timeout.
    #[error("escrow of order {order_id} not confirmed: {reason}")]
    EscrowNotConfirmed {
        /// The order.
        order_id: B256,
        /// What the order book last said.
        reason: String,
    },
    /// The order is finished (settled) on chain: nothing more is sold under it.
    #[error("order {0} is finished")]
    OrderFinished(B256),
    /// Another connection is serving the same order right now.
    #[error("order {0} is being served on another connection")]
    OrderBusy(B256),
    /// The seller has ACKs for this order but the buyer did not say `resume`.
    #[error("order {order_id} already has {acked} bytes acknowledged: say hello with resume")]
    ResumeRequired {
        /// The order.
        order_id: B256,
        /// The highest cumulative ACK the seller holds.
        acked: u64,
    },
    /// The order book (the chain) could not be asked.
    #[error("order book: {0}")]
    OrderBook(String),
    /// The ACK store could not be read or written.
    #[error("ACK store: {0}")]
    AckStore(String),
    /// A state's timeout expired.
    #[error("timed out after {after:?} ({state})")]
    Timeout {
        /// The state it expired in.
        state: State,
        /// The configured timeout.
        after: Duration,
    },
    /// The peer stopped reading: a frame could not be written within the timeout (a dead link
    /// with full buffers), so the connection is given up.
    #[error("the peer stopped reading: a frame was not written within {after:?}")]
    WriteStalled {
        /// The timeout.
        after: Duration,
    },
    /// The peer sent an `error` message.
    #[error("the peer refused: {code}: {message}")]
    Peer {
        /// Its code.
        code: ErrorCode,
        /// Its sentence.
        message: String,
    },
    /// A catalogue entry could not be read or described.
    #[error("catalogue: {0}")]
    Catalogue(String),
    /// A configuration value that cannot work.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Signing with a local key failed.
    #[error("signing failed: {0}")]
    Signing(String),
}

/// The code of an `error` message: what the sender refused, in a word a program can match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A frame over the maximum size.
    FrameTooLarge,
    /// A frame or message that does not parse.
    Malformed,
    /// A message out of place.
    Unexpected,
    /// A signature that is unusable or by the wrong key.
    BadSignature,
    /// A chunk that does not hash to its signed hash.
    TamperedChunk,
    /// A chunk at the wrong offset or of the wrong length.
    OutOfOrder,
    /// An ACK voucher not signed by the order's ACK signer.
    ForgedAck,
    /// An ACK below the highest already accepted.
    StaleAck,
    /// An ACK for bytes never sent.
    AckBeyondSent,
    /// The whole content does not match its hash.
    ContentMismatch,
    /// The order is refused (terms, item, chain, escrow, finished, busy, resume).
    OrderRefused,
    /// A state's timeout expired.
    Timeout,
    /// Anything else (the sender's own failure).
    Internal,
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        f.write_str(&s)
    }
}

impl Error {
    /// The code to tell the peer, when this error is something the peer should hear about.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::FrameTooLarge { .. } => ErrorCode::FrameTooLarge,
            Self::MalformedFrame(_) | Self::MalformedMessage { .. } => ErrorCode::Malformed,
            Self::UnexpectedMessage { .. } => ErrorCode::Unexpected,
            Self::BadSignature { .. } | Self::WrongSigner { .. } => ErrorCode::BadSignature,
            Self::TamperedChunk { .. } => ErrorCode::TamperedChunk,
            Self::ChunkOutOfOrder { .. } => ErrorCode::OutOfOrder,
            Self::ForgedAck { .. } => ErrorCode::ForgedAck,
            Self::StaleAck { .. } => ErrorCode::StaleAck,
            Self::AckBeyondSent { .. } => ErrorCode::AckBeyondSent,
            Self::ContentMismatch { .. } => ErrorCode::ContentMismatch,
            Self::OrderRefused(_)
            | Self::EscrowNotConfirmed { .. }
            | Self::OrderFinished(_)
            | Self::OrderBusy(_)
            | Self::ResumeRequired { .. } => ErrorCode::OrderRefused,
            Self::Timeout { .. } => ErrorCode::Timeout,
            Self::WriteStalled { .. } => ErrorCode::Timeout,
            Self::Io(_)
            | Self::Closed { .. }
            | Self::OrderBook(_)
            | Self::AckStore(_)
            | Self::Peer { .. }
            | Self::Catalogue(_)
            | Self::Config(_)
            | Self::Signing(_) => ErrorCode::Internal,
        }
    }

    /// Whether the peer should be told (an `error` message) before the connection is dropped: not
    /// when the connection is already gone or the peer itself gave up.
    pub(crate) fn tell_peer(&self) -> bool {
        !matches!(self, Self::Io(_) | Self::Closed { .. } | Self::Peer { .. } | Self::WriteStalled { .. })
    }
}
