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

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::providers::{DynProvider, Provider};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolValue;
use serde::{Deserialize, Serialize};

use crate::artifacts::{Artifact, ORDERS_LIBRARY, POCO_VERSION, PocoArtifacts};
use crate::bindings::{DiamondArgs, DiamondFacetCut, IexecHub, Registry, Rlc};
use crate::tx::{deploy_code, send};
use crate::{Error, Result};

/// One RLC in nRLC (RLC has 9 decimals).
pub const RLC: u64 = 1_000_000_000;

/// The facets added after the diamond's own three, in PoCo's deploy order.
pub const FACETS: [&str; 13] = [
    "IexecAccessorsABILegacyFacet",
    "IexecCategoryManagerFacet",
    "IexecConfigurationExtraFacet",
    "IexecConfigurationFacet",
    "IexecERC20Facet",
    "IexecEscrowTokenFacet",
    "IexecOrderManagementFacet",
    "IexecPoco1Facet",
    "IexecPoco2Facet",
    "IexecPocoAccessorsFacet",
    "IexecPocoBoostFacet",
    "IexecPocoBoostAccessorsFacet",
    "IexecRelayFacet",
];

/// A category of work: tasks in it get `time_ref` seconds per "work clock" (contributions close at
/// 7×, the final deadline is 10× after the deal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    pub id: u64,
    pub name: String,
    pub work_clock_time_ref: u64,
}

/// The categories created on the dev chain: iExec's five, then `AGORA_TEST` (20 s: a task's final
/// deadline is 200 s after its deal, so claims can be tested).
pub fn dev_categories() -> Vec<(String, String, u64)> {
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

/// The short category's name and work clock.
pub const TEST_CATEGORY_NAME: &str = "AGORA_TEST";
pub const TEST_CATEGORY_TIME_REF: u64 = 20;

/// Where PoCo lives on a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PocoDeployment {
    pub poco_version: String,
    pub chain_id: u64,
    /// The iExec hub (PoCo's diamond): the address the `iexec` CLI calls `hub`.
    pub hub: Address,
    pub rlc: Address,
    pub app_registry: Address,
    pub dataset_registry: Address,
    pub workerpool_registry: Address,
    /// The hub's owner (it may create categories).
    pub owner: Address,
    pub categories: Vec<Category>,
}

impl PocoDeployment {
    /// The id of the category named `name`.
    pub fn category(&self, name: &str) -> Option<u64> {
        self.categories.iter().find(|c| c.name == name).map(|c| c.id)
    }
}

/// Everything PoCo's deploy needs, loaded once.
struct Loaded {
    rlc: Artifact,
    init: Artifact,
    cut: Artifact,
    loupe: Artifact,
    ownership: Artifact,
    diamond: Artifact,
    library: Artifact,
    facets: Vec<Artifact>,
    registries: [Artifact; 3],
}

impl Loaded {
    fn load(a: &PocoArtifacts) -> Result<Self> {
        Ok(Self {
            rlc: a.rlc()?,
            init: a.deployed("DiamondInit")?,
            cut: a.deployed("DiamondCutFacet")?,
            loupe: a.deployed("DiamondLoupeFacet")?,
            ownership: a.deployed("OwnershipFacet")?,
            diamond: a.hardhat("", "Diamond")?,
            library: a.hardhat("libs", "IexecLibOrders_v5")?,
            facets: FACETS.iter().map(|f| a.hardhat("facets", f)).collect::<Result<_>>()?,
            registries: [
                a.hardhat("registries/apps", "AppRegistry")?,
                a.hardhat("registries/datasets", "DatasetRegistry")?,
                a.hardhat("registries/workerpools", "WorkerpoolRegistry")?,
            ],
        })
    }
}

/// Deploys PoCo with `provider`'s signer, who becomes the hub's and the registries' owner and
/// holds the whole RLC supply.
pub async fn deploy(provider: &DynProvider, artifacts: &PocoArtifacts) -> Result<PocoDeployment> {
    let loaded = Loaded::load(artifacts)?;
    deploy_loaded(provider, &loaded).await
}

