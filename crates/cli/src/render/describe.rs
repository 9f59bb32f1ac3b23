//! `pm2 describe` and `pm2 env`: one process in detail.

use super::format::{paint, uptime_cell, Sgr, BOLD, GREEN, INVERSE, ITALIC, WHITE};
use super::grid::{status_cell, Cell, Grid};
use pm2_logfmt::iso_timestamp_millis;
use pm2_proto::{pm2json, ProcessInfo, Status};

/// Style of PM2's section titles (`chalk.bold.inverse`).
const TITLE: &[Sgr] = &[BOLD, INVERSE];
/// Style of PM2's hint lines (`chalk.white.italic`).
const HINT: &[Sgr] = &[WHITE, ITALIC];

/// `pm2 describe <id>`: the title line, the two-column table in PM2's row order, the (empty)
/// divergent-env section and the hint lines, at time `now_ms` (ms since the epoch).
///
/// PM2 fills the "Divergent env variables" table by comparing the app's environment with the
/// CLI's own; this view has no access to the CLI's environment, so that table stays empty, as it
/// is whenever the app was started from the same shell. The two blank lines after that section
/// are what PM2 prints for the empty table and the `console.log()` that follows it. With
/// `color` the output carries PM2's escape codes; without it, none. Every line ends with a
/// newline, so the text can be written as is.
pub fn describe(p: &ProcessInfo, now_ms: u64, color: bool) -> String {
    let name = &p.spec.name;
    let paint_if = |text: &str, style: &[Sgr]| {
        if color {
            paint(text, style)
        } else {
            text.to_string()
        }
    };
    let mut lines = vec![
        paint_if(
            &format!(" Describing process with id {} - name {name} ", p.pm_id),
            TITLE,
        ),
        Grid::auto(describe_rows(p, now_ms), color).render(),
    ];
    if let Some(conf) = module_conf_rows(p) {
        lines.push("Process configuration".to_string());
        lines.push(Grid::auto(conf, color).render());
    }
    if let Some(revision) = revision_rows(p) {
        lines.push(paint_if(" Revision control metadata ", TITLE));
        lines.push(Grid::auto(revision, color).render());
    }
    if let Some(actions) = action_rows(p) {
        lines.push(paint_if(" Actions available ", TITLE));
        lines.push(Grid::auto(actions, color).render());
        lines.push(format!(" Trigger via: pm2 trigger {name} <action_name>\n"));
    }
    if let Some(metrics) = metric_rows(p) {
        lines.push(paint_if(" Code metrics value ", TITLE));
        lines.push(Grid::auto(metrics, color).render());
    }
    lines.extend([
        paint_if(" Divergent env variables from local env ", TITLE),
        String::new(),
        String::new(),
        paint_if(
            " Add your own code metrics: http://bit.ly/code-metrics",
            HINT,
        ),
        paint_if(
            &format!(" Use `pm2 logs {name} [--lines 1000]` to display logs"),
            HINT,
        ),
        paint_if(
            &format!(
                " Use `pm2 env {}` to display environment variables",
                p.pm_id
            ),
            HINT,
        ),
        // PM2 passes the name as an extra console.log argument, so it lands after the style.
        format!(
            "{} {name}",
            paint_if(" Use `pm2 monit` to monitor CPU and Memory usage", HINT)
        ),
    ]);
    lines.into_iter().map(|line| line + "\n").collect()
}

/// PM2's "Process configuration" table: the `module_conf` the app's `@pm2/io` or `pmx`
/// reported in `axm_options`, one `key │ value` row each (None when it reported none).
fn module_conf_rows(p: &ProcessInfo) -> Option<Vec<Vec<Cell>>> {
    let conf = p.axm_options.get("module_conf")?.as_object()?;
    let rows: Vec<Vec<Cell>> = conf
        .iter()
        .map(|(key, value)| match value {
            serde_json::Value::String(text) => text_row(key, text),
            other => text_row(key, &other.to_string()),
        })
        .collect();
    (!rows.is_empty()).then_some(rows)
}

