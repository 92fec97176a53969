//! The pool's orders: one signed workerpool order per category the hub has, re-signed once half
//! consumed, and written to a file (the offline stand-in for iExec's market API) when configured.

use std::path::Path;

use alloy::primitives::{Address, U256};

use super::{Workerpool, lock};
use crate::Result;
use crate::orders::{SignedWorkerpoolOrder, TEE_TDX_TAG, WorkerpoolOrderParams, sign_workerpool_order};
use crate::tx::call_error;

impl Workerpool {
    /// The signed orders currently offered, one per category.
    pub fn current_orders(&self) -> Vec<SignedWorkerpoolOrder> {
        lock(&self.orders).clone()
    }

    /// Signs a fresh order of this pool for `category` at the configured price.
    pub(super) fn sign_order(&self, category: U256, volume: U256) -> Result<SignedWorkerpoolOrder> {
        sign_workerpool_order(
            self.cfg.owner.signer(),
            self.chain_id,
            self.cfg.hub,
            &WorkerpoolOrderParams {
                workerpool: self.pool,
                price: self.cfg.price,
                volume,
                tag: TEE_TDX_TAG,
                category,
                trust: U256::from(1u64),
                apprestrict: Address::ZERO,
                datasetrestrict: Address::ZERO,
                requesterrestrict: Address::ZERO,
            },
        )
    }

    /// Keeps one live order per category and writes them out.
    pub(super) async fn refresh_orders(&self) -> Result<()> {
        let count: u64 = self
            .hub()
            .countCategory()
            .call()
            .await
            .map_err(|e| call_error("countCategory", e))?
            .try_into()
            .unwrap_or(0);
        let current = self.current_orders();
        let mut next = Vec::new();
        let mut changed = current.len() as u64 != count;
        for category in 0..count {
            let category = U256::from(category);
            let keep = match current.iter().find(|o| o.category == category) {
                Some(o) => {
                    let consumed = self
                        .hub()
                        .viewConsumed(o.hash(&self.domain))
                        .call()
                        .await
                        .map_err(|e| call_error("viewConsumed", e))?;
                    (consumed * U256::from(2u64) < o.volume).then(|| o.clone())
                }
                None => None,
            };
            match keep {
                Some(o) => next.push(o),
                None => {
                    changed = true;
                    next.push(self.sign_order(category, self.cfg.order_volume)?);
                }
            }
        }
        if changed {
            if let Some(path) = &self.cfg.orders_file {
                write_orders(path, &next)?;
            }
            tracing::debug!(orders = next.len(), "workerpool orders signed");
            *lock(&self.orders) = next;
        }
        Ok(())
    }
}

/// Replaces the orders file at once (written beside it, then renamed), so a reader never sees
/// half a file.
fn write_orders(path: &Path, orders: &[SignedWorkerpoolOrder]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, serde_json::to_vec_pretty(orders)?)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
