//! `[data]`: the data seller's settings in the node's configuration file (`AGORA_DATA__…`).

use std::net::SocketAddr;
use std::path::PathBuf;

use alloy::primitives::{Address, U256};
use serde::{Deserialize, Serialize};

use crate::catalogue::{Price, Terms};
use crate::config::{SellerConfig, Window};

/// `agora seller`'s settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataSettings {
    /// Where buyers connect (TCP).
    pub listen: SocketAddr,
    /// The endpoint registered for buyers (`host:port`); default: `listen`.
    pub endpoint: Option<String>,
    /// The directory whose files are sold (each file an item, named by its path under it).
    pub catalogue_dir: Option<PathBuf>,
    /// The seller's private key (0x hex): its account is paid and signs the protocol's messages.
    pub seller_key: Option<String>,
    /// Blocks the escrow must be under before the first byte is sent (1: mined).
    pub confirmations: u64,
    /// Price per MiB in the token's smallest unit (the last part of a MiB rounded up).
    pub price_per_mib: u64,
    /// The token prices are in; unset: ETH.
    pub token: Option<Address>,
    /// Bytes per chunk (each signed and acknowledged).
    pub chunk_size: u64,
    /// Unacknowledged bytes in flight at the start of a transfer.
    pub window_initial: u64,
    /// Added to the window by every ACK that raises the total.
    pub window_step: u64,
    /// The most unacknowledged bytes in flight.
    pub window_max: u64,
    /// Milliseconds between the settlement job's looks at the orders the seller holds ACKs for.
    pub settle_interval_ms: u64,
    /// Serve orders paid off chain (the seed's "alipay"): each once the seller has confirmed its
    /// payment on chain (`agora seller --confirm-paid ORDER`); off: such orders are refused.
    pub off_chain: bool,
}

impl Default for DataSettings {
    fn default() -> Self {
        let w = Window::default();
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 7070)),
            endpoint: None,
            catalogue_dir: None,
            seller_key: None,
            confirmations: 1,
            price_per_mib: 1_000_000_000_000,
            token: None,
            chunk_size: 1 << 20,
            window_initial: w.initial,
            window_step: w.step,
            window_max: w.max,
            settle_interval_ms: 2_000,
            off_chain: false,
        }
    }
}

impl DataSettings {
    /// The terms every item of the catalogue is sold under.
    pub fn terms(&self) -> Terms {
        Terms {
            price: Price::PerMiB(U256::from(self.price_per_mib)),
            token: self.token.unwrap_or(Address::ZERO),
            chunk_size: self.chunk_size,
        }
    }

    /// The endpoint buyers are told in the registry.
    pub fn endpoint(&self) -> String {
        self.endpoint.clone().unwrap_or_else(|| self.listen.to_string())
    }

    /// The session settings these make (default limits and timeouts).
    pub fn seller_config(&self) -> SellerConfig {
        SellerConfig {
            window: Window { initial: self.window_initial, step: self.window_step, max: self.window_max },
            confirmations: self.confirmations,
            off_chain: self.off_chain,
            ..SellerConfig::default()
        }
    }
}
