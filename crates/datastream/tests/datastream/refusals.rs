//! Everything a side must refuse — a tampered chunk, a chunk or menu signed by the wrong key, a
//! forged ACK, a replayed (lower) ACK, a malformed frame, an oversized frame — each with its typed
//! error, the peer told why, and nothing lost: what was acknowledged stays acknowledged, and the
//! purchase completes afterwards.

use agora_datastream::frame::{FrameReader, FrameWriter};
use agora_datastream::message::Message;
use agora_datastream::{Error, ErrorCode, Limits, MessageType, SignedAck, State};
use alloy::signers::local::PrivateKeySigner;
use tokio::io::{AsyncWriteExt, DuplexStream};

use super::common::{CHUNK, Raw, Rig, SESSION_KEY, key, seller_config};

enum Tamper {
    /// Flip a bit in the body of the n-th data frame (1-based).
    FlipBit(usize),
    /// Re-sign the n-th data frame's envelope with another key.
    Resign(usize, PrivateKeySigner),
}

/// A man in the middle: passes the buyer's bytes through and the seller's frames too, except the one
/// it tampers with.
fn proxy(seller_side: DuplexStream, buyer_side: DuplexStream, tamper: Tamper) {
    let (sr, mut sw) = tokio::io::split(seller_side);
    let (mut br, bw) = tokio::io::split(buyer_side);
    tokio::spawn(async move {
        let _ = tokio::io::copy(&mut br, &mut sw).await;
        let _ = sw.shutdown().await;
    });
    tokio::spawn(async move {
        let mut reader = FrameReader::new(sr, Limits::default());
        let mut writer = FrameWriter::new(bw, Limits::default());
        let mut data = 0;
        while let Ok(mut frame) = reader.next(State::AwaitingData).await {
            let mut header = frame.header().to_vec();
            if let Ok(signed) = Message::decode(frame.header(), frame.body())
                && let Message::Data(_) = signed.message
            {
                data += 1;
                match &tamper {
                    Tamper::FlipBit(n) if *n == data => frame.body_mut()[100] ^= 1,
                    Tamper::Resign(n, k) if *n == data => match signed.message.encode(k) {
                        Ok(h) => header = h,
                        Err(_) => break,
                    },
                    _ => {}
                }
            }
            if writer.send(&header, frame.body()).await.is_err() {
                break;
            }
        }
    });
}

/// Buys through a proxy that tampers; returns the buyer's error and its last ACK.
async fn buy_through(rig: &Rig, tamper: Tamper) -> anyhow::Result<(Error, Option<SignedAck>)> {
    let (s, ps) = tokio::io::duplex(64 * 1024);
    let (pb, b) = tokio::io::duplex(64 * 1024);
    proxy(ps, pb, tamper);
    let seller = rig.seller.clone();
    let served = tokio::spawn(async move { seller.serve(s).await });
    let mut session = rig.buyer.connect(b, Some(rig.seller_address()), None).await?;
    let Err(e) = session.buy(&rig.order, rig.tx, &rig.out, None).await else { anyhow::bail!("the purchase succeeded") };
    let last = session.last_ack();
    drop(session);
    assert!(served.await?.is_err(), "the seller's connection ends too");
    Ok((e, last))
}

/// Resumes from `last` on a clean connection and checks the item arrives whole, each chunk paid at
/// most once — exactly once when every ACK of the refused connection reached the seller
/// (`all_acks_arrived`; a seller that fails on a write first leaves ACKs unread, and the next
/// cumulative one covers them).
async fn resume_and_finish(rig: &Rig, last: Option<SignedAck>, all_acks_arrived: bool) -> anyhow::Result<()> {
    let (a, b) = tokio::io::duplex(64 * 1024);
    let seller = rig.seller.clone();
    let served = tokio::spawn(async move { seller.serve(a).await });
    let mut session = rig.buyer.connect(b, Some(rig.seller_address()), last).await?;
    let bought = session.buy(&rig.order, rig.tx, &rig.out, None).await?;
    let served = served.await??;
    assert!(bought.complete);
    assert_eq!(served.start, last.map_or(0, |a| a.received));
    assert_eq!(std::fs::read(&rig.out)?, rig.content);
    assert_eq!(rig.seller.acks().highest(rig.order.order_id).map(|a| a.received), Some(rig.item.size));
    let accepted = rig.seller.acks().accepted(rig.order.order_id);
    if all_acks_arrived {
        assert_eq!(accepted, rig.chunks(), "each chunk paid once");
    } else {
        assert!(accepted <= rig.chunks(), "{accepted} ACKs accepted for {} chunks", rig.chunks());
    }
    Ok(())
}

