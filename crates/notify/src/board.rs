//! What the community task market's events tell whom: the publisher hears of acceptances and
//! submissions, the worker of approvals, rejections, removals and dispute decisions, the arbiter
//! of disputes, a member of the points they were minted; whoever watches the task or its
//! community hears of every event on it.

use agora_store::{BoardEvent, CommunityEvent, Store};
use alloy::primitives::Address;
use serde_json::json;

use crate::producer::Draft;
use crate::{Reach, Result};

fn addr(raw: &str) -> Option<Address> {
    raw.parse().ok()
}

fn scopes(task_id: u64, community: Option<u64>) -> Vec<String> {
    let mut s = vec![format!("task:{task_id}")];
    s.extend(community.map(|c| format!("community:{c}")));
    s
}

/// The drafts of a TaskBoard event: its direct recipients, then the watchers of its task and
/// community who are not among them.
pub(crate) async fn board_drafts(store: &Store, chain_id: u64, e: &BoardEvent) -> Result<Vec<Draft>> {
    let Some(task_id) = e.task_id() else { return Ok(Vec::new()) };
    let task = store.board_task(chain_id, task_id).await?;
    let publisher = task.as_ref().map(|t| t.publisher);
    let community = task.as_ref().and_then(|t| t.community_id);
    let worker = e.worker().and_then(addr);
    let subject = e.subject();
    let scopes = scopes(task_id, community);
    let mut out = Vec::new();
    let direct = |to: Option<Address>, kind: &'static str, title: String, reach: Reach, out: &mut Vec<Draft>| {
        if let Some(recipient) = to {
            out.push(Draft {
                recipient,
                kind,
                subject: subject.clone(),
                scopes: scopes.clone(),
                title,
                payload: payload(task_id, e),
                reach,
            });
        }
    };
    let who = e.worker().unwrap_or_default().to_owned();
    let (kind, title) = match e {
        BoardEvent::TaskPublished { .. } => ("board-published", format!("A new task #{task_id} was published")),
        BoardEvent::DeadlineExtended { .. } => {
            ("board-deadline-extended", format!("Task #{task_id}'s deadline moved later"))
        }
        BoardEvent::TaskAccepted { .. } => {
            let title = format!("{who} accepted your task #{task_id}");
            direct(publisher, "board-accepted", title, Reach::DirectMail, &mut out);
            ("board-accepted", format!("{who} accepted task #{task_id}"))
        }
        BoardEvent::WorkSubmitted { revision, .. } => {
            let what = if *revision == 0 { "submitted work" } else { "submitted a revision" };
            direct(
                publisher,
                "board-submitted",
                format!("{who} {what} on your task #{task_id}"),
                Reach::DirectMail,
                &mut out,
            );
            ("board-submitted", format!("{who} {what} on task #{task_id}"))
        }
        BoardEvent::SubmissionApproved { .. } => {
            direct(
                worker,
                "board-approved",
                format!("Your work on task #{task_id} was approved and paid"),
                Reach::DirectMail,
                &mut out,
            );
            ("board-approved", format!("Work on task #{task_id} was approved"))
        }
        BoardEvent::SubmissionRejected { reason, .. } => {
            let title = format!("Your work on task #{task_id} was rejected: {reason}");
            direct(worker, "board-rejected", title, Reach::DirectMail, &mut out);
            ("board-rejected", format!("Work on task #{task_id} was rejected"))
        }
        BoardEvent::DisputeOpened { arbiter, .. } => {
            let title = format!("{who} opened a dispute on task #{task_id} for you to decide");
            direct(addr(arbiter), "board-dispute-opened", title, Reach::DirectMail, &mut out);
            let title = format!("{who} disputed your rejection on task #{task_id}");
            direct(publisher, "board-dispute-opened", title, Reach::Direct, &mut out);
            ("board-dispute-opened", format!("A dispute was opened on task #{task_id}"))
        }
        BoardEvent::DisputeResolved { .. } => {
            let title = format!("The dispute on task #{task_id} was decided");
            direct(worker, "board-dispute-resolved", title.clone(), Reach::DirectMail, &mut out);
            direct(publisher, "board-dispute-resolved", title.clone(), Reach::Direct, &mut out);
            ("board-dispute-resolved", title)
        }
        BoardEvent::WorkerRemoved { .. } => {
            let title = format!("You were removed from task #{task_id} for submitting nothing in time");
            direct(worker, "board-worker-removed", title, Reach::DirectMail, &mut out);
            ("board-worker-removed", format!("{who} was removed from task #{task_id}"))
        }
        BoardEvent::RejectionClosed { .. } => {
            let title = format!("Your rejected work on task #{task_id} was closed unanswered");
            direct(worker, "board-rejection-closed", title, Reach::Direct, &mut out);
            ("board-rejection-closed", format!("A rejection on task #{task_id} was closed"))
        }
        BoardEvent::TaskCancelled { .. } => ("board-cancelled", format!("Task #{task_id} was cancelled")),
        BoardEvent::TaskRefunded { .. } => ("board-refunded", format!("Task #{task_id}'s unused reward went back")),
        BoardEvent::PlatformArbiterSet { .. } => return Ok(out),
    };
    let mut watchers = store.watchers(&format!("task:{task_id}")).await?;
    if let Some(c) = community {
        watchers.extend(store.watchers(&format!("community:{c}")).await?);
    }
    watchers.sort();
    watchers.dedup();
    for w in watchers {
        if !out.iter().any(|d| d.recipient == w) {
            direct(Some(w), kind, title.clone(), Reach::Watched, &mut out);
        }
    }
    Ok(out)
}

