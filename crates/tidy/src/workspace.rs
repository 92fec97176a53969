//! The workspace as the rules see it: its crates and their dependencies from
//! `cargo metadata --format-version 1 --no-deps`, and every file under each crate's directory.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::lex::Lexed;

/// The crates of a workspace.
#[derive(Debug)]
pub struct Workspace {
    /// The workspace's root directory.
    pub root: PathBuf,
    /// Its member crates.
    pub crates: Vec<Crate>,
}

/// One member crate.
#[derive(Debug)]
pub struct Crate {
    /// The package name (`agora-store`).
    pub name: String,
    /// Its directory, relative to the workspace root (`crates/store`).
    pub dir: PathBuf,
    /// Its `Cargo.toml`, as written.
    pub manifest: String,
    /// Its library target's root file relative to the root (`crates/store/src/lib.rs`), if any.
    pub lib: Option<PathBuf>,
    /// Its dependencies as its manifest declares them.
    pub deps: Vec<Dep>,
    /// Every `.rs` file under its directory.
    pub files: Vec<SourceFile>,
    /// Every other file under its directory, relative to the root.
    pub other_files: Vec<PathBuf>,
}

/// One declared dependency.
#[derive(Debug, Clone)]
pub struct Dep {
    /// The package depended on (not a rename).
    pub name: String,
    /// `[dependencies]`, `[dev-dependencies]` or `[build-dependencies]`.
    pub kind: DepKind,
}

/// The table a dependency is declared in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepKind {
    /// `[dependencies]`: part of what the crate ships.
    Normal,
    /// `[dev-dependencies]`: tests, benches and examples only.
    Dev,
    /// `[build-dependencies]`: the build script.
    Build,
}

impl fmt::Display for DepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DepKind::Normal => "[dependencies]",
            DepKind::Dev => "[dev-dependencies]",
            DepKind::Build => "[build-dependencies]",
        })
    }
}

/// What a file is for, by where it lies in its crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `src/**` and `build.rs`: what the crate ships.
    Src,
    /// `src/testing.rs` or `src/testing/**`: the `testing` feature's helpers for other crates' tests.
    Testing,
    /// `tests/**`, `benches/**`, `examples/**`.
    Test,
}

/// One Rust source file.
#[derive(Debug)]
pub struct SourceFile {
    /// Relative to the workspace root (`crates/store/src/lib.rs`).
    pub path: PathBuf,
    /// Where it lies in its crate.
    pub kind: FileKind,
    /// Its text.
    pub text: String,
    /// Its code, literals and test items.
    pub lexed: Lexed,
}

impl SourceFile {
    /// A file of the crate in `crate_dir` (both relative to the root) with the given text.
    pub fn new(crate_dir: &Path, path: PathBuf, text: String) -> Self {
        let inside = path.strip_prefix(crate_dir).unwrap_or(&path);
        let kind = if inside == Path::new("src/testing.rs") || inside.starts_with("src/testing") {
            FileKind::Testing
        } else if inside.starts_with("src") || inside == Path::new("build.rs") {
            FileKind::Src
        } else {
            FileKind::Test
        };
        let lexed = Lexed::new(&text);
        SourceFile { path, kind, text, lexed }
    }

    /// Whether byte offset `at` is test code: a test file, or an item under `#[cfg(test)]`.
    pub fn is_test_code(&self, at: usize) -> bool {
        self.kind == FileKind::Test || self.lexed.in_test(at)
    }
}

/// Why the workspace could not be read.
#[derive(Debug)]
pub struct LoadError(pub String);

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LoadError {}

impl Workspace {
    /// Reads the workspace around `dir` with the `cargo` binary at `cargo`.
    pub fn load(cargo: &Path, dir: &Path) -> Result<Self, LoadError> {
        let output = Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
            .current_dir(dir)
            .output()
            .map_err(|e| LoadError(format!("running {} metadata: {e}", cargo.display())))?;
        if !output.status.success() {
            return Err(LoadError(format!("cargo metadata: {}", String::from_utf8_lossy(&output.stderr))));
        }
        let metadata: Value =
            serde_json::from_slice(&output.stdout).map_err(|e| LoadError(format!("cargo metadata's output: {e}")))?;
        Self::from_metadata(&metadata)
    }

    /// Builds the workspace from `cargo metadata` JSON, reading each crate's files from disk.
    pub fn from_metadata(metadata: &Value) -> Result<Self, LoadError> {
        let field = |v: &Value, key: &str| {
            v[key].as_str().map(str::to_string).ok_or_else(|| LoadError(format!("metadata: no `{key}`")))
        };
        let root = PathBuf::from(field(metadata, "workspace_root")?);
        let members: Vec<&str> =
            metadata["workspace_members"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let mut crates = Vec::new();
        for package in metadata["packages"].as_array().into_iter().flatten() {
            if !members.contains(&package["id"].as_str().unwrap_or_default()) {
                continue;
            }
            let manifest = PathBuf::from(field(package, "manifest_path")?);
            let dir_abs = manifest.parent().unwrap_or(&root).to_path_buf();
            let dir = dir_abs.strip_prefix(&root).unwrap_or(&dir_abs).to_path_buf();
            let lib = package["targets"].as_array().into_iter().flatten().find_map(|target| {
                let kinds = target["kind"].as_array()?;
                kinds.iter().any(|k| k == "lib" || k == "rlib" || k == "proc-macro").then(|| {
                    let src = PathBuf::from(target["src_path"].as_str().unwrap_or_default());
                    src.strip_prefix(&root).map(Path::to_path_buf).unwrap_or(src)
                })
            });
            let deps = package["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|dep| Dep {
                    name: dep["name"].as_str().unwrap_or_default().to_string(),
                    kind: match dep["kind"].as_str() {
                        Some("dev") => DepKind::Dev,
                        Some("build") => DepKind::Build,
                        _ => DepKind::Normal,
                    },
                })
                .collect();
            let manifest_text = std::fs::read_to_string(&manifest)
                .map_err(|e| LoadError(format!("reading {}: {e}", manifest.display())))?;
            let mut paths = Vec::new();
            walk(&dir_abs, &mut paths).map_err(|e| LoadError(format!("walking {}: {e}", dir_abs.display())))?;
            let mut files = Vec::new();
            let mut other_files = Vec::new();
            for path in paths {
                let relative = path.strip_prefix(&root).unwrap_or(&path).to_path_buf();
                if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| LoadError(format!("reading {}: {e}", path.display())))?;
                    files.push(SourceFile::new(&dir, relative, text));
                } else {
                    other_files.push(relative);
                }
            }
            crates.push(Crate {
                name: field(package, "name")?,
                dir,
                manifest: manifest_text,
                lib,
                deps,
                files,
                other_files,
            });
        }
        crates.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Workspace { root, crates })
    }

    /// The member crate named `name`.
    pub fn krate(&self, name: &str) -> Option<&Crate> {
        self.crates.iter().find(|c| c.name == name)
    }

    /// Whether `name` is a member crate.
    pub fn is_member(&self, name: &str) -> bool {
        self.krate(name).is_some()
    }
}

/// Every file under `dir`, in a stable order, skipping build output and hidden directories.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            if !(name.starts_with('.') || name == "target" || name == "node_modules") {
                walk(&path, out)?;
            }
        } else {
            out.push(path);
        }
    }
    Ok(())
}
