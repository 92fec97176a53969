//! The root CID of a file exactly as `ipfs add --cid-version=1 --raw-leaves` (and the npm
//! `ipfs-unixfs-importer` with `{cidVersion: 1, rawLeaves: true, reduceSingleLeafToSelf: true}`,
//! fixed 262144-byte chunks and the balanced layout of at most 174 links per node) computes it.
//!
//! - The content is cut into chunks of [`CHUNK_SIZE`] bytes (the last one shorter); empty content
//!   is one empty chunk. Each chunk is a `raw` block.
//! - One chunk: the file's CID is that chunk's `raw` CID.
//! - More: chunks are grouped in runs of [`MAX_LINKS`], each run becomes a dag-pb node, and the
//!   nodes are grouped the same way, level by level, until one node is left: the root.
//!
//! A dag-pb node is encoded Links first (field 2), then Data (field 1). Each link is
//! `Hash` (binary CID), `Name` (present, empty) and `Tsize` (the child's block plus everything
//! under it). Data is a UnixFS message: `Type = File`, `filesize` (bytes under the node) and one
//! `blocksizes` entry per child (the file bytes under that child).
//!
//! [`CidBuilder`] does this while the bytes stream past: it keeps the running hash of the current
//! chunk and at most 173 pending nodes per level, never the content.

use sha2::{Digest, Sha256};

use crate::cid::{Cid, Codec};

/// Kubo's default fixed-size chunk (`size-262144`).
pub const CHUNK_SIZE: usize = 262_144;
/// Most links per node in the balanced layout (Kubo's and the importer's default).
pub const MAX_LINKS: usize = 174;

/// The root CID of `content`.
pub fn cid_of(content: &[u8]) -> Cid {
    let mut builder = CidBuilder::new();
    builder.update(content);
    builder.finish()
}

/// Computes a file's root CID incrementally; feed it with [`update`](Self::update) in any pieces.
#[derive(Clone)]
pub struct CidBuilder {
    chunk: Sha256,
    chunk_len: usize,
    chunks: u64,
    len: u64,
    /// `levels[0]`: chunks not yet under a node; `levels[n]`: nodes of height n not yet under one.
    levels: Vec<Vec<Node>>,
}

/// A block of the DAG as its parent sees it.
#[derive(Clone, Copy)]
struct Node {
    cid: Cid,
    /// File bytes under this block (its parent's `blocksizes` entry).
    file_size: u64,
    /// This block plus all blocks under it (its parent's link `Tsize`).
    tree_size: u64,
}

impl Default for CidBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl CidBuilder {
    /// A builder that has been fed nothing (finishing it gives the empty file's CID).
    pub fn new() -> Self {
        Self { chunk: Sha256::new(), chunk_len: 0, chunks: 0, len: 0, levels: Vec::new() }
    }

    /// Bytes fed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing has been fed yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Feeds the next bytes of the file; how they are split across calls does not change the CID.
    pub fn update(&mut self, mut data: &[u8]) {
        self.len += data.len() as u64;
        while !data.is_empty() {
            let take = (CHUNK_SIZE - self.chunk_len).min(data.len());
            let (head, rest) = data.split_at(take);
            self.chunk.update(head);
            self.chunk_len += take;
            data = rest;
            if self.chunk_len == CHUNK_SIZE {
                self.end_chunk();
            }
        }
    }

    /// The root CID of everything fed.
    pub fn finish(mut self) -> Cid {
        // The chunker emits the remainder, or one empty chunk when there was nothing at all.
        if self.chunk_len > 0 || self.chunks == 0 {
            self.end_chunk();
        }
        // Full runs were already folded into parents; fold what is left, bottom up. A level that
        // holds the only pending node is the top: that node is the root (a lone chunk stays raw,
        // as `reduceSingleLeafToSelf` does).
        let mut level = 0;
        loop {
            let nodes = std::mem::take(&mut self.levels[level]);
            let top = self.levels.iter().skip(level + 1).all(Vec::is_empty);
            match nodes.as_slice() {
                [only] if top => return only.cid,
                [] => {}
                _ => self.push(level + 1, parent(&nodes)),
            }
            level += 1;
        }
    }

    fn end_chunk(&mut self) {
        let digest = self.chunk.finalize_reset().into();
        let size = self.chunk_len as u64;
        self.chunk_len = 0;
        self.chunks += 1;
        self.push(0, Node { cid: Cid::from_digest(Codec::Raw, digest), file_size: size, tree_size: size });
    }

    fn push(&mut self, level: usize, node: Node) {
        if self.levels.len() == level {
            self.levels.push(Vec::with_capacity(MAX_LINKS));
        }
        self.levels[level].push(node);
        if self.levels[level].len() == MAX_LINKS {
            let run = std::mem::take(&mut self.levels[level]);
            self.push(level + 1, parent(&run));
        }
    }
}

/// The dag-pb UnixFS file node over `children`.
fn parent(children: &[Node]) -> Node {
    let file_size: u64 = children.iter().map(|c| c.file_size).sum();

    // UnixFS Data: Type (1) = File (2), filesize (3), blocksizes (4, repeated, not packed).
    let mut data = vec![0x08, 0x02, 0x18];
    put_varint(&mut data, file_size);
    for child in children {
        data.push(0x20);
        put_varint(&mut data, child.file_size);
    }

    // PBNode: Links (2) first, then Data (1). PBLink: Hash (1), Name (2) = "", Tsize (3).
    let mut block = Vec::with_capacity(children.len() * 48 + data.len() + 8);
    let mut link = Vec::with_capacity(48);
    for child in children {
        link.clear();
        let cid = child.cid.to_bytes();
        link.push(0x0a);
        put_varint(&mut link, cid.len() as u64);
        link.extend_from_slice(&cid);
        link.extend_from_slice(&[0x12, 0x00, 0x18]);
        put_varint(&mut link, child.tree_size);
        block.push(0x12);
        put_varint(&mut block, link.len() as u64);
        block.extend_from_slice(&link);
    }
    block.push(0x0a);
    put_varint(&mut block, data.len() as u64);
    block.extend_from_slice(&data);

    let tree_size = block.len() as u64 + children.iter().map(|c| c.tree_size).sum::<u64>();
    Node { cid: Cid::of_block(Codec::DagPb, &block), file_size, tree_size }
}

/// Unsigned LEB128, as protobuf and multiformats write integers.
fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_matches_protobuf() {
        let mut out = Vec::new();
        put_varint(&mut out, 300);
        assert_eq!(out, [0xac, 0x02]);
    }

    #[test]
    fn pieces_do_not_change_the_cid() {
        let content: Vec<u8> = (0..(CHUNK_SIZE * 2 + 17)).map(|i| (i * 31 % 251) as u8).collect();
        let whole = cid_of(&content);
        let mut builder = CidBuilder::new();
        for piece in content.chunks(100_003) {
            builder.update(piece);
        }
        assert_eq!(builder.len(), content.len() as u64);
        assert_eq!(builder.finish(), whole);
        assert_eq!(whole.codec(), Codec::DagPb);
    }

    #[test]
    fn one_chunk_is_a_raw_block() {
        let content = vec![7u8; CHUNK_SIZE];
        assert_eq!(cid_of(&content), Cid::of_block(Codec::Raw, &content));
    }
}
