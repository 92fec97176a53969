//! The social tests' fixture: a fresh database, the router over it, people signed in (their
//! sessions stored as sign-in stores them), and communities as the indexer records them.

use agora_api::{AppState, SocialSettings, router};
use agora_chain::read_provider;
use agora_store::Session;
use agora_store::testing::TestDb;
use agora_store::{Batch, BlockRef, CommunityEvent, IndexedLog, LogMeta, MarketEvent};
use alloy::primitives::{Address, keccak256};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::common::{CHAIN, state};

/// Someone with a session.
pub(crate) struct Person {
    /// Lower-case hex.
    pub address: String,
    pub cookie: String,
}

pub(crate) struct Reply {
    pub status: StatusCode,
    pub retry_after: Option<String>,
    pub body: Value,
}

/// The status and the error code of an answer.
pub(crate) fn code(r: &Reply) -> (StatusCode, String) {
    (r.status, r.body["error"]["code"].as_str().unwrap_or_default().to_owned())
}

pub(crate) struct Fixture {
    pub db: TestDb,
    pub app: axum::Router,
    state: AppState,
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs()
}

impl Fixture {
    /// The default rate limit, and `admins` as the node's admins.
    pub(crate) async fn new() -> anyhow::Result<Self> {
        Self::build(SocialSettings::default(), &[]).await
    }

    pub(crate) async fn with_limit(posts_per_window: u32, window_secs: u64) -> anyhow::Result<Self> {
        Self::build(SocialSettings { posts_per_window, window_secs }, &[]).await
    }

    /// The node's admins are `admins` (by [`Fixture::person`] number).
    pub(crate) async fn with_node_admins(admins: &[u8]) -> anyhow::Result<Self> {
        Self::build(SocialSettings::default(), admins).await
    }

    async fn build(social: SocialSettings, admins: &[u8]) -> anyhow::Result<Self> {
        let db = TestDb::sqlite().await?;
        let mut st = state(db.store.clone(), read_provider("http://127.0.0.1:1")?).await.0;
        st.social = social;
        st.admins = std::sync::Arc::new(admins.iter().map(|n| Address::repeat_byte(*n)).collect());
        Ok(Self { app: router(st.clone()), db, state: st })
    }

    /// Another router on the same database (a second API process), with its own rate limit.
    pub(crate) fn second_app(&self, posts_per_window: u32, window_secs: u64) -> axum::Router {
        let mut st = self.state.clone();
        st.social = SocialSettings { posts_per_window, window_secs };
        router(st)
    }

    /// Person `n` (address `0xnnnn…`), signed in.
    pub(crate) async fn person(&self, n: u8) -> anyhow::Result<Person> {
        let account = Address::repeat_byte(n);
        let token = format!("token-{n}");
        let session =
            Session { address: format!("{account:#x}"), chain_id: CHAIN, created_at: now(), expires_at: now() + 3600 };
        self.db.store.create_session(&keccak256(token.as_bytes()).to_string(), &session).await?;
        Ok(Person { address: session.address, cookie: format!("agora_session={token}") })
    }

    /// Community `id` owned by `owner`, with `admins` and `members` (the owner among them, as the
    /// contract makes its creator the first member): the Communities contract's events applied
    /// through the store's apply path, in a block of their own after the cursor.
    pub(crate) async fn community(
        &self,
        id: u64,
        owner: &Person,
        admins: &[&Person],
        members: &[&Person],
    ) -> anyhow::Result<()> {
        let mut events = vec![CommunityEvent::CommunityCreated {
            community_id: id,
            owner: owner.address.clone(),
            points_token: format!("{:#x}", Address::repeat_byte(0xd0 + (id % 16) as u8)),
            arbiter: owner.address.clone(),
            name: format!("Community {id}"),
            symbol: "PTS".into(),
            metadata_uri: String::new(),
        }];
        events
            .extend(admins.iter().map(|a| CommunityEvent::AdminAdded { community_id: id, account: a.address.clone() }));
        events.extend(members.iter().enumerate().map(|(i, m)| CommunityEvent::MemberJoined {
            community_id: id,
            account: m.address.clone(),
            member_count: i as u64 + 1,
        }));
        let store = &self.db.store;
        let cursor = match store.cursor(CHAIN).await? {
            Some(c) => c,
            None => {
                let genesis =
                    BlockRef { number: 0, hash: format!("0x{:064x}", 0), parent_hash: "0x".into(), timestamp: 1 };
                store.init_cursor(CHAIN, &genesis).await?
            }
        };
        let number = cursor.block_number + 1;
        let block = BlockRef {
            number,
            hash: format!("0x{number:064x}"),
            parent_hash: cursor.block_hash,
            timestamp: 1_700_000_000,
        };
        let logs = events
            .into_iter()
            .enumerate()
            .map(|(i, event)| IndexedLog {
                meta: LogMeta {
                    block_number: number,
                    block_hash: block.hash.clone(),
                    block_timestamp: block.timestamp,
                    tx_hash: format!("0x{:064x}", number * 1000 + i as u64),
                    log_index: i as u64,
                    address: format!("{:#x}", Address::repeat_byte(0xcc)),
                },
                event: MarketEvent::Community(event),
            })
            .collect();
        store.apply_batch(&Batch { chain_id: CHAIN, expected_cursor: number - 1, blocks: vec![block], logs }).await?;
        Ok(())
    }

    pub(crate) async fn send(&self, method: &str, uri: &str, who: Option<&Person>, body: Option<Value>) -> Reply {
        send(&self.app, method, uri, who, body).await
    }

    /// Uploads `bytes` to the content store and answers their CID.
    pub(crate) async fn upload(&self, bytes: &[u8]) -> anyhow::Result<String> {
        let req = Request::builder().method("POST").uri("/api/uploads").body(Body::from(bytes.to_vec()))?;
        let resp = self.app.clone().oneshot(req).await?;
        anyhow::ensure!(resp.status() == StatusCode::CREATED, "upload: {}", resp.status());
        let body: Value = serde_json::from_slice(&resp.into_body().collect().await?.to_bytes())?;
        Ok(body["cid"].as_str().unwrap_or_default().to_owned())
    }

    pub(crate) async fn finish(self) -> anyhow::Result<()> {
        self.db.finish().await?;
        Ok(())
    }
}

pub(crate) async fn send(
    app: &axum::Router,
    method: &str,
    uri: &str,
    who: Option<&Person>,
    body: Option<Value>,
) -> Reply {
    let mut req = Request::builder().method(method).uri(uri).header(header::CONTENT_TYPE, "application/json");
    if let Some(p) = who {
        req = req.header(header::COOKIE, &p.cookie);
    }
    let req = req.body(body.map(|b| Body::from(b.to_string())).unwrap_or_else(Body::empty)).expect("request");
    let resp = app.clone().oneshot(req).await.expect("response");
    let status = resp.status();
    let retry_after = resp.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    Reply { status, retry_after, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
}
