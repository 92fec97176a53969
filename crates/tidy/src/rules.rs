//! The rules, each a function from the workspace to the places that break it. Each names the
//! crates allowed what it guards and why; ARCHITECTURE.md's "Boundaries" states the same.

use std::fmt;

use crate::workspace::{Crate, DepKind, FileKind, SourceFile, Workspace};

/// One place that breaks a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The rule's name (`sqlx-only-in-store`).
    pub rule: &'static str,
    /// The crate it is in.
    pub krate: String,
    /// The file, relative to the workspace root.
    pub path: String,
    /// 1-based; 0 when the whole file is meant.
    pub line: usize,
    /// What was found and what the rule allows.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        write!(f, ": [{}] {}: {}", self.rule, self.krate, self.message)
    }
}

const STORE: &str = "agora-store";
const API: &str = "agora-api";
const NODE: &str = "agora-node";
const CLI: &str = "agora-cli";
const CHAIN: &str = "agora-chain";
const CONTENT: &str = "agora-content";
const TIDY: &str = "agora-tidy";
const LLM: &str = "agora-llm";

/// Crates allowed an HTTP client: content (Kubo's RPC API, the gateway reader), chain (alloy's
/// HTTP transport to the EVM node) and llm (an OpenAI-compatible upstream model, streamed).
pub const HTTP_CLIENT_CRATES: &[&str] = &[CHAIN, CONTENT, LLM];

/// The workspace's layers, bottom to top. A crate may depend (`[dependencies]`,
/// `[build-dependencies]`) on crates of lower layers only, apart from [`SAME_LAYER_EDGES`] and
/// narrowed by [`ONLY_DEPS`]; its tests (`[dev-dependencies]`) also on crates of its own layer.
pub const LAYERS: &[(&str, &[&str])] = &[
    ("edges", &["agora-bus", CHAIN, CONTENT, "agora-executor", LLM]),
    ("vocabulary", &["agora-market"]),
    ("storage", &[STORE]),
    (
        "domain",
        &[
            "agora-channels",
            "agora-compute",
            "agora-fl",
            "agora-iexec",
            "agora-indexer",
            "agora-inference",
            "agora-notify",
        ],
    ),
    ("markets", &["agora-assistant", "agora-datastream", "agora-federated"]),
    ("http", &[API]),
    ("wiring", &[NODE]),
    ("binary", &[CLI]),
    ("checks", &[TIDY]),
];

/// Dependencies within one layer: (from, to, why).
pub const SAME_LAYER_EDGES: &[(&str, &str, &str)] =
    &[("agora-iexec", "agora-compute", "the iExec backend is one of compute's `Runner`s")];

/// Crates that may depend on fewer workspace crates than their layer allows: (crate, allowed, why).
pub const ONLY_DEPS: &[(&str, &[&str], &str)] = &[
    (CLI, &[NODE], "the binary parses arguments; everything else comes through the node"),
    (TIDY, &[], "it reads the workspace and depends on none of it"),
];

/// `sqlx` is a dependency of, and named in the source of, `agora-store` only (tests included:
/// other crates' tests reach the database through the store's API and its `testing` feature).
pub fn sqlx_only_in_store(ws: &Workspace) -> Vec<Violation> {
    const RULE: &str = "sqlx-only-in-store";
    let mut found = Vec::new();
    for krate in ws.crates.iter().filter(|c| c.name != STORE) {
        for dep in krate.deps.iter().filter(|d| d.name == "sqlx" || d.name.starts_with("sqlx-")) {
            found.push(dep_violation(
                RULE,
                krate,
                &dep.name,
                dep.kind,
                format!("depends on `{}`; only {STORE} may", dep.name),
            ));
        }
        for file in &krate.files {
            for at in file.lexed.path_uses("sqlx") {
                found.push(at_violation(RULE, krate, file, at, format!("uses `sqlx`; only {STORE} may")));
            }
        }
    }
    found
}

