//! The content store from the outside: CIDs equal to those of the npm `ipfs-unixfs-importer` (the
//! JavaScript implementation of `ipfs add`), the local store on disk, and the Kubo backend against
//! a small in-test server speaking Kubo's RPC shapes (no Kubo binary is available to the tests), and
//! the gateway reader against a small HTTP file server.

// Tests print the figures they measure.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use agora_content::{
    AnyStore, CHUNK_SIZE, Cid, CidBuilder, Codec, ContentConfig, ContentStore, Error, Gateway, KuboStore, LocalStore,
    MAX_LINKS, cid_of,
};
use anyhow::{Context, Result, ensure};

/// Deterministic pseudo-random bytes (splitmix64), so every run hashes the same content.
fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The root CID `ipfs-unixfs-importer` gives the file at `path` (see `importer-cid.mjs`).
fn importer_cid(path: &Path) -> Result<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/importer-cid.mjs");
    let output = Command::new("node")
        .arg(&script)
        .arg(path)
        .output()
        .context("running node (the importer comparison needs node and `npm install` at the repository root)")?;
    ensure!(output.status.success(), "importer failed: {}", String::from_utf8_lossy(&output.stderr));
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

/// Computes the CID of `len` pseudo-random bytes three ways (in one piece, streamed in odd pieces,
/// through the local store's `put_file`) and checks all against the importer and `expected`.
async fn check_cid(len: usize, expected: &str) -> Result<()> {
    let content = pseudo_random(len, len as u64);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("input");
    std::fs::write(&path, &content)?;

    let importer = importer_cid(&path)?;
    assert_eq!(importer, expected, "the importer's CID for {len} bytes");

    let whole = cid_of(&content);
    assert_eq!(whole.to_string(), importer, "cid_of for {len} bytes");

    let mut builder = CidBuilder::new();
    for piece in content.chunks(65_537) {
        builder.update(piece);
    }
    assert_eq!(builder.finish(), whole, "streamed CID for {len} bytes");

    let store = LocalStore::open(dir.path().join("store")).await?;
    assert_eq!(store.put_file(&path).await?, whole, "put_file for {len} bytes");

    let codec = if len <= CHUNK_SIZE { Codec::Raw } else { Codec::DagPb };
    assert_eq!(whole.codec(), codec);
    Ok(())
}

#[tokio::test]
async fn cid_of_empty_content_matches_importer() -> Result<()> {
    check_cid(0, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku").await
}

#[tokio::test]
async fn cid_of_one_byte_matches_importer() -> Result<()> {
    check_cid(1, "bafkreigrxpltxmersc73rayfm5y6eluzova62iahs6j36m4xl7qwkrmbym").await
}

#[tokio::test]
async fn cid_of_exactly_one_chunk_matches_importer() -> Result<()> {
    check_cid(CHUNK_SIZE, "bafkreibmmlk3pf7eexlfdmzgm5vzcazgbi2mmrm2ihkf7dizlqdtxqnxwm").await
}

#[tokio::test]
async fn cid_of_one_chunk_and_a_byte_matches_importer() -> Result<()> {
    check_cid(CHUNK_SIZE + 1, "bafybeidl74hzw2ovik3nrqxlfs3xp5tsg65bfkfent7tf56q474zllinci").await
}

#[tokio::test]
async fn cid_of_300_kib_matches_importer() -> Result<()> {
    check_cid(300 * 1024, "bafybeickizgcsryqo4o7t6hslwpw6744is4lh2hs7ire6j24pgxmwxnbz4").await
}

#[tokio::test]
async fn cid_of_5_mib_matches_importer() -> Result<()> {
    check_cid(5 * 1024 * 1024, "bafybeiajv2lhnfv4cgrpqfm2qkx4jgy37gxq3i4tifdjz6ymcfnujf3jda").await
}

/// 174 chunks fill one node; one more byte needs a second level (and a node with a single link).
#[tokio::test]
async fn cid_of_more_than_one_full_node_matches_importer() -> Result<()> {
    check_cid(MAX_LINKS * CHUNK_SIZE, "bafybeiemmolyeb6och3gmu3gw5fq3o446eehx6fdo4twijrip6bbaogiwu").await?;
    check_cid(MAX_LINKS * CHUNK_SIZE + 1, "bafybeibwoehovirjkp2uff7aefh2v7f7zwvxng4bgzvevp7r3z5ukttlxm").await
}

#[test]
fn malformed_cids_are_rejected_with_a_typed_error() {
    let good = cid_of(b"hello").to_string();
    let dag_cbor = "bafyreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"; // codec 0x71
    let cases = [
        "".to_owned(),
        "hello".to_owned(),
        "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG".to_owned(),
        good.to_uppercase(),
        good[..good.len() - 1].to_owned(),
        format!("{good}a"),
        format!("{}0{}", &good[..10], &good[11..]),
        format!("{}/../x", &good[..good.len() - 5]),
        dag_cbor.to_owned(),
    ];
    for input in cases {
        match input.parse::<Cid>() {
            Err(Error::InvalidCid { reason, .. }) => assert!(!reason.is_empty()),
            other => panic!("{input:?} parsed as {other:?}"),
        }
    }
    assert_eq!(good.parse::<Cid>().unwrap(), cid_of(b"hello"));
    let message = "Qm123".parse::<Cid>().unwrap_err().to_string();
    assert!(message.contains("CIDv0"), "{message}");
}

#[test]
fn cid_is_a_json_string() {
    let cid = cid_of(b"json");
    let json = serde_json::to_string(&cid).unwrap();
    assert_eq!(json, format!("\"{cid}\""));
    assert_eq!(serde_json::from_str::<Cid>(&json).unwrap(), cid);
    assert!(serde_json::from_str::<Cid>("\"nope\"").is_err());
}

// ---------------------------------------------------------------------------------------------
// Local store
// ---------------------------------------------------------------------------------------------

fn files_in(dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?)
}

