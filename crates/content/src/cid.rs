//! CIDv1 with a sha2-256 multihash, written as base32 lower-case multibase (`b…`), the form Kubo
//! prints for `--cid-version=1`. Only the two codecs an `ipfs add --raw-leaves` file can have are
//! accepted: `raw` (one chunk) and `dag-pb` (a UnixFS file node over several chunks).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::Error;

/// Multicodec of a block holding the bytes themselves.
const RAW: u8 = 0x55;
/// Multicodec of a protobuf (dag-pb) node.
const DAG_PB: u8 = 0x70;
/// Multihash code of sha2-256, and its digest length.
const SHA2_256: u8 = 0x12;
const DIGEST_LEN: usize = 32;
/// Version, codec, hash code, digest length (each one varint byte), then the digest.
const BYTES_LEN: usize = 4 + DIGEST_LEN;
/// `b` and the base32 of the 36 bytes (288 bits → 58 characters, the last with 2 zero bits).
const STRING_LEN: usize = 1 + (BYTES_LEN * 8).div_ceil(5);

const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// What a CID's block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// The block is the content (a file of at most one chunk, or one chunk of a larger file).
    Raw,
    /// The block is a dag-pb node whose UnixFS data describes a file built from linked chunks.
    DagPb,
}

impl Codec {
    fn code(self) -> u8 {
        match self {
            Codec::Raw => RAW,
            Codec::DagPb => DAG_PB,
        }
    }
}

/// A content identifier: CIDv1, codec `raw` or `dag-pb`, sha2-256. Parse one with
/// [`str::parse`]; its [`Display`](fmt::Display) is the canonical `b…` string.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cid {
    codec: Codec,
    digest: [u8; DIGEST_LEN],
}

impl Cid {
    /// The CID of `block` stored under `codec`.
    pub fn of_block(codec: Codec, block: &[u8]) -> Self {
        Self { codec, digest: Sha256::digest(block).into() }
    }

    pub(crate) fn from_digest(codec: Codec, digest: [u8; DIGEST_LEN]) -> Self {
        Self { codec, digest }
    }

    /// Whether `input` is written as a CID — one word starting `baf` (CIDv1, base32) or `Qm`
    /// (CIDv0) — whether or not it is a valid one. Inputs that may be either a CID or text use it
    /// to choose: an input that looks like a CID is parsed as one (and refused when it does not
    /// parse), anything else is text.
    pub fn looks_like(input: &str) -> bool {
        let word = input.trim();
        (word.starts_with("baf") || word.starts_with("Qm")) && word.bytes().all(|b| b.is_ascii_alphanumeric())
    }

    /// Whether the root block is the content itself or a node linking its chunks.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// The sha2-256 digest of the root block.
    pub fn digest(&self) -> &[u8; DIGEST_LEN] {
        &self.digest
    }

    /// The binary CID (what dag-pb links hold): `0x01`, codec, `0x12 0x20`, digest.
    pub fn to_bytes(&self) -> [u8; BYTES_LEN] {
        let mut out = [0u8; BYTES_LEN];
        out[..4].copy_from_slice(&[1, self.codec.code(), SHA2_256, DIGEST_LEN as u8]);
        out[4..].copy_from_slice(&self.digest);
        out
    }

    /// Reads a binary CID (the inverse of [`Cid::to_bytes`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, &'static str> {
        let [version, codec, hash, len, digest @ ..] = bytes else {
            return Err("too short for a CIDv1");
        };
        if *version == 0x12 && *codec == 0x20 {
            return Err("CIDv0 (Qm…) is not supported; use CIDv1");
        }
        if *version != 1 {
            return Err("not a CIDv1");
        }
        let codec = match *codec {
            RAW => Codec::Raw,
            DAG_PB => Codec::DagPb,
            _ => return Err("codec is neither raw (0x55) nor dag-pb (0x70)"),
        };
        if *hash != SHA2_256 || usize::from(*len) != DIGEST_LEN {
            return Err("multihash is not sha2-256");
        }
        let digest: [u8; DIGEST_LEN] = digest.try_into().map_err(|_| "digest length does not match its multihash")?;
        Ok(Self { codec, digest })
    }
}

