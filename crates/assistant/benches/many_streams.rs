//! The payment path under many streams: ≥ 1,000 concurrent replies, each on its own channel (real
//! channels opened on anvil and indexed once), every chunk paid as it arrives, through the real
//! assistant and payee ledger on a SQLite file — all of it on one core (a current-thread runtime).
//! The token source is a fixed-rate generator implementing `agora_llm::Model`, not the model: this
//! measures the payment path (chunk recorded, sent, voucher verified and stored), not generation.
//!
//! Vouchers are signed before the clock starts (signing is the payers' work, on their machines);
//! the payee's side — hex decoding, recovery, checks, group commits — is all inside the figure.
//! For comparison the same channels then pay the ledger alone (no assistant, no chunk records),
//! at the same concurrency on the same core.
//!
//! `cargo bench -p agora-assistant --bench many_streams` (anvil from `npm ci`).
//! Target: ≥ 10,000 vouchers/s across ≥ 1,000 streams.
//!
//! Measured on the 2-core build machine (others building beside it; the load is printed with each
//! run), 1,000 streams at 20 tokens/s, SQLite `synchronous = FULL`. The process CPU per voucher
//! is the figure load disturbs least:
//! - before `b05e2c6` (two writers, a statement per row): 150–163 µs a voucher; 7,046 vouchers/s
//!   under `taskset -c 1` (load 2.0–3.7); 3,457/s unpinned at load 8–9; ledger alone 7,285/s there;
//! - after: 103–109 µs a voucher (about 9,300 vouchers/s if one core were all its own); unpinned
//!   (the runtime's thread on one core, SQLite's on the other: 1.12 cores in all) 11,382/s at
//!   load 2.7 and 4,568/s at load 9 (right after the 3,457 above); ledger alone 18,371/s (load
//!   2.7), 12,147/s (load 9); under `taskset -c 1` 7,041/s with 0.60 of the core ours (load 2.6).
//!
//! The system is saturated by design (20,000 tokens/s offered): a slower path makes bigger chunks,
//! so the round trip here is queueing for the core, not the payment's own latency — that is
//! `paid_stream`'s figure. Recovery alone (libsecp256k1) is about half of each voucher's CPU.
//!
//! `AGORA_BENCH_STREAMS`, `AGORA_BENCH_TOKENS` and `AGORA_BENCH_RATE` override the streams, the
//! tokens a reply and each stream's tokens per second.

// A benchmark binary: its figures are its output.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[allow(dead_code)]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use agora_assistant::protocol::{SeenPrices, ServerMsg, StartMsg};
use agora_assistant::{Assistant, AssistantConfig, Caller, Offer, Pricing};
use agora_llm::{ChatMessage, Finish, Generation, LlmError, Model, PIECE_BUFFER, Piece, PieceReceiver, Role};
use alloy::primitives::{Address, B256, U256, hex};
use tokio::sync::mpsc;

use common::{Rig, print_load_after, print_machine, summary};

/// Prompt tokens the generator charges for any prompt.
const PROMPT_TOKENS: u32 = 8;
/// Vouchers each channel sends the ledger alone, after its reply.
const LEDGER_ALONE: u32 = 60;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The token source: one token every `1 / rate` seconds per reply, on the runtime's timer, until
/// `max_tokens` (then `Done` with `Length`). Not a language model: it generates no text worth
/// reading, only the pace of one.
struct FixedRateGenerator {
    rate: f64,
}

#[async_trait::async_trait]
impl Model for FixedRateGenerator {
    fn id(&self) -> &str {
        "fixed-rate-generator"
    }

    fn context_tokens(&self) -> u32 {
        8192
    }

    async fn count_prompt(&self, _messages: &[ChatMessage]) -> Result<u32, LlmError> {
        Ok(PROMPT_TOKENS)
    }

