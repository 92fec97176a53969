//! ARCHITECTURE.md's boundaries as tests, in the manner of rust-analyzer's tidy tests: which crate
//! may depend on and use what (sqlx, HTTP servers and clients, the environment, SQL text), that
//! dependencies point down the layers, that every library crate says what it is, and that source
//! files stay short enough to read whole. The rules read `cargo metadata` and the source files
//! (comments and literals told apart by a small lexer, no parser); `tests/boundaries.rs` runs
//! each over this workspace, and the unit tests feed each a fake crate that breaks it.

pub mod lex;
pub mod rules;
pub mod workspace;

#[cfg(test)]
mod tests;

/// The text of the `## Boundaries` section of ARCHITECTURE.md (up to the next `## ` heading).
pub fn boundaries_section(architecture: &str) -> &str {
    let Some(start) = architecture.find("\n## Boundaries") else { return "" };
    let rest = &architecture[start + 1..];
    let end = rest[1..].find("\n## ").map_or(rest.len(), |n| n + 1);
    &rest[..end]
}