/// PM2's " Revision control metadata " table, from `pm2_env.versioning` (None without it;
/// the comment trimmed and cut at 60 characters as PM2 does).
fn revision_rows(p: &ProcessInfo) -> Option<Vec<Vec<Cell>>> {
    let v = p.versioning.as_ref().filter(|v| v.is_object())?;
    let text = |key: &str| {
        v.get(key)
            .and_then(|x| x.as_str())
            .unwrap_or("N/A")
            .to_string()
    };
    let comment: String = v
        .get("comment")
        .and_then(|c| c.as_str())
        .map(|c| c.trim().chars().take(60).collect())
        .unwrap_or_default();
    Some(vec![
        text_row("revision control", &text("type")),
        text_row("remote url", &text("url")),
        text_row("repository root", &text("repo_path")),
        text_row("last update", &text("update_time")),
        text_row("revision", &text("revision")),
        text_row("comment", &comment),
        text_row("branch", &text("branch")),
    ])
}

/// PM2's " Actions available " table: one action name per row (None without actions).
fn action_rows(p: &ProcessInfo) -> Option<Vec<Vec<Cell>>> {
    let rows: Vec<Vec<Cell>> = p
        .axm_actions
        .iter()
        .filter_map(|a| a.get("action_name").and_then(|n| n.as_str()))
        .map(|n| vec![Cell::plain(n)])
        .collect();
    (!rows.is_empty()).then_some(rows)
}

/// PM2's " Code metrics value " table: `name │ value unit` (None without metrics).
fn metric_rows(p: &ProcessInfo) -> Option<Vec<Vec<Cell>>> {
    let show = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "N/A".to_string(),
        other => other.to_string(),
    };
    let rows: Vec<Vec<Cell>> = p
        .axm_monitor
        .iter()
        .map(|(name, m)| {
            let value = m.get("value").map(show).unwrap_or_else(|| show(m));
            let text = match m.get("unit").and_then(|u| u.as_str()) {
                Some(unit) if !unit.is_empty() => format!("{value} {unit}"),
                _ => value,
            };
            vec![Cell::plain(name), Cell::plain(&text)]
        })
        .collect();
    (!rows.is_empty()).then_some(rows)
}

/// The key/value rows of the describe table, in PM2's order.
fn describe_rows(p: &ProcessInfo, now_ms: u64) -> Vec<Vec<Cell>> {
    let s = &p.spec;
    let mut rows = vec![
        row("status", status_cell(p.status)),
        text_row("name", &s.name),
        text_row("namespace", &s.namespace),
        text_row("version", s.version.as_deref().unwrap_or("N/A")),
        text_row("restarts", &p.restart_time.to_string()),
        text_row(
            "uptime",
            &uptime_cell(p.status == Status::Online, p.pm_uptime, now_ms),
        ),
        text_row("script path", &s.script),
        text_row("script args", &joined_or_na(&s.args)),
        text_row("error log path", &p.paths.err),
        text_row("out log path", &p.paths.out),
        text_row("pid path", &p.paths.pid),
        text_row("interpreter", &s.interpreter),
        text_row("interpreter args", &joined_or_na(&s.interpreter_args)),
        text_row("script id", &p.pm_id.to_string()),
        text_row("exec cwd", &s.cwd),
        text_row("exec mode", s.exec_mode.as_str()),
        text_row(
            "node.js version",
            s.node_version.as_deref().unwrap_or("N/A"),
        ),
        text_row(
            "node env",
            s.env.get("NODE_ENV").map(String::as_str).unwrap_or("N/A"),
        ),
        watch_row(s.watch),
        text_row("unstable restarts", &p.unstable_restarts.to_string()),
        text_row(
            "created at",
            &p.created_at.map_or("N/A".to_string(), iso_timestamp_millis),
        ),
    ];
    if let Some(combined) = &p.paths.combined {
        rows.insert(6, text_row("entire log path", combined));
    }
    rows.extend(health_rows(p));
    rows.extend(super::describe_limits::containment_rows(p));
    if let Some(status) = &p.notify_status {
        // pm2-rs's own row (beyond PM2): the app's last `STATUS=` on `NOTIFY_SOCKET`.
        rows.push(text_row("notify status", status));
    }
    rows
}

/// pm2-rs's health check rows (beyond PM2), after PM2's own, for apps that have a check.
fn health_rows(p: &ProcessInfo) -> Vec<Vec<Cell>> {
    let Some(h) = p.health.as_ref() else {
        return vec![];
    };
    let mut rows = vec![text_row("health", h.status.as_str())];
    if let Some(e) = &h.last_error {
        rows.push(text_row("health failure", e));
    }
    if h.restarts > 0 {
        rows.push(text_row("health restarts", &h.restarts.to_string()));
    }
    if let Some(why) = &h.last_restart {
        rows.push(text_row("health restart reason", why));
    }
    rows
}

