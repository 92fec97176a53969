//! The compute market's vocabulary, owned in one place: what kind of work a service sells, where its
//! tasks run (an app on this node, or an iExec app in a category), how it names and describes
//! itself in each language, and what input a buyer gives it.
//!
//! A service carries all of this in its on-chain metadata URI as
//! `data:application/json,{"kind":…,"runtime":{…},"name":{…},"description":{…}}`.
//! [`ServiceMetadata::from_uri`] reads it once where a service row is read; the scheduler picks a
//! runner from [`Runtime`], the API serves it with the [`InputSpec`] of its kind, and the web app
//! builds its buy dialog from that, so no layer decides by comparing strings of its own.
//!
//! [`demo`] holds the seed's three demo services.

#![warn(missing_docs)]

pub mod demo;
mod input;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use input::{InputMode, InputOption, InputSpec, TaskInput};

/// The prefix of a metadata URI that carries its JSON inline.
pub const DATA_URI_PREFIX: &str = "data:application/json,";

/// The kind of work a service sells. Kinds this node knows come with an input form and a default
/// app; any other kind is kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ServiceKind {
    /// Recognise a handwritten digit.
    AiInference,
    /// Transcode a video.
    VideoTranscode,
    /// Run a sandboxed job over text or a file.
    DataProcessing,
    /// A kind this node does not know.
    Other(String),
}

impl ServiceKind {
    /// The kind as listed in metadata (`ai-inference`, …).
    pub fn as_str(&self) -> &str {
        match self {
            Self::AiInference => "ai-inference",
            Self::VideoTranscode => "video-transcode",
            Self::DataProcessing => "data-processing",
            Self::Other(s) => s,
        }
    }

    /// Reads a listed kind; unknown ones are kept as [`ServiceKind::Other`].
    pub fn parse(s: &str) -> Self {
        match s {
            "ai-inference" => Self::AiInference,
            "video-transcode" => Self::VideoTranscode,
            "data-processing" => Self::DataProcessing,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The local app that runs this kind when the metadata names none.
    pub fn default_app(&self) -> Option<&'static str> {
        match self {
            Self::AiInference => Some(apps::DIGITS),
            Self::VideoTranscode => Some(apps::TRANSCODE),
            Self::DataProcessing => Some(apps::WORDCOUNT),
            Self::Other(_) => None,
        }
    }
}

impl Serialize for ServiceKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ServiceKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::parse(&String::deserialize(d)?))
    }
}

/// The names of the apps this node's catalogue installs, as services name them.
pub mod apps {
    /// The word count (WebAssembly).
    pub const WORDCOUNT: &str = "wordcount";
    /// CSV column statistics (WebAssembly).
    pub const CSVSTATS: &str = "csvstats";
    /// Video transcode with ffmpeg; the resolution and codec come from the task's input.
    pub const TRANSCODE: &str = "transcode";
    /// The digits classifier.
    pub const DIGITS: &str = "digits";
}

/// Where a service's tasks run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Runtime {
    /// On this node's own executor, with the app installed under this name.
    Local {
        /// The installed app's name in the node's catalogue.
        app: String,
    },
    /// Through iExec: a deal for this app (an app the Agora workerpool installed under this name)
    /// in this iExec category.
    Iexec {
        /// The app's name in the Agora workerpool.
        app: String,
        /// The iExec category (its work-clock time reference).
        category: u64,
    },
}

impl Runtime {
    /// The app's name, whichever runtime.
    pub fn app(&self) -> &str {
        match self {
            Self::Local { app } | Self::Iexec { app, .. } => app,
        }
    }
}

/// A text in each language the web app speaks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Localized {
    /// English.
    pub en: String,
    #[serde(rename = "zh-CN")]
    /// Simplified Chinese (`zh-CN`).
    pub zh_cn: String,
}

impl Localized {
    /// A text in both languages.
    pub fn new(en: &str, zh_cn: &str) -> Self {
        Self { en: en.to_owned(), zh_cn: zh_cn.to_owned() }
    }
}

/// A service's metadata, as listed on chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceMetadata {
    /// The kind of work sold.
    pub kind: ServiceKind,
    /// `None`: a kind this node does not know, with no app named.
    pub runtime: Option<Runtime>,
    /// The service's name, per language.
    pub name: Localized,
    /// What the service does, per language.
    pub description: Localized,
}

