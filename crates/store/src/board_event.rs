//! The community task market's events in the store's vocabulary: TaskBoard's as
//! [`MarketEvent::Board`], Communities' and the points tokens' as [`MarketEvent::Community`].
//! Addresses lower-case hex, amounts decimal strings, ids, counts and times numbers.
//!
//! [`MarketEvent::Board`]: crate::MarketEvent::Board
//! [`MarketEvent::Community`]: crate::MarketEvent::Community

/// A TaskBoard event. Its name ([`BoardEvent::kind`], also the stored `kind`) is the contract's
/// event name prefixed with `Board`: ComputeMarket and FederatedMarket already have a
/// `TaskCancelled` and a `TaskRefunded`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BoardEvent {
    /// A publisher published a task and escrowed its reward (all its terms).
    TaskPublished {
        /// The new task's id.
        task_id: u64,
        /// Who published it and pays for it.
        publisher: String,
        /// The community it belongs to (0: none).
        community_id: u64,
        /// The reward's token (zero address: ETH).
        token: String,
        /// The whole reward escrowed.
        reward: String,
        /// What each slot pays (`reward / slots`, exact).
        reward_per_slot: String,
        /// How many workers it pays.
        slots: u64,
        /// Points each approved worker is minted (0: none).
        points: String,
        /// Unix seconds: first submissions are taken until then.
        deadline: u64,
        /// Seconds the publisher has to review each submission.
        review_window: u64,
        /// Seconds after accepting without a submission before the publisher may remove a worker.
        work_timeout: u64,
        /// How many times a rejected worker may submit again.
        max_revisions: u64,
        /// Who decides its disputes (fixed at publication).
        arbiter: String,
        /// Its description (a URI or CID).
        spec: String,
    },
    /// The publisher moved a task's deadline later.
    DeadlineExtended {
        /// The task.
        task_id: u64,
        /// The new deadline, unix seconds.
        deadline: u64,
    },
    /// A worker took a slot.
    TaskAccepted {
        /// The task.
        task_id: u64,
        /// The worker.
        worker: String,
        /// Slots still free after this one.
        free_slots: u64,
    },
    /// A worker submitted (or, after a rejection, revised) its work.
    WorkSubmitted {
        /// The task.
        task_id: u64,
        /// The worker.
        worker: String,
        /// 0 for the first submission, then 1, 2, … per revision.
        revision: u64,
        /// The deliverable (a URI or CID).
        deliverable: String,
        /// Unix seconds: the publisher reviews until then, after which anyone may approve.
        review_ends_at: u64,
    },
    /// A submission was approved (by the publisher, or by anyone once the review window lapsed).
    SubmissionApproved {
        /// The task.
        task_id: u64,
        /// The worker paid.
        worker: String,
        /// Who approved.
        by: String,
        /// Whether the review window had lapsed.
        lapsed: bool,
        /// What the worker was paid.
        amount: String,
        /// Points minted to the worker.
        points: String,
    },
    /// The publisher rejected a submission.
    SubmissionRejected {
        /// The task.
        task_id: u64,
        /// The worker.
        worker: String,
        /// Why, in words.
        reason: String,
        /// Revisions the worker may still submit.
        revisions_left: u64,
        /// Unix seconds: the worker may revise or dispute until then.
        answer_ends_at: u64,
    },
    /// A rejected worker asked the task's arbiter to decide.
    DisputeOpened {
        /// The task.
        task_id: u64,
        /// The worker.
        worker: String,
        /// Who decides.
        arbiter: String,
        /// Why, in words.
        reason: String,
    },
    /// The arbiter decided a dispute.
    DisputeResolved {
        /// The task.
        task_id: u64,
        /// The worker.
        worker: String,
        /// The worker's share in basis points (10 000: all).
        worker_bps: u64,
        /// What the worker was paid.
        to_worker: String,
        /// What went back to the publisher.
        to_publisher: String,
        /// Points minted to the worker.
        points: String,
    },
    /// The publisher removed a worker who accepted and went silent; its slot is free again.
    WorkerRemoved {
        /// The task.
        task_id: u64,
        /// The worker.
        worker: String,
        /// Unix seconds it had accepted at.
        accepted_at: u64,
    },
    /// A rejection nobody answered in time was closed; past the deadline the slot went back.
    RejectionClosed {
        /// The task.
        task_id: u64,
        /// The worker.
        worker: String,
        /// What went back to the publisher (0 before the deadline: the slot is free again).
        refunded: String,
    },
    /// The publisher cancelled a task nobody submitted on; its unsettled slots went back.
    TaskCancelled {
        /// The task.
        task_id: u64,
        /// How many slots were refunded.
        slots: u64,
        /// What went back to the publisher.
        refunded: String,
    },
    /// After the deadline, the free slots and those nobody submitted on went back to the publisher.
    TaskRefunded {
        /// The task.
        task_id: u64,
        /// How many slots were refunded.
        slots: u64,
        /// What went back to the publisher.
        refunded: String,
    },
    /// The platform arbiter (disputes of tasks without a community) changed.
    PlatformArbiterSet {
        /// The new platform arbiter.
        arbiter: String,
    },
}

