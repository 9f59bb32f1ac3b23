//! The dashboard's alert settings: where its webhooks go and when they fire. Read from
//! `PM2_HOME/plus/alerts.json` (keys without the prefix) and then `pm2 set
//! pm2-plus:alert_<key>` (which wins), by `pm2 plus` (to refuse bad values before
//! starting the dashboard, naming the key) and by the dashboard (at start).

use crate::layout::Pm2Home;
use crate::module_conf;
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

/// The body a webhook gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertFormat {
    /// The alert as a JSON object (`event`, `app`, `pm_id`, `message`, `at`, ...).
    Json,
    /// `{"text": "..."}`, what Slack's (and Mattermost's, Discord's `/slack`) incoming
    /// webhooks take.
    Slack,
}

/// What the alerts fire on and where they go.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertSettings {
    /// Webhook URLs (`http://` or `https://`); none: alerts off.
    pub urls: Vec<String>,
    /// The body's shape.
    pub format: AlertFormat,
    /// A restart storm: this many restarts...
    pub storm_restarts: u32,
    /// ...within this window.
    pub storm_window: Duration,
    /// CPU percent (of one core) an instance must stay over, or None.
    pub cpu_percent: Option<f64>,
    /// Memory (bytes) an instance must stay over, or None.
    pub memory_bytes: Option<u64>,
    /// How long cpu or memory must stay over before the alert.
    pub sustained: Duration,
    /// Whether a finished `pm2 reload` sends an alert.
    pub reload: bool,
    /// Whether a finished `pm2 deploy` sends an alert.
    pub deploy: bool,
}

/// The keys, as `pm2 set pm2-plus:<key>` names them (the file drops `alert_`).
pub const KEYS: &[&str] = &[
    "alert_url",
    "alert_format",
    "alert_storm",
    "alert_cpu",
    "alert_memory",
    "alert_for",
    "alert_reload",
    "alert_deploy",
];

/// The files the settings come from, `plus/alerts.json` then `module_conf.json`: what a
/// running dashboard watches to apply a change without a restart.
pub fn sources(home: &Pm2Home) -> [PathBuf; 2] {
    [
        home.root().join("plus").join("alerts.json"),
        home.module_conf(),
    ]
}

/// Whether `pm2 set <key>` changes an alert setting, which the running dashboard applies
/// itself (so the CLI does not restart `pm2-plus` for it, as it does for the other
/// `pm2-plus:` keys).
pub fn is_live_key(key: &str) -> bool {
    key.strip_prefix(crate::plus::APP_NAME)
        .and_then(|rest| rest.strip_prefix([':', '.']))
        .is_some_and(|k| k.starts_with("alert_"))
}

impl Default for AlertSettings {
    fn default() -> AlertSettings {
        AlertSettings {
            urls: Vec::new(),
            format: AlertFormat::Json,
            storm_restarts: 5,
            storm_window: Duration::from_secs(60),
            cpu_percent: None,
            memory_bytes: None,
            sustained: Duration::from_secs(30),
            reload: true,
            deploy: true,
        }
    }
}

