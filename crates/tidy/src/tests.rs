//! Every rule fails on a fake crate that breaks it, and lets pass what it allows.

use std::path::PathBuf;

use crate::rules::{self, Violation};
use crate::workspace::{Crate, Dep, DepKind, SourceFile, Workspace};

/// A fake crate `name` in `crates/<dir>` with `deps` and `files` (paths inside the crate).
fn krate(name: &str, dir: &str, deps: &[(&str, DepKind)], files: &[(&str, &str)]) -> Crate {
    let dir = PathBuf::from("crates").join(dir);
    let mut manifest = format!("[package]\nname = \"{name}\"\n");
    for (table, kind) in [("dependencies", DepKind::Normal), ("dev-dependencies", DepKind::Dev)] {
        manifest.push_str(&format!("\n[{table}]\n"));
        for (dep, _) in deps.iter().filter(|(_, k)| *k == kind) {
            manifest.push_str(&format!("{dep}.workspace = true\n"));
        }
    }
    Crate {
        name: name.into(),
        manifest,
        lib: files.iter().any(|(p, _)| *p == "src/lib.rs").then(|| dir.join("src/lib.rs")),
        deps: deps.iter().map(|(n, kind)| Dep { name: n.to_string(), kind: *kind }).collect(),
        files: files.iter().map(|(p, text)| SourceFile::new(&dir, dir.join(p), text.to_string())).collect(),
        other_files: Vec::new(),
        dir,
    }
}

fn ws(crates: Vec<Crate>) -> Workspace {
    Workspace { root: PathBuf::from("/fake"), crates }
}

/// The violations as `path:line` strings, to compare whole.
fn places(found: &[Violation]) -> Vec<String> {
    found.iter().map(|v| format!("{}:{}", v.path, v.line)).collect()
}

const LIB: &str = "//! A crate.\n";

#[test]
fn sqlx_outside_the_store_fails() {
    let found = rules::sqlx_only_in_store(&ws(vec![
        krate(
            "agora-store",
            "store",
            &[("sqlx", DepKind::Normal)],
            &[("src/lib.rs", "//! Store.\nuse sqlx::AnyPool;\n")],
        ),
        krate(
            "agora-api",
            "api",
            &[("sqlx", DepKind::Normal)],
            &[(
                "src/lib.rs",
                "//! Api.\nfn f() {\n    let _ = sqlx::query(\"x\");\n}\n// sqlx::in_a_comment\nconst F: &str = \"sqlx=warn\";\n",
            )],
        ),
    ]));
    assert_eq!(places(&found), ["crates/api/Cargo.toml:5", "crates/api/src/lib.rs:3"], "{found:#?}");
    assert!(
        found[0].to_string().contains("[sqlx-only-in-store] agora-api: [dependencies] depends on `sqlx`"),
        "{}",
        found[0]
    );
}

#[test]
fn an_http_server_outside_the_api_fails_but_not_in_tests() {
    let found = rules::http_server_only_in_api(&ws(vec![
        krate("agora-api", "api", &[("axum", DepKind::Normal)], &[("src/lib.rs", "//! Api.\nuse axum::Router;\n")]),
        krate(
            "agora-content",
            "content",
            &[("axum", DepKind::Dev), ("http-body", DepKind::Normal)],
            &[("src/lib.rs", "//! C.\nimpl http_body::Body for B {}\n"), ("tests/fake_kubo.rs", "use axum::Router;\n")],
        ),
        krate(
            "agora-compute",
            "compute",
            &[("tower-http", DepKind::Normal), ("http-body", DepKind::Normal)],
            &[("src/lib.rs", "//! C.\nuse tower_http::cors;\n#[cfg(test)]\nmod tests {\n    use axum::Router;\n}\n")],
        ),
    ]));
    assert_eq!(
        places(&found),
        ["crates/compute/Cargo.toml:5", "crates/compute/Cargo.toml:6", "crates/compute/src/lib.rs:2"],
        "{found:#?}"
    );
}

