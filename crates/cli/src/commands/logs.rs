//! `pm2 logs`, `pm2 flush`, `pm2 reloadLogs`.

use super::actions::report;
use super::connection::{connect, expect};
use crate::args::LogsArgs;
use crate::client::Client;
use crate::out;
use anyhow::{bail, Result};
use pm2_home::Pm2Home;
use pm2_logfmt::{
    json_process_event, tail_header, tail_lines, tailing_banner, LineKind, LogEvent, LogFlags,
    LogView, Mode, Rendered,
};
use pm2_proto::{
    FlushRequest, LogChunk, LogChunkKind, LogsRequest, ProcessInfo, Request, Response, Target,
};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

/// `pm2 flush [targets...]`: empties the files (and pm2.log when no target is given).
pub(crate) fn flush(home: &Pm2Home, words: &[String]) -> Result<i32> {
    let mut client = connect(home)?;
    let targets: Vec<Target> = words.iter().map(|w| Target::parse(w)).collect();
    let Response::Outcomes { outcomes } =
        expect(&mut client, Request::Flush(FlushRequest { targets }))?
    else {
        bail!("unexpected reply to flush");
    };
    if words.is_empty() {
        out::info(&format!("Flushing {}", home.daemon_log().display()));
    }
    for o in outcomes.iter().filter(|o| o.error.is_none()) {
        out::info(&format!("Flushing logs of [{}]({})", o.name, o.pm_id));
    }
    let failed: Vec<_> = outcomes.into_iter().filter(|o| o.error.is_some()).collect();
    let code = report(&failed);
    if code == 0 {
        out::info("Logs flushed");
    }
    Ok(code)
}

/// `pm2 reloadLogs`.
pub(crate) fn reload(home: &Pm2Home) -> Result<i32> {
    let mut client = connect(home)?;
    let Response::Outcomes { outcomes } = expect(&mut client, Request::ReloadLogs)? else {
        bail!("unexpected reply to reloadLogs");
    };
    out::info("Reloading all logs...");
    let failed: Vec<_> = outcomes.into_iter().filter(|o| o.error.is_some()).collect();
    let code = report(&failed);
    if code == 0 {
        out::info("All logs reloaded");
    }
    Ok(code)
}

/// Which files of an instance the tail step prints, oldest first as PM2 orders them.
fn tail_files(p: &ProcessInfo, args: &LogsArgs) -> Vec<(String, LineKind)> {
    let mut files = Vec::new();
    if !args.out {
        files.push((p.paths.err.clone(), LineKind::Err));
    }
    if !args.err && p.paths.out != p.paths.err {
        files.push((p.paths.out.clone(), LineKind::Out));
    }
    files.retain(|(path, _)| path != "/dev/null");
    files.sort_by_key(|(path, _)| {
        std::fs::metadata(path)
            .and_then(|m| m.modified())
            .unwrap_or(std::time::UNIX_EPOCH)
    });
    files
}

