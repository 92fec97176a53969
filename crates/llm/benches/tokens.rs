//! Figures for the local model: load time, prompt tokens/s and generated tokens/s for one stream
//! (greedy decoding, the default options), each the median of a few runs; then one thread on the
//! weights as shipped (`Q4_1`), for comparison with the default 8-bit copy.
//!
//! `cargo bench -p agora-llm --bench tokens` (needs the model: `make model`).

// A benchmark binary: its figures are its output.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use agora_llm::{
    ChatMessage, Generation, LocalModel, LocalOptions, MODEL_FILE, Model, Piece, PieceReceiver, Role, Weights,
};

const RUNS: usize = 5;
const GENERATED: u32 = 200;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Reads a reply; returns (tokens after the first piece, time from the first piece to Done,
/// time to the first piece, completion tokens).
async fn timed(mut rx: PieceReceiver, started: Instant) -> anyhow::Result<(u32, Duration, Duration, u32)> {
    let mut first: Option<(Instant, u32)> = None;
    while let Some(piece) = rx.recv().await {
        match piece? {
            Piece::Text { tokens, .. } => {
                if first.is_none() {
                    first = Some((Instant::now(), tokens));
                }
            }
            Piece::Done { completion_tokens, .. } => {
                let (at, first_tokens) = first.unwrap_or((Instant::now(), 0));
                return Ok((completion_tokens - first_tokens, at.elapsed(), at - started, completion_tokens));
            }
        }
    }
    anyhow::bail!("reply ended without Done")
}

async fn bench(threads: u32, weights: Weights, path: &PathBuf) -> anyhow::Result<()> {
    let options = LocalOptions { threads, weights, ..LocalOptions::default() };
    let mut loads = Vec::new();
    let mut model = None;
    for _ in 0..RUNS {
        let t = Instant::now();
        model = Some(LocalModel::load(path, options.clone()).await?);
        loads.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let model = model.expect("loaded");

    // Prompt: a long message, one generated token; the time to the first piece is the prompt's.
    let long = "Agora is an open marketplace whose money lives in contracts. Users act in their own \
        wallets; contracts hold escrow and emit events; a node indexes those events and serves them. "
        .repeat(12);
    let messages = vec![ChatMessage::new(Role::User, format!("{long}\nSummarise this in one sentence."))];
    let prompt_tokens = model.count_prompt(&messages).await?;
    let mut prompt_rates = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let rx = model.generate(Generation::new(messages.clone(), 1)).await?;
        let (_, _, to_first, _) = timed(rx, t).await?;
        prompt_rates.push(f64::from(prompt_tokens) / to_first.as_secs_f64());
    }

    // Generation: a short prompt and a reply that runs to the limit.
    let story = vec![ChatMessage::new(Role::User, "Write a long story about a dragon who learns to fly.")];
    let mut gen_rates = Vec::new();
    let mut completion = 0;
    for _ in 0..RUNS {
        let rx = model.generate(Generation::new(story.clone(), GENERATED)).await?;
        let (after_first, elapsed, _, total) = timed(rx, Instant::now()).await?;
        gen_rates.push(f64::from(after_first) / elapsed.as_secs_f64());
        completion = total;
    }

    let run_as = match weights {
        Weights::Q8_0 => "weights widened to Q8_0 (the default)",
        Weights::AsShipped => "weights as shipped",
    };
    println!("agora-llm local model {} ({MODEL_FILE}, {run_as}), {threads} thread(s), median of {RUNS}:", model.id());
    println!("  load:       {:8.1} ms", median(loads));
    println!("  prompt:     {:8.1} tokens/s  ({prompt_tokens} prompt tokens)", median(prompt_rates));
    println!("  generation: {:8.1} tokens/s  ({completion} tokens, greedy, one stream)", median(gen_rates));
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let home = std::env::var_os("HOME").ok_or_else(|| anyhow::anyhow!("HOME is not set"))?;
    let path = PathBuf::from(home).join(".cache/agora/models").join(MODEL_FILE);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as u32;
    // Other work on the machine slows every figure below: say how busy it was.
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let load: Vec<&str> = load.split_whitespace().take(3).collect();
        println!("{cores} cores, load average {} (1, 5, 15 min) before the run", load.join(" "));
    }
    bench(cores.min(8), Weights::Q8_0, &path).await?;
    if cores > 1 {
        bench(1, Weights::Q8_0, &path).await?;
    }
    // The same model run as shipped, for comparison.
    bench(1, Weights::AsShipped, &path).await?;
    Ok(())
}