#[tokio::test]
async fn a_tampered_chunk_is_refused_unwritten_and_unpaid_then_resumed() -> anyhow::Result<()> {
    let rig = Rig::new(8 * CHUNK as usize, 1, seller_config()).await?;
    let (e, last) = buy_through(&rig, Tamper::FlipBit(3)).await?;
    assert!(matches!(e, Error::TamperedChunk { offset, .. } if offset == 2 * CHUNK), "{e:?}");
    assert_eq!(e.code(), ErrorCode::TamperedChunk);
    assert_eq!(last.map(|a| a.received), Some(2 * CHUNK), "the tampered chunk is not acknowledged");
    assert_eq!(std::fs::metadata(&rig.out)?.len(), 2 * CHUNK, "nor written");
    resume_and_finish(&rig, last, false).await
}

#[tokio::test]
async fn a_chunk_signed_by_another_key_is_refused() -> anyhow::Result<()> {
    let rig = Rig::new(6 * CHUNK as usize, 1, seller_config()).await?;
    let intruder = PrivateKeySigner::random();
    let (e, last) = buy_through(&rig, Tamper::Resign(2, intruder.clone())).await?;
    assert!(
        matches!(e, Error::WrongSigner { message: MessageType::Data, expected, got }
            if expected == rig.seller_address() && got == intruder.address()),
        "{e:?}"
    );
    assert_eq!(last.map(|a| a.received), Some(CHUNK));
    resume_and_finish(&rig, last, false).await
}

#[tokio::test]
async fn a_menu_from_an_unexpected_key_and_a_hello_signed_by_another_are_refused() -> anyhow::Result<()> {
    let rig = Rig::new(CHUNK as usize, 1, seller_config()).await?;
    let (a, b) = tokio::io::duplex(1 << 20);
    let seller = rig.seller.clone();
    tokio::spawn(async move { seller.serve(a).await });
    let registered = PrivateKeySigner::random().address();
    let e = rig.buyer.connect(b, Some(registered), None).await.map(|_| ());
    assert!(
        matches!(e, Err(Error::WrongSigner { message: MessageType::Menu, expected, .. }) if expected == registered)
    );

    // A hello claiming the buyer's key, signed by another.
    let (a, b) = tokio::io::duplex(1 << 20);
    let seller = rig.seller.clone();
    let served = tokio::spawn(async move { seller.serve(a).await });
    let mut raw = Raw::new(b);
    let claimed = raw.key.address();
    raw.key = PrivateKeySigner::random();
    let hello = agora_datastream::message::Hello {
        protocol: agora_datastream::message::PROTOCOL.into(),
        chain_id: super::common::MARKET.chain_id,
        market: super::common::MARKET.address,
        buyer: claimed,
        message_key: claimed,
        nonce: Default::default(),
        resume: None,
    };
    raw.send(&Message::Hello(hello, None)).await?;
    assert_eq!(raw.error_code().await?, ErrorCode::BadSignature);
    let e = served.await?;
    assert!(matches!(e, Err(Error::WrongSigner { message: MessageType::Hello, expected, .. }) if expected == claimed));
    Ok(())
}

#[tokio::test]
async fn a_forged_ack_is_refused_and_records_nothing() -> anyhow::Result<()> {
    let rig = Rig::new(4 * CHUNK as usize, 1, seller_config()).await?;
    let (a, b) = tokio::io::duplex(1 << 20);
    let seller = rig.seller.clone();
    let served = tokio::spawn(async move { seller.serve(a).await });
    let mut raw = Raw::new(b);
    raw.start(&rig, None).await?;
    raw.chunk().await?;
    // Signed by the buyer's account key, not the order's ACK signer (the session key).
    let forger = key(super::common::BUYER_KEY);
    raw.ack(&rig, CHUNK, &forger).await?;
    assert_eq!(raw.error_code().await?, ErrorCode::ForgedAck);
    let e = served.await?;
    assert!(
        matches!(e, Err(Error::ForgedAck { received, expected, got })
            if received == CHUNK && expected == key(SESSION_KEY).address() && got == forger.address()),
        "{e:?}"
    );
    assert_eq!(rig.seller.acks().highest(rig.order.order_id), None, "nothing was paid");
    resume_and_finish(&rig, None, true).await
}

