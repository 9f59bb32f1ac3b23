//! CPU and memory of running instances, read from /proc.
//!
//! One sampler keeps the previous CPU-time reading per pid, so `cpu` is the share of one core
//! used since the last sample (as PM2's pidusage reports it).

use pm2_proto::Monit;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Previous readings, keyed by pid.
#[derive(Default)]
pub struct Sampler {
    prev: Mutex<HashMap<u32, (u64, Instant)>>,
}

fn ticks_per_second() -> f64 {
    procfs::ticks_per_second() as f64
}

impl Sampler {
    /// Reads `pid` now. CPU is averaged since the previous reading of the same pid, or since
    /// the process started for the first reading.
    pub fn sample(&self, pid: u32) -> Monit {
        let Ok(proc_) = procfs::process::Process::new(pid as i32) else {
            return Monit::default();
        };
        let Ok(stat) = proc_.stat() else {
            return Monit::default();
        };
        let memory = stat.rss * procfs::page_size();
        let ticks = stat.utime + stat.stime;
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
            None => since_start(&stat, ticks),
        };
        Monit {
            memory,
            cpu: (cpu * 10.0).round() / 10.0,
        }
    }

    /// Forgets pids that no longer run.
    pub fn retain(&self, live: &[u32]) {
        let mut prev = self.prev.lock().unwrap_or_else(|p| p.into_inner());
        prev.retain(|pid, _| live.contains(pid));
    }
}

/// Average CPU since the process started (first sample of a pid).
fn since_start(stat: &procfs::process::Stat, ticks: u64) -> f64 {
    let Ok(uptime) = <procfs::Uptime as procfs::Current>::current() else {
        return 0.0;
    };
    let started = stat.starttime as f64 / ticks_per_second();
    let elapsed = uptime.uptime - started;
    if elapsed <= 0.0 {
        return 0.0;
    }
    ticks as f64 / ticks_per_second() / elapsed * 100.0
}
