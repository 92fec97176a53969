//! The local executor end to end: the sample apps on real inputs, and apps that misbehave.

use std::time::Duration;

use agora_executor::{
    AppId, Error, Executor, JobId, JobSpec, JobStatus, Limits, LocalConfig, LocalExecutor, sample_apps,
};
use anyhow::{Context, Result, bail};
use bytes::Bytes;

fn executor() -> Result<LocalExecutor> {
    Ok(LocalExecutor::new(LocalConfig::default())?)
}

fn sample(executor: &LocalExecutor, name: &str) -> Result<AppId> {
    let app = sample_apps().into_iter().find(|app| app.name == name).context("no such sample app")?;
    Ok(executor.register_app(app.source)?)
}

fn spec(app: &AppId, input: impl Into<Bytes>, limits: Limits) -> JobSpec {
    JobSpec { app: app.clone(), input: input.into(), limits }
}

async fn run(executor: &LocalExecutor, app: &AppId, input: impl Into<Bytes>, limits: Limits) -> Result<JobStatus> {
    let id = executor.submit(spec(app, input, limits)).await?;
    Ok(executor.wait(&id).await?)
}

/// The job's output as text; fails the test if the job did not succeed.
async fn output(executor: &LocalExecutor, app: &AppId, input: impl Into<Bytes>) -> Result<String> {
    match run(executor, app, input, Limits::default()).await? {
        JobStatus::Succeeded { output } => Ok(String::from_utf8(output.to_vec())?),
        other => bail!("job did not succeed: {other:?}"),
    }
}

/// The job's failure reason; fails the test if the job did not fail.
async fn failure(executor: &LocalExecutor, app: &AppId, input: impl Into<Bytes>, limits: Limits) -> Result<String> {
    match run(executor, app, input, limits).await? {
        JobStatus::Failed { reason } => Ok(reason),
        other => bail!("job did not fail: {other:?}"),
    }
}

