//! What both assistant benches share: the machine's load, a real anvil with payment channels opened
//! and indexed into a real SQLite store, the payee's ledger, percentiles and the process's CPU time.
//! (A module of the bench binaries, not test code: nothing here is imported from the tests.)

use std::time::Duration;

use agora_chain::bindings::PaymentChannel;
use agora_chain::testing::{BUYER, OWNER, PROVIDER, TestChain};
use agora_channels::{ChannelParams, Ledger, LedgerConfig, VoucherDomain};
use agora_indexer::{Indexer, IndexerConfig};
use agora_store::Store;
use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;

/// Prints the cores and the load average, and the command that prints these figures: other work
/// on this machine slows every figure below.
pub(crate) fn print_machine(command: &str) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into());
    println!("`{command}`");
    println!("{cores} cores, load average {load} (1, 5, 15 min) before the run");
}

/// Prints the load average again after the run.
pub(crate) fn print_load_after() {
    if let Ok(l) = std::fs::read_to_string("/proc/loadavg") {
        println!(
            "load average {} (1, 5, 15 min) after the run",
            l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
        );
    }
}

/// CPU time this process used so far (user + system, all its threads), from `/proc/self/stat`.
pub(crate) fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return Duration::ZERO };
    // The fields after the command name (which is in parentheses and may hold spaces).
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { return Duration::ZERO };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and the state.
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // The kernel reports them in USER_HZ, 100 on Linux.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// `p` (0–100) of sorted durations, in milliseconds.
pub(crate) fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// p50 / p99 / max of a set of round trips, in milliseconds.
pub(crate) fn summary(mut trips: Vec<Duration>) -> String {
    trips.sort();
    format!(
        "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} round trips)",
        percentile_ms(&trips, 50.0),
        percentile_ms(&trips, 99.0),
        percentile_ms(&trips, 100.0),
        trips.len()
    )
}

/// The median.
pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// One channel open on chain and indexed: its parameters and its session key (the signer).
pub(crate) struct Channel {
    pub(crate) id: B256,
    pub(crate) params: ChannelParams,
    pub(crate) session: PrivateKeySigner,
}

/// A dev chain with channels to one payee, indexed into a SQLite file, and the payee's ledger.
pub(crate) struct Rig {
    pub(crate) chain: TestChain,
    pub(crate) store: Store,
    pub(crate) ledger: Ledger,
    pub(crate) domain: VoucherDomain,
    pub(crate) payee: Address,
    pub(crate) channels: Vec<Channel>,
    pub(crate) db_path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// The funded dev accounts that pay (anvil has ten; the first three deploy, list and operate).
const PAYERS: std::ops::RangeInclusive<usize> = BUYER..=9;

impl Rig {
    /// Starts anvil, opens `count` channels of `deposit` wei each (ETH, expiring in two hours) from
    /// the funded dev accounts, each with its own session key, indexes them once and starts the
    /// ledger on a SQLite file in a temporary directory.
    pub(crate) async fn start(count: usize, deposit: U256) -> anyhow::Result<Self> {
        let chain = TestChain::start().await?;
        let dir = tempfile::tempdir()?;
        let db_path = dir.path().join("bench.db");
        let store = Store::connect(&format!("sqlite://{}", db_path.display())).await?;
        let payee = chain.address(PROVIDER);
        let contract = chain.d.payment_channel;
        let now = chain
            .provider(OWNER)
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no latest block"))?
            .header
            .timestamp;
        let expiry = now + 7200;

        // Each payer account sends its channels' `open` one after another (anvil mines each at
        // once; the nonce is read from the node), the accounts side by side.
        let payers: Vec<usize> = PAYERS.collect();
        let mut handles = Vec::new();
        for (k, &account) in payers.iter().enumerate() {
            let provider = chain.provider(account);
            let payer = chain.address(account);
            let mine: Vec<usize> = (0..count).filter(|i| i % payers.len() == k).collect();
            handles.push(tokio::spawn(async move {
                let pc = PaymentChannel::new(contract, provider.clone());
                let mut opened = Vec::with_capacity(mine.len());
                for i in mine {
                    let session = PrivateKeySigner::random();
                    let params = ChannelParams {
                        payer,
                        payee,
                        token: Address::ZERO,
                        signer: session.address(),
                        salt: keccak256((i as u64).to_be_bytes()),
                    };
                    let pending = pc
                        .open(params.payee, params.token, deposit, expiry, params.salt, params.signer)
                        .value(deposit)
                        .send()
                        .await?;
                    opened.push((i, params, session, *pending.tx_hash()));
                }
                // Anvil mines each as it comes: ask for the receipts (briefly again while the last
                // block is being mined) rather than watch for blocks.
                for (_, _, _, hash) in &opened {
                    let mut tries = 0;
                    let receipt = loop {
                        if let Some(r) = provider.get_transaction_receipt(*hash).await? {
                            break r;
                        }
                        tries += 1;
                        anyhow::ensure!(tries < 500, "open {hash} was not mined within 10 s");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    };
                    anyhow::ensure!(receipt.status(), "open {hash} reverted");
                }
                anyhow::Ok(opened)
            }));
        }
        let mut opened = Vec::with_capacity(count);
        for h in handles {
            opened.extend(h.await??);
        }
        opened.sort_by_key(|o| o.0);
        let chain_id = chain.d.chain_id;
        let channels: Vec<Channel> = opened
            .into_iter()
            .map(|(_, params, session, _)| Channel { id: params.channel_id(chain_id, contract), params, session })
            .collect();

        // Indexed once, as the node's indexer would.
        let cfg = IndexerConfig::new(chain_id, chain.d.indexed_contracts(), chain.d.deploy_block);
        let indexer = Indexer::new(agora_chain::read_provider(chain.url())?, store.clone(), cfg);
        indexer.sync_to(chain.provider(OWNER).get_block_number().await?).await?;
        for c in &channels {
            anyhow::ensure!(store.channel(chain_id, c.id).await?.is_some(), "channel {} was not indexed", c.id);
        }

        let mut lcfg = LedgerConfig::new(chain_id, contract);
        lcfg.payees = vec![payee];
        let ledger = Ledger::start(store.clone(), lcfg).await?;
        Ok(Self {
            domain: VoucherDomain::new(chain_id, contract),
            chain,
            store,
            ledger,
            payee,
            channels,
            db_path,
            _dir: dir,
        })
    }

