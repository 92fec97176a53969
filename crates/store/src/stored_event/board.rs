//! TaskBoard's and Communities' events in version 1 (see the parent module): the kinds are
//! [`BoardEvent::kind`] (`Board…`) and [`CommunityEvent::kind`] (`Community…`), then the fields in the
//! order written here. Booleans are JSON `true`/`false`.

use super::{Fields, Writer};
use crate::{BoardEvent, CommunityEvent};

impl Writer {
    fn bool(mut self, name: &str, value: bool) -> Self {
        self.name(name);
        self.0.push_str(if value { "true" } else { "false" });
        self
    }
}

impl Fields<'_> {
    fn bool(&mut self, name: &str) -> Result<bool, String> {
        let value = self.take(name)?;
        value.as_bool().ok_or_else(|| format!("{}.{name} is {value}, not a boolean", self.kind))
    }
}

/// The object for one TaskBoard event, not yet closed.
pub(super) fn encode_board(event: &BoardEvent) -> Writer {
    use BoardEvent::*;
    let o = |event: &BoardEvent, task_id: u64| Writer::new(event.kind()).num("task_id", task_id);
    match event {
        TaskPublished {
            task_id,
            publisher,
            community_id,
            token,
            reward,
            reward_per_slot,
            slots,
            points,
            deadline,
            review_window,
            work_timeout,
            max_revisions,
            arbiter,
            spec,
        } => o(event, *task_id)
            .str("publisher", publisher)
            .num("community_id", *community_id)
            .str("token", token)
            .str("reward", reward)
            .str("reward_per_slot", reward_per_slot)
            .num("slots", *slots)
            .str("points", points)
            .num("deadline", *deadline)
            .num("review_window", *review_window)
            .num("work_timeout", *work_timeout)
            .num("max_revisions", *max_revisions)
            .str("arbiter", arbiter)
            .str("spec", spec),
        DeadlineExtended { task_id, deadline } => o(event, *task_id).num("deadline", *deadline),
        TaskAccepted { task_id, worker, free_slots } => {
            o(event, *task_id).str("worker", worker).num("free_slots", *free_slots)
        }
        WorkSubmitted { task_id, worker, revision, deliverable, review_ends_at } => o(event, *task_id)
            .str("worker", worker)
            .num("revision", *revision)
            .str("deliverable", deliverable)
            .num("review_ends_at", *review_ends_at),
        SubmissionApproved { task_id, worker, by, lapsed, amount, points } => o(event, *task_id)
            .str("worker", worker)
            .str("by", by)
            .bool("lapsed", *lapsed)
            .str("amount", amount)
            .str("points", points),
        SubmissionRejected { task_id, worker, reason, revisions_left, answer_ends_at } => o(event, *task_id)
            .str("worker", worker)
            .str("reason", reason)
            .num("revisions_left", *revisions_left)
            .num("answer_ends_at", *answer_ends_at),
        DisputeOpened { task_id, worker, arbiter, reason } => {
            o(event, *task_id).str("worker", worker).str("arbiter", arbiter).str("reason", reason)
        }
        DisputeResolved { task_id, worker, worker_bps, to_worker, to_publisher, points } => o(event, *task_id)
            .str("worker", worker)
            .num("worker_bps", *worker_bps)
            .str("to_worker", to_worker)
            .str("to_publisher", to_publisher)
            .str("points", points),
        WorkerRemoved { task_id, worker, accepted_at } => {
            o(event, *task_id).str("worker", worker).num("accepted_at", *accepted_at)
        }
        RejectionClosed { task_id, worker, refunded } => {
            o(event, *task_id).str("worker", worker).str("refunded", refunded)
        }
        TaskCancelled { task_id, slots, refunded } | TaskRefunded { task_id, slots, refunded } => {
            o(event, *task_id).num("slots", *slots).str("refunded", refunded)
        }
        PlatformArbiterSet { arbiter } => Writer::new(event.kind()).str("arbiter", arbiter),
    }
}