fn payload(task_id: u64, e: &BoardEvent) -> serde_json::Value {
    let mut p = json!({"taskId": task_id, "event": e.kind()});
    let extra = match e {
        BoardEvent::TaskAccepted { worker, .. } | BoardEvent::WorkerRemoved { worker, .. } => json!({"worker": worker}),
        BoardEvent::WorkSubmitted { worker, revision, deliverable, review_ends_at, .. } => {
            json!({"worker": worker, "revision": revision, "deliverable": deliverable, "reviewEndsAt": review_ends_at})
        }
        BoardEvent::SubmissionApproved { worker, amount, points, lapsed, .. } => {
            json!({"worker": worker, "amount": amount, "points": points, "lapsed": lapsed})
        }
        BoardEvent::SubmissionRejected { worker, reason, revisions_left, answer_ends_at, .. } => {
            json!({"worker": worker, "reason": reason, "revisionsLeft": revisions_left, "answerEndsAt": answer_ends_at})
        }
        BoardEvent::DisputeOpened { worker, arbiter, reason, .. } => {
            json!({"worker": worker, "arbiter": arbiter, "reason": reason})
        }
        BoardEvent::DisputeResolved { worker, worker_bps, to_worker, to_publisher, points, .. } => json!({
            "worker": worker, "workerBps": worker_bps, "toWorker": to_worker, "toPublisher": to_publisher, "points": points
        }),
        BoardEvent::RejectionClosed { worker, refunded, .. } => json!({"worker": worker, "refunded": refunded}),
        BoardEvent::TaskCancelled { refunded, slots, .. } | BoardEvent::TaskRefunded { refunded, slots, .. } => {
            json!({"refunded": refunded, "slots": slots})
        }
        BoardEvent::DeadlineExtended { deadline, .. } => json!({"deadline": deadline}),
        BoardEvent::TaskPublished { publisher, reward, token, slots, .. } => {
            json!({"publisher": publisher, "reward": reward, "token": token, "slots": slots})
        }
        BoardEvent::PlatformArbiterSet { .. } => json!({}),
    };
    if let (Some(p), Some(extra)) = (p.as_object_mut(), extra.as_object()) {
        p.extend(extra.clone());
    }
    p
}

/// The drafts of a community event: points minted tell their recipient.
pub(crate) fn community_drafts(e: &CommunityEvent) -> Vec<Draft> {
    match e {
        CommunityEvent::PointsMinted { community_id, to, by, amount, reason } => addr(to)
            .map(|recipient| Draft {
                recipient,
                kind: "points-minted",
                subject: format!("community:{community_id}"),
                scopes: vec![format!("community:{community_id}")],
                title: format!("You received points in community #{community_id}"),
                payload: json!({"communityId": community_id, "amount": amount, "by": by, "reason": reason}),
                reach: Reach::Direct,
            })
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_minted_tell_their_recipient_and_nothing_else_does() {
        let to = Address::repeat_byte(7);
        let minted = CommunityEvent::PointsMinted {
            community_id: 3,
            to: format!("{to:#x}"),
            by: format!("{:#x}", Address::repeat_byte(1)),
            amount: "5".into(),
            reason: format!("{:#x}", alloy::primitives::B256::ZERO),
        };
        let drafts = community_drafts(&minted);
        assert_eq!(drafts.len(), 1);
        assert_eq!((drafts[0].recipient, drafts[0].kind, drafts[0].reach), (to, "points-minted", Reach::Direct));
        assert_eq!(drafts[0].scopes, ["community:3"]);
        assert_eq!(drafts[0].payload["amount"], "5");
    }
}