impl AlertSettings {
    /// Reads `plus/alerts.json` (when present) and the `pm2-plus:alert_*` keys; the first
    /// bad value is an error that names its key or file and says what it takes.
    pub fn load(home: &Pm2Home) -> Result<AlertSettings, String> {
        let mut settings = AlertSettings::default();
        let [file, _] = sources(home);
        match std::fs::read_to_string(&file) {
            Ok(text) => {
                let v: Value = serde_json::from_str(&text)
                    .map_err(|e| format!("{}: not JSON: {e}", file.display()))?;
                let Some(map) = v.as_object() else {
                    return Err(format!("{}: must be a JSON object", file.display()));
                };
                for (key, value) in map {
                    let full = format!("alert_{key}");
                    settings
                        .apply(&full, &text_of(value))
                        .map_err(|e| format!("{}: {e}", file.display()))?;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
        }
        let conf = module_conf::load(home).map_err(|e| e.to_string())?;
        for key in KEYS {
            if let Some(value) = module_conf::get(&conf, &format!("pm2-plus:{key}")) {
                settings.apply(key, &text_of(value))?;
            }
        }
        Ok(settings)
    }

    /// Sets one key from its text; an error naming `pm2-plus:<key>` when it is wrong.
    pub fn apply(&mut self, key: &str, raw: &str) -> Result<(), String> {
        let raw = raw.trim();
        let bad = |what: &str| format!("pm2-plus:{key} is {raw:?}: {what}");
        match key {
            "alert_url" => self.urls = parse_urls(raw).map_err(|e| bad(&e))?,
            "alert_format" => {
                self.format = match raw {
                    "json" | "" => AlertFormat::Json,
                    "slack" => AlertFormat::Slack,
                    _ => return Err(bad("expected `json` or `slack`")),
                }
            }
            "alert_storm" => {
                let (n, window) = parse_storm(raw)
                    .ok_or_else(|| bad("expected <restarts>/<window>, e.g. `5/60s`"))?;
                self.storm_restarts = n;
                self.storm_window = window;
            }
            "alert_cpu" => {
                self.cpu_percent = match raw {
                    "" | "off" => None,
                    _ => Some(
                        raw.trim_end_matches('%')
                            .parse::<f64>()
                            .ok()
                            .filter(|p| p.is_finite() && *p > 0.0)
                            .ok_or_else(|| bad("expected a percent, e.g. `90`, or `off`"))?,
                    ),
                }
            }
            "alert_memory" => {
                self.memory_bytes = match raw {
                    "" | "off" => None,
                    _ => Some(parse_bytes(raw).ok_or_else(|| {
                        bad("expected a size, e.g. `500M`, `1G`, `800000000`, or `off`")
                    })?),
                }
            }
            "alert_for" => {
                self.sustained = parse_duration(raw)
                    .ok_or_else(|| bad("expected a duration, e.g. `30s`, `2m`, `500ms`"))?
            }
            "alert_reload" => self.reload = parse_switch(raw).ok_or_else(|| bad(SWITCH))?,
            "alert_deploy" => self.deploy = parse_switch(raw).ok_or_else(|| bad(SWITCH))?,
            _ => {
                return Err(format!(
                    "pm2-plus:{key} is not an alert setting (known: {})",
                    KEYS.join(", ")
                ))
            }
        }
        Ok(())
    }
}

const SWITCH: &str = "expected `on` or `off` (or true/false)";

/// `on`/`off`, `true`/`false`, `yes`/`no`, `1`/`0`.
fn parse_switch(raw: &str) -> Option<bool> {
    match raw.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Some(true),
        "off" | "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(text_of).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// Comma-separated `http://` or `https://host[:port]/path` URLs.
fn parse_urls(raw: &str) -> Result<Vec<String>, String> {
    let mut urls = Vec::new();
    for url in raw.split(',').map(str::trim).filter(|u| !u.is_empty()) {
        let Some(rest) = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
        else {
            return Err(format!("{url} is not an http:// or https:// URL"));
        };
        let host = rest.split('/').next().unwrap_or("");
        if host.is_empty() || host.contains('@') {
            return Err(format!("{url} has no host (or has credentials in it)"));
        }
        urls.push(url.to_string());
    }
    Ok(urls)
}

/// `5/60s`, `5/60` (seconds), `10/2m`.
fn parse_storm(raw: &str) -> Option<(u32, Duration)> {
    let (n, window) = raw.split_once('/')?;
    let n = n.trim().parse::<u32>().ok().filter(|n| *n >= 2)?;
    Some((n, parse_duration(window)?))
}

/// `30`, `30s`, `500ms`, `2m`, `1h`: more than zero.
pub fn parse_duration(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let (number, unit_ms) = if let Some(n) = raw.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = raw.strip_suffix('s') {
        (n, 1000)
    } else if let Some(n) = raw.strip_suffix('m') {
        (n, 60_000)
    } else if let Some(n) = raw.strip_suffix('h') {
        (n, 3_600_000)
    } else {
        (raw, 1000)
    };
    let n = number.trim().parse::<u64>().ok().filter(|n| *n > 0)?;
    Some(Duration::from_millis(n.checked_mul(unit_ms)?))
}

/// `800000000`, `500K`, `500M`, `1G` (powers of 1024, as PM2's `max_memory_restart`).
fn parse_bytes(raw: &str) -> Option<u64> {
    let upper = raw.trim().to_ascii_uppercase();
    let upper = upper.strip_suffix('B').unwrap_or(&upper);
    let (number, scale) = match upper.chars().last()? {
        'K' => (&upper[..upper.len() - 1], 1u64 << 10),
        'M' => (&upper[..upper.len() - 1], 1 << 20),
        'G' => (&upper[..upper.len() - 1], 1 << 30),
        _ => (upper, 1),
    };
    number
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)?
        .checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_parses_and_bad_values_name_the_key() {
        let mut s = AlertSettings::default();
        s.apply("alert_url", "http://127.0.0.1:9/a, https://h/b")
            .unwrap();
        assert_eq!(s.urls, ["http://127.0.0.1:9/a", "https://h/b"]);
        s.apply("alert_format", "slack").unwrap();
        assert_eq!(s.format, AlertFormat::Slack);
        s.apply("alert_storm", "3/10s").unwrap();
        assert_eq!(
            (s.storm_restarts, s.storm_window),
            (3, Duration::from_secs(10))
        );
        s.apply("alert_cpu", "85%").unwrap();
        assert_eq!(s.cpu_percent, Some(85.0));
        s.apply("alert_memory", "500M").unwrap();
        assert_eq!(s.memory_bytes, Some(500 << 20));
        s.apply("alert_for", "1500ms").unwrap();
        assert_eq!(s.sustained, Duration::from_millis(1500));
        s.apply("alert_cpu", "off").unwrap();
        assert_eq!(s.cpu_percent, None);
        s.apply("alert_reload", "off").unwrap();
        s.apply("alert_deploy", "false").unwrap();
        assert!(!s.reload && !s.deploy);

        assert!(is_live_key("pm2-plus:alert_url") && is_live_key("pm2-plus.alert_cpu"));
        assert!(!is_live_key("pm2-plus:port") && !is_live_key("pm2-plusx:alert_url"));
        for (key, value) in [
            ("alert_url", "ftp://x"),
            ("alert_url", "https://user:pw@h/x"),
            ("alert_format", "xml"),
            ("alert_storm", "1/10"),
            ("alert_storm", "five"),
            ("alert_cpu", "-3"),
            ("alert_memory", "lots"),
            ("alert_for", "0s"),
            ("alert_reload", "maybe"),
            ("alert_colour", "red"),
        ] {
            let e = s.apply(key, value).unwrap_err();
            assert!(e.contains(&format!("pm2-plus:{key}")), "{e}");
        }
    }
}
