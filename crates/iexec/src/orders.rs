//! iExec orders: EIP-712 hashes and signatures exactly as PoCo checks them (domain `iExecODB`
//! version `5.0.0`, the hub as verifying contract), and the JSON shape the `iexec` CLI keeps in
//! `orders.json` (numbers as decimal strings, addresses and hashes as `0x` hex).

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{Eip712Domain, SolStruct};
use serde::{Deserialize, Serialize};

use crate::bindings::{AppOrder, IexecHub, RequestOrder, WorkerpoolOrder};
use crate::{Error, Result};

/// The tag the `iexec` CLI (v9) adds to every order it signs: bit 0 (TEE) and bit 3 (TDX). A
/// workerpool order must hold every bit of the deal's tag, so the Agora pool signs with it.
pub const TEE_TDX_TAG: B256 = B256::with_last_byte(0x09);

/// PoCo's EIP-712 domain on `chain_id` for the hub at `hub`.
pub(crate) fn domain(chain_id: u64, hub: Address) -> Eip712Domain {
    alloy::sol_types::eip712_domain! {
        name: "iExecODB",
        version: "5.0.0",
        chain_id: chain_id,
        verifying_contract: hub,
    }
}

/// A random 32-byte salt (orders with equal fields need distinct salts to have distinct hashes).
pub(crate) fn random_salt() -> Result<B256> {
    let mut salt = [0u8; 32];
    getrandom::fill(&mut salt).map_err(|e| Error::Invalid(format!("no random source: {e}")))?;
    Ok(B256::from(salt))
}

/// Signs `order`'s EIP-712 hash with `signer` (65 bytes, v = 27/28, as PoCo recovers it).
pub(crate) fn sign_struct<T: SolStruct>(signer: &PrivateKeySigner, order: &T, domain: &Eip712Domain) -> Result<Bytes> {
    let hash = order.eip712_signing_hash(domain);
    let sig = signer.sign_hash_sync(&hash)?;
    Ok(Bytes::from(sig.as_bytes().to_vec()))
}

/// A decimal string of a `uint256`, the CLI's way of writing amounts and counts.
mod dec {
    use alloy::primitives::U256;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &U256, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<U256, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Num {
            S(String),
            N(u64),
        }
        match Num::deserialize(d)? {
            Num::S(s) => s.parse().map_err(serde::de::Error::custom),
            Num::N(n) => Ok(U256::from(n)),
        }
    }
}

/// What a workerpool order offers; [`sign_workerpool_order`] adds the salt and signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerpoolOrderParams {
    /// The pool whose work the order sells; its owner signs the order.
    pub workerpool: Address,
    /// Price per task, nRLC.
    pub price: U256,
    /// Tasks the order may be used for in all.
    pub volume: U256,
    /// Features the pool offers, a bit each (bit 0 TEE, bit 3 TDX); it must hold every bit of a
    /// deal's tag.
    pub tag: B256,
    /// The category (work clock) of the tasks sold; one order serves one category.
    pub category: U256,
    /// The highest trust level a request may ask of the pool (the Agora pool contributes once,
    /// so it offers 1).
    pub trust: U256,
    /// Zero (any app), or the app this order is restricted to.
    pub apprestrict: Address,
    /// Zero (any dataset), or the dataset this order is restricted to.
    pub datasetrestrict: Address,
    /// Zero (any requester), or the requester this order is restricted to.
    pub requesterrestrict: Address,
}

