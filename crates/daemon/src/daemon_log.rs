//! The daemon's own log, `pm2.log`, in PM2's line format (`<local time>: PM2 log: <msg>`).

use std::fmt;
use std::path::Path;
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

/// Installs the global subscriber writing to `pm2.log` (append). `PM2_RS_LOG=debug` raises
/// verbosity. Safe to call once per process; later calls are ignored.
pub fn init(path: &Path) -> std::io::Result<()> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let level = match std::env::var("PM2_RS_LOG").as_deref() {
        Ok("debug") => tracing::Level::DEBUG,
        Ok("trace") => tracing::Level::TRACE,
        _ => tracing::Level::INFO,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .event_format(Pm2LogFormat)
        .try_init();
    Ok(())
}