/// A row whose value PM2 prints as plain text.
fn text_row(key: &str, value: &str) -> Vec<Cell> {
    row(key, Cell::plain(value))
}

/// A row with a styled value.
fn row(key: &str, value: Cell) -> Vec<Cell> {
    vec![Cell::plain(key), value]
}

/// `✔` in green bold when watching, a plain `✘` otherwise.
fn watch_row(watch: bool) -> Vec<Cell> {
    if watch {
        row("watch & reload", Cell::styled("✔", &[GREEN, BOLD]))
    } else {
        text_row("watch & reload", "✘")
    }
}

/// Arguments joined by spaces, or `N/A` when there are none.
///
/// PM2 hands `node_args` to its table as an array, which spreads several interpreter
/// arguments over extra columns and breaks the table's right border; joining them keeps the
/// table intact and is identical for the common single-argument case.
fn joined_or_na(args: &[String]) -> String {
    if args.is_empty() {
        "N/A".to_string()
    } else {
        args.join(" ")
    }
}

/// pm2_env keys that `pm2 env` leaves out (PM2's `Common.safeExtend` ignore list).
const ENV_IGNORED: [&str; 44] = [
    "name",
    "exec_mode",
    "env",
    "args",
    "pm_cwd",
    "exec_interpreter",
    "pm_exec_path",
    "node_args",
    "pm_out_log_path",
    "pm_err_log_path",
    "pm_pid_path",
    "pm_id",
    "status",
    "pm_uptime",
    "created_at",
    "windowsHide",
    "username",
    "merge_logs",
    "kill_retry_time",
    "prev_restart_delay",
    "instance_var",
    "unstable_restarts",
    "restart_time",
    "axm_actions",
    "pmx_module",
    "command",
    "watch",
    "filter_env",
    "versioning",
    "vizion_runing",
    "MODULE_DEBUG",
    "pmx",
    "axm_options",
    "vizion",
    "axm_dynamic",
    "axm_monitor",
    "instances",
    "automation",
    "autostart",
    "autorestart",
    "stop_exit_codes",
    "unstable_restart",
    "treekill",
    "exit_code",
];

