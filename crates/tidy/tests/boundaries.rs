//! ARCHITECTURE.md's boundaries, checked over this workspace: one test per rule. Each failure names
//! the file and line, the crate and the rule; the rule's documentation in `agora_tidy::rules` says
//! what it allows and why.

use std::path::Path;
use std::sync::OnceLock;

use agora_tidy::rules::{self, Violation};
use agora_tidy::workspace::Workspace;

/// Real violations that are being removed right now, each (rule, file, text its message contains).
/// Temporary: an entry that no longer matches anything fails the test, so it is deleted as soon as
/// its violation is gone. Add nothing here to get a change through; fix it, or change the rule
/// (and ARCHITECTURE.md) where the rule is wrong.
const KNOWN_VIOLATIONS: &[(&str, &str, &str)] = &[];

/// Files in `crates/*/src` allowed over 500 lines, each with its reason; ARCHITECTURE.md's
/// Boundaries names each (as `path`) with the same reason.
const LONG_FILES: &[(&str, &str)] = &[];

fn workspace() -> &'static Workspace {
    static WORKSPACE: OnceLock<Workspace> = OnceLock::new();
    WORKSPACE.get_or_init(|| {
        Workspace::load(Path::new(env!("CARGO")), Path::new(env!("CARGO_MANIFEST_DIR"))).expect("read the workspace")
    })
}

/// Fails with every violation of `rule` not in [`KNOWN_VIOLATIONS`], and every entry of it for
/// `rule` that matches nothing any more.
fn assert_clean(rule: &str, found: Vec<Violation>) {
    let known = |v: &Violation| {
        KNOWN_VIOLATIONS.iter().any(|(r, path, text)| *r == v.rule && *path == v.path && v.message.contains(text))
    };
    let mut problems: Vec<String> = found.iter().filter(|v| !known(v)).map(ToString::to_string).collect();
    for (r, path, text) in KNOWN_VIOLATIONS.iter().filter(|(r, _, _)| *r == rule) {
        if !found.iter().any(|v| v.rule == *r && v.path == *path && v.message.contains(text)) {
            problems.push(format!("{path}: [{r}] KNOWN_VIOLATIONS lists `{text}`, which is gone: delete the entry in crates/tidy/tests/boundaries.rs"));
        }
    }
    assert!(problems.is_empty(), "ARCHITECTURE.md's boundary `{rule}` is broken:\n  {}\n", problems.join("\n  "));
}

#[test]
fn sqlx_only_in_store() {
    assert_clean("sqlx-only-in-store", rules::sqlx_only_in_store(workspace()));
}

#[test]
fn http_server_only_in_api() {
    assert_clean("http-server-only-in-api", rules::http_server_only_in_api(workspace()));
}

#[test]
fn http_client_only_where_allowed() {
    assert_clean("http-client-only-where-allowed", rules::http_client_only_where_allowed(workspace()));
}

#[test]
fn env_only_in_node_and_cli() {
    assert_clean("env-only-in-node-and-cli", rules::env_only_in_node_and_cli(workspace()));
}

#[test]
fn sql_only_in_store() {
    assert_clean("sql-only-in-store", rules::sql_only_in_store(workspace()));
}

#[test]
fn dependencies_point_down() {
    let problems = rules::layers_match_workspace(workspace());
    assert!(problems.is_empty(), "agora-tidy's LAYERS table is out of date:\n  {}", problems.join("\n  "));
    assert_clean("dependencies-point-down", rules::dependencies_point_down(workspace()));
}

#[test]
fn library_crates_are_documented() {
    assert_clean("lib-docs", rules::library_crates_are_documented(workspace()));
}

#[test]
fn files_are_short() {
    let architecture = std::fs::read_to_string(workspace().root.join("ARCHITECTURE.md")).expect("read ARCHITECTURE.md");
    let boundaries = agora_tidy::boundaries_section(&architecture);
    assert_clean("file-size", rules::files_are_short(workspace(), LONG_FILES, boundaries));
}

/// The rules see what they are meant to: the store's SQL and sqlx, the API's axum, the content
/// crate's reqwest and the node's environment reads are all found where they are allowed, so a
/// rule that passes does so because the rest of the tree is clean, not because it looks nowhere.
#[test]
fn the_rules_see_the_allowed_uses() {
    let ws = workspace();
    let files_of = |name: &str| ws.krate(name).map(|c| c.files.as_slice()).unwrap_or_default();
    let uses = |name: &str, root: &str| files_of(name).iter().any(|f| !f.lexed.path_uses(root).is_empty());
    assert!(uses("agora-store", "sqlx"), "no sqlx found in agora-store");
    assert!(uses("agora-api", "axum"), "no axum found in agora-api");
    assert!(uses("agora-content", "reqwest"), "no reqwest found in agora-content");
    assert!(
        files_of("agora-store").iter().flat_map(|f| &f.lexed.strings).any(|s| rules::looks_like_sql(&s.text).is_some()),
        "no SQL found in agora-store"
    );
    assert!(
        files_of("agora-node")
            .iter()
            .chain(files_of("agora-cli"))
            .any(|f| f.lexed.code.contains("env::") || f.text.contains("Env::")),
        "no environment read found in agora-node or agora-cli"
    );
}
