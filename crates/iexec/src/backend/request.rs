//! The request order of a task: its params (the input as an input file served by the node, or
//! as arguments), signed by the requester's wallet with the CLI, and checked against the EIP-712
//! hash computed here (the hash the deal id follows from).

use agora_content::{Cid, ContentStore};
use alloy::primitives::{Address, B256, Signature, U256};
use alloy::sol_types::{Eip712Domain, SolStruct};
use serde_json::{Value, json};

use super::{Backend, IexecRequest, hex_addr, invalid, write_json};
use crate::Result;
use crate::bindings::RequestOrder;

impl Backend {
    /// The request's params for `input`: a CID in the content store becomes an input file served
    /// by the node, anything else is passed as `iexec_args`. `Ok(Err(reason))`: a bad input.
    pub(super) async fn params_for(&self, input: &str) -> Result<Result<Value, String>> {
        let trimmed = input.trim();
        if Cid::looks_like(trimmed) {
            let cid: Cid = match trimmed.parse() {
                Ok(c) => c,
                Err(e) => return Ok(Err(format!("bad input: {e}"))),
            };
            if !self.content.has(&cid).await? {
                return Ok(Err(format!("bad input: {cid} is not in the content store")));
            }
            let url = format!("{}/ipfs/{cid}", self.cfg.api_url.trim_end_matches('/'));
            return Ok(Ok(json!({ "iexec_input_files": [url] })));
        }
        Ok(Ok(json!({ "iexec_args": input })))
    }

    /// Signs the task's request order with the CLI and checks the signature against the order's
    /// EIP-712 hash computed here (the hash the deal id follows from).
    pub(super) async fn sign_request(
        &self,
        req: &IexecRequest<'_>,
        app: Address,
        apporder: &Value,
        workerpoolorder: &Value,
        params: Value,
    ) -> Result<(Value, B256)> {
        let order = json!({
            "app": hex_addr(app),
            "appmaxprice": apporder["appprice"].as_str().unwrap_or("0"),
            "dataset": hex_addr(Address::ZERO),
            "datasetmaxprice": "0",
            "workerpool": workerpoolorder["workerpool"],
            "workerpoolmaxprice": decimal(&workerpoolorder["workerpoolprice"]),
            "requester": hex_addr(self.requester),
            "volume": "1",
            "tag": B256::ZERO.to_string(),
            "category": req.category.to_string(),
            "trust": "0",
            "beneficiary": hex_addr(self.requester),
            "callback": hex_addr(Address::ZERO),
            "params": params,
        });
        let signed = {
            let _one = self.requester_lock.lock().await;
            write_json(&self.requester_dir.join("iexec.json"), &json!({ "order": { "requestorder": order } })).await?;
            self.cli.sign_requestorder(&self.requester_dir).await?
        };
        let hash = self.request_hash(&signed).await?;
        let sign: alloy::primitives::Bytes = signed["sign"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid(format!("signed request order without a signature: {signed}")))?;
        let signer = Signature::try_from(sign.as_ref())
            .ok()
            .and_then(|s| s.recover_address_from_prehash(&hash).ok())
            .ok_or_else(|| invalid("the request order's signature does not parse"))?;
        if signer != self.requester {
            return Err(invalid(format!(
                "request order hash {hash} does not match the CLI's signature (recovered {signer}); refusing to fill"
            )));
        }
        Ok((signed, hash))
    }

    async fn eip712_domain(&self) -> Result<&Eip712Domain> {
        self.domain
            .get_or_try_init(|| async {
                let d = self.hub().domain().call().await.map_err(|e| crate::tx::call_error("hub.domain()", e))?;
                Ok(Eip712Domain::new(
                    Some(d.name.into()),
                    Some(d.version.into()),
                    Some(d.chainId),
                    Some(d.verifyingContract),
                    None,
                ))
            })
            .await
    }

    /// The EIP-712 hash PoCo gives a signed request order.
    async fn request_hash(&self, signed: &Value) -> Result<B256> {
        let order = request_order_of(signed)?;
        Ok(order.eip712_signing_hash(self.eip712_domain().await?))
    }
}

pub(super) fn u256_of(v: &Value) -> Option<U256> {
    match v {
        Value::String(s) if s.starts_with("0x") => U256::from_str_radix(&s[2..], 16).ok(),
        Value::String(s) => U256::from_str_radix(s, 10).ok(),
        Value::Number(n) => n.as_u64().map(U256::from),
        _ => None,
    }
}

fn decimal(v: &Value) -> String {
    u256_of(v).unwrap_or_default().to_string()
}

/// A signed request order as the CLI prints it, as PoCo's struct.
fn request_order_of(v: &Value) -> Result<RequestOrder> {
    let bad = |field: &str| invalid(format!("request order: bad {field}: {}", v[field]));
    let addr = |field: &str| v[field].as_str().and_then(|s| s.parse::<Address>().ok()).ok_or_else(|| bad(field));
    let num = |field: &str| u256_of(&v[field]).ok_or_else(|| bad(field));
    let word = |field: &str| v[field].as_str().and_then(|s| s.parse::<B256>().ok()).ok_or_else(|| bad(field));
    let params = match &v["params"] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    Ok(RequestOrder {
        app: addr("app")?,
        appmaxprice: num("appmaxprice")?,
        dataset: addr("dataset")?,
        datasetmaxprice: num("datasetmaxprice")?,
        workerpool: addr("workerpool")?,
        workerpoolmaxprice: num("workerpoolmaxprice")?,
        requester: addr("requester")?,
        volume: num("volume")?,
        tag: word("tag")?,
        category: num("category")?,
        trust: num("trust")?,
        beneficiary: addr("beneficiary")?,
        callback: addr("callback")?,
        params,
        salt: word("salt")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_request_orders_parse_into_pocos_struct() {
        let v = json!({
            "app": "0x2a9a3a8e4ff06d1e0a1c7a1f6e3e5fbde1e7f9b1", "appmaxprice": "0",
            "dataset": "0x0000000000000000000000000000000000000000", "datasetmaxprice": "0",
            "workerpool": "0x9d4454b023096f34b160d6b654540c56a1f81688", "workerpoolmaxprice": "100000000",
            "requester": "0x976ea74026e726554db657fa54763abd0c3a0aa9", "volume": "1",
            "tag": "0x0000000000000000000000000000000000000000000000000000000000000009", "category": "0",
            "trust": "0", "beneficiary": "0x976ea74026e726554db657fa54763abd0c3a0aa9",
            "callback": "0x0000000000000000000000000000000000000000",
            "params": "{\"iexec_args\":\"one two\",\"iexec_result_storage_provider\":\"ipfs\"}",
            "salt": "0x0101010101010101010101010101010101010101010101010101010101010101", "sign": "0x00"
        });
        let order = request_order_of(&v).expect("parses");
        assert_eq!(order.workerpoolmaxprice, U256::from(100_000_000u64));
        assert_eq!(order.tag, B256::with_last_byte(9));
        assert!(order.params.contains("one two"));
        let mut broken = v.clone();
        broken["salt"] = json!("nope");
        assert!(request_order_of(&broken).expect_err("bad salt").to_string().contains("bad salt"));
    }
}
