//! The `[store]` section of the node's configuration.

use serde::{Deserialize, Serialize};

/// Where the node's database is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSettings {
    /// `sqlite://…` or `postgres://…`. Default: a SQLite file in the data directory.
    pub database_url: Option<String>,
}
