//! The apps a node runs, by the names services give them, with the limits each runs under and the
//! executor behind them. The node builds one [`Catalogue`] at start and hands it to everything
//! that runs jobs (the compute scheduler, the iExec workerpool), so both run the same apps under
//! the same limits.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::ffmpeg::{Codec, transcode_app};
use crate::{AppId, Executor, Limits, LocalExecutor};

/// An installed app.
#[derive(Debug, Clone)]
enum Entry {
    /// One app id.
    Fixed(AppId, Limits),
    /// A transcode whose resolution and codec come from the job's options.
    Transcode(Limits),
}

/// The resolution a transcode takes when none is chosen.
const DEFAULT_RESOLUTION: &str = "240p";

/// Installed apps and the executor that runs them (see the module documentation).
#[derive(Clone)]
pub struct Catalogue {
    executor: Arc<dyn Executor>,
    wasm: Option<LocalExecutor>,
    apps: HashMap<String, Entry>,
}

impl std::fmt::Debug for Catalogue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogue").field("executor", &self.executor.name()).field("apps", &self.apps).finish()
    }
}

impl Catalogue {
    /// An empty catalogue over `executor`; `wasm` is the executor's WebAssembly engine when it
    /// has one (the workerpool installs apps it receives by CID there).
    pub fn new(executor: Arc<dyn Executor>, wasm: Option<LocalExecutor>) -> Self {
        Self { executor, wasm, apps: HashMap::new() }
    }

    /// Installs `app` under `name`.
    pub fn install(&mut self, name: &str, app: AppId, limits: Limits) {
        self.apps.insert(name.to_owned(), Entry::Fixed(app, limits));
    }

    /// Installs the ffmpeg transcode under `name`.
    pub fn install_transcode(&mut self, name: &str, limits: Limits) {
        self.apps.insert(name.to_owned(), Entry::Transcode(limits));
    }

    /// The executor every installed app's jobs are submitted to.
    pub fn executor(&self) -> &Arc<dyn Executor> {
        &self.executor
    }

    /// The WebAssembly engine to register apps received by CID in, when the executor has one.
    pub fn wasm(&self) -> Option<&LocalExecutor> {
        self.wasm.as_ref()
    }

    /// Whether an app is installed under `name`.
    pub fn serves(&self, name: &str) -> bool {
        self.apps.contains_key(name)
    }

    /// Every installed app with its default options, by name.
    pub fn apps(&self) -> HashMap<String, (AppId, Limits)> {
        self.apps.keys().filter_map(|name| Some((name.clone(), self.job(name, &BTreeMap::new()).ok()?))).collect()
    }

    /// The app id and limits of a job of `name` with `options` (a transcode's `resolution`, e.g.
    /// `480p`, and `codec`, `h264` or `vp9`). The error is a sentence for the buyer.
    pub fn job(&self, name: &str, options: &BTreeMap<String, String>) -> Result<(AppId, Limits), String> {
        match self.apps.get(name) {
            None => Err(format!("app {name} is not installed on this node")),
            Some(Entry::Fixed(app, limits)) => Ok((app.clone(), limits.clone())),
            Some(Entry::Transcode(limits)) => {
                let resolution = options.get("resolution").map_or(DEFAULT_RESOLUTION, String::as_str);
                let height = resolution
                    .strip_suffix('p')
                    .and_then(|h| h.parse::<u32>().ok())
                    .filter(|h| (16..=4320).contains(h) && h.is_multiple_of(2))
                    .ok_or_else(|| format!("bad input: {resolution:?} is not a resolution such as 480p"))?;
                let codec = match options.get("codec") {
                    None => Codec::H264,
                    Some(c) => Codec::parse(c).ok_or_else(|| format!("bad input: codec {c:?} is not h264 or vp9"))?,
                };
                Ok((transcode_app(height, codec), limits.clone()))
            }
        }
    }
}
