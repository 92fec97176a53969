//! Length-prefixed frames over any byte stream.
//!
//! ```text
//! frame  = length:u32be  header_length:u32be  header  body
//! length = 4 + header_length + body's length   (the bytes after the length field)
//! ```
//!
//! The header is the message envelope (UTF-8 JSON); the body is raw bytes, present only in `data`
//! frames. A frame longer than [`Limits::max_frame`], or with a header longer than
//! [`Limits::max_header`], is refused from its first eight bytes, before anything is allocated
//! for it.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::{Error, Result, State};

/// How large frames may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes after a frame's length field (header, body and the header's length).
    pub max_frame: u32,
    /// The most bytes of a frame's header (the envelope's JSON).
    pub max_header: u32,
}

impl Default for Limits {
    /// 8 MiB of body (a chunk of up to 8 MiB) plus 256 KiB of header.
    fn default() -> Self {
        Self { max_frame: 8 * 1024 * 1024 + 256 * 1024, max_header: 256 * 1024 }
    }
}

impl Limits {
    /// The largest body a frame can carry with a header of up to 4 KiB (a `data` header is well
    /// under 1 KiB): the largest chunk size these limits allow.
    pub fn max_chunk(&self) -> u64 {
        u64::from(self.max_frame).saturating_sub(4 + 4096)
    }
}

/// One received frame: its bytes, split into the header and the body.
#[derive(Debug)]
pub struct Frame {
    bytes: Vec<u8>,
    header_len: usize,
}

impl Frame {
    /// The header (the envelope's JSON bytes).
    pub fn header(&self) -> &[u8] {
        &self.bytes[8..8 + self.header_len]
    }

    /// The body (a chunk's raw bytes; empty for every other message).
    pub fn body(&self) -> &[u8] {
        &self.bytes[8 + self.header_len..]
    }

    /// The body, mutable (for tests that tamper with a chunk in flight).
    pub fn body_mut(&mut self) -> &mut [u8] {
        let start = 8 + self.header_len;
        &mut self.bytes[start..]
    }
}

/// Reads frames. Cancel-safe: bytes read stay in the reader's buffer, so a `next` dropped in a
/// `select!` loses nothing and the next call continues where it stopped.
#[derive(Debug)]
pub struct FrameReader<R> {
    inner: R,
    limits: Limits,
    buf: Vec<u8>,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// A reader over `inner`.
    pub fn new(inner: R, limits: Limits) -> Self {
        Self { inner, limits, buf: Vec::new() }
    }

    /// The next frame; [`Error::Closed`] (naming `state`) when the stream ends between frames.
    pub async fn next(&mut self, state: State) -> Result<Frame> {
        loop {
            if let Some(frame) = self.take_frame()? {
                return Ok(frame);
            }
            let want = self.wanted();
            self.buf.reserve(want);
            let n = self.inner.read_buf(&mut self.buf).await?;
            if n == 0 {
                // Inside a frame or between frames, the peer (or the network) is gone.
                return Err(Error::Closed { state });
            }
        }
    }

    /// How many more bytes to make room for: the rest of the current frame when its length is
    /// known (so a whole chunk arrives in as few reads as the stream allows), else a little.
    fn wanted(&self) -> usize {
        match self.announced() {
            Some(len) => (len + 4).saturating_sub(self.buf.len()).max(1),
            None => 8 * 1024,
        }
    }

    fn announced(&self) -> Option<usize> {
        let head: [u8; 4] = self.buf.get(..4)?.try_into().ok()?;
        Some(u32::from_be_bytes(head) as usize)
    }

    /// Splits a whole frame off the buffer, once its length is checked.
    fn take_frame(&mut self) -> Result<Option<Frame>> {
        let Some(len) = self.announced() else { return Ok(None) };
        if len > self.limits.max_frame as usize {
            return Err(Error::FrameTooLarge { len: len as u64, max: self.limits.max_frame });
        }
        if len < 4 {
            return Err(Error::MalformedFrame(format!("frame length {len} cannot hold a header length")));
        }
        if self.buf.len() >= 8 {
            let header_len = u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]) as usize;
            if header_len > self.limits.max_header as usize {
                return Err(Error::FrameTooLarge { len: header_len as u64, max: self.limits.max_header });
            }
            if header_len > len - 4 {
                return Err(Error::MalformedFrame(format!(
                    "header length {header_len} runs past the frame's {len} bytes"
                )));
            }
            if header_len == 0 {
                return Err(Error::MalformedFrame("empty header".into()));
            }
        }
        if self.buf.len() < len + 4 {
            return Ok(None);
        }
        let rest = self.buf.split_off(len + 4);
        let bytes = std::mem::replace(&mut self.buf, rest);
        let header_len = u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
        Ok(Some(Frame { bytes, header_len }))
    }
}

