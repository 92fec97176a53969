//! Whole purchases: over a tokio duplex, over TCP loopback and over a WebSocket on the seller's port, cut mid-transfer and resumed, and
//! the seller waiting for the escrow before its first byte.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use agora_datastream::frame::{FrameReader, FrameWriter};
use agora_datastream::message::{Message, Rating};
use agora_datastream::{Error, ErrorCode, Limits, MarketRef, Served, State, transport};
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::common::{CHUNK, Raw, Rig, SESSION_KEY, key, seller_config};

fn rating() -> Option<Rating> {
    Some(Rating { score: 4, comment: "as described".into() })
}

/// Checks what every finished purchase must show: the file is the item, the seller's highest ACK is
/// the whole item, signed by the order's ACK signer, and no chunk was acknowledged twice — each
/// exactly once when every ACK sent reached the seller (`all_acks_arrived`); a connection dropped
/// with ACKs still unread by the seller loses them, and the next cumulative one covers them.
fn assert_settled(rig: &Rig, all_acks_arrived: bool) -> anyhow::Result<()> {
    assert_eq!(std::fs::read(&rig.out)?, rig.content, "the file is the item, byte for byte");
    let ack = rig.seller.acks().highest(rig.order.order_id).ok_or_else(|| anyhow::anyhow!("no ACK"))?;
    assert_eq!(ack.received, rig.item.size);
    assert_eq!(MARKET.recover_ack(ack.order_id, ack.received, &ack.signature)?, key(SESSION_KEY).address());
    let accepted = rig.seller.acks().accepted(rig.order.order_id);
    if all_acks_arrived {
        assert_eq!(accepted, rig.chunks(), "one accepted ACK per chunk");
    } else {
        assert!(accepted <= rig.chunks(), "{accepted} ACKs accepted for {} chunks", rig.chunks());
    }
    Ok(())
}

const MARKET: MarketRef = super::common::MARKET;

#[tokio::test]
async fn a_whole_purchase_over_a_duplex() -> anyhow::Result<()> {
    let rig = Rig::new(10 * CHUNK as usize + 123, 1, seller_config()).await?;
    let (a, b) = tokio::io::duplex(64 * 1024);
    let seller = rig.seller.clone();
    let served = tokio::spawn(async move { seller.serve(a).await });
    let mut session = rig.buyer.connect(b, Some(rig.seller_address()), None).await?;
    assert_eq!(session.menu().items, vec![rig.item.clone()]);
    let bought = session.buy(&rig.order, rig.tx, &rig.out, rating()).await?;
    let served = served.await??;
    assert!(bought.complete);
    assert_eq!(bought.received, rig.item.size);
    assert_eq!(bought.seller_rating.map(|r| r.score), Some(5));
    assert_eq!((served.start, served.sent, served.acked), (0, rig.item.size, rig.item.size));
    assert_eq!(served.buyer_rating, rating());
    assert_settled(&rig, true)
}

#[tokio::test]
async fn a_whole_purchase_over_tcp_loopback() -> anyhow::Result<()> {
    let rig = Rig::new(20 * CHUNK as usize, 1, seller_config()).await?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let seller = rig.seller.clone();
    let served = tokio::spawn(async move {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        anyhow::Ok(seller.serve(stream).await?)
    });
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut session = rig.buyer.connect(stream, Some(rig.seller_address()), None).await?;
    let bought = session.buy(&rig.order, rig.tx, &rig.out, None).await?;
    let served = served.await??;
    assert!(bought.complete && served.acked == rig.item.size && served.buyer_rating.is_none());
    assert_settled(&rig, true)
}

/// A stream whose reads end (and whose writes fail) after `left` bytes have been read: the
/// network going away in the middle of a frame.
struct Cut {
    inner: DuplexStream,
    left: usize,
}