    async fn generate(&self, g: Generation) -> Result<PieceReceiver, LlmError> {
        let (tx, rx) = mpsc::channel(PIECE_BUFFER);
        let period = Duration::from_secs_f64(1.0 / self.rate);
        tokio::spawn(async move {
            let start = tokio::time::Instant::now();
            for i in 1..=g.max_tokens {
                tokio::time::sleep_until(start + period * i).await;
                if tx.send(Ok(Piece::Text { text: " tok".into(), tokens: 1 })).await.is_err() {
                    return;
                }
            }
            let done =
                Piece::Done { finish: Finish::Length, prompt_tokens: PROMPT_TOKENS, completion_tokens: g.max_tokens };
            let _ = tx.send(Ok(done)).await;
        });
        Ok(rx)
    }
}

/// What one stream saw.
struct StreamOut {
    /// When `start` was called, when `started` came, when `done` came.
    called: Instant,
    started: Instant,
    done: Instant,
    /// When each voucher's `pay_reply` returned.
    paid_at: Vec<Instant>,
    /// Chunk received → `pay_reply` returned.
    trips: Vec<Duration>,
    tokens: u32,
}

/// One stream: starts a reply on its channel and pays every chunk as it comes with the voucher
/// signed beforehand for that chunk's cumulative amount.
#[allow(clippy::too_many_arguments)]
async fn stream(
    a: Assistant,
    request_id: String,
    channel: B256,
    payer: Address,
    amounts: Arc<Vec<U256>>,
    sigs: Vec<[u8; 65]>,
    max_tokens: u32,
    prices: SeenPrices,
) -> anyhow::Result<StreamOut> {
    let caller = Caller::Wallet(payer);
    let msg = StartMsg {
        request_id: request_id.clone(),
        channel_id: channel,
        model: "fixed-rate-generator".into(),
        messages: vec![ChatMessage::new(Role::User, "Go on.")],
        max_tokens,
        prices,
        voucher: None,
    };
    let (tx, mut rx) = mpsc::channel(64);
    let called = Instant::now();
    a.start(caller, msg, tx).await.map_err(|r| anyhow::anyhow!("start refused: {r:?}"))?;
    let mut started = called;
    let mut paid_at = Vec::with_capacity(max_tokens as usize);
    let mut trips = Vec::with_capacity(max_tokens as usize);
    while let Some(msg) = rx.recv().await {
        match msg {
            ServerMsg::Started { .. } => started = Instant::now(),
            ServerMsg::Chunk { cumulative, .. } => {
                let received = Instant::now();
                let i = amounts
                    .binary_search(&cumulative)
                    .map_err(|_| anyhow::anyhow!("no voucher signed beforehand for {cumulative}"))?;
                let sig = hex::encode_prefixed(sigs[i]);
                let accepted = a
                    .pay_reply(caller, &request_id, cumulative, &sig)
                    .await
                    .map_err(|r| anyhow::anyhow!("voucher refused: {r:?}"))?;
                anyhow::ensure!(accepted == cumulative, "accepted {accepted}, paid {cumulative}");
                let now = Instant::now();
                paid_at.push(now);
                trips.push(now - received);
            }
            ServerMsg::Done { completion_tokens, .. } => {
                return Ok(StreamOut {
                    called,
                    started,
                    done: Instant::now(),
                    paid_at,
                    trips,
                    tokens: completion_tokens,
                });
            }
            ServerMsg::Error { code, message, .. } => anyhow::bail!("the reply stopped: {code:?}: {message}"),
            ServerMsg::Paid { .. } => {}
        }
    }
    anyhow::bail!("the reply's messages ended without done")
}

/// Signs `amounts` for every channel, on all cores, before any clock starts.
fn presign(rig: &Rig, amounts: &[U256]) -> anyhow::Result<Vec<Vec<[u8; 65]>>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = rig.channels.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = rig
            .channels
            .chunks(per)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|c| {
                            amounts.iter().map(|a| rig.domain.sign(&c.session, c.id, *a)).collect::<Result<Vec<_>, _>>()
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        let mut all = Vec::with_capacity(rig.channels.len());
        for h in handles {
            all.extend(h.join().map_err(|_| anyhow::anyhow!("a signing thread panicked"))??);
        }
        Ok(all)
    })
}

