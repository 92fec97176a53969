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

/// A family of apps installed at once: every name `<name prefix><suffix>` is the app
/// `<app prefix><suffix>` (a finished federated task's model, `fl:7` → `model:fl-7`), so apps
/// that appear after the node started need no reinstalling. The executor decides whether a
/// suffix names something it can run, and fails the job with the reason when not.
#[derive(Debug, Clone)]
struct Family {
    name_prefix: String,
    app_prefix: String,
    limits: Limits,
}

/// The resolution a transcode takes when none is chosen.
const DEFAULT_RESOLUTION: &str = "240p";

/// Installed apps and the executor that runs them (see the module documentation).
#[derive(Clone)]
pub struct Catalogue {
    executor: Arc<dyn Executor>,
    wasm: Option<LocalExecutor>,
    apps: HashMap<String, Entry>,
    families: Vec<Family>,
}

impl std::fmt::Debug for Catalogue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogue")
            .field("executor", &self.executor.name())
            .field("apps", &self.apps)
            .field("families", &self.families)
            .finish()
    }
}

impl Catalogue {
    /// An empty catalogue over `executor`; `wasm` is the executor's WebAssembly engine when it
    /// has one (the workerpool installs apps it receives by CID there).
    pub fn new(executor: Arc<dyn Executor>, wasm: Option<LocalExecutor>) -> Self {
        Self { executor, wasm, apps: HashMap::new(), families: Vec::new() }
    }

    /// Installs a family of apps: every name `name_prefix` + suffix (a non-empty suffix of
    /// letters, digits, `-` and `_`) runs the app `app_prefix` + suffix.
    pub fn install_family(&mut self, name_prefix: &str, app_prefix: &str, limits: Limits) {
        self.families.push(Family { name_prefix: name_prefix.to_owned(), app_prefix: app_prefix.to_owned(), limits });
    }

    /// The family app `name` names, if any.
    fn family_app(&self, name: &str) -> Option<(AppId, Limits)> {
        self.families.iter().find_map(|f| {
            let suffix = name.strip_prefix(f.name_prefix.as_str())?;
            let plain =
                !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            plain.then(|| (AppId::new(format!("{}{suffix}", f.app_prefix)), f.limits.clone()))
        })
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
        self.apps.contains_key(name) || self.family_app(name).is_some()
    }

    /// Every installed app with its default options, by name.
    pub fn apps(&self) -> HashMap<String, (AppId, Limits)> {
        self.apps.keys().filter_map(|name| Some((name.clone(), self.job(name, &BTreeMap::new()).ok()?))).collect()
    }

    /// The app id and limits of a job of `name` with `options` (a transcode's `resolution`, e.g.
    /// `480p`, and `codec`, `h264` or `vp9`). The error is a sentence for the buyer.
    pub fn job(&self, name: &str, options: &BTreeMap<String, String>) -> Result<(AppId, Limits), String> {
        match self.apps.get(name) {
            None => self.family_app(name).ok_or_else(|| format!("app {name} is not installed on this node")),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LocalConfig;

    #[test]
    fn a_family_serves_every_plain_suffix_under_its_app_prefix() {
        let wasm = LocalExecutor::new(LocalConfig::default()).expect("engine");
        let mut catalogue = Catalogue::new(Arc::new(wasm), None);
        let limits = Limits { fuel: 7, ..Limits::default() };
        catalogue.install_family("fl:", "model:fl-", limits.clone());
        catalogue.install("digits", AppId::new("model:digits"), Limits::default());
        assert!(catalogue.serves("fl:12") && catalogue.serves("digits"));
        let (app, got) = catalogue.job("fl:12", &BTreeMap::new()).expect("a family member");
        assert_eq!((app.as_str(), got.fuel), ("model:fl-12", 7));
        for name in ["fl:", "fl:1/2", "fl:a b", "fx:12"] {
            assert!(!catalogue.serves(name), "{name}");
            assert!(catalogue.job(name, &BTreeMap::new()).unwrap_err().contains("not installed"), "{name}");
        }
        // The catalogue's list holds the installed names, not a family's endless members.
        assert_eq!(catalogue.apps().len(), 1);
    }
}
