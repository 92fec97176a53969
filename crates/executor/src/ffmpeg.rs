//! Video transcoding with the system's `ffmpeg`, as a separate process per job: its own scratch
//! directory, a wall-time limit (killed when it passes), an address-space cap (`prlimit --as`), an
//! output-size cap (`-fs`), no network (only the `file` protocol is allowed), and cancellation.
//!
//! Apps are named `ffmpeg:transcode-<height>p` — H.264 video scaled to that height (width keeps the
//! aspect ratio), AAC audio, MP4 with the index up front — or `ffmpeg:transcode-<height>p-vp9`:
//! VP9 video and Opus audio in WebM.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use tokio::process::Command;
use tokio::sync::{Notify, watch};

use crate::{AppId, Error, Executor, JobId, JobSpec, JobStatus, Result};

/// The app-id prefix this executor serves.
pub const PREFIX: &str = "ffmpeg:";

/// The video codec (and container) of a transcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// H.264 and AAC in MP4.
    H264,
    /// VP9 and Opus in WebM.
    Vp9,
}

impl Codec {
    /// Reads a codec's name as buyers choose it (`h264`, `vp9`).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "h264" => Some(Self::H264),
            "vp9" => Some(Self::Vp9),
            _ => None,
        }
    }

    /// ffmpeg's arguments for the video, the audio and the container.
    fn args(self) -> &'static [&'static str] {
        match self {
            Self::H264 => &[
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "aac",
                "-movflags",
                "+faststart",
                "-f",
                "mp4",
            ],
            Self::Vp9 => &[
                "-c:v",
                "libvpx-vp9",
                "-deadline",
                "realtime",
                "-cpu-used",
                "8",
                "-b:v",
                "0",
                "-crf",
                "36",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "libopus",
                "-f",
                "webm",
            ],
        }
    }
}

/// The app id for a transcode to `height` pixels with `codec`.
pub fn transcode_app(height: u32, codec: Codec) -> AppId {
    match codec {
        Codec::H264 => AppId::new(format!("{PREFIX}transcode-{height}p")),
        Codec::Vp9 => AppId::new(format!("{PREFIX}transcode-{height}p-vp9")),
    }
}

fn parse_app(app: &AppId) -> Option<(u32, Codec)> {
    let rest = app.as_str().strip_prefix(PREFIX)?.strip_prefix("transcode-")?;
    let (h, codec) = match rest.strip_suffix("-vp9") {
        Some(h) => (h, Codec::Vp9),
        None => (rest, Codec::H264),
    };
    let h: u32 = h.strip_suffix('p')?.parse().ok()?;
    ((16..=4320).contains(&h) && h.is_multiple_of(2)).then_some((h, codec))
}

struct Job {
    status: watch::Sender<JobStatus>,
    cancel: Arc<Notify>,
}

/// Runs transcode jobs with `ffmpeg` from `PATH` (or the given binary).
#[derive(Clone)]
pub struct FfmpegExecutor {
    inner: Arc<Inner>,
}

struct Inner {
    binary: PathBuf,
    scratch_dir: PathBuf,
    jobs: Mutex<HashMap<JobId, Job>>,
    next: AtomicU64,
}

impl FfmpegExecutor {
    /// An executor running `binary` (e.g. `ffmpeg` from `PATH`), each job in its own directory
    /// under `scratch_dir`. Nothing is checked until a job runs.
    pub fn new(binary: impl Into<PathBuf>, scratch_dir: impl Into<PathBuf>) -> Self {
        Self {
            inner: Arc::new(Inner {
                binary: binary.into(),
                scratch_dir: scratch_dir.into(),
                jobs: Mutex::new(HashMap::new()),
                next: AtomicU64::new(0),
            }),
        }
    }

    /// Whether `app` names a transcode this executor can run.
    pub fn serves(app: &AppId) -> bool {
        parse_app(app).is_some()
    }

    fn job<T>(&self, id: &JobId, f: impl FnOnce(&Job) -> T) -> Result<T> {
        let jobs = self.inner.jobs.lock().map_err(|_| Error::Engine("job table poisoned".into()))?;
        jobs.get(id).map(f).ok_or_else(|| Error::UnknownJob(id.clone()))
    }
}

/// The first line of ffmpeg's complaint, to explain a failure in a sentence.
fn first_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("no error message");
    format!("ffmpeg: {}", line.chars().take(140).collect::<String>())
}