fn main() -> anyhow::Result<()> {
    print_machine("cargo bench -p agora-assistant --bench many_streams");
    let streams: usize = env_or("AGORA_BENCH_STREAMS", 1000);
    let tokens: u32 = env_or("AGORA_BENCH_TOKENS", 200);
    let rate: f64 = env_or("AGORA_BENCH_RATE", 20.0);

    // One core: the assistant, the ledger, the generators and the paying clients all on a single
    // thread (SQLite's own statements run on sqlx's connection threads: see the CPU line).
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let t = Instant::now();
    let rig = rt.block_on(Rig::start(streams, U256::from(1_000_000_000_000_000u64)))?;
    let setup = t.elapsed();

    // One token costs 1 unit and the prompt 8: chunk n of a reply carries 8 + (tokens so far).
    let pricing =
        Pricing { token: Address::ZERO, prompt_per_1k: U256::from(1000), completion_per_1k: U256::from(1000) };
    let last = pricing.cost(PROMPT_TOKENS, tokens);
    let amounts: Vec<U256> = (1..=tokens).map(|c| pricing.cost(PROMPT_TOKENS, c)).collect();
    let alone: Vec<U256> = (1..=LEDGER_ALONE).map(|k| last + U256::from(k)).collect();
    let t = Instant::now();
    let mut all = amounts.clone();
    all.extend(&alone);
    let mut sigs = presign(&rig, &all)?;
    let signing = t.elapsed();
    let ledger_sigs: Vec<Vec<[u8; 65]>> = sigs.iter_mut().map(|s| s.split_off(amounts.len())).collect();
    println!(
        "setup: anvil, {streams} channels opened from {} dev accounts and indexed once in {:.1} s; {} vouchers signed beforehand in {:.1} s",
        rig.channels.iter().map(|c| c.params.payer).collect::<std::collections::HashSet<_>>().len(),
        setup.as_secs_f64(),
        streams * all.len(),
        signing.as_secs_f64()
    );

    // Recovery alone (libsecp256k1, the ledger's check of every voucher), on this thread: the part
    // of each voucher's cost that no batching removes.
    let sample: Vec<(B256, U256, [u8; 65])> = rig
        .channels
        .iter()
        .zip(&sigs)
        .flat_map(|(c, s)| amounts.iter().zip(s).map(|(a, s)| (c.id, *a, *s)).take(20))
        .collect();
    let t = Instant::now();
    for (id, amount, sig) in &sample {
        std::hint::black_box(rig.domain.recover(*id, *amount, sig)?);
    }
    let recover = t.elapsed() / sample.len() as u32;
    println!(
        "voucher recovery alone: {:.1} µs each on this core ({} vouchers): at most {:.0} vouchers/s before anything else",
        recover.as_secs_f64() * 1e6,
        sample.len(),
        1.0 / recover.as_secs_f64()
    );

    rt.block_on(async {
        let mut cfg = AssistantConfig::new(rig.chain_id(), rig.payee);
        cfg.payment_timeout = Duration::from_secs(120);
        let chunk_max = cfg.chunk_max_tokens;
        let model: Arc<dyn Model> = Arc::new(FixedRateGenerator { rate });
        let a = Assistant::new(rig.store.clone(), rig.ledger.clone(), vec![Offer { model, pricing }], cfg);
        let prices = SeenPrices { prompt: pricing.prompt_per_1k, completion: pricing.completion_per_1k };
        let amounts = Arc::new(amounts);

        let cpu0 = common::cpu_time();
        let threads0 = common::thread_times();
        let t0 = Instant::now();
        let handles: Vec<_> = rig
            .channels
            .iter()
            .zip(sigs)
            .enumerate()
            .map(|(i, (c, s))| {
                tokio::spawn(stream(a.clone(), format!("s{i}"), c.id, c.params.payer, amounts.clone(), s, tokens, prices))
            })
            .collect();
        let mut outs = Vec::with_capacity(handles.len());
        for h in handles {
            outs.push(h.await??);
        }
        let wall = t0.elapsed();
        let cpu = common::cpu_time().saturating_sub(cpu0);
        let threads = common::thread_report(&threads0, &common::thread_times(), wall);

        let vouchers: usize = outs.iter().map(|o| o.paid_at.len()).sum();
        let generated: u64 = outs.iter().map(|o| u64::from(o.tokens)).sum();
        // The steady part: every stream started, none finished yet.
        let all_started = outs.iter().map(|o| o.started).max().unwrap_or(t0);
        let first_done = outs.iter().map(|o| o.done).min().unwrap_or(t0);
        let (steady, steady_secs) = if first_done > all_started {
            let n = outs.iter().flat_map(|o| &o.paid_at).filter(|&&p| p >= all_started && p <= first_done).count();
            (n, (first_done - all_started).as_secs_f64())
        } else {
            (0, 0.0)
        };
        let start_calls = outs.iter().map(|o| o.started - o.called).collect::<Vec<_>>();
        let trips: Vec<Duration> = outs.iter().flat_map(|o| o.trips.iter().copied()).collect();

        println!(
            "agora-assistant many streams: {streams} concurrent paid replies, one per channel, one core (current-thread runtime)"
        );
        println!(
            "token source: fixed-rate generator, not the model ({rate} tokens/s per stream, {tokens} tokens a reply: {:.0} tokens/s offered)",
            rate * streams as f64
        );
        println!("store: SQLite (WAL, synchronous = FULL) at {}", rig.db_path.display());
        println!(
            "  all streams started after {:.2} s (start → started: {})",
            (all_started - t0).as_secs_f64(),
            summary(start_calls)
        );
        println!(
            "  vouchers/s sustained, every stream streaming ({:.1} s): {:>8.0}  (target ≥ 10,000)",
            steady_secs,
            steady as f64 / steady_secs
        );
        println!(
            "  vouchers/s over the whole run ({:.1} s, starts and ends included): {:>8.0}  ({vouchers} vouchers, {generated} tokens, {:.2} tokens a chunk, at most {chunk_max})",
            wall.as_secs_f64(),
            vouchers as f64 / wall.as_secs_f64(),
            generated as f64 / vouchers as f64
        );
        println!("  chunk received → pay_reply returned: {}", summary(trips));
        println!(
            "  process CPU {:.1} s over {:.1} s wall: {:.2} cores busy on average (the runtime's thread plus sqlx's SQLite threads)",
            cpu.as_secs_f64(),
            wall.as_secs_f64(),
            cpu.as_secs_f64() / wall.as_secs_f64()
        );
        println!("  by thread: {threads}");
        println!(
            "  process CPU per voucher (every thread, the generators and payers included): {:.0} µs: one core \
             given to all of it alone would sustain about {:.0} vouchers/s",
            cpu.as_secs_f64() * 1e6 / vouchers as f64,
            vouchers as f64 / cpu.as_secs_f64()
        );

        // The ledger alone, same channels, same concurrency, same core: each channel pays its
        // vouchers one after another, waiting for each acknowledgement.
        let cpu0 = common::cpu_time();
        let threads0 = common::thread_times();
        let t0 = Instant::now();
        let handles: Vec<_> = rig
            .channels
            .iter()
            .zip(ledger_sigs)
            .map(|(c, s)| {
                let (ledger, id, alone) = (rig.ledger.clone(), c.id, alone.clone());
                tokio::spawn(async move {
                    for (amount, sig) in alone.iter().zip(s) {
                        ledger.submit(id, *amount, &sig).await?;
                    }
                    anyhow::Ok(())
                })
            })
            .collect();
        for h in handles {
            h.await??;
        }
        let wall = t0.elapsed();
        let cpu = common::cpu_time().saturating_sub(cpu0);
        let threads = common::thread_report(&threads0, &common::thread_times(), wall);
        let n = streams * LEDGER_ALONE as usize;
        println!(
            "  for comparison, the ledger alone (Ledger::submit, no assistant, no chunk records), {streams} channels paying at once: {:>8.0} vouchers/s  ({n} vouchers; {:.2} cores busy)",
            n as f64 / wall.as_secs_f64(),
            cpu.as_secs_f64() / wall.as_secs_f64()
        );
        println!("    by thread: {threads}");
        anyhow::Ok(())
    })?;
    print_load_after();
    Ok(())
}
