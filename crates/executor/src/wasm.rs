//! The WebAssembly runner: engine set-up, compiling and checking apps, and running one job in
//! its own store under its limits.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use sha2::{Digest, Sha256};
use wasmtime::{
    Config, Engine, ExternType, InstancePre, Linker, Module, ResourceLimiter, Store, Trap, UpdateDeadline, Val, ValType,
};

use crate::wasi::{self, WASI};
use crate::{AppId, Error, Limits, Result};

/// How often the engine's epoch advances; wall-time limits and cancellation are noticed within
/// about one tick.
pub(crate) const TICK: Duration = Duration::from_millis(10);

/// Most table elements a job may have (each costs a pointer on the host).
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

/// How much of stderr is kept to explain a failure.
pub(crate) const STDERR_KEPT: usize = 4096;

pub(crate) fn engine() -> Result<Engine> {
    let mut config = Config::new();
    config.consume_fuel(true).epoch_interruption(true);
    Engine::new(&config).map_err(|e| Error::Engine(e.to_string()))
}

/// The linker every app is instantiated with: the WASI preview 1 functions of [`wasi`].
pub(crate) fn base_linker(engine: &Engine) -> Result<Linker<JobCtx>> {
    let mut linker = Linker::new(engine);
    wasi::add_to_linker(&mut linker).map_err(|e| Error::Engine(e.to_string()))?;
    Ok(linker)
}

/// A compiled, checked app, ready to instantiate.
pub(crate) struct App {
    pre: InstancePre<JobCtx>,
}

/// WAT text becomes a binary module; a binary module is returned as it is.
pub(crate) fn to_binary(bytes: &[u8]) -> Result<Cow<'_, [u8]>> {
    wat::parse_bytes(bytes).map_err(|e| Error::InvalidApp(format!("neither a wasm binary nor valid WAT: {e}")))
}

/// The app's id: lowercase hex SHA-256 of the binary module.
pub(crate) fn app_id(wasm: &[u8]) -> AppId {
    let digest = Sha256::digest(wasm);
    let mut hex = String::with_capacity(64);
    for byte in digest.iter() {
        let _ = write!(hex, "{byte:02x}");
    }
    AppId(hex)
}

/// Compiles a binary module and checks that it is a WASI command this runner can host: it
/// exports `_start: [] -> []` (and `memory` when it imports WASI), and imports nothing but WASI
/// preview 1. WASI functions the runner does not provide answer `ENOSYS` when their signature
/// allows it.
pub(crate) fn compile(engine: &Engine, base: &Linker<JobCtx>, wasm: &[u8]) -> Result<App> {
    let invalid = |e: wasmtime::Error| Error::InvalidApp(format!("{e:#}"));
    let module = Module::from_binary(engine, wasm).map_err(invalid)?;
    match module.get_export("_start") {
        Some(ExternType::Func(ty)) if ty.params().len() == 0 && ty.results().len() == 0 => {}
        _ => {
            return Err(Error::InvalidApp(
                "no `_start` function taking and returning nothing (apps are WASI command modules)".into(),
            ));
        }
    }
    let mut linker = base.clone();
    let mut imports_wasi = false;
    for import in module.imports() {
        if import.module() != WASI {
            return Err(Error::InvalidApp(format!(
                "imports `{}::{}`; apps may import only WASI preview 1 (`{WASI}`)",
                import.module(),
                import.name()
            )));
        }
        imports_wasi = true;
        if wasi::SUPPORTED.contains(&import.name()) {
            continue;
        }
        let ExternType::Func(ty) = import.ty() else {
            return Err(Error::InvalidApp(format!("imports `{WASI}::{}`, which is not a function", import.name())));
        };
        let returns_errno = {
            let mut results = ty.results();
            results.len() == 1 && matches!(results.next(), Some(ValType::I32))
        };
        if !returns_errno {
            return Err(Error::InvalidApp(format!("imports `{WASI}::{}`, which this runner lacks", import.name())));
        }
        linker
            .func_new(WASI, import.name(), ty, |_, _, results| {
                if let Some(errno) = results.first_mut() {
                    *errno = Val::I32(wasi::ENOSYS);
                }
                Ok(())
            })
            .map_err(invalid)?;
    }
    if imports_wasi && !matches!(module.get_export("memory"), Some(ExternType::Memory(_))) {
        return Err(Error::InvalidApp("imports WASI but exports no `memory`".into()));
    }
    let pre = linker.instantiate_pre(&module).map_err(invalid)?;
    Ok(App { pre })
}

/// Why a job was stopped from the host side, recorded before the trap that unwinds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stop {
    Cancelled,
    WallTime,
    Memory,
    Output,
    /// `proc_exit(code)`.
    Exit(i32),
    /// The host failed (e.g. the scratch disk); the message is for logs and the reason.
    Host(String),
}

/// A job's state inside its store: stdin, stdout, stderr and the limits being enforced.
pub(crate) struct JobCtx {
    pub(crate) input: Bytes,
    pub(crate) input_pos: usize,
    pub(crate) stdout: BufWriter<File>,
    pub(crate) stdout_len: u64,
    pub(crate) output_cap: u64,
    pub(crate) stderr: Vec<u8>,
    pub(crate) started: Instant,
    pub(crate) stop: Option<Stop>,
    memory_cap: u64,
    memory_used: u64,
}

