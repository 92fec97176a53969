//! A task's result as iExec workers publish it, and its digest.
//!
//! An iExec app writes its output into `/iexec_out` with a `computed.json` naming the
//! deterministic part (`{"deterministic-output-path": "/iexec_out/<file>"}`); the worker zips
//! that folder, uploads the zip and puts `{"storage":"ipfs","location":"/ipfs/<cid>"}` on chain,
//! which `iexec task show --download` fetches and unpacks.
//!
//! The result digest the worker contributes is iExec's "web2" digest: the SHA-256 of the
//! deterministic output file (for a folder, the keccak256 of its files' SHA-256s in name order;
//! Agora's apps write one file). iExec's TEE post-compute computes the same digest before the
//! enclave signs it, so one digest serves TEE-tagged and plain deals. Like iExec, an empty output
//! has no digest: the task cannot be contributed. Deals with a callback contract (whose digest is
//! the keccak256 of callback data) are not served.
//!
//! The archive is deterministic (fixed timestamps and order), so running a task again after a
//! crash gives the same bytes, the same CID and the same digest.

use std::io::{Read, Write};

use alloy::primitives::B256;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// The folder iExec apps write into; paths in `computed.json` are under it.
pub(crate) const OUT_DIR: &str = "/iexec_out";

/// `computed.json` as iExec apps write it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Computed {
    /// The output file's absolute path as the app saw it, under `/iexec_out` (e.g.
    /// `/iexec_out/result.txt`); the result digest is computed over that file.
    #[serde(rename = "deterministic-output-path")]
    pub deterministic_output_path: String,
}

/// A result ready to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResultArchive {
    /// The zip: the output file and `computed.json`.
    pub(crate) zip: Bytes,
    /// The output file's name in the archive (`result.json`, `result.txt`, `result.mp4`, …).
    pub(crate) file_name: String,
    /// iExec's result digest: the SHA-256 of the output.
    pub(crate) digest: B256,
}

/// The output's file name, by what the bytes are: JSON, text, MP4, PNG, else binary.
pub(crate) fn output_file_name(output: &[u8]) -> &'static str {
    if output.len() >= 12 && &output[4..8] == b"ftyp" {
        "result.mp4"
    } else if output.starts_with(b"\x89PNG\r\n\x1a\n") {
        "result.png"
    } else if serde_json::from_slice::<serde::de::IgnoredAny>(output).is_ok() {
        "result.json"
    } else if std::str::from_utf8(output).is_ok() {
        "result.txt"
    } else {
        "result.bin"
    }
}

/// iExec's web2 result digest of a single output file.
pub(crate) fn result_digest(output: &[u8]) -> Result<B256> {
    if output.is_empty() {
        return Err(Error::Invalid("the app's output is empty: iExec has no result digest for an empty file".into()));
    }
    Ok(B256::from_slice(&Sha256::digest(output)))
}

/// Builds the result archive for `output`.
pub(crate) fn build(output: &[u8]) -> Result<ResultArchive> {
    let digest = result_digest(output)?;
    let file_name = output_file_name(output).to_owned();
    let computed = Computed { deterministic_output_path: format!("{OUT_DIR}/{file_name}") };
    let zip_err = |e: zip::result::ZipError| Error::Zip(e.to_string());
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        // A fixed timestamp (the zip epoch) and permissions: the same output, the same archive.
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(0o644);
        z.start_file(file_name.as_str(), options).map_err(zip_err)?;
        z.write_all(output)?;
        z.start_file("computed.json", options).map_err(zip_err)?;
        z.write_all(&serde_json::to_vec(&computed)?)?;
        z.finish().map_err(zip_err)?;
    }
    Ok(ResultArchive { zip: Bytes::from(buf.into_inner()), file_name, digest })
}

