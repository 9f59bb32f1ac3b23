//! `pm2 profile:cpu|profile:mem <app|id> [time]`: records a profile of each selected
//! instance over its inspector, all at once, one file each in the CLI's folder, with
//! PM2's lines (`Starting profileCPU profiling for 10000ms...`, `Profile done in <file>`).

use super::failure::open_failure;
use super::open::{open, still_open_note};
use super::select::{instances, label};
use crate::commands::usage::UsageError;
use crate::out;
use anyhow::{Context, Result};
use pm2_home::Pm2Home;
use pm2_inspector::{Inspector, Kind, Session};
use pm2_proto::ProcessInfo;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// PM2's default profiling time.
const DEFAULT_MS: u64 = 10_000;

/// The longest profile taken: a longer one is more likely a typo than a wish.
const MAX_MS: u64 = 3_600_000;

/// How long connecting to an open inspector may take.
const CONNECT: Duration = Duration::from_secs(5);

/// Profiles every instance `target` names for `time` ms; exit 1 if any failed.
pub(super) fn profile(
    home: &Pm2Home,
    kind: Kind,
    target: Option<&str>,
    time: Option<&str>,
) -> Result<i32> {
    let command = format!("profile:{}", if kind == Kind::Cpu { "cpu" } else { "mem" });
    let Some(word) = target else {
        return Err(UsageError(format!(
            "{command} needs an app: pm2 {command} <app|id> [time] (PM2 7 profiled its own \
             daemon; pm2-rs's daemon is not Node, so it profiles an app's Node process)"
        ))
        .into());
    };
    let ms = duration_ms(time, &command)?;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let selection = instances(home, word).map_err(|e| match word.parse::<u64>() {
        // `pm2 profile:cpu 5000` profiled PM2 7's daemon for 5 s.
        Ok(_) if time.is_none() => e.context(format!(
            "pm2-rs profiles an app: pm2 {command} <app|id> [time] (PM2 7's `{command} \
             {word}` profiled its own daemon, which in pm2-rs is not Node)"
        )),
        _ => e,
    })?;
    let (opened, refused) = open_all(home, selection.ready, &selection.everyone);
    if opened.is_empty() {
        return Ok(1);
    }
    out::line(&format!(
        "Starting {} profiling for {ms}ms...",
        kind.action()
    ))?;
    let results = record_all(&opened, kind, Duration::from_millis(ms), &cwd);
    let mut failed = selection.refused || refused;
    for ((p, inspector), result) in opened.iter().zip(results) {
        match result {
            Ok(file) => out::line(&format!("Profile done in {}", file.display()))?,
            Err(e) => {
                out::error(&format!("profiling {} failed: {e:#}", label(p)));
                failed = true;
            }
        }
        out::info(&still_open_note(p, inspector));
    }
    Ok(i32::from(failed))
}

/// The inspectors of `ready`, opened; whether some could not be (each reported).
fn open_all(
    home: &Pm2Home,
    ready: Vec<(ProcessInfo, u32)>,
    everyone: &[ProcessInfo],
) -> (Vec<(ProcessInfo, Inspector)>, bool) {
    let mut failed = false;
    let mut opened = Vec::new();
    for (p, pid) in ready {
        match open(home, &p, pid) {
            Ok(inspector) => opened.push((p, inspector)),
            Err(e) => {
                out::error(&open_failure(&p, &e, everyone));
                failed = true;
            }
        }
    }
    (opened, failed)
}

/// Profiles every opened instance at once (one thread each, so the span is the same for
/// all and the command takes it once), each to its own file in `dir`.
fn record_all(
    opened: &[(ProcessInfo, Inspector)],
    kind: Kind,
    span: Duration,
    dir: &Path,
) -> Vec<Result<PathBuf>> {
    let stamp = stamp();
    std::thread::scope(|scope| {
        let jobs: Vec<_> = opened
            .iter()
            .map(|(p, inspector)| {
                let stamp = &stamp;
                scope.spawn(move || record_to_file(p, inspector, kind, span, dir, stamp))
            })
            .collect();
        jobs.into_iter()
            .map(|j| {
                j.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("the profiling thread panicked")))
            })
            .collect()
    })
}