async fn run(inner: Arc<Inner>, spec: JobSpec, (height, codec): (u32, Codec), cancel: Arc<Notify>) -> JobStatus {
    let dir = match tempfile::Builder::new().prefix("agora-ffmpeg-").tempdir_in(&inner.scratch_dir) {
        Ok(d) => d,
        Err(e) => return JobStatus::Failed { reason: format!("executor error: scratch directory: {e}") },
    };
    let input = dir.path().join("input");
    let output = dir.path().join("output");
    if let Err(e) = tokio::fs::write(&input, &spec.input).await {
        return JobStatus::Failed { reason: format!("executor error: writing the input: {e}") };
    }
    let limits = &spec.limits;
    let mut cmd = Command::new("prlimit");
    cmd.arg(format!("--as={}", limits.memory_bytes))
        .arg("--")
        .arg(&inner.binary)
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-protocol_whitelist", "file", "-i"])
        .arg(&input)
        .args(["-vf", &format!("scale=-2:{height}")])
        .args(codec.args())
        .args(["-threads", "1", "-fs", &limits.output_bytes.to_string(), "-y"])
        .arg(&output)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return JobStatus::Failed { reason: format!("executor error: cannot start ffmpeg: {e}") },
    };
    let finished = tokio::select! {
        out = child.wait_with_output() => out,
        _ = tokio::time::sleep(limits.wall_time) => {
            return JobStatus::Failed { reason: format!("wall time limit {} s exceeded", limits.wall_time.as_secs()) };
        }
        _ = cancel.notified() => return JobStatus::Failed { reason: "cancelled".into() },
    };
    let out = match finished {
        Ok(o) => o,
        Err(e) => return JobStatus::Failed { reason: format!("executor error: {e}") },
    };
    if !out.status.success() {
        return JobStatus::Failed { reason: first_line(&out.stderr) };
    }
    match tokio::fs::read(&output).await {
        // `-fs` stops writing at the cap without an error: a file that reached it was cut short.
        Ok(bytes) if bytes.len() as u64 >= limits.output_bytes => {
            JobStatus::Failed { reason: format!("output larger than {} MiB", limits.output_bytes >> 20) }
        }
        Ok(bytes) => JobStatus::Succeeded { output: Bytes::from(bytes) },
        Err(e) => JobStatus::Failed { reason: format!("executor error: reading the output: {e}") },
    }
}

#[async_trait]
impl Executor for FfmpegExecutor {
    fn name(&self) -> &'static str {
        "local"
    }

    async fn submit(&self, spec: JobSpec) -> Result<JobId> {
        let target = parse_app(&spec.app).ok_or_else(|| Error::UnknownApp(spec.app.clone()))?;
        let n = self.inner.next.fetch_add(1, Ordering::Relaxed);
        let id = JobId::new(format!("ffmpeg-{}-{n}", std::process::id()));
        let (tx, _) = watch::channel(JobStatus::Running);
        let cancel = Arc::new(Notify::new());
        {
            let mut jobs = self.inner.jobs.lock().map_err(|_| Error::Engine("job table poisoned".into()))?;
            jobs.insert(id.clone(), Job { status: tx.clone(), cancel: cancel.clone() });
        }
        let inner = self.inner.clone();
        tokio::spawn(async move {
            let status = run(inner, spec, target, cancel).await;
            tx.send_replace(status);
        });
        Ok(id)
    }

    async fn status(&self, id: &JobId) -> Result<JobStatus> {
        self.job(id, |j| j.status.borrow().clone())
    }

    async fn cancel(&self, id: &JobId) -> Result<()> {
        self.job(id, |j| j.cancel.notify_one())
    }

    async fn wait(&self, id: &JobId) -> Result<JobStatus> {
        let mut rx = self.job(id, |j| j.status.subscribe())?;
        let status = rx.wait_for(JobStatus::is_final).await.map_err(|_| Error::UnknownJob(id.clone()))?;
        Ok(status.clone())
    }

    async fn forget(&self, id: &JobId) -> Result<()> {
        self.cancel(id).await?;
        if let Ok(mut jobs) = self.inner.jobs.lock() {
            jobs.remove(id);
        }
        Ok(())
    }
}

/// Sends each job to the executor that serves its app: transcodes to ffmpeg, `model:` apps to the
/// model executor (its job ids start with `infer-`), the rest to the wasm executor.
#[derive(Clone)]
pub struct Dispatch {
    /// Runs every app that is neither a transcode nor a model.
    pub wasm: crate::LocalExecutor,
    /// Runs transcodes; `None`: they go to `wasm`, which does not know them.
    pub ffmpeg: Option<FfmpegExecutor>,
    /// Runs `model:` apps; `None`: they go to `wasm`, which does not know them.
    pub model: Option<Arc<dyn Executor>>,
}

impl Dispatch {
    fn for_job(&self, id: &JobId) -> &dyn Executor {
        match (&self.ffmpeg, &self.model) {
            (Some(f), _) if id.as_str().starts_with("ffmpeg-") => f,
            (_, Some(m)) if id.as_str().starts_with("infer-") => m.as_ref(),
            _ => &self.wasm,
        }
    }
}

#[async_trait]
impl Executor for Dispatch {
    fn name(&self) -> &'static str {
        "local"
    }

    async fn submit(&self, spec: JobSpec) -> Result<JobId> {
        match (&self.ffmpeg, &self.model) {
            (Some(f), _) if FfmpegExecutor::serves(&spec.app) => f.submit(spec).await,
            (_, Some(m)) if spec.app.as_str().starts_with("model:") => m.submit(spec).await,
            _ => self.wasm.submit(spec).await,
        }
    }

    async fn status(&self, id: &JobId) -> Result<JobStatus> {
        self.for_job(id).status(id).await
    }

    async fn cancel(&self, id: &JobId) -> Result<()> {
        self.for_job(id).cancel(id).await
    }

    async fn wait(&self, id: &JobId) -> Result<JobStatus> {
        self.for_job(id).wait(id).await
    }

    async fn forget(&self, id: &JobId) -> Result<()> {
        self.for_job(id).forget(id).await
    }
}
