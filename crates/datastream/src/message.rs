//! The seed's envelope, `{message_type, payload, signature, verification}`, and every message in it.
//!
//! `signature` is the sender's EIP-191 `personal_sign` over the EIP-712 `hashStruct` of the payload
//! (see [`crate::typed`]'s structs): a canonical encoding any Ethereum library reproduces, never the
//! JSON text. `verification` is the seed's proof of payment: the escrow transaction's hash in an
//! `order`, the buyer's EIP-712 ACK voucher in an `ack` and in a resuming `hello`, empty elsewhere
//! (the order's transaction hash is also signed; a voucher authenticates itself).

use alloy::hex;
use alloy::primitives::{Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolStruct;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode, Result};
use crate::sign::{self, SignatureError};
use crate::typed;

/// The protocol's name and version, said in every `hello`.
pub const PROTOCOL: &str = "agora-datastream/1";

/// The kinds of message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    /// Buyer → seller: who is asking, for which market; optionally resuming an order.
    Hello,
    /// Seller → buyer: what is for sale.
    Menu,
    /// Buyer → seller: the order, with its escrow transaction.
    Order,
    /// Seller → buyer: one chunk.
    Data,
    /// Buyer → seller: the cumulative voucher.
    Ack,
    /// Either side: the end, with an optional rating.
    Exit,
    /// Either side: a refusal.
    Error,
}

impl MessageType {
    /// The `message_type` string on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hello => "hello",
            Self::Menu => "menu",
            Self::Order => "order",
            Self::Data => "data",
            Self::Ack => "ack",
            Self::Exit => "exit",
            Self::Error => "error",
        }
    }

    /// The EIP-712 type string of its payload's typed form (`encodeType`), whose keccak256 is the
    /// type hash.
    pub fn eip712_type(self) -> String {
        match self {
            Self::Hello => typed::Hello::eip712_encode_type(),
            Self::Menu => typed::Menu::eip712_encode_type(),
            Self::Order => typed::Order::eip712_encode_type(),
            Self::Data => typed::Chunk::eip712_encode_type(),
            Self::Ack => typed::Received::eip712_encode_type(),
            Self::Exit => typed::Exit::eip712_encode_type(),
            Self::Error => typed::Failure::eip712_encode_type(),
        }
        .into_owned()
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Hello, Self::Menu, Self::Order, Self::Data, Self::Ack, Self::Exit, Self::Error]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

impl std::fmt::Display for MessageType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Amounts as decimal strings (JSON numbers cannot hold a `uint256`).
mod decimal {
    use alloy::primitives::U256;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &U256, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<U256, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(serde::de::Error::custom(format!("{s:?} is not a decimal integer")));
        }
        U256::from_str_radix(&s, 10).map_err(serde::de::Error::custom)
    }
}

/// `hello`'s payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hello {
    /// [`PROTOCOL`].
    pub protocol: String,
    /// The chain the buyer means.
    pub chain_id: u64,
    /// The `DataMarket` the buyer means.
    pub market: Address,
    /// The buyer's account (the order's `buyer`).
    pub buyer: Address,
    /// The key that signs the buyer's envelopes: the account or the order's ACK signer.
    pub message_key: Address,
    /// Fresh per connection; the menu repeats it, so a menu cannot be replayed into another session.
    pub nonce: B256,
    /// Present when the buyer continues an order; its voucher travels in `verification`.
    pub resume: Option<Resume>,
}

/// A resuming `hello`'s order and last ACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resume {
    /// The order.
    pub order_id: B256,
    /// The buyer's last cumulative ACK.
    pub acked: u64,
}

/// One thing for sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// Its name in the catalogue.
    pub name: String,
    /// Bytes.
    pub size: u64,
    /// The price of the whole, in the token's smallest unit.
    #[serde(with = "decimal")]
    pub price: U256,
    /// The token; `Address::ZERO` for ETH.
    pub token: Address,
    /// The granularity: every chunk but the last is this long.
    pub chunk_size: u64,
    /// SHA-256 of the whole content.
    pub sha256: B256,
}

/// `menu`'s payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Menu {
    /// The seller's chain.
    pub chain_id: u64,
    /// The seller's `DataMarket`.
    pub market: Address,
    /// The seller's account (the order's `seller`, who is paid).
    pub seller: Address,
    /// The key that signs the seller's envelopes (the one in the registry).
    pub message_key: Address,
    /// The `hello`'s nonce.
    pub hello_nonce: B256,
    /// How deep the escrow must be before the first byte is sent.
    pub confirmations: u64,
    /// What is for sale.
    pub items: Vec<Item>,
}

