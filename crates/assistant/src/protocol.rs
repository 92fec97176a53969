//! The messages of the pay-per-chunk conversation (`docs/assistant-payments.md`): JSON text frames,
//! `type` naming the message, fields in camelCase, amounts as decimal strings of the smallest unit.
//! The web app and the CLI speak exactly these.

use agora_llm::ChatMessage;
use alloy::primitives::{B256, U256};
use serde::{Deserialize, Serialize};

/// Amounts as decimal strings (`"1500"`), the way the rest of the API writes them.
pub mod decimal {
    use alloy::primitives::U256;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `v` in decimal.
    pub fn serialize<S: Serializer>(v: &U256, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    /// Reads a decimal string; anything else (hex, a number, a sign, spaces) is refused.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<U256, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() || s.len() > 78 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(serde::de::Error::custom(format!("{s:?} is not a decimal amount")));
        }
        U256::from_str_radix(&s, 10).map_err(|_| serde::de::Error::custom(format!("{s:?} is out of range")))
    }
}

/// The prices the payer saw, per 1,000 tokens; a reply is refused if they are no longer current.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeenPrices {
    /// Per 1,000 prompt tokens.
    #[serde(with = "decimal")]
    pub prompt: U256,
    /// Per 1,000 completion tokens.
    #[serde(with = "decimal")]
    pub completion: U256,
}

/// A voucher as the client sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VoucherMsg {
    /// Cumulative amount on the channel.
    #[serde(with = "decimal")]
    pub amount: U256,
    /// 65 bytes, `0x` hex (r, s, v).
    pub signature: String,
}

/// Starts a reply (or resumes it, when `request_id` is known and the request is the same).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartMsg {
    /// The idempotency key (a UUID); at most 64 characters.
    pub request_id: String,
    /// The channel that pays.
    pub channel_id: B256,
    /// A model id from the list of models.
    pub model: String,
    /// The conversation so far, ending with the person's message.
    pub messages: Vec<ChatMessage>,
    /// Most completion tokens the reply may use.
    pub max_tokens: u32,
    /// The prices the payer saw.
    pub prices: SeenPrices,
    /// Pays what the channel owes before this reply, if anything.
    #[serde(default)]
    pub voucher: Option<VoucherMsg>,
}

/// What a client sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase", deny_unknown_fields)]
pub enum ClientMsg {
    /// Start (or resume) a reply.
    Start(StartMsg),
    /// Pay up to `amount` on the reply's channel.
    Voucher {
        /// The reply being paid.
        request_id: String,
        /// Cumulative amount on the channel.
        #[serde(with = "decimal")]
        amount: U256,
        /// 65 bytes, `0x` hex.
        signature: String,
    },
    /// Reattach to a reply after a dropped connection or a restart of the node.
    Resume {
        /// The reply.
        request_id: String,
        /// The highest chunk `seq` the client holds (0: none).
        received: u32,
        /// A voucher the client signed but saw no `paid` for.
        #[serde(default)]
        voucher: Option<VoucherMsg>,
    },
    /// Stop generating; what was delivered stays billed.
    Stop {
        /// The reply.
        request_id: String,
    },
}

/// Why a reply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model finished its answer.
    Stop,
    /// `maxTokens` was reached.
    Length,
    /// The payer stopped it.
    Stopped,
}

impl FinishReason {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::Length => "length",
            Self::Stopped => "stopped",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "stop" => Self::Stop,
            "length" => Self::Length,
            "stopped" => Self::Stopped,
            _ => return None,
        })
    }
}

/// Why something was refused or a reply stopped; the client shows the message and, per code,
/// offers the way out (top up, extend, pay what is owed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A frame that is not a message of this protocol.
    BadMessage,
    /// No such model here.
    UnknownModel,
    /// The prices sent are not the current ones.
    TermsChanged,
    /// No such channel is indexed.
    UnknownChannel,
    /// The channel's payer is not the signed-in wallet, or it does not pay this assistant.
    NotYourChannel,
    /// An admin disabled this user.
    UserDisabled,
    /// Closed or reclaimed on chain: never pay it again.
    ChannelClosed,
    /// Inside the safety margin before expiry: extend it.
    Expiring,
    /// Past its expiry (chain time): the payee can no longer settle it, so it takes no payment;
    /// its payer can reclaim the deposit.
    Expired,
    /// The deposit cannot cover the reply: top up.
    DepositSpent,
    /// Another reply is streaming on this channel.
    Busy,
    /// A previous reply is unpaid: pay `owed` first.
    Owed,
    /// The ledger refused the voucher (forged, stale, wrong signer, over the deposit).
    VoucherRefused,
    /// No voucher came in time; the reply stopped.
    PaymentTimeout,
    /// The request id was used for another request.
    IdempotencyConflict,
    /// No such reply.
    UnknownRequest,
    /// The model failed.
    Model,
    /// The node could not record something; nothing was charged for it.
    Internal,
}