async fn deploy_loaded(provider: &DynProvider, l: &Loaded) -> Result<PocoDeployment> {
    let chain_id = provider.get_chain_id().await?;
    let no_libs = BTreeMap::new();
    let (rlc, rlc_receipt) = deploy_code(provider, "RLC", l.rlc.linked_bytecode(&no_libs)?).await?;
    let owner = rlc_receipt.from;

    // The diamond with its three default facets.
    let (init, _) = deploy_code(provider, "DiamondInit", l.init.linked_bytecode(&no_libs)?).await?;
    let mut routed: BTreeSet<[u8; 4]> = BTreeSet::new();
    let mut default_cuts = Vec::new();
    for a in [&l.cut, &l.loupe, &l.ownership] {
        let (address, _) = deploy_code(provider, &a.name, a.linked_bytecode(&no_libs)?).await?;
        default_cuts.push(facet_cut(address, a, &mut routed));
    }
    let init_calldata: Bytes = keccak256("init()")[..4].to_vec().into();
    let args = DiamondArgs { owner, init, initCalldata: init_calldata };
    let mut code = l.diamond.linked_bytecode(&no_libs)?.to_vec();
    code.extend_from_slice(&(default_cuts, args).abi_encode_params());
    let (hub, _) = deploy_code(provider, "Diamond", code.into()).await?;

    // The library, then every facet linked against it, added in one cut.
    let (library, _) = deploy_code(provider, "IexecLibOrders_v5", l.library.linked_bytecode(&no_libs)?).await?;
    let libs = BTreeMap::from([(ORDERS_LIBRARY.to_owned(), library)]);
    let mut cuts = Vec::new();
    for facet in &l.facets {
        let (address, _) = deploy_code(provider, &facet.name, facet.linked_bytecode(&libs)?).await?;
        let cut = facet_cut(address, facet, &mut routed);
        if !cut.functionSelectors.is_empty() {
            cuts.push(IexecHub::FacetCut {
                facetAddress: cut.facetAddress,
                action: cut.action,
                functionSelectors: cut.functionSelectors,
            });
        }
    }
    let iexec = IexecHub::new(hub, provider.clone());
    send("diamondCut (13 PoCo facets)", iexec.diamondCut(cuts, Address::ZERO, Bytes::new())).await?;

    // Registries.
    let mut registry_addresses = Vec::new();
    for (artifact, kind) in l.registries.iter().zip(["apps", "datasets", "workerpools"]) {
        let (address, _) = deploy_code(provider, &artifact.name, artifact.linked_bytecode(&no_libs)?).await?;
        let r = Registry::new(address, provider.clone());
        send(&format!("{}.initialize", artifact.name), r.initialize(Address::ZERO)).await?;
        send(&format!("{}.setBaseURI", artifact.name), r.setBaseURI(format!("agora-dev://iexec/{chain_id}/{kind}/")))
            .await?;
        registry_addresses.push(address);
    }
    let [app_registry, dataset_registry, workerpool_registry] = registry_addresses[..] else {
        return Err(Error::Invalid("three registries expected".into()));
    };

    send(
        "configure",
        iexec.configure(
            rlc,
            "Staked RLC".into(),
            "SRLC".into(),
            9,
            app_registry,
            dataset_registry,
            workerpool_registry,
            Address::ZERO,
        ),
    )
    .await?;

    let mut categories = Vec::new();
    for (name, description, time_ref) in dev_categories() {
        send(&format!("createCategory({name})"), iexec.createCategory(name.clone(), description, U256::from(time_ref)))
            .await?;
        let id = iexec.countCategory().call().await.map_err(|e| crate::tx::call_error("countCategory", e))?;
        categories.push(Category {
            id: u64::try_from(id).unwrap_or(u64::MAX) - 1,
            name,
            work_clock_time_ref: time_ref,
        });
    }
    let d = PocoDeployment {
        poco_version: POCO_VERSION.to_owned(),
        chain_id,
        hub,
        rlc,
        app_registry,
        dataset_registry,
        workerpool_registry,
        owner,
        categories,
    };
    tracing::info!(hub = %d.hub, rlc = %d.rlc, "iExec PoCo {POCO_VERSION} deployed");
    Ok(d)
}

