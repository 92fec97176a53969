//! The task board's JSON shapes: a task with its terms and slot counts, a worker's claim, a timeline
//! entry. `board` and `community` serve them; `/api/events` sends a task as `board_task`.

use std::collections::HashMap;

use agora_store::{BoardClaimRow, BoardClaimState, BoardEvent, BoardTaskRow, BoardTaskState, BoardTimelineEntry};
use serde::{Deserialize, Serialize};

use crate::fl_market::{dec, lower_hex};
use crate::{ApiError, AppState};

/// Where a task stands on chain.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, utoipa::ToSchema, async_graphql::Enum)]
#[serde(rename_all = "snake_case")]
#[schema(as = BoardTaskState)]
#[graphql(name = "BoardTaskState", rename_items = "snake_case")]
pub(crate) enum TaskStateDto {
    /// Published: slots are taken, worked on and settled (refunded after the deadline).
    Open,
    /// Cancelled by its publisher before any submission.
    Cancelled,
}

/// Where a worker's claim on a slot stands.
#[derive(Serialize, Clone, Copy, PartialEq, Eq, utoipa::ToSchema, async_graphql::Enum)]
#[serde(rename_all = "snake_case")]
#[schema(as = BoardClaimState)]
#[graphql(name = "BoardClaimState", rename_items = "snake_case")]
pub(crate) enum ClaimStateDto {
    Working,
    Submitted,
    Rejected,
    Disputed,
    Approved,
    Resolved,
    Removed,
    Closed,
}

impl From<BoardClaimState> for ClaimStateDto {
    fn from(s: BoardClaimState) -> Self {
        match s {
            BoardClaimState::Working => Self::Working,
            BoardClaimState::Submitted => Self::Submitted,
            BoardClaimState::Rejected => Self::Rejected,
            BoardClaimState::Disputed => Self::Disputed,
            BoardClaimState::Approved => Self::Approved,
            BoardClaimState::Resolved => Self::Resolved,
            BoardClaimState::Removed => Self::Removed,
            BoardClaimState::Closed => Self::Closed,
        }
    }
}

/// How many of a task's claims are in each state.
#[derive(Serialize, Default, utoipa::ToSchema, async_graphql::SimpleObject)]
#[schema(as = BoardClaimCounts)]
#[graphql(name = "BoardClaimCounts")]
pub(crate) struct CountsDto {
    working: u64,
    submitted: u64,
    rejected: u64,
    disputed: u64,
    approved: u64,
    resolved: u64,
    removed: u64,
    closed: u64,
}

impl CountsDto {
    fn add(&mut self, state: BoardClaimState, n: u64) {
        let slot = match state {
            BoardClaimState::Working => &mut self.working,
            BoardClaimState::Submitted => &mut self.submitted,
            BoardClaimState::Rejected => &mut self.rejected,
            BoardClaimState::Disputed => &mut self.disputed,
            BoardClaimState::Approved => &mut self.approved,
            BoardClaimState::Resolved => &mut self.resolved,
            BoardClaimState::Removed => &mut self.removed,
            BoardClaimState::Closed => &mut self.closed,
        };
        *slot += n;
    }
}

/// A task with its terms, its slots and what left its escrow.
#[derive(Serialize, utoipa::ToSchema, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
#[schema(as = BoardTask)]
#[graphql(name = "BoardTask")]
pub(crate) struct TaskDto {
    pub(crate) id: u64,
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    publisher: String,
    /// Its community; absent (null) when it has none and disputes go to the platform arbiter.
    community_id: Option<u64>,
    /// The reward's token; `0x000…0` for ETH.
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    token: String,
    /// What each slot pays, smallest unit.
    #[schema(pattern = "^[0-9]+$")]
    reward_per_slot: String,
    /// The whole reward escrowed: `rewardPerSlot × slots`.
    #[schema(pattern = "^[0-9]+$")]
    reward: String,
    slots: u64,
    /// Slots nobody holds.
    free_slots: u64,
    /// Community points minted to each approved worker.
    #[schema(pattern = "^[0-9]+$")]
    points: String,
    /// Unix seconds: first submissions are taken until then.
    deadline: u64,
    /// Seconds the publisher has to review each submission.
    review_window: u64,
    /// Seconds without a submission after which the publisher may remove a worker.
    work_timeout: u64,
    max_revisions: u64,
    /// Who decides its disputes (fixed at publication).
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    arbiter: String,
    /// Its description: a CID in the content store, or a URI.
    spec: String,
    state: TaskStateDto,
    /// Whether anything was ever submitted (it can no longer be cancelled).
    submitted: bool,
    /// Unix seconds (block time).
    published_at: u64,
    #[schema(pattern = "^0x[0-9a-f]{64}$")]
    published_tx: String,
    counts: CountsDto,
    /// Paid to workers so far.
    #[schema(pattern = "^[0-9]+$")]
    paid: String,
    /// Refunded to the publisher so far.
    #[schema(pattern = "^[0-9]+$")]
    refunded: String,
}

