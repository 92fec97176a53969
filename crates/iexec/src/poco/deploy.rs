//! PoCo's deploy, step by step (see the parent module for the order).

use std::collections::{BTreeMap, BTreeSet};

use agora_chain::Sender;
use alloy::primitives::{Address, Bytes, U256, keccak256};
use alloy::providers::{DynProvider, Provider};
use alloy::sol_types::SolValue;

use super::artifacts::{Artifact, ORDERS_LIBRARY, POCO_VERSION, PocoArtifacts};
use super::{Category, PocoDeployment, dev_categories};
use crate::bindings::{DiamondArgs, DiamondFacetCut, IexecHub, Registry};
use crate::tx::{call_error, deploy_code, send};
use crate::{Error, Result};

/// The facets added after the diamond's own three, in PoCo's deploy order.
pub(crate) const FACETS: [&str; 13] = [
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

/// Deploys PoCo with `sender`'s key, who becomes the hub's and the registries' owner and
/// holds the whole RLC supply.
pub async fn deploy(sender: &Sender, artifacts: &PocoArtifacts) -> Result<PocoDeployment> {
    let loaded = Loaded::load(artifacts)?;
    deploy_loaded(sender, &loaded).await
}

async fn deploy_loaded(sender: &Sender, l: &Loaded) -> Result<PocoDeployment> {
    let chain_id = sender.chain_id();
    let (rlc, rlc_receipt) = deploy_code(sender, "RLC", l.rlc.linked_bytecode(&BTreeMap::new())?).await?;
    let owner = rlc_receipt.from;
    let mut routed = BTreeSet::new();
    let hub = deploy_diamond(sender, l, owner, &mut routed).await?;
    add_facets(sender, l, hub, &mut routed).await?;
    let [app_registry, dataset_registry, workerpool_registry] = deploy_registries(sender, l, chain_id).await?;
    let iexec = IexecHub::new(hub, sender.provider().clone());
    send(
        sender,
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
    let categories = create_categories(sender, &iexec).await?;
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

/// The diamond (the hub) with its three default facets and `init()`; returns its address.
async fn deploy_diamond(
    sender: &Sender,
    l: &Loaded,
    owner: Address,
    routed: &mut BTreeSet<[u8; 4]>,
) -> Result<Address> {
    let no_libs = BTreeMap::new();
    let (init, _) = deploy_code(sender, "DiamondInit", l.init.linked_bytecode(&no_libs)?).await?;
    let mut default_cuts = Vec::new();
    for a in [&l.cut, &l.loupe, &l.ownership] {
        let (address, _) = deploy_code(sender, &a.name, a.linked_bytecode(&no_libs)?).await?;
        default_cuts.push(facet_cut(address, a, routed));
    }
    let init_calldata: Bytes = keccak256("init()")[..4].to_vec().into();
    let args = DiamondArgs { owner, init, initCalldata: init_calldata };
    let mut code = l.diamond.linked_bytecode(&no_libs)?.to_vec();
    code.extend_from_slice(&(default_cuts, args).abi_encode_params());
    let (hub, _) = deploy_code(sender, "Diamond", code.into()).await?;
    Ok(hub)
}

/// The library, then every facet linked against it, added to the hub in one cut.
async fn add_facets(sender: &Sender, l: &Loaded, hub: Address, routed: &mut BTreeSet<[u8; 4]>) -> Result<()> {
    let (library, _) = deploy_code(sender, "IexecLibOrders_v5", l.library.linked_bytecode(&BTreeMap::new())?).await?;
    let libs = BTreeMap::from([(ORDERS_LIBRARY.to_owned(), library)]);
    let mut cuts = Vec::new();
    for facet in &l.facets {
        let (address, _) = deploy_code(sender, &facet.name, facet.linked_bytecode(&libs)?).await?;
        let cut = facet_cut(address, facet, routed);
        if !cut.functionSelectors.is_empty() {
            cuts.push(IexecHub::FacetCut {
                facetAddress: cut.facetAddress,
                action: cut.action,
                functionSelectors: cut.functionSelectors,
            });
        }
    }
    let iexec = IexecHub::new(hub, sender.provider().clone());
    send(sender, "diamondCut (13 PoCo facets)", iexec.diamondCut(cuts, Address::ZERO, Bytes::new())).await?;
    Ok(())
}

/// The app, dataset and workerpool registries, initialized, in that order.
async fn deploy_registries(sender: &Sender, l: &Loaded, chain_id: u64) -> Result<[Address; 3]> {
    let mut addresses = Vec::new();
    for (artifact, kind) in l.registries.iter().zip(["apps", "datasets", "workerpools"]) {
        let (address, _) = deploy_code(sender, &artifact.name, artifact.linked_bytecode(&BTreeMap::new())?).await?;
        let r = Registry::new(address, sender.provider().clone());
        send(sender, &format!("{}.initialize", artifact.name), r.initialize(Address::ZERO)).await?;
        send(
            sender,
            &format!("{}.setBaseURI", artifact.name),
            r.setBaseURI(format!("agora-dev://iexec/{chain_id}/{kind}/")),
        )
        .await?;
        addresses.push(address);
    }
    addresses.try_into().map_err(|_| Error::Invalid("three registries expected".into()))
}

/// The dev chain's categories, created in order (their ids follow).
async fn create_categories(sender: &Sender, iexec: &IexecHub::IexecHubInstance<DynProvider>) -> Result<Vec<Category>> {
    let mut categories = Vec::new();
    for (name, description, time_ref) in dev_categories() {
        send(
            sender,
            &format!("createCategory({name})"),
            iexec.createCategory(name.clone(), description, U256::from(time_ref)),
        )
        .await?;
        let id = iexec.countCategory().call().await.map_err(|e| call_error("countCategory", e))?;
        categories.push(Category {
            id: u64::try_from(id).unwrap_or(u64::MAX) - 1,
            name,
            work_clock_time_ref: time_ref,
        });
    }
    Ok(categories)
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
    let token = hub.token().call().await.map_err(|e| call_error("token()", e))?;
    if token != expected.rlc {
        return Err(bad(&format!("its token is {token}, not {}", expected.rlc)));
    }
    let registry = hub.workerpoolregistry().call().await.map_err(|e| call_error("workerpoolregistry", e))?;
    if registry != expected.workerpool_registry {
        return Err(bad("another workerpool registry"));
    }
    let count = hub.countCategory().call().await.map_err(|e| call_error("countCategory", e))?;
    if count != U256::from(expected.categories.len()) {
        return Err(bad(&format!("{count} categories, expected {}", expected.categories.len())));
    }
    Ok(())
}
