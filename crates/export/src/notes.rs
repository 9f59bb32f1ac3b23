//! What PM2 does that an engine cannot be told: each becomes a comment line at the top of
//! the exported file, so a user sees what to redo by hand.

use pm2_proto::{AppSpec, ExecMode};

/// Sentences about the keys of `app` that have no equivalent on any of the targets.
pub(crate) fn untranslated(app: &AppSpec) -> Vec<String> {
    let mut notes = Vec::new();
    if app.exec_mode == ExecMode::Cluster {
        notes.push(format!(
            "exec_mode cluster: the {} instances become separate processes; they no longer share one port through a cluster primary (give each its own port, or use SO_REUSEPORT)",
            app.instances
        ));
    }
    if app.watch {
        notes.push("watch: not translated (restart on file changes)".into());
    }
    if let Some(cron) = &app.cron_restart {
        notes.push(format!(
            "cron_restart {cron:?}: not translated (schedule a restart with the engine's timers)"
        ));
    }
    if app.wait_ready {
        notes.push(
            "wait_ready: not translated (the app's process.send('ready') has no receiver)".into(),
        );
    }
    if app.shutdown_with_message {
        notes.push(
            "shutdown_with_message: not translated (the app is stopped with a signal)".into(),
        );
    }
    if let Some(var) = &app.increment_var {
        notes.push(format!(
            "increment_var {var:?}: not translated (each instance gets the same value)"
        ));
    }
    if app.log_date_format.is_some() || app.log_type.is_some() {
        notes.push(
            "log_date_format/log_type: not translated (the engine timestamps its own log)".into(),
        );
    }
    beyond_pm2(app, &mut notes);
    if !app.treekill {
        notes.push("treekill false: only the main process gets the stop signal".into());
    }
    notes
}

/// The keys pm2-rs adds to PM2's (health checks, `listen`, `depends_on`): none of the
/// targets but Kubernetes (probes) takes them.
fn beyond_pm2(app: &AppSpec, notes: &mut Vec<String>) {
    if let Some(check) = &app.health_check {
        notes.push(format!(
            "health_check ({}): Kubernetes probes only; systemd and Compose get no check (Compose's healthcheck runs inside the image, which may lack a client)",
            match check.probe {
                pm2_proto::Probe::Http { .. } => "http",
                pm2_proto::Probe::Tcp { .. } => "tcp",
                pm2_proto::Probe::Exec { .. } => "exec",
            }
        ));
    }
    if app.notify || app.watchdog_ms.is_some() {
        notes.push("notify/watchdog_sec: systemd units use Type=notify and WatchdogSec=; Kubernetes and Compose have no equivalent".into());
    }
    if !app.listen.is_empty() {
        notes.push(
            "listen: not translated (use a systemd socket unit, or let the app bind its port)"
                .into(),
        );
    }
    if !app.depends_on.is_empty() {
        notes.push(
            "depends_on: not translated (systemd After=/Requires=, Compose depends_on by hand)"
                .into(),
        );
    }
}

/// The header every file starts with: where it came from and the `notes`, as `#` comment
/// lines (the comment syntax of all three targets). Control characters in them (a file
/// name or a value with a newline) are escaped, so nothing can end a comment line early.
pub(crate) fn header(source: &str, what: &str, notes: &[String]) -> String {
    let mut text = format!(
        "# {}, exported by pm2-rs from {}.\n",
        one_line(what),
        one_line(source)
    );
    if !notes.is_empty() {
        text.push_str("# Not translated or changed in translation:\n");
        for note in notes {
            text.push_str(&format!("#   - {}\n", one_line(note)));
        }
    }
    text
}

/// `text` with its control characters written as `\u{..}` escapes.
pub(crate) fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}
