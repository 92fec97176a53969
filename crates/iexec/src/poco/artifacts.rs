//! PoCo's compiled contracts, read at run time from the published npm package that `make deps`
//! unpacks into `node_modules/.iexec-poco` (pinned by version and tarball hash), and the RLC
//! token's build from the npm package `rlc-faucet-contract` (a dependency of the `iexec` CLI).
//!
//! Nothing is compiled here: each contract is its ABI and creation bytecode as published. Five
//! facets call the library `IexecLibOrders_v5`, whose address is linked into their bytecode in
//! place of the Solidity linker's placeholder before they are deployed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use alloy::json_abi::JsonAbi;
use alloy::primitives::{Address, Bytes, hex, keccak256};
use serde::Deserialize;

use crate::{Error, Result};

/// The PoCo release the dev chain runs; `make deps` unpacks exactly this one.
pub(crate) const POCO_VERSION: &str = "6.1.0";
/// Where `make deps` unpacks PoCo, relative to the repository root.
pub(crate) const POCO_NPM_PATH: &str = "node_modules/.iexec-poco";
/// The RLC token's truffle build, relative to the repository root.
pub(crate) const RLC_NPM_PATH: &str = "node_modules/rlc-faucet-contract/build/contracts/RLC.json";

/// The library five facets link against, as the Solidity linker names it.
pub(crate) const ORDERS_LIBRARY: &str = "contracts/libs/IexecLibOrders_v5.sol:IexecLibOrders_v5";

/// A contract ready to deploy: its ABI and creation bytecode (libraries not linked yet).
#[derive(Debug, Clone)]
pub(crate) struct Artifact {
    /// The contract's name (e.g. `IexecPoco1Facet`), for errors and logs.
    pub(crate) name: String,
    /// Its ABI, from which the diamond's selectors for it are taken.
    pub(crate) abi: JsonAbi,
    /// Creation bytecode as hex, possibly holding library placeholders.
    bytecode: String,
    /// `source:library` names the bytecode links against.
    links: Vec<String>,
}

impl Artifact {
    /// The creation bytecode with every library it needs replaced by its address from `libraries`
    /// (keyed by `source:library`, as [`ORDERS_LIBRARY`]).
    pub(crate) fn linked_bytecode(&self, libraries: &BTreeMap<String, Address>) -> Result<Bytes> {
        let mut code = self.bytecode.trim_start_matches("0x").to_owned();
        for link in &self.links {
            let address = libraries
                .get(link)
                .ok_or_else(|| Error::Artifact(format!("{} needs library {link}, which is not deployed", self.name)))?;
            code = code.replace(&placeholder(link), &hex::encode(address));
        }
        if code.contains("__$") {
            return Err(Error::Artifact(format!("{} still holds an unlinked library placeholder", self.name)));
        }
        Ok(hex::decode(&code).map_err(|e| Error::Artifact(format!("{}: bad bytecode hex: {e}", self.name)))?.into())
    }

    /// The 4-byte selectors the diamond routes to this facet: every function's, plus `0xffffffff`
    /// for a fallback and `0x00000000` for a receive function.
    pub(crate) fn selectors(&self) -> Vec<[u8; 4]> {
        let mut out: Vec<[u8; 4]> = self.abi.functions().map(|f| f.selector().0).collect();
        if self.abi.fallback.is_some() {
            out.push([0xff; 4]);
        }
        if self.abi.receive.is_some() {
            out.push([0; 4]);
        }
        out
    }
}

/// The Solidity linker's placeholder for a library: `__$`, the first 34 hex digits of the
/// keccak256 of its fully qualified name, `$__` (40 characters, the width of an address).
pub(crate) fn placeholder(fully_qualified: &str) -> String {
    let hash = hex::encode(keccak256(fully_qualified.as_bytes()));
    format!("__${}$__", &hash[..34])
}

