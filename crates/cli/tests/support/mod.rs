//! Running the real `agora` binary and talking to it like an outside client would.
#![allow(dead_code)] // each test or bench target uses part of it

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).expect("repo root").to_path_buf()
}

pub(crate) fn tempdir() -> anyhow::Result<tempfile::TempDir> {
    Ok(tempfile::Builder::new().prefix("agora-").tempdir()?)
}

/// Kills the child when dropped, however the test ends.
pub(crate) struct Proc(pub(crate) Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `agora up` on the embedded defaults, in a temporary data dir, on free ports.
pub(crate) struct Up {
    pub(crate) proc: Proc,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) api: String,
    pub(crate) dev: Value,
}

impl Up {
    pub(crate) fn start() -> anyhow::Result<Self> {
        Self::start_with(tempdir()?, &["--anvil-port", "0"])
    }

    /// `agora up --data-dir DIR --http-addr 127.0.0.1:0 ARGS…`; waits until it says it is up.
    pub(crate) fn start_with(dir: tempfile::TempDir, args: &[&str]) -> anyhow::Result<Self> {
        let (proc, api) = spawn_up(dir.path(), args, &[])?;
        let dev = match std::fs::read(dir.path().join("dev.json")) {
            Ok(bytes) => serde_json::from_slice(&bytes)?,
            Err(_) => Value::Null,
        };
        Ok(Self { proc, dir, api, dev })
    }

    /// SIGKILL (no chance to clean up), then its data directory, to start it again on.
    pub(crate) fn kill(self) -> tempfile::TempDir {
        let Self { proc, dir, .. } = self;
        drop(proc);
        dir
    }

    /// SIGTERM, then wait for a clean exit.
    pub(crate) fn stop(mut self) -> anyhow::Result<ExitStatus> {
        Command::new("kill").args(["-TERM", &self.proc.0.id().to_string()]).status()?;
        Ok(self.proc.0.wait()?)
    }
}

/// The last `n` lines of a file, for a failure message.
pub(crate) fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Starts `agora up` on `data_dir` with extra arguments and environment; returns once it prints
/// its URL, or fails with the end of its log if it exits first. Its log (stderr) is kept in
/// `<data_dir>/agora.stderr.log`.
pub(crate) fn spawn_up(data_dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> anyhow::Result<(Proc, String)> {
    std::fs::create_dir_all(data_dir)?;
    let log = data_dir.join("agora.stderr.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_agora"))
        .current_dir(repo_root())
        .args(["up", "--data-dir"])
        .arg(data_dir)
        .args(["--http-addr", "127.0.0.1:0"])
        .args(args)
        // The federated-learning demo task trains at start-up: off unless a test asks for it.
        .env("AGORA_FL__DEMO", "false")
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log)?)
        .spawn()?;
    let stdout = child.stdout.take().expect("stdout");
    let mut proc = Proc(child);
    for line in BufReader::new(stdout).lines() {
        if let Some(url) = line?.strip_prefix("Agora is up: ") {
            return Ok((proc, url.to_owned()));
        }
    }
    let status = proc.0.wait()?;
    anyhow::bail!("agora up exited ({status}) before it was up; the end of its log:\n{}", tail(&log, 40))
}

pub(crate) fn cast() -> PathBuf {
    repo_root().join("node_modules/@foundry-rs/cast-linux-amd64/bin/cast")
}

/// `cast send --json …`: a transaction sent by Foundry, not by Agora's code.
pub(crate) fn cast_send(rpc: &str, key: &str, args: &[&str]) -> anyhow::Result<Value> {
    let out =
        Command::new(cast()).args(["send", "--json", "--rpc-url", rpc, "--private-key", key]).args(args).output()?;
    anyhow::ensure!(out.status.success(), "cast send failed: {}", String::from_utf8_lossy(&out.stderr));
    Ok(serde_json::from_slice(&out.stdout)?)
}

pub(crate) async fn get_json(url: &str) -> anyhow::Result<(u16, Value)> {
    let resp = reqwest::get(url).await?;
    let status = resp.status().as_u16();
    Ok((status, resp.json().await?))
}

/// Polls `GET url` until it answers 200; returns the body and how long it took.
pub(crate) async fn wait_for(url: &str, limit: Duration) -> anyhow::Result<(Value, Duration)> {
    let start = Instant::now();
    loop {
        let (status, body) = get_json(url).await?;
        if status == 200 {
            return Ok((body, start.elapsed()));
        }
        anyhow::ensure!(start.elapsed() < limit, "{url} not found within {limit:?}: {body}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The task as the API shows it, and the names of the events in its timeline, in order.
pub(crate) async fn task_events(api: &str, id: impl std::fmt::Display) -> anyhow::Result<(Value, Vec<String>)> {
    let (_, task) = get_json(&format!("{api}/api/tasks/{id}")).await?;
    let events = task["timeline"]
        .as_array()
        .ok_or_else(|| anyhow::anyhow!("task {id} has no timeline: {task}"))?
        .iter()
        .filter_map(|e| e["event"].as_str().map(str::to_owned))
        .collect();
    Ok((task, events))
}
