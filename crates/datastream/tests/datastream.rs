//! The data-stream protocol end to end: one test binary (`tests/datastream/*` are its modules).
//! `link_down` runs across a real link between two network namespaces: it needs root and `ip`
//! (iproute2), and without them says why on stdout and passes without running.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr, unreachable_pub)]

mod datastream {
    mod chain;
    pub mod common;
    // Shared with benches/shaped.rs.
    pub mod link;
    mod link_down;
    mod refusals;
    mod transfer;
    mod vectors;
}