#[test]
fn an_http_client_outside_the_allowed_crates_fails_but_not_in_tests() {
    let found = rules::http_client_only_where_allowed(&ws(vec![
        krate(
            "agora-content",
            "content",
            &[("reqwest", DepKind::Normal)],
            &[("src/lib.rs", "//! C.\nuse reqwest::Client;\n")],
        ),
        krate("agora-chain", "chain", &[], &[("src/lib.rs", "//! C.\nuse alloy::providers::ProviderBuilder;\n")]),
        krate(
            "agora-iexec",
            "iexec",
            &[("reqwest", DepKind::Normal), ("hyper", DepKind::Normal)],
            &[
                ("src/lib.rs", "//! I.\nfn f() {\n    reqwest::get(\"u\");\n}\n"),
                (
                    "src/fetch.rs",
                    "fn p() {\n    let p = ProviderBuilder::new().connect_http(url);\n}\nuse alloy::transports::http::Http;\n",
                ),
                ("tests/it.rs", "fn t() { reqwest::get(\"u\"); ProviderBuilder::new(); }\n"),
            ],
        ),
        krate(
            "agora-node",
            "node",
            &[("reqwest", DepKind::Dev)],
            &[("src/lib.rs", LIB), ("tests/up.rs", "use reqwest::Client;\n")],
        ),
    ]));
    assert_eq!(
        places(&found),
        [
            "crates/iexec/Cargo.toml:5",
            "crates/iexec/Cargo.toml:6",
            "crates/iexec/src/lib.rs:3",
            "crates/iexec/src/fetch.rs:2",
            "crates/iexec/src/fetch.rs:2",
            "crates/iexec/src/fetch.rs:4",
        ],
        "{found:#?}"
    );
}

#[test]
fn reading_the_environment_in_a_library_fails() {
    let found = rules::env_only_in_node_and_cli(&ws(vec![
        krate(
            "agora-node",
            "node",
            &[("figment", DepKind::Normal)],
            &[("src/lib.rs", "//! N.\nfn f() { std::env::var(\"AGORA_X\"); }\n")],
        ),
        krate(
            "agora-content",
            "content",
            &[("figment", DepKind::Normal)],
            &[
                ("src/lib.rs", "//! C.\nfn f() {\n    let a = std::env::var(\"AGORA_IPFS_API\");\n}\n"),
                (
                    "src/other.rs",
                    "use std::env;\nfn g() { env::vars(); }\nuse std::env::{temp_dir, var_os};\nfn h() { std::env::temp_dir(); std::env::current_dir(); }\n",
                ),
                (
                    "src/testing.rs",
                    "fn t() { std::env::var(\"AGORA_TEST_POSTGRES_URL\"); std::env::var(\"DATABASE_URL\"); }\n",
                ),
                ("src/cid.rs", "#[cfg(test)]\nmod tests {\n    fn t() { std::env::var_os(\"ANY\"); }\n}\n"),
                (
                    "tests/it.rs",
                    "fn t() { std::env::var(\"AGORA_IEXEC_TEST_WORKER\"); let p = env!(\"CARGO_MANIFEST_DIR\"); }\n",
                ),
            ],
        ),
    ]));
    assert_eq!(
        places(&found),
        [
            "crates/content/Cargo.toml:5",
            "crates/content/src/lib.rs:3",
            "crates/content/src/other.rs:2",
            "crates/content/src/other.rs:3",
            "crates/content/src/testing.rs:1",
        ],
        "{found:#?}"
    );
    assert!(found[1].message.contains("`env::var(\"AGORA_IPFS_API\")`"), "{}", found[1]);
    assert!(found[4].message.contains("DATABASE_URL"), "{}", found[4]);
}

#[test]
fn sql_outside_the_store_fails() {
    let mut api = krate(
        "agora-api",
        "api",
        &[],
        &[
            (
                "src/lib.rs",
                "//! A.\nconst Q: &str = \"SELECT id\n    FROM tasks\";\nconst M: &str = \"select a file from the list\";\n",
            ),
            ("tests/db.rs", "const U: &str = r#\"UPDATE tasks SET x = 1\"#;\n"),
        ],
    );
    api.other_files.push(PathBuf::from("crates/api/schema.sql"));
    let found = rules::sql_only_in_store(&ws(vec![
        krate(
            "agora-store",
            "store",
            &[],
            &[("src/lib.rs", "//! S.\nconst Q: &str = \"INSERT INTO tasks VALUES ($1)\";\n")],
        ),
        api,
    ]));
    assert_eq!(
        places(&found),
        ["crates/api/src/lib.rs:2", "crates/api/tests/db.rs:1", "crates/api/schema.sql:0"],
        "{found:#?}"
    );
    for (sql, statement) in [
        ("INSERT INTO t (a) VALUES (1)", "INSERT INTO"),
        ("DELETE FROM t", "DELETE FROM"),
        ("CREATE TABLE t (a INTEGER)", "CREATE TABLE"),
        ("x ON CONFLICT DO NOTHING", "ON CONFLICT"),
        ("SELECT a,\\n b FROM t", "SELECT … FROM"),
        ("UPDATE compute_jobs SET stage = $1", "UPDATE … SET"),
    ] {
        assert_eq!(rules::looks_like_sql(sql), Some(statement), "{sql}");
    }
    assert_eq!(rules::looks_like_sql("UPDATE the price, then SET it"), None);
}

