//! A real SMTP server on loopback for the tests: `scripts/smtp-sink.sh` (aiosmtpd, pinned) as a
//! child process, killed on drop, writing each mail it receives to a directory; in clear text, or
//! with TLS (implicit, or STARTTLS which it then requires) under a certificate the test made.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How a TLS sink speaks TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlsMode {
    /// STARTTLS, which it requires before a mail (port 587 style).
    StartTls,
    /// TLS from the first byte (port 465 style).
    Smtps,
}

pub(crate) struct Sink {
    pub(crate) port: u16,
    pub(crate) dir: PathBuf,
    tls: Option<TlsMode>,
    _child: Child,
    _tmp: Option<tempfile::TempDir>,
}

/// One received mail: its headers and body as text.
pub(crate) struct Received {
    pub(crate) text: String,
}

impl Received {
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        let head = self.text.split("\r\n\r\n").next().unwrap_or_default();
        head.lines().find_map(|l| {
            l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_owned())
        })
    }
}

impl Sink {
    /// A sink on a free port.
    pub(crate) async fn start() -> anyhow::Result<Self> {
        let tmp = tempfile::tempdir()?;
        let dir = tmp.path().join("mail");
        let mut sink = Self::on_port(0, &dir).await?;
        sink._tmp = Some(tmp);
        Ok(sink)
    }

    /// A sink on a free port speaking TLS as `mode` says, with the certificate chain and key in the
    /// PEM files `cert` and `key`.
    pub(crate) async fn start_tls(mode: TlsMode, cert: &Path, key: &Path) -> anyhow::Result<Self> {
        let tmp = tempfile::tempdir()?;
        let dir = tmp.path().join("mail");
        let mode_arg = match mode {
            TlsMode::StartTls => "starttls",
            TlsMode::Smtps => "smtps",
        };
        let tls_args = ["--tls-cert".as_ref(), cert.as_os_str(), "--tls-key".as_ref(), key.as_os_str()];
        let mut sink = Self::spawn(0, &dir, &[&tls_args[..], &["--mode".as_ref(), mode_arg.as_ref()]].concat()).await?;
        sink.tls = Some(mode);
        sink._tmp = Some(tmp);
        Ok(sink)
    }

    /// A sink on `port` writing into `dir`.
    pub(crate) async fn on_port(port: u16, dir: &Path) -> anyhow::Result<Self> {
        Self::spawn(port, dir, &[]).await
    }

    async fn spawn(port: u16, dir: &Path, extra: &[&std::ffi::OsStr]) -> anyhow::Result<Self> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/smtp-sink.sh");
        let mut child = Command::new(script)
            .args(["--port", &port.to_string(), "--dir"])
            .arg(dir)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start scripts/smtp-sink.sh")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        // The first run creates the virtual environment (pip): allow it time.
        let line = tokio::time::timeout(Duration::from_secs(180), lines.next_line())
            .await
            .context("the SMTP sink did not start")??
            .context("the SMTP sink exited")?;
        let port = line
            .strip_prefix("listening on ")
            .and_then(|a| a.rsplit(':').next())
            .and_then(|p| p.parse().ok())
            .with_context(|| format!("unexpected first line {line:?}"))?;
        // Keep reading its output so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self { port, dir: dir.to_path_buf(), tls: None, _child: child, _tmp: None })
    }

    /// The `[mail] smtp_url` that reaches this sink the way it speaks.
    pub(crate) fn url(&self) -> String {
        match self.tls {
            None => format!("smtp://127.0.0.1:{}", self.port),
            Some(TlsMode::StartTls) => format!("smtp://127.0.0.1:{}?tls=required", self.port),
            Some(TlsMode::Smtps) => format!("smtps://127.0.0.1:{}", self.port),
        }
    }

    /// The mails received so far, in order.
    pub(crate) fn received(&self) -> anyhow::Result<Vec<Received>> {
        read_dir_mails(&self.dir, "eml")
    }

    /// Waits until at least `n` mails were received (failing after `within`), and returns them.
    pub(crate) async fn wait_for(&self, n: usize, within: Duration) -> anyhow::Result<Vec<Received>> {
        wait_for_mails(&self.dir, "eml", n, within).await
    }
}

pub(crate) fn read_dir_mails(dir: &Path, ext: &str) -> anyhow::Result<Vec<Received>> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(Vec::new()) };
    let mut names: Vec<PathBuf> =
        entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == ext)).collect();
    names.sort();
    names.iter().map(|p| Ok(Received { text: std::fs::read_to_string(p)? })).collect()
}

pub(crate) async fn wait_for_mails(dir: &Path, ext: &str, n: usize, within: Duration) -> anyhow::Result<Vec<Received>> {
    let deadline = Instant::now() + within;
    loop {
        let got = read_dir_mails(dir, ext)?;
        if got.len() >= n {
            return Ok(got);
        }
        if Instant::now() > deadline {
            bail!("{} mails in {} after {within:?}, wanted {n}", got.len(), dir.display());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
