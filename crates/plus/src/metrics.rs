//! Prometheus `/metrics` in the text exposition format (0.0.4). One series per instance,
//! labelled `app`, `id` and `namespace`; the names follow the community pm2 exporters:
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

/// The whole page for these instances.
pub fn render(processes: &[ProcessInfo], now_ms: u64) -> String {
    let mut out = String::new();
    let series: [(&str, &str, &str, fn(&ProcessInfo, u64) -> f64); 5] = [
        (
            "pm2_up",
            "gauge",
            "1 when the instance is online, else 0",
            |p, _| f64::from(u8::from(p.status.as_str() == "online")),
        ),
        (
            "pm2_cpu",
            "gauge",
            "CPU usage, percent of one core",
            |p, _| {
                if p.status.is_running() {
                    p.monit.cpu
                } else {
                    0.0
                }
            },
        ),
        ("pm2_memory", "gauge", "Resident memory in bytes", |p, _| {
            if p.status.is_running() {
                p.monit.memory as f64
            } else {
                0.0
            }
        }),
        (
            "pm2_restarts",
            "counter",
            "Restarts (PM2's restart_time)",
            |p, _| f64::from(p.restart_time),
        ),
        (
            "pm2_uptime",
            "gauge",
            "Seconds since the process started",
            |p, now| {
                if p.status.is_running() {
                    now.saturating_sub(p.pm_uptime) as f64 / 1000.0
                } else {
                    0.0
                }
            },
        ),
    ];
    for (name, kind, help, value) in series {
        header(&mut out, name, kind, help);
        for p in processes {
            let _ = writeln!(out, "{name}{{{}}} {}", labels(p), number(value(p, now_ms)));
        }
    }
    header(
        &mut out,
        "pm2_status",
        "gauge",
        "1, with the status as a label",
    );
    for p in processes {
        let status = escape(p.status.as_str());
        let _ = writeln!(out, "pm2_status{{{},status=\"{status}\"}} 1", labels(p));
    }
    custom(&mut out, processes);
    out
}

/// Every numeric custom metric (`axm_monitor`), one series each.
fn custom(out: &mut String, processes: &[ProcessInfo]) {
    header(
        out,
        "pm2_custom_metric",
        "gauge",
        "A metric the app reports (axm_monitor)",
    );
    for p in processes {
        for (metric, entry) in &p.axm_monitor {
            let Some(value) = numeric(entry.get("value").unwrap_or(entry)) else {
                continue;
            };
            let unit = entry.get("unit").and_then(|u| u.as_str()).unwrap_or("");
            let _ = writeln!(
                out,
                "pm2_custom_metric{{{},metric=\"{}\",unit=\"{}\"}} {}",
                labels(p),
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
fn numeric(v: &serde_json::Value) -> Option<f64> {
    let n = match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }?;
    n.is_finite().then_some(n)
}

fn labels(p: &ProcessInfo) -> String {
    format!(
        "app=\"{}\",id=\"{}\",namespace=\"{}\"",
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
