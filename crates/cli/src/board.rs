//! `agora board publish|accept|submit|approve|reject|dispute|resolve|remove-worker|cancel|refund|
//! approve-lapsed|close-rejected|extend|show|withdraw`: the community task market from the command
//! line, through `agora_node::board_client`.

use std::path::PathBuf;

use agora_node::board_client::{Action, BoardNode, NewTask, NotDivisible, Refused, check_divisible};
use agora_node::client::{Address, U256};
use clap::{Args, Subcommand};
use serde_json::json;

use crate::channel::{ClientFlags, KeyFlag, key};
use crate::out::{Failure, Out, Outcome};

/// `agora board publish`'s flags.
#[derive(Args)]
pub(crate) struct PublishArgs {
    #[command(flatten)]
    key: KeyFlag,
    /// The whole reward, in the token's smallest unit (wei for ETH): a multiple of --slots.
    #[arg(long)]
    reward: U256,
    /// `eth`, `amt` (MarketToken) or an ERC-20 address (a community's points while its transfers
    /// are on).
    #[arg(long, default_value = "eth")]
    token: String,
    /// How many workers can be paid; each is paid reward / slots.
    #[arg(long, default_value_t = 1)]
    slots: u16,
    /// The community the task belongs to (its arbiter decides disputes; 0: none).
    #[arg(long, default_value_t = 0)]
    community: u64,
    /// Points each approved worker is minted by the community (you must be one of its admins).
    #[arg(long, default_value_t = U256::ZERO)]
    points: U256,
    /// Seconds from now (chain clock) until first submissions close.
    #[arg(long, default_value_t = 7 * 86_400)]
    deadline_in: u64,
    /// Seconds you have to review each submission; after that anyone may approve it.
    #[arg(long, default_value_t = 3 * 86_400)]
    review_window: u32,
    /// Seconds a worker may stay silent after accepting before you may remove it.
    #[arg(long, default_value_t = 3 * 86_400)]
    work_timeout: u32,
    /// Revisions a rejected worker may submit.
    #[arg(long, default_value_t = 1)]
    revisions: u8,
    /// The task's description (stored on the node; its CID is published).
    #[arg(long, conflicts_with = "spec_file", required_unless_present = "spec_file")]
    spec: Option<String>,
    /// A file holding the task's description (stored on the node; its CID is published).
    #[arg(long)]
    spec_file: Option<PathBuf>,
}

