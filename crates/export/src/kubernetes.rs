//! Kubernetes manifests: a Deployment per app (`replicas` from `instances`, its command as
//! an argument vector, env, memory limit, grace period, readiness and liveness probes from
//! its `health_check`) and a Service when the app's port is known (`PORT` in its env). The files run from an image: the app's paths are those of
//! this machine, so the image must hold the app at the same place (a comment says so).

use crate::command::{container_argv, dns_label, image, port, seconds_up, DEFAULT_KILL_TIMEOUT_MS};
use crate::file::ExportedFile;
use crate::notes::{header, untranslated};
use crate::yaml::document;
use pm2_proto::{AppSpec, HealthCheck, Probe};
use serde_json::{json, Map, Value};

/// One multi-document YAML file for all `apps`.
pub(crate) fn manifests(apps: &[AppSpec], source: &str) -> ExportedFile {
    let mut notes = vec![
        "image: each Deployment names an image with the app's interpreter; build one holding the app at its workingDir (see examples/Dockerfile)".to_string(),
    ];
    let mut docs = String::new();
    for app in apps {
        for note in untranslated(app) {
            notes.push(format!("{}: {note}", app.name));
        }
        if !app.autorestart {
            notes.push(format!("{}: autorestart false: a Deployment always restarts its pods (use a Job for a run-once app)", app.name));
        }
        docs.push_str(&document(&deployment(app)));
        if let Some(port) = port(app) {
            docs.push_str(&document(&service(app, port)));
        }
    }
    ExportedFile {
        name: "pm2-apps.k8s.yaml".into(),
        text: format!("{}{docs}", header(source, "Kubernetes manifests", &notes)),
    }
}

fn labels(app: &AppSpec) -> Value {
    json!({"app.kubernetes.io/name": dns_label(&app.name), "app.kubernetes.io/managed-by": "pm2-rs-export"})
}

fn deployment(app: &AppSpec) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": dns_label(&app.name), "labels": labels(app)},
        "spec": {
            "replicas": app.instances.max(1),
            "selector": {"matchLabels": {"app.kubernetes.io/name": dns_label(&app.name)}},
            "template": {
                "metadata": {"labels": labels(app)},
                "spec": {
                    "terminationGracePeriodSeconds": seconds_up(app.kill_timeout.unwrap_or(DEFAULT_KILL_TIMEOUT_MS)),
                    "containers": [container(app)],
                },
            },
        },
    })
}

fn container(app: &AppSpec) -> Value {
    let argv = container_argv(app);
    let mut c = Map::new();
    c.insert("name".into(), json!(dns_label(&app.name)));
    c.insert("image".into(), json!(image(app)));
    let argv: Vec<String> = argv.iter().map(|w| no_expansion(w)).collect();
    c.insert("command".into(), json!(argv[..1]));
    c.insert("args".into(), json!(argv[1..]));
    if !app.cwd.is_empty() {
        c.insert("workingDir".into(), json!(app.cwd));
    }
    let env: Vec<Value> = app
        .env
        .iter()
        .map(|(name, value)| json!({"name": name, "value": no_expansion(value)}))
        .collect();
    if !env.is_empty() {
        c.insert("env".into(), Value::Array(env));
    }
    if let Some(port) = port(app) {
        c.insert(
            "ports".into(),
            json!([{"containerPort": port, "protocol": "TCP"}]),
        );
    }
    if let Some(resources) = crate::limits::kubernetes(app) {
        c.insert("resources".into(), resources);
    }
    if let Some(check) = &app.health_check {
        c.insert(
            "readinessProbe".into(),
            probe(check, check.success_threshold),
        );
        if check.liveness {
            c.insert("livenessProbe".into(), probe(check, 1));
        }
    }
    Value::Object(c)
}

/// A Kubernetes probe doing what the app's `health_check` does, with its timings (whole
/// seconds, at least 1, as Kubernetes counts). A liveness probe's success threshold must
/// be 1.
fn probe(check: &HealthCheck, success_threshold: u32) -> Value {
    let secs = |ms: u64| seconds_up(ms).max(1);
    let mut p = match &check.probe {
        Probe::Http { port, path, .. } => json!({"httpGet": {"path": path, "port": port}}),
        Probe::Tcp { port, .. } => json!({"tcpSocket": {"port": port}}),
        Probe::Exec { argv } => {
            let argv: Vec<String> = argv.iter().map(|w| no_expansion(w)).collect();
            json!({"exec": {"command": argv}})
        }
    };
    let timings = json!({
        "periodSeconds": secs(check.interval),
        "timeoutSeconds": secs(check.timeout),
        "failureThreshold": check.failure_threshold.max(1),
        "successThreshold": success_threshold.max(1),
        "initialDelaySeconds": seconds_up(check.start_period),
    });
    if let (Some(obj), Some(t)) = (p.as_object_mut(), timings.as_object()) {
        obj.extend(t.clone());
    }
    p
}

/// `text` with Kubernetes' `$(VAR)` references made literal (`$$(VAR)`): in `command`,
/// `args` and env values Kubernetes expands them, which PM2 never did.
fn no_expansion(text: &str) -> String {
    text.replace("$(", "$$(")
}

fn service(app: &AppSpec, port: u16) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": dns_label(&app.name), "labels": labels(app)},
        "spec": {
            "selector": {"app.kubernetes.io/name": dns_label(&app.name)},
            "ports": [{"port": port, "targetPort": port, "protocol": "TCP"}],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_literal() {
        assert_eq!(no_expansion("a $(HOME) $$(X) $Y"), "a $$(HOME) $$$(X) $Y");
    }
}

#[cfg(test)]
mod probe_tests {
    use super::*;

    #[test]
    fn a_health_check_becomes_probes_with_its_timings() {
        let mut check = HealthCheck::new(Probe::Http {
            host: "127.0.0.1".into(),
            port: 3000,
            path: "/health".into(),
            status: None,
        });
        check.interval = 2500;
        let p = probe(&check, 2);
        assert_eq!(p["httpGet"], json!({"path": "/health", "port": 3000}));
        assert_eq!(p["periodSeconds"], 3);
        assert_eq!(p["successThreshold"], 2);
        let exec = HealthCheck::new(Probe::Exec {
            argv: vec!["check".into(), "$(x)".into()],
        });
        assert_eq!(
            probe(&exec, 1)["exec"]["command"],
            json!(["check", "$$(x)"])
        );
    }
}
