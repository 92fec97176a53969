//! The part of WASI preview 1 that jobs get: stdin (the job's input), stdout (its output, capped),
//! stderr (kept in part, to explain failures), `proc_exit`, clocks and random bytes. No
//! arguments, no environment, no preopened directories, no sockets: `fd_prestat_get` answers
//! `EBADF`, so a guest's libc sees no filesystem at all.
//!
//! Written here rather than taken from `wasmtime-wasi`, whose preview 1 is built on the component
//! model, async wasmtime, cap-std and tokio: far more than these few functions, and the output cap
//! is simplest to enforce where stdout is written.

use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use wasmtime::{Caller, Extern, Linker, Memory};

use crate::wasm::{JobCtx, STDERR_KEPT, Stop};

/// The WASI preview 1 module name.
pub(crate) const WASI: &str = "wasi_snapshot_preview1";

/// The functions [`add_to_linker`] defines.
pub(crate) const SUPPORTED: &[&str] = &[
    "args_get",
    "args_sizes_get",
    "environ_get",
    "environ_sizes_get",
    "fd_read",
    "fd_write",
    "fd_close",
    "fd_seek",
    "fd_fdstat_get",
    "fd_prestat_get",
    "fd_prestat_dir_name",
    "proc_exit",
    "clock_time_get",
    "clock_res_get",
    "random_get",
    "sched_yield",
];

const ESUCCESS: i32 = 0;
const EBADF: i32 = 8;
const EFAULT: i32 = 21;
const EINVAL: i32 = 28;
const EIO: i32 = 29;
pub(crate) const ENOSYS: i32 = 52;
const ESPIPE: i32 = 70;

/// Most iovecs in one `fd_read`/`fd_write` (Linux's `IOV_MAX`).
const MAX_IOVS: u32 = 1024;

const FILETYPE_CHARACTER_DEVICE: u8 = 2;
const RIGHT_FD_READ: u64 = 1 << 1;
const RIGHT_FD_WRITE: u64 = 1 << 6;

type Ctx<'a> = Caller<'a, JobCtx>;

pub(crate) fn add_to_linker(linker: &mut Linker<JobCtx>) -> wasmtime::Result<()> {
    for name in ["args_sizes_get", "environ_sizes_get"] {
        linker.func_wrap(WASI, name, |mut caller: Ctx<'_>, count: i32, size: i32| -> wasmtime::Result<i32> {
            let memory = memory(&mut caller)?;
            let data = memory.data_mut(&mut caller);
            Ok(errno(write(data, count, &0u32.to_le_bytes()) && write(data, size, &0u32.to_le_bytes())))
        })?;
    }
    for name in ["args_get", "environ_get"] {
        linker.func_wrap(WASI, name, |_: i32, _: i32| ESUCCESS)?;
    }
    linker.func_wrap(WASI, "fd_read", fd_read)?;
    linker.func_wrap(WASI, "fd_write", fd_write)?;
    linker.func_wrap(WASI, "fd_close", |fd: i32| if is_stdio(fd) { ESUCCESS } else { EBADF })?;
    linker.func_wrap(WASI, "fd_seek", |fd: i32, _: i64, _: i32, _: i32| if is_stdio(fd) { ESPIPE } else { EBADF })?;
    linker.func_wrap(WASI, "fd_fdstat_get", |mut caller: Ctx<'_>, fd: i32, out: i32| -> wasmtime::Result<i32> {
        let rights = match fd {
            0 => RIGHT_FD_READ,
            1 | 2 => RIGHT_FD_WRITE,
            _ => return Ok(EBADF),
        };
        // struct fdstat { u8 filetype; u16 flags; u64 rights_base; u64 rights_inheriting; }
        let mut stat = [0u8; 24];
        stat[0] = FILETYPE_CHARACTER_DEVICE;
        stat[8..16].copy_from_slice(&rights.to_le_bytes());
        let memory = memory(&mut caller)?;
        Ok(errno(write(memory.data_mut(&mut caller), out, &stat)))
    })?;
    linker.func_wrap(WASI, "fd_prestat_get", |_: i32, _: i32| EBADF)?;
    linker.func_wrap(WASI, "fd_prestat_dir_name", |_: i32, _: i32, _: i32| EBADF)?;
    linker.func_wrap(WASI, "proc_exit", |mut caller: Ctx<'_>, code: i32| -> wasmtime::Result<()> {
        caller.data_mut().stop = Some(Stop::Exit(code));
        Err(wasmtime::Error::msg(format!("exited with code {code}")))
    })?;
    linker.func_wrap(
        WASI,
        "clock_time_get",
        |mut caller: Ctx<'_>, id: i32, _: i64, out: i32| -> wasmtime::Result<i32> {
            let nanos = match id {
                // realtime
                0 => SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0),
                // monotonic, process and thread CPU time: time since the job started
                1..=3 => caller.data().started.elapsed().as_nanos(),
                _ => return Ok(EINVAL),
            };
            let nanos = u64::try_from(nanos).unwrap_or(u64::MAX);
            let memory = memory(&mut caller)?;
            Ok(errno(write(memory.data_mut(&mut caller), out, &nanos.to_le_bytes())))
        },
    )?;
    linker.func_wrap(WASI, "clock_res_get", |mut caller: Ctx<'_>, id: i32, out: i32| -> wasmtime::Result<i32> {
        if !(0..=3).contains(&id) {
            return Ok(EINVAL);
        }
        let memory = memory(&mut caller)?;
        Ok(errno(write(memory.data_mut(&mut caller), out, &1000u64.to_le_bytes())))
    })?;
    linker.func_wrap(WASI, "random_get", |mut caller: Ctx<'_>, buf: i32, len: i32| -> wasmtime::Result<i32> {
        let memory = memory(&mut caller)?;
        let Some(slice) = range(buf, len).and_then(|r| memory.data_mut(&mut caller).get_mut(r)) else {
            return Ok(EFAULT);
        };
        Ok(if getrandom::fill(slice).is_ok() { ESUCCESS } else { EIO })
    })?;
    linker.func_wrap(WASI, "sched_yield", || ESUCCESS)?;
    Ok(())
}