/// `order`'s payload: the terms the buyer escrowed; the escrow transaction is in `verification`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Order {
    /// The order id, derived from the fields below as the contract derives it.
    pub order_id: B256,
    /// The buyer's account.
    pub buyer: Address,
    /// The seller's account.
    pub seller: Address,
    /// Unix seconds the order was made.
    pub started_from: u64,
    /// The buyer's choice, so that two orders in one second differ.
    #[serde(with = "decimal")]
    pub nonce: U256,
    /// The item's name.
    pub item: String,
    /// The item's content hash.
    pub sha256: B256,
    /// The item's size (the order's total data).
    pub size: u64,
    /// The escrowed price.
    #[serde(with = "decimal")]
    pub price: U256,
    /// The escrowed token.
    pub token: Address,
    /// The key whose ACKs the contract accepts (a session key, or the buyer).
    pub ack_signer: Address,
    /// Unix seconds after which anyone may settle.
    pub deadline: u64,
}

/// `data`'s payload; the chunk itself follows the envelope in the frame's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chunk {
    /// The order.
    pub order_id: B256,
    /// Where the chunk starts in the item.
    pub offset: u64,
    /// The body's length.
    pub length: u64,
    /// SHA-256 of the body.
    pub sha256: B256,
}

/// `ack`'s payload; the EIP-712 voucher for the same two values is in `verification`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Received {
    /// The order.
    pub order_id: B256,
    /// Cumulative bytes received and verified.
    pub received: u64,
}

/// Why a side sends `exit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    /// Everything was delivered and acknowledged.
    Complete,
    /// The sender stops before the end.
    Stopped,
}

impl ExitReason {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Complete => "complete",
            Self::Stopped => "stopped",
        }
    }
}

/// A rating of the other side: 1 to 5, and a comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rating {
    /// 1 (worst) to 5 (best).
    pub score: u8,
    /// Free text.
    pub comment: String,
}

/// `exit`'s payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exit {
    /// The order.
    pub order_id: B256,
    /// The highest cumulative ACK as the sender knows it.
    pub received: u64,
    /// Why.
    pub reason: ExitReason,
    /// The sender's rating of the other side, if it gives one.
    pub rating: Option<Rating>,
}

/// `error`'s payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Failure {
    /// What was refused.
    pub code: ErrorCode,
    /// A sentence for a person.
    pub message: String,
}

/// A message with what travels in `verification`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// `hello`; with a resume, the voucher for it.
    Hello(Hello, Option<[u8; 65]>),
    /// `menu`.
    Menu(Menu),
    /// `order` and its escrow transaction's hash.
    Order(Order, B256),
    /// `data` (its body travels beside it).
    Data(Chunk),
    /// `ack` and its EIP-712 voucher.
    Ack(Received, [u8; 65]),
    /// `exit`.
    Exit(Exit),
    /// `error`.
    Error(Failure),
}

/// The envelope as JSON.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    message_type: String,
    payload: serde_json::Value,
    signature: String,
    verification: String,
}

/// A message as received: what it says and who signed it (checked by the caller against who must).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The message.
    pub message: Message,
    /// The envelope signature's signer.
    pub signer: Address,
}

impl Message {
    /// Its type.
    pub fn kind(&self) -> MessageType {
        match self {
            Self::Hello(..) => MessageType::Hello,
            Self::Menu(_) => MessageType::Menu,
            Self::Order(..) => MessageType::Order,
            Self::Data(_) => MessageType::Data,
            Self::Ack(..) => MessageType::Ack,
            Self::Exit(_) => MessageType::Exit,
            Self::Error(_) => MessageType::Error,
        }
    }

    /// The 32 bytes the sender `personal_sign`s: the payload's EIP-712 `hashStruct`.
    pub fn digest(&self) -> B256 {
        typed::hash_struct(self)
    }

    fn payload(&self) -> Result<serde_json::Value, serde_json::Error> {
        match self {
            Self::Hello(h, _) => serde_json::to_value(h),
            Self::Menu(m) => serde_json::to_value(m),
            Self::Order(o, _) => serde_json::to_value(o),
            Self::Data(c) => serde_json::to_value(c),
            Self::Ack(r, _) => serde_json::to_value(r),
            Self::Exit(e) => serde_json::to_value(e),
            Self::Error(f) => serde_json::to_value(f),
        }
    }

