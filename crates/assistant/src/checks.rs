//! The checks a reply passes before it starts: the channel (indexed, paying this assistant, the
//! caller's, open, not expiring, its payer not disabled), one reply at a time per channel, and what
//! a ledger refusal means to the client.

use agora_channels::VoucherError;
use agora_channels::ledger::expiry_refusal;
use agora_store::{ChannelRow, ChannelState};
use alloy::primitives::B256;

use crate::protocol::{ErrorCode, Refusal};
use crate::service::{Assistant, Caller, internal};

impl Assistant {
    /// The channel, checked: indexed, paying this assistant, the caller's, open, not expiring, its
    /// payer not disabled.
    pub async fn usable_channel(&self, caller: Caller, channel_id: B256) -> Result<ChannelRow, Refusal> {
        let cfg = &self.inner.cfg;
        let channel = self.inner.store.channel(cfg.chain_id, channel_id).await.map_err(internal)?.ok_or_else(|| {
            Refusal::new(ErrorCode::UnknownChannel, format!("no channel {channel_id} is known on chain"))
        })?;
        if let Caller::Wallet(who) = caller
            && who != channel.payer
        {
            return Err(Refusal::new(
                ErrorCode::NotYourChannel,
                format!("channel {channel_id} is paid by {}, not by {who}", channel.payer),
            ));
        }
        if channel.payee != cfg.payee {
            return Err(Refusal::new(
                ErrorCode::NotYourChannel,
                format!("channel {channel_id} pays {}, not this assistant ({})", channel.payee, cfg.payee),
            ));
        }
        if self.inner.store.assistant_user_disabled(channel.payer).await.map_err(internal)? {
            return Err(Refusal::new(ErrorCode::UserDisabled, format!("{} is disabled by an admin", channel.payer)));
        }
        if channel.state != ChannelState::Open {
            return Err(Refusal::new(
                ErrorCode::ChannelClosed,
                format!("channel {channel_id} is {:?} on chain; open a new one", channel.state),
            ));
        }
        // Judged by the chain's clock, as the contract and the ledger judge it.
        let now = self.inner.ledger.chain_now();
        if let Some(e) = expiry_refusal(channel_id, channel.expiry, now, cfg.expiry_margin_secs) {
            return Err(Refusal { expiry: Some(channel.expiry), ..Refusal::new(code_of(&e), e.to_string()) });
        }
        Ok(channel)
    }
}

/// The code a ledger error is sent with.
fn code_of(e: &VoucherError) -> ErrorCode {
    match e {
        VoucherError::UnknownChannel(_) => ErrorCode::UnknownChannel,
        VoucherError::NotPayee { .. } => ErrorCode::NotYourChannel,
        VoucherError::NotOpen { .. } => ErrorCode::ChannelClosed,
        VoucherError::Expired { .. } => ErrorCode::Expired,
        VoucherError::Expiring { .. } => ErrorCode::Expiring,
        VoucherError::OverDeposit { .. } => ErrorCode::DepositSpent,
        VoucherError::Storage(_) => ErrorCode::Internal,
        _ => ErrorCode::VoucherRefused,
    }
}

/// The refusal a ledger error becomes.
pub(crate) fn refusal_of(e: VoucherError) -> Refusal {
    let mut r = Refusal::new(code_of(&e), format!("voucher refused: {e}"));
    match e {
        VoucherError::Expiring { expiry, .. } | VoucherError::Expired { expiry, .. } => r.expiry = Some(expiry),
        VoucherError::OverDeposit { amount, deposit } => {
            r.owed = Some(amount);
            r.deposit = Some(deposit);
        }
        _ => {}
    }
    r
}

/// Holds a channel's one streaming slot; the reply's task owns it and releases it when it ends.
/// Anything else that bills the channel (a prediction paid by voucher) holds it while it charges, so
/// a reply's `base` never moves under it.
pub struct BusyGuard {
    assistant: Assistant,
    channel_id: B256,
}

impl BusyGuard {
    /// Holds `channel_id` for `request_id` until dropped; refused (`busy`) while a reply or another
    /// holder has it.
    pub(crate) fn take(assistant: &Assistant, channel_id: B256, request_id: &str) -> Result<Self, Refusal> {
        let mut busy = assistant.inner.busy.lock().map_err(internal)?;
        if let Some(other) = busy.get(&channel_id) {
            return Err(Refusal::new(
                ErrorCode::Busy,
                format!("reply {other} is streaming on this channel; wait for it or stop it"),
            ));
        }
        busy.insert(channel_id, request_id.to_string());
        Ok(Self { assistant: assistant.clone(), channel_id })
    }
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        if let Ok(mut busy) = self.assistant.inner.busy.lock() {
            busy.remove(&self.channel_id);
        }
    }
}