/// Writes to stdout, returning (not panicking on) a broken pipe, which `main` turns into
/// exit 0.
fn write_out(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

fn write_rendered(r: &Rendered) -> Result<()> {
    if !r.stdout.is_empty() {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(r.stdout.as_bytes())?;
        stdout.flush()?;
    }
    if !r.stderr.is_empty() {
        let mut stderr = std::io::stderr().lock();
        stderr.write_all(r.stderr.as_bytes())?;
    }
    Ok(())
}

/// The tail step: banner, then each file's last lines.
fn print_tail(
    home: &Pm2Home,
    procs: &[ProcessInfo],
    args: &LogsArgs,
    target: &str,
    view: &LogView,
) -> Result<()> {
    let color = out::color();
    let decorated = view.mode() != Mode::Raw;
    if decorated {
        write_out(&tailing_banner(args.lines, target, color))?;
    }
    if shows_daemon_log(target, args) {
        let path = home.daemon_log();
        if decorated {
            write_out(&tail_header(&path, args.lines, color))?;
        }
        for line in tail_lines(&path, args.lines).unwrap_or_default() {
            write_rendered(&view.render_tail_line(0, "PM2", LineKind::Pm2, &line))?;
        }
    }
    for p in procs {
        for (path, kind) in tail_files(p, args) {
            if decorated {
                write_out(&tail_header(Path::new(&path), args.lines, color))?;
            }
            for line in tail_lines(Path::new(&path), args.lines).unwrap_or_default() {
                write_rendered(&view.render_tail_line(p.pm_id, &p.spec.name, kind, &line))?;
            }
        }
    }
    Ok(())
}

/// PM2 includes `pm2.log` for `all` unless output is narrowed (`--raw`, `--out`, `--err`).
fn shows_daemon_log(target: &str, args: &LogsArgs) -> bool {
    target == "all" && !args.raw && !args.out && !args.err
}

/// Reassembles lines split across chunks, per instance and stream, so a line is never
/// printed in two pieces.
#[derive(Default)]
struct Lines {
    partial: HashMap<(Option<u32>, u8), String>,
}

impl Lines {
    /// Complete lines of `chunk` (with what was pending before), keeping the unfinished tail.
    fn push(&mut self, key: (Option<u32>, u8), chunk: &str) -> Option<String> {
        let pending = self.partial.entry(key).or_default();
        pending.push_str(chunk);
        let cut = pending.rfind('\n')? + 1;
        let rest = pending.split_off(cut);
        Some(std::mem::replace(pending, rest))
    }

    /// Whatever is pending for an instance (on its exit or stop).
    fn take(&mut self, pm_id: Option<u32>) -> Vec<(u8, String)> {
        let keys: Vec<_> = self
            .partial
            .keys()
            .filter(|(id, _)| *id == pm_id)
            .copied()
            .collect();
        keys.into_iter()
            .filter_map(|k| self.partial.remove(&k).map(|s| (k.1, s)))
            .filter(|(_, s)| !s.is_empty())
            .collect()
    }
}

fn line_kind(kind: LogChunkKind) -> LineKind {
    match kind {
        LogChunkKind::Err => LineKind::Err,
        LogChunkKind::Pm2 => LineKind::Pm2,
        _ => LineKind::Out,
    }
}

/// Streams until the daemon goes away (or the user hits Ctrl-C).
fn stream(
    client: &mut Client,
    request: LogsRequest,
    view: &mut LogView,
    args: &LogsArgs,
) -> Result<i32> {
    client.send(Request::Logs(request))?;
    let mut lines = Lines::default();
    loop {
        let Some(response) = client.next_frame()? else {
            return Ok(0);
        };
        match response {
            Response::Log(chunk) => render_chunk(&chunk, &mut lines, view, args)?,
            Response::LogsMissed { lines: missed } => {
                // The unfinished tails before the gap belong to lines the count includes.
                lines.partial.clear();
                out::warn(&format!(
                    "{missed} log lines were skipped here: this reader fell behind"
                ))
            }
            Response::Error { message } => bail!("{message}"),
            _ => {}
        }
    }
}

fn render_chunk(
    chunk: &LogChunk,
    lines: &mut Lines,
    view: &mut LogView,
    args: &LogsArgs,
) -> Result<()> {
    let wanted = match chunk.kind {
        LogChunkKind::Out => !args.err,
        LogChunkKind::Err => !args.out,
        LogChunkKind::Pm2 => true,
        LogChunkKind::Event | LogChunkKind::Message => false,
    };
    let now = chrono::Local::now();
    let at_ms = chunk.at as i64;
    let pm_id = chunk.pm_id.unwrap_or(0);
    if chunk.kind == LogChunkKind::Event {
        for (kind, rest) in lines.take(chunk.pm_id) {
            let kind = if kind == 1 {
                LogChunkKind::Err
            } else {
                LogChunkKind::Out
            };
            let ev = LogEvent {
                pm_id,
                name: &chunk.name,
                kind: line_kind(kind),
                data: &rest,
                at_ms,
            };
            write_rendered(&view.render(&ev, &now))?;
        }
        if view.mode() == Mode::Json {
            let at = chrono::DateTime::from_timestamp_millis(at_ms).unwrap_or_default();
            write_out(&format!(
                "{}\n",
                json_process_event(&chunk.data, &chunk.name, &at)
            ))?;
        }
        return Ok(());
    }
    if !wanted {
        return Ok(());
    }
    let key = (chunk.pm_id, u8::from(chunk.kind == LogChunkKind::Err));
    let Some(complete) = lines.push(key, &chunk.data) else {
        return Ok(());
    };
    let ev = LogEvent {
        pm_id,
        name: &chunk.name,
        kind: line_kind(chunk.kind),
        data: &complete,
        at_ms,
    };
    write_rendered(&view.render(&ev, &now))
}

/// Exit quietly on Ctrl-C: the stream has no state worth cleaning up.
fn exit_on_interrupt() {
    extern "C" fn on_sigint(_: libc::c_int) {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(0) }
    }
    // SAFETY: installing a handler that only calls _exit.
    unsafe {
        libc::signal(libc::SIGINT, on_sigint as *const () as libc::sighandler_t);
    }
}

/// `pm2 logs [target]`: the last lines of each file, then the live stream, PM2's way.
pub(crate) fn logs(home: &Pm2Home, args: LogsArgs) -> Result<i32> {
    exit_on_interrupt();
    let mut client = connect(home)?;
    let target = args.target.clone().unwrap_or_else(|| "all".to_string());
    let targets = if target == "all" {
        vec![]
    } else {
        vec![Target::parse(&target)]
    };
    let procs = select(&mut client, &target)?;
    let mut view = LogView::from_flags(&LogFlags {
        raw: args.raw,
        json: args.json,
        format: args.format,
        timestamp: args.timestamp.as_deref(),
        highlight: args.highlight.as_deref(),
        color: out::color(),
    });
    let tails = args.nostream || matches!(view.mode(), Mode::Plain | Mode::Raw);
    if tails && args.lines > 0 {
        print_tail(home, &procs, &args, &target, &view)?;
    }
    if args.nostream {
        return Ok(0);
    }
    let request = LogsRequest {
        targets,
        daemon: shows_daemon_log(&target, &args) || (target == "all" && args.raw),
    };
    stream(&mut client, request, &mut view, &args)
}

/// The instances a target names (every instance for `all`).
fn select(client: &mut Client, target: &str) -> Result<Vec<ProcessInfo>> {
    let all = super::views::fetch_list(client)?;
    if target == "all" {
        return Ok(all);
    }
    let ids = match expect(
        client,
        Request::Resolve(pm2_proto::ResolveRequest {
            targets: vec![Target::parse(target)],
        }),
    )? {
        Response::Ids { ids } => ids,
        other => bail!("unexpected reply to resolve: {other:?}"),
    };
    Ok(all.into_iter().filter(|p| ids.contains(&p.pm_id)).collect())
}
