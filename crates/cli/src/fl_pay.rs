//! `agora fl predict` (paid on chain, or by a voucher on a channel with `--channel`) and
//! `agora fl forward-fees` (the fee receiver pays the fees its channels collected into
//! FederatedMarket). A voucher is signed only for the amount the payer can check: what the node
//! says the channel was billed plus the task's fee as the chain has it, never below what this
//! machine signed on the channel before.

use std::path::PathBuf;
use std::time::Duration;

use agora_node::client::{B256, NodeApi, U256, VoucherDomain, hex};
use agora_node::fl_client::{FeeOutcome, FlNode, NotFeeReceiver};
use clap::Args;
use serde_json::{Value, json};

use crate::channel::{ClientFlags, key, random_b256};
use crate::fl::{failed, pgm, read};
use crate::local::ChannelFile;
use crate::out::{Failure, Out, Outcome};

/// `agora fl predict`'s flags.
#[derive(Args)]
pub(crate) struct PredictArgs {
    task: u64,
    /// The payer's key, 0x hex (paying on chain).
    #[arg(long, env = "AGORA_KEY", hide_env_values = true, required_unless_present = "channel")]
    key: Option<String>,
    /// Pay by a voucher on this channel (to the node's fee receiver) instead of a transaction.
    #[arg(long)]
    channel: Option<B256>,
    /// The channel's session key; default: the one recorded when the channel was opened.
    #[arg(long, hide_env_values = true, requires = "channel")]
    session_key: Option<String>,
    /// A binary PGM (P5): 28×28 for Fashion-MNIST tasks, 8×8 for digits tasks.
    #[arg(long, conflicts_with = "pixels", required_unless_present = "pixels")]
    image: Option<PathBuf>,
    /// The model's input as raw bytes (784 of 0–255, or 64 of 0–16).
    #[arg(long)]
    pixels: Option<PathBuf>,
}

/// `agora fl forward-fees`'s flags.
#[derive(Args)]
pub(crate) struct ForwardArgs {
    /// The fee receiver's key, 0x hex.
    #[arg(long, env = "AGORA_KEY", hide_env_values = true)]
    key: String,
    /// Only this task; default: every task with fees to forward.
    #[arg(long)]
    task: Option<u64>,
}

fn amount(v: &Value, name: &str) -> Outcome<U256> {
    v[name]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Failure::new("bad_answer", format!("the node's answer has no integer {name}: {v}")))
}

/// Runs `agora fl predict`.
pub(crate) async fn predict(node: &FlNode, a: PredictArgs, flags: &ClientFlags, out: Out) -> Outcome {
    let input = match (&a.image, &a.pixels) {
        (Some(path), _) => pgm(&read(path)?)?,
        (None, Some(path)) => read(path)?,
        (None, None) => return Err(Failure::new("usage", "give --image or --pixels")),
    };
    let answer = match a.channel {
        Some(channel) => by_voucher(node, &a, channel, &input, flags).await?,
        None => {
            let payer = key(a.key.as_deref().unwrap_or_default())?;
            node.predict(&payer, a.task, &input, Duration::from_secs(30)).await.map_err(failed)?
        }
    };
    let text = |k: &str| answer[k].as_str().map_or_else(|| answer[k].to_string(), str::to_owned);
    let paid = match a.channel {
        Some(channel) => format!(
            "paid {} by voucher on channel {channel} ({} in all{})",
            answer["payment"]["fee"].as_str().unwrap_or("?"),
            answer["payment"]["cumulative"].as_str().unwrap_or("?"),
            if answer["payment"]["charged"] == false { ", already paid: not charged again" } else { "" }
        ),
        None => format!("paid {} (request {}, {})", text("fee"), text("requestId"), text("tx")),
    };
    let line =
        format!("class {} ({}) with confidence {}; {paid}", answer["class"], text("label"), answer["confidence"]);
    out.result(&json!({ "prediction": answer }), &line);
    Ok(())
}