impl ServiceMetadata {
    /// Reads the metadata of a `data:application/json,` URI. Anything else (another URI scheme,
    /// text that is not a JSON object, no `kind`) is `None`: such a service is listed and sold,
    /// but this node runs none of its tasks.
    ///
    /// Besides today's shape it reads the first one the dev chain listed (`"runtime":"iexec"` with
    /// `"app"` and `"iexecCategory"` beside it, no runtime for local services).
    pub fn from_uri(uri: &str) -> Option<Self> {
        let json: Value = serde_json::from_str(uri.strip_prefix(DATA_URI_PREFIX)?).ok()?;
        let kind = ServiceKind::parse(json.get("kind")?.as_str()?);
        let text = |field: &str| -> Localized {
            let v = &json[field];
            match v {
                Value::String(s) => Localized::new(s, s),
                _ => Localized {
                    en: v["en"].as_str().unwrap_or_default().to_owned(),
                    zh_cn: v["zh-CN"].as_str().or_else(|| v["en"].as_str()).unwrap_or_default().to_owned(),
                },
            }
        };
        let runtime = match &json["runtime"] {
            Value::Object(_) => serde_json::from_value(json["runtime"].clone()).ok(),
            Value::String(s) if s == "iexec" => json["app"].as_str().map(|app| Runtime::Iexec {
                app: app.to_owned(),
                category: json["iexecCategory"].as_u64().unwrap_or(0),
            }),
            _ => kind.default_app().map(|app| Runtime::Local { app: app.to_owned() }),
        };
        Some(Self { kind, runtime, name: text("name"), description: text("description") })
    }

    /// The metadata URI that lists this service.
    pub fn to_uri(&self) -> String {
        // Serialising these plain types cannot fail; an empty object would still list.
        format!("{DATA_URI_PREFIX}{}", serde_json::to_string(self).unwrap_or_else(|_| "{}".into()))
    }

    /// What a buyer gives this service.
    pub fn input(&self) -> InputSpec {
        InputSpec::for_kind(&self.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trips_through_its_uri() {
        for s in demo::demo_services() {
            assert_eq!(ServiceMetadata::from_uri(&s.metadata.to_uri()), Some(s.metadata.clone()));
        }
        let iexec = demo::demo_services().remove(2).on_iexec("wordcount", 3);
        let back = ServiceMetadata::from_uri(&iexec.metadata.to_uri()).expect("parses");
        assert_eq!(back.runtime, Some(Runtime::Iexec { app: "wordcount".into(), category: 3 }));
    }

    #[test]
    fn the_first_dev_chain_shape_still_reads() {
        let uri = r#"data:application/json,{"kind":"data-processing","name":{"en":"Data","zh-CN":"数据"},"description":{"en":"d","zh-CN":"描述"},"runtime":"iexec","app":"wordcount","iexecCategory":0}"#;
        let m = ServiceMetadata::from_uri(uri).expect("parses");
        assert_eq!(m.kind, ServiceKind::DataProcessing);
        assert_eq!(m.runtime, Some(Runtime::Iexec { app: "wordcount".into(), category: 0 }));
        assert_eq!(m.name.zh_cn, "数据");
        let local = r#"data:application/json,{"kind":"video-transcode","name":{"en":"V"}}"#;
        let m = ServiceMetadata::from_uri(local).expect("parses");
        assert_eq!(m.runtime, Some(Runtime::Local { app: apps::TRANSCODE.into() }));
        assert_eq!(m.name.zh_cn, "V", "a missing translation falls back to English");
    }

    #[test]
    fn unknown_kinds_are_kept_and_run_nowhere_and_junk_is_none() {
        let m = ServiceMetadata::from_uri(r#"data:application/json,{"kind":"gpu-rendering"}"#).expect("parses");
        assert_eq!(m.kind, ServiceKind::Other("gpu-rendering".into()));
        assert_eq!(m.runtime, None);
        assert_eq!(ServiceMetadata::from_uri("ipfs://bafy"), None);
        assert_eq!(ServiceMetadata::from_uri("data:application/json,[1,2]"), None);
        assert_eq!(ServiceMetadata::from_uri("data:application/json,{not json"), None);
    }
}
