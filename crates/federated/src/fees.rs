//! The fee receiver's forwarding of prediction fees paid to it by vouchers: for a task, `count`
//! fees paid into FederatedMarket at once with `payPredictionFees(task, count)` from the receiver's
//! key, where they are divided exactly as `count` paid requests would be.
//!
//! What the receiver owes a task is the predictions the node recorded less those it forwarded, and
//! the forwarded figure comes from indexed `PredictionFeesPaid` events. An event mined but not yet
//! indexed would make that figure too low, so a pass ([`FeeForwarder::forward_owed`]) also counts
//! the receiver's `PredictionFeesPaid` logs in the blocks after the indexer's last one and forwards
//! only the rest: a pass run twice, by the node's job and by `agora fl forward-fees` one after the
//! other, or again after a restart, pays each fee once. Those logs are read again just before the
//! payment is sent; two processes sending for the same task within the same few milliseconds, before
//! either payment is mined, could still both pay.
//!
//! The fees reach the receiver's wallet only when it settles the channels that paid them; a task
//! whose token the receiver holds too little of is left for a later pass.

use agora_chain::Sender;
use agora_chain::bindings::{FederatedMarket, MarketToken};
use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;

use crate::{Error, Result};

fn rpc(e: alloy::transports::TransportError) -> Error {
    Error::Chain(e.into())
}

fn call(e: alloy::contract::Error) -> Error {
    refusal(None, agora_chain::revert::ContractError::from(e).into())
}

/// A FederatedMarket refusal as a sentence naming its custom error and figures (`WrongState(…)`),
/// for the job's run log and the command's message, instead of revert data in hex.
fn refusal(task: Option<u64>, e: agora_chain::Error) -> Error {
    use agora_chain::revert::ContractError;
    use alloy::sol_types::SolInterface;
    if let agora_chain::Error::Contract(ContractError::UnknownRevert(data)) = &e
        && let Ok(err) = FederatedMarket::FederatedMarketErrors::abi_decode(data)
    {
        let reason = format!("FederatedMarket refused: {err:?}");
        return match task {
            Some(task) => Error::Task { task, reason },
            None => Error::Protocol(reason),
        };
    }
    Error::Chain(e)
}

/// What went wrong for a task of a pass, as a sentence without the task's id (which the caller
/// puts before it).
pub fn reason(error: &Error) -> String {
    match error {
        Error::Task { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}

/// Fees forwarded for one task by one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forwarded {
    /// The task.
    pub task: u64,
    /// How many predictions' fees, as the transaction's `PredictionFeesPaid` says.
    pub count: u32,
    /// Their fees in all, in the task's token.
    pub amount: U256,
    /// The `payPredictionFees` transaction.
    pub tx: B256,
}

/// One task's fees the receiver owes by the indexed figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owed {
    /// The task.
    pub task: u64,
    /// Predictions recorded less those whose forwarding is indexed.
    pub count: u64,
}

/// What a pass did for one task.
#[derive(Debug)]
pub enum Outcome {
    /// Fees paid in.
    Forwarded(Forwarded),
    /// Nothing left: the receiver's payments not yet indexed cover what was owed.
    AlreadyPaid {
        /// The task.
        task: u64,
    },
    /// The payment failed or was not tried (too little of the token, a refusal); the next pass
    /// tries again.
    Failed {
        /// The task.
        task: u64,
        /// Why.
        error: Error,
    },
}

/// The fee receiver's forwarding into one FederatedMarket, with its key's one [`Sender`].
#[derive(Debug, Clone)]
pub struct FeeForwarder {
    sender: Sender,
    market: Address,
    from_block: u64,
}

impl FeeForwarder {
    /// Pays into the FederatedMarket at `market` (deployed at block `from_block`) from `sender`,
    /// the fee receiver's key.
    pub fn new(sender: Sender, market: Address, from_block: u64) -> Self {
        Self { sender, market, from_block }
    }

    /// The fee receiver.
    pub fn receiver(&self) -> Address {
        self.sender.address()
    }

    /// How many fees of `task` the receiver paid in (its `PredictionFeesPaid` logs) in the blocks
    /// from `from_block` (at least the deployment's) to the latest.
    pub async fn paid_since(&self, task: u64, from_block: u64) -> Result<u64> {
        let from = from_block.max(self.from_block);
        let latest = self.sender.provider().get_block_number().await.map_err(rpc)?;
        if from > latest {
            // Everything is indexed (a range past the head is an error to some nodes).
            return Ok(0);
        }
        let filter = Filter::new()
            .address(self.market)
            .from_block(from)
            .to_block(latest)
            .event_signature(FederatedMarket::PredictionFeesPaid::SIGNATURE_HASH)
            .topic1(B256::from(U256::from(task)))
            .topic2(self.receiver().into_word());
        let logs = self.sender.provider().get_logs(&filter).await.map_err(rpc)?;
        let mut paid = 0u64;
        for log in logs.iter().filter(|l| !l.removed) {
            let e = log
                .log_decode::<FederatedMarket::PredictionFeesPaid>()
                .map_err(|e| Error::Protocol(format!("a PredictionFeesPaid log: {e}")))?;
            paid += u64::from(e.inner.data.count);
        }
        Ok(paid)
    }

