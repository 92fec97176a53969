//! The checks a reply passes before it starts: the channel (indexed, paying this assistant, the
//! caller's, open, not expiring, its payer not disabled), one reply at a time per channel, and what
//! a ledger refusal means to the client.

use agora_channels::VoucherError;
use agora_store::{ChannelRow, ChannelState};
use alloy::primitives::B256;

use crate::protocol::{ErrorCode, Refusal};
use crate::service::{Assistant, Caller, internal};
use crate::unix_now;

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
        let now = unix_now();
        if now.saturating_add(cfg.expiry_margin_secs) >= channel.expiry {
            return Err(Refusal {
                expiry: Some(channel.expiry),
                ..Refusal::new(
                    ErrorCode::Expiring,
                    format!(
                        "channel {channel_id} expires at {} and takes no payments in its last {} s: extend it",
                        channel.expiry, cfg.expiry_margin_secs
                    ),
                )
            });
        }
        Ok(channel)
    }
}

/// The refusal a ledger error becomes.
pub(crate) fn refusal_of(e: VoucherError) -> Refusal {
    let code = match &e {
        VoucherError::UnknownChannel(_) => ErrorCode::UnknownChannel,
        VoucherError::NotPayee { .. } => ErrorCode::NotYourChannel,
        VoucherError::NotOpen { .. } => ErrorCode::ChannelClosed,
        VoucherError::Expiring { .. } => ErrorCode::Expiring,
        VoucherError::OverDeposit { .. } => ErrorCode::DepositSpent,
        VoucherError::Storage(_) => ErrorCode::Internal,
        _ => ErrorCode::VoucherRefused,
    };
    let mut r = Refusal::new(code, format!("voucher refused: {e}"));
    match e {
        VoucherError::Expiring { expiry, .. } => r.expiry = Some(expiry),
        VoucherError::OverDeposit { amount, deposit } => {
            r.owed = Some(amount);
            r.deposit = Some(deposit);
        }
        _ => {}
    }
    r
}

/// Holds a channel's one streaming slot; the reply's task owns it and releases it when it ends.
pub(crate) struct BusyGuard {
    assistant: Assistant,
    channel_id: B256,
}

impl BusyGuard {
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
