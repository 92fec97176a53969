//! `agora chat`: a reply streamed in the terminal and paid chunk by chunk from the channel's
//! session key, each amount checked against the prices shown before it is signed.

use std::io::Write;

use agora_node::client::{Approve, AutoPay, B256, Chat, Event, U256, VoucherDomain, hex, user_message};
use clap::Args;
use serde_json::json;

use crate::channel::{ClientFlags, Ctx, KeyFlag, key, random_b256};
use crate::local::ChannelFile;
use crate::out::{Failure, Out, Outcome};

#[derive(Args)]
pub(crate) struct ChatArgs {
    /// The channel that pays (opened with `agora channel open`).
    #[arg(long)]
    channel: B256,
    /// The payer's key: it signs in to the node (SIWE).
    #[command(flatten)]
    key: KeyFlag,
    /// The channel's session key; default: the one recorded when the channel was opened.
    #[arg(long, hide_env_values = true)]
    session_key: Option<String>,
    /// Default: the assistant's first model.
    #[arg(long)]
    model: Option<String>,
    #[arg(long, default_value_t = 128)]
    max_tokens: u32,
    /// Ask before paying each chunk.
    #[arg(long)]
    manual: bool,
    /// What to ask.
    prompt: String,
}

/// Asks on the terminal before each payment.
struct Manual;

impl Approve for Manual {
    #[allow(clippy::print_stderr)]
    async fn approve(&mut self, seq: u32, amount: U256, delta: U256) -> bool {
        eprint!("\npay {delta} (chunk {seq}, {amount} in all)? [y/N] ");
        let _ = std::io::stderr().flush();
        let answer = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map(|_| line)
        })
        .await;
        matches!(answer, Ok(Ok(line)) if matches!(line.trim(), "y" | "Y" | "yes"))
    }
}