#[tokio::test]
async fn local_store_puts_gets_and_serves_ranges() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store = LocalStore::open(dir.path()).await?;
    let content = pseudo_random(300 * 1024, 7);

    let cid = store.put(content.clone()).await?;
    assert_eq!(cid, cid_of(&content));
    assert!(store.has(&cid).await?);
    assert_eq!(store.size(&cid).await?, Some(content.len() as u64));
    assert_eq!(store.get(&cid).await?.as_deref(), Some(&content[..]));

    let range = store.get_range(&cid, 1000, 270_000).await?.unwrap();
    assert_eq!(&range[..], &content[1000..270_000]);
    let tail = store.get_range(&cid, 307_000, u64::MAX).await?.unwrap();
    assert_eq!(&tail[..], &content[307_000..]);
    assert_eq!(store.get_range(&cid, 307_200, 307_300).await?.unwrap().len(), 0);
    assert!(matches!(
        store.get_range(&cid, 307_201, 307_300).await,
        Err(Error::RangeNotSatisfiable { start: 307_201, size: 307_200 })
    ));
    assert!(matches!(store.get_range(&cid, 10, 5).await, Err(Error::InvalidRange { start: 10, end: 5 })));

    // The object is the content itself, named by its CID, and survives reopening the store.
    assert_eq!(std::fs::read(store.path_of(&cid))?, content);
    let reopened = LocalStore::open(dir.path()).await?;
    assert_eq!(reopened.get(&cid).await?.as_deref(), Some(&content[..]));
    Ok(())
}

#[tokio::test]
async fn local_store_put_is_idempotent_and_leaves_no_temporary_files() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store = LocalStore::open(dir.path()).await?;
    let content = pseudo_random(1000, 1);
    let first = store.put(content.clone()).await?;
    let second = store.put(content.clone()).await?;
    let path = dir.path().join("file");
    std::fs::write(&path, &content)?;
    let third = store.put_file(&path).await?;
    assert_eq!(first, second);
    assert_eq!(first, third);
    assert_eq!(files_in(&dir.path().join("objects"))?, vec![store.path_of(&first)]);
    assert!(files_in(&dir.path().join("tmp"))?.is_empty());
    assert_eq!(store.get(&first).await?.as_deref(), Some(&content[..]));
    Ok(())
}

