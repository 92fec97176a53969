//! A service's metadata and input form as JSON: the API's own shapes for `agora_market`'s types,
//! so that what is sent and what `openapi.json` says come from the same structs.

use agora_market::{InputMode, InputOption, InputSpec, Localized, Runtime, ServiceMetadata};
use serde::Serialize;
use utoipa::ToSchema;

/// What a service is and where it runs.
#[derive(Serialize, ToSchema)]
#[schema(as = ServiceMetadata)]
pub(crate) struct MetadataDto {
    /// e.g. ai-inference, data-processing, video-transcode
    kind: String,
    /// Where its jobs run; null for a kind this node has no app for.
    runtime: Option<RuntimeDto>,
    // Always sent; the document leaves them optional so that clients built against it (the web
    // app's fixtures among them) may describe a service by its kind alone.
    #[schema(required = false)]
    name: LocalizedDto,
    #[schema(required = false)]
    description: LocalizedDto,
}

impl From<ServiceMetadata> for MetadataDto {
    fn from(m: ServiceMetadata) -> Self {
        Self {
            kind: m.kind.as_str().to_owned(),
            runtime: m.runtime.map(Into::into),
            name: m.name.into(),
            description: m.description.into(),
        }
    }
}

/// Where the service's jobs run: an app on the node's own executor, or an iExec app in a category.
#[derive(Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
#[schema(as = ServiceRuntime)]
pub(crate) enum RuntimeDto {
    Local { app: String },
    Iexec { app: String, category: u64 },
}

impl From<Runtime> for RuntimeDto {
    fn from(r: Runtime) -> Self {
        match r {
            Runtime::Local { app } => Self::Local { app },
            Runtime::Iexec { app, category } => Self::Iexec { app, category },
        }
    }
}

/// One text per language tag (`en`, `zh-CN`).
#[derive(Serialize, ToSchema)]
#[schema(as = LocalizedText)]
pub(crate) struct LocalizedDto {
    en: String,
    #[serde(rename = "zh-CN")]
    zh_cn: String,
}

impl From<Localized> for LocalizedDto {
    fn from(l: Localized) -> Self {
        Self { en: l.en, zh_cn: l.zh_cn }
    }
}

/// What a buyer gives a service. Without options the task input is the text, the file's CID or
/// the drawn digit as it is; with options it is a JSON object `{"input": <that>, <option name>:
/// <choice>, …}`.
#[derive(Serialize, ToSchema)]
#[schema(as = ServiceInput)]
pub(crate) struct InputDto {
    /// Ways to give the input, the first the default.
    #[schema(inline, min_items = 1)]
    modes: Vec<ModeDto>,
    /// The file types a file input takes (an HTML accept value), or null for any.
    #[schema(required = true)]
    accept: Option<String>,
    options: Vec<OptionDto>,
}

impl From<InputSpec> for InputDto {
    fn from(i: InputSpec) -> Self {
        Self {
            modes: i.modes.into_iter().map(Into::into).collect(),
            accept: i.accept,
            options: i.options.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ModeDto {
    Text,
    File,
    Draw,
}

impl From<InputMode> for ModeDto {
    fn from(m: InputMode) -> Self {
        match m {
            InputMode::Text => Self::Text,
            InputMode::File => Self::File,
            InputMode::Draw => Self::Draw,
        }
    }
}

/// A choice the buyer makes; the purchase input then carries `name: choice`.
#[derive(Serialize, ToSchema)]
#[schema(as = ServiceOption)]
pub(crate) struct OptionDto {
    name: String,
    #[schema(min_items = 1)]
    choices: Vec<String>,
    /// One of choices.
    default: String,
}

impl From<InputOption> for OptionDto {
    fn from(o: InputOption) -> Self {
        Self { name: o.name, choices: o.choices, default: o.default }
    }
}