fn task_dto(t: BoardTaskRow, counts: CountsDto) -> TaskDto {
    TaskDto {
        id: t.task_id,
        publisher: lower_hex(t.publisher),
        community_id: t.community_id,
        token: lower_hex(t.token),
        reward_per_slot: dec(t.reward_per_slot),
        reward: dec(t.reward),
        slots: t.slots,
        free_slots: t.free_slots,
        points: dec(t.points),
        deadline: t.deadline,
        review_window: t.review_window,
        work_timeout: t.work_timeout,
        max_revisions: t.max_revisions,
        arbiter: lower_hex(t.arbiter),
        spec: t.spec,
        state: match t.state {
            BoardTaskState::Open => TaskStateDto::Open,
            BoardTaskState::Cancelled => TaskStateDto::Cancelled,
        },
        submitted: t.submitted,
        published_at: t.created_at,
        published_tx: lower_hex(t.created_tx),
        counts,
        paid: dec(t.paid_to_workers),
        refunded: dec(t.refunded),
    }
}

/// The tasks as the API shows them, each with its claims counted by state (one query for all).
pub(crate) async fn tasks_with_counts(s: &AppState, rows: Vec<BoardTaskRow>) -> Result<Vec<TaskDto>, ApiError> {
    let ids: Vec<u64> = rows.iter().map(|t| t.task_id).collect();
    let mut counts: HashMap<u64, CountsDto> = HashMap::new();
    for (task, state, n) in s.store.board_claim_counts(s.network.chain_id, &ids).await? {
        counts.entry(task).or_default().add(state, n);
    }
    Ok(rows
        .into_iter()
        .map(|t| {
            let c = counts.remove(&t.task_id).unwrap_or_default();
            task_dto(t, c)
        })
        .collect())
}

/// A worker's claim on one of a task's slots.
#[derive(Serialize, utoipa::ToSchema, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
#[schema(as = BoardClaim)]
#[graphql(name = "BoardClaim")]
pub(crate) struct ClaimDto {
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    worker: String,
    state: ClaimStateDto,
    /// Revisions submitted after rejections.
    revisions: u64,
    /// Unix seconds.
    accepted_at: u64,
    /// Unix seconds it entered its current state at.
    since: u64,
    /// The latest deliverable (a CID or URI).
    deliverable: Option<String>,
    /// While submitted: the publisher decides until then, anyone may approve after.
    review_ends_at: Option<u64>,
    /// While rejected: the worker may revise or dispute until then.
    answer_ends_at: Option<u64>,
    rejection_reason: Option<String>,
    /// Revisions left after the latest rejection.
    revisions_left: Option<u64>,
    dispute_reason: Option<String>,
    /// The arbiter's decision: the worker's share in basis points.
    worker_bps: Option<u64>,
    /// Paid to the worker.
    #[schema(pattern = "^[0-9]+$")]
    paid: String,
    /// Community points minted to the worker.
    #[schema(pattern = "^[0-9]+$")]
    points_minted: String,
}

pub(crate) fn claim_dto(c: BoardClaimRow) -> ClaimDto {
    let submitted = c.state == BoardClaimState::Submitted;
    let rejected = c.state == BoardClaimState::Rejected;
    ClaimDto {
        worker: lower_hex(c.worker),
        state: c.state.into(),
        revisions: c.revisions,
        accepted_at: c.accepted_at,
        since: c.since,
        deliverable: c.deliverable,
        review_ends_at: c.review_ends_at.filter(|_| submitted),
        answer_ends_at: c.answer_ends_at.filter(|_| rejected),
        rejection_reason: c.reject_reason,
        revisions_left: c.revisions_left,
        dispute_reason: c.dispute_reason,
        worker_bps: c.worker_bps,
        paid: dec(c.paid),
        points_minted: dec(c.points),
    }
}

/// What happened to a task, one log.
#[derive(Serialize, Clone, Copy, PartialEq, Eq, utoipa::ToSchema, async_graphql::Enum)]
#[serde(rename_all = "camelCase")]
#[schema(as = BoardTimelineKind)]
#[graphql(name = "BoardTimelineKind", rename_items = "camelCase")]
pub(crate) enum TimelineKind {
    Published,
    DeadlineExtended,
    Accepted,
    Submitted,
    Approved,
    Rejected,
    DisputeOpened,
    DisputeResolved,
    WorkerRemoved,
    RejectionClosed,
    Cancelled,
    Refunded,
}

/// A value in a timeline entry's details.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[schema(as = BoardTimelineValue)]
pub(crate) enum Detail {
    Text(String),
    Number(u64),
    Flag(bool),
}