#[test]
fn a_dependency_that_points_up_fails() {
    let found = rules::dependencies_point_down(&ws(vec![
        krate("agora-chain", "chain", &[("agora-store", DepKind::Normal)], &[("src/lib.rs", LIB)]),
        krate(
            "agora-store",
            "store",
            &[("agora-market", DepKind::Normal), ("agora-store", DepKind::Dev)],
            &[("src/lib.rs", LIB)],
        ),
        krate("agora-market", "market", &[("agora-chain", DepKind::Normal)], &[("src/lib.rs", LIB)]),
        krate("agora-iexec", "iexec", &[("agora-compute", DepKind::Normal)], &[("src/lib.rs", LIB)]),
        krate(
            "agora-compute",
            "compute",
            &[("agora-channels", DepKind::Normal), ("agora-inference", DepKind::Dev), ("agora-api", DepKind::Dev)],
            &[("src/lib.rs", LIB)],
        ),
        krate("agora-channels", "channels", &[], &[("src/lib.rs", LIB)]),
        krate("agora-inference", "inference", &[], &[("src/lib.rs", LIB)]),
        krate("agora-api", "api", &[], &[("src/lib.rs", LIB)]),
        krate("agora-node", "node", &[("agora-api", DepKind::Normal)], &[("src/lib.rs", LIB)]),
        krate(
            "agora-cli",
            "cli",
            &[("agora-node", DepKind::Normal), ("agora-store", DepKind::Normal)],
            &[("src/main.rs", "")],
        ),
        krate("agora-new", "new", &[], &[("src/lib.rs", LIB)]),
    ]));
    let got: Vec<String> = found.iter().map(|v| format!("{} {}", v.krate, v.message)).collect();
    assert_eq!(found.len(), 5, "{got:#?}");
    assert!(
        got[0].starts_with(
            "agora-chain [dependencies] depends on `agora-store` (storage layer), not below its own (edges layer)"
        ),
        "{got:#?}"
    );
    assert!(
        got[1].starts_with("agora-compute [dependencies] depends on `agora-channels` (domain layer), not below"),
        "{got:#?}"
    );
    assert!(
        got[2].starts_with("agora-compute [dev-dependencies] its tests depend on `agora-api` (http layer)"),
        "{got:#?}"
    );
    assert!(
        got[3].starts_with("agora-cli [dependencies] depends on `agora-store`; it may depend on [\"agora-node\"] only"),
        "{got:#?}"
    );
    assert!(got[4].starts_with("agora-new is in no layer"), "{got:#?}");
}

#[test]
fn a_library_without_a_crate_doc_fails() {
    let found = rules::library_crates_are_documented(&ws(vec![
        krate("agora-a", "a", &[], &[("src/lib.rs", "//! Says what it is.\n")]),
        krate("agora-b", "b", &[], &[("src/lib.rs", "// A plain comment.\n//! Too late.\n")]),
        krate("agora-c", "c", &[], &[("src/lib.rs", "//!\n//! Empty first line.\n")]),
        krate("agora-cli", "cli", &[], &[("src/main.rs", "fn main() {}\n")]),
    ]));
    assert_eq!(places(&found), ["crates/b/src/lib.rs:1", "crates/c/src/lib.rs:1"], "{found:#?}");
}

#[test]
fn a_long_file_fails_unless_listed_with_its_reason() {
    let long = "fn f() {}\n".repeat(rules::MAX_LINES + 1);
    let short = "fn f() {}\n".repeat(rules::MAX_LINES);
    let workspace = ws(vec![krate(
        "agora-a",
        "a",
        &[],
        &[
            ("src/lib.rs", LIB),
            ("src/big.rs", &long),
            ("src/listed.rs", &long),
            ("src/fine.rs", &short),
            ("tests/long.rs", &long),
        ],
    )]);
    let boundaries = "## Boundaries\n- `crates/a/src/listed.rs` is one table.\n";
    let listed = [("crates/a/src/listed.rs", "one table")];
    assert_eq!(places(&rules::files_are_short(&workspace, &listed, boundaries)), ["crates/a/src/big.rs:0"]);
    let found = rules::files_are_short(&workspace, &listed, "## Boundaries\n");
    assert_eq!(places(&found), ["crates/a/src/big.rs:0", "crates/a/src/listed.rs:0"]);
    let stale = [("crates/a/src/fine.rs", "was long"), ("crates/a/src/gone.rs", "was long")];
    let found = rules::files_are_short(&workspace, &stale, boundaries);
    assert_eq!(
        places(&found),
        ["crates/a/src/big.rs:0", "crates/a/src/listed.rs:0", "crates/a/src/fine.rs:0", "crates/a/src/gone.rs:0"]
    );
}

#[test]
fn the_boundaries_section_is_cut_out() {
    let doc = "# A\n## Invariants\nx\n## Boundaries\n- one\n## Cross-cutting\n- two\n";
    assert_eq!(crate::boundaries_section(doc), "## Boundaries\n- one");
}
