//! The payer's record of a channel it opened, `<data dir>/channels/<channelId>.json` (mode 0600:
//! it holds the session key that signs the vouchers): the channel's parameters, the key, and the
//! highest amount signed on it, so `agora chat` never signs less than before and checks the
//! node's base against it.

use std::io::Write;
use std::path::{Path, PathBuf};

use agora_node::client::{Address, B256, ChannelParams, PrivateKeySigner, U256, hex};
use serde::{Deserialize, Serialize};

use crate::out::{Failure, Outcome};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChannelFile {
    pub(crate) channel_id: B256,
    pub(crate) chain_id: u64,
    pub(crate) contract: Address,
    pub(crate) payer: Address,
    pub(crate) payee: Address,
    pub(crate) token: Address,
    pub(crate) signer: Address,
    pub(crate) salt: B256,
    /// The signer's private key, `0x` hex.
    pub(crate) session_key: String,
    /// Decimal: the highest voucher signed on the channel.
    pub(crate) highest_signed: String,
}

impl ChannelFile {
    pub(crate) fn path(data_dir: &Path, id: B256) -> PathBuf {
        data_dir.join("channels").join(format!("{id}.json"))
    }

    pub(crate) fn new(
        params: &ChannelParams,
        id: B256,
        chain_id: u64,
        contract: Address,
        key: &PrivateKeySigner,
    ) -> Self {
        Self {
            channel_id: id,
            chain_id,
            contract,
            payer: params.payer,
            payee: params.payee,
            token: params.token,
            signer: params.signer,
            salt: params.salt,
            session_key: hex::encode_prefixed(key.to_bytes()),
            highest_signed: "0".into(),
        }
    }

    pub(crate) fn params(&self) -> ChannelParams {
        ChannelParams { payer: self.payer, payee: self.payee, token: self.token, signer: self.signer, salt: self.salt }
    }

    pub(crate) fn key(&self) -> Outcome<PrivateKeySigner> {
        agora_node::client::signer_from_key(&self.session_key).map_err(Failure::from)
    }

    pub(crate) fn highest_signed(&self) -> U256 {
        U256::from_str_radix(&self.highest_signed, 10).unwrap_or_default()
    }

    /// The record, if this machine has one.
    pub(crate) fn load(data_dir: &Path, id: B256) -> Outcome<Option<Self>> {
        let path = Self::path(data_dir, id);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Failure::new("bad_channel_file", format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Failure::new("io", format!("cannot read {}: {e}", path.display()))),
        }
    }

    /// Writes the record (a new file, then renamed over the old one), readable by its owner only.
    pub(crate) fn save(&self, data_dir: &Path) -> Outcome<PathBuf> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = Self::path(data_dir, self.channel_id);
        let io = |e: std::io::Error| Failure::new("io", format!("cannot write {}: {e}", path.display()));
        let dir = path.parent().unwrap_or(data_dir);
        std::fs::create_dir_all(dir).map_err(io)?;
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_vec_pretty(self).map_err(|e| Failure::new("io", e.to_string()))?;
        let mut file =
            std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp).map_err(io)?;
        file.write_all(&text).map_err(io)?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        Ok(path)
    }
}
