use alloy::primitives::{Address, B256, U256};
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

/// A contract event: addresses lower-case hex, amounts decimal strings. What `chain_logs` stores
/// is not this enum's shape but the encoding of the `stored_event` module, which a change here
/// must extend.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    ChannelOpened {
        channel_id: String,
        payer: String,
        payee: String,
        token: String,
        signer: String,
        salt: String,
        deposit: String,
        expiry: u64,
    },
    ChannelToppedUp {
        channel_id: String,
        amount: String,
        deposit: String,
    },
    ChannelExtended {
        channel_id: String,
        expiry: u64,
    },
    ChannelClosed {
        channel_id: String,
        paid_to_payee: String,
        refunded_to_payer: String,
    },
    ChannelReclaimed {
        channel_id: String,
        refunded_to_payer: String,
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
            Self::ChannelOpened { .. } => "ChannelOpened",
            Self::ChannelToppedUp { .. } => "ChannelToppedUp",
            Self::ChannelExtended { .. } => "ChannelExtended",
            Self::ChannelClosed { .. } => "ChannelClosed",
            Self::ChannelReclaimed { .. } => "ChannelReclaimed",
        }
    }

    /// What the event is about: `task:3`, `service:1` or `channel:0x…`.
    pub fn subject(&self) -> String {
        match self {
            Self::ServiceListed { service_id, .. }
            | Self::ServiceUpdated { service_id, .. }
            | Self::ServiceDelisted { service_id } => format!("service:{service_id}"),
            Self::TaskCreated { task_id, .. }
            | Self::TaskInput { task_id, .. }
            | Self::TaskStarted { task_id }
            | Self::TaskCompleted { task_id, .. }
            | Self::TaskFailed { task_id, .. }
            | Self::TaskRefunded { task_id } => format!("task:{task_id}"),
            Self::ChannelOpened { channel_id, .. }
            | Self::ChannelToppedUp { channel_id, .. }
            | Self::ChannelExtended { channel_id, .. }
            | Self::ChannelClosed { channel_id, .. }
            | Self::ChannelReclaimed { channel_id, .. } => format!("channel:{channel_id}"),
        }
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
    pub provider: Address,
    /// `Address::ZERO` for native ETH.
    pub token: Address,
    pub price: U256,
    pub max_run_time: u64,
    pub metadata_uri: String,
    /// `metadata_uri` read once, here: `None` when it is not Agora service metadata.
    pub metadata: Option<agora_market::ServiceMetadata>,
    pub active: bool,
    pub listed_block: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRow {
    pub task_id: u64,
    pub user: Address,
    pub service_id: u64,
    pub amount: U256,
    pub token: Address,
    pub deadline: Option<u64>,
    pub input: Option<String>,
    pub status: TaskStatus,
    pub result_hash: Option<String>,
    pub failure_reason: Option<String>,
    pub created_block: u64,
    pub created_tx: B256,
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

/// A channel's state on chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChannelState {
    Open,
    Closed,
    Reclaimed,
}

impl ChannelState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "Open",
            Self::Closed => "Closed",
            Self::Reclaimed => "Reclaimed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "Open" => Self::Open,
            "Closed" => Self::Closed,
            "Reclaimed" => Self::Reclaimed,
            _ => return None,
        })
    }
}

/// A channel as indexed, with the payee ledger's highest voucher when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRow {
    pub channel_id: String,
    pub payer: String,
    pub payee: String,
    pub token: String,
    pub signer: String,
    pub salt: String,
    pub deposit: String,
    pub expiry: u64,
    pub state: ChannelState,
    pub paid_to_payee: Option<String>,
    pub refunded_to_payer: Option<String>,
    pub opened_block: u64,
    pub updated_block: u64,
    pub voucher: Option<VoucherRow>,
}

/// The highest voucher the payee ledger accepted for a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoucherRow {
    pub cumulative_amount: String,
    pub signature: String,
    pub vouchers_accepted: u64,
    pub updated_at: u64,
}

/// One run of a background job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRun {
    pub job: String,
    pub started_at_ms: u64,
    pub finished_at_ms: u64,
    pub channels_touched: u64,
    pub errors: Vec<String>,
}
