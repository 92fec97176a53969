//! The typed form of every message, for signing: an envelope's signature is EIP-191
//! `personal_sign` over the EIP-712 `hashStruct` of its payload as one of these structs. Struct and
//! field names are part of the type hashes, so they are the protocol's, not Rust's.

#![allow(missing_docs, unreachable_pub)]

use alloy::primitives::{B256, U256};
use alloy::sol_types::SolStruct;

use crate::message::{Message, Resume};

alloy::sol! {
    struct Hello {
        string protocol;
        uint256 chainId;
        address market;
        address buyer;
        address messageKey;
        bytes32 nonce;
        bool resume;
        bytes32 resumeOrderId;
        uint64 resumeAcked;
    }

    struct Item {
        string name;
        uint64 size;
        uint256 price;
        address token;
        uint64 chunkSize;
        bytes32 sha256;
    }

    struct Menu {
        uint256 chainId;
        address market;
        address seller;
        address messageKey;
        bytes32 helloNonce;
        uint64 confirmations;
        Item[] items;
    }

    struct Order {
        bytes32 orderId;
        address buyer;
        address seller;
        uint64 startedFrom;
        uint256 nonce;
        string item;
        bytes32 sha256;
        uint64 size;
        uint256 price;
        address token;
        address ackSigner;
        uint64 deadline;
        bytes32 escrowTx;
    }

    struct Chunk {
        bytes32 orderId;
        uint64 offset;
        uint64 length;
        bytes32 sha256;
    }

    struct Received {
        bytes32 orderId;
        uint64 received;
    }

    struct Exit {
        bytes32 orderId;
        uint64 received;
        string reason;
        bool rated;
        uint8 score;
        string comment;
    }

    struct Failure {
        string code;
        string message;
    }
}

/// A message's `hashStruct`: what its sender `personal_sign`s.
pub(crate) fn hash_struct(message: &Message) -> B256 {
    match message {
        Message::Hello(h, _) => {
            let r = h.resume.unwrap_or(Resume { order_id: B256::ZERO, acked: 0 });
            Hello {
                protocol: h.protocol.clone(),
                chainId: U256::from(h.chain_id),
                market: h.market,
                buyer: h.buyer,
                messageKey: h.message_key,
                nonce: h.nonce,
                resume: h.resume.is_some(),
                resumeOrderId: r.order_id,
                resumeAcked: r.acked,
            }
            .eip712_hash_struct()
        }
        Message::Menu(m) => Menu {
            chainId: U256::from(m.chain_id),
            market: m.market,
            seller: m.seller,
            messageKey: m.message_key,
            helloNonce: m.hello_nonce,
            confirmations: m.confirmations,
            items: m
                .items
                .iter()
                .map(|i| Item {
                    name: i.name.clone(),
                    size: i.size,
                    price: i.price,
                    token: i.token,
                    chunkSize: i.chunk_size,
                    sha256: i.sha256,
                })
                .collect(),
        }
        .eip712_hash_struct(),
        Message::Order(o, tx) => Order {
            orderId: o.order_id,
            buyer: o.buyer,
            seller: o.seller,
            startedFrom: o.started_from,
            nonce: o.nonce,
            item: o.item.clone(),
            sha256: o.sha256,
            size: o.size,
            price: o.price,
            token: o.token,
            ackSigner: o.ack_signer,
            deadline: o.deadline,
            escrowTx: *tx,
        }
        .eip712_hash_struct(),
        Message::Data(c) => {
            Chunk { orderId: c.order_id, offset: c.offset, length: c.length, sha256: c.sha256 }.eip712_hash_struct()
        }
        Message::Ack(r, _) => Received { orderId: r.order_id, received: r.received }.eip712_hash_struct(),
        Message::Exit(e) => Exit {
            orderId: e.order_id,
            received: e.received,
            reason: e.reason.as_str().into(),
            rated: e.rating.is_some(),
            score: e.rating.as_ref().map_or(0, |r| r.score),
            comment: e.rating.as_ref().map(|r| r.comment.clone()).unwrap_or_default(),
        }
        .eip712_hash_struct(),
        Message::Error(f) => Failure { code: f.code.to_string(), message: f.message.clone() }.eip712_hash_struct(),
    }
}