/// The object for one Communities event or points transfer, not yet closed.
pub(super) fn encode_community(event: &CommunityEvent) -> Writer {
    use CommunityEvent::*;
    let o = Writer::new(event.kind()).num("community_id", event.community_id());
    match event {
        CommunityCreated { owner, points_token, arbiter, name, symbol, metadata_uri, .. } => o
            .str("owner", owner)
            .str("points_token", points_token)
            .str("arbiter", arbiter)
            .str("name", name)
            .str("symbol", symbol)
            .str("metadata_uri", metadata_uri),
        OwnershipTransferStarted { owner, new_owner, .. } => o.str("owner", owner).str("new_owner", new_owner),
        OwnershipTransferred { previous_owner, new_owner, .. } => {
            o.str("previous_owner", previous_owner).str("new_owner", new_owner)
        }
        ArbiterSet { arbiter, .. } => o.str("arbiter", arbiter),
        MetadataUriSet { metadata_uri, .. } => o.str("metadata_uri", metadata_uri),
        AdminAdded { account, .. } | AdminRemoved { account, .. } => o.str("account", account),
        MemberJoined { account, member_count, .. } | MemberLeft { account, member_count, .. } => {
            o.str("account", account).num("member_count", *member_count)
        }
        PointsTransfersSet { enabled, .. } => o.bool("enabled", *enabled),
        PointsMinted { to, by, amount, reason, .. } => {
            o.str("to", to).str("by", by).str("amount", amount).str("reason", reason)
        }
        MinterAllowanceSet { minter, admin, allowance, .. } => {
            o.str("minter", minter).str("admin", admin).str("allowance", allowance)
        }
        MintReserved { minter, admin, amount, .. } => o.str("minter", minter).str("admin", admin).str("amount", amount),
        MintReleased { minter, amount, .. } => o.str("minter", minter).str("amount", amount),
        PointsTransfer { from, to, amount, .. } => o.str("from", from).str("to", to).str("amount", amount),
    }
}

/// The TaskBoard event `f.kind` from its fields; `Ok(None)` when the kind is not one of them.
pub(super) fn read_board(f: &mut Fields<'_>) -> Result<Option<BoardEvent>, String> {
    use BoardEvent::*;
    let Some(kind) = f.kind.strip_prefix("Board") else { return Ok(None) };
    if kind == "PlatformArbiterSet" {
        return Ok(Some(PlatformArbiterSet { arbiter: f.str("arbiter")? }));
    }
    let known = [
        "TaskPublished",
        "DeadlineExtended",
        "TaskAccepted",
        "WorkSubmitted",
        "SubmissionApproved",
        "SubmissionRejected",
        "DisputeOpened",
        "DisputeResolved",
        "WorkerRemoved",
        "RejectionClosed",
        "TaskCancelled",
        "TaskRefunded",
    ];
    if !known.contains(&kind) {
        return Ok(None);
    }
    let task_id = f.num("task_id")?;
    Ok(Some(match kind {
        "TaskPublished" => TaskPublished {
            task_id,
            publisher: f.str("publisher")?,
            community_id: f.num("community_id")?,
            token: f.str("token")?,
            reward: f.str("reward")?,
            reward_per_slot: f.str("reward_per_slot")?,
            slots: f.num("slots")?,
            points: f.str("points")?,
            deadline: f.num("deadline")?,
            review_window: f.num("review_window")?,
            work_timeout: f.num("work_timeout")?,
            max_revisions: f.num("max_revisions")?,
            arbiter: f.str("arbiter")?,
            spec: f.str("spec")?,
        },
        "DeadlineExtended" => DeadlineExtended { task_id, deadline: f.num("deadline")? },
        "TaskAccepted" => TaskAccepted { task_id, worker: f.str("worker")?, free_slots: f.num("free_slots")? },
        "WorkSubmitted" => WorkSubmitted {
            task_id,
            worker: f.str("worker")?,
            revision: f.num("revision")?,
            deliverable: f.str("deliverable")?,
            review_ends_at: f.num("review_ends_at")?,
        },
        "SubmissionApproved" => SubmissionApproved {
            task_id,
            worker: f.str("worker")?,
            by: f.str("by")?,
            lapsed: f.bool("lapsed")?,
            amount: f.str("amount")?,
            points: f.str("points")?,
        },
        "SubmissionRejected" => SubmissionRejected {
            task_id,
            worker: f.str("worker")?,
            reason: f.str("reason")?,
            revisions_left: f.num("revisions_left")?,
            answer_ends_at: f.num("answer_ends_at")?,
        },
        "DisputeOpened" => {
            DisputeOpened { task_id, worker: f.str("worker")?, arbiter: f.str("arbiter")?, reason: f.str("reason")? }
        }
        "DisputeResolved" => DisputeResolved {
            task_id,
            worker: f.str("worker")?,
            worker_bps: f.num("worker_bps")?,
            to_worker: f.str("to_worker")?,
            to_publisher: f.str("to_publisher")?,
            points: f.str("points")?,
        },
        "WorkerRemoved" => WorkerRemoved { task_id, worker: f.str("worker")?, accepted_at: f.num("accepted_at")? },
        "RejectionClosed" => RejectionClosed { task_id, worker: f.str("worker")?, refunded: f.str("refunded")? },
        "TaskCancelled" => TaskCancelled { task_id, slots: f.num("slots")?, refunded: f.str("refunded")? },
        _ => TaskRefunded { task_id, slots: f.num("slots")?, refunded: f.str("refunded")? },
    }))
}

