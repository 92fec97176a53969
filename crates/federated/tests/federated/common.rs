//! An in-memory task book and chain actions, and a coordinator serving on loopback.

use std::sync::{Arc, Mutex};

use agora_content::LocalStore;
use agora_federated::{
    ClientOptions, Coordinator, CoordinatorOptions, Journal, MemberEvent, MemoryJournal, TaskActions, TaskBook,
    TaskMode, TaskSpec, TaskState, TaskTerms,
};
use alloy::primitives::{Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use async_trait::async_trait;

/// The chain id the loopback tests claim.
pub const CHAIN_ID: u64 = 31337;

/// A task's terms and member events, kept in memory.
pub struct MemoryBook {
    pub terms: Mutex<TaskTerms>,
    pub events: Mutex<Vec<MemberEvent>>,
}

#[async_trait]
impl TaskBook for MemoryBook {
    async fn terms(&self, _task: u64) -> agora_federated::Result<TaskTerms> {
        Ok(self.terms.lock().unwrap().clone())
    }

    async fn events(&self, _task: u64) -> agora_federated::Result<Vec<MemberEvent>> {
        Ok(self.events.lock().unwrap().clone())
    }
}

/// What the coordinator posted.
#[derive(Default)]
pub struct Posted {
    pub rewards: Option<(B256, String)>,
    pub shares: Option<(Vec<Address>, Vec<U256>, String)>,
}

/// Chain actions applied to a [`MemoryBook`].
pub struct MemoryActions {
    pub book: Arc<MemoryBook>,
    pub posted: Mutex<Posted>,
}

#[async_trait]
impl TaskActions for MemoryActions {
    async fn start(&self, _task: u64) -> agora_federated::Result<()> {
        self.book.terms.lock().unwrap().state = TaskState::Training;
        self.book.events.lock().unwrap().push(MemberEvent::Started);
        Ok(())
    }

    async fn post_rewards(&self, _task: u64, root: B256, cid: &str) -> agora_federated::Result<()> {
        self.posted.lock().unwrap().rewards = Some((root, cid.to_owned()));
        Ok(())
    }

    async fn post_shares(&self, _task: u64, h: &[Address], s: &[U256], cid: &str) -> agora_federated::Result<()> {
        self.posted.lock().unwrap().shares = Some((h.to_vec(), s.to_vec(), cid.to_owned()));
        Ok(())
    }
}

/// What a task's coordinator works with, outliving any one coordinator (a node restarted keeps
/// its chain, store and journal).
pub struct Parts {
    pub book: Arc<MemoryBook>,
    pub actions: Arc<MemoryActions>,
    pub journal: Arc<MemoryJournal>,
    pub store: LocalStore,
    pub account: Address,
    pub spec: TaskSpec,
    pub keys: Vec<PrivateKeySigner>,
    _dir: tempfile::TempDir,
}

impl Parts {
    /// Task 1, `members` fresh keys that joined, `spec`, in `mode` with a pool of `pool`.
    pub async fn new(members: usize, spec: TaskSpec, mode: TaskMode, pool: u128) -> Self {
        // Fixed keys: a participant's training is seeded by its address, so the run is reproducible.
        let keys: Vec<PrivateKeySigner> = (0..members).map(|i| key(100 + i as u64)).collect();
        let account = key(99).address();
        let terms = TaskTerms {
            task: 1,
            mode,
            state: TaskState::Open,
            coordinator: account,
            pool: U256::from(pool),
            total_blocks: 2,
            min_participants: spec.min_participants,
            start_deadline: u64::MAX,
            finish_deadline: u64::MAX,
            spec: spec.cid().unwrap().to_string(),
        };
        let book = Arc::new(MemoryBook {
            terms: Mutex::new(terms),
            events: Mutex::new(keys.iter().map(|k| MemberEvent::Joined(k.address())).collect()),
        });
        let actions = Arc::new(MemoryActions { book: book.clone(), posted: Mutex::default() });
        let journal = Arc::new(MemoryJournal::default());
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).await.unwrap();
        Self { book, actions, journal, store, account, spec, keys, _dir: dir }
    }

    /// A coordinator of the task, journaling to `journal`.
    pub async fn coordinator(&self, journal: Arc<dyn Journal>) -> Coordinator<LocalStore> {
        let mut options = CoordinatorOptions::new(1, CHAIN_ID, self.account, self.spec.clone());
        options.poll = std::time::Duration::from_millis(50);
        Coordinator::new(options, self.book.clone(), self.actions.clone(), self.store.clone(), journal).await.unwrap()
    }

    /// A participant's options for the task's coordinator at `url`.
    pub fn client(&self, url: &str) -> ClientOptions {
        let mut o = ClientOptions::new(url, 1, CHAIN_ID, self.account, self.spec.cid().unwrap().to_string());
        o.idle_timeout = std::time::Duration::from_secs(600);
        o
    }
}

/// A coordinator serving on loopback, and what it works with.
pub struct Setup {
    pub coordinator: Arc<Coordinator<LocalStore>>,
    pub url: String,
    parts: Parts,
    _server: tokio::task::JoinHandle<()>,
}

impl std::ops::Deref for Setup {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.parts
    }
}

/// Task 1, `members` fresh keys that joined, `spec`, in `mode` with a pool of `pool`, and its
/// coordinator serving on loopback.
pub async fn setup(members: usize, spec: TaskSpec, mode: TaskMode, pool: u128) -> Setup {
    let parts = Parts::new(members, spec, mode, pool).await;
    let coordinator = Arc::new(parts.coordinator(parts.journal.clone()).await);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let server = coordinator.serve(listener);
    Setup { coordinator, url, parts, _server: server }
}

impl Setup {
    /// A participant's options for this task.
    pub fn client(&self) -> ClientOptions {
        self.parts.client(&self.url)
    }
}

/// The key whose secret is `n`.
pub fn key(n: u64) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::from(U256::from(n))).unwrap()
}

/// The digits task the loopback tests train: 6 blocks per member, 3 rounds.
pub fn spec(seed: u64, round_timeout_secs: u64) -> TaskSpec {
    TaskSpec { blocks_per_member: 6, round_timeout_secs, ..TaskSpec::digits_demo(seed) }
}
