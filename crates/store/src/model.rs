use serde::{Deserialize, Serialize};

/// A block as the indexer saw it. Hashes are `0x` hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRef {
    pub number: u64,
    pub hash: String,
    pub parent_hash: String,
    pub timestamp: u64,
}

/// Where a log came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogMeta {
    pub block_number: u64,
    pub block_hash: String,
    pub block_timestamp: u64,
    pub tx_hash: String,
    pub log_index: u64,
    pub address: String,
}

/// A contract event in storage form: addresses lower-case hex, amounts decimal strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum MarketEvent {
    ServiceListed {
        service_id: u64,
        provider: String,
        token: String,
        price: String,
        max_run_time: u64,
        metadata_uri: String,
    },
    ServiceUpdated {
        service_id: u64,
        price: String,
        max_run_time: u64,
        metadata_uri: String,
    },
    ServiceDelisted {
        service_id: u64,
    },
    TaskCreated {
        task_id: u64,
        user: String,
        service_id: u64,
        amount: String,
    },
    TaskInput {
        task_id: u64,
        deadline: u64,
        input: String,
    },
    TaskStarted {
        task_id: u64,
    },
    TaskCompleted {
        task_id: u64,
        result_hash: String,
    },
    TaskFailed {
        task_id: u64,
        reason: String,
    },
    TaskRefunded {
        task_id: u64,
    },
}

impl MarketEvent {
    /// The event's name, as in the contract.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ServiceListed { .. } => "ServiceListed",
            Self::ServiceUpdated { .. } => "ServiceUpdated",
            Self::ServiceDelisted { .. } => "ServiceDelisted",
            Self::TaskCreated { .. } => "TaskCreated",
            Self::TaskInput { .. } => "TaskInput",
            Self::TaskStarted { .. } => "TaskStarted",
            Self::TaskCompleted { .. } => "TaskCompleted",
            Self::TaskFailed { .. } => "TaskFailed",
            Self::TaskRefunded { .. } => "TaskRefunded",
        }
    }

    /// The task or service the event is about (tasks and services have separate id spaces;
    /// `kind` tells them apart).
    pub fn subject_id(&self) -> u64 {
        match self {
            Self::ServiceListed { service_id, .. }
            | Self::ServiceUpdated { service_id, .. }
            | Self::ServiceDelisted { service_id } => *service_id,
            Self::TaskCreated { task_id, .. }
            | Self::TaskInput { task_id, .. }
            | Self::TaskStarted { task_id }
            | Self::TaskCompleted { task_id, .. }
            | Self::TaskFailed { task_id, .. }
            | Self::TaskRefunded { task_id } => *task_id,
        }
    }

    pub fn is_task_event(&self) -> bool {
        self.kind().starts_with("Task")
    }
}

/// One decoded log ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedLog {
    pub meta: LogMeta,
    pub event: MarketEvent,
}

/// What the indexer hands the store in one transaction: the logs of blocks
/// `(cursor.number, blocks.last().number]` and the headers it checked them against. The last block
/// becomes the new cursor; the batch only applies if the cursor still stands at `expected_cursor`.
#[derive(Debug, Clone)]
pub struct Batch {
    pub chain_id: u64,
    pub expected_cursor: u64,
    pub blocks: Vec<BlockRef>,
    pub logs: Vec<IndexedLog>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyOutcome {
    /// Indices (into `Batch::logs`) of the logs stored and applied for the first time.
    pub applied: Vec<usize>,
    /// Logs that were already stored and were skipped.
    pub duplicates: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub block_number: u64,
    pub block_hash: String,
}

/// A task's status, as the contract's `TaskStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskStatus {
    Created,
    Running,
    Completed,
    Refunded,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "Created",
            Self::Running => "Running",
            Self::Completed => "Completed",
            Self::Refunded => "Refunded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "Created" => Self::Created,
            "Running" => Self::Running,
            "Completed" => Self::Completed,
            "Refunded" => Self::Refunded,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRow {
    pub service_id: u64,
    pub provider: String,
    pub token: String,
    pub price: String,
    pub max_run_time: u64,
    pub metadata_uri: String,
    pub active: bool,
    pub listed_block: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRow {
    pub task_id: u64,
    pub user: String,
    pub service_id: u64,
    pub amount: String,
    pub token: String,
    pub deadline: Option<u64>,
    pub input: Option<String>,
    pub status: TaskStatus,
    pub result_hash: Option<String>,
    pub failure_reason: Option<String>,
    pub created_block: u64,
    pub created_tx: String,
    pub created_at: u64,
    pub updated_block: u64,
    pub updated_at: u64,
}

/// One step of a task's history, straight from its logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    pub kind: String,
    pub block_number: u64,
    pub block_timestamp: u64,
    pub tx_hash: String,
    pub log_index: u64,
}
