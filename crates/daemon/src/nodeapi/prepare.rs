//! `prepare`: start an app from the conf the npm client resolved itself (`pm2.start()`,
//! `pm2 install`, ecosystem files run by Node tooling). The conf is PM2's resolved app,
//! the same shape as a `dump.pm2` entry, so it is read as one; what differs is handled
//! here: the instance count (0 is every CPU, a negative one that many fewer), `autostart`,
//! and the default log and pid paths, which the daemon derives per instance itself.

use super::shapes;
use crate::handlers;
use crate::state::Daemon;
use pm2_proto::{Request, Response, StartRequest};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

/// Registers and starts the app; the answer is one element per instance.
pub(crate) async fn prepare(daemon: &Arc<Daemon>, conf: &Value) -> Result<Vec<Value>, String> {
    let daemon_path = std::env::var("PATH").unwrap_or_default();
    let app =
        pm2_config::dump::app_from_dump_entry(conf, &daemon_path).map_err(|e| e.to_string())?;
    let mut spec = app.spec;
    spec.instances = instances(conf.get("instances"));
    spec.autostart = !app.stopped && conf.get("autostart") != Some(&Value::Bool(false));
    // The daemon reads the version, as PM2's does (the client sends none).
    if spec.version.is_none() {
        spec.version = pm2_config::package_version(Path::new(&spec.script));
    }
    let home = &daemon.settings.home;
    let default_of = |file: &Option<String>, default: &Path| {
        file.as_deref().is_some_and(|f| Path::new(f) == default)
    };
    let name = spec.name.clone();
    if default_of(&spec.out_file, &home.logs().join(format!("{name}-out.log"))) {
        spec.out_file = None;
    }
    if default_of(
        &spec.error_file,
        &home.logs().join(format!("{name}-error.log")),
    ) {
        spec.error_file = None;
    }
    if default_of(&spec.pid_file, &home.pids().join(format!("{name}.pid"))) {
        spec.pid_file = None;
    }
    let request = Request::Start(StartRequest {
        apps: vec![spec],
        force: true,
    });
    let ids: Vec<u32> = match handlers::dispatch(daemon, request).await.0 {
        Response::Outcomes { outcomes } => {
            if let Some(e) = outcomes.iter().find_map(|o| o.error.clone()) {
                return Err(e);
            }
            outcomes.iter().map(|o| o.pm_id).collect()
        }
        Response::Error { message } => return Err(message),
        _ => return Err("the daemon gave no outcome".into()),
    };
    Ok(ids
        .iter()
        .filter_map(|id| shapes::find(daemon, *id))
        .map(|p| shapes::proc(&p))
        .collect())
}

/// PM2's reading of `instances`: a number or numeric text, `max`; 0 is every CPU, a
/// negative count that many fewer; at least 1.
fn instances(v: Option<&Value>) -> u32 {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as i64;
    let asked = match v {
        Some(Value::Number(n)) => n.as_f64().map_or(1, |f| f.trunc() as i64),
        Some(Value::String(s)) if s == "max" => 0,
        Some(Value::String(s)) => s.trim().parse().unwrap_or(1),
        _ => 1,
    };
    let count = match asked {
        0 => cpus,
        n if n < 0 => cpus + n,
        n => n,
    };
    u32::try_from(count.clamp(1, i64::from(u32::MAX))).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn instances_follow_pm2() {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
        assert_eq!(instances(None), 1);
        assert_eq!(instances(Some(&json!(3))), 3);
        assert_eq!(instances(Some(&json!("2"))), 2);
        assert_eq!(instances(Some(&json!(0))), cpus);
        assert_eq!(instances(Some(&json!("max"))), cpus);
        assert_eq!(instances(Some(&json!(-1))), (cpus - 1).max(1));
        assert_eq!(instances(Some(&json!(-100))), 1);
    }
}
