//! Running a task: the deal's app resolved to an installed app or a content-addressed wasm
//! module, its input (the deal's input files through the content gateway, else its arguments),
//! the run on Agora's executor within the contribution deadline, and the result archive
//! ([`crate::result`]) stored in the content store.

use std::time::Duration;

use agora_content::{Cid, ContentStore};
use agora_executor::{AppId, JobSpec, JobStatus, Limits};
use alloy::primitives::{Address, B256, U256};
use bytes::Bytes;

use super::stages::TaskView;
use super::{Workerpool, lock};
use crate::apps::{AppRef, checksum_allows, parse_multiaddr};
use crate::tx::call_error;
use crate::{Error, Result};

/// A stored result.
pub(super) struct Stored {
    pub(super) zip_cid: Cid,
    pub(super) output_cid: Cid,
    pub(super) digest: B256,
}

impl Workerpool {
    /// Runs the task's app on its input and stores the result archive; `Ok(Err(reason))` is a
    /// task this worker cannot finish.
    pub(super) async fn execute(&self, deal_id: B256, view: &TaskView) -> Result<Result<Stored, String>> {
        let deal = self.hub().viewDeal(deal_id).call().await.map_err(|e| call_error("viewDeal", e))?;
        if deal.callback != Address::ZERO {
            return Ok(Err("deals with a callback contract are not served (no callback data)".into()));
        }
        if deal.trust > U256::from(1u64) {
            return Ok(Err(format!("trust {} needs several contributions; this pool contributes once", deal.trust)));
        }
        let app = self.hub().viewApp(deal.app.pointer).call().await.map_err(|e| call_error("viewApp", e))?;
        let (app_id, mut limits) = match self.resolve_app(&app.m_appMultiaddr, app.m_appChecksum).await? {
            Ok(a) => a,
            Err(reason) => return Ok(Err(reason)),
        };
        let input = match self.resolve_input(&deal.params).await? {
            Ok(bytes) => bytes,
            Err(reason) => return Ok(Err(reason)),
        };
        // The run must end in time to contribute.
        let deadline: u64 = view.task.contributionDeadline.try_into().unwrap_or(u64::MAX);
        let left = Duration::from_secs(deadline.saturating_sub(view.chain_time).saturating_sub(10).max(1));
        limits.wall_time = limits.wall_time.min(left);
        let job = match self.executor.submit(JobSpec { app: app_id.clone(), input, limits }).await {
            Ok(job) => job,
            Err(agora_executor::Error::UnknownApp(a)) => return Ok(Err(format!("app {a} is not installed"))),
            Err(e) => return Err(e.into()),
        };
        let status = self.executor.wait(&job).await?;
        self.executor.forget(&job).await?;
        let output = match status {
            JobStatus::Succeeded { output } => output,
            JobStatus::Failed { reason } => return Ok(Err(format!("the app failed: {reason}"))),
            other => return Ok(Err(format!("the job ended as {other:?}"))),
        };
        let archive = match crate::result::build(&output) {
            Ok(a) => a,
            Err(Error::Invalid(reason)) => return Ok(Err(reason)),
            Err(e) => return Err(e),
        };
        let output_cid = self.content.put(output).await?;
        let zip_cid = self.content.put(archive.zip.clone()).await?;
        Ok(Ok(Stored { zip_cid, output_cid, digest: archive.digest }))
    }

    async fn resolve_app(&self, multiaddr: &[u8], checksum: B256) -> Result<Result<(AppId, Limits), String>> {
        match parse_multiaddr(multiaddr) {
            Err(reason) => Ok(Err(reason)),
            Ok(AppRef::Named(name)) => match self.cfg.apps.get(&name) {
                None => Ok(Err(format!("app agora:{name} is not installed in this workerpool"))),
                Some((id, limits)) if checksum_allows(checksum, id.as_str()) => Ok(Ok((id.clone(), limits.clone()))),
                Some(_) => Ok(Err(format!("app agora:{name}: its checksum {checksum} is not the installed module's"))),
            },
            Ok(AppRef::Content(cid)) => Ok(self.install_module(cid, checksum).await?.map(|id| (id, Limits::default()))),
        }
    }

