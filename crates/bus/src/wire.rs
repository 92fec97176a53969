//! What crosses Redis: one JSON envelope per message on the deployment's channel, numbered per
//! publisher, and the subscriber's check of those numbers.
//!
//! `{"v":1,"src":"…","seq":7,"kind":"log","chainId":31337,"block":12,"tx":"0x…","logIndex":0,"subject":"task:3"}`,
//! `{"v":1,"src":"…","seq":8,"kind":"changed","subject":"task:3"}`, and a heartbeat
//! `{"v":1,"src":"…","seq":8,"kind":"heartbeat"}` that says the publisher has handed out numbers up
//! to `seq` (so a message lost last, with nothing after it, is still noticed).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::{Delivery, LogRef, Message};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub(crate) enum Body {
    #[serde(rename_all = "camelCase")]
    Log {
        chain_id: u64,
        block: u64,
        tx: String,
        log_index: u64,
        subject: String,
    },
    Changed {
        subject: String,
    },
    Heartbeat,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Envelope {
    pub(crate) v: u32,
    /// The publishing process, fresh at every start.
    pub(crate) src: String,
    /// The publisher's number for this message (for a heartbeat: the last number handed out).
    pub(crate) seq: u64,
    #[serde(flatten)]
    pub(crate) body: Body,
}

impl Envelope {
    pub(crate) fn new(src: &str, seq: u64, message: &Message) -> Self {
        let body = match message {
            Message::Log(l) => Body::Log {
                chain_id: l.chain_id,
                block: l.block_number,
                tx: l.tx_hash.clone(),
                log_index: l.log_index,
                subject: l.subject.clone(),
            },
            Message::Changed { subject } => Body::Changed { subject: subject.clone() },
        };
        Self { v: 1, src: src.to_owned(), seq, body }
    }

    pub(crate) fn heartbeat(src: &str, seq: u64) -> Self {
        Self { v: 1, src: src.to_owned(), seq, body: Body::Heartbeat }
    }

    pub(crate) fn encode(&self) -> String {
        // A struct of strings and integers always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub(crate) fn decode(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }

    fn message(self) -> Option<Message> {
        match self.body {
            Body::Log { chain_id, block, tx, log_index, subject } => {
                Some(Message::Log(LogRef { chain_id, block_number: block, tx_hash: tx, log_index, subject }))
            }
            Body::Changed { subject } => Some(Message::Changed { subject }),
            Body::Heartbeat => None,
        }
    }
}

/// A name for this publishing process: its pid and start time.
pub(crate) fn source_id() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{:x}-{nanos:x}", std::process::id())
}

/// A subscriber's view of each publisher's numbering: turns envelopes into deliveries, with a gap
/// wherever numbers were skipped and nothing for a repeat (a publish retried after it went through).
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    last: HashMap<String, (u64, Instant)>,
}

/// A publisher silent this long is forgotten (it stopped; its successor has a new name).
const FORGET_AFTER: Duration = Duration::from_secs(600);

impl Tracker {
    /// Forgets every publisher (after a reconnection, which is reported as a gap of its own).
    pub(crate) fn clear(&mut self) {
        self.last.clear();
    }

    pub(crate) fn accept(&mut self, env: Envelope) -> Vec<Delivery> {
        let now = Instant::now();
        self.last.retain(|_, (_, seen)| now.duration_since(*seen) < FORGET_AFTER);
        let heartbeat = env.body == Body::Heartbeat;
        let mut out = Vec::new();
        match self.last.get_mut(&env.src) {
            None => {
                // A publisher heard for the first time: nothing to compare with.
                self.last.insert(env.src.clone(), (env.seq, now));
            }
            Some((last, seen)) => {
                *seen = now;
                // A heartbeat repeats the last number; a message comes one after it.
                let expected = if heartbeat { *last } else { *last + 1 };
                if env.seq < expected || (heartbeat && env.seq == *last) {
                    // A repeat, or a heartbeat with nothing new.
                    return out;
                }
                if env.seq > expected {
                    out.push(Delivery::Gap { missed: env.seq - expected });
                }
                *last = env.seq;
            }
        }
        if let Some(message) = env.message() {
            out.push(Delivery::Message(message));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changed(src: &str, seq: u64) -> Envelope {
        Envelope::new(src, seq, &Message::Changed { subject: format!("task:{seq}") })
    }

    fn delivered(subject: &str) -> Delivery {
        Delivery::Message(Message::Changed { subject: subject.into() })
    }

    #[test]
    fn the_envelope_text_is_pinned() {
        let log = Message::Log(LogRef {
            chain_id: 31337,
            block_number: 12,
            tx_hash: "0xab".into(),
            log_index: 2,
            subject: "task:3".into(),
        });
        let text = Envelope::new("s", 7, &log).encode();
        assert_eq!(
            text,
            r#"{"v":1,"src":"s","seq":7,"kind":"log","chainId":31337,"block":12,"tx":"0xab","logIndex":2,"subject":"task:3"}"#
        );
        assert_eq!(Envelope::decode(&text).and_then(Envelope::message), Some(log));
        assert_eq!(Envelope::heartbeat("s", 8).encode(), r#"{"v":1,"src":"s","seq":8,"kind":"heartbeat"}"#);
        assert_eq!(Envelope::decode("{\"v\":1,\"kind\":\"what\"}"), None);
    }

    #[test]
    fn skipped_numbers_are_a_gap_and_repeats_are_dropped() {
        let mut t = Tracker::default();
        assert_eq!(t.accept(changed("a", 5)), vec![delivered("task:5")], "first from a publisher");
        assert_eq!(t.accept(changed("a", 6)), vec![delivered("task:6")]);
        assert_eq!(t.accept(changed("a", 6)), vec![], "a retried publish");
        assert_eq!(t.accept(changed("a", 9)), vec![Delivery::Gap { missed: 2 }, delivered("task:9")]);
        assert_eq!(t.accept(changed("b", 1)), vec![delivered("task:1")], "publishers are numbered apart");
        assert_eq!(t.accept(Envelope::heartbeat("a", 9)), vec![], "nothing new");
        assert_eq!(t.accept(Envelope::heartbeat("a", 10)), vec![Delivery::Gap { missed: 1 }], "lost last");
        assert_eq!(t.accept(changed("a", 11)), vec![delivered("task:11")]);
        t.clear();
        assert_eq!(t.accept(changed("a", 20)), vec![delivered("task:20")], "forgotten after a reconnection");
    }
}
