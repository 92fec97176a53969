//! Sending transactions to iExec's contracts and reading their reverts. Every transaction this
//! crate signs goes through here: [`send`] (sent and mined), or [`submit`] then
//! [`Submitted::confirm`] where the hash must be recorded before the receipt is waited for.

use alloy::contract::{CallBuilder, CallDecoder};
use alloy::primitives::{B256, Bytes};
use alloy::providers::{PendingTransactionBuilder, Provider};
use alloy::rpc::types::TransactionReceipt;
use alloy::sol_types::{GenericRevertReason, SolInterface};

use crate::{Error, Result};

/// A revert's reason: the `Error(string)`/`Panic(uint)` message, or a sentence saying there was
/// none (PoCo checks many conditions with a bare `require`).
pub fn revert_reason(data: &[u8]) -> String {
    if data.is_empty() {
        return "a check failed without a message (bare require)".into();
    }
    match GenericRevertReason::decode(data) {
        Some(r) => r.to_string(),
        None => match alloy::sol_types::ContractError::<alloy::sol_types::GenericContractError>::abi_decode(data) {
            Ok(e) => format!("{e:?}"),
            Err(_) => format!("custom error 0x{}", alloy::primitives::hex::encode(data)),
        },
    }
}

/// Maps a contract call's error: reverts become [`Error::Reverted`] with their reason.
pub fn call_error(what: &str, err: alloy::contract::Error) -> Error {
    match err.as_revert_data() {
        Some(data) => Error::Reverted { what: what.to_owned(), reason: revert_reason(&data) },
        None => Error::Call { what: what.to_owned(), source: Box::new(err) },
    }
}

/// Sends a prepared call, waits for its receipt and fails on a revert. `what` names the call in
/// errors (e.g. `initialize(0xabc…, 0)`).
pub async fn send<P: Provider, D: CallDecoder>(what: &str, call: CallBuilder<P, D>) -> Result<TransactionReceipt> {
    submit(what, call).await?.confirm().await
}

/// A transaction accepted by the node and not yet known to be mined.
pub struct Submitted {
    what: String,
    pending: PendingTransactionBuilder<alloy::network::Ethereum>,
}

impl Submitted {
    pub fn tx_hash(&self) -> B256 {
        *self.pending.tx_hash()
    }

    /// Waits for the receipt; a transaction mined but reverted is [`Error::Reverted`].
    pub async fn confirm(self) -> Result<TransactionReceipt> {
        let receipt = self.pending.get_receipt().await?;
        if !receipt.status() {
            return Err(Error::Reverted {
                what: self.what,
                reason: format!("transaction {} reverted", receipt.transaction_hash),
            });
        }
        Ok(receipt)
    }
}

/// Sends a prepared call without waiting for it to be mined (a call the node refuses, e.g. one
/// whose gas estimate reverts, is [`Error::Reverted`]).
pub async fn submit<P: Provider, D: CallDecoder>(what: &str, call: CallBuilder<P, D>) -> Result<Submitted> {
    let pending = call.send().await.map_err(|e| call_error(what, e))?;
    Ok(Submitted { what: what.to_owned(), pending })
}

/// Deploys `code` (creation bytecode followed by any ABI-encoded constructor arguments) and
/// returns the new contract's address and receipt.
pub async fn deploy_code<P: Provider>(
    provider: &P,
    what: &str,
    code: Bytes,
) -> Result<(alloy::primitives::Address, TransactionReceipt)> {
    use alloy::network::TransactionBuilder;
    let tx = alloy::rpc::types::TransactionRequest::default().with_deploy_code(code);
    let pending = provider.send_transaction(tx).await.map_err(|e| match e.as_error_resp() {
        Some(resp) => Error::Reverted {
            what: format!("deploying {what}"),
            reason: resp.as_revert_data().map(|d| revert_reason(&d)).unwrap_or_else(|| resp.message.to_string()),
        },
        None => Error::Rpc(e),
    })?;
    let receipt = pending.get_receipt().await?;
    match receipt.contract_address {
        Some(address) if receipt.status() => Ok((address, receipt)),
        _ => Err(Error::Reverted {
            what: format!("deploying {what}"),
            reason: format!("transaction {} reverted", receipt.transaction_hash),
        }),
    }
}
