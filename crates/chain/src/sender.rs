//! The one place a key's transactions are sent from.
//!
//! A [`Sender`] owns one private key on one chain. Everything in the node that signs with that key
//! (the scheduler's `completeTask`, the settle job's `closeCompact`, the iExec backend's app
//! deployment, …) holds a clone of the same `Sender`, so nonces are handed out by one lock and
//! two subsystems can never sign two transactions with one nonce.
//!
//! Each transaction is estimated first (a revert comes back as a decoded [`ContractError`] and
//! consumes no nonce), signed locally, broadcast as raw bytes and followed to its receipt. Transport
//! errors are retried with growing backoff (a broadcast is re-sent as the same bytes, so a retry
//! can never make a second transaction). On a public chain a transaction still pending after
//! [`SendPolicy::stuck_after`] is replaced with the same nonce and higher EIP-1559 fees.

use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::consensus::TxEnvelope;
use alloy::eips::Encodable2718;
use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, B256, Bytes, TxKind};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::{RpcError, TransportError};

use crate::revert::{ContractError, decode_revert};
use crate::{Error, Result};

/// How a [`Sender`] waits, retries and replaces.
#[derive(Debug, Clone)]
pub struct SendPolicy {
    /// How often a pending transaction's receipt is looked for.
    pub poll: Duration,
    /// A transaction pending this long is replaced with higher fees; `None` never replaces (a dev
    /// chain mines every transaction at once).
    pub stuck_after: Option<Duration>,
    /// Each replacement raises both fee caps by this many percent (nodes require at least 10).
    pub bump_percent: u32,
    /// Replacements at most; after that the sender keeps waiting for one of the versions.
    pub max_bumps: u32,
    /// Attempts of an RPC call that failed in transport before the error is returned.
    pub attempts: u32,
    /// The first retry's wait; each later one doubles it.
    pub backoff: Duration,
}

impl SendPolicy {
    /// For the embedded dev chain: every transaction is mined when sent.
    pub fn dev() -> Self {
        Self {
            poll: Duration::from_millis(50),
            stuck_after: None,
            bump_percent: 20,
            max_bumps: 0,
            attempts: 5,
            backoff: Duration::from_millis(100),
        }
    }

    /// For a public chain: replaced after two minutes pending, up to five times.
    pub fn public() -> Self {
        Self {
            poll: Duration::from_secs(2),
            stuck_after: Some(Duration::from_secs(120)),
            bump_percent: 20,
            max_bumps: 5,
            attempts: 6,
            backoff: Duration::from_millis(500),
        }
    }
}

/// Sends the transactions of one key (see the module documentation). Cheap to clone; clones share
/// the key's nonce lock.
#[derive(Clone)]
pub struct Sender {
    inner: Arc<Inner>,
}

struct Inner {
    provider: DynProvider,
    signer: PrivateKeySigner,
    wallet: EthereumWallet,
    address: Address,
    chain_id: u64,
    policy: SendPolicy,
    /// The next nonce this sender will use, once known; held while a transaction is signed and
    /// broadcast, so nonces go out one at a time and in order.
    next_nonce: tokio::sync::Mutex<Option<u64>>,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender").field("address", &self.inner.address).field("chain_id", &self.inner.chain_id).finish()
    }
}

/// While alive, no transaction of the key leaves its [`Sender`] (see [`Sender::hold`]).
pub struct NonceHold<'a> {
    _guard: tokio::sync::MutexGuard<'a, Option<u64>>,
}

/// A broadcast transaction not yet known to be mined.
pub struct Pending {
    sender: Sender,
    tx: TransactionRequest,
    nonce: u64,
    /// Every version broadcast (the first, then its replacements).
    sent: Vec<B256>,
    last_sent: Instant,
    bumps: u32,
}

impl Pending {
    /// The hash of the first version broadcast.
    pub fn tx_hash(&self) -> B256 {
        self.sent[0]
    }