fn fd_read(mut caller: Ctx<'_>, fd: i32, iovs: i32, iovs_len: i32, nread: i32) -> wasmtime::Result<i32> {
    if fd != 0 {
        return Ok(EBADF);
    }
    let memory = memory(&mut caller)?;
    let (data, ctx) = memory.data_and_store_mut(&mut caller);
    let iovecs = match iovecs(data, iovs, iovs_len) {
        Ok(iovecs) => iovecs,
        Err(errno) => return Ok(errno),
    };
    let mut total = 0usize;
    for (ptr, len) in iovecs {
        let remaining = ctx.input.get(ctx.input_pos..).unwrap_or_default();
        if remaining.is_empty() {
            break;
        }
        let n = len.min(remaining.len());
        let (Some(dst), Some(src)) = (ptr.checked_add(n).and_then(|end| data.get_mut(ptr..end)), remaining.get(..n))
        else {
            return Ok(EFAULT);
        };
        dst.copy_from_slice(src);
        ctx.input_pos += n;
        total += n;
    }
    // At most MAX_IOVS iovecs into a 32-bit memory, and never more than asked for.
    let total = u32::try_from(total).unwrap_or(u32::MAX);
    Ok(errno(write(data, nread, &total.to_le_bytes())))
}

fn fd_write(mut caller: Ctx<'_>, fd: i32, iovs: i32, iovs_len: i32, nwritten: i32) -> wasmtime::Result<i32> {
    if fd != 1 && fd != 2 {
        return Ok(EBADF);
    }
    let memory = memory(&mut caller)?;
    let (data, ctx) = memory.data_and_store_mut(&mut caller);
    let iovecs = match iovecs(data, iovs, iovs_len) {
        Ok(iovecs) => iovecs,
        Err(errno) => return Ok(errno),
    };
    let mut total = 0u64;
    for (ptr, len) in iovecs {
        let Some(bytes) = ptr.checked_add(len).and_then(|end| data.get(ptr..end)) else {
            return Ok(EFAULT);
        };
        if total + len as u64 > u64::from(u32::MAX) {
            break;
        }
        if fd == 1 {
            if ctx.stdout_len + len as u64 > ctx.output_cap {
                ctx.stop = Some(Stop::Output);
                return Err(wasmtime::Error::msg("output limit exceeded"));
            }
            if let Err(e) = ctx.stdout.write_all(bytes) {
                ctx.stop = Some(Stop::Host(format!("writing the output: {e}")));
                return Err(wasmtime::Error::msg("output write failed"));
            }
            ctx.stdout_len += len as u64;
        } else {
            let room = STDERR_KEPT.saturating_sub(ctx.stderr.len());
            ctx.stderr.extend_from_slice(bytes.get(..len.min(room)).unwrap_or_default());
        }
        total += len as u64;
    }
    let total = u32::try_from(total).unwrap_or(u32::MAX);
    Ok(errno(write(data, nwritten, &total.to_le_bytes())))
}

fn is_stdio(fd: i32) -> bool {
    (0..=2).contains(&fd)
}

fn errno(ok: bool) -> i32 {
    if ok { ESUCCESS } else { EFAULT }
}

fn memory(caller: &mut Ctx<'_>) -> wasmtime::Result<Memory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => Ok(memory),
        _ => Err(wasmtime::Error::msg("the app exports no memory")),
    }
}

/// `ptr..ptr + len` as host indices (guest pointers are unsigned 32-bit).
fn range(ptr: i32, len: i32) -> Option<std::ops::Range<usize>> {
    let start = ptr as u32 as usize;
    Some(start..start.checked_add(len as u32 as usize)?)
}

/// Copies `bytes` to guest address `ptr`; false when that is out of bounds.
fn write(data: &mut [u8], ptr: i32, bytes: &[u8]) -> bool {
    let start = ptr as u32 as usize;
    match start.checked_add(bytes.len()).and_then(|end| data.get_mut(start..end)) {
        Some(dst) => {
            dst.copy_from_slice(bytes);
            true
        }
        None => false,
    }
}

/// Reads `len` iovecs (`{ u32 ptr; u32 len; }`) at guest address `iovs`.
fn iovecs(data: &[u8], iovs: i32, len: i32) -> Result<Vec<(usize, usize)>, i32> {
    let len = len as u32;
    if len > MAX_IOVS {
        return Err(EINVAL);
    }
    let table = range(iovs, (len * 8) as i32).and_then(|r| data.get(r)).ok_or(EFAULT)?;
    Ok(table
        .chunks_exact(8)
        .map(|iovec| {
            let word = |at: usize| {
                let mut le = [0u8; 4];
                le.copy_from_slice(&iovec[at..at + 4]);
                u32::from_le_bytes(le) as usize
            };
            (word(0), word(4))
        })
        .collect())
}