async fn wait_until_running(executor: &LocalExecutor, id: &JobId) -> Result<()> {
    while executor.status(id).await? != JobStatus::Running {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Sample apps

#[tokio::test]
async fn wordcount_counts_like_wc() -> Result<()> {
    let executor = executor()?;
    let app = sample(&executor, "wordcount")?;
    // `printf 'hello world\nthe quick  brown fox\n\tjumps over\r\nthe lazy dog' | LC_ALL=C wc` → 3 11 58
    let text = "hello world\nthe quick  brown fox\n\tjumps over\r\nthe lazy dog";
    assert_eq!(output(&executor, &app, text).await?, "{\"lines\":3,\"words\":11,\"bytes\":58}\n");
    assert_eq!(output(&executor, &app, "").await?, "{\"lines\":0,\"words\":0,\"bytes\":0}\n");
    // \v and \f separate words too (`printf 'a\vb\fc' | LC_ALL=C wc -w` → 3).
    assert_eq!(output(&executor, &app, "a\x0bb\x0cc").await?, "{\"lines\":0,\"words\":3,\"bytes\":5}\n");
    Ok(())
}

#[tokio::test]
async fn wordcount_handles_input_larger_than_its_read_buffer() -> Result<()> {
    let executor = executor()?;
    let app = sample(&executor, "wordcount")?;
    // ~1 MiB: 16 reads of the app's 64 KiB buffer, with words cut across the boundaries.
    let mut text = Vec::new();
    let mut i = 0u64;
    while text.len() < 1 << 20 {
        text.extend_from_slice(format!("word{i}").as_bytes());
        text.push(match i % 7 {
            0 => b'\n',
            1 => b'\t',
            2 => b'\r',
            _ => b' ',
        });
        if i.is_multiple_of(11) {
            text.extend_from_slice(b"  \n");
        }
        i += 1;
    }
    let lines = text.iter().filter(|&&b| b == b'\n').count();
    let words = text.split(|&b| b == b' ' || (9..=13).contains(&b)).filter(|w| !w.is_empty()).count();
    let expected = format!("{{\"lines\":{lines},\"words\":{words},\"bytes\":{}}}\n", text.len());
    assert_eq!(output(&executor, &app, text).await?, expected);
    Ok(())
}

#[tokio::test]
async fn csvstats_summarises_columns() -> Result<()> {
    let executor = executor()?;
    let app = sample(&executor, "csvstats")?;
    let csv = "3, -7,10\r\n12,4\n,5,-2\n   \n-1,0,+1\n";
    let expected = concat!(
        "{\"rows\":4,\"columns\":[",
        "{\"count\":3,\"min\":-1,\"max\":12,\"sum\":14},",
        "{\"count\":4,\"min\":-7,\"max\":5,\"sum\":2},",
        "{\"count\":3,\"min\":-2,\"max\":10,\"sum\":9}]}\n"
    );
    let out = output(&executor, &app, csv).await?;
    assert_eq!(out, expected);
    serde_json::from_str::<serde_json::Value>(&out).context("output is not JSON")?;

    // A column with no values, 64-bit extremes, no trailing newline.
    let csv = "9223372036854775807,\n-9223372036854775807,\n-1,";
    let expected = concat!(
        "{\"rows\":3,\"columns\":[",
        "{\"count\":3,\"min\":-9223372036854775807,\"max\":9223372036854775807,\"sum\":-1},",
        "{\"count\":0,\"min\":null,\"max\":null,\"sum\":0}]}\n"
    );
    assert_eq!(output(&executor, &app, csv).await?, expected);

    assert_eq!(output(&executor, &app, "").await?, "{\"rows\":0,\"columns\":[]}\n");
    Ok(())
}

#[tokio::test]
async fn csvstats_matches_a_direct_computation_on_a_large_file() -> Result<()> {
    let executor = executor()?;
    let app = sample(&executor, "csvstats")?;
    const COLUMNS: usize = 5;
    let mut csv = String::new();
    let mut stats = [(0i64, i64::MAX, i64::MIN, 0i64); COLUMNS];
    for row in 0..20_000i64 {
        let fields: Vec<String> = (0..COLUMNS as i64)
            .map(|c| {
                let v = (row * 7919 + c * 104_729) % 2_000_003 - 1_000_000;
                let s = &mut stats[c as usize];
                *s = (s.0 + 1, s.1.min(v), s.2.max(v), s.3 + v);
                v.to_string()
            })
            .collect();
        csv.push_str(&fields.join(","));
        csv.push('\n');
    }
    let columns: Vec<String> = stats
        .iter()
        .map(|(count, min, max, sum)| format!("{{\"count\":{count},\"min\":{min},\"max\":{max},\"sum\":{sum}}}"))
        .collect();
    let expected = format!("{{\"rows\":20000,\"columns\":[{}]}}\n", columns.join(","));
    assert!(csv.len() > 200_000, "the input spans several reads");
    assert_eq!(output(&executor, &app, csv).await?, expected);
    Ok(())
}

#[tokio::test]
async fn csvstats_rejects_bad_input_with_the_line() -> Result<()> {
    let executor = executor()?;
    let app = sample(&executor, "csvstats")?;
    let limits = Limits::default;
    assert_eq!(failure(&executor, &app, "1,2\n3,x\n", limits()).await?, "bad input: line 2: not an integer");
    assert_eq!(failure(&executor, &app, "1 2\n", limits()).await?, "bad input: line 1: not an integer");
    assert_eq!(failure(&executor, &app, "1\n-\n", limits()).await?, "bad input: line 2: not an integer");
    assert_eq!(
        failure(&executor, &app, "9223372036854775808\n", limits()).await?,
        "bad input: line 1: integer out of range"
    );
    assert_eq!(
        failure(&executor, &app, "9223372036854775807\n1\n", limits()).await?,
        "bad input: line 2: sum overflows 64 bits"
    );
    let wide = format!("{}\n", vec!["1"; 257].join(","));
    assert_eq!(failure(&executor, &app, wide, limits()).await?, "bad input: line 1: more than 256 columns");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Apps that misbehave

const LOOP_FOREVER: &str = r#"(module (func (export "_start") (loop $l (br $l))))"#;

#[tokio::test]
async fn an_infinite_loop_runs_out_of_fuel() -> Result<()> {
    let executor = executor()?;
    let app = executor.register_app(LOOP_FOREVER.as_bytes())?;
    let limits = Limits { fuel: 50_000_000, ..Limits::default() };
    assert_eq!(failure(&executor, &app, "", limits).await?, "out of fuel (infinite loop?)");
    Ok(())
}

#[tokio::test]
async fn an_infinite_loop_hits_the_wall_time_limit() -> Result<()> {
    let executor = executor()?;
    let app = executor.register_app(LOOP_FOREVER.as_bytes())?;
    let limits = Limits { wall_time: Duration::from_millis(200), fuel: u64::MAX, ..Limits::default() };
    assert_eq!(failure(&executor, &app, "", limits).await?, "wall time limit 200 ms exceeded");
    Ok(())
}

#[tokio::test]
async fn unbounded_memory_growth_hits_the_memory_limit() -> Result<()> {
    let executor = executor()?;
    let limits = || Limits { memory_bytes: 8 << 20, ..Limits::default() };
    // Grows by 1 MiB until refused, and ignores the refusal.
    let grow = executor.register_app(
        br#"(module (memory 1)
              (func (export "_start") (loop $l (drop (memory.grow (i32.const 16))) (br $l))))"#,
    )?;
    assert_eq!(failure(&executor, &grow, "", limits()).await?, "memory limit 8 MiB exceeded");
    // Asks for 12.5 MiB up front.
    let big = executor.register_app(br#"(module (memory 200) (func (export "_start")))"#)?;
    assert_eq!(failure(&executor, &big, "", limits()).await?, "memory limit 8 MiB exceeded");
    Ok(())
}

/// Writes its 64 KiB memory page to stdout forever.
const WRITE_FOREVER: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 65536))
    (i32.store (i32.const 4) (i32.const 65536))
    (loop $l (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))) (br $l))))"#;

