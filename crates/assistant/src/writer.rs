//! Chunks are recorded before they are sent. Every stream's chunks go through one writer task that
//! commits whatever is waiting in one transaction (group commit, as the voucher ledger does), so a
//! thousand streams cost one database commit per batch, not one per chunk.

use agora_store::{NewChunk, Store};
use tokio::sync::{mpsc, oneshot};

use crate::unix_now;

struct Req {
    chunk: NewChunk,
    reply: oneshot::Sender<Result<(), String>>,
}

/// A handle on the chunk writer; cheap to clone.
#[derive(Clone)]
pub(crate) struct ChunkWriter {
    tx: mpsc::Sender<Req>,
}

impl ChunkWriter {
    /// Starts the writer task.
    pub(crate) fn start(store: Store, chain_id: u64, max_batch: usize) -> Self {
        let (tx, rx) = mpsc::channel(max_batch * 4);
        tokio::spawn(run(store, chain_id, max_batch, rx));
        Self { tx }
    }

    /// Returns once `chunk` is durable.
    pub(crate) async fn record(&self, chunk: NewChunk) -> Result<(), String> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(Req { chunk, reply }).await.map_err(|_| "the chunk writer has stopped".to_string())?;
        answer.await.map_err(|_| "the chunk writer has stopped".to_string())?
    }
}

async fn run(store: Store, chain_id: u64, max_batch: usize, mut rx: mpsc::Receiver<Req>) {
    let mut batch = Vec::with_capacity(max_batch);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(req) => batch.push(req),
                Err(_) => break,
            }
        }
        let chunks: Vec<NewChunk> = batch.iter().map(|r| r.chunk.clone()).collect();
        let outcome = store.record_chunks(chain_id, &chunks, unix_now()).await.map_err(|e| e.to_string());
        if let Err(e) = &outcome {
            tracing::error!(error = %e, "recording chunks failed; none of them is sent");
        }
        for req in batch.drain(..) {
            let _ = req.reply.send(outcome.clone());
        }
    }
}
