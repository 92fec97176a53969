//! The data stream across a real link between two network namespaces: one test binary
//! (`tests/netns/*` are its modules). Needs root and `ip` (iproute2); without them each test says
//! why on stdout and passes without running.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr, unreachable_pub)]

mod netns {
    // Shared with benches/shaped.rs.
    pub mod link;
    mod link_down;
}