/// An `Add` cut for `facet` at `address` with its selectors not yet routed (which it then claims).
fn facet_cut(address: Address, facet: &Artifact, routed: &mut BTreeSet<[u8; 4]>) -> DiamondFacetCut {
    let selectors: Vec<alloy::primitives::FixedBytes<4>> =
        facet.selectors().into_iter().filter(|s| routed.insert(*s)).map(Into::into).collect();
    DiamondFacetCut { facetAddress: address, action: 0, functionSelectors: selectors }
}

/// Reads a deployment back from the hub and checks it answers as PoCo should: configured with
/// `expected.rlc`, the registries, and the categories.
pub async fn verify(provider: &DynProvider, expected: &PocoDeployment) -> Result<()> {
    let hub = IexecHub::new(expected.hub, provider.clone());
    let bad = |what: &str| Error::Invalid(format!("no iExec hub at {}: {what}", expected.hub));
    if provider.get_code_at(expected.hub).await?.is_empty() {
        return Err(bad("no code"));
    }
    let token = hub.token().call().await.map_err(|e| crate::tx::call_error("token()", e))?;
    if token != expected.rlc {
        return Err(bad(&format!("its token is {token}, not {}", expected.rlc)));
    }
    let registry = hub.workerpoolregistry().call().await.map_err(|e| crate::tx::call_error("workerpoolregistry", e))?;
    if registry != expected.workerpool_registry {
        return Err(bad("another workerpool registry"));
    }
    let count = hub.countCategory().call().await.map_err(|e| crate::tx::call_error("countCategory", e))?;
    if count != U256::from(expected.categories.len()) {
        return Err(bad(&format!("{count} categories, expected {}", expected.categories.len())));
    }
    Ok(())
}

/// What the dev chain gets beyond PoCo itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevSetup {
    /// Accounts that get `rlc_each` nRLC from the deployer.
    pub funded: Vec<Address>,
    pub rlc_each: U256,
    /// Workerpools registered for `(owner, description)`.
    pub workerpools: Vec<(Address, String)>,
}

/// PoCo on the dev chain, and how it got there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevPoco {
    pub deployment: PocoDeployment,
    /// The workerpools of [`DevSetup::workerpools`], in order.
    pub workerpools: Vec<Address>,
    /// How long the set-up took.
    #[serde(skip)]
    pub elapsed: Duration,
}

/// Deploys PoCo and `setup` with `deployer` on the node at `rpc_url`.
///
/// There is no state snapshot: on anvil the whole deploy (~37 transactions) takes about 0.2 s in
/// a debug build, and loading an `anvil_dumpState` snapshot instead saved only 0.15 s of that
/// while bringing back the snapshot's old block timestamps.
pub async fn deploy_dev(
    rpc_url: &str,
    deployer: PrivateKeySigner,
    setup: &DevSetup,
    artifacts: &PocoArtifacts,
) -> Result<DevPoco> {
    let started = Instant::now();
    let provider = agora_chain::signing_provider(rpc_url, deployer)?;
    let deployment = deploy(&provider, artifacts).await?;
    let rlc = Rlc::new(deployment.rlc, provider.clone());
    for account in &setup.funded {
        send(&format!("RLC transfer to {account}"), rlc.transfer(*account, setup.rlc_each)).await?;
    }
    let registry = Registry::new(deployment.workerpool_registry, provider.clone());
    let mut workerpools = Vec::new();
    for (owner, description) in &setup.workerpools {
        let address = registry
            .predictWorkerpool(*owner, description.clone())
            .call()
            .await
            .map_err(|e| crate::tx::call_error("predictWorkerpool", e))?;
        send("createWorkerpool", registry.createWorkerpool(*owner, description.clone())).await?;
        workerpools.push(address);
    }
    let elapsed = started.elapsed();
    tracing::info!(ms = elapsed.as_millis() as u64, hub = %deployment.hub, "iExec PoCo {POCO_VERSION} set up on the dev chain");
    Ok(DevPoco { deployment, workerpools, elapsed })
}

/// A task's id: `keccak256(abi.encodePacked(dealid, idx))`, as the hub computes it.
pub fn task_id(deal_id: B256, idx: U256) -> B256 {
    let mut packed = Vec::with_capacity(64);
    packed.extend_from_slice(deal_id.as_slice());
    packed.extend_from_slice(&idx.to_be_bytes::<32>());
    keccak256(&packed)
}
