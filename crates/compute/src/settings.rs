//! The `[compute]` section of the node's configuration.

use serde::{Deserialize, Serialize};

/// Which key runs the market's jobs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ComputeSettings {
    /// Private key the node starts, completes and fails tasks with (an operator of
    /// ComputeMarket). On the embedded chain: the dev operator. Unset elsewhere: no jobs run.
    pub operator_key: Option<String>,
    /// Crash tests only: the scheduler aborts the process right after this point of a job
    /// (`accepted`, `start-sent`, `started`, `executed`, `complete-sent`, `failing`, `fail-sent`).
    pub failpoint: Option<String>,
}