#[tokio::test]
async fn a_resent_ack_is_harmless_and_a_lower_one_is_refused() -> anyhow::Result<()> {
    let rig = Rig::new(6 * CHUNK as usize, 1, seller_config()).await?;
    let (a, b) = tokio::io::duplex(1 << 20);
    let seller = rig.seller.clone();
    let served = tokio::spawn(async move { seller.serve(a).await });
    let mut raw = Raw::new(b);
    raw.start(&rig, None).await?;
    let session = key(SESSION_KEY);
    let mut file = Vec::new();
    for _ in 0..2 {
        file.extend(raw.chunk().await?.1);
    }
    raw.ack(&rig, CHUNK, &session).await?;
    let two = raw.ack(&rig, 2 * CHUNK, &session).await?;
    raw.ack(&rig, 2 * CHUNK, &session).await?;
    raw.ack(&rig, CHUNK, &session).await?;
    assert_eq!(raw.error_code().await?, ErrorCode::StaleAck);
    let e = served.await?;
    assert!(
        matches!(e, Err(Error::StaleAck { received, highest }) if received == CHUNK && highest == 2 * CHUNK),
        "{e:?}"
    );
    assert_eq!(rig.seller.acks().highest(rig.order.order_id), Some(two));
    assert_eq!(rig.seller.acks().accepted(rig.order.order_id), 2, "the resent ACK counted nothing");

    // A resume below what is acknowledged is a replay too.
    let (a, b) = tokio::io::duplex(1 << 20);
    let seller = rig.seller.clone();
    let served = tokio::spawn(async move { seller.serve(a).await });
    let mut raw = Raw::new(b);
    let one = SignedAck {
        order_id: rig.order.order_id,
        received: CHUNK,
        signature: rig.buyer.market.sign_ack(&session, rig.order.order_id, CHUNK)?,
    };
    raw.start(&rig, Some(one)).await?;
    assert_eq!(raw.error_code().await?, ErrorCode::StaleAck);
    assert!(matches!(served.await?, Err(Error::StaleAck { .. })));

    std::fs::write(&rig.out, &file)?;
    resume_and_finish(&rig, Some(two), true).await
}

#[tokio::test]
async fn a_malformed_frame_is_refused_and_what_was_acknowledged_stays() -> anyhow::Result<()> {
    let rig = Rig::new(4 * CHUNK as usize, 1, seller_config()).await?;
    let (a, b) = tokio::io::duplex(1 << 20);
    let seller = rig.seller.clone();
    let served = tokio::spawn(async move { seller.serve(a).await });
    let mut raw = Raw::new(b);
    raw.start(&rig, None).await?;
    let (_, body) = raw.chunk().await?;
    let one = raw.ack(&rig, CHUNK, &key(SESSION_KEY)).await?;
    raw.w.send(b"{\"message_type\":\"ack\",\"payload\":", b"").await?;
    assert_eq!(raw.error_code().await?, ErrorCode::Malformed);
    let e = served.await?;
    assert!(matches!(e, Err(Error::MalformedFrame(_))), "{e:?}");
    assert_eq!(rig.seller.acks().highest(rig.order.order_id), Some(one));
    std::fs::write(&rig.out, body)?;
    resume_and_finish(&rig, Some(one), true).await
}

#[tokio::test]
async fn an_oversized_frame_is_refused_from_its_length() -> anyhow::Result<()> {
    let rig = Rig::new(CHUNK as usize, 1, seller_config()).await?;
    let (a, b) = tokio::io::duplex(1 << 20);
    let seller = rig.seller.clone();
    let served = tokio::spawn(async move { seller.serve(a).await });
    let mut raw = Raw::new(b);
    // 4 GiB announced where a hello belongs; nothing follows.
    raw.w.send_raw(&u32::MAX.to_be_bytes()).await?;
    assert_eq!(raw.error_code().await?, ErrorCode::FrameTooLarge);
    let e = served.await?;
    let max = Limits::default().max_frame;
    assert!(matches!(e, Err(Error::FrameTooLarge { len, max: m }) if len == u64::from(u32::MAX) && m == max), "{e:?}");
    resume_and_finish(&rig, None, true).await
}
