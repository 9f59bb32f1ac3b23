//! The app options an ecosystem file may use: PM2's snake_case names (`lib/API/schema.json`
//! plus the newer ones), their aliases, the automatic camelCase forms, and suggestions for
//! misspelt keys.

/// What pm2-rs does with an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Support {
    /// Validated and applied to the app.
    Mapped,
    /// Validated, but the daemon does not act on it yet: the user is told.
    Unsupported,
    /// PM2+ / Keymetrics / Windows / deploy-time options: accepted without effect or warning,
    /// because they do not change how the process runs.
    Ignored,
}

use Support::{Ignored, Mapped, Unsupported};

/// Every canonical option name and what happens to it.
const OPTIONS: &[(&str, Support)] = &[
    ("script", Mapped),
    ("name", Mapped),
    ("name_prefix", Mapped),
    ("namespace", Mapped),
    ("cwd", Mapped),
    ("args", Mapped),
    ("interpreter", Mapped),
    ("node_args", Mapped),
    ("exec_mode", Mapped),
    ("instances", Mapped),
    ("execute_command", Mapped),
    ("env", Mapped),
    ("filter_env", Mapped),
    ("append_env_to_name", Mapped),
    ("port", Mapped),
    ("out_file", Mapped),
    ("error_file", Mapped),
    ("log_file", Mapped),
    ("pid_file", Mapped),
    ("merge_logs", Mapped),
    ("log_date_format", Mapped),
    ("log_type", Mapped),
    ("time", Mapped),
    ("disable_logs", Mapped),
    ("autorestart", Mapped),
    ("autostart", Mapped),
    ("stop_exit_codes", Mapped),
    ("min_uptime", Mapped),
    ("max_restarts", Mapped),
    ("restart_delay", Mapped),
    ("exp_backoff_restart_delay", Mapped),
    ("kill_timeout", Mapped),
    ("treekill", Mapped),
    ("wait_ready", Mapped),
    ("listen_timeout", Mapped),
    ("shutdown_with_message", Mapped),
    ("watch", Mapped),
    ("ignore_watch", Mapped),
    ("watch_delay", Mapped),
    ("watch_options", Unsupported),
    ("max_memory_restart", Mapped),
    ("cron_restart", Mapped),
    // Beyond PM2 (issue 18): dotenv files, health checks.
    ("env_file", Mapped),
    ("health_check", Mapped),
    ("depends_on", Mapped),
    // Beyond PM2 (issue 18): sockets the daemon binds and hands to the app.
    ("listen", Mapped),
    // Beyond PM2 (issue 18): readiness through sd_notify's NOTIFY_SOCKET.
    ("notify", Mapped),
    ("watchdog_sec", Mapped),
    // Beyond PM2 (issue 18): hard limits in the process's cgroups.
    ("memory_limit", Mapped),
    ("cpu_limit", Mapped),
    ("pids_limit", Mapped),
    ("instance_var", Mapped),
    ("increment_var", Mapped),
    ("uid", Mapped),
    ("gid", Mapped),
    ("kill_retry_time", Unsupported),
    ("source_map_support", Unsupported),
    ("force", Unsupported),
    ("disable_source_map_support", Ignored),
    ("vizion", Ignored),
    ("pmx", Ignored),
    ("automation", Ignored),
    ("trace", Ignored),
    ("disable_trace", Ignored),
    ("v8", Ignored),
    ("event_loop_inspector", Ignored),
    ("deep_monitoring", Ignored),
    ("windowsHide", Ignored),
    ("io", Ignored),
    ("post_update", Ignored),
    ("install_url", Ignored),
    ("write", Ignored),
    ("username", Ignored),
    ("version", Ignored),
];

