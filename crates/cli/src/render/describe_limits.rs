//! `describe`'s rows for how a process is contained (beyond PM2): whole-tree tracking
//! (cgroup or `/proc` walk), each resource limit and whether the kernel enforces it, and
//! the reason of the last restart an OOM kill under `memory_limit` caused.

use super::format::bytes_to_size;
use super::grid::Cell;
use pm2_proto::{LimitState, ProcessInfo};

/// The rows, after PM2's own; none for a process that never started.
pub(super) fn containment_rows(p: &ProcessInfo) -> Vec<Vec<Cell>> {
    let Some(c) = p.containment.as_ref() else {
        return vec![];
    };
    let mut rows = vec![row("tracking", &c.tracking)];
    for limit in &c.limits {
        rows.push(row(&limit.key, &limit_text(p, limit)));
    }
    if c.oom_restarts > 0 {
        rows.push(row("oom restarts", &c.oom_restarts.to_string()));
    }
    if let Some(why) = &c.last_restart {
        rows.push(row("restart reason", why));
    }
    rows
}

/// `50 MB (cgroup v1)`, or `0.2 cores, not enforced: …`.
fn limit_text(p: &ProcessInfo, limit: &LimitState) -> String {
    let l = &p.spec.limits;
    let value = match limit.key.as_str() {
        "memory_limit" => l.memory.map(bytes_to_size),
        "cpu_limit" => l.cpu_cores().map(|c| format!("{c} cores")),
        "pids_limit" => l.pids.map(|n| format!("{n} processes")),
        _ => None,
    }
    .unwrap_or_default();
    match (&limit.enforced_by, &limit.warning) {
        (Some(by), _) => format!("{value} ({by})"),
        (None, Some(why)) => {
            // The warning names the key; the row already does.
            let why = why
                .strip_prefix(limit.key.as_str())
                .unwrap_or(why)
                .trim_start();
            format!("{value}, not enforced: {why}")
        }
        (None, None) => format!("{value}, not enforced"),
    }
}

fn row(key: &str, value: &str) -> Vec<Cell> {
    vec![Cell::plain(key), Cell::plain(value)]
}