/// Signs a voucher for the channel's billed total plus the task's fee and asks the node.
async fn by_voucher(
    node: &FlNode,
    a: &PredictArgs,
    channel: B256,
    input: &[u8],
    flags: &ClientFlags,
) -> Outcome<Value> {
    let mut file = ChannelFile::load(&flags.data_dir, channel)?;
    let session = match (&a.session_key, &file) {
        (Some(text), _) => key(text)?,
        (None, Some(f)) => f.key()?,
        (None, None) => {
            let path = ChannelFile::path(&flags.data_dir, channel);
            return Err(Failure::new(
                "no_session_key",
                format!("no record of channel {channel} at {}: pass --session-key", path.display()),
            ));
        }
    };
    let api = NodeApi::new(&flags.api)?;
    let fees = api.get_json("/api/fl/fees").await?;
    let contract = fees["channelContract"].as_str().and_then(|c| c.parse().ok());
    let contract = contract.ok_or_else(|| Failure::new("bad_answer", format!("no channel contract in {fees}")))?;
    let task = node.task(a.task).await.map_err(failed)?;
    let fee = amount(&task, "predictionFee")?;
    if fee.is_zero() {
        return Err(Failure::new("not_offered", format!("task {} is not offered for paid predictions", a.task)));
    }
    let account = api.get_json(&format!("/api/fl/channels/{channel}/predictions")).await?;
    let billed = amount(&account, "billed")?;
    let total = billed + fee;
    let signed = file.as_ref().map(ChannelFile::highest_signed).unwrap_or_default();
    if total <= signed {
        return Err(Failure::new(
            "billed_below_signed",
            format!("the node says channel {channel} was billed {billed}, but {signed} was already signed on it here"),
        ));
    }
    let domain = VoucherDomain::new(node.chain_id, contract);
    let signature = domain
        .sign(&session, channel, total)
        .map_err(|e| Failure::new("sign", format!("cannot sign the voucher: {e}")))?;
    if let Some(f) = file.as_mut() {
        // Remembered before it leaves: a later payment must never be signed for less.
        f.highest_signed = total.to_string();
        f.save(&flags.data_dir)?;
    }
    let voucher = json!({
        "channelId": channel.to_string(),
        "cumulativeAmount": total.to_string(),
        "signature": hex::encode_prefixed(signature),
        // The idempotency key: 128 random bits in hex.
        "key": hex::encode(&random_b256()[..16]),
    });
    node.predict_by_voucher(a.task, input, voucher).await.map_err(failed)
}

/// Runs `agora fl forward-fees`: for each task the node recorded voucher-paid predictions for and
/// the receiver has not forwarded, `payPredictionFees(task, owed, paidBefore)` from the receiver's
/// key — the pass the node's `fl-fee-forward` job runs, so running both pays each fee once.
pub(crate) async fn forward(node: &FlNode, a: ForwardArgs, out: Out) -> Outcome {
    let receiver = key(&a.key)?;
    let outcomes = node.forward_fees(&receiver, a.task).await.map_err(|e| match e.downcast::<NotFeeReceiver>() {
        Ok(e) => Failure::new("not_fee_receiver", e.to_string()),
        Err(e) => failed(e),
    })?;
    let mut forwarded = Vec::new();
    let mut errors = Vec::new();
    for o in outcomes {
        match o {
            FeeOutcome::Forwarded(f) => {
                out.say(&format!("task {}: forwarded {} fee(s), {} in all ({})", f.task, f.count, f.amount, f.tx));
                forwarded.push(json!({
                    "task": f.task, "count": f.count, "amount": f.amount.to_string(), "tx": f.tx.to_string(),
                }));
            }
            FeeOutcome::AlreadyPaid(task) => {
                out.say(&format!("task {task}: already paid, in blocks the node has not indexed yet"));
            }
            FeeOutcome::Failed(task, why) => errors.push(format!("task {task}: {why}")),
        }
    }
    if !errors.is_empty() {
        let done =
            if forwarded.is_empty() { String::new() } else { format!(" ({} task(s) forwarded)", forwarded.len()) };
        return Err(Failure::new("forward_failed", format!("{}{done}", errors.join("; "))));
    }
    let line =
        if forwarded.is_empty() { "nothing to forward".to_owned() } else { format!("{} task(s)", forwarded.len()) };
    out.result(&json!({ "forwarded": forwarded }), &line);
    Ok(())
}