pub(crate) async fn run(args: ChatArgs, flags: &ClientFlags, out: Out) -> Outcome {
    let ctx = Ctx::load(flags).await?;
    let payer = key(&args.key.key)?;
    let mut file = ChannelFile::load(&flags.data_dir, args.channel)?;
    let session = match (&args.session_key, &file) {
        (Some(text), _) => key(text)?,
        (None, Some(f)) => f.key()?,
        (None, None) => {
            let path = ChannelFile::path(&flags.data_dir, args.channel);
            return Err(Failure::new(
                "no_session_key",
                format!("no record of channel {} at {}: pass --session-key", args.channel, path.display()),
            ));
        }
    };
    let models = ctx.api.models().await?;
    let listing = match &args.model {
        Some(m) => models.models.iter().find(|l| &l.id == m),
        None => models.models.first(),
    }
    .ok_or_else(|| Failure::new("unknown_model", format!("the node offers no model {:?}", args.model)))?;
    let on_chain = ctx.tx(&payer).await?.read(args.channel).await?;
    if on_chain.state != "Open" {
        return Err(Failure::new("channel_closed", format!("channel {} is {} on chain", args.channel, on_chain.state)));
    }
    let p = &listing.pricing;
    out.result(
        &json!({ "event": "prices", "model": listing.id, "token": p.token, "promptPer1k": p.prompt_per_1k.to_string(),
                 "completionPer1k": p.completion_per_1k.to_string(), "deposit": on_chain.deposit.to_string() }),
        &format!(
            "{}: {} per 1,000 prompt tokens, {} per 1,000 completion tokens (token {}); deposit {}",
            listing.id, p.prompt_per_1k, p.completion_per_1k, p.token, on_chain.deposit
        ),
    );
    let cookie = ctx.api.sign_in(&payer, models.chain_id).await?;
    let mut chat = Chat {
        // The idempotency key: 128 random bits in hex (at most 64 characters are allowed).
        request_id: hex::encode(&random_b256()[..16]),
        channel_id: args.channel,
        model: listing.id.clone(),
        pricing: listing.pricing,
        messages: vec![user_message(args.prompt.clone())],
        max_tokens: args.max_tokens,
        deposit: on_chain.deposit,
        highest_signed: file.as_ref().map(ChannelFile::highest_signed).unwrap_or_default(),
        has_record: file.is_some(),
    };
    let domain = VoucherDomain::new(models.chain_id, models.channel_contract);
    let data_dir = flags.data_dir.clone();
    let mut on_event = |e: &Event| {
        if let (Event::Signed { amount, .. }, Some(f)) = (e, file.as_mut()) {
            // Remembered at once: a later reply must never be billed from less.
            f.highest_signed = amount.to_string();
            if let Err(err) = f.save(&data_dir) {
                out.fail(&err);
            }
        }
        show(out, e);
    };
    let result = if args.manual {
        chat.run(&ctx.api, &cookie, &session, &domain, &mut Manual, &mut on_event).await
    } else {
        chat.run(&ctx.api, &cookie, &session, &domain, &mut AutoPay, &mut on_event).await
    };
    let done = result.map_err(|e| with_way_out(Failure::from(e), args.channel))?;
    out.result(
        &json!({
            "event": "done", "requestId": chat.request_id, "finish": done.finish, "promptTokens": done.prompt_tokens,
            "completionTokens": done.completion_tokens, "cost": done.cost.to_string(), "base": done.base.to_string(),
            "billed": done.billed.to_string(), "accepted": done.accepted.to_string(), "text": done.text,
        }),
        &format!(
            "\n[{} prompt + {} completion tokens, cost {}; channel billed {}, paid {} ({})]",
            done.prompt_tokens,
            done.completion_tokens,
            done.cost,
            done.billed,
            done.accepted,
            done.finish.as_str()
        ),
    );
    Ok(())
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn show(out: Out, e: &Event) {
    if out.json {
        let v = match e {
            Event::Started { base, prompt_tokens, max_cost } => json!({ "event": "started", "base": base.to_string(),
                "promptTokens": prompt_tokens, "maxCost": max_cost.to_string() }),
            Event::Chunk { seq, text, tokens, cost, cumulative } => json!({ "event": "chunk", "seq": seq, "text": text,
                "tokens": tokens, "cost": cost.to_string(), "cumulative": cumulative.to_string() }),
            Event::Signed { seq, amount } => json!({ "event": "voucher", "seq": seq, "amount": amount.to_string() }),
            Event::Paid { accepted } => json!({ "event": "paid", "accepted": accepted.to_string() }),
            Event::Reconnecting { attempt, reason } => {
                json!({ "event": "reconnecting", "attempt": attempt, "reason": reason })
            }
        };
        out.object(&v);
        return;
    }
    match e {
        Event::Chunk { text, .. } => {
            print!("{text}");
            let _ = std::io::stdout().flush();
        }
        Event::Reconnecting { attempt, reason } => {
            eprintln!("\n[connection dropped ({reason}); resuming, try {attempt}]")
        }
        _ => {}
    }
}

/// The refusal with the way out the protocol offers for its code.
fn with_way_out(mut f: Failure, id: B256) -> Failure {
    let amount = |k: &str| f.extra[k].as_str().and_then(|s| U256::from_str_radix(s, 10).ok());
    let hint = match f.code.as_str() {
        "deposit_spent" => {
            let need = amount("owed").zip(amount("deposit")).map(|(o, d)| o.saturating_sub(d)).unwrap_or(U256::from(1));
            Some(format!("top up at least {need}: agora channel top-up {id} --amount {need}"))
        }
        "expiring" => Some(format!("extend it: agora channel extend {id} --expires-in 86400")),
        "expired" => {
            Some(format!("take back what was not paid out: agora channel reclaim {id} (then open a new channel)"))
        }
        "owed" => {
            Some("an earlier reply on this channel is unpaid; the node will not start another until it is".into())
        }
        "channel_closed" => Some("the channel is finished on chain: open a new one (agora channel open)".into()),
        "payment_timeout" => Some("the reply stopped; its last chunk stays billed".into()),
        "unauthenticated" | "bad_signature" | "domain_mismatch" => {
            Some("signing in failed: is --api the node's public address?".into())
        }
        _ => None,
    };
    if let Some(hint) = hint {
        f.message = format!("{} — {hint}", f.message);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_names_the_step_that_gets_out_of_it() {
        let id = B256::repeat_byte(0xab);
        let expired = with_way_out(Failure::new("expired", "the channel expired"), id).message;
        assert!(expired.contains(&format!("agora channel reclaim {id}")), "{expired}");
        assert!(!expired.contains("extend"), "past expiry, extending is not the way out: {expired}");
        let expiring = with_way_out(Failure::new("expiring", "the channel expires soon"), id).message;
        assert!(expiring.contains(&format!("agora channel extend {id}")), "{expiring}");
        let mut spent = Failure::new("deposit_spent", "the deposit is spent");
        spent.extra = serde_json::json!({ "owed": "150", "deposit": "100" });
        assert!(with_way_out(spent, id).message.contains("top up at least 50"));
        let other = with_way_out(Failure::new("internal", "boom"), id).message;
        assert_eq!(other, "boom", "no hint where none helps");
    }
}
