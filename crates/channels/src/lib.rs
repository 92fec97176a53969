//! One-way (Spilman) payment channels over the `PaymentChannel` contract: one deposit on chain,
//! many signed vouchers off chain, one settlement on chain. Used wherever a stream of small
//! payments flows — AI reply chunks, data chunks, predictions.
//!
//! - [`voucher`]: the EIP-712 `Voucher(bytes32 channelId,uint256 cumulativeAmount)`, signed and
//!   verified byte for byte as viem's `signTypedData`/`verifyTypedData` do. Verification uses
//!   libsecp256k1 (through `agora_chain::signature`) and rejects high-s signatures, as the contract does.
//! - [`payer`]: the paying side: tracks the deposit and what was spent, signs the next voucher.
//! - [`payer_tx`]: the parties' channel transactions (open, top up, extend, reclaim, close).
//! - [`ledger`]: the payee's ledger: checks each voucher against the indexed channel and stores it
//!   durably (group commit) before acknowledging it.
//! - [`clock`]: the chain's clock (its latest block's time), which expiry is judged by.
//! - [`settle`]: closes channels about to expire with their highest voucher.
//! - [`jobs`]: the payee's background jobs (auto-settle, expiry marks) on one schedule, with an
//!   admin's run now, pause and resume.

#![warn(missing_docs)]

pub mod clock;
pub mod jobs;
pub mod ledger;
pub mod payer;
pub mod payer_tx;
mod settings;
pub mod settle;
pub mod voucher;

pub use clock::ChainClock;
pub use ledger::{Ledger, LedgerConfig, VoucherError};
pub use payer::PayerChannel;
pub use settings::ChannelSettings;
pub use voucher::{ChannelParams, VoucherDomain};
