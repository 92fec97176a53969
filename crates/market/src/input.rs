//! What a buyer gives a service: the ways the buy dialog offers to enter it, the file types it
//! takes, and the choices (with their allowed values) that travel with it.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::ServiceKind;

/// One way to enter a task's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InputMode {
    /// Typed text.
    Text,
    /// A file, uploaded to the content store; the input is its CID.
    File,
    /// A digit drawn on an 8×8 grid.
    Draw,
}

/// A choice that travels with the input, e.g. a transcode's resolution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputOption {
    /// The option's field name in a JSON input (`resolution`).
    pub name: String,
    /// The allowed values, in the order to offer them.
    pub choices: Vec<String>,
    /// The value taken when a buyer chooses none.
    pub default: String,
}

/// How a service takes its input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputSpec {
    /// The ways offered to enter the input, in order.
    pub modes: Vec<InputMode>,
    /// The file types to offer (an HTML `accept` value), when files are taken.
    pub accept: Option<String>,
    /// Choices beside the data. With any, the input is a JSON object: the data (text or CID) under
    /// [`DATA_FIELD`] and one field per option; a bare text or CID takes every default.
    pub options: Vec<InputOption>,
}

/// The field of a JSON input that holds the data itself.
pub(crate) const DATA_FIELD: &str = "input";
/// Older name of [`DATA_FIELD`] for a video, also read.
const VIDEO_FIELD: &str = "video";

/// Resolutions a transcode offers.
pub(crate) const RESOLUTIONS: [&str; 4] = ["240p", "360p", "480p", "720p"];
/// Codecs a transcode offers: H.264 in MP4, VP9 in WebM.
pub(crate) const CODECS: [&str; 2] = ["h264", "vp9"];

fn option(name: &str, choices: &[&str]) -> InputOption {
    InputOption {
        name: name.to_owned(),
        choices: choices.iter().map(|c| (*c).to_owned()).collect(),
        default: choices[0].to_owned(),
    }
}

impl InputSpec {
    /// The input form of a kind of service.
    pub fn for_kind(kind: &ServiceKind) -> Self {
        let (modes, accept, options) = match kind {
            ServiceKind::AiInference => (vec![InputMode::Draw, InputMode::File], Some("image/png"), vec![]),
            ServiceKind::VideoTranscode => (
                vec![InputMode::File],
                Some("video/*"),
                vec![option("resolution", &RESOLUTIONS), option("codec", &CODECS)],
            ),
            ServiceKind::DataProcessing | ServiceKind::Other(_) => {
                (vec![InputMode::Text, InputMode::File], None, vec![])
            }
        };
        Self { modes, accept: accept.map(str::to_owned), options }
    }

    /// Reads a task's input against this form. The error is a sentence for the buyer (it becomes
    /// the refund's reason).
    pub fn parse(&self, raw: &str) -> Result<TaskInput, String> {
        let defaults = || self.options.iter().map(|o| (o.name.clone(), o.default.clone())).collect();
        if self.options.is_empty() {
            return Ok(TaskInput { data: raw.to_owned(), options: BTreeMap::new() });
        }
        let trimmed = raw.trim();
        let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(trimmed) else {
            return Ok(TaskInput { data: trimmed.to_owned(), options: defaults() });
        };
        let data = fields
            .get(DATA_FIELD)
            .or_else(|| fields.get(VIDEO_FIELD))
            .and_then(Value::as_str)
            .ok_or_else(|| format!("bad input: the JSON input has no \"{DATA_FIELD}\" text"))?;
        let mut options: BTreeMap<String, String> = defaults();
        for o in &self.options {
            let Some(v) = fields.get(&o.name) else { continue };
            let v = v.as_str().ok_or_else(|| format!("bad input: {} must be text", o.name))?;
            if !o.choices.iter().any(|c| c == v) {
                return Err(format!("bad input: {} {v:?} is not one of {}", o.name, o.choices.join(", ")));
            }
            options.insert(o.name.clone(), v.to_owned());
        }
        Ok(TaskInput { data: data.trim().to_owned(), options })
    }
}

/// A task's input read against its service's form: the data (text, or the CID of a file) and a
/// value for every option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskInput {
    /// The text, or the CID of an uploaded file.
    pub data: String,
    /// A value for every option of the form.
    pub options: BTreeMap<String, String>,
}

impl TaskInput {
    /// The value chosen for option `name`.
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options.get(name).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transcode() -> InputSpec {
        InputSpec::for_kind(&ServiceKind::VideoTranscode)
    }

    #[test]
    fn a_bare_cid_takes_the_defaults() {
        let input = transcode().parse(" bafkreiabc ").expect("parses");
        assert_eq!(input.data, "bafkreiabc");
        assert_eq!(input.option("resolution"), Some("240p"));
        assert_eq!(input.option("codec"), Some("h264"));
    }

    #[test]
    fn json_input_carries_the_choices() {
        let input = transcode().parse(r#"{"input":"bafkrei1","resolution":"480p","codec":"vp9"}"#).expect("parses");
        assert_eq!(
            (input.data.as_str(), input.option("resolution"), input.option("codec")),
            ("bafkrei1", Some("480p"), Some("vp9"))
        );
        let input = transcode().parse(r#"{"video":"bafkrei2","codec":"vp9"}"#).expect("parses");
        assert_eq!((input.data.as_str(), input.option("resolution")), ("bafkrei2", Some("240p")));
    }

    #[test]
    fn choices_outside_the_list_are_refused_with_a_sentence() {
        let err = transcode().parse(r#"{"input":"bafkrei1","resolution":"4320p"}"#).unwrap_err();
        assert!(err.contains("resolution \"4320p\" is not one of 240p, 360p, 480p, 720p"), "{err}");
        let err = transcode().parse(r#"{"input":"bafkrei1","codec":7}"#).unwrap_err();
        assert!(err.contains("codec must be text"), "{err}");
        let err = transcode().parse(r#"{"resolution":"240p"}"#).unwrap_err();
        assert!(err.contains("no \"input\""), "{err}");
    }

    #[test]
    fn services_without_options_take_their_input_verbatim() {
        let spec = InputSpec::for_kind(&ServiceKind::DataProcessing);
        let raw = r#"{"op":"wordcount"}"#;
        assert_eq!(spec.parse(raw).expect("parses").data, raw);
        assert_eq!(spec.modes, vec![InputMode::Text, InputMode::File]);
    }
}
