//! The embedded backend: a directory with each content once, as `objects/<cid>`.
//!
//! Content is written to `tmp/`, flushed to disk and then renamed into `objects/`, so an object is
//! either absent or complete: a crash leaves at most a stray file in `tmp/` (removed by a later
//! [`LocalStore::open`] once it has not been touched for an hour). Only the whole content is kept,
//! under its root CID; the inner blocks of larger files are computed for the CID but not stored.

use std::io::{ErrorKind, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::{CHUNK_SIZE, Cid, CidBuilder, ContentStore, Error, Result, clamp_range, compute_cid, io};

/// A stray temporary file older than this belongs to a writer that is gone.
const STALE_TMP: Duration = Duration::from_secs(3600);

/// Content in a local directory. Cheap to clone; clones share the directory.
#[derive(Debug, Clone)]
pub struct LocalStore {
    objects: PathBuf,
    tmp: PathBuf,
}

impl LocalStore {
    /// Opens (creating if needed) the store in `dir`.
    pub async fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let store = Self { objects: dir.join("objects"), tmp: dir.join("tmp") };
        for path in [&store.objects, &store.tmp] {
            tokio::fs::create_dir_all(path).await.map_err(io("creating", path))?;
        }
        store.remove_stale_tmp().await;
        Ok(store)
    }

    /// Where the content of `cid` lives (whether or not it is there).
    pub fn path_of(&self, cid: &Cid) -> PathBuf {
        // `Cid`'s Display is base32 lower-case: always a plain file name.
        self.objects.join(cid.to_string())
    }

    async fn remove_stale_tmp(&self) {
        let Ok(mut entries) = tokio::fs::read_dir(&self.tmp).await else { return };
        while let Ok(Some(entry)) = entries.next_entry().await {
            let stale = entry
                .metadata()
                .await
                .and_then(|m| m.modified())
                .is_ok_and(|modified| SystemTime::now().duration_since(modified).is_ok_and(|age| age > STALE_TMP));
            if stale {
                tracing::debug!(path = %entry.path().display(), "removing stale temporary content file");
                let _ = tokio::fs::remove_file(entry.path()).await;
            }
        }
    }

    /// A new, empty temporary file, removed again unless [`TempFile::commit`] moves it into place.
    async fn temp_file(&self) -> Result<(tokio::fs::File, TempFile)> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let name = format!("{}-{}-{nanos}.part", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let path = self.tmp.join(name);
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await
            .map_err(io("creating", &path))?;
        Ok((file, TempFile { path: Some(path) }))
    }

    /// Flushes `file` and renames it to the object path of `cid` (unless that exists already).
    async fn commit(&self, mut file: tokio::fs::File, mut temp: TempFile, cid: &Cid) -> Result<()> {
        let target = self.path_of(cid);
        let Some(path) = temp.path.clone() else { return Ok(()) };
        file.flush().await.map_err(io("writing", &path))?;
        if tokio::fs::try_exists(&target).await.map_err(io("checking", &target))? {
            return Ok(()); // `temp` is removed on drop
        }
        file.sync_all().await.map_err(io("syncing", &path))?;
        drop(file);
        tokio::fs::rename(&path, &target).await.map_err(io("moving into place", &target))?;
        temp.path = None;
        // Make the rename itself durable.
        #[cfg(unix)]
        if let Ok(dir) = tokio::fs::File::open(&self.objects).await {
            let _ = dir.sync_all().await;
        }
        tracing::debug!(%cid, "stored content");
        Ok(())
    }
}

impl ContentStore for LocalStore {
    async fn put(&self, content: impl Into<Bytes> + Send) -> Result<Cid> {
        let content = content.into();
        let cid = compute_cid(&content).await?;
        let target = self.path_of(&cid);
        if tokio::fs::try_exists(&target).await.map_err(io("checking", &target))? {
            return Ok(cid);
        }
        let (mut file, temp) = self.temp_file().await?;
        file.write_all(&content).await.map_err(io("writing", temp.path()))?;
        self.commit(file, temp, &cid).await?;
        Ok(cid)
    }

    async fn put_file(&self, path: &Path) -> Result<Cid> {
        let mut source = tokio::fs::File::open(path).await.map_err(io("opening", path))?;
        let (mut file, temp) = self.temp_file().await?;
        let mut builder = CidBuilder::new();
        let mut buf = vec![0u8; CHUNK_SIZE];
        loop {
            let n = source.read(&mut buf).await.map_err(io("reading", path))?;
            if n == 0 {
                break;
            }
            builder.update(&buf[..n]);
            file.write_all(&buf[..n]).await.map_err(io("writing", temp.path()))?;
        }
        let cid = builder.finish();
        self.commit(file, temp, &cid).await?;
        Ok(cid)
    }

    async fn get(&self, cid: &Cid) -> Result<Option<Bytes>> {
        let path = self.path_of(cid);
        match tokio::fs::read(&path).await {
            Ok(content) => Ok(Some(content.into())),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("reading", &path)(e)),
        }
    }

    async fn get_range(&self, cid: &Cid, start: u64, end: u64) -> Result<Option<Bytes>> {
        let path = self.path_of(cid);
        let mut file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("opening", &path)(e)),
        };
        let size = file.metadata().await.map_err(io("reading", &path))?.len();
        let (start, end) = clamp_range(start, end, size)?;
        let len = usize::try_from(end - start).map_err(|_| Error::InvalidRange { start, end })?;
        let mut out = vec![0u8; len];
        file.seek(SeekFrom::Start(start)).await.map_err(io("reading", &path))?;
        file.read_exact(&mut out).await.map_err(io("reading", &path))?;
        Ok(Some(out.into()))
    }

    async fn has(&self, cid: &Cid) -> Result<bool> {
        let path = self.path_of(cid);
        tokio::fs::try_exists(&path).await.map_err(io("checking", &path))
    }

    async fn size(&self, cid: &Cid) -> Result<Option<u64>> {
        let path = self.path_of(cid);
        match tokio::fs::metadata(&path).await {
            Ok(meta) => Ok(Some(meta.len())),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("reading", &path)(e)),
        }
    }
}

/// A temporary file that is deleted when dropped (on error or cancellation) unless committed.
struct TempFile {
    path: Option<PathBuf>,
}

impl TempFile {
    fn path(&self) -> &Path {
        self.path.as_deref().unwrap_or(Path::new(""))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}
