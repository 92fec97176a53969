//! Sending transactions to iExec's contracts and reading their reverts. Every transaction this
//! crate signs goes through here, with the key's one [`Sender`] (shared with the rest of the
//! node): [`send`] (sent and mined), or [`submit`] then [`Submitted::confirm`] where the hash must
//! be recorded before the receipt is waited for.

use agora_chain::Sender;
use agora_chain::sender::Pending;
use alloy::contract::CallBuilder;
use alloy::primitives::{B256, Bytes};
use alloy::rpc::types::TransactionReceipt;
use alloy::sol_types::{GenericRevertReason, SolInterface};

use crate::{Error, Result};

/// A revert's reason: the `Error(string)`/`Panic(uint)` message, or a sentence saying there was
/// none (PoCo checks many conditions with a bare `require`).
pub(crate) fn revert_reason(data: &[u8]) -> String {
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
pub(crate) fn call_error(what: &str, err: alloy::contract::Error) -> Error {
    match err.as_revert_data() {
        Some(data) => Error::Reverted { what: what.to_owned(), reason: revert_reason(&data) },
        None => Error::Call { what: what.to_owned(), source: Box::new(err) },
    }
}

/// Maps a failed send of the key's [`Sender`]: reverts become [`Error::Reverted`] with their reason.
fn send_error(what: &str, err: agora_chain::Error) -> Error {
    use agora_chain::revert::ContractError;
    let reverted = |reason: String| Error::Reverted { what: what.to_owned(), reason };
    match err {
        agora_chain::Error::Contract(ContractError::UnknownRevert(data)) => reverted(revert_reason(&data)),
        agora_chain::Error::Contract(ContractError::Message(message)) => reverted(message),
        agora_chain::Error::Reverted { tx } => reverted(format!("transaction {tx} reverted")),
        other => Error::Chain(other),
    }
}

/// Sends a prepared call with `sender`, waits for its receipt and fails on a revert. `what` names
/// the call in errors (e.g. `initialize(0xabc…, 0)`).
pub(crate) async fn send<P, D>(sender: &Sender, what: &str, call: CallBuilder<P, D>) -> Result<TransactionReceipt> {
    submit(sender, what, call).await?.confirm().await
}

/// A transaction accepted by the node and not yet known to be mined.
pub(crate) struct Submitted {
    what: String,
    pending: Pending,
}

impl Submitted {
    /// The transaction's hash, known as soon as the node accepted it (record it before waiting).
    pub(crate) fn tx_hash(&self) -> B256 {
        self.pending.tx_hash()
    }

    /// Waits for the receipt; a transaction mined but reverted is [`Error::Reverted`].
    pub(crate) async fn confirm(self) -> Result<TransactionReceipt> {
        let what = self.what;
        self.pending.confirm().await.map_err(|e| send_error(&what, e))
    }
}

/// Sends a prepared call without waiting for it to be mined (a call whose gas estimate reverts is
/// [`Error::Reverted`]).
pub(crate) async fn submit<P, D>(sender: &Sender, what: &str, call: CallBuilder<P, D>) -> Result<Submitted> {
    let pending = sender.submit(call).await.map_err(|e| send_error(what, e))?;
    Ok(Submitted { what: what.to_owned(), pending })
}

/// Deploys `code` (creation bytecode followed by any ABI-encoded constructor arguments) and
/// returns the new contract's address and receipt.
pub(crate) async fn deploy_code(
    sender: &Sender,
    what: &str,
    code: Bytes,
) -> Result<(alloy::primitives::Address, TransactionReceipt)> {
    sender.deploy(code).await.map_err(|e| send_error(&format!("deploying {what}"), e))
}