/// Writes frames.
#[derive(Debug)]
pub struct FrameWriter<W> {
    inner: W,
    limits: Limits,
    head: Vec<u8>,
}

impl<W: AsyncWrite + Unpin> FrameWriter<W> {
    /// A writer over `inner`.
    pub fn new(inner: W, limits: Limits) -> Self {
        Self { inner, limits, head: Vec::new() }
    }

    /// Writes one frame and flushes it. A frame the limits refuse is never sent.
    pub async fn send(&mut self, header: &[u8], body: &[u8]) -> Result<()> {
        let len = 4 + header.len() as u64 + body.len() as u64;
        if header.len() as u64 > u64::from(self.limits.max_header) {
            return Err(Error::FrameTooLarge { len: header.len() as u64, max: self.limits.max_header });
        }
        if len > u64::from(self.limits.max_frame) {
            return Err(Error::FrameTooLarge { len, max: self.limits.max_frame });
        }
        self.head.clear();
        // Both fit in u32: checked against the u32 limits above.
        self.head.extend_from_slice(&(len as u32).to_be_bytes());
        self.head.extend_from_slice(&(header.len() as u32).to_be_bytes());
        self.head.extend_from_slice(header);
        self.inner.write_all(&self.head).await?;
        if !body.is_empty() {
            self.inner.write_all(body).await?;
        }
        self.inner.flush().await?;
        Ok(())
    }

    /// Writes raw bytes as they are (tests that send what no honest peer would).
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.inner.write_all(bytes).await?;
        self.inner.flush().await?;
        Ok(())
    }

    /// Shuts the stream's write side down.
    pub async fn shutdown(&mut self) -> Result<()> {
        self.inner.shutdown().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits { max_frame: 1024, max_header: 256 }
    }

    #[tokio::test]
    async fn frames_round_trip_across_arbitrary_splits() -> Result<()> {
        let (a, b) = tokio::io::duplex(7);
        let mut w = FrameWriter::new(a, limits());
        let mut r = FrameReader::new(b, limits());
        let writer = tokio::spawn(async move {
            w.send(b"{\"a\":1}", b"body bytes").await?;
            w.send(b"{}", b"").await?;
            Ok::<_, Error>(())
        });
        let f = r.next(State::AwaitingData).await?;
        assert_eq!((f.header(), f.body()), (&b"{\"a\":1}"[..], &b"body bytes"[..]));
        let f = r.next(State::AwaitingData).await?;
        assert_eq!((f.header(), f.body()), (&b"{}"[..], &b""[..]));
        writer.await.map_err(|e| Error::Io(std::io::Error::other(e)))??;
        assert!(matches!(r.next(State::AwaitingExit).await, Err(Error::Closed { state: State::AwaitingExit })));
        Ok(())
    }

    async fn read_raw(bytes: &[u8]) -> Result<Frame> {
        let mut r = FrameReader::new(bytes, limits());
        r.next(State::AwaitingHello).await
    }

    #[tokio::test]
    async fn oversized_and_malformed_frames_are_typed_errors() {
        // Announces 4 GiB: refused from the first four bytes.
        let e = read_raw(&[0xff, 0xff, 0xff, 0xff]).await;
        assert!(matches!(e, Err(Error::FrameTooLarge { len: 0xffff_ffff, max: 1024 })), "{e:?}");
        // A header longer than max_header.
        let e = read_raw(&[0, 0, 2, 0, 0, 0, 1, 1]).await;
        assert!(matches!(e, Err(Error::FrameTooLarge { len: 257, max: 256 })), "{e:?}");
        // Too short to hold a header length.
        let e = read_raw(&[0, 0, 0, 2, 0, 0]).await;
        assert!(matches!(e, Err(Error::MalformedFrame(_))), "{e:?}");
        // Header length past the frame.
        let e = read_raw(&[0, 0, 0, 6, 0, 0, 0, 9, b'{', b'}']).await;
        assert!(matches!(e, Err(Error::MalformedFrame(_))), "{e:?}");
        // Stream ends inside a frame: the connection is gone.
        let e = read_raw(&[0, 0, 0, 9, 0, 0, 0, 2, b'{']).await;
        assert!(matches!(e, Err(Error::Closed { .. })), "{e:?}");
    }

    #[tokio::test]
    async fn the_writer_refuses_what_the_reader_would() {
        let mut w = FrameWriter::new(Vec::new(), limits());
        assert!(matches!(w.send(b"{}", &[0u8; 1024]).await, Err(Error::FrameTooLarge { .. })));
        assert!(matches!(w.send(&[b' '; 257], b"").await, Err(Error::FrameTooLarge { len: 257, max: 256 })));
        assert!(w.inner.is_empty(), "nothing was written");
    }
}
