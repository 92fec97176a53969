//! Reverts decoded into typed errors and sentences a person can read.

use alloy::primitives::Bytes;
use alloy::sol_types::SolInterface;

use crate::bindings::ComputeMarket::ComputeMarketErrors as E;
use crate::bindings::MarketToken::MarketTokenErrors;
use crate::bindings::PaymentChannel::PaymentChannelErrors as P;

/// A failed contract call or transaction, with the contract's custom error decoded when it had one.
#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    /// ComputeMarket reverted with one of its custom errors.
    #[error("{}", describe_market(.0))]
    Market(E),
    /// PaymentChannel reverted with one of its custom errors.
    #[error("{}", describe_channel(.0))]
    Channel(P),
    /// MarketToken (or an OpenZeppelin ERC-20 check) reverted.
    #[error("{}", describe_token(.0))]
    Token(MarketTokenErrors),
    /// A revert with a message (`Error(string)`, a panic code) rather than a custom error, or a
    /// node's own sentence for a revert without data.
    #[error("call reverted: {0}")]
    Message(String),
    /// Revert data that matches no known error.
    #[error("call reverted with unknown data {0}")]
    UnknownRevert(Bytes),
    /// The call failed for another reason (transport, encoding, …).
    #[error("contract call failed: {0}")]
    Call(alloy::contract::Error),
}

impl From<alloy::contract::Error> for ContractError {
    fn from(err: alloy::contract::Error) -> Self {
        match err.as_revert_data() {
            Some(data) => decode_revert(&data),
            None => Self::Call(err),
        }
    }
}

/// Decodes raw revert data against every Agora contract's errors.
pub fn decode_revert(data: &[u8]) -> ContractError {
    if let Ok(e) = E::abi_decode(data) {
        return ContractError::Market(e);
    }
    if let Ok(e) = P::abi_decode(data) {
        return ContractError::Channel(e);
    }
    if let Ok(e) = MarketTokenErrors::abi_decode(data) {
        return ContractError::Token(e);
    }
    if let Some(reason) = alloy::sol_types::GenericRevertReason::decode(data) {
        return ContractError::Message(reason.to_string());
    }
    ContractError::UnknownRevert(Bytes::copy_from_slice(data))
}

impl ContractError {
    /// The custom error's name (`InsufficientPayment`), when there is one.
    pub fn name(&self) -> Option<String> {
        match self {
            Self::Market(e) => format!("{e:?}").split(['(', ' ', '{']).next().map(str::to_owned),
            Self::Channel(e) => format!("{e:?}").split(['(', ' ', '{']).next().map(str::to_owned),
            Self::Token(e) => format!("{e:?}").split(['(', ' ', '{']).next().map(str::to_owned),
            _ => None,
        }
    }
}

/// One sentence per ComputeMarket error, carrying its values.
pub fn describe_market(e: &E) -> String {
    match e {
        E::ServiceNotFound(x) => format!("service {} does not exist", x.serviceId),
        E::ServiceInactive(x) => format!("service {} is no longer for sale", x.serviceId),
        E::NotServiceProvider(x) => format!("{} is not the provider of service {}", x.caller, x.serviceId),
        E::InvalidPrice(x) => format!("price {} is out of range (must be above zero and fit 96 bits)", x.price),
        E::InvalidMaxRunTime(x) => format!("maximum run time {} s is out of range", x.maxRunTime),
        E::InsufficientPayment(x) => {
            format!("payment of {} wei does not match the service price of {} wei", x.sent, x.price)
        }
        E::UnexpectedEther(x) => format!("this service is paid in a token, but {} wei of ETH was sent", x.sent),
        E::TaskNotFound(x) => format!("task {} does not exist", x.taskId),
        E::InvalidTaskStatus(x) => format!("task {} cannot do that in its current status ({:?})", x.taskId, x.status),
        E::NotAuthorized(x) => format!("{} may not act on task {}", x.caller, x.taskId),
        E::DeadlineNotReached(x) => {
            format!("task {} can be refunded only after its deadline {} (now {})", x.taskId, x.deadline, x.nowTs)
        }
        E::NotTaskUser(x) => format!("only the buyer of task {} can claim its refund, not {}", x.taskId, x.caller),
        E::FeeTooHigh(x) => format!("platform fee {} bps exceeds the maximum {} bps", x.feeBps, x.maxBps),
        E::NothingToWithdraw(x) => format!("{} has nothing to withdraw in token {}", x.account, x.token),
        E::TransferFailed(x) => format!("transfer of {} (token {}) to {} failed", x.amount, x.token, x.to),
        E::InvalidFeeRecipient(x) => format!("a platform fee needs a recipient, not {}", x.recipient),
        E::ReentrantCall(_) => "the market cannot be called back while it is paying out".to_owned(),
        E::OwnableUnauthorizedAccount(x) => format!("only the market's owner may do that, not {}", x.account),
        E::OwnableInvalidOwner(x) => format!("{} cannot own the market", x.owner),
        E::SafeERC20FailedOperation(x) => format!("the token {} refused the transfer", x.token),
        E::TermsChanged(x) => format!(
            "service {} changed its terms to {} for at most {} s (you agreed to {} for at most {} s): \
             nothing was bought, review the new terms",
            x.serviceId, x.price, x.maxRunTime, x.agreedPrice, x.agreedMaxRunTime
        ),
        E::TaskExpired(x) => format!(
            "task {} passed its deadline {} (now {}): it can no longer be completed, only refunded",
            x.taskId, x.deadline, x.nowTs
        ),
        E::AmountNotReceived(x) => format!(
            "the token {} delivered {} instead of {}: tokens that take a fee on transfer are refused",
            x.token, x.received, x.expected
        ),
        E::InvalidWithdrawalRecipient(x) => format!("owed funds cannot be withdrawn to {}", x.to),
        E::WithdrawalExpired(x) => {
            format!("the signed withdrawal expired at {} (now {}): sign a new one", x.deadline, x.nowTs)
        }
        E::InvalidWithdrawalSignature(x) => {
            format!("the withdrawal is not signed by {} for these terms and its current nonce", x.account)
        }
        E::InvalidShortString(_) => "the market's signing domain name is malformed".to_owned(),
        E::StringTooLong(x) => format!("the market's signing domain name {:?} is too long", x.str),
    }
}