impl ResourceLimiter for JobCtx {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let used = self.memory_used.saturating_sub(current as u64).saturating_add(desired as u64);
        if used > self.memory_cap {
            self.stop = Some(Stop::Memory);
            return Err(wasmtime::Error::msg("memory limit exceeded"));
        }
        self.memory_used = used;
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > MAX_TABLE_ELEMENTS {
            self.stop = Some(Stop::Memory);
            return Err(wasmtime::Error::msg("table limit exceeded"));
        }
        Ok(true)
    }
}

/// Runs one job to its end on the calling thread. `Ok` holds everything the app wrote to stdout;
/// `Err` holds the reason it failed, short and human-readable.
pub(crate) fn run(
    engine: &Engine,
    app: &App,
    input: Bytes,
    limits: &Limits,
    cancel: Arc<AtomicBool>,
    scratch: &Path,
) -> Result<Bytes, String> {
    let stdout_path = scratch.join("stdout");
    let stdout = File::create(&stdout_path).map_err(|e| format!("executor error: creating the output file: {e}"))?;
    let ctx = JobCtx {
        input,
        input_pos: 0,
        stdout: BufWriter::with_capacity(64 << 10, stdout),
        stdout_len: 0,
        output_cap: limits.output_bytes,
        stderr: Vec::new(),
        started: Instant::now(),
        stop: None,
        memory_cap: limits.memory_bytes,
        memory_used: 0,
    };
    let mut store = Store::new(engine, ctx);
    store.limiter(|ctx| ctx);
    store.set_fuel(limits.fuel).map_err(|e| format!("executor error: {e}"))?;
    let deadline = Instant::now().checked_add(limits.wall_time);
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |mut ctx| {
        let stop = if cancel.load(Ordering::Relaxed) {
            Stop::Cancelled
        } else if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            Stop::WallTime
        } else {
            return Ok(UpdateDeadline::Continue(1));
        };
        ctx.data_mut().stop = Some(stop);
        Err(wasmtime::Error::msg("interrupted"))
    });

    let result = app
        .pre
        .instantiate(&mut store)
        .and_then(|instance| instance.get_typed_func::<(), ()>(&mut store, "_start"))
        .and_then(|start| start.call(&mut store, ()));
    let ctx = store.data_mut();
    match result {
        Ok(()) => {}
        Err(_) if ctx.stop == Some(Stop::Exit(0)) => {}
        Err(e) => return Err(reason(ctx, limits, &e)),
    }
    if let Err(e) = ctx.stdout.flush() {
        return Err(format!("executor error: writing the output: {e}"));
    }
    drop(store);
    std::fs::read(&stdout_path).map(Bytes::from).map_err(|e| format!("executor error: reading the output: {e}"))
}

/// The human-readable reason for a job that ended with `err`.
fn reason(ctx: &JobCtx, limits: &Limits, err: &wasmtime::Error) -> String {
    match &ctx.stop {
        Some(Stop::Cancelled) => "cancelled".into(),
        Some(Stop::WallTime) => format!("wall time limit {} exceeded", duration(limits.wall_time)),
        Some(Stop::Memory) => format!("memory limit {} exceeded", size(limits.memory_bytes)),
        Some(Stop::Output) => format!("output larger than {}", size(limits.output_bytes)),
        Some(Stop::Host(message)) => format!("executor error: {message}"),
        Some(Stop::Exit(code)) => {
            let stderr = String::from_utf8_lossy(&ctx.stderr);
            match stderr.lines().map(str::trim).find(|line| !line.is_empty()) {
                Some(line) => line.chars().take(200).collect(),
                None => format!("exited with code {code}"),
            }
        }
        None => match err.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => "out of fuel (infinite loop?)".into(),
            Some(Trap::UnreachableCodeReached) => "wasm trap: unreachable".into(),
            Some(Trap::StackOverflow) => "wasm trap: stack overflow".into(),
            // Displays as `wasm trap: <what>`.
            Some(trap) => trap.to_string(),
            None => {
                let message = format!("wasm error: {err}");
                message.chars().take(200).collect()
            }
        },
    }
}

/// `64 MiB`, `512 KiB`, `1000 bytes`.
fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// `30 s`, `250 ms`.
fn duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 { format!("{} s", d.as_secs()) } else { format!("{} ms", d.as_millis()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_read_naturally() {
        assert_eq!(size(64 << 20), "64 MiB");
        assert_eq!(size(512 << 10), "512 KiB");
        assert_eq!(size(1000), "1000 bytes");
        assert_eq!(duration(Duration::from_secs(30)), "30 s");
        assert_eq!(duration(Duration::from_millis(250)), "250 ms");
    }

    #[test]
    fn sample_apps_are_valid_wat() {
        for app in crate::sample_apps() {
            assert!(to_binary(app.source).is_ok(), "{} does not parse", app.name);
        }
    }
}
