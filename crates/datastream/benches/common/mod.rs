//! What the data-stream benches share: the market they sign for, an order book that is a table,
//! and how figures are printed. Included by `throughput.rs` and `shaped.rs` with `#[path]`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use agora_datastream::{MarketRef, OnChainOrder, OrderBook};
use alloy::primitives::{B256, address};

pub(crate) const MARKET: MarketRef =
    MarketRef { chain_id: 31337, address: address!("0x5FbDB2315678afecb367f032d93F642f64180aa3") };

/// The order book as a table of orders, each confirmed deep enough.
#[derive(Default)]
pub(crate) struct Table(pub(crate) Mutex<HashMap<B256, OnChainOrder>>);

impl OrderBook for Table {
    async fn order(&self, order_id: B256, _tx: B256) -> Result<Option<OnChainOrder>, String> {
        Ok(self.0.lock().map_err(|e| e.to_string())?.get(&order_id).cloned())
    }
}

pub(crate) fn print_load(when: &str) {
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into());
    println!("load average {load} (1, 5, 15 min) {when}");
}

pub(crate) fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub(crate) fn mb_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}
