//! Running a script in the `node` on PATH and reading back the JSON value it prints: how
//! JavaScript ecosystem files (and `.json` files that only JavaScript can read) become data.

use crate::error::EcosystemError;
use crate::interpreter::find_in_path;
use crate::resolve::ResolveContext;
use serde_json::Value;
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// What a loader prints before the JSON value, so anything the evaluated code itself prints
/// is ignored. The loaders spell it `'\n\u0000PM2RS-CONFIG\u0000'`.
const MARKER: &str = "\n\u{0}PM2RS-CONFIG\u{0}";
/// A file that evaluates for longer than this is given up on (and its node killed); a real
/// ecosystem file takes well under a second.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The environment variable that sets another bound, in milliseconds.
pub(crate) const TIMEOUT_VAR: &str = "PM2_RS_ECOSYSTEM_TIMEOUT_MS";

/// How long node may evaluate a file: [`TIMEOUT_VAR`] from the CLI's environment, else
/// [`DEFAULT_TIMEOUT`].
fn timeout(label: &str, ctx: &ResolveContext) -> Result<Duration, EcosystemError> {
    let Some(value) = ctx.env.get(TIMEOUT_VAR) else {
        return Ok(DEFAULT_TIMEOUT);
    };
    match value.trim().parse::<u64>() {
        Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
        _ => Err(EcosystemError(format!(
            "{label}: {TIMEOUT_VAR}={value:?} is not a number of milliseconds above 0"
        ))),
    }
}

/// Makes the child die with the CLI (Ctrl-C, a kill of the CLI alone): a file that never
/// finishes must not outlive the command that evaluated it.
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = rustix::process::getpid();
    // SAFETY: the closure runs between fork and exec and only makes two system calls
    // (prctl and getppid), both async-signal-safe; it allocates nothing.
    unsafe {
        command.pre_exec(move || {
            rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))?;
            // The CLI may have died before the prctl: then nobody would kill us.
            if rustix::process::getppid() != Some(parent) {
                return Err(std::io::Error::other("the CLI is gone"));
            }
            Ok(())
        });
    }
}

/// The node that evaluates files for `ctx`, or an error telling the user what else works.
pub(crate) fn node_for(
    label: &str,
    ctx: &ResolveContext,
) -> Result<std::path::PathBuf, EcosystemError> {
    find_in_path("node", ctx.path_var()).ok_or_else(|| {
        EcosystemError(format!(
            "{label}: evaluating a JavaScript ecosystem file needs `node` on PATH; \
             use ecosystem.json or ecosystem.yaml instead"
        ))
    })
}

/// Runs `node <args>` in the CLI's directory and environment (PM2 evaluates files in the
/// CLI process, so `process.cwd()` and `process.env` are the shell's), with `stdin` on its
/// standard input. Returns the value printed after [`MARKER`]; else the loader's message on
/// stderr, prefixed with `label: ` unless it already names the file.
pub(crate) fn run_node(
    args: &[&OsStr],
    stdin: Option<&str>,
    label: &str,
    ctx: &ResolveContext,
) -> Result<Value, EcosystemError> {
    let node = node_for(label, ctx)?;
    let limit = timeout(label, ctx)?;
    let mut command = Command::new(node);
    die_with_parent(&mut command);
    let mut child = command
        .args(args)
        .current_dir(&ctx.cwd)
        .env_clear()
        .envs(&ctx.env)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| EcosystemError(format!("{label}: cannot run node: {e}")))?;
    let feeder = stdin.map(|text| feed(child.stdin.take(), text.to_string()));
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = wait_at_most(&mut child, limit).ok_or_else(|| {
        EcosystemError(format!(
            "{label}: evaluating the file took longer than {} ms, and was stopped \
             (set {TIMEOUT_VAR} to allow more)",
            limit.as_millis()
        ))
    })?;
    if let Some(f) = feeder {
        let _ = f.join();
    }
    let (out, overflow) = stdout.join().unwrap_or_default();
    if overflow {
        return Err(super::bounds::too_large(label, "node printed"));
    }
    let (err, _) = stderr.join().unwrap_or_default();
    match out.rfind(MARKER) {
        Some(at) if status.success() => serde_json::from_str(&out[at + MARKER.len()..])
            .map_err(|e| EcosystemError(format!("{label}: node printed invalid JSON: {e}"))),
        _ => {
            let msg = err.trim();
            Err(EcosystemError(if msg.is_empty() {
                format!("{label}: node exited with {status}")
            } else if msg.starts_with(&format!("{label}:")) {
                msg.to_string()
            } else {
                format!("{label}: {msg}")
            }))
        }
    }
}

/// The child's exit status, or `None` (with the child killed and reaped) when it runs
/// longer than `timeout` or cannot be waited for.
fn wait_at_most(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// Writes `text` to the child's stdin on its own thread and closes it, so a child that
/// prints before it reads never deadlocks against us.
fn feed<W: Write + Send + 'static>(pipe: Option<W>, text: String) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        if let Some(mut p) = pipe {
            let _ = p.write_all(text.as_bytes());
        }
    })
}

/// Reads a child pipe to the end on its own thread, so a full pipe never blocks the child.
/// Keeps at most [`super::bounds::MAX_FILE_BYTES`] of it (reading, and dropping, the rest:
/// a child that prints without end is bounded by the time limit, not by our memory); the
/// flag says whether some was dropped.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<(String, bool)> {
    std::thread::spawn(move || {
        let limit = super::bounds::MAX_FILE_BYTES as usize;
        let mut kept = Vec::new();
        let mut overflow = false;
        if let Some(mut p) = pipe {
            let mut chunk = [0u8; 64 * 1024];
            loop {
                let n = match p.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                };
                let room = limit.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..n.min(room)]);
                overflow |= n > room;
            }
        }
        (String::from_utf8_lossy(&kept).into_owned(), overflow)
    })
}