/// Reads a result archive, as the workerpool writes it or any iExec worker does: its
/// `computed.json` and the deterministic output file it names (under `/iexec_out`). Everything
/// wrong with the archive is [`Error::Zip`] with a sentence saying what.
pub fn read(zip_bytes: &[u8]) -> Result<(Computed, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes))
        .map_err(|e| Error::Zip(format!("the result is not a zip: {e}")))?;
    let computed: Computed = serde_json::from_slice(&entry(&mut zip, "computed.json")?)
        .map_err(|e| Error::Zip(format!("computed.json names no deterministic-output-path: {e}")))?;
    let path = &computed.deterministic_output_path;
    let name = path.strip_prefix(OUT_DIR).unwrap_or(path).trim_start_matches('/');
    if name.is_empty() || name.ends_with('/') {
        return Err(Error::Zip(format!("the deterministic output {path} is a directory; Agora expects one file")));
    }
    let output = entry(&mut zip, name)?;
    Ok((computed, output))
}

/// One file of the archive, whole.
fn entry(zip: &mut zip::ZipArchive<std::io::Cursor<&[u8]>>, name: &str) -> Result<Vec<u8>> {
    let mut file = zip.by_name(name).map_err(|e| Error::Zip(format!("the result archive has no {name}: {e}")))?;
    let mut out = Vec::new();
    file.read_to_end(&mut out).map_err(|e| Error::Zip(format!("the result archive's {name}: {e}")))?;
    Ok(out)
}

/// The `results` a worker puts on chain for a result stored under `cid`.
pub(crate) fn results_json(cid: &agora_content::Cid) -> String {
    serde_json::json!({ "storage": "ipfs", "location": format!("/ipfs/{cid}") }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_round_trips_and_is_deterministic() {
        let out = br#"{"lines":1,"words":6,"bytes":18}"#;
        let a = build(out).unwrap();
        assert_eq!(a.file_name, "result.json");
        assert_eq!(a, build(out).unwrap());
        let (computed, back) = read(&a.zip).unwrap();
        assert_eq!(computed.deterministic_output_path, "/iexec_out/result.json");
        assert_eq!(back, out);
        assert_eq!(format!("{:#x}", a.digest), "0x".to_owned() + &alloy::primitives::hex::encode(Sha256::digest(out)));
        let raw: serde_json::Value = {
            let mut z = zip::ZipArchive::new(std::io::Cursor::new(&a.zip[..])).unwrap();
            let mut s = String::new();
            z.by_name("computed.json").unwrap().read_to_string(&mut s).unwrap();
            serde_json::from_str(&s).unwrap()
        };
        assert_eq!(raw, serde_json::json!({"deterministic-output-path": "/iexec_out/result.json"}));
    }

    fn archive(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, bytes) in entries {
            zip.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn other_workers_archives_are_read_and_bad_ones_refused() {
        let zip = archive(&[
            ("computed.json", br#"{"deterministic-output-path":"/iexec_out/out/words.txt"}"#),
            ("out/words.txt", b"{\"words\":2}\n"),
        ]);
        assert_eq!(read(&zip).unwrap().1, b"{\"words\":2}\n");
        let message = |zip: &[u8]| read(zip).expect_err("refused").to_string();
        assert!(message(&archive(&[("result.txt", b"x")])).contains("no computed.json"));
        let dir = archive(&[("computed.json", br#"{"deterministic-output-path":"/iexec_out/"}"#)]);
        assert!(message(&dir).contains("is a directory"));
        let missing = archive(&[("computed.json", br#"{"deterministic-output-path":"/iexec_out/a.txt"}"#)]);
        assert!(message(&missing).contains("no a.txt"));
        assert!(message(&archive(&[("computed.json", b"{}")])).contains("deterministic-output-path"));
        assert!(message(b"not a zip").contains("not a zip"));
    }

    #[test]
    fn names_and_empty_output() {
        assert_eq!(output_file_name(b"to be or not"), "result.txt");
        assert_eq!(output_file_name(b"\x00\x00\x00\x18ftypisom\x00\x00"), "result.mp4");
        assert_eq!(output_file_name(&[0xff, 0xfe, 0x00]), "result.bin");
        assert!(build(b"").is_err());
    }

    #[test]
    fn results_are_the_sdks_json() {
        let cid = agora_content::cid_of(b"x");
        let v: serde_json::Value = serde_json::from_str(&results_json(&cid)).unwrap();
        assert_eq!(v["storage"], "ipfs");
        assert_eq!(v["location"], format!("/ipfs/{cid}"));
    }
}
