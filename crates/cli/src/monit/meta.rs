//! The metadata panel's text: where an instance runs from and how it is doing, then the custom
//! metrics the app reports (`axm_monitor`, as `@pm2/io` sends them).

use crate::render::format_uptime;
use pm2_proto::ProcessInfo;
use serde_json::Value;

/// One line of the metadata panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaLine {
    /// `label  value`.
    Field(&'static str, String),
    /// A section title.
    Heading(String),
    /// A custom metric, `name: value unit`.
    Metric(String),
}

/// The panel's lines for `p`: fixed fields first, then one line per custom metric.
pub fn meta_lines(p: &ProcessInfo, now_ms: u64) -> Vec<MetaLine> {
    let spec = &p.spec;
    let interpreter = match &spec.interpreter_path {
        Some(path) if spec.interpreter != "none" => path.clone(),
        _ => spec.interpreter.clone(),
    };
    let uptime = if p.status.is_running() && p.pm_uptime != 0 {
        format_uptime(now_ms.saturating_sub(p.pm_uptime))
    } else {
        "0".into()
    };
    let pid = p.pid.map_or("N/A".into(), |pid| pid.to_string());
    let mut lines = vec![
        MetaLine::Field("script", spec.script.clone()),
        MetaLine::Field("cwd", spec.cwd.clone()),
        MetaLine::Field(
            "mode",
            format!("{} · {interpreter}", spec.exec_mode.short()),
        ),
        MetaLine::Field("pid", format!("{pid} · {}", p.status.as_str())),
        MetaLine::Field("restarts", format!("{} · uptime {uptime}", p.restart_time)),
    ];
    let metrics = metric_lines(&p.axm_monitor);
    if !metrics.is_empty() {
        lines.push(MetaLine::Heading("Custom metrics".into()));
        lines.extend(metrics.into_iter().map(MetaLine::Metric));
    }
    lines
}

/// `name: value unit` for each metric, in the order the app declared them.
pub fn metric_lines(monitor: &serde_json::Map<String, Value>) -> Vec<String> {
    monitor
        .iter()
        .map(|(name, metric)| {
            let (value, unit) = match metric {
                Value::Object(m) => (
                    m.get("value").cloned().unwrap_or(Value::Null),
                    m.get("unit").and_then(Value::as_str).unwrap_or(""),
                ),
                other => (other.clone(), ""),
            };
            let value = format_value(&value);
            if unit.is_empty() {
                format!("{name}: {value}")
            } else {
                format!("{name}: {value} {unit}")
            }
        })
        .collect()
}

/// A metric value as text: integers plain, other numbers with at most two decimals.
pub fn format_value(value: &Value) -> String {
    match value {
        Value::Null => "N/A".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() != 0.0 => {
                let text = format!("{f:.2}");
                text.trim_end_matches('0').trim_end_matches('.').to_string()
            }
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}
