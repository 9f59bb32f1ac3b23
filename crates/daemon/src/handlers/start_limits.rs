//! The bounds on what one start request may ask of the daemon, each refused with the app
//! and the limit named: a client cannot make the daemon hold unbounded names, arguments or
//! environments, or run unbounded numbers of processes. The sizes follow what `execve`
//! itself accepts on Linux, so an app refused here could not have been started anyway.

use pm2_proto::AppSpec;

/// Longest app name: it becomes part of log and pid file names (255 bytes at most; `/`
/// and the like are mapped to safe characters there, as PM2 does).
pub(crate) const MAX_NAME: usize = 200;
/// Longest single argument or `KEY=value`: Linux's `MAX_ARG_STRLEN` (32 pages), less the NUL.
pub(crate) const MAX_STRING: usize = 32 * 4096 - 1;
/// Most bytes of arguments and environment together (Linux allows about 2 MiB, stack
/// permitting; PM2's own variables are added to the app's).
pub(crate) const MAX_EXEC_BYTES: usize = 1536 * 1024;
/// Most instances one daemon runs.
pub(crate) const MAX_INSTANCES: usize = 10_000;

/// Checks one app's name, arguments and environment against the bounds.
pub(crate) fn check(spec: &AppSpec) -> Result<(), String> {
    let app = &spec.name;
    if spec.name.len() > MAX_NAME {
        return Err(format!(
            "app name of {} bytes: at most {MAX_NAME} (it names the app's log files)",
            spec.name.len()
        ));
    }
    if spec.name.chars().any(char::is_control) {
        return Err(format!(
            "app {app:?}: a name may not contain control characters"
        ));
    }
    let args = spec.args.iter().chain(&spec.interpreter_args);
    let env = spec.env.iter().map(|(k, v)| k.len() + 1 + v.len());
    let lengths: Vec<usize> = args.map(String::len).chain(env).collect();
    if let Some(long) = lengths.iter().find(|n| **n > MAX_STRING) {
        return Err(format!(
            "app {app}: an argument or environment variable of {long} bytes: at most \
             {MAX_STRING} (Linux's limit for one)"
        ));
    }
    let total: usize = lengths.iter().map(|n| n + 1).sum();
    if total > MAX_EXEC_BYTES {
        return Err(format!(
            "app {app}: {total} bytes of arguments and environment: at most {MAX_EXEC_BYTES}"
        ));
    }
    Ok(())
}

/// Checks that `adding` more instances fit beside the `running` ones.
pub(crate) fn check_count(running: usize, adding: usize) -> Result<(), String> {
    if running + adding > MAX_INSTANCES {
        return Err(format!(
            "the daemon runs at most {MAX_INSTANCES} instances: {running} exist, {adding} more \
             were asked for"
        ));
    }
    Ok(())
}
