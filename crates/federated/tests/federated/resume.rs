//! A coordinator that stops mid-task (its node killed) and is started again resumes after the
//! last round it journaled: the participants connect again by themselves, and the contribution
//! record, the model and the payouts are byte for byte those of a twin task that never stopped.

use std::sync::{Arc, Mutex};

use agora_federated::{
    Checkpoint, ClientReport, Journal, MemoryJournal, ReferenceReport, RoundReport, TaskMode, TaskResult, client,
};
use alloy::primitives::U256;
use async_trait::async_trait;
use tokio::sync::oneshot;

use super::common::{Parts, setup, spec};

const POOL: u128 = 999_999_999_999_999_989;
const MEMBERS: usize = 3;

fn task_spec() -> agora_federated::TaskSpec {
    spec(17, 120)
}

/// A journal that counts the rounds it was given, and after round `halt_after` (if any) reports
/// it and never returns: the coordinator stops there as a killed node would, with that round
/// journaled and nothing after it.
struct Halting {
    inner: Arc<MemoryJournal>,
    halt_after: Option<u32>,
    halted: Mutex<Option<oneshot::Sender<()>>>,
    rounds: Mutex<Vec<u32>>,
}

impl Halting {
    fn new(inner: Arc<MemoryJournal>, halt_after: Option<u32>) -> (Arc<Self>, oneshot::Receiver<()>) {
        let (tx, rx) = oneshot::channel();
        let journal = Self { inner, halt_after, halted: Mutex::new(Some(tx)), rounds: Mutex::default() };
        (Arc::new(journal), rx)
    }

    fn rounds(&self) -> Vec<u32> {
        self.rounds.lock().unwrap().clone()
    }
}

#[async_trait]
impl Journal for Halting {
    async fn round(&self, task: u64, report: &RoundReport) -> agora_federated::Result<()> {
        self.inner.round(task, report).await?;
        self.rounds.lock().unwrap().push(report.round);
        if self.halt_after == Some(report.round) {
            if let Some(tx) = self.halted.lock().unwrap().take() {
                let _ = tx.send(());
            }
            std::future::pending::<()>().await;
        }
        Ok(())
    }

    async fn checkpoints(&self, task: u64) -> agora_federated::Result<Vec<Checkpoint>> {
        self.inner.checkpoints(task).await
    }

    async fn log(&self, task: u64, message: &str) -> agora_federated::Result<()> {
        self.inner.log(task, message).await
    }

    async fn result(&self, task: u64, result: &TaskResult) -> agora_federated::Result<()> {
        self.inner.result(task, result).await
    }

    async fn reference(&self, task: u64, report: &ReferenceReport) -> agora_federated::Result<()> {
        self.inner.reference(task, report).await
    }
}

fn participants(parts: &Parts, url: &str) -> Vec<tokio::task::JoinHandle<agora_federated::Result<ClientReport>>> {
    parts
        .keys
        .iter()
        .map(|key| {
            let (key, mut options) = (key.clone(), parts.client(url));
            options.reconnect = std::time::Duration::from_secs(120);
            tokio::spawn(async move { client::run(&key, &options).await })
        })
        .collect()
}

struct Interrupted {
    result: TaskResult,
    first_life: Vec<u32>,
    second_life: Vec<u32>,
    logs: Vec<String>,
    reports: Vec<ClientReport>,
}

/// The task run by a coordinator stopped after journaling round `halt_after`, then by a new one
/// on the same journal, store, chain and address.
async fn interrupted(halt_after: u32) -> Interrupted {
    let parts = Parts::new(MEMBERS, task_spec(), TaskMode::RewardPool, POOL).await;
    // One listening socket for both lives (the second holds a duplicate of it), so no participant
    // finds the address closed while the first life is torn down; its connections do drop.
    let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    socket.set_nonblocking(true).unwrap();
    let url = format!("ws://{}", socket.local_addr().unwrap());
    let second_socket = socket.try_clone().unwrap();

    // First life, on a runtime of its own: shutting it down drops every task and connection.
    let first = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let (halting, halted) = Halting::new(parts.journal.clone(), Some(halt_after));
    let coordinator = Arc::new(parts.coordinator(halting.clone()).await);
    {
        let coordinator = coordinator.clone();
        first.spawn(async move {
            let _server = coordinator.serve(tokio::net::TcpListener::from_std(socket).unwrap());
            let _ = coordinator.run().await;
        });
    }
    let clients = participants(&parts, &url);
    halted.await.unwrap();
    drop(coordinator);
    first.shutdown_background();

    // Second life.
    let (counting, _) = Halting::new(parts.journal.clone(), None);
    let coordinator = Arc::new(parts.coordinator(counting.clone()).await);
    let _server = coordinator.serve(tokio::net::TcpListener::from_std(second_socket).unwrap());
    let result = coordinator.run().await.unwrap();
    let mut reports = Vec::new();
    for c in clients {
        reports.push(c.await.unwrap().unwrap());
    }
    let logs = parts.journal.recorded().logs;
    Interrupted { result, first_life: halting.rounds(), second_life: counting.rounds(), logs, reports }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_started_again_resumes_after_its_last_journaled_round_to_the_same_record() {
    // The twin that never stopped.
    let s = setup(MEMBERS, task_spec(), TaskMode::RewardPool, POOL).await;
    let run = {
        let c = s.coordinator.clone();
        tokio::spawn(async move { c.run().await })
    };
    let clients = participants(&s, &s.url);
    let whole = run.await.unwrap().unwrap();
    for c in clients {
        assert_eq!(c.await.unwrap().unwrap().trained, [1, 2, 3]);
    }
    let rounds = task_spec().rounds;
    assert_eq!(rounds, 3);

    // Stopped after round 2: the second coordinator trains round 3 alone.
    let resumed = interrupted(2).await;
    assert_eq!((resumed.first_life.as_slice(), resumed.second_life.as_slice()), ([1, 2].as_slice(), [3].as_slice()));
    assert!(
        resumed.logs.iter().any(|l| l == "resumed after round 2 of 3, as journaled before the coordinator stopped")
    );
    for report in &resumed.reports {
        assert_eq!(report.trained, [1, 2, 3], "every participant came back for round 3");
        assert_eq!(report.record.as_deref(), Some(whole.record_cid.as_str()));
    }
    assert_eq!(resumed.result, whole, "the same record, model, accuracy, root and payouts");
    let paid: U256 = resumed.result.payouts.iter().map(|p| p.amount).sum();
    assert_eq!(paid, U256::from(POOL));

    // Stopped after the last round: the second coordinator trains nothing and goes straight to
    // the payouts; the participants, connecting again, are told the task finished.
    let resumed = interrupted(rounds).await;
    assert_eq!((resumed.first_life.as_slice(), resumed.second_life.as_slice()), ([1, 2, 3].as_slice(), [].as_slice()));
    for report in &resumed.reports {
        assert_eq!(report.trained, [1, 2, 3]);
        assert_eq!(report.record.as_deref(), Some(whole.record_cid.as_str()));
    }
    assert_eq!(resumed.result, whole);
}