/// `pm2 env <id>`: one `key: value` line per variable of the child's environment, as PM2
/// prints them.
///
/// PM2 copies pm2_env through `Common.safeExtend`, which drops its own bookkeeping keys
/// (`ENV_IGNORED`) and values that read as `[object Object]`, and which walks the keys
/// backwards, so the listing comes out in reverse pm2_env order (array-index keys first, as in
/// any JavaScript object). Every line ends with a newline; empty when nothing is left.
pub fn env_listing(p: &ProcessInfo) -> String {
    let env: Vec<(String, String)> = pm2json::child_env(p)
        .into_iter()
        .filter(|(k, v)| !ENV_IGNORED.contains(&k.as_str()) && v != "[object Object]")
        .rev()
        .collect();
    let order = super::format::js_key_order(env.iter().map(|(k, _)| k.as_str()));
    order
        .iter()
        .filter_map(|key| env.iter().find(|(k, _)| k == key))
        .map(|(k, v)| format!("{k}: {v}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::table::tests::{process, strip_ansi};
    use super::*;

    #[test]
    fn matches_pm2_describe_sample() {
        let mut p = process(2, "worker");
        p.created_at = Some(1_795_234_020_525);
        p.spec.env.insert("PATH".into(), "/usr/bin".into());
        let out = describe(&p, 1_000_000 + 2_000, false);
        let expected = " Describing process with id 2 - name worker \n\
┌───────────────────┬─────────────────────────────────────────┐
│ status            │ online                                  │
│ name              │ worker                                  │
│ namespace         │ default                                 │
│ version           │ N/A                                     │
│ restarts          │ 0                                       │
│ uptime            │ 2s                                      │
│ script path       │ /srv/app/worker.py                      │
│ script args       │ N/A                                     │
│ error log path    │ /home/deploy/.pm2/logs/worker-error.log │
│ out log path      │ /home/deploy/.pm2/logs/worker-out.log   │
│ pid path          │ /home/deploy/.pm2/pids/worker-2.pid     │
│ interpreter       │ python                                  │
│ interpreter args  │ N/A                                     │
│ script id         │ 2                                       │
│ exec cwd          │ /srv/app                                │
│ exec mode         │ fork_mode                               │
│ node.js version   │ N/A                                     │
│ node env          │ N/A                                     │
│ watch & reload    │ ✘                                       │
│ unstable restarts │ 0                                       │
│ created at        │ 2026-11-21T04:07:00.525Z                │
└───────────────────┴─────────────────────────────────────────┘
 Divergent env variables from local env 


 Add your own code metrics: http://bit.ly/code-metrics
 Use `pm2 logs worker [--lines 1000]` to display logs
 Use `pm2 env 2` to display environment variables
 Use `pm2 monit` to monitor CPU and Memory usage worker\n";
        assert_eq!(out, expected);
    }

    #[test]
    fn optional_rows_and_values() {
        let mut p = process(0, "api");
        p.status = Status::Stopped;
        p.created_at = None;
        p.spec.args = vec!["--port".into(), "3000".into()];
        p.spec.interpreter_args = vec!["--max-old-space-size=100".into()];
        p.spec.env.insert("NODE_ENV".into(), "production".into());
        p.spec.node_version = Some("20.20.2".into());
        p.spec.watch = true;
        p.paths.combined = Some("/home/deploy/.pm2/logs/api.log".into());
        let out = describe(&p, 9_000_000, false);
        let keys: Vec<&str> = out
            .lines()
            .filter_map(|l| l.strip_prefix("│ "))
            .filter_map(|l| l.split(" │").next())
            .map(str::trim)
            .collect();
        assert_eq!(keys[5..8], ["uptime", "entire log path", "script path"]);
        for needle in [
            "│ uptime            │ 0 ",
            "│ status            │ stopped ",
            "│ script args       │ --port 3000 ",
            "│ interpreter args  │ --max-old-space-size=100 ",
            "│ node env          │ production ",
            "│ node.js version   │ 20.20.2 ",
            "│ watch & reload    │ ✔ ",
            "│ created at        │ N/A ",
        ] {
            assert!(out.contains(needle), "missing {needle:?} in\n{out}");
        }
    }

    #[test]
    fn module_conf_is_shown_after_the_main_table() {
        let mut p = process(0, "api");
        let none = describe(&p, 9_000_000, false);
        assert!(!none.contains("Process configuration"), "{none}");
        let conf = serde_json::json!({"module_conf": {"region": "eu", "workers": 2}});
        p.axm_options = conf.as_object().cloned().unwrap_or_default();
        let out = describe(&p, 9_000_000, false);
        let table = out
            .split("Process configuration\n")
            .nth(1)
            .unwrap_or_default();
        assert!(
            table.starts_with("┌─────────┬────┐\n│ region  │ eu │\n│ workers │ 2  │\n"),
            "{out}"
        );
    }

    #[test]
    fn coloured_describe_strips_to_plain() {
        let p = process(1, "api");
        let coloured = describe(&p, 2_000_000, true);
        assert!(coloured.starts_with("\u{1b}[1m\u{1b}[7m Describing process with id 1"));
        assert_eq!(strip_ansi(&coloured), describe(&p, 2_000_000, false));
        assert!(!describe(&p, 2_000_000, false).contains('\u{1b}'));
        assert!(coloured.ends_with(" api\n"));
    }

    #[test]
    fn env_listing_reverses_and_filters_like_pm2() {
        let mut p = process(3, "worker");
        p.spec.env.insert("NODE_ENV".into(), "production".into());
        p.spec.env.insert("PORT".into(), "8080".into());
        let out = env_listing(&p);
        let keys: Vec<&str> = out.lines().filter_map(|l| l.split(": ").next()).collect();
        assert_eq!(keys.first(), Some(&"version"));
        for kept in [
            "NODE_APP_INSTANCE",
            "PM2_HOME",
            "unique_id",
            "NODE_ENV",
            "PORT",
        ] {
            assert!(keys.contains(&kept), "{kept} missing from {keys:?}");
        }
        for dropped in [
            "name",
            "pm_id",
            "status",
            "env",
            "restart_time",
            "node_version",
        ] {
            assert!(!keys.contains(&dropped), "{dropped} should be left out");
        }
        assert!(out.contains("\nPORT: 8080\n"));
        assert!(out.ends_with('\n'));
        assert!(out.contains("version: N/A"));
        let port = keys.iter().position(|k| *k == "PORT");
        let node_env = keys.iter().position(|k| *k == "NODE_ENV");
        assert!(port < node_env, "reverse of pm2_env order");
    }
}