    /// Waits until one version is mined, replacing the transaction with higher fees whenever it
    /// stays pending longer than the policy allows. A version mined as reverted is
    /// [`Error::Reverted`].
    pub async fn confirm(mut self) -> Result<TransactionReceipt> {
        let policy = self.sender.inner.policy.clone();
        loop {
            for hash in self.sent.iter().rev() {
                let receipt = self.sender.retry(|| self.sender.inner.provider.get_transaction_receipt(*hash)).await?;
                if let Some(receipt) = receipt {
                    if !receipt.status() {
                        return Err(Error::Reverted { tx: receipt.transaction_hash });
                    }
                    return Ok(receipt);
                }
            }
            let stuck = policy.stuck_after.is_some_and(|after| self.last_sent.elapsed() >= after);
            if stuck && self.bumps < policy.max_bumps {
                self.replace().await?;
            }
            tokio::time::sleep(policy.poll).await;
        }
    }

    /// Broadcasts the transaction again with the same nonce and higher fees.
    async fn replace(&mut self) -> Result<()> {
        bump_fees(&mut self.tx, self.sender.inner.policy.bump_percent);
        self.bumps += 1;
        self.last_sent = Instant::now();
        let replacement = self.sender.sign(self.tx.clone()).await?;
        match self.sender.broadcast(&replacement).await {
            Ok(()) => {
                let old = self.sent[self.sent.len() - 1];
                tracing::info!(nonce = self.nonce, bumps = self.bumps, %old, new = %replacement.hash, "replaced a stuck transaction with higher fees");
                self.sent.push(replacement.hash);
            }
            // An earlier version was mined meanwhile; its receipt shows on the next look.
            Err(e) if is_nonce_too_low(&e) => {}
            Err(e) => tracing::warn!(nonce = self.nonce, error = %e, "replacing a stuck transaction failed"),
        }
        Ok(())
    }
}

/// A raw transaction as broadcast: its hash and its signed bytes.
struct Signed {
    hash: B256,
    raw: Bytes,
}

impl Sender {
    /// A sender for `signer` on the chain at `rpc_url` (its chain id is read once, now).
    pub async fn connect(rpc_url: &str, signer: PrivateKeySigner, policy: SendPolicy) -> Result<Self> {
        let provider = crate::read_provider(rpc_url)?;
        let chain_id = provider.get_chain_id().await?;
        Ok(Self::new(provider, chain_id, signer, policy))
    }

    /// A sender over an existing read provider whose chain id is known.
    pub fn new(provider: DynProvider, chain_id: u64, signer: PrivateKeySigner, policy: SendPolicy) -> Self {
        let address = signer.address();
        Self {
            inner: Arc::new(Inner {
                provider,
                wallet: EthereumWallet::from(signer.clone()),
                signer,
                address,
                chain_id,
                policy,
                next_nonce: tokio::sync::Mutex::new(None),
            }),
        }
    }

    /// The key's address.
    pub fn address(&self) -> Address {
        self.inner.address
    }

    /// The chain id every transaction is signed for (the node's, when made by `connect`).
    pub fn chain_id(&self) -> u64 {
        self.inner.chain_id
    }

    /// A provider to build calls with (`Contract::new(address, sender.provider())`) and to read
    /// the chain. It does not sign: pass the built call to [`send`](Self::send).
    pub fn provider(&self) -> &DynProvider {
        &self.inner.provider
    }

    /// Sends a call built with any provider's contract binding and waits for its receipt.
    pub async fn send<P, D>(&self, call: alloy::contract::CallBuilder<P, D>) -> Result<TransactionReceipt> {
        self.send_request(call.into_transaction_request()).await
    }

    /// Broadcasts a call and returns without waiting for it to be mined, so its hash can be
    /// recorded first; [`Pending::confirm`] then follows it to its receipt.
    pub async fn submit<P, D>(&self, call: alloy::contract::CallBuilder<P, D>) -> Result<Pending> {
        self.submit_request(call.into_transaction_request()).await
    }

