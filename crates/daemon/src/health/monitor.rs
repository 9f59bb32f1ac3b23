//! The probing task of one process: probes every `interval` on the daemon's runtime and
//! reports each result to the instance task, which alone decides what it means.

use super::probe::{self, ProbeContext};
use pm2_proto::HealthCheck;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The first probe comes this soon after the spawn (then every `interval`), so a quick
/// app is online quickly whatever its interval.
const FIRST_PROBE: Duration = Duration::from_millis(100);

/// One probe's result for the process `pid`.
#[derive(Debug)]
pub(crate) struct Report {
    /// The process probed (a report for a process since replaced is ignored).
    pub pid: u32,
    /// Passed, or why not.
    pub result: Result<(), String>,
    /// Inside the start period, where failures do not count.
    pub in_grace: bool,
}

/// The probing of an instance's current process, if it has a check.
#[derive(Default)]
pub(crate) struct Monitor {
    task: Option<(u32, JoinHandle<()>)>,
    /// The reports' channel, made by the first [`Monitor::watch`]: an instance without a
    /// `health_check` (most of them) holds none (a channel is a kilobyte).
    reports: Option<(mpsc::Sender<Report>, mpsc::Receiver<Report>)>,
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Monitor {
    /// The process being probed, if any.
    pub(crate) fn watching(&self) -> Option<u32> {
        self.task.as_ref().map(|(pid, _)| *pid)
    }

    /// Starts probing process `pid` (ending the probing of any other).
    pub(crate) fn watch(&mut self, pid: u32, check: HealthCheck, ctx: ProbeContext) {
        self.stop();
        let (tx, _) = self.reports.get_or_insert_with(|| mpsc::channel(4));
        let tx = tx.clone();
        let task = tokio::spawn(probe_loop(pid, check, ctx, tx));
        self.task = Some((pid, task));
    }

    /// Ends the probing (the process is gone or being stopped).
    pub(crate) fn stop(&mut self) {
        if let Some((_, task)) = self.task.take() {
            task.abort();
        }
    }

    /// The next result; never resolves while nothing is probed.
    pub(crate) async fn next(&mut self) -> Report {
        let Some((_, rx)) = self.reports.as_mut() else {
            return std::future::pending().await;
        };
        loop {
            match rx.recv().await {
                Some(r) if Some(r.pid) == self.task.as_ref().map(|(pid, _)| *pid) => return r,
                Some(_) => continue,
                // The monitor holds a sender, so the channel never closes.
                None => std::future::pending::<()>().await,
            }
        }
    }
}

async fn probe_loop(pid: u32, check: HealthCheck, ctx: ProbeContext, tx: mpsc::Sender<Report>) {
    let started = Instant::now();
    let grace = Duration::from_millis(check.start_period);
    let every = Duration::from_millis(check.interval);
    let timeout = Duration::from_millis(check.timeout);
    let mut next = started + FIRST_PROBE.min(every);
    loop {
        tokio::time::sleep_until(next).await;
        let result = probe::run(&check.probe, timeout, &ctx).await;
        let in_grace = started.elapsed() < grace;
        if tx
            .send(Report {
                pid,
                result,
                in_grace,
            })
            .await
            .is_err()
        {
            return;
        }
        // The next probe is `interval` after this one began, never two at once.
        next = (next + every).max(Instant::now());
    }
}
