//! CPU and memory of running instances, read from /proc.
//!
//! One sampler keeps the previous CPU-time reading per pid, so `cpu` is the share of one core
//! used since the last sample (as PM2's pidusage reports it).
//!
//! Each running pid's `/proc/<pid>/stat` stays open and is re-read with one `pread`: a
//! reading costs one syscall instead of eight. A reused pid cannot be mistaken for the old
//! process: the kept descriptor of a dead process fails to read and is dropped.
//!
//! Readings are taken when they are needed, not all every second: the housekeeping timer
//! reads the instances with a memory limit every tick and the others once per sweep, and a
//! view (`list`, `jlist`, `monit`, the Node API's list) reads again any instance whose
//! reading is older than [`FRESH_FOR`]. So 1,000 idle apps cost a sweep every 30 s, and
//! a `pm2 list` still shows CPU and memory as of now (CPU averaged since the previous
//! reading, as PM2's pidusage does).

use pm2_proto::Monit;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How old a reading a view may show before it is taken again.
pub const FRESH_FOR: Duration = Duration::from_millis(1000);

/// How old a reading a poller that asks every second for fresh ones may be shown: half
/// of [`FRESH_FOR`], so a reading taken at one poll (about a second before the next, a
/// few ms either side) is taken again at the next rather than shown twice.
pub const POLL_FRESH_FOR: Duration = Duration::from_millis(500);

/// Previous CPU readings keyed by pid, open stat files keyed by pid, and the latest
/// readings keyed by pm_id (with the pid they are of, and when they were taken).
#[derive(Default)]
pub struct Sampler {
    prev: Mutex<HashMap<u32, (u64, Instant)>>,
    latest: Mutex<HashMap<u32, Latest>>,
    files: Mutex<HashMap<u32, File>>,
}

/// One instance's latest reading.
#[derive(Clone, Copy)]
struct Latest {
    pid: u32,
    monit: Monit,
    at: Instant,
}

/// The fields of `/proc/<pid>/stat` the sampler needs.
struct StatLine {
    ticks: u64,
    rss_pages: u64,
    start_ticks: u64,
}

/// Parses a stat line: fields after the `)` that ends the command name (which may itself
/// contain spaces and parentheses).
fn parse_stat(text: &str) -> Option<StatLine> {
    let (_, rest) = text.rsplit_once(')')?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok());
    Some(StatLine {
        ticks: num(11)? + num(12)?,
        start_ticks: num(19)?,
        rss_pages: num(21)?,
    })
}

fn ticks_per_second() -> f64 {
    procfs::ticks_per_second() as f64
}

impl Sampler {
    /// Reads `pid` now. CPU is averaged since the previous reading of the same pid, or since
    /// the process started for the first reading.
    pub fn sample(&self, pid: u32) -> Monit {
        let Some(stat) = self.read_stat(pid) else {
            return Monit::default();
        };
        let memory = stat.rss_pages * procfs::page_size();
        let ticks = stat.ticks;
        let now = Instant::now();
        let mut prev = self.prev.lock().unwrap_or_else(|p| p.into_inner());
        let cpu = match prev.insert(pid, (ticks, now)) {
            Some((old_ticks, at)) => {
                let secs = now.duration_since(at).as_secs_f64();
                if secs > 0.0 {
                    ticks.saturating_sub(old_ticks) as f64 / ticks_per_second() / secs * 100.0
                } else {
                    0.0
                }
            }
            None => since_start(stat.start_ticks, ticks),
        };
        Monit {
            memory,
            cpu: (cpu * 10.0).round() / 10.0,
        }
    }

