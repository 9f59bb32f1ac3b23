//! The daemon's own log, `pm2.log`, in PM2's line format (`<local time>: PM2 log: <msg>`).

use super::hub::{LogEvent, LogHub, LogKind};
use pm2_home::now_ms;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// PM2's `pm2.log` line: `2026-11-21T05:27:00: PM2 log: App [api:1] online`.
struct Pm2LogFormat;

impl<S, N> FormatEvent<S, N> for Pm2LogFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let now = chrono::Local::now().format("%Y-%m-%dT%H:%M:%S");
        let level = *event.metadata().level();
        let tag = if level <= tracing::Level::WARN {
            "PM2 error"
        } else {
            "PM2 log"
        };
        write!(writer, "{now}: {tag}: ")?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// The open `pm2.log`, reopenable, and the hub that live readers listen on.
struct DaemonLog {
    path: PathBuf,
    file: Mutex<File>,
    hub: OnceLock<LogHub>,
}

static DAEMON_LOG: OnceLock<DaemonLog> = OnceLock::new();

fn open(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// The writer tracing formats each event into: one `write` per event.
struct Pm2LogWriter;

impl Write for Pm2LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let Some(log) = DAEMON_LOG.get() else {
            return Ok(buf.len());
        };
        log.file
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .write_all(buf)?;
        if let Some(hub) = log.hub.get() {
            hub.publish_with(|| LogEvent {
                pm_id: None,
                name: Arc::from("PM2"),
                namespace: Arc::from(""),
                kind: LogKind::Pm2,
                data: Arc::from(buf),
                at: now_ms(),
                exit: None,
            });
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the global subscriber writing to `pm2.log` (append). `PM2_RS_LOG=debug` raises
/// verbosity. Only the first call in a process takes effect.
pub fn init(path: &Path) -> std::io::Result<()> {
    let file = open(path)?;
    let _ = DAEMON_LOG.set(DaemonLog {
        path: path.to_path_buf(),
        file: Mutex::new(file),
        hub: OnceLock::new(),
    });
    let level = match std::env::var("PM2_RS_LOG").as_deref() {
        Ok("debug") => tracing::Level::DEBUG,
        Ok("trace") => tracing::Level::TRACE,
        _ => tracing::Level::INFO,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(|| Pm2LogWriter)
        .with_ansi(false)
        .event_format(Pm2LogFormat)
        .try_init();
    Ok(())
}

/// Lets `pm2 logs` readers see the daemon's lines.
pub fn attach_hub(hub: &LogHub) {
    if let Some(log) = DAEMON_LOG.get() {
        let _ = log.hub.set(hub.clone());
    }
}

/// Reopens `pm2.log` (`reloadLogs`, SIGUSR2, rotation).
pub fn reopen() {
    if let Some(log) = DAEMON_LOG.get() {
        if let Ok(fresh) = open(&log.path) {
            *log.file.lock().unwrap_or_else(|p| p.into_inner()) = fresh;
        }
    }
}

/// Renames `pm2.log` to `to` and reopens a fresh one, under the writer's lock so that no
/// line is lost or written twice (rotation).
pub fn rotate_to(to: &Path) -> std::io::Result<()> {
    let Some(log) = DAEMON_LOG.get() else {
        return Ok(());
    };
    let mut file = log.file.lock().unwrap_or_else(|p| p.into_inner());
    std::fs::rename(&log.path, to)?;
    *file = open(&log.path)?;
    Ok(())
}

/// Truncates `pm2.log` (`pm2 flush` without a target).
pub fn truncate(path: &Path) {
    let _ = OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|f| f.set_len(0));
}