/// HTTP servers: `axum` (and its parts), `tower-http` are dependencies of `agora-api` only;
/// `http-body` of `agora-api` and the crates allowed an HTTP client (a streamed request body
/// implements its `Body` trait). Tests may stand up servers to fake a remote service: these may be
/// `[dev-dependencies]` of any crate, used in `tests/`, `benches/` and `#[cfg(test)]` items.
pub fn http_server_only_in_api(ws: &Workspace) -> Vec<Violation> {
    const RULE: &str = "http-server-only-in-api";
    const SERVER: &[&str] = &["axum", "axum-core", "axum-extra", "tower-http", "actix-web", "warp", "poem", "rocket"];
    const BODY: &[&str] = &["http-body", "http-body-util"];
    let body_allowed: Vec<&str> = std::iter::once(API).chain(HTTP_CLIENT_CRATES.iter().copied()).collect();
    let mut found = Vec::new();
    found.extend(normal_deps(ws, RULE, SERVER, &[API], "an HTTP server"));
    found.extend(normal_deps(ws, RULE, BODY, &body_allowed, "HTTP body plumbing"));
    found.extend(src_paths(ws, RULE, SERVER, &[API], "an HTTP server"));
    found.extend(src_paths(ws, RULE, BODY, &body_allowed, "HTTP body plumbing"));
    found
}

/// HTTP clients (`reqwest`, `hyper`, …) are dependencies of, and used in the source of, only
/// [`HTTP_CLIENT_CRATES`]; alloy's HTTP transport (`ProviderBuilder`, `connect_http`, `RpcClient`,
/// `alloy::transports::http`) only in `agora-chain`, which builds every provider. Any crate's tests may
/// use an HTTP client (`reqwest` as a `[dev-dependency]`, in test code).
pub fn http_client_only_where_allowed(ws: &Workspace) -> Vec<Violation> {
    const RULE: &str = "http-client-only-where-allowed";
    const CLIENT: &[&str] = &["reqwest", "hyper", "hyper-util", "ureq", "isahc", "surf", "attohttpc", "curl", "awc"];
    const ALLOY_TRANSPORT: &[&str] = &["ProviderBuilder", "connect_http", "on_http", "RpcClient"];
    let mut found = Vec::new();
    found.extend(normal_deps(ws, RULE, CLIENT, HTTP_CLIENT_CRATES, "an HTTP client"));
    found.extend(src_paths(ws, RULE, CLIENT, HTTP_CLIENT_CRATES, "an HTTP client"));
    for krate in ws.crates.iter().filter(|c| c.name != CHAIN) {
        for file in &krate.files {
            let mut hits: Vec<(usize, String)> = ALLOY_TRANSPORT
                .iter()
                .flat_map(|word| {
                    crate::lex::word_positions(&file.lexed.code, word).map(move |at| (at, word.to_string()))
                })
                .collect();
            hits.extend(file.lexed.path_uses("alloy").into_iter().filter_map(|at| {
                let path: String = file.lexed.code[at..].chars().filter(|c| !c.is_whitespace()).take(24).collect();
                path.starts_with("alloy::transports::http").then(|| (at, "alloy::transports::http".to_string()))
            }));
            for (at, what) in hits.into_iter().filter(|(at, _)| !file.is_test_code(*at)) {
                found.push(at_violation(
                    RULE,
                    krate,
                    file,
                    at,
                    format!("uses `{what}` (alloy's HTTP transport); only {CHAIN} builds providers"),
                ));
            }
        }
    }
    found
}

/// The environment (`std::env::var`, `var_os`, `vars`, `vars_os`, `set_var`, `remove_var`, `args`,
/// `args_os`) is read only by `agora-node` and `agora-cli`, and only they depend on a crate that
/// reads it for them (`figment`, `clap`, `dotenvy`, `envy`). Library crates take their settings as
/// values. Allowed elsewhere: test code (`tests/`, `benches/`, `#[cfg(test)]` items) may call
/// `env::var`/`var_os`; a `testing` feature module (`src/testing.rs`, `src/testing/`) may call them
/// with a literal name that starts with `AGORA_TEST_`. `env::temp_dir`, `current_dir` and
/// `current_exe` are facts about the process, not settings, and `env!` is read at compile time.
pub fn env_only_in_node_and_cli(ws: &Workspace) -> Vec<Violation> {
    const RULE: &str = "env-only-in-node-and-cli";
    const READS: &[&str] = &["var", "var_os", "vars", "vars_os", "set_var", "remove_var", "args", "args_os"];
    const TEST_READS: &[&str] = &["var", "var_os"];
    const LIBRARIES: &[&str] = &["figment", "clap", "dotenvy", "dotenv", "envy"];
    let mut found = normal_deps(ws, RULE, LIBRARIES, &[NODE, CLI], "a crate that reads the environment");
    for krate in ws.crates.iter().filter(|c| c.name != NODE && c.name != CLI) {
        for file in &krate.files {
            for (at, call, open) in env_calls(&file.lexed.code, READS) {
                let allowed = TEST_READS.contains(&call)
                    && (file.is_test_code(at)
                        || file.kind == FileKind::Testing
                            && open
                                .and_then(|open| file.lexed.literal_argument(open))
                                .is_some_and(|name| name.starts_with("AGORA_TEST_")));
                if !allowed {
                    let name = open
                        .and_then(|open| file.lexed.literal_argument(open))
                        .map(|n| format!("(\"{n}\")"))
                        .unwrap_or_default();
                    found.push(at_violation(
                        RULE,
                        krate,
                        file,
                        at,
                        format!("reads the environment (`env::{call}{name}`); only {NODE} and {CLI} may, and pass settings down as values"),
                    ));
                }
            }
        }
    }
    found
}