/// One sentence per MarketToken (OpenZeppelin ERC-20) error.
pub fn describe_token(e: &MarketTokenErrors) -> String {
    use MarketTokenErrors as T;
    match e {
        T::ERC20InsufficientAllowance(x) => format!(
            "the token allowance for {} is {} but {} is needed: approve the market first",
            x.spender, x.allowance, x.needed
        ),
        T::ERC20InsufficientBalance(x) => {
            format!("{} holds {} of the token but {} is needed", x.sender, x.balance, x.needed)
        }
        T::ERC20InvalidApprover(x) => format!("{} cannot approve", x.approver),
        T::ERC20InvalidReceiver(x) => format!("{} cannot receive the token", x.receiver),
        T::ERC20InvalidSender(x) => format!("{} cannot send the token", x.sender),
        T::ERC20InvalidSpender(x) => format!("{} cannot be approved as a spender", x.spender),
        T::UnauthorizedMinter(x) => format!("{} may not mint MarketToken", x.caller),
    }
}

/// One sentence per PaymentChannel error.
pub fn describe_channel(e: &P) -> String {
    match e {
        P::InvalidPayee(x) => format!("{} cannot be a channel's payee", x.payee),
        P::InvalidSigner(x) => format!("{} cannot sign a channel's vouchers", x.signer),
        P::InvalidAmount(x) => format!("a deposit of {} is out of range", x.amount),
        P::InvalidExpiry(x) => format!("expiry {} is not in the future (now {})", x.expiry, x.nowTs),
        P::ValueMismatch(x) => format!("{} wei of ETH was sent but {} was expected", x.sent, x.expected),
        P::ChannelExists(x) => format!("channel {} was already opened: use a new salt", x.channelId),
        P::ChannelNotOpen(x) => format!("channel {} is not open for you ({:?})", x.channelId, x.state),
        P::DepositOverflow(x) => {
            format!("adding {} to the deposit {} of channel {} overflows", x.amount, x.deposit, x.channelId)
        }
        P::ExpiryNotLater(x) => {
            format!("channel {} expires at {}; the new expiry {} must be later", x.channelId, x.expiry, x.newExpiry)
        }
        P::ChannelExpired(x) => {
            format!("channel {} expired at {} (now {}): only the payer can reclaim it", x.channelId, x.expiry, x.nowTs)
        }
        P::ChannelNotExpired(x) => {
            format!("channel {} can be reclaimed only from its expiry {} (now {})", x.channelId, x.expiry, x.nowTs)
        }
        P::VoucherExceedsDeposit(x) => {
            format!("voucher for {} exceeds the deposit {} of channel {}", x.cumulativeAmount, x.deposit, x.channelId)
        }
        P::InvalidSignature(x) => format!("the voucher is not signed by {} for channel {}", x.signer, x.channelId),
        P::NothingToWithdraw(x) => format!("{} has nothing to withdraw in token {}", x.account, x.token),
        P::TransferFailed(x) => format!("transfer of {} (token {}) to {} failed", x.amount, x.token, x.to),
        P::ReentrantCall(_) => "the channel contract cannot be called back while it is paying out".to_owned(),
        P::AmountNotReceived(x) => format!(
            "the token {} delivered {} instead of {}: tokens that take a fee on transfer are refused",
            x.token, x.received, x.expected
        ),
        P::InvalidWithdrawalRecipient(x) => format!("owed funds cannot be withdrawn to {}", x.to),
        P::WithdrawalExpired(x) => {
            format!("the signed withdrawal expired at {} (now {}): sign a new one", x.deadline, x.nowTs)
        }
        P::InvalidWithdrawalSignature(x) => {
            format!("the withdrawal is not signed by {} for these terms and its current nonce", x.account)
        }
        other => format!("the channel contract rejected the call: {other:?}"),
    }
}
