//! The node's transaction senders: exactly one [`Sender`] per key, so everything that signs with a
//! key (the scheduler, the settle job, the iExec backend, the workerpool, the dev chain's set-up)
//! shares its nonce lock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use agora_chain::{SendPolicy, Sender};
use alloy::primitives::Address;
use alloy::providers::DynProvider;
use anyhow::{Context, Result};

/// One [`Sender`] per key on one chain. Cheap to clone.
#[derive(Clone)]
pub struct Senders {
    provider: DynProvider,
    chain_id: u64,
    policy: SendPolicy,
    by_address: Arc<Mutex<HashMap<Address, Sender>>>,
}

impl Senders {
    /// No sender yet; one is made per key on first use.
    pub fn new(provider: DynProvider, chain_id: u64, policy: SendPolicy) -> Self {
        Self { provider, chain_id, policy, by_address: Arc::default() }
    }

    /// The sender of the hex private key `key`: the same one every time it is asked for.
    pub fn for_key(&self, key: &str) -> Result<Sender> {
        let signer = agora_chain::signer_from_key(key)?;
        let mut map = self.by_address.lock().ok().context("the sender table is poisoned")?;
        Ok(map
            .entry(signer.address())
            .or_insert_with(|| Sender::new(self.provider.clone(), self.chain_id, signer, self.policy.clone()))
            .clone())
    }
}
