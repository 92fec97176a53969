//! The sample apps shipped with the executor, written in WAT (there is no wasm32 Rust target on
//! the build machines). [`LocalExecutor::register_app`](crate::LocalExecutor::register_app)
//! accepts WAT text and turns it into a binary module.

/// A sample app: a short name and its WAT source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleApp {
    /// Short name, e.g. `wordcount`.
    pub name: &'static str,
    /// One line saying what the app does with its input.
    pub description: &'static str,
    /// The module as WAT text.
    pub source: &'static [u8],
}

/// The apps shipped with the crate:
/// - `wordcount`: text on stdin → `{"lines":L,"words":W,"bytes":B}` (what `LC_ALL=C wc` counts).
/// - `csvstats`: CSV of integers on stdin →
///   `{"rows":R,"columns":[{"count":C,"min":m,"max":M,"sum":S},…]}`; empty fields are missing
///   values; malformed input fails with `bad input: line N: …`.
pub fn sample_apps() -> Vec<SampleApp> {
    vec![
        SampleApp {
            name: "wordcount",
            description: "counts lines, words and bytes of the input, as JSON",
            source: include_bytes!("../apps/wordcount.wat"),
        },
        SampleApp {
            name: "csvstats",
            description: "per-column count, min, max and sum of a CSV of integers, as JSON",
            source: include_bytes!("../apps/csvstats.wat"),
        },
    ]
}
