//! TaskBoard, Communities and points-token logs → storage events. These are decoded by the
//! contract that emitted them, never by signature alone: Communities' `MemberJoined(uint256,
//! address,uint32)` has the very signature of FederatedMarket's.

use agora_chain::bindings::Communities::CommunitiesEvents as Cm;
use agora_chain::bindings::CommunityPoints;
use agora_chain::bindings::TaskBoard::TaskBoardEvents as Tb;
use agora_store::{BoardEvent, CommunityEvent};
use alloy::primitives::{Address, B256, U256};
use alloy::rpc::types::Log;
use alloy::sol_types::{SolEvent, SolEventInterface};

fn addr(a: Address) -> String {
    a.to_string().to_ascii_lowercase()
}

fn id(v: U256) -> Option<u64> {
    u64::try_from(v).ok()
}

fn hex(h: B256) -> String {
    h.to_string()
}

/// Decodes a log of the TaskBoard contract; `None` for the events the store does not track (the
/// payout base's `PayoutDeferred` and withdrawals) and for data that does not decode.
pub fn decode_board_log(log: &Log) -> Option<BoardEvent> {
    let ev = Tb::decode_raw_log(log.topics(), &log.data().data).ok()?;
    Some(match ev {
        Tb::TaskPublished(e) => {
            let p = e.params;
            BoardEvent::TaskPublished {
                task_id: id(e.taskId)?,
                publisher: addr(e.publisher),
                community_id: e.communityId,
                token: addr(p.token),
                reward: p.reward.to_string(),
                reward_per_slot: e.rewardPerSlot.to_string(),
                slots: u64::from(p.slots),
                points: p.points.to_string(),
                deadline: p.deadline.to::<u64>(),
                review_window: u64::from(p.reviewWindow),
                work_timeout: u64::from(p.workTimeout),
                max_revisions: u64::from(p.maxRevisions),
                arbiter: addr(e.arbiter),
                spec: p.spec,
            }
        }
        Tb::DeadlineExtended(e) => BoardEvent::DeadlineExtended { task_id: id(e.taskId)?, deadline: e.deadline.to() },
        Tb::TaskAccepted(e) => BoardEvent::TaskAccepted {
            task_id: id(e.taskId)?,
            worker: addr(e.worker),
            free_slots: u64::from(e.freeSlots),
        },
        Tb::WorkSubmitted(e) => BoardEvent::WorkSubmitted {
            task_id: id(e.taskId)?,
            worker: addr(e.worker),
            revision: u64::from(e.revision),
            deliverable: e.deliverable,
            review_ends_at: e.reviewEndsAt.to(),
        },
        Tb::SubmissionApproved(e) => BoardEvent::SubmissionApproved {
            task_id: id(e.taskId)?,
            worker: addr(e.worker),
            by: addr(e.by),
            lapsed: e.lapsed,
            amount: e.amount.to_string(),
            points: e.points.to_string(),
        },
        Tb::SubmissionRejected(e) => BoardEvent::SubmissionRejected {
            task_id: id(e.taskId)?,
            worker: addr(e.worker),
            reason: e.reason,
            revisions_left: u64::from(e.revisionsLeft),
            answer_ends_at: e.answerEndsAt.to(),
        },
        Tb::DisputeOpened(e) => BoardEvent::DisputeOpened {
            task_id: id(e.taskId)?,
            worker: addr(e.worker),
            arbiter: addr(e.arbiter),
            reason: e.reason,
        },
        Tb::DisputeResolved(e) => BoardEvent::DisputeResolved {
            task_id: id(e.taskId)?,
            worker: addr(e.worker),
            worker_bps: u64::from(e.workerBps),
            to_worker: e.toWorker.to_string(),
            to_publisher: e.toPublisher.to_string(),
            points: e.points.to_string(),
        },
        Tb::WorkerRemoved(e) => {
            BoardEvent::WorkerRemoved { task_id: id(e.taskId)?, worker: addr(e.worker), accepted_at: e.acceptedAt.to() }
        }
        Tb::RejectionClosed(e) => BoardEvent::RejectionClosed {
            task_id: id(e.taskId)?,
            worker: addr(e.worker),
            refunded: e.refunded.to_string(),
        },
        Tb::TaskCancelled(e) => BoardEvent::TaskCancelled {
            task_id: id(e.taskId)?,
            slots: u64::from(e.slots),
            refunded: e.refunded.to_string(),
        },
        Tb::TaskRefunded(e) => BoardEvent::TaskRefunded {
            task_id: id(e.taskId)?,
            slots: u64::from(e.slots),
            refunded: e.refunded.to_string(),
        },
        Tb::PlatformArbiterSet(e) => BoardEvent::PlatformArbiterSet { arbiter: addr(e.arbiter) },
        _ => return None,
    })
}

