//! `pm2 export <systemd|k8s|compose>`: an ecosystem file (or the running apps) written for
//! another engine, each file checked by that engine's own validator: `systemd-analyze
//! verify` for the units, the Kubernetes schemas (`kubernetes-validate`) and the Compose
//! spec's schema (`check-jsonschema`) for the YAML. Values that a shell, systemd,
//! Kubernetes or Compose would expand (`$(...)`, `${X}`, `%h`, a newline) stay literal.

use crate::harness::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The env value every scenario carries: each engine's expansion syntax at once.
const TRICKY: &str = "a \"quoted\" $(touch /tmp/pm2-export-marker) ${HOME} %h\nsecond line";

fn validators() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/py-export/bin")
}

/// An ecosystem file with a cluster app of two instances and a fork app with arguments.
fn ecosystem(p: &Pm2) -> PathBuf {
    let app = p.dir.join("app.js");
    std::fs::write(&app, "setInterval(() => {}, 1000);\n").expect("app.js");
    let file = p.dir.join("ecosystem.config.js");
    let conf = serde_json::json!({"apps": [
        {"name": "api", "script": app, "instances": 2, "exec_mode": "cluster",
         "env": {"PORT": "3000", "TRICKY": TRICKY}, "max_memory_restart": "200M",
         "kill_timeout": 3000, "health_check": {"http": 3000, "path": "/health"}},
        {"name": "worker", "script": app, "args": ["--queue", "a b"], "autorestart": false,
         "stop_exit_codes": [3], "env": {"TRICKY": TRICKY}, "notify": true,
         "watchdog_sec": 5},
    ]});
    std::fs::write(&file, format!("module.exports = {conf};\n")).expect("ecosystem");
    file
}

fn export(p: &Pm2, target: &str, file: Option<&Path>) -> PathBuf {
    let out = p.dir.join(format!("out-{target}"));
    let mut args = vec!["export", target];
    let file_arg = file.map(|f| f.to_string_lossy().into_owned());
    if let Some(f) = &file_arg {
        args.push(f);
    }
    let out_arg = out.to_string_lossy().into_owned();
    args.extend(["-o", &out_arg]);
    p.ok(&args);
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn run_validator(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().expect("run the validator");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
#[cfg_attr(
    no_systemd_analyze,
    ignore = "systemd-analyze is missing (scripts/install-deps.sh installs Debian's systemd)"
)]
fn systemd_units_pass_systemd_analyze_verify() {
    require(have("systemd-analyze"), "systemd-analyze is missing");
    let p = Pm2::new("export_systemd");
    let out = export(&p, "systemd", Some(&ecosystem(&p)));
    let api = read(&out.join("pm2-api@.service"));
    let worker = read(&out.join("pm2-worker.service"));
    assert!(
        api.contains("Environment=\"NODE_APP_INSTANCE=%i\""),
        "{api}"
    );
    assert!(
        api.contains("MemoryMax=209715200") && api.contains("TimeoutStopSec=3"),
        "{api}"
    );
    assert!(api.contains("exec_mode cluster"), "the cluster note: {api}");
    assert!(
        api.contains(r#"Environment="TRICKY=a \"quoted\" $(touch /tmp/pm2-export-marker) ${HOME} %%h\x0asecond line""#),
        "{api}"
    );
    assert!(
        worker.contains("Restart=no") && worker.contains("RestartPreventExitStatus=3"),
        "{worker}"
    );
    assert!(worker.contains(r#""--queue" "a b""#), "{worker}");
    assert!(
        worker.contains("Type=notify") && worker.contains("WatchdogSec=5000ms"),
        "notify and watchdog_sec: {worker}"
    );
    assert!(api.contains("Type=simple"), "{api}");
    // A template is verified as one of its instances.
    std::fs::copy(out.join("pm2-api@.service"), out.join("pm2-api@0.service")).expect("copy");
    for unit in ["pm2-api@0.service", "pm2-worker.service"] {
        let (ok, text) = run_validator(
            Command::new("systemd-analyze")
                .arg("verify")
                .arg(out.join(unit)),
        );
        assert!(ok && text.trim().is_empty(), "{unit}: {text}");
    }
    assert!(!Path::new("/tmp/pm2-export-marker").exists());
}

#[test]
#[cfg_attr(
    no_export_validators,
    ignore = "the validators are not in target/py-export (scripts/install-deps.sh installs them)"
)]
fn kubernetes_manifests_and_the_compose_file_pass_their_schemas() {
    require(
        validators().join("kubernetes-validate").is_file(),
        "kubernetes-validate is missing",
    );
    let p = Pm2::new("export_yaml");
    let eco = ecosystem(&p);
    let k8s = export(&p, "k8s", Some(&eco)).join("pm2-apps.k8s.yaml");
    let (ok, text) = run_validator(
        Command::new(validators().join("kubernetes-validate"))
            .arg("--strict")
            .arg(&k8s),
    );
    assert!(
        ok && text.contains("deployment/api") && text.contains("service/api"),
        "{text}"
    );
    let manifests = read(&k8s);
    assert!(manifests.contains("replicas: 2"), "{manifests}");
    assert!(
        manifests.contains("readinessProbe:") && manifests.contains("path: /health"),
        "probes from health_check: {manifests}"
    );
    assert!(
        manifests.contains("$$(touch /tmp/pm2-export-marker)"),
        "no $(...) expansion: {manifests}"
    );

    let compose = export(&p, "compose", Some(&eco)).join("compose.yaml");
    let (ok, text) = run_validator(
        Command::new(validators().join("check-jsonschema"))
            .args(["--builtin-schema", "vendor.compose-spec"])
            .arg(&compose),
    );
    assert!(ok, "{text}");
    let file = read(&compose);
    assert!(
        file.contains("$$(touch") && file.contains("$${HOME}"),
        "no interpolation: {file}"
    );
    assert!(file.contains("restart: \"no\""), "{file}");
    assert!(!Path::new("/tmp/pm2-export-marker").exists());
}

/// Without a file, the running apps: one entry per app with its instance count and its
/// own env, not the starting shell's session variables.
#[test]
fn the_running_apps_export_with_their_instances_and_env() {
    let p = Pm2::new("export_running");
    let app = p.sleeper_script("job.sh");
    p.ok_env(
        &[("QUEUE", "mail"), ("SSH_TTY", "/dev/pts/9")],
        &["start", app.to_str().unwrap(), "--name", "job", "-i", "2"],
    );
    p.wait_until(
        std::time::Duration::from_secs(10),
        "two instances online",
        || (p.apps().iter().filter(|a| st(a) == "online").count() == 2).then_some(()),
    );
    let out = p.ok(&["export", "compose"]).stdout;
    assert!(
        out.contains("replicas: 2") && out.contains("QUEUE: mail"),
        "{out}"
    );
    assert!(
        !out.contains("SSH_TTY") && !out.contains("PM2_HOME"),
        "{out}"
    );
}

#[test]
fn a_bad_target_or_file_is_refused() {
    let p = Pm2::new("export_errors");
    let bad = p.fails(&["export", "nomad"], 2);
    p.expect_output(&bad, "nomad");
    let broken = p.dir.join("broken.config.js");
    std::fs::write(&broken, "module.exports = { apps: [ { name: 'x' } ] };\n").expect("write");
    let out = p.fails(&["export", "systemd", broken.to_str().unwrap()], 1);
    p.expect_output(&out, "broken.config.js");
}
