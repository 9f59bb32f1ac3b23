//! Opening a running Node process's inspector without running code in it: Node starts
//! its inspector when it receives `SIGUSR1`, on the port of its `--inspect-port` (9229 by
//! default, a free one for `0`). Where it listens is read from the process's own sockets
//! in `/proc`, not from its log: the socket that appears after the signal is the inspector
//! once its `/json/list` says so. An inspector already open is found the same way, among
//! the process's loopback sockets and those its inspector flags name, and no signal is
//! sent.

use crate::deadline::Deadline;
use crate::listeners::{listening, Listener};
use crate::{targets, Error, Target};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

/// How often the process's sockets are read while Node opens its inspector (there is no
/// event to wait on for a socket another process opens).
const POLL: Duration = Duration::from_millis(20);

/// How long each step may take.
#[derive(Debug, Clone, Copy)]
pub struct Waits {
    /// From the signal to the inspector's socket listening.
    pub open: Duration,
    /// The `/json/list` requests to the sockets already there, all together; and each
    /// request to a socket that appears.
    pub probe: Duration,
}

impl Default for Waits {
    /// Generous for a loaded machine: Node opens its inspector within milliseconds.
    fn default() -> Waits {
        Waits {
            open: Duration::from_secs(5),
            probe: Duration::from_secs(2),
        }
    }
}

/// A process's open inspector.
#[derive(Debug, Clone)]
pub struct Inspector {
    /// Where its HTTP and websocket endpoint is reached from this host.
    pub addr: SocketAddr,
    /// The address it is bound to (loopback unless the app's flags chose another).
    pub bound: SocketAddr,
    /// Its first debug target (the process's main thread).
    pub target: Target,
    /// It was open before this call (no signal was sent).
    pub was_open: bool,
}

/// Opens the inspector of `pid` (`signal` sends it `SIGUSR1`; the caller owns the
/// process, this crate does not) and returns where it listens.
pub fn activate(
    pid: u32,
    signal: impl FnOnce() -> Result<(), String>,
    waits: Waits,
) -> Result<Inspector, Error> {
    refuse_stopped(pid)?;
    let before = listening(pid)?;
    let declared = declared_ports(pid);
    let candidates = before
        .iter()
        .filter(|l| l.is_loopback() || declared.contains(&l.addr.port()));
    if let Some((listener, target)) = first_inspector(candidates, waits.probe) {
        return Ok(inspector(listener, target, true));
    }
    signal().map_err(|reason| Error::Signal { pid, reason })?;
    let (listener, target) = wait_for_new(pid, &before, waits)?;
    Ok(inspector(listener, target, false))
}

fn inspector(listener: Listener, target: Target, was_open: bool) -> Inspector {
    Inspector {
        addr: listener.connect_addr(),
        bound: listener.addr,
        target,
        was_open,
    }
}

/// The inspector ports the process's command line and `NODE_OPTIONS` name
/// (`--inspect=0.0.0.0:9230`, `--inspect-port=9230`, a bare `--inspect` for 9229): an
/// inspector already open on a wildcard address is found there, and the app's other
/// public sockets are never asked.
fn declared_ports(pid: u32) -> Vec<u16> {
    let Ok(process) = procfs::process::Process::new(pid as i32) else {
        return Vec::new();
    };
    let mut words = process.cmdline().unwrap_or_default();
    if let Ok(env) = process.environ() {
        if let Some(options) = env.get(std::ffi::OsStr::new("NODE_OPTIONS")) {
            words.extend(
                options
                    .to_string_lossy()
                    .split_whitespace()
                    .map(str::to_string),
            );
        }
    }
    words.iter().filter_map(|w| inspect_port_of(w)).collect()
}

/// The port an inspector flag names, 9229 for one that names none.
fn inspect_port_of(word: &str) -> Option<u16> {
    let flag = word.split('=').next()?;
    if !matches!(
        flag,
        "--inspect" | "--inspect-brk" | "--inspect-port" | "--inspect-wait" | "--debug-port"
    ) {
        return None;
    }
    match word.split_once('=') {
        None => Some(NODE_DEFAULT_PORT),
        Some((_, value)) => value.rsplit(':').next()?.parse().ok(),
    }
}

/// Node's inspector port when nothing chooses one.
const NODE_DEFAULT_PORT: u16 = 9229;

/// A stopped process (SIGSTOP, a debugger) runs neither its signal handler nor its
/// inspector: waiting for either would only end at the deadline.
fn refuse_stopped(pid: u32) -> Result<(), Error> {
    let stat = procfs::process::Process::new(pid as i32)
        .and_then(|p| p.stat())
        .map_err(|source| Error::Proc { pid, source })?;
    match stat.state {
        'T' | 't' => Err(Error::Stopped { pid }),
        _ => Ok(()),
    }
}

/// The first of `listeners` whose `/json/list` is an inspector's; all of them are asked
/// within `probe` (a socket that accepts and never answers costs its share, not more).
fn first_inspector<'a>(
    listeners: impl Iterator<Item = &'a Listener>,
    probe: Duration,
) -> Option<(Listener, Target)> {
    let deadline = Deadline::after(probe);
    listeners.into_iter().find_map(|l| {
        let mut list = targets::list(l.connect_addr(), deadline.left()?).ok()?;
        Some((l.clone(), list.swap_remove(0)))
    })
}

/// Reads the process's sockets until one that was not there before answers as an
/// inspector, or `waits.open` passes.
fn wait_for_new(pid: u32, before: &[Listener], waits: Waits) -> Result<(Listener, Target), Error> {
    let deadline = Deadline::after(waits.open);
    let mut tried: HashSet<u64> = before.iter().map(|l| l.inode).collect();
    loop {
        let fresh: Vec<Listener> = listening(pid)?
            .into_iter()
            .filter(|l| tried.insert(l.inode))
            .collect();
        if let Some(found) = first_inspector(fresh.iter(), waits.probe) {
            return Ok(found);
        }
        if deadline.left().is_none() {
            return Err(Error::NotOpened {
                waited_ms: waits.open.as_millis() as u64,
            });
        }
        std::thread::sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::inspect_port_of;

    #[test]
    fn inspector_flags_name_their_port() {
        assert_eq!(inspect_port_of("--inspect"), Some(9229));
        assert_eq!(inspect_port_of("--inspect-brk"), Some(9229));
        assert_eq!(inspect_port_of("--inspect=0.0.0.0:9230"), Some(9230));
        assert_eq!(inspect_port_of("--inspect=[::]:9231"), Some(9231));
        assert_eq!(inspect_port_of("--inspect-port=9232"), Some(9232));
        assert_eq!(inspect_port_of("--inspect=9233"), Some(9233));
        assert_eq!(inspect_port_of("--inspect-publish-uid=http"), None);
        assert_eq!(inspect_port_of("app.js"), None);
        assert_eq!(inspect_port_of("--inspect=host"), None);
    }
}