#[derive(Subcommand)]
pub(crate) enum BoardCmd {
    /// Publish a task: its description stored on the node, a token reward approved, the reward
    /// escrowed.
    Publish(PublishArgs),
    /// Take a free slot of a task, on the terms the chain shows now.
    Accept {
        task: u64,
        #[command(flatten)]
        key: KeyFlag,
    },
    /// Submit your deliverable (or a revision after a rejection).
    Submit {
        task: u64,
        #[command(flatten)]
        key: KeyFlag,
        /// The deliverable itself, a CID or a URI, as text.
        #[arg(long, conflicts_with = "file", required_unless_present = "file")]
        deliverable: Option<String>,
        /// A file, stored on the node; its CID is submitted.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Approve a worker's submission (the publisher): it is paid its slot and points.
    Approve {
        task: u64,
        worker: Address,
        #[command(flatten)]
        key: KeyFlag,
    },
    /// Reject a worker's submission within the review window (the publisher).
    Reject {
        task: u64,
        worker: Address,
        #[command(flatten)]
        key: KeyFlag,
        #[arg(long)]
        reason: String,
    },
    /// Take a rejection of your submission to the task's arbiter.
    Dispute {
        task: u64,
        #[command(flatten)]
        key: KeyFlag,
        #[arg(long)]
        reason: String,
    },
    /// Decide a dispute (the task's arbiter): the worker's share in basis points, the rest to the
    /// publisher.
    Resolve {
        task: u64,
        worker: Address,
        #[command(flatten)]
        key: KeyFlag,
        /// 10000: pay the worker; 0: refund the publisher; between: split.
        #[arg(long)]
        worker_bps: u16,
    },
    /// Remove a worker who accepted and stayed silent past the work timeout (the publisher).
    RemoveWorker {
        task: u64,
        worker: Address,
        #[command(flatten)]
        key: KeyFlag,
    },
    /// Cancel a task nothing was submitted on (the publisher): its unsettled slots are refunded.
    Cancel {
        task: u64,
        #[command(flatten)]
        key: KeyFlag,
    },
    /// After the deadline: refund the publisher the slots nobody submitted on (anyone).
    Refund {
        task: u64,
        #[command(flatten)]
        key: KeyFlag,
    },
    /// Approve a submission whose review window lapsed without a decision (anyone).
    ApproveLapsed {
        task: u64,
        worker: Address,
        #[command(flatten)]
        key: KeyFlag,
    },
    /// Close a rejection the worker left unanswered past the answer window (anyone).
    CloseRejected {
        task: u64,
        worker: Address,
        #[command(flatten)]
        key: KeyFlag,
    },
    /// Move the deadline later (the publisher): to now + --deadline-in seconds (chain clock).
    Extend {
        task: u64,
        #[command(flatten)]
        key: KeyFlag,
        #[arg(long)]
        deadline_in: u64,
    },
    /// A task and its claims, read from the chain.
    Show { task: u64 },
    /// Withdraw what the board owes you (payouts it could not push).
    Withdraw {
        #[command(flatten)]
        key: KeyFlag,
        /// `eth`, `amt` or an ERC-20 address; default: ETH and MarketToken.
        #[arg(long)]
        token: Option<String>,
    },
}

/// A command's failure: a contract's refusal by its custom error's name, else as the other client
/// commands name it.
pub(crate) fn failed(e: anyhow::Error) -> Failure {
    let e = match e.downcast::<Refused>() {
        Ok(r) => return Failure::new(&r.code, r.message),
        Err(e) => e,
    };
    let e = match e.downcast::<NotDivisible>() {
        Ok(n) => return not_divisible(&n),
        Err(e) => e,
    };
    match e.downcast::<agora_node::client::ChainError>() {
        Ok(c) => c.into(),
        Err(e) => match e.downcast::<agora_node::client::ClientError>() {
            Ok(c) => c.into(),
            Err(e) => Failure::new("board", format!("{e:#}")),
        },
    }
}

/// The contract's name for it, with the nearest valid rewards as figures.
fn not_divisible(n: &NotDivisible) -> Failure {
    let mut f = Failure::new("RewardNotDivisible", n.to_string());
    f.extra["nearest"] = json!(n.lower.iter().chain([&n.higher]).map(|v| v.to_string()).collect::<Vec<_>>());
    f
}

/// `eth`, `amt` or an address.
pub(crate) fn token(node: &BoardNode, name: &str) -> Outcome<Address> {
    match name.to_ascii_lowercase().as_str() {
        "eth" => Ok(Address::ZERO),
        "amt" | "market" => Ok(node.market_token),
        other => other
            .parse()
            .map_err(|_| Failure::new("usage", format!("--token {name}: give eth, amt or a token's 0x address"))),
    }
}

fn read(path: &PathBuf) -> Outcome<Vec<u8>> {
    std::fs::read(path).map_err(|e| Failure::new("io", format!("{}: {e}", path.display())))
}

/// Runs `agora board …`.
pub(crate) async fn run(cmd: BoardCmd, flags: &ClientFlags, out: Out) -> Outcome {
    if let BoardCmd::Publish(a) = &cmd {
        // Refused before the node is even asked: nothing is uploaded or sent.
        check_divisible(a.reward, a.slots).map_err(|n| not_divisible(&n))?;
    }
    let node = BoardNode::connect(&flags.api, flags.rpc_url.as_deref()).await.map_err(failed)?;
    let (task, k, action) = match cmd {
        BoardCmd::Publish(a) => return publish(&node, a, out).await,
        BoardCmd::Accept { task, key: k } => {
            let (per_slot, deadline, tx) = node.accept(&key(&k.key)?, task).await.map_err(failed)?;
            let v = json!({ "accepted": {
                "task": task, "rewardPerSlot": per_slot.to_string(), "deadline": deadline, "tx": tx.to_string()
            }});
            out.result(&v, &format!("accepted a slot of task {task} paying {per_slot}, deadline {deadline} ({tx})"));
            return Ok(());
        }
        BoardCmd::Show { task } => {
            let t = node.show(task).await.map_err(failed)?;
            let line = format!(
                "task {} ({}): {} × {} in {}, {} free, {} working, {} submitted, {} settled; {} claim(s): {}",
                t.id,
                t.state,
                t.slots,
                t.reward_per_slot,
                t.token,
                t.free_slots,
                t.working,
                t.active,
                t.settled,
                t.claims.len(),
                t.claims.iter().map(|c| format!("{} {}", c.worker, c.state)).collect::<Vec<_>>().join(", ")
            );
            out.result(&json!({ "task": t }), &line);
            return Ok(());
        }
        BoardCmd::Withdraw { key: k, token: t } => return withdraw(&node, &k, t.as_deref(), out).await,
        BoardCmd::Submit { task, key: k, deliverable, file } => {
            let deliverable = match (deliverable, file) {
                (Some(text), _) => text,
                (None, Some(path)) => node.upload(&read(&path)?).await.map_err(failed)?,
                (None, None) => return Err(Failure::new("usage", "give --deliverable or --file")),
            };
            (task, k, Action::Submit(deliverable))
        }
        BoardCmd::Approve { task, worker, key: k } => (task, k, Action::Approve(worker)),
        BoardCmd::Reject { task, worker, key: k, reason } => (task, k, Action::Reject(worker, reason)),
        BoardCmd::Dispute { task, key: k, reason } => (task, k, Action::Dispute(reason)),
        BoardCmd::Resolve { task, worker, key: k, worker_bps } => (task, k, Action::Resolve(worker, worker_bps)),
        BoardCmd::RemoveWorker { task, worker, key: k } => (task, k, Action::RemoveWorker(worker)),
        BoardCmd::Cancel { task, key: k } => (task, k, Action::Cancel),
        BoardCmd::Refund { task, key: k } => (task, k, Action::Refund),
        BoardCmd::ApproveLapsed { task, worker, key: k } => (task, k, Action::ApproveLapsed(worker)),
        BoardCmd::CloseRejected { task, worker, key: k } => (task, k, Action::CloseRejected(worker)),
        BoardCmd::Extend { task, key: k, deadline_in } => (task, k, Action::Extend(deadline_in)),
    };
    let (name, what) = describe(&action);
    let tx = node.act(&key(&k.key)?, task, action).await.map_err(failed)?;
    out.result(&json!({ name: { "task": task, "tx": tx.to_string() } }), &format!("task {task}: {what} ({tx})"));
    Ok(())
}

/// The JSON key and the sentence for an action done.
fn describe(a: &Action) -> (&'static str, String) {
    match a {
        Action::Submit(d) => ("submitted", format!("submitted {d}")),
        Action::Approve(w) => ("approved", format!("approved {w}'s submission")),
        Action::Reject(w, _) => ("rejected", format!("rejected {w}'s submission")),
        Action::Dispute(_) => ("disputed", "took the rejection to the arbiter".into()),
        Action::Resolve(w, bps) => ("resolved", format!("gave {w} {bps} basis points of the slot")),
        Action::RemoveWorker(w) => ("removed", format!("removed {w}")),
        Action::Cancel => ("cancelled", "cancelled, unsettled slots refunded".into()),
        Action::Refund => ("refunded", "slots nobody submitted on refunded".into()),
        Action::ApproveLapsed(w) => ("approvedLapsed", format!("approved {w}'s lapsed submission")),
        Action::CloseRejected(w) => ("closedRejected", format!("closed {w}'s unanswered rejection")),
        Action::Extend(secs) => ("extended", format!("deadline moved to {secs} s from now")),
    }
}

async fn publish(node: &BoardNode, a: PublishArgs, out: Out) -> Outcome {
    let token = token(node, &a.token)?;
    let signer = key(&a.key.key)?;
    let bytes = match (a.spec, a.spec_file) {
        (Some(text), _) => text.into_bytes(),
        (None, Some(path)) => read(&path)?,
        (None, None) => return Err(Failure::new("usage", "give --spec or --spec-file")),
    };
    let spec = node.upload(&bytes).await.map_err(failed)?;
    let t = NewTask {
        token,
        reward: a.reward,
        slots: a.slots,
        community: a.community,
        points: a.points,
        deadline_in: a.deadline_in,
        review_window: a.review_window,
        work_timeout: a.work_timeout,
        max_revisions: a.revisions,
        spec,
    };
    let p = node.publish(&signer, &t).await.map_err(failed)?;
    let line = format!(
        "task {} published: {} slot(s) of {} (spec {}, deadline {}, {})",
        p.task_id, a.slots, p.reward_per_slot, p.spec, p.deadline, p.tx
    );
    out.result(&json!({ "published": p }), &line);
    Ok(())
}

async fn withdraw(node: &BoardNode, k: &KeyFlag, t: Option<&str>, out: Out) -> Outcome {
    let tokens = match t {
        Some(name) => vec![token(node, name)?],
        None => vec![Address::ZERO, node.market_token],
    };
    let taken = node.withdraw(&key(&k.key)?, &tokens).await.map_err(failed)?;
    for (token, amount, tx) in taken {
        let v = json!({ "withdrawn": { "token": format!("{token:#x}"), "amount": amount.to_string(), "tx": tx.to_string() } });
        out.result(&v, &format!("withdrew {amount} of {token} ({tx})"));
    }
    Ok(())
}
