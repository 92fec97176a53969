//! A service's iExec app: deployed once by the provider's wallet (`iexec app deploy`), its app
//! order signed (`iexec order sign --app`), both recorded; and the workerpool's current order.

use agora_store::IexecAppRow;
use alloy::primitives::{Address, B256, U256};
use serde_json::{Value, json};

use super::request::u256_of;
use super::{Backend, hex_addr, invalid, now, write_json};
use crate::Result;

impl Backend {
    /// The service's app, deployed and with a signed app order: from the store, else deployed now.
    pub(super) async fn ensure_app(&self, service_id: u64, name: &str) -> Result<(Address, Value)> {
        let chain = self.cfg.chain_id;
        let hub = self.cfg.hub;
        if let Some(row) = self.store.iexec_app(chain, service_id, hub).await?
            && let Some(order) = &row.apporder
        {
            return Ok((row.address, serde_json::from_str(order)?));
        }
        let spec = self.cfg.apps.get(name).ok_or_else(|| invalid(format!("no iExec app named {name:?}")))?;
        let _one = self.provider_lock.lock().await;
        let app_json = json!({
            "owner": hex_addr(self.app_owner),
            "name": format!("agora-{name}"),
            "type": "DOCKER",
            "multiaddr": spec.multiaddr,
            "checksum": spec.checksum.to_string(),
        });
        // Someone else may have finished while this waited for the lock.
        let address = match self.store.iexec_app(chain, service_id, hub).await? {
            Some(IexecAppRow { apporder: Some(order), address, .. }) => {
                return Ok((address, serde_json::from_str(&order)?));
            }
            Some(row) => row.address,
            None => {
                write_json(&self.provider_dir.join("iexec.json"), &json!({ "app": app_json })).await?;
                let address = {
                    // The CLI signs with the app owner's key, which the node may also use (the
                    // settle job's payee on the dev chain): nothing else sends with it meanwhile.
                    let _hold = self.cfg.app_owner.hold().await;
                    self.cli.app_deploy(&self.provider_dir).await?
                };
                let row = IexecAppRow { service_id, hub, app_name: name.to_owned(), address, apporder: None };
                self.store.put_iexec_app(chain, &row, now()).await?;
                tracing::info!("iExec app {address} deployed for service {service_id} ({})", spec.multiaddr);
                self.failpoint("iexec-app-deployed");
                address
            }
        };
        let signed = self.sign_apporder(address, &app_json).await?;
        let row =
            IexecAppRow { service_id, hub, app_name: name.to_owned(), address, apporder: Some(signed.to_string()) };
        self.store.put_iexec_app(chain, &row, now()).await?;
        Ok((address, signed))
    }

    /// Signs the app order of the app at `address` (free, for this requester and, when one is
    /// configured, this workerpool only) with the provider's wallet.
    async fn sign_apporder(&self, address: Address, app_json: &Value) -> Result<Value> {
        let order = json!({
            "app": hex_addr(address),
            "appprice": "0",
            "volume": "1000000",
            "tag": B256::ZERO.to_string(),
            "datasetrestrict": hex_addr(Address::ZERO),
            "workerpoolrestrict": hex_addr(self.cfg.workerpool.unwrap_or(Address::ZERO)),
            "requesterrestrict": hex_addr(self.requester),
        });
        write_json(&self.provider_dir.join("iexec.json"), &json!({ "app": app_json, "order": { "apporder": order } }))
            .await?;
        self.cli.sign_apporder(&self.provider_dir).await
    }

    /// The workerpool's current signed order for `category`.
    pub(super) async fn workerpool_order(&self, category: u64) -> Result<Value> {
        let path = &self.cfg.workerpool_orders;
        let bytes = tokio::fs::read(path).await.map_err(|e| {
            invalid(format!("no workerpool orders at {} ({e}): is the workerpool running?", path.display()))
        })?;
        let orders = match serde_json::from_slice::<Value>(&bytes)? {
            Value::Array(list) => list,
            one @ Value::Object(_) => vec![one],
            other => {
                return Err(invalid(format!("{}: expected a list of workerpool orders, got {other}", path.display())));
            }
        };
        orders
            .into_iter()
            .rev()
            .find(|o| {
                u256_of(&o["category"]) == Some(U256::from(category))
                    && self
                        .cfg
                        .workerpool
                        .is_none_or(|p| o["workerpool"].as_str().and_then(|a| a.parse().ok()) == Some(p))
            })
            .ok_or_else(|| {
                invalid(format!("the workerpool offers no order for category {category} in {}", path.display()))
            })
    }
}