/// A signed workerpool order, serialized as the CLI's `orders.json` holds it under `workerpoolorder`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedWorkerpoolOrder {
    /// The pool whose work the order sells; `sign` is its owner's.
    pub workerpool: Address,
    /// Price per task, nRLC.
    #[serde(with = "dec")]
    pub workerpoolprice: U256,
    /// Tasks the order may be used for in all; the hub counts what deals consumed.
    #[serde(with = "dec")]
    pub volume: U256,
    /// Features the pool offers, a bit each (bit 0 TEE, bit 3 TDX); it must hold every bit of a
    /// deal's tag.
    pub tag: B256,
    /// The category (work clock) of the tasks sold.
    #[serde(with = "dec")]
    pub category: U256,
    /// The highest trust level a request may ask of the pool.
    #[serde(with = "dec")]
    pub trust: U256,
    /// Zero (any app), or the app this order is restricted to.
    pub apprestrict: Address,
    /// Zero (any dataset), or the dataset this order is restricted to.
    pub datasetrestrict: Address,
    /// Zero (any requester), or the requester this order is restricted to.
    pub requesterrestrict: Address,
    /// Random bytes that give otherwise equal orders distinct hashes.
    pub salt: B256,
    /// The owner's EIP-712 signature of the order (65 bytes, v = 27/28).
    pub sign: Bytes,
}

impl SignedWorkerpoolOrder {
    /// The order as EIP-712 hashes it (without the signature).
    pub(crate) fn order(&self) -> WorkerpoolOrder {
        WorkerpoolOrder {
            workerpool: self.workerpool,
            workerpoolprice: self.workerpoolprice,
            volume: self.volume,
            tag: self.tag,
            category: self.category,
            trust: self.trust,
            apprestrict: self.apprestrict,
            datasetrestrict: self.datasetrestrict,
            requesterrestrict: self.requesterrestrict,
            salt: self.salt,
        }
    }

    /// The hash the hub counts consumption under (`viewConsumed`).
    pub(crate) fn hash(&self, domain: &Eip712Domain) -> B256 {
        self.order().eip712_signing_hash(domain)
    }

    /// The order as `matchOrders` takes it.
    pub fn to_call(&self) -> IexecHub::SignedWorkerpoolOrder {
        IexecHub::SignedWorkerpoolOrder {
            workerpool: self.workerpool,
            workerpoolprice: self.workerpoolprice,
            volume: self.volume,
            tag: self.tag,
            category: self.category,
            trust: self.trust,
            apprestrict: self.apprestrict,
            datasetrestrict: self.datasetrestrict,
            requesterrestrict: self.requesterrestrict,
            salt: self.salt,
            sign: self.sign.clone(),
        }
    }
}

/// Signs a workerpool order with the pool owner's key for the hub at `hub` on `chain_id`.
pub fn sign_workerpool_order(
    owner: &PrivateKeySigner,
    chain_id: u64,
    hub: Address,
    p: &WorkerpoolOrderParams,
) -> Result<SignedWorkerpoolOrder> {
    let mut signed = SignedWorkerpoolOrder {
        workerpool: p.workerpool,
        workerpoolprice: p.price,
        volume: p.volume,
        tag: p.tag,
        category: p.category,
        trust: p.trust,
        apprestrict: p.apprestrict,
        datasetrestrict: p.datasetrestrict,
        requesterrestrict: p.requesterrestrict,
        salt: random_salt()?,
        sign: Bytes::new(),
    };
    signed.sign = sign_struct(owner, &signed.order(), &domain(chain_id, hub))?;
    Ok(signed)
}

/// A signed app order in the CLI's JSON shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedAppOrder {
    /// The app (registered in the app registry) whose runs the order sells.
    pub app: Address,
    /// Price per task paid to the app's owner, nRLC.
    #[serde(with = "dec")]
    pub appprice: U256,
    /// Tasks the order may be used for in all; the hub counts what deals consumed.
    #[serde(with = "dec")]
    pub volume: U256,
    /// Features the app needs, a bit each (bit 0 TEE, bit 3 TDX); the deal's tag includes them.
    pub tag: B256,
    /// Zero (any dataset), or the dataset this order is restricted to.
    pub datasetrestrict: Address,
    /// Zero (any workerpool), or the workerpool this order is restricted to.
    pub workerpoolrestrict: Address,
    /// Zero (any requester), or the requester this order is restricted to.
    pub requesterrestrict: Address,
    /// Random bytes that give otherwise equal orders distinct hashes.
    pub salt: B256,
    /// The app owner's EIP-712 signature of the order (65 bytes, v = 27/28).
    pub sign: Bytes,
}

