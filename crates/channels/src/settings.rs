//! The `[channels]` section of the node's configuration.

use serde::{Deserialize, Serialize};

/// The payee side of payment channels: whose vouchers the node collects and when it settles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChannelSettings {
    /// Private key of the payee this node collects channel payments for (vouchers, auto-settle).
    /// On the embedded chain: the demo provider's dev key. Unset elsewhere: no ledger.
    pub payee_key: Option<String>,
    /// Vouchers are refused this many seconds before their channel expires.
    pub voucher_margin_secs: u64,
    /// Channels expiring within this many seconds are closed with their highest voucher.
    pub settle_margin_secs: u64,
    /// Milliseconds between auto-settle runs.
    pub settle_interval_ms: u64,
}

impl Default for ChannelSettings {
    fn default() -> Self {
        Self { payee_key: None, voucher_margin_secs: 15 * 60, settle_margin_secs: 15 * 60, settle_interval_ms: 30_000 }
    }
}
