//! The fee receiver's forwarding of prediction fees paid to it by vouchers: for a task, `count`
//! fees paid into FederatedMarket at once with `payPredictionFees(task, count, paidBefore)` from the
//! receiver's key, where they are divided exactly as `count` paid requests would be.
//!
//! What the receiver owes a task is the predictions the node recorded less the fees the contract
//! counts as paid by it (`predictionFeesPaidBy`, read at the head of the chain, so a payment mined but
//! not yet indexed is counted). The payment names that count as `paidBefore`, and the contract refuses
//! it if another payment came first (`PaidFeesMoved`): a pass run twice — by the node's job and by
//! `agora fl forward-fees`, at the same moment or one after the other, or again after a restart —
//! pays each fee once. The refused one reads the count again and pays what is left, if anything.
//!
//! The fees reach the receiver's wallet only when it settles the channels that paid them; a task
//! whose token the receiver holds too little of is left for a later pass.

use agora_chain::Sender;
use agora_chain::bindings::{FederatedMarket, MarketToken};
use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;

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

/// How many times a pass reads the count again when another payment came first.
const ATTEMPTS: usize = 3;

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

/// One task's predictions paid to the receiver by vouchers, as the node recorded them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// The task.
    pub task: u64,
    /// Predictions recorded (every one, forwarded or not).
    pub count: u64,
}

/// What a pass did for one task.
#[derive(Debug)]
pub enum Outcome {
    /// Fees paid in.
    Forwarded(Forwarded),
    /// Nothing owed: the receiver's payments the contract counts cover what was recorded.
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
}

impl FeeForwarder {
    /// Pays into the FederatedMarket at `market` from `sender`, the fee receiver's key.
    pub fn new(sender: Sender, market: Address) -> Self {
        Self { sender, market }
    }

    /// The fee receiver.
    pub fn receiver(&self) -> Address {
        self.sender.address()
    }

    /// How many fees of `task` the receiver has paid in, as the contract counts them now.
    pub async fn paid(&self, task: u64) -> Result<u64> {
        let market = FederatedMarket::new(self.market, self.sender.provider());
        market.predictionFeesPaidBy(U256::from(task), self.receiver()).call().await.map_err(call)
    }

    /// Pays `count` fees of `task` (`count × predictionFee`) into FederatedMarket, approving the
    /// token first when it is an ERC-20 and the allowance is short. Refused before anything is sent
    /// when the receiver holds less of the token than that.
    pub async fn pay(&self, task: u64, count: u32) -> Result<Forwarded> {
        let value = self.prepare(task, count).await?;
        let paid = self.paid(task).await?;
        self.send(task, count, paid, value(count)).await?.ok_or_else(|| Error::Task {
            task,
            reason: format!("another payment of the fee receiver came first (it had paid {paid} fees)"),
        })
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

    /// Sends `payPredictionFees(task, count, paid_before)` with `value` and reads what its event says
    /// was paid; `None` when another payment came first. That is read from the count having moved,
    /// whatever the failure looked like: a refused gas estimate (`PaidFeesMoved`), or, when both were
    /// estimated against the same count, this one mined second and reverted without its reason.
    async fn send(&self, task: u64, count: u32, paid_before: u64, value: U256) -> Result<Option<Forwarded>> {
        let market = FederatedMarket::new(self.market, self.sender.provider());
        let call = market.payPredictionFees(U256::from(task), count, paid_before).value(value);
        let receipt = match self.sender.send(call).await {
            Ok(receipt) => receipt,
            Err(e) if self.paid(task).await? != paid_before => {
                tracing::debug!(task, error = %e, "another payment of the fee receiver came first");
                return Ok(None);
            }
            Err(e) => return Err(refusal(Some(task), e)),
        };
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
        Ok(Some(Forwarded { task, count: paid.count, amount: paid.amount, tx: receipt.transaction_hash }))
    }

    /// What is still owed for `r`: the recorded predictions less the fees the contract counts as
    /// paid by the receiver; with that count, which the payment must name.
    async fn still_owed(&self, r: &Recorded) -> Result<(u32, u64)> {
        let paid = self.paid(r.task).await?;
        let owed = u32::try_from(r.count.saturating_sub(paid)).map_err(|_| Error::Task {
            task: r.task,
            reason: format!("{} fees are too many for one payment", r.count),
        })?;
        Ok((owed, paid))
    }

    /// One task of a pass. The count paid is read again after the balance check and the approval
    /// (which take a while), and the payment names it: one made by another process meanwhile is
    /// either counted here or makes the contract refuse this one, and then the count is read again.
    async fn forward_one(&self, r: &Recorded) -> Result<Option<Forwarded>> {
        for _ in 0..ATTEMPTS {
            let (count, _) = self.still_owed(r).await?;
            if count == 0 {
                return Ok(None);
            }
            let value = self.prepare(r.task, count).await?;
            let (count, paid) = self.still_owed(r).await?;
            if count == 0 {
                return Ok(None);
            }
            if let Some(forwarded) = self.send(r.task, count, paid, value(count)).await? {
                return Ok(Some(forwarded));
            }
        }
        Err(Error::Task {
            task: r.task,
            reason: format!("other payments of the fee receiver came first {ATTEMPTS} times"),
        })
    }

    /// One pass over the tasks the node recorded voucher-paid predictions for: for each, what the
    /// contract does not yet count as paid by the receiver is paid. A task that fails does not stop
    /// the others; one whose recorded count is zero is skipped.
    pub async fn forward_owed(&self, recorded: &[Recorded]) -> Vec<Outcome> {
        let mut out = Vec::new();
        for r in recorded.iter().filter(|r| r.count > 0) {
            let task = r.task;
            out.push(match self.forward_one(r).await {
                Ok(Some(f)) => Outcome::Forwarded(f),
                Ok(None) => Outcome::AlreadyPaid { task },
                Err(error) => Outcome::Failed { task, error },
            });
        }
        out
    }
}