impl SignedAppOrder {
    /// Signs an app order (`salt` filled in here) with the app owner's key.
    pub fn sign(owner: &PrivateKeySigner, chain_id: u64, hub: Address, mut order: AppOrder) -> Result<Self> {
        order.salt = random_salt()?;
        let sign = sign_struct(owner, &order, &domain(chain_id, hub))?;
        Ok(Self {
            app: order.app,
            appprice: order.appprice,
            volume: order.volume,
            tag: order.tag,
            datasetrestrict: order.datasetrestrict,
            workerpoolrestrict: order.workerpoolrestrict,
            requesterrestrict: order.requesterrestrict,
            salt: order.salt,
            sign,
        })
    }

    /// The order as `matchOrders` takes it.
    pub fn to_call(&self) -> IexecHub::SignedAppOrder {
        IexecHub::SignedAppOrder {
            app: self.app,
            appprice: self.appprice,
            volume: self.volume,
            tag: self.tag,
            datasetrestrict: self.datasetrestrict,
            workerpoolrestrict: self.workerpoolrestrict,
            requesterrestrict: self.requesterrestrict,
            salt: self.salt,
            sign: self.sign.clone(),
        }
    }
}

/// A signed request order in the CLI's JSON shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedRequestOrder {
    /// The app to run.
    pub app: Address,
    /// The most the requester pays the app's owner per task, nRLC.
    #[serde(with = "dec")]
    pub appmaxprice: U256,
    /// The dataset the app reads; zero: none (Agora's deals use none).
    pub dataset: Address,
    /// The most the requester pays the dataset's owner per task, nRLC.
    #[serde(with = "dec")]
    pub datasetmaxprice: U256,
    /// The pool that must run the tasks; zero: any.
    pub workerpool: Address,
    /// The most the requester pays the pool per task, nRLC.
    #[serde(with = "dec")]
    pub workerpoolmaxprice: U256,
    /// Who pays for the deal from its iExec account; `sign` must be this account's.
    pub requester: Address,
    /// Tasks requested; Agora requests one per deal.
    #[serde(with = "dec")]
    pub volume: U256,
    /// Features the tasks need, a bit each (bit 0 TEE, bit 3 TDX).
    pub tag: B256,
    /// The category (work clock) the tasks run in; it sets their deadlines.
    #[serde(with = "dec")]
    pub category: U256,
    /// The trust level asked of the pool (0 or 1: one contribution decides).
    #[serde(with = "dec")]
    pub trust: U256,
    /// The account the result is for.
    pub beneficiary: Address,
    /// A contract the hub calls with the result; zero: none (the only kind Agora serves).
    pub callback: Address,
    /// The app's parameters as the JSON text workers read (`iexec_args`, `iexec_input_files`, …).
    pub params: String,
    /// Random bytes that give otherwise equal orders distinct hashes.
    pub salt: B256,
    /// The requester's EIP-712 signature of the order (65 bytes, v = 27/28).
    pub sign: Bytes,
}

impl SignedRequestOrder {
    /// Signs a request order (`salt` filled in here) with the requester's key, which must be
    /// `order.requester`.
    pub fn sign(requester: &PrivateKeySigner, chain_id: u64, hub: Address, mut order: RequestOrder) -> Result<Self> {
        if requester.address() != order.requester {
            return Err(Error::Invalid(format!(
                "a request order for {} cannot be signed by {}",
                order.requester,
                requester.address()
            )));
        }
        order.salt = random_salt()?;
        let sign = sign_struct(requester, &order, &domain(chain_id, hub))?;
        Ok(Self {
            app: order.app,
            appmaxprice: order.appmaxprice,
            dataset: order.dataset,
            datasetmaxprice: order.datasetmaxprice,
            workerpool: order.workerpool,
            workerpoolmaxprice: order.workerpoolmaxprice,
            requester: order.requester,
            volume: order.volume,
            tag: order.tag,
            category: order.category,
            trust: order.trust,
            beneficiary: order.beneficiary,
            callback: order.callback,
            params: order.params,
            salt: order.salt,
            sign,
        })
    }

