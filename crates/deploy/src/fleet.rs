//! Many hosts at once: at most `parallel` hosts run together (all by default), a failing
//! host never stops the others, and the summary says where each one got to.

use crate::host::{HostReport, Outcome};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Runs `one` for every host, `parallel` at a time (0 or more than the hosts: all at
/// once); the reports come back in the hosts' order.
pub fn run_all<F>(hosts: &[String], parallel: usize, one: F) -> Vec<HostReport>
where
    F: Fn(&str) -> HostReport + Sync,
{
    let workers = match parallel {
        0 => hosts.len(),
        n => n.min(hosts.len()),
    };
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<HostReport>>> = hosts.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(host) = hosts.get(i) else { break };
                let report = one(host);
                *slots[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(report);
            });
        }
    });
    slots
        .into_iter()
        .filter_map(|slot| slot.into_inner().unwrap_or_else(|p| p.into_inner()))
        .collect()
}

/// The summary table: host, step reached, duration, result.
pub fn summary(reports: &[HostReport]) -> String {
    let rows: Vec<[String; 4]> = reports
        .iter()
        .map(|r| {
            [
                r.host.clone(),
                r.step.clone(),
                format!("{:.1}s", r.elapsed.as_secs_f64()),
                match &r.outcome {
                    Outcome::Ok => "ok".to_string(),
                    Outcome::Failed(why) => format!("FAILED: {why}"),
                },
            ]
        })
        .collect();
    let header = ["host", "step", "duration", "result"].map(String::from);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn report(host: &str, ok: bool) -> HostReport {
        HostReport {
            host: host.into(),
            step: "fetch".into(),
            elapsed: Duration::from_millis(1500),
            outcome: if ok {
                Outcome::Ok
            } else {
                Outcome::Failed("fetch failed".into())
            },
            exit_code: None,
        }
    }

    #[test]
    fn hosts_run_together_and_keep_their_order() {
        let hosts: Vec<String> = (0..4).map(|i| format!("h{i}")).collect();
        let started = Instant::now();
        let reports = run_all(&hosts, 0, |h| {
            std::thread::sleep(Duration::from_millis(200));
            report(h, h != "h1")
        });
        assert!(
            started.elapsed() < Duration::from_millis(700),
            "ran one by one"
        );
        let names: Vec<&str> = reports.iter().map(|r| r.host.as_str()).collect();
        assert_eq!(names, ["h0", "h1", "h2", "h3"]);
        assert_eq!(reports[1].outcome, Outcome::Failed("fetch failed".into()));
    }

    #[test]
    fn the_summary_has_a_row_per_host() {
        let table = summary(&[report("10.0.0.1", true), report("b", false)]);
        assert_eq!(
            table,
            "host      step   duration  result\n\
             10.0.0.1  fetch  1.5s      ok\n\
             b         fetch  1.5s      FAILED: fetch failed\n"
        );
    }
}
