//! What `chain_logs.event` holds: a [`MarketEvent`] in an encoding this module owns, written and
//! read by hand, so that renaming or reshaping the Rust enum cannot change what is stored or make a
//! stored log unreadable.
//!
//! Version 1, written today: one JSON object, `"v":1` first, then `"kind"` (the contract's event
//! name) and the event's fields in a fixed order. Addresses, hashes and amounts are JSON strings
//! (amounts in decimal), ids, times and durations JSON numbers (unsigned 64-bit):
//!
//! ```text
//! {"v":1,"kind":"TaskCreated","task_id":1,"user":"0x90f7…","service_id":1,"amount":"10000000000000000"}
//! ```
//!
//! Each kind's name and field names are written out in [`encode`] and [`read`], not taken from the
//! enum's names; reading a v1 event refuses a missing, mistyped or unknown field. The logs written before the encoding had a version (serde's derive
//! on `MarketEvent`, `#[serde(tag = "kind")]`) are the same object without `"v"`; they are read as
//! they always were (unknown fields ignored), so a database that already holds them needs no
//! migration. A change to the stored shape is a new version: `encode` writes only the newest,
//! `decode` keeps reading every older one.

use serde_json::{Map, Value};

use crate::{Error, MarketEvent, Result};

mod board;
#[cfg(test)]
mod board_state_tests;
#[cfg(test)]
mod board_tests;
#[cfg(test)]
mod fixture;
mod fl;
#[cfg(test)]
mod fl_tests;
#[cfg(test)]
mod tests;

/// The version [`encode`] writes.
pub(crate) const VERSION: u64 = 1;

/// An event's stored form, in the newest version.
pub(crate) fn encode(event: &MarketEvent) -> String {
    use MarketEvent::*;
    let o = Writer::new;
    match event {
        ServiceListed { service_id, provider, token, price, max_run_time, metadata_uri } => o("ServiceListed")
            .num("service_id", *service_id)
            .str("provider", provider)
            .str("token", token)
            .str("price", price)
            .num("max_run_time", *max_run_time)
            .str("metadata_uri", metadata_uri),
        ServiceUpdated { service_id, price, max_run_time, metadata_uri } => o("ServiceUpdated")
            .num("service_id", *service_id)
            .str("price", price)
            .num("max_run_time", *max_run_time)
            .str("metadata_uri", metadata_uri),
        ServiceDelisted { service_id } => o("ServiceDelisted").num("service_id", *service_id),
        TaskCreated { task_id, user, service_id, amount } => o("TaskCreated")
            .num("task_id", *task_id)
            .str("user", user)
            .num("service_id", *service_id)
            .str("amount", amount),
        TaskInput { task_id, deadline, input } => {
            o("TaskInput").num("task_id", *task_id).num("deadline", *deadline).str("input", input)
        }
        TaskStarted { task_id } => o("TaskStarted").num("task_id", *task_id),
        TaskRefunded { task_id } => o("TaskRefunded").num("task_id", *task_id),
        TaskCompleted { task_id, result_hash } => {
            o("TaskCompleted").num("task_id", *task_id).str("result_hash", result_hash)
        }
        TaskFailed { task_id, reason } => o("TaskFailed").num("task_id", *task_id).str("reason", reason),
        ChannelOpened { channel_id, payer, payee, token, signer, salt, deposit, expiry } => o("ChannelOpened")
            .str("channel_id", channel_id)
            .str("payer", payer)
            .str("payee", payee)
            .str("token", token)
            .str("signer", signer)
            .str("salt", salt)
            .str("deposit", deposit)
            .num("expiry", *expiry),
        ChannelToppedUp { channel_id, amount, deposit } => {
            o("ChannelToppedUp").str("channel_id", channel_id).str("amount", amount).str("deposit", deposit)
        }
        ChannelExtended { channel_id, expiry } => {
            o("ChannelExtended").str("channel_id", channel_id).num("expiry", *expiry)
        }
        ChannelClosed { channel_id, paid_to_payee, refunded_to_payer } => o("ChannelClosed")
            .str("channel_id", channel_id)
            .str("paid_to_payee", paid_to_payee)
            .str("refunded_to_payer", refunded_to_payer),
        ChannelReclaimed { channel_id, refunded_to_payer } => {
            o("ChannelReclaimed").str("channel_id", channel_id).str("refunded_to_payer", refunded_to_payer)
        }
        SellerRegistered { seller, endpoint, message_signer, menu_hash, menu_uri } => o("SellerRegistered")
            .str("seller", seller)
            .str("endpoint", endpoint)
            .str("message_signer", message_signer)
            .str("menu_hash", menu_hash)
            .str("menu_uri", menu_uri),
        SellerUpdated { seller, endpoint, message_signer, menu_hash, menu_uri } => o("SellerUpdated")
            .str("seller", seller)
            .str("endpoint", endpoint)
            .str("message_signer", message_signer)
            .str("menu_hash", menu_hash)
            .str("menu_uri", menu_uri),
        SellerDeregistered { seller } => o("SellerDeregistered").str("seller", seller),
        OrderOpened {
            order_id,
            buyer,
            seller,
            token,
            price,
            total_bytes,
            deadline,
            started_from,
            nonce,
            ack_signer,
            method,
        } => o("OrderOpened")
            .str("order_id", order_id)
            .str("buyer", buyer)
            .str("seller", seller)
            .str("token", token)
            .str("price", price)
            .num("total_bytes", *total_bytes)
            .num("deadline", *deadline)
            .num("started_from", *started_from)
            .str("nonce", nonce)
            .str("ack_signer", ack_signer)
            .str("method", method),
        OrderEnded { order_id, by, received, settle_at } => o("OrderEnded")
            .str("order_id", order_id)
            .str("by", by)
            .num("received", *received)
            .num("settle_at", *settle_at),
        OrderChallenged { order_id, by, received } => {
            o("OrderChallenged").str("order_id", order_id).str("by", by).num("received", *received)
        }
        OrderSettled { order_id, received, paid_to_seller, refunded_to_buyer } => o("OrderSettled")
            .str("order_id", order_id)
            .num("received", *received)
            .str("paid_to_seller", paid_to_seller)
            .str("refunded_to_buyer", refunded_to_buyer),
        OrderConfirmedPaid { order_id } => o("OrderConfirmedPaid").str("order_id", order_id),
        OrderExpired { order_id } => o("OrderExpired").str("order_id", order_id),
        OrderRated { order_id, rater, rated, score, comment_hash } => o("OrderRated")
            .str("order_id", order_id)
            .str("rater", rater)
            .str("rated", rated)
            .num("score", *score)
            .str("comment_hash", comment_hash),
        Fl(event) => fl::encode(event),
        Board(event) => board::encode_board(event),
        Community(event) => board::encode_community(event),
    }
    .finish()
}

