//! Names of rotated files, their date stamp, and pruning the oldest ones.

use chrono::{DateTime, Local, Utc};
use pm2_home::logrotate::{format_date, resolve_tz, RotateConfig};
use std::cmp::Ordering;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The date part of a rotated name: `now` formatted with `cfg.date_format` in `cfg.tz`
/// (local time when unset or not resolvable, as `pm2-logrotate` falls back).
///
/// Knows the moment tokens `YYYY MM DD HH mm ss` and `[literal]` escapes; any other
/// character is copied as is (`from_module_conf` rejects formats using other tokens).
pub fn date_stamp(cfg: &RotateConfig, now: DateTime<Utc>) -> String {
    match cfg.tz.as_deref().and_then(resolve_tz) {
        Some(offset) => format_date(&cfg.date_format, &now.with_timezone(&offset)),
        None => format_date(&cfg.date_format, &now.with_timezone(&Local)),
    }
}

/// The path a live file is renamed to: `<dir>/<base>__<stamp>.log`, where `<base>` is the
/// live file's name minus a trailing `.log` (the whole name when it has another extension;
/// `pm2-logrotate` blindly cuts 4 characters).
///
/// The name is unique: when `<base>__<stamp>.log` or its `.gz` already exists (two
/// rotations within the same second of the stamp), `_1`, `_2`, ... is appended to the
/// stamp (`app__2024-05-01_00-00-00_1.log`), so a rename never overwrites an earlier
/// rotation. The check and the rename are not atomic: only one rotation of a given live
/// file may run at a time (the daemon serialises them).
pub fn rotated_path(live: &Path, stamp: &str) -> PathBuf {
    let base = base_name(live);
    let candidate = |suffix: &str| {
        let mut name = base.clone();
        name.extend_from_slice(b"__");
        name.extend_from_slice(stamp.as_bytes());
        name.extend_from_slice(suffix.as_bytes());
        name.extend_from_slice(b".log");
        dir_of(live).join(OsString::from_vec(name))
    };
    let taken = |p: &Path| exists(p) || exists(&gz_path(p));
    let first = candidate("");
    if !taken(&first) {
        return first;
    }
    (1u64..)
        .map(|n| candidate(&format!("_{n}")))
        .find(|p| !taken(p))
        .expect("some numeric suffix is free")
}

/// Deletes the oldest rotated files of `live` beyond the `retain` newest, returning them.
///
/// Rotated files are the regular files of the live file's directory named
/// `<base>__<anything>.log` or `<base>__<anything>.log.gz` (the live file itself excluded):
/// compressed or not, they count alike. Unlike `pm2-logrotate`, which matches `<base>__`
/// anywhere in the name (so `api-out.log` would also claim `myapi-out__*`), the name must
/// start with it: `api-out.log` never touches `api__x.log`, and `app.log` never `app2__x.log`.
/// Oldest means earliest modification time (the time of the last line written before the
/// rotation; [`compress`](super::compress) keeps it), ties broken by name, numbers in names
/// compared by value (`_2` before `_10`). `pm2-logrotate` sorts names only, which is the
/// same order for its default date format.
pub fn prune(live: &Path, retain: usize) -> io::Result<Vec<PathBuf>> {
    let mut rotated = rotated_files(live)?;
    if rotated.len() <= retain {
        return Ok(Vec::new());
    }
    rotated.sort_by(|a, b| {
        a.mtime
            .cmp(&b.mtime)
            .then_with(|| natural_cmp(&a.stem, &b.stem))
    });
    let excess = rotated.len() - retain;
    let mut removed = Vec::with_capacity(excess);
    for file in rotated.into_iter().take(excess) {
        match fs::remove_file(&file.path) {
            Ok(()) => removed.push(file.path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(removed)
}

struct Rotated {
    path: PathBuf,
    mtime: SystemTime,
    /// The name minus `.log` / `.log.gz`.
    stem: Vec<u8>,
}

fn rotated_files(live: &Path) -> io::Result<Vec<Rotated>> {
    let mut prefix = base_name(live);
    prefix.extend_from_slice(b"__");
    let mut found = Vec::new();
    for entry in fs::read_dir(dir_of(live))? {
        let entry = entry?;
        let name = entry.file_name();
        let bytes = name.as_bytes();
        let stem = bytes
            .strip_suffix(b".log.gz")
            .or_else(|| bytes.strip_suffix(b".log"));
        let Some(stem) = stem.filter(|s| s.starts_with(&prefix)) else {
            continue;
        };
        let meta = match entry.metadata() {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        if !meta.is_file() || Some(name.as_os_str()) == live.file_name() {
            continue;
        }
        found.push(Rotated {
            path: entry.path(),
            mtime: meta.modified()?,
            stem: stem.to_vec(),
        });
    }
    Ok(found)
}

/// Compares byte strings, runs of ASCII digits by numeric value.
fn natural_cmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].is_ascii_digit() && b[j].is_ascii_digit() {
            let (ea, eb) = (digit_run_end(a, i), digit_run_end(b, j));
            let (na, nb) = (trim_zeros(&a[i..ea]), trim_zeros(&b[j..eb]));
            let order = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
            if order != Ordering::Equal {
                return order;
            }
            (i, j) = (ea, eb);
        } else {
            if a[i] != b[j] {
                return a[i].cmp(&b[j]);
            }
            (i, j) = (i + 1, j + 1);
        }
    }
    (a.len() - i).cmp(&(b.len() - j))
}

fn digit_run_end(s: &[u8], from: usize) -> usize {
    s[from..]
        .iter()
        .position(|c| !c.is_ascii_digit())
        .map_or(s.len(), |n| from + n)
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let start = digits
        .iter()
        .position(|&c| c != b'0')
        .unwrap_or(digits.len());
    &digits[start..]
}

/// The live file's name minus a trailing `.log`.
fn base_name(live: &Path) -> Vec<u8> {
    let name = live.file_name().unwrap_or(OsStr::new("")).as_bytes();
    name.strip_suffix(b".log").unwrap_or(name).to_vec()
}

fn dir_of(live: &Path) -> &Path {
    match live.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// `path` with `.gz` appended.
pub(super) fn gz_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".gz");
    PathBuf::from(name)
}

fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}
