//! A Compose file: a service per app, its command as an argument vector (no shell), env,
//! restart policy, replicas from `instances`, memory limit, stop signal and grace period,
//! and its port published when it runs once and says its port (`PORT`).

use crate::command::{container_argv, dns_label, image, port, DEFAULT_KILL_TIMEOUT_MS};
use crate::file::ExportedFile;
use crate::notes::{header, untranslated};
use crate::yaml::document;
use pm2_proto::AppSpec;
use serde_json::{json, Map, Value};

/// `compose.yaml` for all `apps`.
pub(crate) fn file(apps: &[AppSpec], source: &str) -> ExportedFile {
    let mut notes = vec![
        "image: each service names an image with the app's interpreter; build one holding the app at its working_dir (see examples/Dockerfile)".to_string(),
    ];
    let mut services = Map::new();
    for app in apps {
        for note in untranslated(app) {
            notes.push(format!("{}: {note}", app.name));
        }
        if app.instances > 1 && port(app).is_some() {
            notes.push(format!(
                "{}: its port is not published: {} replicas cannot bind one host port",
                app.name, app.instances
            ));
        }
        services.insert(dns_label(&app.name), service(app));
    }
    let mut doc = json!({"name": "pm2-apps", "services": services});
    no_interpolation(&mut doc);
    ExportedFile {
        name: "compose.yaml".into(),
        text: format!(
            "{}{}",
            header(source, "Compose file", &notes),
            document(&doc)
        ),
    }
}

/// Every `$` in the file's strings doubled: Compose interpolates `$VAR` and `${VAR}` from
/// the shell that runs it, and `$$` is its literal dollar.
fn no_interpolation(value: &mut Value) {
    match value {
        Value::String(s) => *s = s.replace('$', "$$"),
        Value::Array(items) => items.iter_mut().for_each(no_interpolation),
        Value::Object(map) => map.values_mut().for_each(no_interpolation),
        _ => {}
    }
}

fn service(app: &AppSpec) -> Value {
    let mut s = Map::new();
    s.insert("image".into(), json!(image(app)));
    s.insert("command".into(), json!(container_argv(app)));
    if !app.cwd.is_empty() {
        s.insert("working_dir".into(), json!(app.cwd));
    }
    if !app.env.is_empty() {
        s.insert("environment".into(), json!(app.env));
    }
    s.insert(
        "restart".into(),
        json!(if app.autorestart { "always" } else { "no" }),
    );
    s.insert("stop_signal".into(), json!("SIGINT"));
    let grace = app.kill_timeout.unwrap_or(DEFAULT_KILL_TIMEOUT_MS);
    s.insert("stop_grace_period".into(), json!(format!("{grace}ms")));
    if let Some(uid) = &app.uid {
        s.insert("user".into(), json!(uid));
    }
    let mut deploy = Map::new();
    if app.instances > 1 {
        deploy.insert("replicas".into(), json!(app.instances));
    }
    if let Some(resources) = crate::limits::compose(app) {
        deploy.insert("resources".into(), resources);
    }
    if !deploy.is_empty() {
        s.insert("deploy".into(), Value::Object(deploy));
    }
    if let (Some(port), 1) = (port(app), app.instances) {
        s.insert("ports".into(), json!([format!("{port}:{port}")]));
    }
    Value::Object(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_are_literal() {
        let mut v = json!({"a": ["$HOME", {"b": "${X}y$"}], "n": 1});
        no_interpolation(&mut v);
        assert_eq!(v, json!({"a": ["$$HOME", {"b": "$${X}y$$"}], "n": 1}));
    }
}