/// One log of a task's history.
#[derive(Serialize, utoipa::ToSchema, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
#[schema(as = BoardTimelineEntry)]
#[graphql(name = "BoardTimelineEntry", complex)]
pub(crate) struct TimelineDto {
    kind: TimelineKind,
    /// Unix seconds (the block's time).
    at: u64,
    block: u64,
    #[schema(pattern = "^0x[0-9a-f]{64}$")]
    tx: String,
    /// The worker it concerns, if any.
    worker: Option<String>,
    /// The event's other fields (amounts as decimal strings, times as unix seconds).
    #[graphql(skip)]
    detail: std::collections::BTreeMap<&'static str, Detail>,
}

#[async_graphql::ComplexObject]
impl TimelineDto {
    /// What the event carried, by name (amounts as decimal strings): the same object REST sends.
    async fn detail(&self) -> async_graphql::Json<&std::collections::BTreeMap<&'static str, Detail>> {
        async_graphql::Json(&self.detail)
    }
}

impl TimelineDto {
    /// The entry for a log about a task; `None` for a board-wide one (the platform arbiter's change).
    pub(crate) fn from_entry(e: BoardTimelineEntry) -> Option<Self> {
        use Detail::{Flag, Number, Text};
        let worker = e.event.worker().map(str::to_owned);
        let (kind, detail): (TimelineKind, Vec<(&'static str, Detail)>) = match e.event {
            BoardEvent::TaskPublished { reward, slots, deadline, .. } => (
                TimelineKind::Published,
                vec![("reward", Text(reward)), ("slots", Number(slots)), ("deadline", Number(deadline))],
            ),
            BoardEvent::DeadlineExtended { deadline, .. } => {
                (TimelineKind::DeadlineExtended, vec![("deadline", Number(deadline))])
            }
            BoardEvent::TaskAccepted { free_slots, .. } => {
                (TimelineKind::Accepted, vec![("freeSlots", Number(free_slots))])
            }
            BoardEvent::WorkSubmitted { revision, deliverable, review_ends_at, .. } => (
                TimelineKind::Submitted,
                vec![
                    ("revision", Number(revision)),
                    ("deliverable", Text(deliverable)),
                    ("reviewEndsAt", Number(review_ends_at)),
                ],
            ),
            BoardEvent::SubmissionApproved { by, lapsed, amount, points, .. } => (
                TimelineKind::Approved,
                vec![("by", Text(by)), ("lapsed", Flag(lapsed)), ("amount", Text(amount)), ("points", Text(points))],
            ),
            BoardEvent::SubmissionRejected { reason, revisions_left, answer_ends_at, .. } => (
                TimelineKind::Rejected,
                vec![
                    ("reason", Text(reason)),
                    ("revisionsLeft", Number(revisions_left)),
                    ("answerEndsAt", Number(answer_ends_at)),
                ],
            ),
            BoardEvent::DisputeOpened { arbiter, reason, .. } => {
                (TimelineKind::DisputeOpened, vec![("arbiter", Text(arbiter)), ("reason", Text(reason))])
            }
            BoardEvent::DisputeResolved { worker_bps, to_worker, to_publisher, points, .. } => (
                TimelineKind::DisputeResolved,
                vec![
                    ("workerBps", Number(worker_bps)),
                    ("toWorker", Text(to_worker)),
                    ("toPublisher", Text(to_publisher)),
                    ("points", Text(points)),
                ],
            ),
            BoardEvent::WorkerRemoved { accepted_at, .. } => {
                (TimelineKind::WorkerRemoved, vec![("acceptedAt", Number(accepted_at))])
            }
            BoardEvent::RejectionClosed { refunded, .. } => {
                (TimelineKind::RejectionClosed, vec![("refunded", Text(refunded))])
            }
            BoardEvent::TaskCancelled { slots, refunded, .. } => {
                (TimelineKind::Cancelled, vec![("slots", Number(slots)), ("refunded", Text(refunded))])
            }
            BoardEvent::TaskRefunded { slots, refunded, .. } => {
                (TimelineKind::Refunded, vec![("slots", Number(slots)), ("refunded", Text(refunded))])
            }
            BoardEvent::PlatformArbiterSet { .. } => return None,
        };
        Some(Self {
            kind,
            at: e.block_timestamp,
            block: e.block_number,
            tx: lower_hex(e.tx_hash),
            worker,
            detail: detail.into_iter().collect(),
        })
    }
}

/// A task with its claims and history.
#[derive(Serialize, utoipa::ToSchema, async_graphql::SimpleObject)]
#[schema(as = BoardTaskDetail)]
#[graphql(name = "BoardTaskDetail")]
pub(crate) struct TaskDetailDto {
    pub(crate) task: TaskDto,
    pub(crate) claims: Vec<ClaimDto>,
    pub(crate) timeline: Vec<TimelineDto>,
}