/// `env::NAME` for NAME in `names` (also inside `use std::env::{…}`): (offset, NAME, offset of the
/// call's `(` if one follows).
fn env_calls<'a>(code: &'a str, names: &[&'a str]) -> Vec<(usize, &'a str, Option<usize>)> {
    let mut calls = Vec::new();
    for at in crate::lex::word_positions(code, "env") {
        let rest = &code[at + 3..];
        let Some(rest) = rest.trim_start().strip_prefix("::") else { continue };
        let rest = rest.trim_start();
        let after = code.len() - rest.len();
        let named: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
            group.split('}').next().unwrap_or("").split(',').map(str::trim).collect()
        } else {
            vec![rest.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or("")]
        };
        for name in named {
            if let Some(call) = names.iter().find(|n| **n == name) {
                let tail = &code[after + name.len()..];
                let open = (!rest.starts_with('{') && tail.trim_start().starts_with('('))
                    .then(|| after + name.len() + (tail.len() - tail.trim_start().len()));
                calls.push((at, *call, open));
            }
        }
    }
    calls
}

/// SQL text lives in `crates/store`: no string literal elsewhere reads like a statement
/// (`SELECT … FROM`, `INSERT INTO`, `UPDATE … SET`, `DELETE FROM`, `CREATE TABLE|INDEX`,
/// `ALTER TABLE`, `DROP TABLE`, `ON CONFLICT`; upper case as the store writes it), in source or
/// tests, and no `.sql` file lies outside it. (`agora-tidy`'s own tests hold such literals: they are
/// what the rule must catch.)
pub fn sql_only_in_store(ws: &Workspace) -> Vec<Violation> {
    const RULE: &str = "sql-only-in-store";
    let mut found = Vec::new();
    for krate in ws.crates.iter().filter(|c| c.name != STORE && c.name != TIDY) {
        for file in &krate.files {
            for lit in &file.lexed.strings {
                if let Some(statement) = looks_like_sql(&lit.text) {
                    found.push(at_violation(
                        RULE,
                        krate,
                        file,
                        lit.start,
                        format!("holds SQL (`{statement}`); only {STORE} writes SQL"),
                    ));
                }
            }
        }
        for path in krate.other_files.iter().filter(|p| p.extension().is_some_and(|e| e == "sql")) {
            found.push(Violation {
                rule: RULE,
                krate: krate.name.clone(),
                path: path.display().to_string(),
                line: 0,
                message: format!("an SQL file; only {STORE} holds SQL"),
            });
        }
    }
    found
}

/// Which statement `text` reads like, if any.
pub fn looks_like_sql(text: &str) -> Option<&'static str> {
    let flat = text.replace("\\n", " ").replace("\\t", " ");
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    const PLAIN: &[&str] = &[
        "INSERT INTO ",
        "DELETE FROM ",
        "CREATE TABLE ",
        "CREATE INDEX ",
        "CREATE UNIQUE INDEX ",
        "ALTER TABLE ",
        "DROP TABLE ",
        "ON CONFLICT",
    ];
    if let Some(statement) = PLAIN.iter().find(|s| flat.contains(*s)) {
        return Some(statement.trim_end());
    }
    if flat.find("SELECT ").is_some_and(|at| flat[at..].contains(" FROM ")) {
        return Some("SELECT … FROM");
    }
    let update = flat.find("UPDATE ")?;
    let mut words = flat[update..].split(' ').skip(2);
    (words.next() == Some("SET")).then_some("UPDATE … SET")
}