/// What the node sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum ServerMsg {
    /// The reply is accepted and billed from `base`.
    Started {
        /// The reply.
        request_id: String,
        /// What the channel was billed before this reply.
        #[serde(with = "decimal")]
        base: U256,
        /// The prompt's tokens, charged with the first chunk.
        prompt_tokens: u32,
        /// The most the reply can cost (`maxTokens` reached).
        #[serde(with = "decimal")]
        max_cost: U256,
    },
    /// A chunk of the reply; the next one waits for a voucher of at least `cumulative`.
    Chunk {
        /// The reply.
        request_id: String,
        /// 1, 2, … (after a resume a chunk may come twice: keep the first).
        seq: u32,
        /// The text.
        text: String,
        /// Completion tokens in it.
        tokens: u32,
        /// The reply's cost so far.
        #[serde(with = "decimal")]
        cost: U256,
        /// Sign a voucher for this amount.
        #[serde(with = "decimal")]
        cumulative: U256,
    },
    /// The ledger stored a voucher; `accepted` is the channel's paid total.
    Paid {
        /// The reply the voucher was sent for.
        request_id: String,
        /// The channel's accepted total.
        #[serde(with = "decimal")]
        accepted: U256,
    },
    /// The reply is complete and paid.
    Done {
        /// The reply.
        request_id: String,
        /// Why it ended.
        finish: FinishReason,
        /// Prompt tokens charged.
        prompt_tokens: u32,
        /// Completion tokens delivered.
        completion_tokens: u32,
        /// The reply's cost.
        #[serde(with = "decimal")]
        cost: U256,
        /// The channel's billed total after it.
        #[serde(with = "decimal")]
        cumulative: U256,
    },
    /// A refusal, or the reason a reply stopped.
    Error {
        /// The reply concerned, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
        /// What happened, for programs.
        code: ErrorCode,
        /// What happened, for people.
        message: String,
        /// For `owed`, `deposit_spent`, `payment_timeout`: the amount the channel must cover.
        #[serde(skip_serializing_if = "Option::is_none", with = "opt_decimal", default)]
        owed: Option<U256>,
        /// For `deposit_spent`: the channel's deposit.
        #[serde(skip_serializing_if = "Option::is_none", with = "opt_decimal", default)]
        deposit: Option<U256>,
        /// For `expiring` and `expired`: the channel's expiry (Unix seconds).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        expiry: Option<u64>,
    },
}

mod opt_decimal {
    use alloy::primitives::U256;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &Option<U256>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<U256>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(with = "super::decimal")] U256);
        Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
    }
}

/// A refusal as the protocol carries it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    /// For programs.
    pub code: ErrorCode,
    /// For people.
    pub message: String,
    /// The amount to cover, where the code has one.
    pub owed: Option<U256>,
    /// The channel's deposit, for `deposit_spent`.
    pub deposit: Option<U256>,
    /// The channel's expiry, for `expiring` and `expired`.
    pub expiry: Option<u64>,
}

impl Refusal {
    /// A refusal with only a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), owed: None, deposit: None, expiry: None }
    }

    /// The message that carries it, about `request_id`.
    pub fn to_msg(&self, request_id: Option<String>) -> ServerMsg {
        ServerMsg::Error {
            request_id,
            code: self.code,
            message: self.message.clone(),
            owed: self.owed,
            deposit: self.deposit,
            expiry: self.expiry,
        }
    }
}

impl ServerMsg {
    /// The reply a message is about.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Started { request_id, .. }
            | Self::Chunk { request_id, .. }
            | Self::Paid { request_id, .. }
            | Self::Done { request_id, .. } => Some(request_id),
            Self::Error { request_id, .. } => request_id.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_have_the_documented_shape() {
        let start: ClientMsg = serde_json::from_str(
            r#"{"type":"start","requestId":"r1","channelId":"0x0101010101010101010101010101010101010101010101010101010101010101",
                "model":"m","messages":[{"role":"user","content":"hi"}],"maxTokens":32,
                "prices":{"prompt":"10","completion":"20"}}"#,
        )
        .unwrap();
        let ClientMsg::Start(s) = start else { panic!("not a start") };
        assert_eq!(s.prices.completion, U256::from(20));
        assert_eq!(s.voucher, None);

        let chunk = ServerMsg::Chunk {
            request_id: "r1".into(),
            seq: 1,
            text: "Hel".into(),
            tokens: 2,
            cost: U256::from(7),
            cumulative: U256::from(107),
        };
        assert_eq!(
            serde_json::to_string(&chunk).unwrap(),
            r#"{"type":"chunk","requestId":"r1","seq":1,"text":"Hel","tokens":2,"cost":"7","cumulative":"107"}"#
        );
        let err = Refusal { owed: Some(U256::from(5)), ..Refusal::new(ErrorCode::Owed, "pay 5") }.to_msg(None);
        assert_eq!(
            serde_json::to_string(&err).unwrap(),
            r#"{"type":"error","code":"owed","message":"pay 5","owed":"5"}"#
        );
        let back: ServerMsg = serde_json::from_str(&serde_json::to_string(&err).unwrap()).unwrap();
        assert_eq!(back, err);
    }

    #[test]
    fn malformed_amounts_and_unknown_fields_are_refused() {
        for bad in [
            r#"{"type":"voucher","requestId":"r","amount":"0x10","signature":"0x"}"#,
            r#"{"type":"voucher","requestId":"r","amount":"-1","signature":"0x"}"#,
            r#"{"type":"voucher","requestId":"r","amount":12,"signature":"0x"}"#,
            r#"{"type":"voucher","requestId":"r","amount":"1","signature":"0x","extra":1}"#,
            r#"{"type":"pay","requestId":"r"}"#,
        ] {
            assert!(serde_json::from_str::<ClientMsg>(bad).is_err(), "{bad} was accepted");
        }
    }
}
