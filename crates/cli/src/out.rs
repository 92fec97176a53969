//! What the client commands print: sentences for people, or one JSON object per line with
//! `--json`; an error is `{"error":{"code","message",…}}` (on stdout with `--json`, so a script
//! reads one stream) and a non-zero exit code either way.

use std::io::Write;

use agora_node::client::{ChainError, ClientError, ContractError};
use serde_json::{Value, json};

/// A failed command: a code for programs, a sentence for people, and any figures that go with it.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: String,
    pub(crate) message: String,
    pub(crate) extra: Value,
}

pub(crate) type Outcome<T = ()> = Result<T, Failure>;

impl Failure {
    pub(crate) fn new(code: &str, message: impl Into<String>) -> Self {
        Self { code: code.to_owned(), message: message.into(), extra: json!({}) }
    }
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        let mut f = Failure::new(&e.code(), e.to_string());
        if let ClientError::Node { owed, deposit, expiry, .. } = &e {
            if let Some(v) = owed {
                f.extra["owed"] = v.to_string().into();
            }
            if let Some(v) = deposit {
                f.extra["deposit"] = v.to_string().into();
            }
            if let Some(v) = expiry {
                f.extra["expiry"] = (*v).into();
            }
        }
        f
    }
}

impl From<ChainError> for Failure {
    fn from(e: ChainError) -> Self {
        match &e {
            // The contract's own sentence, named by its custom error.
            ChainError::Contract(
                c @ (ContractError::Channel(_) | ContractError::Token(_) | ContractError::Market(_)),
            ) => Failure::new(&c.name().unwrap_or_else(|| "reverted".into()), c.to_string()),
            ChainError::Contract(c) => Failure::new("reverted", c.to_string()),
            ChainError::Reverted { .. } => Failure::new("reverted", e.to_string()),
            ChainError::BadKey(_) => Failure::new("bad_key", e.to_string()),
            _ => Failure::new("chain", e.to_string()),
        }
    }
}

/// Where results go.
#[derive(Clone, Copy)]
pub(crate) struct Out {
    pub(crate) json: bool,
}

impl Out {
    /// One JSON object on its own line (`--json`).
    #[allow(clippy::print_stdout)]
    pub(crate) fn object(&self, v: &Value) {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{v}");
        let _ = stdout.flush();
    }

    /// A line for people (nothing with `--json`).
    #[allow(clippy::print_stdout)]
    pub(crate) fn say(&self, line: &str) {
        if !self.json {
            println!("{line}");
        }
    }

    /// `v` with `--json`, else `line`.
    pub(crate) fn result(&self, v: &Value, line: &str) {
        if self.json { self.object(v) } else { self.say(line) }
    }

    /// Prints the failure; the caller exits non-zero.
    #[allow(clippy::print_stderr)]
    pub(crate) fn fail(&self, f: &Failure) {
        if self.json {
            let mut error = json!({ "code": f.code, "message": f.message });
            if let Some(extra) = f.extra.as_object() {
                for (k, v) in extra {
                    error[k] = v.clone();
                }
            }
            self.object(&json!({ "error": error }));
        } else {
            eprintln!("error: {} ({})", f.message, f.code);
        }
    }
}
