//! Settings of a session: timeouts per state, the seller's window of unacknowledged bytes.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::frame::Limits;
use crate::message::Rating;

/// How long each state may last before the session ends with [`Error::Timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// `hello` after connecting, and `menu` after `hello`.
    pub handshake: Duration,
    /// `order` after `menu`: the buyer escrows in between, so this covers a transaction.
    pub order: Duration,
    /// The escrow reaching the confirmation depth after `order`.
    pub escrow: Duration,
    /// How often the order book is asked while the escrow is not deep enough.
    pub escrow_poll: Duration,
    /// An `ack` while the seller's window is full; the first `data` after `order` (buyer side:
    /// covers the escrow wait plus this).
    pub ack: Duration,
    /// The next `data` while the buyer waits for one.
    pub data: Duration,
    /// The other side's `exit` once everything is acknowledged.
    pub exit: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            handshake: Duration::from_secs(30),
            order: Duration::from_secs(600),
            escrow: Duration::from_secs(600),
            escrow_poll: Duration::from_secs(1),
            ack: Duration::from_secs(60),
            data: Duration::from_secs(60),
            exit: Duration::from_secs(30),
        }
    }
}

/// The seller's window: how many bytes it sends beyond the buyer's last ACK. It must cover the
/// bandwidth-delay product (100 Mbit/s × 20 ms is 250 KB; 1 Gbit/s × 50 ms is 6.25 MB) or the
/// link idles while the seller waits; it is also the most the seller risks unpaid. It grows by
/// `step` with every ACK that raises the total, up to `max` (Filecoin's payment interval: start
/// small, grow as trust builds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Bytes in flight at the start of a session (at least one chunk is always allowed).
    pub initial: u64,
    /// Added for every ACK that raises the total.
    pub step: u64,
    /// The most bytes in flight ever.
    pub max: u64,
}

impl Default for Window {
    /// 8 MiB, +1 MiB per ACK, up to 64 MiB.
    fn default() -> Self {
        Self { initial: 8 << 20, step: 1 << 20, max: 64 << 20 }
    }
}

impl Window {
    pub(crate) fn check(&self) -> Result<()> {
        if self.initial == 0 || self.max < self.initial {
            return Err(Error::Config(format!(
                "window: initial {} must be positive and at most max {}",
                self.initial, self.max
            )));
        }
        Ok(())
    }
}

/// The seller's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SellerConfig {
    /// Frame limits.
    pub limits: Limits,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// The window.
    pub window: Window,
    /// Blocks the escrow must be under (1: mined) before anything is sent.
    pub confirmations: u64,
    /// The rating the seller gives a buyer whose order completed, in its `exit`.
    pub rating_on_complete: Option<Rating>,
    /// Serves orders paid off chain (the seed's "alipay"), each once the seller has confirmed its
    /// payment on chain; otherwise they are refused at once.
    pub off_chain: bool,
}

impl Default for SellerConfig {
    /// Default limits, timeouts and window; the escrow 2 blocks deep; no rating.
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            timeouts: Timeouts::default(),
            window: Window::default(),
            confirmations: 2,
            rating_on_complete: None,
            off_chain: false,
        }
    }
}

/// The buyer's settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BuyerConfig {
    /// Frame limits.
    pub limits: Limits,
    /// Timeouts.
    pub timeouts: Timeouts,
}
