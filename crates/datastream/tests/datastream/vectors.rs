//! The test vectors of `docs/data-stream-protocol.md`: computed here from fixed inputs (anvil's dev
//! keys, fixed orders and messages) and compared with the JSON block in the document, so the two
//! cannot drift; every envelope in the document is also decoded and its signer recovered.
//! `AGORA_WRITE_VECTORS=1` rewrites the block from the code.

use agora_datastream::message::{
    Chunk, Exit, ExitReason, Failure, Hello, Item, Menu, Message, Order, PROTOCOL, Rating, Received, Resume,
};
use agora_datastream::sign::Ack;
use agora_datastream::{ErrorCode, sha256};
use alloy::hex;
use alloy::primitives::{Address, B256, U256, eip191_hash_message, keccak256};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolStruct, SolValue};
use serde_json::{Value, json};

use super::common::{BUYER_KEY, MARKET, SELLER_KEY, SESSION_KEY, key};

const BEGIN: &str = "<!-- vectors:begin -->\n```json\n";
const END: &str = "```\n<!-- vectors:end -->";

fn doc_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/data-stream-protocol.md")
}

fn key_json(k: &PrivateKeySigner, hex_key: &str) -> Value {
    json!({ "private_key": hex_key, "address": k.address() })
}

/// One message's vector: its type string, hashStruct, the digest `personal_sign` signs, its
/// signer, the signature and the whole envelope.
fn message(name: &str, m: &Message, signer: &PrivateKeySigner, body: &[u8]) -> anyhow::Result<Value> {
    let envelope: Value = serde_json::from_slice(&m.encode(signer)?)?;
    let mut v = json!({
        "name": name,
        "type": m.kind().eip712_type(),
        "type_hash": keccak256(m.kind().eip712_type()),
        "hash_struct": m.digest(),
        "signed_digest": eip191_hash_message(m.digest()),
        "signer": signer.address(),
        "envelope": envelope,
    });
    if !body.is_empty() {
        v["body_hex"] = json!(hex::encode_prefixed(body));
    }
    Ok(v)
}

fn vectors() -> anyhow::Result<Value> {
    let (seller, buyer, session) = (key(SELLER_KEY), key(BUYER_KEY), key(SESSION_KEY));
    let started_from = 1_767_225_600u64; // 2026-01-01T00:00:00Z
    let nonce = U256::from(7);
    let order_id = MARKET.order_id(buyer.address(), seller.address(), started_from, nonce);
    let encoded = (U256::from(MARKET.chain_id), MARKET.address, buyer.address(), seller.address(), started_from, nonce)
        .abi_encode();
    let body = b"Agora data stream, chunk 0.\n".to_vec();
    let item = Item {
        name: "weather/2025.csv".into(),
        size: 3 * (1 << 20) + 17,
        price: U256::from(2_500_000_000_000_000u64),
        token: Address::ZERO,
        chunk_size: 1 << 20,
        sha256: sha256(b"the whole item's bytes"),
    };
    let order = Order {
        order_id,
        buyer: buyer.address(),
        seller: seller.address(),
        started_from,
        nonce,
        item: item.name.clone(),
        sha256: item.sha256,
        size: item.size,
        price: item.price,
        token: item.token,
        ack_signer: session.address(),
        deadline: started_from + 86_400,
    };
    let received = 1u64 << 20;
    let ack_sig = MARKET.sign_ack(&session, order_id, received)?;
    let hello = Hello {
        protocol: PROTOCOL.into(),
        chain_id: MARKET.chain_id,
        market: MARKET.address,
        buyer: buyer.address(),
        message_key: buyer.address(),
        nonce: B256::repeat_byte(0x11),
        resume: None,
    };
    let resume = Hello { resume: Some(Resume { order_id, acked: received }), ..hello.clone() };
    let menu = Menu {
        chain_id: MARKET.chain_id,
        market: MARKET.address,
        seller: seller.address(),
        message_key: seller.address(),
        hello_nonce: hello.nonce,
        confirmations: 2,
        items: vec![item],
    };
    let chunk = Chunk { order_id, offset: 0, length: body.len() as u64, sha256: sha256(&body) };
    let exit = Exit {
        order_id,
        received,
        reason: ExitReason::Stopped,
        rating: Some(Rating { score: 4, comment: "fast, as described".into() }),
    };
    let failure =
        Failure { code: ErrorCode::TamperedChunk, message: "chunk at offset 0 does not match its hash".into() };
    let domain = MARKET.domain();
    let ack = Ack { orderId: order_id, received };
    Ok(json!({
        "keys": {
            "seller": key_json(&seller, SELLER_KEY),
            "buyer": key_json(&buyer, BUYER_KEY),
            "ack_signer": key_json(&session, SESSION_KEY),
        },
        "market": { "chain_id": MARKET.chain_id, "address": MARKET.address },
        "order_id": {
            "buyer": buyer.address(),
            "seller": seller.address(),
            "started_from": started_from,
            "nonce": nonce.to_string(),
            "abi_encoded": hex::encode_prefixed(&encoded),
            "order_id": order_id,
        },
        "ack": {
            "domain": { "name": "Agora DataMarket", "version": "1", "chain_id": MARKET.chain_id, "verifying_contract": MARKET.address },
            "domain_separator": domain.separator(),
            "type": Ack::eip712_encode_type(),
            "type_hash": ack.eip712_type_hash(),
            "order_id": order_id,
            "received": received,
            "hash_struct": ack.eip712_hash_struct(),
            "digest": MARKET.ack_digest(order_id, received),
            "signer": session.address(),
            "signature": hex::encode_prefixed(ack_sig),
        },
        "messages": [
            message("hello", &Message::Hello(hello, None), &buyer, &[])?,
            message("menu", &Message::Menu(menu), &seller, &[])?,
            message("order", &Message::Order(order, B256::repeat_byte(0xab)), &buyer, &[])?,
            message("data", &Message::Data(chunk), &seller, &body)?,
            message("ack", &Message::Ack(Received { order_id, received }, ack_sig), &buyer, &[])?,
            message("hello (resume)", &Message::Hello(resume, Some(ack_sig)), &buyer, &[])?,
            message("exit", &Message::Exit(exit), &buyer, &[])?,
            message("error", &Message::Error(failure), &buyer, &[])?,
        ],
    }))
}

