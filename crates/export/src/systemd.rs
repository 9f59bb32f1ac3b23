//! systemd service units: one per app (`pm2-<name>.service`), or a template unit
//! (`pm2-<name>@.service`, the instance number as `%i`) for an app with several instances.
//! Every value from the app is quoted by systemd's own rules (`quote.rs`), so none can add
//! a line or a word to the unit.

mod quote;

use crate::command::{argv, seconds_up, DEFAULT_KILL_TIMEOUT_MS};
use crate::file::ExportedFile;
use crate::notes::{header, untranslated};
use pm2_proto::AppSpec;
use quote::{file_path, quoted_exec, quoted_value, unit_name, valid_env_name, valid_user};
use std::fmt::Write;

/// The unit for `app`.
pub(crate) fn unit(app: &AppSpec, source: &str) -> ExportedFile {
    let template = app.instances > 1;
    let name = format!(
        "pm2-{}{}.service",
        unit_name(&app.name),
        if template { "@" } else { "" }
    );
    let mut notes = untranslated(app);
    let mut body = String::new();
    unit_section(&mut body, app);
    service_section(&mut body, app, template, &mut notes);
    body.push_str("\n[Install]\nWantedBy=multi-user.target\n");
    if template {
        let base = name.trim_end_matches(".service");
        notes.push(format!(
            "{} instances: enable each with systemctl enable --now {base}0.service … {base}{}.service",
            app.instances,
            app.instances - 1
        ));
    }
    let what = format!("systemd unit for app {:?}", app.name);
    ExportedFile {
        name,
        text: format!("{}{body}", header(source, &what, &notes)),
    }
}

fn unit_section(body: &mut String, app: &AppSpec) {
    let _ = writeln!(body, "[Unit]");
    let _ = writeln!(body, "Description={}", quote::description(&app.name));
    let _ = writeln!(body, "After=network-online.target");
    let _ = writeln!(body, "Wants=network-online.target");
    if app.autorestart && app.max_restarts > 0 {
        // PM2 gives up after max_restarts exits that each came within min_uptime.
        let window = (app.min_uptime.max(1000) * u64::from(app.max_restarts)).div_ceil(1000);
        let _ = writeln!(body, "StartLimitIntervalSec={window}");
        let _ = writeln!(body, "StartLimitBurst={}", app.max_restarts);
    }
}

fn service_section(body: &mut String, app: &AppSpec, template: bool, notes: &mut Vec<String>) {
    let _ = writeln!(body, "\n[Service]");
    // A `notify` app says READY=1 itself, as systemd's Type=notify expects; the watchdog
    // is systemd's own (WatchdogSec=, WATCHDOG=1 on the same socket).
    let kind = if app.notify { "notify" } else { "simple" };
    let _ = writeln!(body, "Type={kind}");
    if let Some(ms) = app.watchdog_ms {
        let _ = writeln!(body, "WatchdogSec={ms}ms");
    }
    match file_path(&app.cwd) {
        Some(cwd) => {
            let _ = writeln!(body, "WorkingDirectory={cwd}");
        }
        None => notes.push("cwd: holds a control character, left out".into()),
    }
    let words: Vec<String> = argv(app).iter().map(|w| quoted_exec(w)).collect();
    let _ = writeln!(body, "ExecStart={}", words.join(" "));
    environment(body, app, template, notes);
    identity(body, app, notes);
    restart_policy(body, app, notes);
    stopping(body, app);
    if let Some(bytes) = crate::limits::memory(app) {
        let _ = writeln!(body, "MemoryMax={bytes}");
        if app.limits.memory.is_none() {
            notes.push("max_memory_restart: MemoryMax, where the kernel kills the app at the limit (then Restart= starts it again)".into());
        }
    }
    for line in crate::limits::systemd_lines(app) {
        let _ = writeln!(body, "{line}");
    }
    logs(body, app, notes);
}

fn environment(body: &mut String, app: &AppSpec, template: bool, notes: &mut Vec<String>) {
    for (key, value) in &app.env {
        if !valid_env_name(key) {
            notes.push(format!(
                "env {key:?}: not a variable name systemd accepts, left out"
            ));
            continue;
        }
        let _ = writeln!(
            body,
            "Environment={}",
            quoted_value(&format!("{key}={value}"))
        );
    }
    if template && valid_env_name(&app.instance_var) {
        // The instance number (`%i`), as PM2 numbers instances in its instance_var.
        let _ = writeln!(body, "Environment=\"{}=%i\"", app.instance_var);
    }
}

fn identity(body: &mut String, app: &AppSpec, notes: &mut Vec<String>) {
    let user = app.uid.as_deref().unwrap_or(&app.username);
    if !user.is_empty() {
        if valid_user(user) {
            let _ = writeln!(body, "User={user}");
        } else {
            notes.push(format!(
                "user {user:?}: not a user name systemd accepts, left out"
            ));
        }
    }
    if let Some(group) = &app.gid {
        if valid_user(group) {
            let _ = writeln!(body, "Group={group}");
        } else {
            notes.push(format!(
                "group {group:?}: not a group name systemd accepts, left out"
            ));
        }
    }
}

fn restart_policy(body: &mut String, app: &AppSpec, notes: &mut Vec<String>) {
    // PM2 restarts on every exit, clean or not, unless autorestart is off.
    let _ = writeln!(
        body,
        "Restart={}",
        if app.autorestart { "always" } else { "no" }
    );
    if !app.stop_exit_codes.is_empty() {
        let codes: Vec<String> = app.stop_exit_codes.iter().map(i32::to_string).collect();
        let _ = writeln!(body, "RestartPreventExitStatus={}", codes.join(" "));
    }
    let _ = writeln!(
        body,
        "RestartSec={}ms",
        app.restart_delay.unwrap_or(0).max(100)
    );
    if app.exp_backoff_restart_delay.is_some() {
        notes.push(
            "exp_backoff_restart_delay: a fixed RestartSec (RestartSteps= needs systemd 254)"
                .into(),
        );
    }
}

fn stopping(body: &mut String, app: &AppSpec) {
    // PM2's default first signal; its whole tree unless treekill is off.
    let _ = writeln!(body, "KillSignal=SIGINT");
    let _ = writeln!(
        body,
        "KillMode={}",
        if app.treekill {
            "control-group"
        } else {
            "mixed"
        }
    );
    let timeout = app.kill_timeout.unwrap_or(DEFAULT_KILL_TIMEOUT_MS);
    let _ = writeln!(body, "TimeoutStopSec={}", seconds_up(timeout));
}

fn logs(body: &mut String, app: &AppSpec, notes: &mut Vec<String>) {
    let files = [
        ("StandardOutput", &app.out_file),
        ("StandardError", &app.error_file),
    ];
    for (key, file) in files {
        match file.as_deref().map(file_path) {
            Some(Some(path)) if path != "/dev/null" => {
                let _ = writeln!(body, "{key}=append:{path}");
            }
            Some(Some(_)) => {
                let _ = writeln!(body, "{key}=null");
            }
            Some(None) => notes.push(format!(
                "{key}: its file's path holds a control character; the journal keeps it"
            )),
            None => {}
        }
    }
    if app.out_file.is_none() && app.error_file.is_none() {
        notes.push(format!(
            "logs: in the journal (journalctl -u pm2-{})",
            unit_name(&app.name)
        ));
    }
}