/// Reads a stored event of any version this code has ever written.
pub(crate) fn decode(text: &str) -> Result<MarketEvent> {
    let fail = |why: String| Error::StoredEvent(format!("{why} in {}", excerpt(text)));
    let mut object: Map<String, Value> = serde_json::from_str(text).map_err(|e| fail(e.to_string()))?;
    let strict = match object.remove("v") {
        // Before versions: serde's derive, which ignored fields it did not know.
        None => false,
        Some(v) if v.as_u64() == Some(1) => true,
        Some(v) => return Err(fail(format!("unknown version {v}"))),
    };
    let kind = match object.remove("kind") {
        Some(Value::String(kind)) => kind,
        _ => return Err(fail("no \"kind\"".into())),
    };
    let mut fields = Fields { object, kind: &kind };
    let event = read(&mut fields).map_err(fail)?;
    if strict && let Some(extra) = fields.object.keys().next() {
        return Err(fail(format!("unknown field {extra:?} of {kind}")));
    }
    Ok(event)
}

/// The event `f.kind` from its fields; the names are the ones [`encode`] writes.
fn read(f: &mut Fields<'_>) -> std::result::Result<MarketEvent, String> {
    use MarketEvent::*;
    Ok(match f.kind {
        "ServiceListed" => ServiceListed {
            service_id: f.num("service_id")?,
            provider: f.str("provider")?,
            token: f.str("token")?,
            price: f.str("price")?,
            max_run_time: f.num("max_run_time")?,
            metadata_uri: f.str("metadata_uri")?,
        },
        "ServiceUpdated" => ServiceUpdated {
            service_id: f.num("service_id")?,
            price: f.str("price")?,
            max_run_time: f.num("max_run_time")?,
            metadata_uri: f.str("metadata_uri")?,
        },
        "ServiceDelisted" => ServiceDelisted { service_id: f.num("service_id")? },
        "TaskCreated" => TaskCreated {
            task_id: f.num("task_id")?,
            user: f.str("user")?,
            service_id: f.num("service_id")?,
            amount: f.str("amount")?,
        },
        "TaskInput" => TaskInput { task_id: f.num("task_id")?, deadline: f.num("deadline")?, input: f.str("input")? },
        "TaskStarted" => TaskStarted { task_id: f.num("task_id")? },
        "TaskCompleted" => TaskCompleted { task_id: f.num("task_id")?, result_hash: f.str("result_hash")? },
        "TaskFailed" => TaskFailed { task_id: f.num("task_id")?, reason: f.str("reason")? },
        "TaskRefunded" => TaskRefunded { task_id: f.num("task_id")? },
        "ChannelOpened" => ChannelOpened {
            channel_id: f.str("channel_id")?,
            payer: f.str("payer")?,
            payee: f.str("payee")?,
            token: f.str("token")?,
            signer: f.str("signer")?,
            salt: f.str("salt")?,
            deposit: f.str("deposit")?,
            expiry: f.num("expiry")?,
        },
        "ChannelToppedUp" => {
            ChannelToppedUp { channel_id: f.str("channel_id")?, amount: f.str("amount")?, deposit: f.str("deposit")? }
        }
        "ChannelExtended" => ChannelExtended { channel_id: f.str("channel_id")?, expiry: f.num("expiry")? },
        "ChannelClosed" => ChannelClosed {
            channel_id: f.str("channel_id")?,
            paid_to_payee: f.str("paid_to_payee")?,
            refunded_to_payer: f.str("refunded_to_payer")?,
        },
        "ChannelReclaimed" => {
            ChannelReclaimed { channel_id: f.str("channel_id")?, refunded_to_payer: f.str("refunded_to_payer")? }
        }
        "SellerRegistered" => SellerRegistered {
            seller: f.str("seller")?,
            endpoint: f.str("endpoint")?,
            message_signer: f.str("message_signer")?,
            menu_hash: f.str("menu_hash")?,
            menu_uri: f.str("menu_uri")?,
        },
        "SellerUpdated" => SellerUpdated {
            seller: f.str("seller")?,
            endpoint: f.str("endpoint")?,
            message_signer: f.str("message_signer")?,
            menu_hash: f.str("menu_hash")?,
            menu_uri: f.str("menu_uri")?,
        },
        "SellerDeregistered" => SellerDeregistered { seller: f.str("seller")? },
        "OrderOpened" => OrderOpened {
            order_id: f.str("order_id")?,
            buyer: f.str("buyer")?,
            seller: f.str("seller")?,
            token: f.str("token")?,
            price: f.str("price")?,
            total_bytes: f.num("total_bytes")?,
            deadline: f.num("deadline")?,
            started_from: f.num("started_from")?,
            nonce: f.str("nonce")?,
            ack_signer: f.str("ack_signer")?,
            method: f.str("method")?,
        },
        "OrderEnded" => OrderEnded {
            order_id: f.str("order_id")?,
            by: f.str("by")?,
            received: f.num("received")?,
            settle_at: f.num("settle_at")?,
        },
        "OrderChallenged" => {
            OrderChallenged { order_id: f.str("order_id")?, by: f.str("by")?, received: f.num("received")? }
        }
        "OrderSettled" => OrderSettled {
            order_id: f.str("order_id")?,
            received: f.num("received")?,
            paid_to_seller: f.str("paid_to_seller")?,
            refunded_to_buyer: f.str("refunded_to_buyer")?,
        },
        "OrderConfirmedPaid" => OrderConfirmedPaid { order_id: f.str("order_id")? },
        "OrderExpired" => OrderExpired { order_id: f.str("order_id")? },
        "OrderRated" => OrderRated {
            order_id: f.str("order_id")?,
            rater: f.str("rater")?,
            rated: f.str("rated")?,
            score: f.num("score")?,
            comment_hash: f.str("comment_hash")?,
        },
        _ => {
            if let Some(event) = fl::read(f)? {
                Fl(event)
            } else if let Some(event) = board::read_board(f)? {
                Board(event)
            } else if let Some(event) = board::read_community(f)? {
                Community(event)
            } else {
                return Err(format!("unknown kind {:?}", f.kind));
            }
        }
    })
}