    /// The chain id.
    pub(crate) fn chain_id(&self) -> u64 {
        self.chain.d.chain_id
    }
}

/// Each thread of this process: its name, CPU time, and time spent runnable but waiting for a CPU
/// (`/proc/self/task/*/schedstat`), by thread id.
pub(crate) fn thread_times() -> std::collections::HashMap<u64, (String, Duration, Duration)> {
    let mut out = std::collections::HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else { return out };
    for entry in dir.flatten() {
        let Some(tid) = entry.file_name().to_str().and_then(|t| t.parse::<u64>().ok()) else { continue };
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default().trim().to_string();
        let Ok(sched) = std::fs::read_to_string(entry.path().join("schedstat")) else { continue };
        let mut f = sched.split_whitespace().map(|v| v.parse::<u64>().unwrap_or(0));
        let (run, wait) = (f.next().unwrap_or(0), f.next().unwrap_or(0));
        out.insert(tid, (comm, Duration::from_nanos(run), Duration::from_nanos(wait)));
    }
    out
}

/// Where the CPU went between two [`thread_times`]: the runtime's thread (the process's main
/// thread) and the others grouped by name, each with its CPU time and its wait for a CPU.
pub(crate) fn thread_report(
    before: &std::collections::HashMap<u64, (String, Duration, Duration)>,
    after: &std::collections::HashMap<u64, (String, Duration, Duration)>,
    wall: Duration,
) -> String {
    let main = u64::from(std::process::id());
    let mut groups: std::collections::BTreeMap<String, (usize, Duration, Duration)> = Default::default();
    for (tid, (comm, run, wait)) in after {
        let (r0, w0) = before.get(tid).map_or((Duration::ZERO, Duration::ZERO), |b| (b.1, b.2));
        let (run, wait) = (run.saturating_sub(r0), wait.saturating_sub(w0));
        if run.is_zero() && wait.is_zero() {
            continue;
        }
        let name = if *tid == main { "runtime thread".to_string() } else { comm.clone() };
        let g = groups.entry(name).or_default();
        g.0 += 1;
        g.1 += run;
        g.2 += wait;
    }
    let w = wall.as_secs_f64();
    groups
        .iter()
        .map(|(name, (n, run, wait))| {
            format!(
                "{name}{}: CPU {:.0} % of the wall time, waiting for a CPU {:.0} %",
                if *n > 1 { format!(" (×{n})") } else { String::new() },
                100.0 * run.as_secs_f64() / w,
                100.0 * wait.as_secs_f64() / w
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}
