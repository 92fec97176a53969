//! The federated-learning network side end to end: one test binary (`tests/federated/*` are its
//! modules). `loopback` runs coordinator and participants over WebSockets on 127.0.0.1 with an
//! in-memory task book; `chain` runs the same against FederatedMarket on anvil; `inference` serves a
//! finished model as a compute-market app; `fees` checks where the fee receiver's forwarding must
//! not pay; `resume` stops a coordinator mid-task and starts another that finishes it.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr, unreachable_pub)]

mod federated {
    mod chain;
    pub mod common;
    mod fees;
    mod inference;
    mod loopback;
    mod resume;
}