/// Writes one object in a fixed field order.
struct Writer(String);

impl Writer {
    fn new(kind: &str) -> Self {
        let mut out = format!("{{\"v\":{VERSION},\"kind\":");
        push_json_string(&mut out, kind);
        Self(out)
    }

    fn name(&mut self, name: &str) {
        self.0.push(',');
        push_json_string(&mut self.0, name);
        self.0.push(':');
    }

    fn str(mut self, name: &str, value: &str) -> Self {
        self.name(name);
        push_json_string(&mut self.0, value);
        self
    }

    fn num(mut self, name: &str, value: u64) -> Self {
        self.name(name);
        self.0.push_str(&value.to_string());
        self
    }

    fn finish(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

/// A JSON string literal: `"` and `\` escaped, control characters as `\n`, `\r`, `\t`, `\b`, `\f`
/// or `\u00XX`, everything else (non-ASCII included) as it is.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c < ' ' => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The fields of one stored object, taken out one by one.
struct Fields<'a> {
    object: Map<String, Value>,
    kind: &'a str,
}

impl Fields<'_> {
    fn take(&mut self, name: &str) -> std::result::Result<Value, String> {
        self.object.remove(name).ok_or_else(|| format!("{} has no {name:?}", self.kind))
    }

    fn str(&mut self, name: &str) -> std::result::Result<String, String> {
        match self.take(name)? {
            Value::String(s) => Ok(s),
            other => Err(format!("{}.{name} is {other}, not a string", self.kind)),
        }
    }

    fn num(&mut self, name: &str) -> std::result::Result<u64, String> {
        let value = self.take(name)?;
        value.as_u64().ok_or_else(|| format!("{}.{name} is {value}, not an unsigned 64-bit integer", self.kind))
    }
}

/// The start of a stored text, for an error message.
fn excerpt(text: &str) -> String {
    match text.char_indices().nth(120) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}
