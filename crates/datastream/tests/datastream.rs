//! The data-stream protocol end to end: one test binary (`tests/datastream/*` are its modules).

#![allow(clippy::unwrap_used, clippy::print_stdout, unreachable_pub)]

mod datastream {
    mod chain;
    pub mod common;
    mod refusals;
    mod transfer;
    mod vectors;
}