    fn verification(&self) -> String {
        match self {
            Self::Hello(_, Some(v)) | Self::Ack(_, v) => hex::encode_prefixed(v),
            Self::Order(_, tx) => hex::encode_prefixed(tx),
            _ => String::new(),
        }
    }

    /// The envelope's JSON with `signature` made by `key`: a frame's header.
    pub fn encode(&self, key: &PrivateKeySigner) -> Result<Vec<u8>> {
        let signature = sign::personal_sign(key, self.digest())?;
        self.encode_with(&signature)
    }

    /// The envelope's JSON with a given signature (tests that forge one).
    pub fn encode_with(&self, signature: &[u8]) -> Result<Vec<u8>> {
        let malformed = |e: serde_json::Error| Error::MalformedMessage {
            message_type: self.kind().to_string(),
            reason: e.to_string(),
        };
        let envelope = Envelope {
            message_type: self.kind().as_str().into(),
            payload: self.payload().map_err(malformed)?,
            signature: hex::encode_prefixed(signature),
            verification: self.verification(),
        };
        serde_json::to_vec(&envelope).map_err(malformed)
    }

    /// Parses an envelope, checks its payload against its type, and recovers its signer. A `body`
    /// belongs to `data` only, and must be as long as the chunk says.
    pub fn decode(header: &[u8], body: &[u8]) -> Result<Signed> {
        let env: Envelope = serde_json::from_slice(header)
            .map_err(|e| Error::MalformedFrame(format!("header is not a message envelope: {e}")))?;
        let Some(kind) = MessageType::parse(&env.message_type) else {
            return Err(Error::MalformedMessage {
                message_type: env.message_type.clone(),
                reason: "unknown message type".into(),
            });
        };
        let bad = |reason: String| Error::MalformedMessage { message_type: kind.to_string(), reason };
        let payload = env.payload;
        fn take<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, String> {
            serde_json::from_value(v).map_err(|e| format!("payload: {e}"))
        }
        let voucher = |v: &str| -> Result<[u8; 65], String> {
            let bytes = hex::decode(v).map_err(|e| format!("verification: {e}"))?;
            bytes.try_into().map_err(|b: Vec<u8>| format!("verification: a voucher is 65 bytes, got {}", b.len()))
        };
        let none = |v: &str| if v.is_empty() { Ok(()) } else { Err("verification must be empty".to_string()) };
        let message = match kind {
            MessageType::Hello => {
                let h: Hello = take(payload).map_err(bad)?;
                let v = match h.resume {
                    Some(_) => Some(voucher(&env.verification).map_err(bad)?),
                    None => none(&env.verification).map(|()| None).map_err(bad)?,
                };
                Message::Hello(h, v)
            }
            MessageType::Menu => {
                none(&env.verification).map_err(bad)?;
                Message::Menu(take(payload).map_err(bad)?)
            }
            MessageType::Order => {
                let tx: B256 = env.verification.parse().map_err(|e| bad(format!("verification: {e}")))?;
                Message::Order(take(payload).map_err(bad)?, tx)
            }
            MessageType::Data => {
                none(&env.verification).map_err(bad)?;
                Message::Data(take(payload).map_err(bad)?)
            }
            MessageType::Ack => Message::Ack(take(payload).map_err(bad)?, voucher(&env.verification).map_err(bad)?),
            MessageType::Exit => {
                none(&env.verification).map_err(bad)?;
                let e: Exit = take(payload).map_err(bad)?;
                if let Some(r) = &e.rating
                    && !(1..=5).contains(&r.score)
                {
                    return Err(bad(format!("rating score {} is not 1 to 5", r.score)));
                }
                Message::Exit(e)
            }
            MessageType::Error => {
                none(&env.verification).map_err(bad)?;
                Message::Error(take(payload).map_err(bad)?)
            }
        };
        match &message {
            Message::Data(c) if c.length != body.len() as u64 => {
                return Err(bad(format!("header says {} bytes, the body has {}", c.length, body.len())));
            }
            Message::Data(_) => {}
            _ if !body.is_empty() => return Err(bad(format!("a {kind} frame carries no body, got {}", body.len()))),
            _ => {}
        }
        let sig = hex::decode(&env.signature).map_err(|e| bad(format!("signature: {e}")))?;
        let signer = sign::recover_personal(message.digest(), &sig)
            .map_err(|source: SignatureError| Error::BadSignature { message: kind, source })?;
        Ok(Signed { message, signer })
    }
}
