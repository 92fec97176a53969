//! The compute backend on iExec, as `agora up` wires it: the dev chain's PoCo with the dev
//! requester, or a configured hub with its requester key.

use std::time::Duration;

use agora_store::Store;
use alloy::primitives::Address;
use anyhow::{Context, Result};

use crate::{Config, DevChain, Senders};

/// The compute backend on iExec: on the embedded chain when PoCo was deployed there (the dev
/// requester and provider keys, the dev workerpool), elsewhere when `[iexec] hub` and
/// `[iexec.backend] requester_key` are configured; `None` otherwise.
#[allow(clippy::too_many_arguments)] // wiring: each argument is a separate part of the node
pub(crate) async fn start(
    config: &Config,
    dev: Option<&DevChain>,
    senders: &Senders,
    rpc_url: &str,
    api_url: &str,
    chain_id: u64,
    store: &Store,
    content: &std::sync::Arc<agora_content::AnyStore>,
    task_updates: &tokio::sync::broadcast::Sender<u64>,
) -> Result<Option<std::sync::Arc<agora_iexec::backend::Backend>>> {
    use agora_iexec::backend::{AppSpec, Backend, BackendConfig};
    let dev_poco = dev.and_then(|d| d.iexec().map(|p| (d, p)));
    let (hub, requester_key, app_owner_key, workerpool) = match (dev_poco, &config.iexec.hub) {
        (Some((d, poco)), _) => (
            poco.deployment.hub,
            config.iexec.backend.requester_key.clone().unwrap_or_else(|| d.iexec_requester_key().to_owned()),
            config.iexec.backend.app_owner_key.clone().unwrap_or_else(|| d.iexec_app_owner_key().to_owned()),
            d.iexec_workerpool(),
        ),
        (None, Some(hub)) => {
            let Some(requester) = config.iexec.backend.requester_key.clone() else {
                tracing::info!("[iexec] hub is set without [iexec.backend] requester_key: no iExec backend");
                return Ok(None);
            };
            let workerpool = config
                .iexec
                .workerpool_address
                .as_deref()
                .map(|w| {
                    w.parse::<Address>().with_context(|| format!("[iexec] workerpool_address {w:?} is not an address"))
                })
                .transpose()?;
            let hub = hub.parse::<Address>().with_context(|| format!("[iexec] hub {hub:?} is not an address"))?;
            (hub, requester.clone(), config.iexec.backend.app_owner_key.clone().unwrap_or(requester), workerpool)
        }
        (None, None) => return Ok(None),
    };
    let cli = match &config.iexec.backend.cli {
        Some(p) => p.clone(),
        None => std::env::current_dir()?
            .ancestors()
            .map(|d| d.join("node_modules/.bin/iexec"))
            .find(|p| p.is_file())
            .context("the iexec CLI is not in node_modules/.bin: run `npm ci` (or set [iexec.backend] cli)")?,
    };
    let chain_name = match (&config.iexec.backend.chain_name, &config.iexec.backend.chain_json) {
        (Some(name), _) => name.clone(),
        (None, Some(path)) => {
            let file: serde_json::Value = serde_json::from_slice(
                &std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
            )
            .with_context(|| format!("{} is not JSON", path.display()))?;
            file["default"]
                .as_str()
                .context("iexec_chain_json has no `default` chain: set iexec_chain_name")?
                .to_owned()
        }
        (None, None) => "agora".to_owned(),
    };
    // The pool's installed apps, by the names services give (`"app":"wordcount"`).
    let mut apps = std::collections::BTreeMap::new();
    for name in ["wordcount", "csvstats"] {
        let checksum = agora_iexec::apps::sample_app_checksum(name).unwrap_or_default();
        apps.insert(name.to_owned(), AppSpec { multiaddr: agora_iexec::apps::multiaddr_for(name), checksum });
    }
    let cfg = BackendConfig {
        chain_id,
        cli,
        work_dir: config.data_dir.join("iexec").join("backend"),
        chain_json: config.iexec.backend.chain_json.clone(),
        chain_name,
        rpc_url: config.iexec.rpc_url.clone().unwrap_or_else(|| rpc_url.to_owned()),
        hub,
        requester: senders.for_key(&requester_key)?,
        app_owner: senders.for_key(&app_owner_key)?,
        workerpool,
        workerpool_orders: config.workerpool_orders(),
        apps,
        api_url: api_url.to_owned(),
        poll: Duration::from_millis(config.iexec.backend.poll_ms.max(100)),
        deposit_tasks: 10,
        failpoint: config.iexec.backend.failpoint.clone().filter(|f| !f.is_empty()),
        updates: Some(task_updates.clone()),
    };
    let backend = Backend::start(cfg, store.clone(), content.clone()).await?;
    tracing::info!(%hub, requester = %backend.requester(), "iExec backend ready: iExec-backed services run through the iexec CLI");
    Ok(Some(backend))
}