    /// `/proc/<pid>/stat` through the kept descriptor (opened on first use).
    fn read_stat(&self, pid: u32) -> Option<StatLine> {
        let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        let file = match files.entry(pid) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(File::open(format!("/proc/{pid}/stat")).ok()?)
            }
        };
        let mut buf = [0u8; 1024];
        let read = Some(file.read_at(&mut buf, 0));
        match read {
            Some(Ok(n)) if n > 0 => parse_stat(&String::from_utf8_lossy(&buf[..n])),
            _ => {
                files.remove(&pid);
                None
            }
        }
    }

    /// Reads instance `pm_id` (running as `pid`) now and keeps the reading for views.
    pub fn sample_instance(&self, pm_id: u32, pid: u32) -> Monit {
        let monit = self.sample(pid);
        let at = Instant::now();
        self.latest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(pm_id, Latest { pid, monit, at });
        monit
    }

    /// The instance's reading for a view: the kept one when it is of this `pid` and younger
    /// than [`FRESH_FOR`], else a new one.
    pub fn fresh(&self, pm_id: u32, pid: u32) -> Monit {
        self.kept_within(pm_id, pid, Some(FRESH_FOR))
    }

    /// The instance's kept reading when it is of this `pid`, however old (the sampler's
    /// sweep renews it), else a new one: what the table printed after a command shows.
    pub fn kept(&self, pm_id: u32, pid: u32) -> Monit {
        self.kept_within(pm_id, pid, None)
    }

    /// The instance's reading and how long ago it was taken (the dashboard's poll, which
    /// shows when each reading was taken): with `fresh`, one under [`POLL_FRESH_FOR`] old
    /// (else a new one), else [`Sampler::kept`]'s.
    pub fn reading(&self, pm_id: u32, pid: u32, fresh: bool) -> (Monit, Duration) {
        let l = self.latest_within(pm_id, pid, fresh.then_some(POLL_FRESH_FOR));
        (l.monit, l.at.elapsed())
    }

    /// The kept reading of this `pid` when it is younger than `max_age` (any age for
    /// `None`), else a new one.
    fn kept_within(&self, pm_id: u32, pid: u32, max_age: Option<Duration>) -> Monit {
        self.latest_within(pm_id, pid, max_age).monit
    }

    /// [`Sampler::kept_within`] with the time of the reading.
    fn latest_within(&self, pm_id: u32, pid: u32, max_age: Option<Duration>) -> Latest {
        let kept = self
            .latest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&pm_id)
            .copied()
            .filter(|l| l.pid == pid && max_age.is_none_or(|age| l.at.elapsed() < age));
        match kept {
            Some(l) => l,
            None => {
                let monit = self.sample_instance(pm_id, pid);
                Latest {
                    pid,
                    monit,
                    at: Instant::now(),
                }
            }
        }
    }

    /// Forgets the readings, CPU history and stat files of instances and pids that no
    /// longer run (`live`: pm_id and pid of each running instance).
    pub fn forget_all_but(&self, live: &[(u32, u32)]) {
        let pids: HashSet<u32> = live.iter().map(|(_, pid)| *pid).collect();
        let ids: HashSet<u32> = live.iter().map(|(id, _)| *id).collect();
        self.latest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|id, l| ids.contains(id) && pids.contains(&l.pid));
        self.prev
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|pid, _| pids.contains(pid));
        self.files
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|pid, _| pids.contains(pid));
    }
}

/// Average CPU since the process started (first sample of a pid).
fn since_start(start_ticks: u64, ticks: u64) -> f64 {
    let Ok(uptime) = <procfs::Uptime as procfs::Current>::current() else {
        return 0.0;
    };
    let started = start_ticks as f64 / ticks_per_second();
    let elapsed = uptime.uptime - started;
    if elapsed <= 0.0 {
        return 0.0;
    }
    ticks as f64 / ticks_per_second() / elapsed * 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_lines_with_odd_command_names() {
        let line = "42 (my (odd) app) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 555 1000 25 18446744073709551615";
        let s = parse_stat(line).expect("parsed");
        assert_eq!(s.ticks, 10);
        assert_eq!(s.start_ticks, 555);
        assert_eq!(s.rss_pages, 25);
    }

    #[test]
    fn samples_this_process_and_forgets_dead_pids() {
        let sampler = Sampler::default();
        let me = std::process::id();
        assert!(sampler.sample_instance(7, me).memory > 0);
        let first = sampler.latest.lock().unwrap()[&7].at;
        sampler.fresh(7, me);
        assert_eq!(
            sampler.latest.lock().unwrap()[&7].at,
            first,
            "fresh enough: kept"
        );
        sampler.fresh(7, me + 1);
        assert_ne!(
            sampler.latest.lock().unwrap()[&7].at,
            first,
            "another pid: read again"
        );
        let renewed = sampler.latest.lock().unwrap()[&7].at;
        sampler.latest.lock().unwrap().get_mut(&7).unwrap().at -= FRESH_FOR * 2;
        sampler.kept(7, me + 1);
        assert_eq!(
            sampler.latest.lock().unwrap()[&7].at + FRESH_FOR * 2,
            renewed,
            "kept: an old reading of this pid is shown as it is"
        );
        sampler.kept(7, me);
        assert_ne!(
            sampler.latest.lock().unwrap()[&7].at + FRESH_FOR * 2,
            renewed,
            "kept: another pid is read"
        );
        sampler.forget_all_but(&[]);
        assert!(sampler.files.lock().unwrap().is_empty());
        assert!(sampler.latest.lock().unwrap().is_empty());
    }
}
