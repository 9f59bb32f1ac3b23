//! One probe, bounded by the check's timeout: an HTTP `GET` written on a raw TCP
//! connection (the status line is all that is read: no HTTP client in the daemon), a TCP
//! connect, or a command run in the app's cwd and environment (exit 0 is healthy).

use pm2_proto::Probe;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Most of an HTTP reply read to find its status line.
const HEAD_LIMIT: usize = 1024;
/// Most of an exec check's stderr kept for the failure reason.
const STDERR_LIMIT: usize = 512;

/// Where and how an exec check runs: the app's own directory and variables.
#[derive(Debug, Clone)]
pub(crate) struct ExecContext {
    /// The app's working directory.
    pub cwd: String,
    /// The environment the app's process gets.
    pub env: Vec<(String, String)>,
}

/// Runs `probe` once; `Err` says why it failed, in words for `describe`.
pub(crate) async fn run(probe: &Probe, timeout: Duration, ctx: &ExecContext) -> Result<(), String> {
    let work = async {
        match probe {
            Probe::Http {
                host,
                port,
                path,
                status,
            } => http(host, *port, path, *status).await,
            Probe::Tcp { host, port } => connect(host, *port).await.map(drop),
            Probe::Exec { argv } => exec(argv, ctx, timeout).await,
        }
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
    }
}

async fn connect(host: &str, port: u16) -> Result<TcpStream, String> {
    TcpStream::connect((host, port))
        .await
        .map_err(|e| format!("tcp {host}:{port}: {e}"))
}

async fn http(host: &str, port: u16, path: &str, expected: Option<u16>) -> Result<(), String> {
    let mut stream = connect(host, port).await?;
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

async fn exec(argv: &[String], ctx: &ExecContext, timeout: Duration) -> Result<(), String> {
    let Some((program, args)) = argv.split_first() else {
        return Err("exec: empty command".into());
    };
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