/// The Communities event `f.kind` from its fields; `Ok(None)` when the kind is not one of them.
pub(super) fn read_community(f: &mut Fields<'_>) -> Result<Option<CommunityEvent>, String> {
    use CommunityEvent::*;
    let known = [
        "CommunityCreated",
        "CommunityOwnershipTransferStarted",
        "CommunityOwnershipTransferred",
        "CommunityArbiterSet",
        "CommunityMetadataUriSet",
        "CommunityAdminAdded",
        "CommunityAdminRemoved",
        "CommunityMemberJoined",
        "CommunityMemberLeft",
        "CommunityPointsTransfersSet",
        "CommunityPointsMinted",
        "CommunityMinterAllowanceSet",
        "CommunityMintReserved",
        "CommunityMintReleased",
        "CommunityPointsTransfer",
    ];
    if !known.contains(&f.kind) {
        return Ok(None);
    }
    let community_id = f.num("community_id")?;
    Ok(Some(match f.kind {
        "CommunityCreated" => CommunityCreated {
            community_id,
            owner: f.str("owner")?,
            points_token: f.str("points_token")?,
            arbiter: f.str("arbiter")?,
            name: f.str("name")?,
            symbol: f.str("symbol")?,
            metadata_uri: f.str("metadata_uri")?,
        },
        "CommunityOwnershipTransferStarted" => {
            OwnershipTransferStarted { community_id, owner: f.str("owner")?, new_owner: f.str("new_owner")? }
        }
        "CommunityOwnershipTransferred" => OwnershipTransferred {
            community_id,
            previous_owner: f.str("previous_owner")?,
            new_owner: f.str("new_owner")?,
        },
        "CommunityArbiterSet" => ArbiterSet { community_id, arbiter: f.str("arbiter")? },
        "CommunityMetadataUriSet" => MetadataUriSet { community_id, metadata_uri: f.str("metadata_uri")? },
        "CommunityAdminAdded" => AdminAdded { community_id, account: f.str("account")? },
        "CommunityAdminRemoved" => AdminRemoved { community_id, account: f.str("account")? },
        "CommunityMemberJoined" => {
            MemberJoined { community_id, account: f.str("account")?, member_count: f.num("member_count")? }
        }
        "CommunityMemberLeft" => {
            MemberLeft { community_id, account: f.str("account")?, member_count: f.num("member_count")? }
        }
        "CommunityPointsTransfersSet" => PointsTransfersSet { community_id, enabled: f.bool("enabled")? },
        "CommunityPointsMinted" => PointsMinted {
            community_id,
            to: f.str("to")?,
            by: f.str("by")?,
            amount: f.str("amount")?,
            reason: f.str("reason")?,
        },
        "CommunityMinterAllowanceSet" => MinterAllowanceSet {
            community_id,
            minter: f.str("minter")?,
            admin: f.str("admin")?,
            allowance: f.str("allowance")?,
        },
        "CommunityMintReserved" => {
            MintReserved { community_id, minter: f.str("minter")?, admin: f.str("admin")?, amount: f.str("amount")? }
        }
        "CommunityMintReleased" => MintReleased { community_id, minter: f.str("minter")?, amount: f.str("amount")? },
        _ => PointsTransfer { community_id, from: f.str("from")?, to: f.str("to")?, amount: f.str("amount")? },
    }))
}