    /// Pays `count` fees of `task` (`count × predictionFee`) into FederatedMarket, approving the
    /// token first when it is an ERC-20 and the allowance is short. Refused before anything is sent
    /// when the receiver holds less of the token than that.
    pub async fn pay(&self, task: u64, count: u32) -> Result<Forwarded> {
        let value = self.prepare(task, count).await?;
        self.send(task, count, value(count)).await
    }

    /// Checks that the receiver holds `count` fees of `task` and approves them for an ERC-20; the
    /// ETH to send with a payment of so many fees (at most `count`).
    async fn prepare(&self, task: u64, count: u32) -> Result<impl Fn(u32) -> U256 + use<>> {
        if count == 0 {
            return Err(Error::Task { task, reason: "no fee to forward".into() });
        }
        let market = FederatedMarket::new(self.market, self.sender.provider());
        let t = market.getTask(U256::from(task)).call().await.map_err(call)?;
        let fee = U256::from(t.predictionFee);
        let amount = fee * U256::from(count);
        let receiver = self.receiver();
        let eth = t.token == Address::ZERO;
        let held = if eth {
            self.sender.provider().get_balance(receiver).await.map_err(rpc)?
        } else {
            MarketToken::new(t.token, self.sender.provider()).balanceOf(receiver).call().await.map_err(call)?
        };
        if held < amount {
            let token = if eth { "ETH".to_owned() } else { format!("token {}", t.token) };
            return Err(Error::Task {
                task,
                reason: format!(
                    "{count} fee(s) come to {amount} but the fee receiver {receiver} holds {held} of {token}; \
                     fees reach it when its channels are settled"
                ),
            });
        }
        if !eth {
            let erc20 = MarketToken::new(t.token, self.sender.provider());
            if erc20.allowance(receiver, self.market).call().await.map_err(call)? < amount {
                self.sender.send(erc20.approve(self.market, amount)).await.map_err(|e| refusal(Some(task), e))?;
            }
        }
        Ok(move |n: u32| if eth { fee * U256::from(n) } else { U256::ZERO })
    }

    /// Sends `payPredictionFees(task, count)` with `value` and reads what its event says was paid.
    async fn send(&self, task: u64, count: u32, value: U256) -> Result<Forwarded> {
        let market = FederatedMarket::new(self.market, self.sender.provider());
        let call = market.payPredictionFees(U256::from(task), count).value(value);
        let receipt = self.sender.send(call).await.map_err(|e| refusal(Some(task), e))?;
        let paid = receipt
            .inner
            .logs()
            .iter()
            .filter(|l| l.address() == self.market)
            .find_map(|l| l.log_decode::<FederatedMarket::PredictionFeesPaid>().ok())
            .map(|l| l.inner.data)
            .ok_or_else(|| {
                Error::Protocol(format!("payPredictionFees {} emitted no PredictionFeesPaid", receipt.transaction_hash))
            })?;
        Ok(Forwarded { task, count: paid.count, amount: paid.amount, tx: receipt.transaction_hash })
    }

    /// What is still owed for `o` once the receiver's payments in blocks from `after` on are taken off.
    async fn still_owed(&self, o: &Owed, after: u64) -> Result<u32> {
        let unindexed = self.paid_since(o.task, after).await?;
        u32::try_from(o.count.saturating_sub(unindexed))
            .map_err(|_| Error::Task { task: o.task, reason: format!("{} fees are too many for one payment", o.count) })
    }

    /// One task of a pass: the payments not yet indexed are read again just before sending, so
    /// another process's payment made meanwhile (the balance check and an approval take a while)
    /// is not paid twice.
    async fn forward_one(&self, o: &Owed, after: u64) -> Result<Option<Forwarded>> {
        let count = self.still_owed(o, after).await?;
        if count == 0 {
            return Ok(None);
        }
        let value = self.prepare(o.task, count).await?;
        let count = self.still_owed(o, after).await?;
        if count == 0 {
            return Ok(None);
        }
        self.send(o.task, count, value(count)).await.map(Some)
    }

    /// One pass over the tasks the indexed figures say are owed, the indexer having stored every
    /// block up to `indexed_to` (`None`: none yet): each task's payments in later blocks are taken
    /// off, and the rest is paid. `indexed_to` must be read before the figures (a block indexed in
    /// between is then counted twice, which forwards too little this pass, never too much). A task
    /// that fails does not stop the others.
    pub async fn forward_owed(&self, owed: &[Owed], indexed_to: Option<u64>) -> Vec<Outcome> {
        let after = indexed_to.map_or(self.from_block, |b| b + 1);
        let mut out = Vec::new();
        for o in owed.iter().filter(|o| o.count > 0) {
            let task = o.task;
            out.push(match self.forward_one(o, after).await {
                Ok(Some(f)) => Outcome::Forwarded(f),
                Ok(None) => Outcome::AlreadyPaid { task },
                Err(error) => Outcome::Failed { task, error },
            });
        }
        out
    }
}
