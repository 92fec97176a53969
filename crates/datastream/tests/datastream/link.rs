//! Two network namespaces joined by a veth pair: a real link between two hosts, on one machine, for
//! the `link_down` test and `benches/shaped.rs` (which includes this file).
//!
//! A socket belongs to the namespace it was opened in, whichever thread uses it later: [`Ns::socket`]
//! opens one on a thread of its own that enters the namespace (`setns`, through rustix), and the
//! thread ends. So the rest of the process — its runtime, anvil's RPC on 127.0.0.1 — stays in the
//! root namespace while the data crosses the veth. The link can be shaped (`tc … tbf`), taken down and brought up.
//! Both namespaces are deleted when the [`Link`] is dropped (a panic unwinding included); their
//! names are unique per process, call and moment, and ones left by a killed process are deleted by
//! the next [`Link::new`].

use std::fs::File;
use std::net::Ipv4Addr;
use std::os::fd::AsFd;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustix::thread::{LinkNameSpaceType, move_into_link_name_space};
use tokio::net::TcpSocket;

/// Every namespace made here is named `agora-ns-<pid>-…`.
const PREFIX: &str = "agora-ns-";

/// Why a link cannot be made on this machine (not root, no `ip`); `None` when it can.
pub fn unavailable() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|l| l.split_whitespace().nth(1));
    if euid != Some("0") {
        return Some(format!(
            "network namespaces need root; the effective uid is {}",
            euid.unwrap_or("unknown (no /proc/self/status)")
        ));
    }
    match Command::new("ip").arg("-V").output() {
        Ok(o) if o.status.success() => None,
        Ok(o) => Some(format!("`ip -V` failed: {}", String::from_utf8_lossy(&o.stderr).trim())),
        Err(e) => Some(format!("no `ip` command (iproute2): {e}")),
    }
}

/// One end of the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `va`, 10.77.0.1.
    A,
    /// `vb`, 10.77.0.2.
    B,
}

impl Side {
    fn index(self) -> usize {
        match self {
            Side::A => 0,
            Side::B => 1,
        }
    }

    /// The end's address on the link (the same in every pair: each pair has namespaces of its own).
    pub fn addr(self) -> Ipv4Addr {
        [Ipv4Addr::new(10, 77, 0, 1), Ipv4Addr::new(10, 77, 0, 2)][self.index()]
    }

    /// The end's veth device, inside its namespace.
    pub fn dev(self) -> &'static str {
        ["va", "vb"][self.index()]
    }
}

/// A namespace to open sockets in; cheap to clone into tasks.
#[derive(Debug, Clone)]
pub struct Ns {
    name: String,
    file: Arc<File>,
}

impl Ns {
    /// The namespace's name (`ip netns list`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A TCP socket (not yet bound or connected) that lives in this namespace.
    pub fn socket(&self) -> anyhow::Result<TcpSocket> {
        let file = self.file.clone();
        std::thread::scope(|s| {
            s.spawn(move || -> anyhow::Result<TcpSocket> {
                move_into_link_name_space(file.as_fd(), Some(LinkNameSpaceType::Network))?;
                Ok(TcpSocket::new_v4()?)
            })
            .join()
            .map_err(|_| anyhow::anyhow!("the thread entering the namespace panicked"))?
        })
    }
}

/// Two namespaces, `A` and `B`, joined by a veth pair `va`–`vb` (10.77.0.1/24 – 10.77.0.2/24),
/// both ends and both loopbacks up. Dropping it deletes both namespaces.
#[derive(Debug)]
pub struct Link {
    /// The namespaces made so far (all of them once `new` returns).
    made: Vec<Ns>,
}

impl Link {
    /// Makes the pair.
    pub fn new() -> anyhow::Result<Self> {
        sweep();
        static CALLS: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let base = format!("{PREFIX}{}-{}-{nanos}", std::process::id(), CALLS.fetch_add(1, Ordering::Relaxed));
        let mut link = Link { made: Vec::new() };
        for side in ["a", "b"] {
            let name = format!("{base}-{side}");
            ip(&["netns", "add", &name])?;
            let file = File::open(format!("/var/run/netns/{name}"))?;
            link.made.push(Ns { name, file: Arc::new(file) });
        }
        let (a, b) = (link.ns(Side::A).name.clone(), link.ns(Side::B).name.clone());
        // Made inside A with its peer inside B: no device name is ever taken in the root namespace.
        ip(&["-n", &a, "link", "add", Side::A.dev(), "type", "veth", "peer", "name", Side::B.dev(), "netns", &b])?;
        for side in [Side::A, Side::B] {
            let ns = link.ns(side).name.clone();
            ip(&["-n", &ns, "addr", "add", &format!("{}/24", side.addr()), "dev", side.dev()])?;
            ip(&["-n", &ns, "link", "set", side.dev(), "up"])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        }
        Ok(link)
    }

    /// One end's namespace.
    pub fn ns(&self, side: Side) -> &Ns {
        &self.made[side.index()]
    }

    /// Adds `tc qdisc add dev <dev> root <qdisc…>` on both ends (e.g. `tbf rate 100mbit …`).
    pub fn shape(&self, qdisc: &[&str]) -> anyhow::Result<()> {
        for side in [Side::A, Side::B] {
            let mut args = vec!["netns", "exec", self.ns(side).name(), "tc", "qdisc", "add", "dev", side.dev(), "root"];
            args.extend_from_slice(qdisc);
            ip(&args)?;
        }
        Ok(())
    }

    /// Takes `side`'s end of the link down (`ip link set … down`): nothing crosses until it is up.
    pub fn down(&self, side: Side) -> anyhow::Result<()> {
        ip(&["-n", self.ns(side).name(), "link", "set", side.dev(), "down"])
    }

    /// Brings `side`'s end up again and waits (up to 10 s) until both ends report a carrier.
    pub async fn up(&self, side: Side) -> anyhow::Result<()> {
        ip(&["-n", self.ns(side).name(), "link", "set", side.dev(), "up"])?;
        let give_up = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut flags = Vec::new();
        loop {
            flags.clear();
            for end in [Side::A, Side::B] {
                let out =
                    Command::new("ip").args(["-n", self.ns(end).name(), "-o", "link", "show", end.dev()]).output()?;
                flags.push(String::from_utf8_lossy(&out.stdout).into_owned());
            }
            if flags.iter().all(|f| f.contains(",UP,LOWER_UP>")) {
                return Ok(());
            }
            anyhow::ensure!(tokio::time::Instant::now() < give_up, "the link is not up after 10 s: {flags:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        for ns in self.made.iter().rev() {
            if let Err(e) = ip(&["netns", "del", ns.name()]) {
                eprintln!("could not delete network namespace {}: {e}", ns.name());
            }
        }
    }
}

/// Runs `ip args…`; its stderr in the error.
fn ip(args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new("ip").args(args).output()?;
    anyhow::ensure!(
        out.status.success(),
        "`ip {}` failed ({}): {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(())
}

/// Deletes namespaces named here by a process that is gone (killed before its `Link` dropped).
fn sweep() {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else { return };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some(name) = line.split_whitespace().next() else { continue };
        let Some(pid) = name.strip_prefix(PREFIX).and_then(|rest| rest.split('-').next()) else { continue };
        if pid.parse::<u32>().is_ok() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = ip(&["netns", "del", name]);
        }
    }
}
