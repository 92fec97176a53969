//! Chunks are recorded before they are sent. They go through the payee ledger's writer, which
//! commits whatever is waiting — every stream's chunks and every channel's vouchers — in one
//! transaction (group commit): a thousand streams cost one commit per batch, and the payment path
//! has a single writer, so chunks and vouchers never wait on each other's database lock.

use agora_channels::Ledger;
use agora_store::NewChunk;

/// A handle on the chunk writer; cheap to clone.
#[derive(Clone)]
pub(crate) struct ChunkWriter {
    ledger: Ledger,
}

impl ChunkWriter {
    /// Chunks recorded through `ledger`'s writer.
    pub(crate) fn new(ledger: Ledger) -> Self {
        Self { ledger }
    }

    /// Returns once `chunk` is durable.
    pub(crate) async fn record(&self, chunk: NewChunk) -> Result<(), String> {
        self.ledger.record_chunk(chunk).await.map_err(|e| e.to_string())
    }
}