    /// Deploys `code` (creation bytecode with any ABI-encoded constructor arguments appended);
    /// returns the new contract's address and the receipt.
    pub async fn deploy(&self, code: Bytes) -> Result<(Address, TransactionReceipt)> {
        let receipt = self.send_request(TransactionRequest::default().with_deploy_code(code)).await?;
        let address = receipt.contract_address.ok_or(Error::Reverted { tx: receipt.transaction_hash })?;
        Ok((address, receipt))
    }

    /// Sends `tx` (its `to`, `input` and `value`; everything else is filled in here) and waits
    /// until it is mined. A revert found while estimating is a [`Error::Contract`]; a transaction
    /// mined as reverted is [`Error::Reverted`].
    pub async fn send_request(&self, tx: TransactionRequest) -> Result<TransactionReceipt> {
        self.submit_request(tx).await?.confirm().await
    }

    /// Estimates, signs and broadcasts `tx` with the key's next nonce (see [`send_request`]).
    ///
    /// [`send_request`]: Self::send_request
    pub async fn submit_request(&self, mut tx: TransactionRequest) -> Result<Pending> {
        tx.from = Some(self.inner.address);
        tx.chain_id = Some(self.inner.chain_id);
        tx.nonce = None;
        if tx.to.is_none() {
            tx.to = Some(TxKind::Create);
        }
        let gas = self.estimate(&tx).await?;
        tx.gas = Some(gas);
        let fees = self.retry(|| self.inner.provider.estimate_eip1559_fees()).await?;
        tx.max_fee_per_gas = Some(fees.max_fee_per_gas);
        tx.max_priority_fee_per_gas = Some(fees.max_priority_fee_per_gas);
        let (first, nonce) = self.sign_and_broadcast(tx.clone()).await?;
        tx.nonce = Some(nonce);
        Ok(Pending { sender: self.clone(), tx, nonce, sent: vec![first.hash], last_sent: Instant::now(), bumps: 0 })
    }

