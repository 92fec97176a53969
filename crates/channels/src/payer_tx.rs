//! A channel's transactions as its parties send them through their key's one [`Sender`]: the
//! payer's `open` (with an ERC-20 `approve` first when the allowance is short), `topUp`, `extend`
//! and `reclaim`, and the payee's `close` with a voucher. Reverts come back as the sender decodes
//! them (`agora_chain::Error::Contract`), so callers print the contract's own sentence.

use agora_chain::bindings::{MarketToken, PaymentChannel};
use agora_chain::{Error, Sender};
use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;

use crate::settle::compact;
use crate::voucher::ChannelParams;

/// The `PaymentChannel` contract as one key uses it.
#[derive(Clone)]
pub struct ChannelTx {
    sender: Sender,
    contract: Address,
}

/// What `open` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The new channel's id.
    pub channel_id: B256,
    /// The `approve` sent first, when the allowance was short (ERC-20 channels only).
    pub approve_tx: Option<B256>,
    /// The `open` transaction.
    pub open_tx: B256,
}

/// A channel as the contract stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnChain {
    /// The deposit (kept as it was once the channel finished).
    pub deposit: U256,
    /// Unix seconds.
    pub expiry: u64,
    /// `None`, `Open`, `Closed` or `Reclaimed`.
    pub state: String,
}

/// `IPaymentChannel.ChannelState`'s names, by their ABI value.
fn state_name(state: u8) -> &'static str {
    match state {
        0 => "None",
        1 => "Open",
        2 => "Closed",
        3 => "Reclaimed",
        _ => "Unknown",
    }
}

impl ChannelTx {
    /// Sends with `sender` to the `PaymentChannel` at `contract`.
    pub fn new(sender: Sender, contract: Address) -> Self {
        Self { sender, contract }
    }

    /// The key's address: the payer for the payer's calls, the payee for `close`.
    pub fn address(&self) -> Address {
        self.sender.address()
    }

    /// The id of the channel `params` name, as the contract computes it.
    pub fn channel_id(&self, params: &ChannelParams) -> B256 {
        params.channel_id(self.sender.chain_id(), self.contract)
    }

    /// The chain's clock: the latest block's timestamp, which expiry is measured against.
    pub async fn chain_now(&self) -> Result<u64, Error> {
        let block = self.sender.provider().get_block_by_number(BlockNumberOrTag::Latest).await?;
        Ok(block.map(|b| b.header.timestamp).unwrap_or_default())
    }

    /// The channel as stored on chain (all zero and `None` for an id never opened).
    pub async fn read(&self, channel_id: B256) -> Result<OnChain, Error> {
        let contract = PaymentChannel::new(self.contract, self.sender.provider());
        let c = contract.getChannel(channel_id).call().await.map_err(agora_chain::revert::ContractError::from)?;
        Ok(OnChain { deposit: U256::from(c.deposit), expiry: c.expiry, state: state_name(c.state).to_owned() })
    }

    /// A balance of `token` (`Address::ZERO`: ETH) held by `who`.
    pub async fn balance(&self, token: Address, who: Address) -> Result<U256, Error> {
        if token == Address::ZERO {
            return Ok(self.sender.provider().get_balance(who).await?);
        }
        let erc20 = MarketToken::new(token, self.sender.provider());
        Ok(erc20.balanceOf(who).call().await.map_err(agora_chain::revert::ContractError::from)?)
    }

    /// Lets the contract pull `amount` of `token` unless it already may; the `approve`'s hash when
    /// one was sent.
    pub async fn approve_if_short(&self, token: Address, amount: U256) -> Result<Option<B256>, Error> {
        if token == Address::ZERO {
            return Ok(None);
        }
        let erc20 = MarketToken::new(token, self.sender.provider());
        let allowance = erc20
            .allowance(self.sender.address(), self.contract)
            .call()
            .await
            .map_err(agora_chain::revert::ContractError::from)?;
        if allowance >= amount {
            return Ok(None);
        }
        let receipt = self.sender.send(erc20.approve(self.contract, amount)).await?;
        Ok(Some(receipt.transaction_hash))
    }

    /// Opens the channel `params` name (its payer must be this key) with `amount` locked until
    /// `expiry`, approving the token first when needed.
    pub async fn open(&self, params: &ChannelParams, amount: U256, expiry: u64) -> Result<Opened, Error> {
        let approve_tx = self.approve_if_short(params.token, amount).await?;
        let contract = PaymentChannel::new(self.contract, self.sender.provider());
        let mut call = contract.open(params.payee, params.token, amount, expiry, params.salt, params.signer);
        if params.token == Address::ZERO {
            call = call.value(amount);
        }
        let receipt = self.sender.send(call).await?;
        Ok(Opened { channel_id: self.channel_id(params), approve_tx, open_tx: receipt.transaction_hash })
    }

    /// Adds `amount` to the deposit (approving the token first when needed); the `topUp`'s hash.
    pub async fn top_up(&self, params: &ChannelParams, amount: U256) -> Result<B256, Error> {
        self.approve_if_short(params.token, amount).await?;
        let contract = PaymentChannel::new(self.contract, self.sender.provider());
        let mut call = contract.topUp(params.payee, params.token, params.signer, params.salt, amount);
        if params.token == Address::ZERO {
            call = call.value(amount);
        }
        Ok(self.sender.send(call).await?.transaction_hash)
    }

    /// Moves the expiry later, to `expiry`.
    pub async fn extend(&self, params: &ChannelParams, expiry: u64) -> Result<B256, Error> {
        let contract = PaymentChannel::new(self.contract, self.sender.provider());
        let call = contract.extend(params.payee, params.token, params.signer, params.salt, expiry);
        Ok(self.sender.send(call).await?.transaction_hash)
    }

    /// Takes the whole deposit back, from the expiry on.
    pub async fn reclaim(&self, params: &ChannelParams) -> Result<B256, Error> {
        let contract = PaymentChannel::new(self.contract, self.sender.provider());
        let call = contract.reclaim(params.payee, params.token, params.signer, params.salt);
        Ok(self.sender.send(call).await?.transaction_hash)
    }

    /// The payee's settlement: closes with the voucher for `amount` (`signature` is 65 bytes
    /// `r || s || v`, sent in the compact form; empty with an amount of zero).
    pub async fn close(&self, params: &ChannelParams, amount: U256, signature: &[u8]) -> Result<B256, Error> {
        let contract = PaymentChannel::new(self.contract, self.sender.provider());
        let receipt = match compact(signature) {
            Some((r, vs)) => {
                let call = contract.closeCompact(params.payer, params.token, params.signer, params.salt, amount, r, vs);
                self.sender.send(call).await?
            }
            None => {
                let call = contract.close(
                    params.payer,
                    params.token,
                    params.signer,
                    params.salt,
                    amount,
                    signature.to_vec().into(),
                );
                self.sender.send(call).await?
            }
        };
        Ok(receipt.transaction_hash)
    }
}
