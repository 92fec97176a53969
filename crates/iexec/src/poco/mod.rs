//! Deploying iExec PoCo from its published artifacts, in the order PoCo's own deploy script uses
//! (without its CREATE2 factory):
//!
//! 1. the RLC token (its constructor gives the deployer the whole supply);
//! 2. `DiamondInit`, `DiamondCutFacet`, `DiamondLoupeFacet`, `OwnershipFacet`, then the diamond
//!    (the hub) with those three facets' selectors and `init()`;
//! 3. the library `IexecLibOrders_v5`, then 13 facets, linked against it, added in one
//!    `diamondCut` with each facet's selectors not yet routed (first facet wins, as in PoCo's
//!    script; `fallback` ↦ `0xffffffff`, `receive` ↦ `0x00000000`);
//! 4. the app, dataset and workerpool registries (`initialize(0)`, a base URI);
//! 5. `configure` on the hub (RLC, "Staked RLC", the registries);
//! 6. the categories: iExec's five (XS 300 s … XL 36000 s) and a 20 s one for deadline tests.
//!
//! [`deploy_dev`] adds the dev chain's set-up (RLC for the dev accounts, the dev workerpool). On a
//! fresh anvil every address comes out the same each time.
//!
//! Dev chain only: on a real chain PoCo is already there and only its hub's address is
//! configured. [`artifacts`] reads the published contracts from `node_modules`; `deploy.rs` does
//! the steps above ([`deploy`], [`verify`]); this file says what a deployment is
//! ([`PocoDeployment`], [`Category`]) and adds the dev set-up ([`deploy_dev`]).

pub mod artifacts;
mod deploy;

use std::time::{Duration, Instant};

use agora_chain::Sender;
use alloy::primitives::{Address, U256};
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::bindings::{Registry, Rlc};
use crate::tx::send;
use artifacts::{POCO_VERSION, PocoArtifacts};

pub use crate::task::task_id;
pub use deploy::{deploy, verify};

/// One RLC in nRLC (RLC has 9 decimals).
pub const RLC: u64 = 1_000_000_000;

/// A category of work: tasks in it get `time_ref` seconds per "work clock" (contributions close at
/// 7×, the final deadline is 10× after the deal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    /// The hub's index of the category (0 for XS, in creation order), as orders and deals name it.
    pub id: u64,
    /// The name it was created under, e.g. `XS` or `AGORA_TEST`.
    pub name: String,
    /// Seconds per work clock, the unit a task's deadlines are counted in.
    pub work_clock_time_ref: u64,
}

/// The categories created on the dev chain: iExec's five, then `AGORA_TEST` (20 s: a task's final
/// deadline is 200 s after its deal, so claims can be tested).
pub(crate) fn dev_categories() -> Vec<(String, String, u64)> {
    let std = [("XS", 300), ("S", 1200), ("M", 3600), ("L", 10800), ("XL", 36000)];
    let mut out: Vec<(String, String, u64)> =
        std.iter().map(|(n, t)| ((*n).to_owned(), "\"\"".to_owned(), *t)).collect();
    out.push((
        TEST_CATEGORY_NAME.to_owned(),
        "\"Agora dev chain: a 20 s work clock, for deadline tests\"".to_owned(),
        TEST_CATEGORY_TIME_REF,
    ));
    out
}

/// The name of the dev chain's short category, for deadline tests.
pub(crate) const TEST_CATEGORY_NAME: &str = "AGORA_TEST";
/// The short category's work clock, in seconds: its tasks' final deadline comes 200 s after the
/// deal.
pub const TEST_CATEGORY_TIME_REF: u64 = 20;

/// Where PoCo lives on a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PocoDeployment {
    /// The PoCo release deployed, e.g. `6.1.0`.
    pub poco_version: String,
    /// The chain PoCo is deployed on.
    pub chain_id: u64,
    /// The iExec hub (PoCo's diamond): the address the `iexec` CLI calls `hub`.
    pub hub: Address,
    /// The RLC token (9 decimals) the hub escrows and pays in.
    pub rlc: Address,
    /// The registry apps are created in (each app an ERC-721 token of its owner).
    pub app_registry: Address,
    /// The registry datasets are created in.
    pub dataset_registry: Address,
    /// The registry workerpools are created in.
    pub workerpool_registry: Address,
    /// The hub's owner (it may create categories).
    pub owner: Address,
    /// The hub's categories, in index order.
    pub categories: Vec<Category>,
}

impl PocoDeployment {
    /// The id of the category named `name`.
    pub fn category(&self, name: &str) -> Option<u64> {
        self.categories.iter().find(|c| c.name == name).map(|c| c.id)
    }
}

/// What the dev chain gets beyond PoCo itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevSetup {
    /// Accounts that get `rlc_each` nRLC from the deployer.
    pub funded: Vec<Address>,
    /// The amount sent to each of `funded`, in nRLC (10⁻⁹ RLC).
    pub rlc_each: U256,
    /// Workerpools registered for `(owner, description)`.
    pub workerpools: Vec<(Address, String)>,
}

/// PoCo on the dev chain, and how it got there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevPoco {
    /// The contracts deployed: the hub, RLC, the registries and the categories.
    pub deployment: PocoDeployment,
    /// The workerpools of [`DevSetup::workerpools`], in order.
    pub workerpools: Vec<Address>,
    /// How long the set-up took.
    #[serde(skip)]
    pub elapsed: Duration,
}

/// Deploys PoCo and `setup` with `sender`'s key.
///
/// There is no state snapshot: on anvil the whole deploy (~37 transactions) takes about 0.2 s in
/// a debug build, and loading an `anvil_dumpState` snapshot instead saved only 0.15 s of that
/// while bringing back the snapshot's old block timestamps.
pub async fn deploy_dev(sender: &Sender, setup: &DevSetup, artifacts: &PocoArtifacts) -> Result<DevPoco> {
    let started = Instant::now();
    let deployment = deploy(sender, artifacts).await?;
    let rlc = Rlc::new(deployment.rlc, sender.provider().clone());
    for account in &setup.funded {
        send(sender, &format!("RLC transfer to {account}"), rlc.transfer(*account, setup.rlc_each)).await?;
    }
    let registry = Registry::new(deployment.workerpool_registry, sender.provider().clone());
    let mut workerpools = Vec::new();
    for (owner, description) in &setup.workerpools {
        let address = registry
            .predictWorkerpool(*owner, description.clone())
            .call()
            .await
            .map_err(|e| crate::tx::call_error("predictWorkerpool", e))?;
        send(sender, "createWorkerpool", registry.createWorkerpool(*owner, description.clone())).await?;
        workerpools.push(address);
    }
    let elapsed = started.elapsed();
    tracing::info!(ms = elapsed.as_millis() as u64, hub = %deployment.hub, "iExec PoCo {POCO_VERSION} set up on the dev chain");
    Ok(DevPoco { deployment, workerpools, elapsed })
}