#[tokio::test]
async fn local_store_answers_none_for_absent_content() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store = LocalStore::open(dir.path()).await?;
    let absent = cid_of(b"never stored");
    assert!(!store.has(&absent).await?);
    assert_eq!(store.get(&absent).await?, None);
    assert_eq!(store.get_range(&absent, 0, 10).await?, None);
    assert_eq!(store.size(&absent).await?, None);
    Ok(())
}

#[tokio::test]
async fn local_store_put_file_of_a_missing_file_is_an_io_error() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store = LocalStore::open(dir.path()).await?;
    let missing = dir.path().join("missing");
    match store.put_file(&missing).await {
        Err(Error::Io { path, .. }) => assert_eq!(path, missing),
        other => panic!("expected an I/O error, got {other:?}"),
    }
    assert!(files_in(&dir.path().join("tmp"))?.is_empty());
    Ok(())
}

#[tokio::test]
async fn empty_content_round_trips() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store = LocalStore::open(dir.path()).await?;
    let cid = store.put(Vec::new()).await?;
    assert_eq!(cid.to_string(), "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
    assert_eq!(store.get(&cid).await?.map(|b| b.len()), Some(0));
    assert_eq!(store.size(&cid).await?, Some(0));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Kubo backend, against a fake Kubo RPC server
// ---------------------------------------------------------------------------------------------

mod fake_kubo {
    use super::*;
    use axum::Router;
    use axum::body::Bytes;
    use axum::extract::{DefaultBodyLimit, Query, State};
    use axum::http::{HeaderMap, StatusCode, header};
    use axum::response::{IntoResponse, Response};
    use axum::routing::post;

    /// What the fake node holds and how it behaves.
    #[derive(Default)]
    pub(crate) struct Node {
        pub blocks: HashMap<String, Vec<u8>>,
        /// Every request's endpoint and query, in order.
        pub requests: Vec<(String, HashMap<String, String>)>,
        /// Answer `add` with a CID other than the content's (a node with other import settings).
        pub wrong_cid: bool,
        /// Fail every request with this message.
        pub fail_with: Option<String>,
    }

    pub(crate) type Shared = Arc<Mutex<Node>>;

    pub(crate) fn lock(node: &Shared) -> MutexGuard<'_, Node> {
        node.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts the server; returns its base URL.
    pub(crate) async fn start(node: Shared) -> String {
        let app = Router::new()
            .route("/api/v0/add", post(add))
            .route("/api/v0/cat", post(cat))
            .route("/api/v0/files/stat", post(stat))
            .layer(DefaultBodyLimit::disable())
            .with_state(node);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binding the fake Kubo");
        let addr = listener.local_addr().expect("the fake Kubo's address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }

    fn error(message: String) -> Response {
        let body = serde_json::json!({ "Message": message, "Code": 0, "Type": "error" });
        (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
    }

    fn record(node: &Shared, endpoint: &str, query: &HashMap<String, String>) -> Option<Response> {
        let mut node = lock(node);
        node.requests.push((endpoint.to_owned(), query.clone()));
        node.fail_with.clone().map(error)
    }

    /// The single file of a `multipart/form-data` body.
    fn file_part(headers: &HeaderMap, body: &[u8]) -> Option<Vec<u8>> {
        let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
        let boundary = content_type.strip_prefix("multipart/form-data; boundary=")?;
        let opening = format!("--{boundary}\r\n");
        let closing = format!("\r\n--{boundary}--\r\n");
        let rest = body.strip_prefix(opening.as_bytes())?;
        let headers_end = rest.windows(4).position(|w| w == b"\r\n\r\n")?;
        let part_headers = std::str::from_utf8(&rest[..headers_end]).ok()?;
        if !part_headers.contains("name=\"file\"") {
            return None;
        }
        let content = rest[headers_end + 4..].strip_suffix(closing.as_bytes())?;
        Some(content.to_vec())
    }

    async fn add(
        State(node): State<Shared>,
        Query(query): Query<HashMap<String, String>>,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        if let Some(failure) = record(&node, "add", &query) {
            return failure;
        }
        let Some(content) = file_part(&headers, &body) else {
            return (StatusCode::BAD_REQUEST, "malformed multipart body").into_response();
        };
        let cid = cid_of(&content).to_string();
        let mut node = lock(&node);
        let answered = if node.wrong_cid { cid_of(b"something else").to_string() } else { cid.clone() };
        let size = content.len();
        node.blocks.insert(cid, content);
        let line = serde_json::json!({ "Name": "content", "Hash": answered, "Size": size.to_string() });
        format!("{line}\n").into_response()
    }

    fn not_found(cid: &str) -> Response {
        error(format!("block was not found locally (offline): ipld: could not find {cid}"))
    }

    async fn cat(State(node): State<Shared>, Query(query): Query<HashMap<String, String>>) -> Response {
        if let Some(failure) = record(&node, "cat", &query) {
            return failure;
        }
        let cid = query.get("arg").cloned().unwrap_or_default();
        let Some(content) = lock(&node).blocks.get(&cid).cloned() else { return not_found(&cid) };
        let offset: usize = query.get("offset").and_then(|v| v.parse().ok()).unwrap_or(0).min(content.len());
        let length: usize = query.get("length").and_then(|v| v.parse().ok()).unwrap_or(usize::MAX);
        let end = offset.saturating_add(length).min(content.len());
        content[offset..end].to_vec().into_response()
    }

    async fn stat(State(node): State<Shared>, Query(query): Query<HashMap<String, String>>) -> Response {
        if let Some(failure) = record(&node, "files/stat", &query) {
            return failure;
        }
        let arg = query.get("arg").cloned().unwrap_or_default();
        let cid = arg.strip_prefix("/ipfs/").unwrap_or(&arg);
        let Some(size) = lock(&node).blocks.get(cid).map(Vec::len) else { return not_found(cid) };
        let stat = serde_json::json!({
            "Hash": cid, "Size": size, "CumulativeSize": size, "Blocks": 0, "Type": "file"
        });
        axum::Json(stat).into_response()
    }
}

use fake_kubo::lock;

async fn fake_kubo() -> (fake_kubo::Shared, KuboStore) {
    let node = fake_kubo::Shared::default();
    let url = fake_kubo::start(node.clone()).await;
    (node, KuboStore::new(&url).expect("the fake Kubo's URL"))
}

#[tokio::test]
async fn kubo_store_adds_with_raw_leaves_and_reads_back() -> Result<()> {
    let (node, store) = fake_kubo().await;
    let content = pseudo_random(300 * 1024, 3);

    let cid = store.put(content.clone()).await?;
    assert_eq!(cid, cid_of(&content));
    assert!(store.has(&cid).await?);
    assert_eq!(store.size(&cid).await?, Some(content.len() as u64));
    assert_eq!(store.get(&cid).await?.as_deref(), Some(&content[..]));
    let range = store.get_range(&cid, 100, 200_000).await?.unwrap();
    assert_eq!(&range[..], &content[100..200_000]);
    let tail = store.get_range(&cid, 300_000, u64::MAX).await?.unwrap();
    assert_eq!(&tail[..], &content[300_000..]);
    assert!(matches!(store.get_range(&cid, 400_000, 400_001).await, Err(Error::RangeNotSatisfiable { .. })));

    let requests = lock(&node).requests.clone();
    let (endpoint, add) = &requests[0];
    assert_eq!(endpoint, "add");
    for (key, value) in [("cid-version", "1"), ("raw-leaves", "true"), ("pin", "true"), ("chunker", "size-262144")] {
        assert_eq!(add.get(key).map(String::as_str), Some(value), "add option {key}");
    }
    let cat = requests.iter().find(|(e, q)| e == "cat" && q.get("offset").map(String::as_str) == Some("100")).unwrap();
    assert_eq!(cat.1.get("length").map(String::as_str), Some("199900"));
    assert_eq!(cat.1.get("arg"), Some(&cid.to_string()));
    assert!(
        requests.iter().filter(|(e, _)| e != "add").all(|(_, q)| q.get("offline").map(String::as_str) == Some("true"))
    );
    Ok(())
}

#[tokio::test]
async fn kubo_store_streams_files() -> Result<()> {
    let (node, store) = fake_kubo().await;
    let content = pseudo_random(5 * 1024 * 1024, 5);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("big");
    std::fs::write(&path, &content)?;

    let cid = store.put_file(&path).await?;
    assert_eq!(cid, cid_of(&content));
    assert_eq!(lock(&node).blocks.get(&cid.to_string()).map(Vec::len), Some(content.len()));
    assert_eq!(store.get(&cid).await?.as_deref(), Some(&content[..]));
    Ok(())
}

#[tokio::test]
async fn kubo_store_refuses_a_cid_other_than_its_own() -> Result<()> {
    let (node, store) = fake_kubo().await;
    lock(&node).wrong_cid = true;
    let content = pseudo_random(1000, 9);
    match store.put(content.clone()).await {
        Err(Error::CidMismatch { expected, kubo }) => {
            assert_eq!(expected, cid_of(&content));
            assert_eq!(kubo, cid_of(b"something else").to_string());
        }
        other => panic!("expected a CID mismatch, got {other:?}"),
    }
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("file");
    std::fs::write(&path, &content)?;
    assert!(matches!(store.put_file(&path).await, Err(Error::CidMismatch { .. })));
    Ok(())
}

#[tokio::test]
async fn kubo_store_reports_absent_content_and_node_errors() -> Result<()> {
    let (node, store) = fake_kubo().await;
    let absent = cid_of(b"absent");
    assert!(!store.has(&absent).await?);
    assert_eq!(store.get(&absent).await?, None);
    assert_eq!(store.get_range(&absent, 0, 1).await?, None);
    assert_eq!(store.size(&absent).await?, None);

    lock(&node).fail_with = Some("repo is locked".into());
    match store.put(b"x".to_vec()).await {
        Err(Error::Kubo { endpoint: "add", status: 500, message }) => assert_eq!(message, "repo is locked"),
        other => panic!("expected Kubo's error, got {other:?}"),
    }
    assert!(matches!(store.has(&absent).await, Err(Error::Kubo { .. })));
    Ok(())
}

#[tokio::test]
async fn kubo_store_unreachable_node_is_an_http_error() -> Result<()> {
    // Bind and drop a listener so the port is (almost certainly) closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let store = KuboStore::new(&format!("http://127.0.0.1:{port}"))?;
    assert!(matches!(store.put(b"x".to_vec()).await, Err(Error::Http { endpoint: "add", .. })));
    Ok(())
}

#[tokio::test]
async fn open_chooses_the_backend_from_config() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let local = agora_content::open(&ContentConfig { dir: dir.path().into(), ipfs_api: None }).await?;
    assert!(matches!(local, AnyStore::Local(_)));
    let cid = local.put(b"local".to_vec()).await?;
    assert_eq!(local.get(&cid).await?.as_deref(), Some(&b"local"[..]));

    let kubo =
        agora_content::open(&ContentConfig { dir: dir.path().into(), ipfs_api: Some("http://127.0.0.1:5001".into()) })
            .await?;
    match kubo {
        AnyStore::Kubo(store) => assert_eq!(store.api_url().as_str(), "http://127.0.0.1:5001/"),
        other => panic!("expected Kubo, got {other:?}"),
    }
    for bad in ["not a url", "https://ipfs.example:5001", "ftp://x"] {
        let config = ContentConfig { dir: dir.path().into(), ipfs_api: Some(bad.into()) };
        assert!(matches!(agora_content::open(&config).await, Err(Error::InvalidApiUrl { .. })), "{bad}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Gateway reader, against a small HTTP server
// ---------------------------------------------------------------------------------------------

/// A server answering every `GET` path from `files` (404 otherwise); counts the requests it gets.
async fn file_server(files: HashMap<String, Vec<u8>>) -> Result<(String, Arc<Mutex<usize>>)> {
    use axum::extract::{Path as UrlPath, State};
    use axum::http::StatusCode;
    type Files = (Arc<HashMap<String, Vec<u8>>>, Arc<Mutex<usize>>);
    async fn serve(State((files, hits)): State<Files>, UrlPath(path): UrlPath<String>) -> (StatusCode, Vec<u8>) {
        *hits.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        match files.get(&format!("/{path}")) {
            Some(body) => (StatusCode::OK, body.clone()),
            None => (StatusCode::NOT_FOUND, Vec::new()),
        }
    }
    let hits = Arc::new(Mutex::new(0));
    let app =
        axum::Router::new().route("/{*path}", axum::routing::get(serve)).with_state((Arc::new(files), hits.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, hits))
}

fn hits(counter: &Arc<Mutex<usize>>) -> usize {
    *counter.lock().unwrap_or_else(PoisonError::into_inner)
}

#[tokio::test]
async fn gateway_serves_stored_cids_without_a_request_and_fetches_the_rest() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(LocalStore::open(dir.path()).await?);
    let stored = store.put(b"held here".to_vec()).await?;
    let remote = b"only over there".to_vec();
    let remote_cid = cid_of(&remote);
    let missing = cid_of(b"nowhere");
    let files = HashMap::from([
        (format!("/ipfs/{stored}"), b"held here".to_vec()),
        (format!("/ipfs/{remote_cid}"), remote.clone()),
        ("/data.csv".to_owned(), b"a,b\n1,2\n".to_vec()),
        // A server that answers other bytes than the CID's.
        (format!("/ipfs/{missing}"), b"forged".to_vec()),
    ]);
    let (server, counter) = file_server(files).await?;
    let gateway = Gateway::new(store.clone(), None)?;

    // A CID the store holds: no request at all, whatever server the link names.
    let got = gateway.fetch(&format!("{server}/ipfs/{stored}"), 1 << 20).await?;
    assert_eq!(&got[..], b"held here");
    assert_eq!(hits(&counter), 0, "a stored CID is read from the store");
    // A CID the store does not hold, and a plain file: over HTTP.
    assert_eq!(&gateway.fetch(&format!("{server}/ipfs/{remote_cid}"), 1 << 20).await?[..], &remote[..]);
    assert_eq!(&gateway.fetch(&format!("{server}/data.csv"), 1 << 20).await?[..], b"a,b\n1,2\n");
    assert_eq!(hits(&counter), 2);
    // Bytes that do not hash to the CID asked for are refused.
    let err = gateway.fetch(&format!("{server}/ipfs/{missing}"), 1 << 20).await.expect_err("forged");
    assert!(matches!(err, Error::WrongContent { expected, .. } if expected == missing), "{err}");
    // Limits and failures are fetch failures, told apart from the store's own errors.
    let err = gateway.fetch(&format!("{server}/ipfs/{remote_cid}"), 4).await.expect_err("too large");
    assert!(matches!(err, Error::TooLarge { limit: 4, .. }) && err.is_fetch_failure(), "{err}");
    let err = gateway.fetch(&format!("{server}/ipfs/{stored}"), 4).await.expect_err("too large");
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    let err = gateway.fetch(&format!("{server}/nope"), 1 << 20).await.expect_err("404");
    assert!(matches!(&err, Error::FetchFailed { reason, .. } if reason.contains("404")), "{err}");
    for bad in ["ftp://example.org/x", "no url"] {
        let err = gateway.fetch(bad, 1 << 20).await.expect_err("bad url");
        assert!(matches!(err, Error::BadUrl { .. }) && err.is_fetch_failure(), "{bad}: {err}");
    }
    Ok(())
}

#[tokio::test]
async fn gateway_answers_its_own_api_links_from_the_store_only() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(LocalStore::open(dir.path()).await?);
    let stored = store.put(b"mine".to_vec()).await?;
    let missing = cid_of(b"not mine");
    // The node's "own API" is a server that would answer anything: it must never be asked.
    let files = HashMap::from([(format!("/ipfs/{missing}"), b"not mine".to_vec())]);
    let (own, counter) = file_server(files).await?;
    let gateway = Gateway::new(store, Some(&own))?;
    assert_eq!(&gateway.fetch(&format!("{own}/ipfs/{stored}"), 100).await?[..], b"mine");
    let err = gateway.fetch(&format!("{own}/ipfs/{missing}"), 100).await.expect_err("not in the store");
    assert!(matches!(err, Error::NotFound { cid } if cid == missing), "{err}");
    assert_eq!(hits(&counter), 0, "links under the node's own API never go over HTTP");
    Ok(())
}
