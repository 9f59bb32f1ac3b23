//! One host's run: one `ssh` connection, the script on its stdin, its output relayed
//! line by line with the host as prefix, and the marker lines turned into the step
//! reached and the result.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How one host's run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every step succeeded.
    Ok,
    /// A step failed, with the reason (the script's message, or ssh's exit).
    Failed(String),
}

/// One host's line of the summary.
#[derive(Debug, Clone)]
pub struct HostReport {
    /// The host as configured.
    pub host: String,
    /// The last step the script announced (`connect` if none).
    pub step: String,
    /// Wall time of the host's run.
    pub elapsed: Duration,
    /// The result.
    pub outcome: Outcome,
    /// The remote exit code of `exec`, when it ran.
    pub exit_code: Option<i32>,
}

/// What the marker lines said.
#[derive(Default)]
struct Progress {
    step: Option<String>,
    failure: Option<String>,
    done: bool,
    exit_code: Option<i32>,
}

/// Runs `cmd` (ssh, stdio unset) with `script` on stdin; `prefix` starts each relayed
/// line and `marker` starts the script's own lines.
pub fn run(host: &str, mut cmd: Command, script: String, prefix: &str, marker: &str) -> HostReport {
    let started = Instant::now();
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let report = |step: String, outcome, exit_code| HostReport {
        host: host.to_string(),
        step,
        elapsed: started.elapsed(),
        outcome,
        exit_code,
    };
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            let why = if e.kind() == std::io::ErrorKind::NotFound {
                "ssh not found on PATH (install the OpenSSH client)".to_string()
            } else {
                format!("cannot run ssh: {e}")
            };
            return report("connect".into(), Outcome::Failed(why), None);
        }
    };
    let progress = relay(&mut child, script, prefix, marker);
    let status = child.wait();
    let step = progress.step.clone().unwrap_or_else(|| "connect".into());
    let code = status.ok().and_then(|s| s.code());
    let outcome = judge(&progress, code);
    report(step, outcome, progress.exit_code)
}

/// The result from the markers and ssh's exit code (255: ssh itself failed).
fn judge(p: &Progress, code: Option<i32>) -> Outcome {
    if let Some(failure) = &p.failure {
        return Outcome::Failed(failure.clone());
    }
    match (p.exit_code, code) {
        (Some(0), _) => return Outcome::Ok,
        (Some(rc), _) => return Outcome::Failed(format!("exit code {rc}")),
        _ => {}
    }
    match code {
        Some(0) if p.done => Outcome::Ok,
        Some(255) if p.step.is_none() => Outcome::Failed("ssh could not connect".into()),
        Some(c) => Outcome::Failed(format!("the remote side stopped (ssh exit code {c})")),
        None => Outcome::Failed("ssh was killed by a signal".into()),
    }
}

/// Feeds the script and relays both outputs until they close.
fn relay(child: &mut Child, script: String, prefix: &str, marker: &str) -> Progress {
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            if let Some(mut stdin) = stdin {
                // A host that closes early (ssh failed) makes this fail: the exit says why.
                let _ = stdin.write_all(script.as_bytes());
            }
        });
        scope.spawn(move || {
            if let Some(err) = stderr {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    let _ = writeln!(std::io::stderr().lock(), "{prefix}{line}");
                }
            }
        });
        let mut progress = Progress::default();
        if let Some(out) = stdout {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                match line.strip_prefix(marker).and_then(|l| l.strip_prefix(' ')) {
                    Some(event) => on_marker(event, &mut progress, prefix),
                    None => {
                        let _ = writeln!(std::io::stdout().lock(), "{prefix}{line}");
                    }
                }
            }
        }
        progress
    })
}

fn on_marker(event: &str, p: &mut Progress, prefix: &str) {
    let (kind, text) = event.split_once(' ').unwrap_or((event, ""));
    match kind {
        "step" => p.step = Some(text.to_string()),
        "say" => {
            let _ = writeln!(std::io::stdout().lock(), "{prefix}  ○ {text}");
        }
        "fail" => {
            let _ = writeln!(std::io::stderr().lock(), "{prefix}  {text}");
            p.failure = Some(text.to_string());
        }
        "done" => p.done = true,
        "exit" => p.exit_code = text.parse().ok(),
        _ => {}
    }
}