/// Decodes a log of the Communities contract; `None` for data that does not decode.
pub fn decode_community_log(log: &Log) -> Option<CommunityEvent> {
    let ev = Cm::decode_raw_log(log.topics(), &log.data().data).ok()?;
    Some(match ev {
        Cm::CommunityCreated(e) => CommunityEvent::CommunityCreated {
            community_id: id(e.communityId)?,
            owner: addr(e.owner),
            points_token: addr(e.points),
            arbiter: addr(e.arbiter),
            name: e.name,
            symbol: e.symbol,
            metadata_uri: e.metadataUri,
        },
        Cm::OwnershipTransferStarted(e) => CommunityEvent::OwnershipTransferStarted {
            community_id: id(e.communityId)?,
            owner: addr(e.owner),
            new_owner: addr(e.newOwner),
        },
        Cm::OwnershipTransferred(e) => CommunityEvent::OwnershipTransferred {
            community_id: id(e.communityId)?,
            previous_owner: addr(e.previousOwner),
            new_owner: addr(e.newOwner),
        },
        Cm::ArbiterSet(e) => CommunityEvent::ArbiterSet { community_id: id(e.communityId)?, arbiter: addr(e.arbiter) },
        Cm::MetadataUriSet(e) => {
            CommunityEvent::MetadataUriSet { community_id: id(e.communityId)?, metadata_uri: e.metadataUri }
        }
        Cm::AdminAdded(e) => CommunityEvent::AdminAdded { community_id: id(e.communityId)?, account: addr(e.account) },
        Cm::AdminRemoved(e) => {
            CommunityEvent::AdminRemoved { community_id: id(e.communityId)?, account: addr(e.account) }
        }
        Cm::MemberJoined(e) => CommunityEvent::MemberJoined {
            community_id: id(e.communityId)?,
            account: addr(e.account),
            member_count: u64::from(e.memberCount),
        },
        Cm::MemberLeft(e) => CommunityEvent::MemberLeft {
            community_id: id(e.communityId)?,
            account: addr(e.account),
            member_count: u64::from(e.memberCount),
        },
        Cm::PointsTransfersSet(e) => {
            CommunityEvent::PointsTransfersSet { community_id: id(e.communityId)?, enabled: e.enabled }
        }
        Cm::PointsMinted(e) => CommunityEvent::PointsMinted {
            community_id: id(e.communityId)?,
            to: addr(e.to),
            by: addr(e.by),
            amount: e.amount.to_string(),
            reason: hex(e.reason),
        },
        Cm::MinterAllowanceSet(e) => CommunityEvent::MinterAllowanceSet {
            community_id: id(e.communityId)?,
            minter: addr(e.minter),
            admin: addr(e.admin),
            allowance: e.allowance.to_string(),
        },
        Cm::MintReserved(e) => CommunityEvent::MintReserved {
            community_id: id(e.communityId)?,
            minter: addr(e.minter),
            admin: addr(e.admin),
            amount: e.amount.to_string(),
        },
        Cm::MintReleased(e) => CommunityEvent::MintReleased {
            community_id: id(e.communityId)?,
            minter: addr(e.minter),
            amount: e.amount.to_string(),
        },
    })
}

/// The `Transfer` topic the indexer asks the points tokens for.
pub(crate) const POINTS_TRANSFER: B256 = CommunityPoints::Transfer::SIGNATURE_HASH;

/// Decodes an ERC-20 `Transfer` log of community `community_id`'s points token (the caller knows
/// which token belongs to which community); `None` for anything else.
pub fn decode_points_log(log: &Log, community_id: u64) -> Option<CommunityEvent> {
    let e = CommunityPoints::Transfer::decode_raw_log(log.topics(), &log.data().data).ok()?;
    Some(CommunityEvent::PointsTransfer {
        community_id,
        from: addr(e.from),
        to: addr(e.to),
        amount: e.value.to_string(),
    })
}
