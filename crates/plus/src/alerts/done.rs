//! The "done" alerts: a finished `pm2 reload` (the daemon's `pm2:reload` event: the apps,
//! their instances, the errors, the duration) and a finished `pm2 deploy` (the CLI's
//! `pm2:deploy`: the environment, the hosts, the result), each switched by its setting
//! (`pm2-plus:alert_reload`, `:alert_deploy`). A linked host's come over its link and
//! name the host (the body's `host`, and "on hostb" / "from hostb" in the message).

use super::Alert;
use pm2_home::plus_alerts::AlertSettings;
use serde_json::Value;

/// The daemon-level events that make an alert.
pub const EVENTS: &[&str] = &["pm2:reload", "pm2:deploy"];

/// The alert for `event` and its `data` (published by `host`'s daemon; None: this one),
/// or None when its setting is off or the event is not one of [`EVENTS`].
pub fn alert(
    settings: &AlertSettings,
    host: Option<String>,
    event: &str,
    data: Value,
    at: u64,
) -> Option<Alert> {
    let mut alert = match event {
        "pm2:reload" if settings.reload => reload(host.as_deref(), data, at),
        "pm2:deploy" if settings.deploy => deploy(host.as_deref(), data, at),
        _ => return None,
    };
    alert.host = host;
    Some(alert)
}

/// ` on hostb` (or ` from hostb`) for a linked host, nothing for this one.
fn on(host: Option<&str>, word: &str) -> String {
    host.map(|h| format!(" {word} {h}")).unwrap_or_default()
}

fn reload(host: Option<&str>, data: Value, at: u64) -> Alert {
    let apps = data["apps"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = apps.iter().filter_map(|a| a["name"].as_str()).collect();
    let parts: Vec<String> = apps
        .iter()
        .map(|a| {
            let ids: Vec<String> = a["instances"]
                .as_array()
                .map(|ids| ids.iter().map(Value::to_string).collect())
                .unwrap_or_default();
            let failed = a["errors"].as_array().map_or(0, Vec::len);
            let name = a["name"].as_str().unwrap_or("?");
            let mut part = format!("{name} ({} instance(s): {})", ids.len(), ids.join(", "));
            if failed > 0 {
                part.push_str(&format!(", {failed} failed"));
            }
            part
        })
        .collect();
    let seconds = data["duration_ms"].as_u64().unwrap_or(0) as f64 / 1000.0;
    let outcome = if data["ok"] == true {
        "reloaded"
    } else {
        "reload failed for"
    };
    Alert {
        host: None,
        event: "reload",
        app: names.join(","),
        pm_id: None,
        message: format!(
            "{outcome} {}{} in {seconds:.1} s",
            parts.join("; "),
            on(host, "on")
        ),
        detail: data,
        at,
    }
}

fn deploy(host: Option<&str>, data: Value, at: u64) -> Alert {
    let env = data["environment"].as_str().unwrap_or("?").to_string();
    let hosts: Vec<&str> = data["hosts"]
        .as_array()
        .map(|h| h.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let seconds = data["duration_ms"].as_u64().unwrap_or(0) as f64 / 1000.0;
    let result = if data["ok"] == true {
        "succeeded".to_string()
    } else if let Some(why) = data["error"].as_str() {
        format!("failed before any host ran: {why}")
    } else {
        let failed: Vec<&str> = data["failed"]
            .as_array()
            .map(|f| f.iter().filter_map(|x| x["host"].as_str()).collect())
            .unwrap_or_default();
        format!("failed on {}", failed.join(", "))
    };
    let message = format!(
        "deploy {} to {env} ({}){} {result} after {seconds:.1} s",
        data["action"].as_str().unwrap_or("update"),
        hosts.join(", "),
        on(host, "from")
    );
    Alert {
        host: None,
        event: "deploy",
        app: env,
        pm_id: None,
        message,
        detail: data,
        at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reload_and_deploy_make_one_alert_each_unless_switched_off() {
        let mut s = AlertSettings::default();
        let reloaded = json!({"apps": [{"name": "api", "instances": [0, 1], "errors": []}],
            "ok": true, "duration_ms": 1500});
        let a = alert(&s, None, "pm2:reload", reloaded.clone(), 7).expect("on by default");
        assert_eq!((a.event, a.app.as_str()), ("reload", "api"));
        assert_eq!(a.message, "reloaded api (2 instance(s): 0, 1) in 1.5 s");
        let deployed = json!({"environment": "production", "hosts": ["a", "b"], "ok": false,
            "failed": [{"host": "b", "error": "ssh exited 255"}], "error": null,
            "duration_ms": 2000, "action": "update"});
        let d = alert(&s, None, "pm2:deploy", deployed.clone(), 7).expect("on by default");
        assert_eq!(
            d.message,
            "deploy update to production (a, b) failed on b after 2.0 s"
        );
        let hostb = || Some("hostb".to_string());
        let a = alert(&s, hostb(), "pm2:reload", reloaded.clone(), 7).expect("linked");
        assert_eq!(a.host.as_deref(), Some("hostb"));
        assert_eq!(
            a.message,
            "reloaded api (2 instance(s): 0, 1) on hostb in 1.5 s"
        );
        let d = alert(&s, hostb(), "pm2:deploy", deployed.clone(), 7).expect("linked");
        assert_eq!(
            d.message,
            "deploy update to production (a, b) from hostb failed on b after 2.0 s"
        );
        s.reload = false;
        s.deploy = false;
        assert!(alert(&s, None, "pm2:reload", reloaded, 7).is_none());
        assert!(alert(&s, hostb(), "pm2:deploy", deployed, 7).is_none());
        assert!(alert(&AlertSettings::default(), None, "pm2:other", json!({}), 7).is_none());
    }
}
