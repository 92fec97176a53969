//! The pool's stake: the owner's free iExec balance, topped up (RLC `approve` + `deposit`) to the
//! configured amount, which matching a deal locks 30 % of the pool's price from.

use alloy::primitives::U256;

use super::{Workerpool, lock};
use crate::Result;
use crate::bindings::{IexecHub, Rlc};
use crate::tx::{call_error, send};

impl Workerpool {
    /// Looks at the stake and the orders now (done on the first round, after new deals, and
    /// every `maintenance` otherwise).
    pub(super) async fn maintain(&self) {
        *lock(&self.last_maintenance) = Some(std::time::Instant::now());
        if self.cfg.stake > U256::ZERO
            && let Err(e) = self.keep_stake().await
        {
            tracing::warn!(error = %e, "could not top up the workerpool's stake");
        }
        if let Err(e) = self.refresh_orders().await {
            tracing::warn!(error = %e, "could not refresh the workerpool's orders");
        }
    }

    async fn keep_stake(&self) -> Result<()> {
        let owner = self.cfg.owner.address();
        let account = self.hub().viewAccount(owner).call().await.map_err(|e| call_error("viewAccount", e))?;
        if account.stake >= self.cfg.stake {
            return Ok(());
        }
        let rlc_address = self.hub().token().call().await.map_err(|e| call_error("token", e))?;
        let rlc = Rlc::new(rlc_address, self.cfg.owner.provider());
        let wallet = rlc.balanceOf(owner).call().await.map_err(|e| call_error("RLC balanceOf", e))?;
        let amount = (self.cfg.stake - account.stake).min(wallet);
        if amount.is_zero() {
            tracing::warn!(%owner, "the workerpool owner has no RLC left to stake");
            return Ok(());
        }
        let owner_key = &self.cfg.owner;
        send(owner_key, "RLC approve", rlc.approve(self.cfg.hub, amount)).await?;
        send(owner_key, "deposit", IexecHub::new(self.cfg.hub, owner_key.provider()).deposit(amount)).await?;
        tracing::info!(%owner, nrlc = %amount, "workerpool stake topped up");
        Ok(())
    }
}