/// Dependencies point down [`LAYERS`]: see its documentation. Every member crate must be placed in
/// a layer.
pub fn dependencies_point_down(ws: &Workspace) -> Vec<Violation> {
    const RULE: &str = "dependencies-point-down";
    let layer_of = |name: &str| LAYERS.iter().position(|(_, crates)| crates.contains(&name));
    let mut found = Vec::new();
    for krate in &ws.crates {
        let Some(own) = layer_of(&krate.name) else {
            found.push(Violation {
                rule: RULE,
                krate: krate.name.clone(),
                path: krate.dir.join("Cargo.toml").display().to_string(),
                line: 0,
                message: "is in no layer: place it in agora-tidy's LAYERS and ARCHITECTURE.md's Boundaries".into(),
            });
            continue;
        };
        for dep in krate.deps.iter().filter(|d| ws.is_member(&d.name) && d.name != krate.name) {
            let Some(target) = layer_of(&dep.name) else { continue };
            let only = ONLY_DEPS.iter().find(|(name, _, _)| *name == krate.name);
            let same_layer = SAME_LAYER_EDGES.iter().any(|(from, to, _)| *from == krate.name && *to == dep.name);
            let problem = match dep.kind {
                DepKind::Dev if target > own => Some(format!(
                    "its tests depend on `{}` ({} layer), above its own ({} layer)",
                    dep.name, LAYERS[target].0, LAYERS[own].0
                )),
                DepKind::Dev => None,
                _ if only.is_some_and(|(_, allowed, _)| !allowed.contains(&dep.name.as_str())) => {
                    only.map(|(_, allowed, why)| {
                        format!("depends on `{}`; it may depend on {allowed:?} only ({why})", dep.name)
                    })
                }
                _ if target < own || same_layer => None,
                _ => Some(format!(
                    "depends on `{}` ({} layer), not below its own ({} layer); dependencies point down",
                    dep.name, LAYERS[target].0, LAYERS[own].0
                )),
            };
            if let Some(message) = problem {
                found.push(dep_violation(RULE, krate, &dep.name, dep.kind, message));
            }
        }
    }
    found
}

/// Every layer's crate exists, and no crate is named twice: the table is the workspace's.
pub fn layers_match_workspace(ws: &Workspace) -> Vec<String> {
    let mut problems = Vec::new();
    let named: Vec<&str> = LAYERS.iter().flat_map(|(_, crates)| crates.iter().copied()).collect();
    for (i, name) in named.iter().enumerate() {
        if !ws.is_member(name) {
            problems.push(format!("LAYERS names `{name}`, which is not a workspace crate"));
        }
        if named[..i].contains(name) {
            problems.push(format!("LAYERS names `{name}` twice"));
        }
    }
    problems
}

/// Every library crate's `lib.rs` opens with a `//!` paragraph saying what the crate is.
pub fn library_crates_are_documented(ws: &Workspace) -> Vec<Violation> {
    const RULE: &str = "lib-docs";
    let mut found = Vec::new();
    for krate in &ws.crates {
        let Some(lib) = &krate.lib else { continue };
        let Some(file) = krate.files.iter().find(|f| &f.path == lib) else { continue };
        let first = file.text.lines().next().unwrap_or("");
        if first.strip_prefix("//!").is_none_or(|text| text.trim().is_empty()) {
            found.push(Violation {
                rule: RULE,
                krate: krate.name.clone(),
                path: lib.display().to_string(),
                line: 1,
                message: "a library crate's lib.rs starts with a `//!` paragraph saying what the crate is".into(),
            });
        }
    }
    found
}

/// Files in `crates/*/src` longer than this are listed with a reason.
pub const MAX_LINES: usize = 500;