fn doc_block(doc: &str) -> anyhow::Result<(usize, usize)> {
    let start = doc.find(BEGIN).ok_or_else(|| anyhow::anyhow!("no vectors block in the document"))? + BEGIN.len();
    let end = start + doc[start..].find(END).ok_or_else(|| anyhow::anyhow!("the vectors block is not closed"))?;
    Ok((start, end))
}

#[test]
fn the_documents_vectors_are_what_the_code_computes() -> anyhow::Result<()> {
    let computed = vectors()?;
    let doc = std::fs::read_to_string(doc_path())?;
    let (start, end) = doc_block(&doc)?;
    if std::env::var_os("AGORA_WRITE_VECTORS").is_some() {
        let text = format!("{}\n", serde_json::to_string_pretty(&computed)?);
        std::fs::write(doc_path(), format!("{}{}{}", &doc[..start], text, &doc[end..]))?;
        return Ok(());
    }
    let written: Value = serde_json::from_str(&doc[start..end])?;
    assert_eq!(
        written, computed,
        "docs/data-stream-protocol.md's vectors drifted (AGORA_WRITE_VECTORS=1 rewrites them)"
    );
    Ok(())
}

#[test]
fn every_envelope_in_the_document_decodes_to_its_signer() -> anyhow::Result<()> {
    let doc = std::fs::read_to_string(doc_path())?;
    let (start, end) = doc_block(&doc)?;
    let written: Value = serde_json::from_str(&doc[start..end])?;
    let messages = written["messages"].as_array().ok_or_else(|| anyhow::anyhow!("no messages"))?;
    assert_eq!(messages.len(), 8);
    for m in messages {
        let header = serde_json::to_vec(&m["envelope"])?;
        let body = m["body_hex"].as_str().map(hex::decode).transpose()?.unwrap_or_default();
        let signed = Message::decode(&header, &body)?;
        let signer: Address = m["signer"].as_str().unwrap_or_default().parse()?;
        let hash_struct: B256 = m["hash_struct"].as_str().unwrap_or_default().parse()?;
        assert_eq!((signed.signer, signed.message.digest()), (signer, hash_struct), "{}", m["name"]);
    }
    // The ACK's signature recovers to the ACK signer.
    let ack = &written["ack"];
    let order_id: B256 = ack["order_id"].as_str().unwrap_or_default().parse()?;
    let received = ack["received"].as_u64().unwrap_or_default();
    let sig = hex::decode(ack["signature"].as_str().unwrap_or_default())?;
    let signer: Address = ack["signer"].as_str().unwrap_or_default().parse()?;
    assert_eq!(MARKET.recover_ack(order_id, received, &sig)?, signer);
    Ok(())
}