#[derive(Deserialize)]
struct HardhatArtifact {
    abi: JsonAbi,
    bytecode: String,
    #[serde(default, rename = "linkReferences")]
    link_references: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct DeploymentFile {
    #[serde(default)]
    abi: Option<JsonAbi>,
    bytecode: String,
}

#[derive(Deserialize)]
struct PackageJson {
    version: String,
}

/// The unpacked PoCo package and the RLC build.
#[derive(Debug, Clone)]
pub struct PocoArtifacts {
    dir: PathBuf,
    rlc: PathBuf,
}

impl PocoArtifacts {
    /// Finds the artifacts in `node_modules/.iexec-poco` and the RLC build in `node_modules`, in
    /// `start` or one of its parents. Fails with [`Error::Artifact`] when either is missing or the
    /// package is not the pinned PoCo release (`make deps` unpacks it).
    pub fn locate(start: &Path) -> Result<Self> {
        let dir = start.ancestors().map(|d| d.join(POCO_NPM_PATH)).find(|p| p.is_dir()).ok_or_else(|| {
            Error::Artifact(format!(
                "iExec PoCo {POCO_VERSION} not found in {POCO_NPM_PATH} here or above {}: run `make deps`",
                start.display()
            ))
        })?;
        let rlc = start.ancestors().map(|d| d.join(RLC_NPM_PATH)).find(|p| p.is_file()).ok_or_else(|| {
            Error::Artifact(format!("the RLC token's build {RLC_NPM_PATH} not found: run `make deps` (npm ci)"))
        })?;
        Self::open(&dir, &rlc)
    }

    /// Uses the package unpacked at `dir` and the RLC build at `rlc`.
    pub(crate) fn open(dir: &Path, rlc: &Path) -> Result<Self> {
        let package: PackageJson = read_json(&dir.join("package.json"))?;
        if package.version != POCO_VERSION {
            return Err(Error::Artifact(format!(
                "{} holds PoCo {}, expected {POCO_VERSION}: run `make deps`",
                dir.display(),
                package.version
            )));
        }
        if !rlc.is_file() {
            return Err(Error::Artifact(format!("{} is missing", rlc.display())));
        }
        Ok(Self { dir: dir.to_owned(), rlc: rlc.to_owned() })
    }

    /// A contract compiled by PoCo's hardhat build, `artifacts/contracts/<sub>/<name>.sol/<name>.json`.
    pub(crate) fn hardhat(&self, sub: &str, name: &str) -> Result<Artifact> {
        let mut path = self.dir.join("artifacts/contracts");
        if !sub.is_empty() {
            path = path.join(sub);
        }
        let path = path.join(format!("{name}.sol")).join(format!("{name}.json"));
        let a: HardhatArtifact = read_json(&path)?;
        let links = a
            .link_references
            .iter()
            .flat_map(|(source, libs)| libs.keys().map(move |lib| format!("{source}:{lib}")))
            .collect();
        Ok(Artifact { name: name.to_owned(), abi: a.abi, bytecode: a.bytecode, links })
    }

    /// A contract only published with PoCo's deployments (the diamond's default facets and its
    /// initializer): `deployments/arbitrumSepolia/<name>.json`.
    pub(crate) fn deployed(&self, name: &str) -> Result<Artifact> {
        let path = self.dir.join("deployments/arbitrumSepolia").join(format!("{name}.json"));
        let d: DeploymentFile = read_json(&path)?;
        let abi = d.abi.ok_or_else(|| Error::Artifact(format!("{} has no ABI", path.display())))?;
        Ok(Artifact { name: name.to_owned(), abi, bytecode: d.bytecode, links: Vec::new() })
    }

    /// The RLC token (truffle build); its constructor gives the deployer the whole supply.
    pub(crate) fn rlc(&self) -> Result<Artifact> {
        let d: DeploymentFile = read_json(&self.rlc)?;
        let abi = d.abi.ok_or_else(|| Error::Artifact(format!("{} has no ABI", self.rlc.display())))?;
        Ok(Artifact { name: "RLC".into(), abi, bytecode: d.bytecode, links: Vec::new() })
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| Error::Artifact(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Artifact(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_matches_the_solidity_linker() {
        // The placeholder solc writes for IexecLibOrders_v5 (seen in the published facets).
        assert_eq!(placeholder(ORDERS_LIBRARY), "__$9d824026d0515d8abd681f0f0f4707f16a$__");
    }

    #[test]
    fn linking_replaces_the_placeholder_and_refuses_missing_libraries() {
        let ph = placeholder(ORDERS_LIBRARY);
        let a = Artifact {
            name: "X".into(),
            abi: JsonAbi::default(),
            bytecode: format!("0x6000{ph}6000"),
            links: vec![ORDERS_LIBRARY.to_owned()],
        };
        assert!(a.linked_bytecode(&BTreeMap::new()).is_err());
        let lib: Address = "0x00000000000000000000000000000000000000aa".parse().unwrap();
        let code = a.linked_bytecode(&BTreeMap::from([(ORDERS_LIBRARY.to_owned(), lib)])).unwrap();
        assert_eq!(code.len(), 2 + 20 + 2);
        assert_eq!(code[21], 0xaa);
    }
}