/// No file in a crate's `src/` is over [`MAX_LINES`] lines unless `long_files` lists it with a
/// reason, and ARCHITECTURE.md's Boundaries section (`boundaries`) names it; an entry for a file
/// that is gone or short again must go.
pub fn files_are_short(ws: &Workspace, long_files: &[(&str, &str)], boundaries: &str) -> Vec<Violation> {
    const RULE: &str = "file-size";
    let mut found = Vec::new();
    for krate in &ws.crates {
        for file in krate.files.iter().filter(|f| f.kind != FileKind::Test) {
            let lines = file.text.lines().count();
            let path = file.path.display().to_string();
            let listed = long_files.iter().any(|(p, _)| *p == path);
            let problem = if lines > MAX_LINES && !listed {
                Some(format!(
                    "{lines} lines, over {MAX_LINES}: split it, or list it in agora-tidy's LONG_FILES and ARCHITECTURE.md's Boundaries with the reason"
                ))
            } else if lines <= MAX_LINES && listed {
                Some(format!(
                    "{lines} lines, no longer over {MAX_LINES}: remove it from LONG_FILES and ARCHITECTURE.md"
                ))
            } else if listed && !boundaries.contains(&format!("`{path}`")) {
                Some(
                    "listed in LONG_FILES but not named (as `path`) in ARCHITECTURE.md's Boundaries with its reason"
                        .into(),
                )
            } else {
                None
            };
            if let Some(message) = problem {
                found.push(Violation { rule: RULE, krate: krate.name.clone(), path, line: 0, message });
            }
        }
    }
    for (path, _) in long_files {
        if !ws.crates.iter().flat_map(|c| &c.files).any(|f| f.path.display().to_string() == *path) {
            found.push(Violation {
                rule: RULE,
                krate: String::new(),
                path: path.to_string(),
                line: 0,
                message: "listed in LONG_FILES but no longer exists: remove it there and from ARCHITECTURE.md".into(),
            });
        }
    }
    found
}

/// `[dependencies]` and `[build-dependencies]` on any of `names` outside `allowed`.
fn normal_deps(ws: &Workspace, rule: &'static str, names: &[&str], allowed: &[&str], what: &str) -> Vec<Violation> {
    let mut found = Vec::new();
    for krate in ws.crates.iter().filter(|c| !allowed.contains(&c.name.as_str())) {
        for dep in krate.deps.iter().filter(|d| d.kind != DepKind::Dev && names.contains(&d.name.as_str())) {
            let message =
                format!("depends on `{}` ({what}); only {allowed:?} may (tests: as a [dev-dependency])", dep.name);
            found.push(dep_violation(rule, krate, &dep.name, dep.kind, message));
        }
    }
    found
}

/// Paths rooted at any of the crates `names` (dashes as underscores) in code other than test code,
/// outside the crates `allowed`.
fn src_paths(ws: &Workspace, rule: &'static str, names: &[&str], allowed: &[&str], what: &str) -> Vec<Violation> {
    let mut found = Vec::new();
    for krate in ws.crates.iter().filter(|c| !allowed.contains(&c.name.as_str())) {
        for file in &krate.files {
            for name in names {
                let root = name.replace('-', "_");
                for at in file.lexed.path_uses(&root).into_iter().filter(|at| !file.is_test_code(*at)) {
                    found.push(at_violation(
                        rule,
                        krate,
                        file,
                        at,
                        format!("uses `{root}` ({what}) outside tests; only {allowed:?} may"),
                    ));
                }
            }
        }
    }
    found
}

fn at_violation(rule: &'static str, krate: &Crate, file: &SourceFile, at: usize, message: String) -> Violation {
    Violation {
        rule,
        krate: krate.name.clone(),
        path: file.path.display().to_string(),
        line: file.lexed.line(at),
        message,
    }
}

fn dep_violation(rule: &'static str, krate: &Crate, dep: &str, kind: DepKind, message: String) -> Violation {
    Violation {
        rule,
        krate: krate.name.clone(),
        path: krate.dir.join("Cargo.toml").display().to_string(),
        line: manifest_line(&krate.manifest, dep, kind),
        message: format!("{kind} {message}"),
    }
}

/// The line of `dep`'s entry in the manifest's table for `kind` (0 if not found).
fn manifest_line(manifest: &str, dep: &str, kind: DepKind) -> usize {
    let table = match kind {
        DepKind::Normal => "dependencies]",
        DepKind::Dev => "dev-dependencies]",
        DepKind::Build => "build-dependencies]",
    };
    let mut in_table = false;
    for (i, line) in manifest.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('[') {
            in_table = line.ends_with(table) && (kind != DepKind::Normal || !line.contains("-dependencies"));
        } else if in_table && line.strip_prefix(dep).is_some_and(|rest| rest.trim_start().starts_with(['=', '.'])) {
            return i + 1;
        }
    }
    0
}