impl AsyncRead for Cut {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.left == 0 {
            return Poll::Ready(Ok(()));
        }
        let mut tmp = vec![0u8; buf.remaining().min(this.left)];
        let mut limited = ReadBuf::new(&mut tmp);
        match Pin::new(&mut this.inner).poll_read(cx, &mut limited) {
            Poll::Ready(Ok(())) => {
                this.left -= limited.filled().len();
                buf.put_slice(limited.filled());
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl AsyncWrite for Cut {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        if this.left == 0 {
            return Poll::Ready(Err(std::io::ErrorKind::BrokenPipe.into()));
        }
        Pin::new(&mut this.inner).poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[tokio::test]
async fn a_transfer_cut_mid_frame_resumes_from_the_last_ack_and_nothing_is_paid_twice() -> anyhow::Result<()> {
    let rig = Rig::new(12 * CHUNK as usize + 7, 1, seller_config()).await?;
    let (a, b) = tokio::io::duplex(64 * 1024);
    let seller = rig.seller.clone();
    let first = tokio::spawn(async move { seller.serve(a).await });
    // The cut falls in the middle of the sixth chunk's frame.
    let cut = Cut { inner: b, left: 5 * CHUNK as usize + 5000 };
    let mut session = rig.buyer.connect(cut, Some(rig.seller_address()), None).await?;
    let e = session.buy(&rig.order, rig.tx, &rig.out, None).await;
    assert!(matches!(e, Err(Error::Closed { state: State::AwaitingData })), "{e:?}");
    let last = session.last_ack().ok_or_else(|| anyhow::anyhow!("no ACK signed"))?;
    drop(session);
    let first = first.await?;
    assert!(matches!(first, Err(Error::Io(_) | Error::Closed { .. })), "{first:?}");
    // The buyer verified and acknowledged the first chunks only; the seller holds at most that.
    assert!(last.received > 0 && last.received % CHUNK == 0 && last.received < rig.item.size);
    let held = rig.seller.acks().highest(rig.order.order_id).map_or(0, |a| a.received);
    assert!(held <= last.received);
    assert!(std::fs::metadata(&rig.out)?.len() >= last.received);

    let (a, b) = tokio::io::duplex(64 * 1024);
    let seller = rig.seller.clone();
    let second = tokio::spawn(async move { seller.serve(a).await });
    let mut session = rig.buyer.connect(b, Some(rig.seller_address()), Some(last)).await?;
    let bought = session.buy(&rig.order, rig.tx, &rig.out, None).await?;
    let served = second.await??;
    assert!(bought.complete);
    assert_eq!(served.start, last.received, "the seller continues from the buyer's last ACK");
    assert_eq!(served.sent, rig.item.size - last.received, "nothing before it is sent again");
    assert_settled(&rig, false)
}

#[tokio::test]
async fn a_buyer_dropped_mid_transfer_over_tcp_resumes_on_a_new_connection() -> anyhow::Result<()> {
    let rig = Rig::new(16 * CHUNK as usize, 1, seller_config()).await?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let seller = rig.seller.clone();
    let server = tokio::spawn(async move {
        let mut results = Vec::new();
        for _ in 0..2 {
            let (stream, _) = listener.accept().await?;
            results.push(seller.serve(stream).await);
        }
        anyhow::Ok(results)
    });
    let mut session = rig.buyer.connect(TcpStream::connect(addr).await?, None, None).await?;
    let mut progress = session.progress();
    tokio::select! {
        r = session.buy(&rig.order, rig.tx, &rig.out, None) => anyhow::bail!("finished before the cut: {r:?}"),
        p = progress.wait_for(|p| p.received >= 6 * CHUNK) => { p?; }
    }
    // The purchase's future is gone (a killed buyer); so is its connection.
    let last = session.last_ack().ok_or_else(|| anyhow::anyhow!("no ACK signed"))?;
    drop(session);
    let stream = TcpStream::connect(addr).await?;
    let mut session = rig.buyer.connect(stream, None, Some(last)).await?;
    let bought = session.buy(&rig.order, rig.tx, &rig.out, None).await?;
    let results = server.await??;
    assert!(results[0].is_err(), "the first connection ended with the buyer gone: {:?}", results[0]);
    let served = results[1].as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
    assert!(bought.complete && served.start == last.received);
    assert_settled(&rig, false)
}

#[tokio::test]
async fn the_seller_sends_nothing_before_the_escrow_is_deep_enough() -> anyhow::Result<()> {
    let rig = Rig::new(3 * CHUNK as usize, 0, seller_config()).await?;
    let (a, b) = tokio::io::duplex(1 << 20);
    let seller = rig.seller.clone();
    let served = tokio::spawn(async move { seller.serve(a).await });
    let mut raw = Raw::new(b);
    raw.start(&rig, None).await?;
    // The seller has asked twice and seen the escrow pending both times: nothing may have arrived.
    rig.book.asked(2).await;
    let early =
        tokio::select! { biased; f = raw.r.next(State::AwaitingData) => Some(f), () = std::future::ready(()) => None };
    assert!(early.is_none(), "a frame arrived before the escrow was confirmed: {early:?}");
    rig.book.set_confirmations(rig.order.order_id, rig.tx, 1);
    let (chunk, body) = raw.chunk().await?;
    assert_eq!((chunk.offset, body.len() as u64), (0, CHUNK));
    drop(raw);
    assert!(served.await?.is_err(), "the buyer left");
    Ok(())
}

#[tokio::test]
async fn an_escrow_that_never_confirms_ends_in_a_typed_refusal() -> anyhow::Result<()> {
    let mut config = seller_config();
    config.timeouts.escrow = std::time::Duration::from_millis(100);
    let rig = Rig::new(CHUNK as usize, 0, config).await?;
    let (a, b) = tokio::io::duplex(1 << 20);
    let seller = rig.seller.clone();
    let served = tokio::spawn(async move { seller.serve(a).await });
    let mut raw = Raw::new(b);
    raw.start(&rig, None).await?;
    assert_eq!(raw.error_code().await?, ErrorCode::OrderRefused);
    let e = served.await?;
    assert!(matches!(&e, Err(Error::EscrowNotConfirmed { reason, .. }) if reason.contains("0 of 1")), "{e:?}");
    Ok(())
}

#[tokio::test]
async fn a_silent_buyer_times_out_with_the_state_named() -> anyhow::Result<()> {
    let mut config = seller_config();
    config.timeouts.ack = std::time::Duration::from_millis(100);
    let rig = Rig::new(8 * CHUNK as usize, 1, config).await?;
    let (a, b) = tokio::io::duplex(1 << 20);
    let seller = rig.seller.clone();
    let served = tokio::spawn(async move { seller.serve(a).await });
    let mut raw = Raw::new(b);
    raw.start(&rig, None).await?;
    // The whole initial window arrives, then nothing until an ACK that never comes.
    let e = served.await?;
    assert!(matches!(e, Err(Error::Timeout { state: State::AwaitingAck, .. })), "{e:?}");
    let mut chunks = 0;
    loop {
        match raw.recv().await? {
            (Message::Data(_), _) => chunks += 1,
            (Message::Error(f), _) => {
                assert_eq!(f.code, ErrorCode::Timeout);
                break;
            }
            (other, _) => anyhow::bail!("unexpected {other:?}"),
        }
    }
    assert_eq!(chunks, 2, "the initial window is two chunks");
    Ok(())
}

#[tokio::test]
async fn a_buyer_that_stops_reading_is_given_up_and_its_order_can_be_resumed() -> anyhow::Result<()> {
    let mut config = seller_config();
    config.timeouts.ack = std::time::Duration::from_millis(200);
    let rig = Rig::new(8 * CHUNK as usize, 1, config).await?;
    // A pipe far smaller than the window: the seller's first chunk cannot be written whole while
    // the buyer does not read (a dead link whose buffers are full).
    let (a, b) = tokio::io::duplex(4 * 1024);
    let seller = rig.seller.clone();
    let served = tokio::spawn(async move { seller.serve(a).await });
    let mut raw = Raw::new(b);
    raw.start(&rig, None).await?;
    let e = served.await?;
    assert!(matches!(e, Err(Error::WriteStalled { .. })), "{e:?}");
    assert_eq!(e.as_ref().map_err(Error::code).err(), Some(ErrorCode::Timeout));

    // The order is free again: a new connection buys it whole.
    let (a, b) = tokio::io::duplex(64 * 1024);
    let seller = rig.seller.clone();
    let served = tokio::spawn(async move { seller.serve(a).await });
    let mut session = rig.buyer.connect(b, Some(rig.seller_address()), None).await?;
    let bought = session.buy(&rig.order, rig.tx, &rig.out, None).await?;
    assert!(bought.complete && served.await??.acked == rig.item.size);
    assert_settled(&rig, true)
}

#[tokio::test]
async fn the_buyer_stops_early_and_the_seller_holds_exactly_what_was_acknowledged() -> anyhow::Result<()> {
    let rig = Rig::new(10 * CHUNK as usize, 1, seller_config()).await?;
    let (a, b) = tokio::io::duplex(64 * 1024);
    let seller = rig.seller.clone();
    let served = tokio::spawn(async move { seller.serve(a).await });
    let mut session = rig.buyer.connect(b, Some(rig.seller_address()), None).await?;
    let bought = session.buy_until(&rig.order, rig.tx, &rig.out, rating(), Some(3 * CHUNK)).await?;
    let served = served.await??;
    assert!(!bought.complete);
    assert_eq!(bought.received, 3 * CHUNK);
    assert_eq!((served.reason, served.acked), (agora_datastream::message::ExitReason::Stopped, 3 * CHUNK));
    assert_eq!(served.buyer_rating, rating());
    assert_eq!(rig.seller.acks().highest(rig.order.order_id).map(|a| a.received), Some(3 * CHUNK));
    assert_eq!(std::fs::read(&rig.out)?, rig.content[..3 * CHUNK as usize]);
    Ok(())
}

#[tokio::test]
async fn a_buyer_gone_while_the_escrow_is_pending_ends_the_wait_at_once() -> anyhow::Result<()> {
    // The escrow timeout is 20 s; the seller must notice the buyer leave long before.
    let rig = Rig::new(CHUNK as usize, 0, seller_config()).await?;
    let (a, b) = tokio::io::duplex(1 << 20);
    let seller = rig.seller.clone();
    let served = tokio::spawn(async move { seller.serve(a).await });
    let mut raw = Raw::new(b);
    raw.start(&rig, None).await?;
    rig.book.asked(1).await;
    drop(raw);
    let e = served.await?;
    assert!(matches!(e, Err(Error::Closed { state: State::AwaitingEscrow })), "{e:?}");
    Ok(())
}

/// A seller restarted mid-order with its ACKs in the store: the order's highest ACK comes back, a
/// buyer that starts over is told to resume, and the resumed transfer sends only what is left.
#[tokio::test]
async fn a_restarted_seller_keeps_its_acks_in_the_store() -> anyhow::Result<()> {
    use std::sync::Arc;

    use agora_datastream::{Seller, StoreAcks};
    use agora_store::Store;
    use agora_store::testing::TestDb;

    use super::common::SELLER_KEY;

    let rig = Rig::new(12 * CHUNK as usize + 7, 1, seller_config()).await?;
    for db in TestDb::both().await? {
        let l = db.label;
        let out = rig.out.with_extension(l);
        let restarted = |store: Store| -> anyhow::Result<Arc<Seller<super::common::Table>>> {
            let k = key(SELLER_KEY);
            let seller =
                Seller::new(k.clone(), k.address(), MARKET, rig.catalogue.clone(), rig.book.clone(), seller_config())?;
            Ok(Arc::new(seller.with_ack_store(StoreAcks::new(store, MARKET, k.address()).shared())))
        };
        let seller = restarted(db.store.clone())?;
        let (a, b) = tokio::io::duplex(64 * 1024);
        let first = tokio::spawn({
            let seller = seller.clone();
            async move { seller.serve(a).await }
        });
        let cut = Cut { inner: b, left: 5 * CHUNK as usize + 5000 };
        let mut session = rig.buyer.connect(cut, Some(rig.seller_address()), None).await?;
        let e = session.buy(&rig.order, rig.tx, &out, None).await;
        assert!(matches!(e, Err(Error::Closed { .. })), "{l}: {e:?}");
        let last = session.last_ack().ok_or_else(|| anyhow::anyhow!("no ACK signed"))?;
        drop(session);
        let _ = first.await?;
        let held = seller.acks().highest(rig.order.order_id).map_or(0, |a| a.received);
        assert!(held > 0 && held <= last.received, "{l}: held {held}, last {}", last.received);
        drop(seller);

        // A new seller on a new connection to the same database: what was held comes back.
        let seller = restarted(Store::connect(&db.url).await?)?;
        let (a, b) = tokio::io::duplex(64 * 1024);
        let refused = tokio::spawn({
            let seller = seller.clone();
            async move { seller.serve(a).await }
        });
        let mut session = rig.buyer.connect(b, Some(rig.seller_address()), None).await?;
        let e = session.buy(&rig.order, rig.tx, &out.with_extension("over"), None).await;
        assert!(matches!(e, Err(Error::Peer { .. })), "{l}: starting over is refused: {e:?}");
        let refused = refused.await?;
        assert!(matches!(refused, Err(Error::ResumeRequired { acked, .. }) if acked == held), "{l}: {refused:?}");

        let (a, b) = tokio::io::duplex(64 * 1024);
        let second = tokio::spawn({
            let seller = seller.clone();
            async move { seller.serve(a).await }
        });
        let mut session = rig.buyer.connect(b, Some(rig.seller_address()), Some(last)).await?;
        let bought = session.buy(&rig.order, rig.tx, &out, None).await?;
        let served = second.await??;
        assert!(bought.complete, "{l}");
        assert_eq!(std::fs::read(&out)?, rig.content, "{l}");
        assert_eq!((served.start, served.sent), (last.received, rig.item.size - last.received), "{l}");
        let kept = db.store.data_ack(MARKET.chain_id, MARKET.address, rig.order.order_id).await?;
        let kept = kept.ok_or_else(|| anyhow::anyhow!("{l}: nothing kept"))?;
        assert_eq!(
            (kept.received, kept.seller, kept.total_bytes),
            (rig.item.size, key(SELLER_KEY).address(), rig.item.size)
        );
        assert_eq!(
            MARKET.recover_ack(rig.order.order_id, kept.received, &kept.signature.0)?,
            key(SESSION_KEY).address()
        );
        db.finish().await?;
    }
    Ok(())
}

/// Accepts `n` connections on `listener` as the node's seller does (TCP or WebSocket, decided by
/// the first byte) and serves each.
fn serve_on(rig: &Rig, listener: TcpListener) -> tokio::task::JoinHandle<anyhow::Result<Served>> {
    let seller = rig.seller.clone();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await?;
        let stream = transport::accept(stream, Limits::default(), Duration::from_secs(5)).await?;
        Ok(seller.serve(stream).await?)
    })
}

#[tokio::test]
async fn a_whole_purchase_over_a_websocket_on_the_sellers_port() -> anyhow::Result<()> {
    let rig = Rig::new(12 * CHUNK as usize + 7, 1, seller_config()).await?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let served = serve_on(&rig, listener);
    let stream = transport::connect(&format!("ws://{addr}/"), Limits::default()).await?;
    assert!(matches!(stream, transport::Stream::WebSocket(_)));
    let mut session = rig.buyer.connect(stream, Some(rig.seller_address()), None).await?;
    let bought = session.buy(&rig.order, rig.tx, &rig.out, rating()).await?;
    let served = served.await??;
    assert!(bought.complete);
    assert_eq!((served.start, served.sent, served.acked), (0, rig.item.size, rig.item.size));
    assert_eq!(served.buyer_rating, rating());
    assert_settled(&rig, true)
}

#[tokio::test]
async fn each_websocket_message_carries_exactly_one_frame() -> anyhow::Result<()> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message as Ws;

    let rig = Rig::new(3 * CHUNK as usize, 1, seller_config()).await?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let served = serve_on(&rig, listener);
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let (mut ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/"), tcp).await?;

    // The browser's way: one frame per binary message, read back one frame per message.
    let mut frames = Vec::new();
    let raw_key = key(super::common::BUYER_KEY);
    let hello = super::common::hello(&rig, &raw_key);
    FrameWriter::new(&mut frames, Limits::default()).send(&hello.encode(&raw_key)?, &[]).await?;
    ws.send(Ws::Binary(frames.into())).await?;
    let Some(Ok(Ws::Binary(reply))) = ws.next().await else { anyhow::bail!("no binary reply") };
    let length = u32::from_be_bytes(reply[..4].try_into()?) as usize;
    assert_eq!(reply.len(), 4 + length, "the message is one whole frame");
    let frame = FrameReader::new(&reply[..], Limits::default()).next(State::AwaitingMenu).await?;
    let signed = Message::decode(frame.header(), frame.body())?;
    assert!(matches!(signed.message, Message::Menu(_)), "the hello is answered with the menu");

    // A text message is not a frame: the connection ends and the seller reports it closed.
    ws.send(Ws::Text("{\"message_type\":\"order\"}".into())).await?;
    let err = served.await?.expect_err("a text message ends the session");
    assert!(
        matches!(err.downcast_ref::<Error>(), Some(Error::Closed { .. })),
        "a text message closes the connection: {err}"
    );
    Ok(())
}