/// Other spellings PM2 accepts, and the canonical name each stands for.
const ALIASES: &[(&str, &str)] = &[
    ("exec", "script"),
    ("cmd", "script"),
    ("command", "script"),
    ("exec_interpreter", "interpreter"),
    ("interpreter_args", "node_args"),
    ("out", "out_file"),
    ("output", "out_file"),
    ("out_log", "out_file"),
    ("error", "error_file"),
    ("err", "error_file"),
    ("err_file", "error_file"),
    ("err_log", "error_file"),
    ("log", "log_file"),
    ("pid", "pid_file"),
    ("cron", "cron_restart"),
    ("combine_logs", "merge_logs"),
    ("user", "uid"),
];

/// A key of an app object, once aliases are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Key {
    /// A known option (its canonical name) and how it is handled.
    Option(&'static str, Support),
    /// An `env_<name>` block (the name after `env_`).
    EnvBlock(String),
    /// Not an option PM2 knows.
    Unknown,
}

/// Classifies a key as PM2 does: exact name, explicit alias, then the camelCase form of
/// either (PM2 gives every schema key a camelCase alias).
pub(crate) fn classify(key: &str) -> Key {
    // `env_file` is an option, not the `env_file` block PM2 would see in it.
    if let Some(env) = key.strip_prefix("env_").filter(|_| lookup(key).is_none()) {
        return Key::EnvBlock(env.to_string());
    }
    lookup(key)
        .or_else(|| lookup(&snake_case(key)))
        .map(|canonical| Key::Option(canonical, support(canonical)))
        .unwrap_or(Key::Unknown)
}

fn lookup(key: &str) -> Option<&'static str> {
    OPTIONS
        .iter()
        .map(|(n, _)| *n)
        .find(|n| *n == key)
        .or_else(|| ALIASES.iter().find(|(a, _)| *a == key).map(|(_, c)| *c))
}

fn support(canonical: &str) -> Support {
    OPTIONS
        .iter()
        .find(|(n, _)| *n == canonical)
        .map(|(_, s)| *s)
        .unwrap_or(Ignored)
}

/// `maxMemoryRestart` → `max_memory_restart`.
pub(crate) fn snake_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The known name closest to a misspelt key, if it is close enough to be a likely typo.
pub(crate) fn suggest(key: &str) -> Option<&'static str> {
    let probe = snake_case(key);
    let names = OPTIONS
        .iter()
        .map(|(n, _)| *n)
        .chain(ALIASES.iter().map(|(a, _)| *a));
    let (best, distance) = names
        .map(|n| (n, strsim::levenshtein(&probe, n)))
        .min_by_key(|(_, d)| *d)?;
    let limit = (probe.chars().count() / 3).clamp(1, 3);
    (distance <= limit).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_and_camel_case_resolve() {
        assert_eq!(classify("cmd"), Key::Option("script", Mapped));
        assert_eq!(classify("maxMemoryRestart"), classify("max_memory_restart"));
        assert_eq!(
            classify("interpreterArgs"),
            Key::Option("node_args", Mapped)
        );
        assert_eq!(classify("killTimeout"), Key::Option("kill_timeout", Mapped));
        assert_eq!(classify("env_prod"), Key::EnvBlock("prod".into()));
        assert_eq!(classify("windowsHide"), Key::Option("windowsHide", Ignored));
        assert_eq!(classify("bogus"), Key::Unknown);
        assert_eq!(classify("env_file"), Key::Option("env_file", Mapped));
        assert_eq!(classify("envFile"), Key::Option("env_file", Mapped));
        assert_eq!(classify("healthCheck"), Key::Option("health_check", Mapped));
    }

    #[test]
    fn typos_get_a_suggestion() {
        assert_eq!(suggest("instanses"), Some("instances"));
        assert_eq!(suggest("scirpt"), Some("script"));
        assert_eq!(suggest("maxMemoryRestrat"), Some("max_memory_restart"));
        assert_eq!(suggest("completely_different"), None);
        assert_eq!(strsim::levenshtein("kitten", "sitting"), 3);
    }
}
