//! The flag values of a start, parsed and checked; every value that does not parse is
//! reported, in flag order, rather than only the first.

use super::context::ResolveContext;
use crate::error::ConfigError;
use crate::options::StartOptions;
use crate::values::{parse_cron, parse_duration_ms, parse_instances, parse_memory_size, Instances};
use std::path::{Path, PathBuf};

/// The values of a start's flags, in their resolved units.
pub(super) struct Flags {
    pub restart_delay: Option<u64>,
    pub exp_backoff_restart_delay: Option<u64>,
    pub kill_timeout: Option<u64>,
    pub min_uptime: Option<u64>,
    pub listen_timeout: Option<u64>,
    pub watch_delay: Option<u64>,
    pub max_restarts: Option<u32>,
    pub stop_exit_codes: Vec<i32>,
    pub instances: Option<Instances>,
    /// The app's working directory, absolute.
    pub cwd: String,
    pub max_memory_restart: Option<u64>,
    pub cron_restart: Option<String>,
    pub log_type: Option<String>,
    /// `--memory-limit`, `--cpu-limit`, `--pids-limit` (beyond PM2).
    pub limits: pm2_proto::ResourceLimits,
}

impl Flags {
    /// Parses every flag; what does not parse is pushed to `errors` and left unset.
    pub(super) fn parse(
        opts: &StartOptions,
        ctx: &ResolveContext,
        errors: &mut Vec<ConfigError>,
    ) -> Flags {
        let restart_delay = duration("--restart-delay", &opts.restart_delay, errors);
        let exp_backoff_restart_delay = duration(
            "--exp-backoff-restart-delay",
            &opts.exp_backoff_restart_delay,
            errors,
        );
        let kill_timeout = duration("--kill-timeout", &opts.kill_timeout, errors);
        let min_uptime = duration("--min-uptime", &opts.min_uptime, errors);
        let listen_timeout = duration("--listen-timeout", &opts.listen_timeout, errors);
        let watch_delay = duration("--watch-delay", &opts.watch_delay, errors);
        let max_restarts = keep(parse_u32("--max-restarts", &opts.max_restarts), errors).flatten();
        let stop_exit_codes = keep(parse_exit_codes(&opts.stop_exit_codes), errors);
        let instances = opts.instances.as_deref();
        let instances = instances.and_then(|i| keep(parse_instances(i), errors));
        let cwd = working_dir(opts, ctx, errors);
        let max_memory_restart = opts.max_memory_restart.as_deref();
        let max_memory_restart = max_memory_restart.and_then(|m| keep(memory(m), errors));
        let cron_restart = opts.cron_restart.as_deref();
        let cron_restart = cron_restart.and_then(|c| keep(cron(c), errors)).flatten();
        let log_type = keep(log_type(opts.log_type.as_deref()), errors).flatten();
        let limits = crate::limits::from_flags(opts, errors);
        Flags {
            restart_delay,
            exp_backoff_restart_delay,
            kill_timeout,
            min_uptime,
            listen_timeout,
            watch_delay,
            max_restarts,
            stop_exit_codes: stop_exit_codes.unwrap_or_default(),
            instances,
            cwd,
            max_memory_restart,
            cron_restart,
            log_type,
            limits,
        }
    }
}

/// The value, or `None` with the error pushed to `errors`.
pub(super) fn keep<T>(result: Result<T, ConfigError>, errors: &mut Vec<ConfigError>) -> Option<T> {
    result.map_err(|e| errors.push(e)).ok()
}

pub(super) fn duration(
    flag: &str,
    raw: &Option<String>,
    errors: &mut Vec<ConfigError>,
) -> Option<u64> {
    let raw = raw.as_deref()?;
    keep(parse_duration_ms(flag, raw), errors)
}

/// `--cwd` made absolute against the caller's directory (the caller's directory when
/// absent), and checked to be a directory.
fn working_dir(opts: &StartOptions, ctx: &ResolveContext, errors: &mut Vec<ConfigError>) -> String {
    let cwd = opts
        .cwd
        .as_deref()
        .map(|c| ctx.absolute(c))
        .unwrap_or_else(|| ctx.cwd.to_string_lossy().into_owned());
    if !Path::new(&cwd).is_dir() {
        errors.push(ConfigError::CwdNotFound(PathBuf::from(&cwd)));
    }
    cwd
}

pub(super) fn memory(raw: &str) -> Result<u64, ConfigError> {
    parse_memory_size(raw).ok_or_else(|| ConfigError::InvalidValue {
        flag: "--max-memory-restart".into(),
        value: raw.into(),
        why: "expected bytes, or a whole number with K, M or G (e.g. 200M)".into(),
    })
}

pub(super) fn cron(raw: &str) -> Result<Option<String>, ConfigError> {
    parse_cron(raw).map_err(|e| ConfigError::InvalidValue {
        flag: "--cron-restart".into(),
        value: raw.into(),
        why: e.to_string(),
    })
}

/// `--log-type`: `raw` is the default and stored as none.
pub(super) fn log_type(raw: Option<&str>) -> Result<Option<String>, ConfigError> {
    match raw {
        None | Some("raw") => Ok(None),
        Some("json") => Ok(Some("json".to_string())),
        Some(other) => Err(ConfigError::InvalidValue {
            flag: "--log-type".into(),
            value: other.into(),
            why: "expected raw or json".into(),
        }),
    }
}

pub(super) fn parse_u32(flag: &str, raw: &Option<String>) -> Result<Option<u32>, ConfigError> {
    raw.as_deref()
        .map(|v| {
            v.trim()
                .parse::<u32>()
                .map_err(|_| ConfigError::InvalidValue {
                    flag: flag.into(),
                    value: v.into(),
                    why: "expected a non-negative whole number".into(),
                })
        })
        .transpose()
}

pub(super) fn parse_exit_codes(raw: &[String]) -> Result<Vec<i32>, ConfigError> {
    raw.iter()
        .flat_map(|r| r.split([',', ' ']).filter(|s| !s.is_empty()))
        .map(|v| {
            v.parse::<i32>().map_err(|_| ConfigError::InvalidValue {
                flag: "--stop-exit-codes".into(),
                value: v.into(),
                why: "expected exit codes (numbers)".into(),
            })
        })
        .collect()
}