impl fmt::Display for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::with_capacity(STRING_LEN);
        out.push('b');
        let mut acc: u16 = 0;
        let mut bits = 0;
        for byte in self.to_bytes() {
            acc = (acc << 8) | u16::from(byte);
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                out.push(char::from(BASE32[usize::from((acc >> bits) & 31)]));
            }
        }
        if bits > 0 {
            out.push(char::from(BASE32[usize::from((acc << (5 - bits)) & 31)]));
        }
        f.write_str(&out)
    }
}

impl fmt::Debug for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cid({self})")
    }
}

impl FromStr for Cid {
    type Err = Error;

    fn from_str(input: &str) -> Result<Self, Error> {
        let invalid = |reason: &'static str| Error::InvalidCid { input: shorten(input), reason };
        let Some(encoded) = input.strip_prefix('b') else {
            if input.starts_with("Qm") {
                return Err(invalid("CIDv0 (Qm…) is not supported; use CIDv1 (b…)"));
            }
            return Err(invalid("not base32 lower-case multibase (must start with 'b')"));
        };
        if input.len() != STRING_LEN {
            return Err(invalid("wrong length for a sha2-256 CIDv1 in base32"));
        }
        let mut bytes = Vec::with_capacity(BYTES_LEN);
        let mut acc: u16 = 0;
        let mut bits = 0;
        for c in encoded.bytes() {
            let value = match c {
                b'a'..=b'z' => c - b'a',
                b'2'..=b'7' => c - b'2' + 26,
                _ => return Err(invalid("character outside the base32 lower-case alphabet")),
            };
            acc = (acc << 5) | u16::from(value);
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                bytes.push((acc >> bits) as u8);
                acc &= (1 << bits) - 1;
            }
        }
        if acc != 0 {
            return Err(invalid("non-zero padding bits (not a canonical base32 string)"));
        }
        Cid::from_bytes(&bytes).map_err(invalid)
    }
}

/// Keeps error messages short when the input is something huge.
fn shorten(input: &str) -> String {
    const MAX: usize = 80;
    match input.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &input[..end]),
        None => input.to_owned(),
    }
}

impl Serialize for Cid {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_raw_block_has_the_well_known_cid() {
        let cid = Cid::of_block(Codec::Raw, b"");
        assert_eq!(cid.to_string(), "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
        assert_eq!(cid.to_string().parse::<Cid>().unwrap(), cid);
    }

    #[test]
    fn round_trips_dag_pb() {
        let cid = Cid::of_block(Codec::DagPb, b"node");
        let s = cid.to_string();
        assert!(s.starts_with("bafybei"), "{s}");
        assert_eq!(s.parse::<Cid>().unwrap(), cid);
        assert_eq!(Cid::from_bytes(&cid.to_bytes()).unwrap(), cid);
    }

    #[test]
    fn inputs_meant_as_cids_are_told_from_text() {
        let cid = Cid::of_block(Codec::Raw, b"x").to_string();
        assert!(Cid::looks_like(&cid));
        assert!(Cid::looks_like(&format!("  {cid}\n")));
        assert!(Cid::looks_like("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"));
        assert!(Cid::looks_like("bafkreimistyped"), "a mistyped CID is still meant as one");
        assert!(!Cid::looks_like("to be or not to be"));
        assert!(!Cid::looks_like("baffled by the question"));
        assert!(!Cid::looks_like(""));
    }

    #[test]
    fn rejects_non_canonical_padding() {
        let s = Cid::of_block(Codec::Raw, b"x").to_string();
        // The last character carries 3 data bits and 2 padding bits; set a padding bit.
        let last = s.as_bytes()[s.len() - 1];
        let value = BASE32.iter().position(|&c| c == last).unwrap() as u8;
        let tweaked = format!("{}{}", &s[..s.len() - 1], char::from(BASE32[usize::from(value | 1)]));
        assert_eq!(value & 3, 0, "a canonical string ends in two zero bits");
        assert!(matches!(tweaked.parse::<Cid>(), Err(Error::InvalidCid { .. })));
    }
}