#[tokio::test]
async fn an_app_writing_without_end_fails_at_the_output_cap() -> Result<()> {
    let scratch = tempfile::tempdir()?;
    let executor = LocalExecutor::new(LocalConfig { scratch_dir: scratch.path().into(), ..LocalConfig::default() })?;
    let app = executor.register_app(WRITE_FOREVER.as_bytes())?;
    // Default limits: it stops after 16 MiB, long before the fuel (10^10) or the wall time (30 s)
    // would stop it.
    assert_eq!(failure(&executor, &app, "", Limits::default()).await?, "output larger than 16 MiB");
    assert_eq!(std::fs::read_dir(scratch.path())?.count(), 0, "the scratch directory is removed");
    Ok(())
}

#[tokio::test]
async fn a_trap_is_reported() -> Result<()> {
    let executor = executor()?;
    let app = executor.register_app(br#"(module (func (export "_start") unreachable))"#)?;
    assert_eq!(failure(&executor, &app, "", Limits::default()).await?, "wasm trap: unreachable");
    let app = executor
        .register_app(br#"(module (func (export "_start") (drop (i32.div_u (i32.const 1) (i32.const 0)))))"#)?;
    assert_eq!(failure(&executor, &app, "", Limits::default()).await?, "wasm trap: integer divide by zero");
    let app = executor.register_app(br#"(module (func $f (export "_start") (call $f)))"#)?;
    assert_eq!(failure(&executor, &app, "", Limits::default()).await?, "wasm trap: stack overflow");
    Ok(())
}

#[tokio::test]
async fn an_exit_code_is_reported() -> Result<()> {
    let executor = executor()?;
    let app = executor.register_app(
        br#"(module
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (func (export "_start") (call $exit (i32.const 3))))"#,
    )?;
    assert_eq!(failure(&executor, &app, "", Limits::default()).await?, "exited with code 3");
    Ok(())
}

#[tokio::test]
async fn the_guest_has_no_filesystem() -> Result<()> {
    let executor = executor()?;
    // Exits with what `fd_prestat_get(3)` returns, plus 100 × what `path_open` returns.
    let app = executor.register_app(
        br#"(module
          (import "wasi_snapshot_preview1" "fd_prestat_get" (func $prestat (param i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "path_open"
            (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (data (i32.const 16) "/etc/passwd")
          (func (export "_start")
            (call $exit (i32.add (call $prestat (i32.const 3) (i32.const 0))
              (i32.mul (i32.const 100)
                (call $open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 11) (i32.const 0)
                            (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 0)))))))"#,
    )?;
    // EBADF (8): no preopened directory; ENOSYS (52): no path_open.
    assert_eq!(failure(&executor, &app, "", Limits::default()).await?, "exited with code 5208");
    Ok(())
}

#[tokio::test]
async fn invalid_apps_are_refused_at_registration() -> Result<()> {
    let executor = executor()?;
    let cases: [(&[u8], &str); 5] = [
        (b"\0asm\x01\0\0\0\x01\x02\x03", "unexpected end-of-file"),
        (b"this is not wasm", "neither a wasm binary nor valid WAT"),
        (br#"(module (func (export "main")))"#, "no `_start`"),
        (br#"(module (import "env" "f" (func)) (func (export "_start")))"#, "imports `env::f`"),
        (
            br#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32) (result i32)))
                 (memory (export "memory") 1) (func (export "_start")))"#,
            "incompatible import type for `wasi_snapshot_preview1::fd_write`",
        ),
    ];
    for (bytes, expected) in cases {
        match executor.register_app(bytes) {
            Err(Error::InvalidApp(message)) => assert!(message.contains(expected), "{message:?} lacks {expected:?}"),
            other => bail!("expected InvalidApp ({expected}), got {other:?}"),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The executor interface

#[tokio::test]
async fn apps_are_named_by_the_hash_of_their_binary() -> Result<()> {
    let executor = executor()?;
    let app = sample_apps().into_iter().next().context("sample apps")?;
    let a = executor.register_app(app.source)?;
    let b = executor.register_app(app.source)?;
    assert_eq!(a, b);
    assert_eq!(a.as_str().len(), 64);
    assert!(a.as_str().bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
    // WAT text and the binary it stands for are the same app, named by the binary's SHA-256
    // (`printf '\0asm\x01…' | sha256sum`).
    let empty_wat = executor.register_app(b"(module (func (export \"_start\")))")?;
    let empty_bin = executor.register_app(
        b"\0asm\x01\0\0\0\x01\x04\x01\x60\0\0\x03\x02\x01\0\x07\x0a\x01\x06_start\0\0\x0a\x04\x01\x02\0\x0b",
    )?;
    assert_eq!(empty_wat, empty_bin);
    assert_eq!(empty_wat.as_str(), "5647c39a1d25d8728350f9619025292a62e78a602068a2ad9b6f075751c93d99");
    assert!(executor.has_app(&empty_wat));
    Ok(())
}

#[tokio::test]
async fn unknown_apps_and_jobs_are_errors() -> Result<()> {
    let executor = executor()?;
    let missing = AppId::new("00".repeat(32));
    assert!(matches!(executor.submit(spec(&missing, "", Limits::default())).await, Err(Error::UnknownApp(_))));
    assert!(matches!(executor.status(&JobId::new("local-nope-1")).await, Err(Error::UnknownJob(_))));
    Ok(())
}

#[tokio::test]
async fn a_running_job_can_be_cancelled() -> Result<()> {
    let executor = executor()?;
    let app = executor.register_app(LOOP_FOREVER.as_bytes())?;
    let limits = Limits { fuel: u64::MAX, wall_time: Duration::from_secs(3600), ..Limits::default() };
    let id = executor.submit(spec(&app, "", limits)).await?;
    wait_until_running(&executor, &id).await?;
    executor.cancel(&id).await?;
    assert_eq!(executor.wait(&id).await?, JobStatus::Failed { reason: "cancelled".into() });
    // Cancelling again, or after the end, changes nothing.
    executor.cancel(&id).await?;
    assert_eq!(executor.status(&id).await?, JobStatus::Failed { reason: "cancelled".into() });
    executor.forget(&id).await?;
    assert!(matches!(executor.status(&id).await, Err(Error::UnknownJob(_))));
    Ok(())
}

#[tokio::test]
async fn a_queued_job_can_be_cancelled() -> Result<()> {
    let executor = LocalExecutor::new(LocalConfig { concurrency: 1, ..LocalConfig::default() })?;
    let spin = executor.register_app(LOOP_FOREVER.as_bytes())?;
    let count = sample(&executor, "wordcount")?;
    let limits = Limits { fuel: u64::MAX, wall_time: Duration::from_secs(3600), ..Limits::default() };
    let running = executor.submit(spec(&spin, "", limits)).await?;
    wait_until_running(&executor, &running).await?;
    let queued = executor.submit(spec(&count, "a b c", Limits::default())).await?;
    assert_eq!(executor.status(&queued).await?, JobStatus::Queued);
    executor.cancel(&queued).await?;
    assert_eq!(executor.status(&queued).await?, JobStatus::Failed { reason: "cancelled".into() });
    executor.cancel(&running).await?;
    assert_eq!(executor.wait(&running).await?, JobStatus::Failed { reason: "cancelled".into() });
    // The slot is free again.
    assert_eq!(output(&executor, &count, "a b c").await?, "{\"lines\":0,\"words\":3,\"bytes\":5}\n");
    Ok(())
}

#[tokio::test]
async fn good_jobs_succeed_while_bad_ones_run() -> Result<()> {
    let scratch = tempfile::tempdir()?;
    let executor = LocalExecutor::new(LocalConfig { concurrency: 4, scratch_dir: scratch.path().into() })?;
    let spin = executor.register_app(LOOP_FOREVER.as_bytes())?;
    let flood = executor.register_app(WRITE_FOREVER.as_bytes())?;
    let count = sample(&executor, "wordcount")?;
    let stats = sample(&executor, "csvstats")?;
    let forever = Limits { fuel: u64::MAX, wall_time: Duration::from_secs(3600), ..Limits::default() };
    let bad = executor.submit(spec(&spin, "", forever)).await?;
    wait_until_running(&executor, &bad).await?;
    let flooding = executor.submit(spec(&flood, "", Limits { output_bytes: 4 << 20, ..Limits::default() })).await?;

    let mut good = Vec::new();
    for i in 0..6u32 {
        let (app, input, expected) = if i.is_multiple_of(2) {
            (
                &count,
                format!("job {i}\n"),
                format!("{{\"lines\":1,\"words\":2,\"bytes\":{}}}\n", 5 + i.to_string().len()),
            )
        } else {
            (
                &stats,
                format!("{i},-{i}\n1,1\n"),
                format!(
                    "{{\"rows\":2,\"columns\":[{{\"count\":2,\"min\":1,\"max\":{i},\"sum\":{}}},{{\"count\":2,\"min\":-{i},\"max\":1,\"sum\":{}}}]}}\n",
                    i + 1,
                    1 - i as i64
                ),
            )
        };
        good.push((executor.submit(spec(app, input, Limits::default())).await?, expected));
    }
    for (id, expected) in good {
        assert_eq!(executor.wait(&id).await?, JobStatus::Succeeded { output: expected.into() }, "{id}");
    }
    assert_eq!(executor.wait(&flooding).await?, JobStatus::Failed { reason: "output larger than 4 MiB".into() });
    assert_eq!(executor.status(&bad).await?, JobStatus::Running);
    executor.cancel(&bad).await?;
    assert_eq!(executor.wait(&bad).await?, JobStatus::Failed { reason: "cancelled".into() });
    assert_eq!(std::fs::read_dir(scratch.path())?.count(), 0, "every scratch directory is removed");
    Ok(())
}

#[tokio::test]
async fn the_executor_is_usable_as_a_trait_object() -> Result<()> {
    let local = executor()?;
    let app = sample(&local, "wordcount")?;
    let executor: Box<dyn Executor> = Box::new(local);
    assert_eq!(executor.name(), "local");
    let id = executor.submit(spec(&app, "one two\n", Limits::default())).await?;
    assert_eq!(
        executor.wait(&id).await?,
        JobStatus::Succeeded { output: Bytes::from_static(b"{\"lines\":1,\"words\":2,\"bytes\":8}\n") }
    );
    Ok(())
}
