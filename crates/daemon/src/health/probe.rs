//! One probe, bounded by the check's timeout: an HTTP `GET` written on a raw TCP
//! connection (the status line is all that is read: no HTTP client in the daemon), a TCP
//! connect, or a command run in the app's cwd and environment (exit 0 is healthy).
//!
//! A round-robin cluster worker shares its port with the app's other workers, so a
//! connection to the port could reach any of them: its probe connection is made on
//! loopback by the daemon and handed to that worker by the primary (`PrimaryCmd::Probe`).

use pm2_cluster::primary::{Primary, PrimaryCmd};
use pm2_proto::Probe;
use std::os::fd::OwnedFd;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Most of an HTTP reply read to find its status line.
const HEAD_LIMIT: usize = 1024;
/// Most of an exec check's stderr kept for the failure reason.
const STDERR_LIMIT: usize = 512;

/// Where a probe goes and how an exec check runs (the app's own directory and variables).
#[derive(Clone)]
pub(crate) struct ProbeContext {
    /// The app's working directory.
    pub cwd: String,
    /// The environment the app's process gets.
    pub env: Vec<(String, String)>,
    /// For a round-robin cluster worker: the primary and the worker's id.
    pub worker: Option<(Primary, u32)>,
    /// The app's user and groups (`uid`/`gid`), which an `exec` check runs as too.
    pub run_as: Option<pm2_supervisor::Credentials>,
}

/// Runs `probe` once; `Err` says why it failed, in words for `describe`.
pub(crate) async fn run(
    probe: &Probe,
    timeout: Duration,
    ctx: &ProbeContext,
) -> Result<(), String> {
    let work = async {
        match probe {
            Probe::Http {
                host,
                port,
                path,
                status,
            } => http(host, *port, path, *status, ctx).await,
            Probe::Tcp { host, port } => connect(host, *port, ctx).await.map(drop),
            Probe::Exec { argv } => exec(argv, ctx, timeout).await,
        }
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
    }
}

async fn connect(host: &str, port: u16, ctx: &ProbeContext) -> Result<TcpStream, String> {
    if let Some((primary, worker)) = &ctx.worker {
        return to_worker(primary, *worker, port).await;
    }
    TcpStream::connect((host, port))
        .await
        .map_err(|e| format!("tcp {host}:{port}: {e}"))
}

/// A loopback connection whose server end the primary hands to `worker` as accepted on
/// its listener on `port`.
async fn to_worker(primary: &Primary, worker: u32, port: u16) -> Result<TcpStream, String> {
    let failed = |e: std::io::Error| format!("tcp port {port} (worker {worker}): {e}");
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.map_err(failed)?;
    let addr = listener.local_addr().map_err(failed)?;
    let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let client = client.map_err(failed)?;
    let server = accepted.map_err(failed)?.0.into_std().map_err(failed)?;
    let (reply, handed) = tokio::sync::oneshot::channel();
    let conn = OwnedFd::from(server);
    primary
        .send(PrimaryCmd::Probe {
            worker,
            port,
            conn,
            reply,
        })
        .await;
    if handed.await.unwrap_or(false) {
        Ok(client)
    } else {
        Err(format!(
            "tcp port {port}: this worker does not listen on it yet"
        ))
    }
}

async fn http(
    host: &str,
    port: u16,
    path: &str,
    expected: Option<u16>,
    ctx: &ProbeContext,
) -> Result<(), String> {
    let mut stream = connect(host, port, ctx).await?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: pm2-rs-health\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("http {host}:{port}{path}: {e}"))?;
    let mut head = Vec::with_capacity(256);
    let mut buf = [0u8; 256];
    while !head.windows(2).any(|w| w == b"\r\n") && head.len() < HEAD_LIMIT {
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| format!("http {host}:{port}{path}: {e}"))?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let got = status_of(&head)
        .ok_or_else(|| format!("http {host}:{port}{path}: no HTTP status line in the reply"))?;
    let ok = match expected {
        Some(want) => got == want,
        None => (200..300).contains(&got),
    };
    if ok {
        return Ok(());
    }
    let want = expected.map_or("2xx".to_string(), |w| w.to_string());
    Err(format!(
        "http {host}:{port}{path}: status {got}, expected {want}"
    ))
}

/// The status of `HTTP/1.x NNN ...`.
fn status_of(head: &[u8]) -> Option<u16> {
    let line = head.split(|b| *b == b'\n').next()?;
    let text = std::str::from_utf8(line).ok()?;
    let mut words = text.split_whitespace();
    words.next().filter(|v| v.starts_with("HTTP/"))?;
    words.next()?.parse().ok()
}

/// The check's command: the app's cwd, environment and user, its own process group, no
/// stdin or stdout, stderr kept for the reason.
fn check_command(program: &str, args: &[String], ctx: &ProbeContext) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .current_dir(&ctx.cwd)
        .env_clear()
        .envs(ctx.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if let Some(credentials) = ctx.run_as.clone() {
        // SAFETY: `assume` makes only async-signal-safe syscalls (setgroups, setgid,
        // setuid) on values resolved before the fork.
        unsafe { cmd.pre_exec(move || credentials.assume()) };
    }
    cmd
}

async fn exec(argv: &[String], ctx: &ProbeContext, timeout: Duration) -> Result<(), String> {
    let Some((program, args)) = argv.split_first() else {
        return Err("exec: empty command".into());
    };
    let mut cmd = check_command(program, args, ctx);
    let mut child = cmd.spawn().map_err(|e| format!("exec {program}: {e}"))?;
    let pgid = child.id();
    let mut stderr = child.stderr.take();
    let finished = async {
        let mut kept = Vec::new();
        if let Some(err) = stderr.as_mut() {
            let _ = err.take(STDERR_LIMIT as u64).read_to_end(&mut kept).await;
        }
        (child.wait().await, kept)
    };
    // The caller's timeout cancels this future: end the check's whole group then, a
    // little before, so no probe outlives its deadline.
    let bounded = tokio::time::timeout(timeout.saturating_sub(Duration::from_millis(10)), finished);
    let Ok((status, kept)) = bounded.await else {
        if let Some(pgid) = pgid.and_then(|p| i32::try_from(p).ok()) {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pgid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        return Err(format!(
            "exec {program}: no exit within {} ms",
            timeout.as_millis()
        ));
    };
    let status = status.map_err(|e| format!("exec {program}: {e}"))?;
    if status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&kept);
    let last = said
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let how = match status.code() {
        Some(code) => format!("exit code {code}"),
        None => "killed by a signal".to_string(),
    };
    if last.is_empty() {
        Err(format!("exec {program}: {how}"))
    } else {
        Err(format!("exec {program}: {how}: {last}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_parse() {
        assert_eq!(status_of(b"HTTP/1.1 204 No Content\r\n"), Some(204));
        assert_eq!(status_of(b"HTTP/1.0 500\r\n"), Some(500));
        assert_eq!(status_of(b"SSH-2.0\r\n"), None);
        assert_eq!(status_of(b""), None);
    }
}