/// `[time]` in ms: PM2's default when absent, a usage error when not a number in range.
fn duration_ms(time: Option<&str>, command: &str) -> Result<u64> {
    let Some(text) = time else {
        return Ok(DEFAULT_MS);
    };
    match text.parse::<u64>() {
        Ok(ms) if ms <= MAX_MS => Ok(ms),
        _ => Err(UsageError(format!(
            "{command}: the time is in milliseconds, from 0 to {MAX_MS} (got \"{text}\")"
        ))
        .into()),
    }
}

/// One instance's profile, written to a new file in `dir`.
fn record_to_file(
    p: &ProcessInfo,
    inspector: &Inspector,
    kind: Kind,
    span: Duration,
    dir: &Path,
    stamp: &str,
) -> Result<PathBuf> {
    let url = &inspector.target.web_socket_debugger_url;
    let mut session = Session::connect(inspector.addr, url, CONNECT)?;
    let profile = pm2_inspector::record(&mut session, kind, span);
    session.close();
    let bytes = serde_json::to_vec(&profile?).context("cannot serialise the profile")?;
    let stem = format!("{}-{}-{stamp}", file_safe(&p.spec.name), p.pm_id);
    write_new(dir, &stem, kind.extension(), &bytes)
}

/// PM2's `dd-HH:mm:ss` (dayjs: a two-letter weekday, local time), e.g. `We-18:45:45`.
fn stamp() -> String {
    let now = chrono::Local::now();
    let day: String = now.format("%a").to_string().chars().take(2).collect();
    format!("{day}-{}", now.format("%H:%M:%S"))
}

/// An app name as part of a file name: a `/` or a control character would change the
/// folder or trouble a terminal.
fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| if c == '/' || c.is_control() { '_' } else { c })
        .collect()
}

/// Writes `bytes` to `dir/stem.ext`, or `stem-2.ext`, ... when that file exists (two
/// profiles in the same second never overwrite each other or a user's file).
fn write_new(dir: &Path, stem: &str, ext: &str, bytes: &[u8]) -> Result<PathBuf> {
    use std::io::Write;
    for n in 1..=100 {
        let name = match n {
            1 => format!("{stem}.{ext}"),
            n => format!("{stem}-{n}.{ext}"),
        };
        let path = dir.join(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut file) => {
                file.write_all(bytes)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
        }
    }
    anyhow::bail!("{}: 100 profiles named {stem} already", dir.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_is_milliseconds_with_pm2s_default() {
        assert_eq!(duration_ms(None, "profile:cpu").unwrap(), 10_000);
        assert_eq!(duration_ms(Some("2500"), "profile:cpu").unwrap(), 2500);
        for bad in ["app", "-1", "1.5", "99999999999"] {
            let e = duration_ms(Some(bad), "profile:cpu").unwrap_err();
            assert!(e.to_string().contains(bad), "{e}");
        }
    }

    #[test]
    fn the_stamp_has_pm2s_shape() {
        let s = stamp();
        let (day, time) = s.split_at(2);
        assert!(
            ["Su", "Mo", "Tu", "We", "Th", "Fr", "Sa"].contains(&day),
            "{s}"
        );
        assert_eq!(time.len(), 9, "{s}");
        assert_eq!(file_safe("a/b\nc"), "a_b_c");
    }

    #[test]
    fn an_existing_file_is_never_overwritten() {
        let dir = std::env::temp_dir().join(format!("pm2rs-profile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = write_new(&dir, "x", "cpuprofile", b"1").unwrap();
        let b = write_new(&dir, "x", "cpuprofile", b"2").unwrap();
        assert_ne!(a, b);
        assert_eq!(std::fs::read(&a).unwrap(), b"1");
        assert!(b.ends_with("x-2.cpuprofile"), "{}", b.display());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