    /// Holds the key's nonce lock while something outside this sender (the `iexec` CLI) signs
    /// with the same key; the next transaction after it reads the nonce from the chain again.
    pub async fn hold(&self) -> NonceHold<'_> {
        let mut guard = self.inner.next_nonce.lock().await;
        *guard = None;
        NonceHold { _guard: guard }
    }

    /// The key this sender signs with (for signatures that are not transactions: orders, EIP-712).
    pub fn signer(&self) -> &PrivateKeySigner {
        &self.inner.signer
    }

    /// Estimates `tx`'s gas; a revert is decoded.
    async fn estimate(&self, tx: &TransactionRequest) -> Result<u64> {
        match self.retry(|| async { self.inner.provider.estimate_gas(tx.clone()).await }).await {
            Err(Error::Rpc(e)) => match e.as_error_resp() {
                Some(resp) => match resp.as_revert_data() {
                    Some(data) => Err(Error::Contract(decode_revert(&data))),
                    None if resp.message.contains("revert") => {
                        Err(Error::Contract(ContractError::Message(resp.message.to_string())))
                    }
                    None => Err(Error::Rpc(e)),
                },
                None => Err(Error::Rpc(e)),
            },
            other => other,
        }
    }

    /// Takes the next nonce, signs and broadcasts `tx`; returns the broadcast transaction and its
    /// nonce. The nonce lock is held throughout, so the key's transactions leave in nonce order.
    async fn sign_and_broadcast(&self, mut tx: TransactionRequest) -> Result<(Signed, u64)> {
        let mut next = self.inner.next_nonce.lock().await;
        let mut refreshed = false;
        loop {
            let chain_nonce = self
                .retry(|| async { self.inner.provider.get_transaction_count(self.inner.address).pending().await })
                .await?;
            // The node's pending count can lag behind what this sender just broadcast (a load
            // balancer, a slow pool); never go below what was already used.
            let nonce = next.map_or(chain_nonce, |n| n.max(chain_nonce));
            tx.nonce = Some(nonce);
            let signed = self.sign(tx.clone()).await?;
            match self.broadcast(&signed).await {
                Ok(()) => {
                    *next = Some(nonce + 1);
                    return Ok((signed, nonce));
                }
                // Someone else (another process with this key) used the nonce: read it again once.
                Err(e) if is_nonce_too_low(&e) && !refreshed => {
                    refreshed = true;
                    *next = None;
                }
                Err(e) => {
                    *next = None;
                    return Err(e);
                }
            }
        }
    }

    async fn sign(&self, tx: TransactionRequest) -> Result<Signed> {
        let envelope: TxEnvelope = tx.build(&self.inner.wallet).await.map_err(|e| Error::Sign(e.to_string()))?;
        Ok(Signed { hash: *envelope.tx_hash(), raw: envelope.encoded_2718().into() })
    }

    /// Broadcasts signed bytes; a transport failure is retried with the same bytes, and a node
    /// that already holds them counts as success.
    async fn broadcast(&self, signed: &Signed) -> Result<()> {
        self.retry(|| async {
            match self.inner.provider.send_raw_transaction(&signed.raw).await {
                Err(e) if is_already_known(&e) => Ok(()),
                other => other.map(|_| ()),
            }
        })
        .await
    }

    /// Runs an RPC call, retrying transport failures with growing backoff (a broadcast retried
    /// re-sends the same bytes, so it can never make a second transaction).
    async fn retry<T, F, Fut>(&self, mut call: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, TransportError>>,
    {
        let mut attempt = 0;
        loop {
            match call().await {
                Ok(v) => return Ok(v),
                Err(e) => {
                    attempt += 1;
                    if !is_transport(&e) || attempt >= self.inner.policy.attempts {
                        return Err(e.into());
                    }
                    tokio::time::sleep(self.backoff(attempt)).await;
                }
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        self.inner.policy.backoff.saturating_mul(1 << attempt.saturating_sub(1).min(10))
    }
}

/// Raises both fee caps of `tx` by `percent` (rounded up, and by at least one wei).
fn bump_fees(tx: &mut TransactionRequest, percent: u32) {
    let bump = |fee: u128| fee + (fee * u128::from(percent)).div_ceil(100).max(1);
    tx.max_fee_per_gas = tx.max_fee_per_gas.map(bump);
    tx.max_priority_fee_per_gas = tx.max_priority_fee_per_gas.map(bump);
}

/// A failure to reach the node (refused, reset, timed out, rate limited) rather than an answer.
fn is_transport(e: &TransportError) -> bool {
    matches!(e, RpcError::Transport(_) | RpcError::NullResp)
}

fn error_message(e: &Error) -> Option<String> {
    match e {
        Error::Rpc(r) => r.as_error_resp().map(|p| p.message.to_lowercase()),
        _ => None,
    }
}

fn is_nonce_too_low(e: &Error) -> bool {
    error_message(e).is_some_and(|m| m.contains("nonce too low") || m.contains("nonce is too low"))
}

fn is_already_known(e: &TransportError) -> bool {
    e.as_error_resp().is_some_and(|p| {
        let m = p.message.to_lowercase();
        m.contains("already known") || m.contains("already imported") || m.contains("known transaction")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fee_bump_raises_both_caps_by_the_percentage_rounded_up() {
        let mut tx = TransactionRequest {
            max_fee_per_gas: Some(1_000),
            max_priority_fee_per_gas: Some(3),
            ..Default::default()
        };
        bump_fees(&mut tx, 20);
        assert_eq!(tx.max_fee_per_gas, Some(1_200));
        // 3 × 20 % = 0.6, rounded up to one wei: replacements must raise every fee.
        assert_eq!(tx.max_priority_fee_per_gas, Some(4));
    }
}