    /// The order as `matchOrders` takes it.
    pub fn to_call(&self) -> IexecHub::SignedRequestOrder {
        IexecHub::SignedRequestOrder {
            app: self.app,
            appmaxprice: self.appmaxprice,
            dataset: self.dataset,
            datasetmaxprice: self.datasetmaxprice,
            workerpool: self.workerpool,
            workerpoolmaxprice: self.workerpoolmaxprice,
            requester: self.requester,
            volume: self.volume,
            tag: self.tag,
            category: self.category,
            trust: self.trust,
            beneficiary: self.beneficiary,
            callback: self.callback,
            params: self.params.clone(),
            salt: self.salt,
            sign: self.sign.clone(),
        }
    }
}

/// The empty dataset order `matchOrders` takes when a deal has no dataset.
pub fn no_dataset() -> IexecHub::SignedDatasetOrder {
    IexecHub::SignedDatasetOrder {
        dataset: Address::ZERO,
        datasetprice: U256::ZERO,
        volume: U256::ZERO,
        tag: B256::ZERO,
        apprestrict: Address::ZERO,
        workerpoolrestrict: Address::ZERO,
        requesterrestrict: Address::ZERO,
        salt: B256::ZERO,
        sign: Bytes::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::keccak256;

    #[test]
    fn type_hashes_match_pocos() {
        // The constants of IexecLibOrders_v5.
        let wp: B256 = "0xaa3429fb281b34691803133d3d978a75bb77c617ed6bc9aa162b9b30920022bb".parse().unwrap();
        let app: B256 = "0x60815a0eeec47dddf1615fe53b31d016c31444e01b9d796db365443a6445d008".parse().unwrap();
        let req: B256 = "0xf24e853034a3a450aba845a82914fbb564ad85accca6cf62be112a154520fae0".parse().unwrap();
        assert_eq!(keccak256(WorkerpoolOrder::eip712_encode_type().as_bytes()), wp);
        assert_eq!(keccak256(AppOrder::eip712_encode_type().as_bytes()), app);
        assert_eq!(keccak256(RequestOrder::eip712_encode_type().as_bytes()), req);
    }

    #[test]
    fn signed_order_json_is_the_clis_shape_and_recovers_the_owner() {
        let owner = PrivateKeySigner::random();
        let hub: Address = "0x00000000000000000000000000000000000000a1".parse().unwrap();
        let p = WorkerpoolOrderParams {
            workerpool: "0x00000000000000000000000000000000000000b2".parse().unwrap(),
            price: U256::from(100_000_000u64),
            volume: U256::from(1000u64),
            tag: TEE_TDX_TAG,
            category: U256::from(5u64),
            trust: U256::from(1u64),
            apprestrict: Address::ZERO,
            datasetrestrict: Address::ZERO,
            requesterrestrict: Address::ZERO,
        };
        let o = sign_workerpool_order(&owner, 31337, hub, &p).unwrap();
        let json = serde_json::to_value(&o).unwrap();
        assert_eq!(json["workerpoolprice"], "100000000");
        assert_eq!(json["category"], "5");
        assert_eq!(json["tag"], "0x0000000000000000000000000000000000000000000000000000000000000009");
        assert_eq!(json["sign"].as_str().unwrap().len(), 2 + 130);
        let back: SignedWorkerpoolOrder = serde_json::from_value(json).unwrap();
        assert_eq!(back, o);
        let sig = alloy::primitives::Signature::try_from(o.sign.as_ref()).unwrap();
        let recovered = sig.recover_address_from_prehash(&o.hash(&domain(31337, hub))).unwrap();
        assert_eq!(recovered, owner.address());
        // Another chain's domain gives another hash.
        assert_ne!(o.hash(&domain(1, hub)), o.hash(&domain(31337, hub)));
    }
}
