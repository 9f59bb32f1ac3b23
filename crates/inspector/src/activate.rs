//! Opening a running Node process's inspector without running code in it: Node starts
//! its inspector when it receives `SIGUSR1`, on the port of its `--inspect-port` (9229 by
//! default, a free one for `0`). Where it listens is read from the process's own sockets
//! in `/proc`, not from its log: the socket that appears after the signal is the inspector
//! once its `/json/list` says so. An inspector already open is found the same way, among
//! the process's loopback sockets, and no signal is sent.

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
    /// One `/json/list` request.
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
    /// Where its HTTP and websocket endpoint listens.
    pub addr: SocketAddr,
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
    if let Some((addr, target)) =
        first_inspector(before.iter().filter(|l| l.is_loopback()), waits.probe)
    {
        return Ok(Inspector {
            addr,
            target,
            was_open: true,
        });
    }
    signal().map_err(|reason| Error::Signal { pid, reason })?;
    let (addr, target) = wait_for_new(pid, &before, waits)?;
    Ok(Inspector {
        addr,
        target,
        was_open: false,
    })
}

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
) -> Option<(SocketAddr, Target)> {
    let deadline = Deadline::after(probe);
    listeners.into_iter().find_map(|l| {
        let addr = l.connect_addr();
        let mut list = targets::list(addr, deadline.left()?).ok()?;
        Some((addr, list.swap_remove(0)))
    })
}

/// Reads the process's sockets until one that was not there before answers as an
/// inspector, or `waits.open` passes.
fn wait_for_new(
    pid: u32,
    before: &[Listener],
    waits: Waits,
) -> Result<(SocketAddr, Target), Error> {
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