    /// The wasm module stored under `cid`, installed in the sandbox (once).
    async fn install_module(&self, cid: Cid, checksum: B256) -> Result<Result<AppId, String>> {
        let key = cid.to_string();
        if let Some(id) = lock(&self.modules).get(&key).cloned() {
            return Ok(Ok(id));
        }
        let Some(wasm) = &self.wasm else {
            return Ok(Err("this workerpool installs no wasm modules".into()));
        };
        let module = match &self.cfg.ipfs_gateway {
            Some(gw) => {
                let url = format!("{}/ipfs/{cid}", gw.trim_end_matches('/'));
                match self.gateway.fetch(&url, self.cfg.max_input_bytes).await {
                    Ok(bytes) => bytes,
                    Err(e) if e.is_fetch_failure() => return Ok(Err(format!("app module {cid}: {e}"))),
                    Err(e) => return Err(e.into()),
                }
            }
            None => match self.content.get(&cid).await? {
                Some(bytes) => bytes,
                None => return Ok(Err(format!("app module {cid} is not in the content store"))),
            },
        };
        if !checksum.is_zero() && crate::apps::checksum_of_module(&module) != checksum {
            return Ok(Err(format!("app module {cid}: its SHA-256 is not the app's checksum {checksum}")));
        }
        let id = match wasm.register_app(&module) {
            Ok(id) => id,
            Err(e) => return Ok(Err(format!("app module {cid}: {e}"))),
        };
        lock(&self.modules).insert(key, id.clone());
        Ok(Ok(id))
    }

    /// The app's stdin: the deal's input files, fetched and concatenated, else its `iexec_args`.
    /// `Ok(Err(reason))`: an input this worker cannot get.
    async fn resolve_input(&self, params: &str) -> Result<Result<Bytes, String>> {
        let p = match parse_params(params) {
            Ok(p) => p,
            Err(reason) => return Ok(Err(reason)),
        };
        if p.input_files.is_empty() {
            return Ok(Ok(Bytes::from(p.args.unwrap_or_default().into_bytes())));
        }
        let limit = self.cfg.max_input_bytes;
        let mut all = Vec::new();
        for url in &p.input_files {
            let left = limit.saturating_sub(all.len() as u64);
            match self.gateway.fetch(url, left).await {
                Ok(bytes) => all.extend_from_slice(&bytes),
                Err(agora_content::Error::TooLarge { .. }) => {
                    return Ok(Err(format!("the input is larger than {limit} bytes")));
                }
                Err(e) if e.is_fetch_failure() => return Ok(Err(format!("input file {url}: {e}"))),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Ok(all.into()))
    }
}

/// What a deal's `params` ask for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct DealParams {
    /// `iexec_args`: the command line the app is given, if any.
    pub(super) args: Option<String>,
    /// `iexec_input_files`: URLs of the files the app reads, in order.
    pub(super) input_files: Vec<String>,
}

/// Reads a deal's `params`: iExec's JSON (`iexec_args`, `iexec_input_files`; other keys, such as
/// the result storage settings, are ignored), or a plain string of arguments (older requests).
pub(super) fn parse_params(params: &str) -> Result<DealParams, String> {
    let trimmed = params.trim();
    if trimmed.is_empty() {
        return Ok(DealParams::default());
    }
    if !trimmed.starts_with('{') {
        return Ok(DealParams { args: Some(params.to_owned()), input_files: Vec::new() });
    }
    let v: serde_json::Value =
        serde_json::from_str(trimmed).map_err(|e| format!("the deal's params are not JSON: {e}"))?;
    let args = match v.get("iexec_args") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("iexec_args is not a string".into()),
    };
    let input_files = match v.get("iexec_input_files") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .map(|f| f.as_str().map(str::to_owned).ok_or_else(|| "iexec_input_files holds a non-string".to_owned()))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("iexec_input_files is not a list".into()),
    };
    Ok(DealParams { args, input_files })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_parse_as_iexec_writes_them() {
        let p = parse_params(r#"{"iexec_args":"to be","iexec_result_storage_provider":"ipfs"}"#).unwrap();
        assert_eq!(p, DealParams { args: Some("to be".into()), input_files: vec![] });
        let p = parse_params(r#"{"iexec_input_files":["http://x/ipfs/bafk"]}"#).unwrap();
        assert_eq!(p.input_files, vec!["http://x/ipfs/bafk".to_owned()]);
        assert_eq!(parse_params("").unwrap(), DealParams::default());
        assert_eq!(parse_params("a b c").unwrap().args.as_deref(), Some("a b c"));
        assert!(parse_params(r#"{"iexec_input_files":"x"}"#).is_err());
        assert!(parse_params("{not json").is_err());
    }
}
