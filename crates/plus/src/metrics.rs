//! Prometheus `/metrics` in the text exposition format (0.0.4). One series per instance,
//! labelled `host` (this host's name, or a linked host's), `app`, `id` and `namespace`;
//! the names follow the community pm2 exporters:
//!
//! | metric | type | what |
//! |---|---|---|
//! | `pm2_up` | gauge | 1 when the instance is online, else 0 |
//! | `pm2_cpu` | gauge | CPU, percent of one core |
//! | `pm2_memory` | gauge | resident memory, bytes |
//! | `pm2_restarts` | counter | PM2's `restart_time` |
//! | `pm2_uptime` | gauge | seconds since the process started (0 when not running) |
//! | `pm2_status` | gauge | 1, with the status as the `status` label |
//! | `pm2_custom_metric` | gauge | each numeric `axm_monitor` value, `metric` and `unit` labels |

use pm2_proto::ProcessInfo;
use std::fmt::Write;

/// One per-instance series: its name, type, help text and value; a `live` one is 0 for
/// an instance that is not running (its last sample would be stale).
struct Series {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    live: bool,
    value: fn(&ProcessInfo, u64) -> f64,
}

/// The series every instance has, one a line (a table reads better than five blocks).
#[rustfmt::skip]
const SERIES: [Series; 5] = [
    Series { name: "pm2_up", kind: "gauge", help: "1 when the instance is online, else 0", live: false, value: |p, _| f64::from(u8::from(p.status.as_str() == "online")) },
    Series { name: "pm2_cpu", kind: "gauge", help: "CPU usage, percent of one core", live: true, value: |p, _| p.monit.cpu },
    Series { name: "pm2_memory", kind: "gauge", help: "Resident memory in bytes", live: true, value: |p, _| p.monit.memory as f64 },
    Series { name: "pm2_restarts", kind: "counter", help: "Restarts (PM2's restart_time)", live: false, value: |p, _| f64::from(p.restart_time) },
    Series { name: "pm2_uptime", kind: "gauge", help: "Seconds since the process started", live: true, value: |p, now| now.saturating_sub(p.pm_uptime) as f64 / 1000.0 },
];

/// The instances of each host, by host name.
pub type Hosts = [(String, Vec<ProcessInfo>)];

/// Every host's instances with their `labels`.
fn each(hosts: &Hosts) -> impl Iterator<Item = (&ProcessInfo, String)> {
    hosts
        .iter()
        .flat_map(|(host, ps)| ps.iter().map(move |p| (p, labels(host, p))))
}

/// The whole page for these hosts' instances.
pub fn render(hosts: &Hosts, now_ms: u64) -> String {
    let mut out = String::new();
    for s in &SERIES {
        header(&mut out, s.name, s.kind, s.help);
        for (p, labels) in each(hosts) {
            let stale = s.live && !p.status.is_running();
            let value = number(if stale { 0.0 } else { (s.value)(p, now_ms) });
            let _ = writeln!(out, "{}{{{labels}}} {value}", s.name);
        }
    }
    header(
        &mut out,
        "pm2_status",
        "gauge",
        "1, with the status as a label",
    );
    for (p, labels) in each(hosts) {
        let status = escape(p.status.as_str());
        let _ = writeln!(out, "pm2_status{{{labels},status=\"{status}\"}} 1");
    }
    custom(&mut out, hosts);
    out
}

/// Every numeric custom metric (`axm_monitor`), one series each.
fn custom(out: &mut String, hosts: &Hosts) {
    header(
        out,
        "pm2_custom_metric",
        "gauge",
        "A metric the app reports (axm_monitor)",
    );
    for (p, labels) in each(hosts) {
        for (metric, entry) in &p.axm_monitor {
            let Some(value) = numeric(entry.get("value").unwrap_or(entry)) else {
                continue;
            };
            let unit = entry.get("unit").and_then(|u| u.as_str()).unwrap_or("");
            let _ = writeln!(
                out,
                "pm2_custom_metric{{{labels},metric=\"{}\",unit=\"{}\"}} {}",
                escape(metric),
                escape(unit),
                number(value)
            );
        }
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A JSON number, or a string holding one (`@pm2/io` sends both); finite only.
pub(crate) fn numeric(v: &serde_json::Value) -> Option<f64> {
    let n = match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }?;
    n.is_finite().then_some(n)
}

fn labels(host: &str, p: &ProcessInfo) -> String {
    format!(
        "host=\"{}\",app=\"{}\",id=\"{}\",namespace=\"{}\"",
        escape(host),
        escape(&p.spec.name),
        p.pm_id,
        escape(&p.spec.namespace)
    )
}

/// A label value as the format wants it: `\`, `"` and newlines escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Integers without a fraction, others as Rust prints them (both valid Go floats).
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(numeric(&serde_json::json!("12.5")), Some(12.5));
        assert_eq!(numeric(&serde_json::json!("n/a")), None);
    }
}