impl BoardEvent {
    /// The event's name: the contract's, prefixed with `Board`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TaskPublished { .. } => "BoardTaskPublished",
            Self::DeadlineExtended { .. } => "BoardDeadlineExtended",
            Self::TaskAccepted { .. } => "BoardTaskAccepted",
            Self::WorkSubmitted { .. } => "BoardWorkSubmitted",
            Self::SubmissionApproved { .. } => "BoardSubmissionApproved",
            Self::SubmissionRejected { .. } => "BoardSubmissionRejected",
            Self::DisputeOpened { .. } => "BoardDisputeOpened",
            Self::DisputeResolved { .. } => "BoardDisputeResolved",
            Self::WorkerRemoved { .. } => "BoardWorkerRemoved",
            Self::RejectionClosed { .. } => "BoardRejectionClosed",
            Self::TaskCancelled { .. } => "BoardTaskCancelled",
            Self::TaskRefunded { .. } => "BoardTaskRefunded",
            Self::PlatformArbiterSet { .. } => "BoardPlatformArbiterSet",
        }
    }

    /// The task the event is about (`None` for the board-wide `PlatformArbiterSet`).
    pub fn task_id(&self) -> Option<u64> {
        match self {
            Self::TaskPublished { task_id, .. }
            | Self::DeadlineExtended { task_id, .. }
            | Self::TaskAccepted { task_id, .. }
            | Self::WorkSubmitted { task_id, .. }
            | Self::SubmissionApproved { task_id, .. }
            | Self::SubmissionRejected { task_id, .. }
            | Self::DisputeOpened { task_id, .. }
            | Self::DisputeResolved { task_id, .. }
            | Self::WorkerRemoved { task_id, .. }
            | Self::RejectionClosed { task_id, .. }
            | Self::TaskCancelled { task_id, .. }
            | Self::TaskRefunded { task_id, .. } => Some(*task_id),
            Self::PlatformArbiterSet { .. } => None,
        }
    }

    /// The worker the event is about, if it is about one.
    pub fn worker(&self) -> Option<&str> {
        match self {
            Self::TaskAccepted { worker, .. }
            | Self::WorkSubmitted { worker, .. }
            | Self::SubmissionApproved { worker, .. }
            | Self::SubmissionRejected { worker, .. }
            | Self::DisputeOpened { worker, .. }
            | Self::DisputeResolved { worker, .. }
            | Self::WorkerRemoved { worker, .. }
            | Self::RejectionClosed { worker, .. } => Some(worker),
            _ => None,
        }
    }

    /// `board-task:3`, or `board` for the platform arbiter.
    pub fn subject(&self) -> String {
        match self.task_id() {
            Some(id) => format!("board-task:{id}"),
            None => "board".to_owned(),
        }
    }
}
