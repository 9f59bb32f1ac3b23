//! Resolution of the start options given to a restart into a [`SpecPatch`]: only the
//! options the user typed, each checked as a start checks it, and `null` (PM2's way to
//! remove a key) turned into [`Change::Clear`].

use super::context::ResolveContext;
use super::flags::{cron, duration, keep, log_type, memory, parse_exit_codes, parse_u32};
use crate::error::ConfigError;
use crate::options::StartOptions;
use pm2_proto::{Change, SpecPatch};

/// PM2's value that removes a key on restart.
const NULL: &str = "null";

/// The changes `opts` asks of an existing app, collecting every invalid value. Options a
/// restart does not apply (paths, cwd, instances, mode) are left out, as PM2 leaves them.
pub fn resolve_patch(
    opts: &StartOptions,
    ctx: &ResolveContext,
) -> Result<SpecPatch, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let mut patch = SpecPatch {
        namespace: text(&opts.namespace).map(|c| c.map(Clone::clone)),
        interpreter_args: text(&opts.interpreter_args)
            .map(|c| c.map(|a| a.split_whitespace().map(String::from).collect())),
        args: (!opts.args.is_empty()).then(|| Change::Set(opts.args.clone())),
        autorestart: opts.no_autorestart.then_some(Change::Set(false)),
        treekill: opts.no_treekill.then_some(Change::Set(false)),
        wait_ready: opts.wait_ready.then_some(Change::Set(true)),
        shutdown_with_message: opts.shutdown_with_message.then_some(Change::Set(true)),
        automation: opts.no_automation.then_some(Change::Set(false)),
        source_map_support: opts.source_map_support.then_some(Change::Set(true)),
        disable_source_map_support: opts.disable_source_map_support.then_some(Change::Set(true)),
        deep_monitoring: ctx.deep_monitoring().then_some(Change::Set(true)),
        ..SpecPatch::default()
    };
    patch.name = match text(&opts.name) {
        Some(Change::Clear) => {
            errors.push(ConfigError::InvalidValue {
                flag: "--name".into(),
                value: NULL.into(),
                why: "an app needs a name".into(),
            });
            None
        }
        other => other.map(|c| c.map(Clone::clone)),
    };
    timings(&mut patch, opts, &mut errors);
    logs_and_triggers(&mut patch, opts, ctx, &mut errors);
    if errors.is_empty() {
        Ok(patch)
    } else {
        Err(errors)
    }
}

/// The delays and counters.
fn timings(patch: &mut SpecPatch, opts: &StartOptions, errors: &mut Vec<ConfigError>) {
    let ms = |flag: &str, raw: &Option<String>, errors: &mut Vec<ConfigError>| {
        parsed(raw, |_| duration(flag, raw, errors).map(Some))
    };
    patch.restart_delay = ms("--restart-delay", &opts.restart_delay, errors);
    patch.exp_backoff_restart_delay = ms(
        "--exp-backoff-restart-delay",
        &opts.exp_backoff_restart_delay,
        errors,
    );
    patch.kill_timeout = ms("--kill-timeout", &opts.kill_timeout, errors);
    patch.listen_timeout = ms("--listen-timeout", &opts.listen_timeout, errors);
    patch.watch_delay = ms("--watch-delay", &opts.watch_delay, errors);
    patch.min_uptime = parsed(&opts.min_uptime, |_| {
        duration("--min-uptime", &opts.min_uptime, errors)
    });
    patch.max_restarts = parsed(&opts.max_restarts, |_| {
        keep(parse_u32("--max-restarts", &opts.max_restarts), errors).flatten()
    });
    patch.stop_exit_codes = match opts.stop_exit_codes.as_slice() {
        [] => None,
        [one] if one == NULL => Some(Change::Clear),
        codes => keep(parse_exit_codes(codes), errors).map(Change::Set),
    };
}

/// Log formats, watching, memory and cron restarts.
fn logs_and_triggers(
    patch: &mut SpecPatch,
    opts: &StartOptions,
    ctx: &ResolveContext,
    errors: &mut Vec<ConfigError>,
) {
    patch.log_date_format = match text(&opts.log_date_format) {
        Some(c) => Some(c.map(|f| Some(f.clone()))),
        None => opts
            .time
            .then(|| Change::Set(Some("YYYY-MM-DDTHH:mm:ss".into()))),
    };
    patch.log_type = parsed(&opts.log_type, |raw| keep(log_type(Some(raw)), errors));
    patch.max_memory_restart = parsed(&opts.max_memory_restart, |raw| {
        keep(memory(raw), errors).map(Some)
    });
    patch.cron_restart = parsed(&opts.cron_restart, |raw| keep(cron(raw), errors));
    if let Some(paths) = &opts.watch {
        patch.watch = Some(Change::Set(true));
        if !paths.is_empty() {
            let absolute = paths.iter().map(|p| ctx.absolute(p)).collect();
            patch.watch_paths = Some(Change::Set(absolute));
        }
    }
    patch.ignore_watch = match opts.ignore_watch.as_deref() {
        None => None,
        Some([one]) if one == NULL => Some(Change::Clear),
        Some(patterns) => Some(Change::Set(patterns.to_vec())),
    };
}

/// A typed text option: `null` clears it.
fn text(raw: &Option<String>) -> Option<Change<&String>> {
    match raw {
        None => None,
        Some(v) if v == NULL => Some(Change::Clear),
        Some(v) => Some(Change::Set(v)),
    }
}

/// A value option: `null` clears it, anything else goes through `parse` (which reports
/// its own error and returns `None`).
fn parsed<T>(raw: &Option<String>, parse: impl FnOnce(&str) -> Option<T>) -> Option<Change<T>> {
    match raw.as_deref() {
        None => None,
        Some(NULL) => Some(Change::Clear),
        Some(v) => parse(v).map(Change::Set),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ResolveContext {
        ResolveContext {
            cwd: "/srv".into(),
            env: Default::default(),
            cpus: 2,
            username: "u".into(),
            pm2_exe: "/usr/bin/pm2".into(),
        }
    }

    #[test]
    fn only_typed_options_change_and_null_clears() {
        let opts = StartOptions {
            name: Some("api2".into()),
            interpreter_args: Some("null".into()),
            max_memory_restart: Some("200M".into()),
            cron_restart: Some("null".into()),
            time: true,
            watch: Some(vec!["lib".into()]),
            ..Default::default()
        };
        let p = resolve_patch(&opts, &ctx()).unwrap();
        assert_eq!(p.name, Some(Change::Set("api2".into())));
        assert_eq!(p.interpreter_args, Some(Change::Clear));
        assert_eq!(p.max_memory_restart, Some(Change::Set(Some(200 << 20))));
        assert_eq!(p.cron_restart, Some(Change::Clear));
        assert!(p.log_date_format.is_some() && p.watch == Some(Change::Set(true)));
        assert_eq!(p.watch_paths, Some(Change::Set(vec!["/srv/lib".into()])));
        assert!(p.kill_timeout.is_none() && p.namespace.is_none() && p.autorestart.is_none());
        assert!(resolve_patch(&StartOptions::default(), &ctx())
            .unwrap()
            .is_empty());
    }

    #[test]
    fn bad_values_and_a_null_name_are_all_reported() {
        let opts = StartOptions {
            name: Some("null".into()),
            kill_timeout: Some("soon".into()),
            max_memory_restart: Some("lots".into()),
            ..Default::default()
        };
        let errors = resolve_patch(&opts, &ctx()).unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].to_string().contains("--name"));
    }
}
