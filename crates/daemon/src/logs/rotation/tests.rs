use super::*;
use chrono::{TimeZone, Utc};
use pm2_home::logrotate::{format_date, RETAIN_ALL};
use std::fs::{self, File, FileTimes};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

/// A fresh directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("pm2-rotation-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    /// Creates `name` with `body`, modified `age_secs` seconds before a fixed instant.
    fn file(&self, name: &str, body: &[u8], age_secs: u64) -> PathBuf {
        let path = self.0.join(name);
        let mut f = File::create(&path).expect("create file");
        f.write_all(body).expect("write file");
        let when = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 - age_secs);
        f.set_times(FileTimes::new().set_modified(when))
            .expect("set mtime");
        path
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&self.0)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .expect("valid date")
}

#[test]
fn date_stamp_formats_in_the_configured_zone() {
    let now = utc(2024, 3, 9, 23, 5, 7);
    let mut cfg = RotateConfig {
        tz: Some("UTC".into()),
        ..RotateConfig::default()
    };
    assert_eq!(date_stamp(&cfg, now), "2024-03-09_23-05-07");
    cfg.tz = Some("Etc/GMT-2".into());
    assert_eq!(date_stamp(&cfg, now), "2024-03-10_01-05-07");
    cfg.tz = Some("Etc/GMT+1".into());
    assert_eq!(date_stamp(&cfg, now), "2024-03-09_22-05-07");
    cfg.tz = Some("+05:30".into());
    cfg.date_format = "[at] YYYYMMDD[T]HHmmss".into();
    assert_eq!(date_stamp(&cfg, now), "at 20240310T043507");
    let local = RotateConfig::default();
    let expected = format_date(&local.date_format, &now.with_timezone(&chrono::Local));
    assert_eq!(date_stamp(&local, now), expected);
}

#[test]
fn rotated_path_strips_dot_log_and_stays_unique() {
    let dir = TempDir::new();
    let live = dir.0.join("api-out.log");
    let stamp = "2024-05-01_00-00-00";
    let first = rotated_path(&live, stamp);
    assert_eq!(first, dir.0.join("api-out__2024-05-01_00-00-00.log"));
    fs::write(&first, "x").expect("write");
    let second = rotated_path(&live, stamp);
    assert_eq!(second, dir.0.join("api-out__2024-05-01_00-00-00_1.log"));
    fs::write(dir.0.join("api-out__2024-05-01_00-00-00_1.log.gz"), "x").expect("write");
    assert_eq!(
        rotated_path(&live, stamp),
        dir.0.join("api-out__2024-05-01_00-00-00_2.log")
    );
    assert_eq!(
        rotated_path(&dir.0.join("app.txt"), stamp),
        dir.0.join("app.txt__2024-05-01_00-00-00.log")
    );
    assert_eq!(
        rotated_path(Path::new("bare.log"), "s"),
        Path::new("./bare__s.log")
    );
}

#[test]
fn prune_keeps_the_newest_and_only_its_own_files() {
    let dir = TempDir::new();
    let live = dir.file("api-out.log", b"live", 0);
    let own = [
        ("api-out__2024-01-01_00-00-00.log.gz", 50),
        ("api-out__2024-01-02_00-00-00.log.gz", 40),
        ("api-out__2024-01-03_00-00-00.log", 30),
        ("api-out__2024-01-04_00-00-00.log", 20),
    ];
    for (name, age) in own {
        dir.file(name, b"old", age);
    }
    let foreign = [
        "api__2023-01-01_00-00-00.log",
        "myapi-out__2023-01-01_00-00-00.log",
        "api-out2__2023-01-01_00-00-00.log",
        "api-out-error__2023-01-01_00-00-00.log",
        "api-out__2023-01-01_00-00-00.log.gz.tmp",
        "api-out__notes.txt",
    ];
    for name in foreign {
        dir.file(name, b"other", 1000);
    }
    fs::create_dir(dir.0.join("api-out__dir.log")).expect("mkdir");
    let removed = prune(&live, 2).expect("prune");
    assert_eq!(removed, vec![dir.0.join(own[0].0), dir.0.join(own[1].0)]);
    let names = dir.names();
    for name in foreign
        .iter()
        .chain(&[own[2].0, own[3].0, "api-out.log", "api-out__dir.log"])
    {
        assert!(
            names.iter().any(|n| n == name),
            "{name} missing from {names:?}"
        );
    }
    assert_eq!(prune(&live, 2).expect("prune again"), Vec::<PathBuf>::new());
    assert_eq!(
        prune(&live, RETAIN_ALL).expect("keep all"),
        Vec::<PathBuf>::new()
    );
    assert_eq!(prune(&live, 0).expect("keep none").len(), 2);
    assert!(dir.0.join("api-out.log").exists());
}

#[test]
fn prune_breaks_mtime_ties_by_name_with_numbers_by_value() {
    let dir = TempDir::new();
    let live = dir.0.join("app.log");
    for name in [
        "app__s_10.log",
        "app__s.log",
        "app__s_2.log",
        "app__s_1.log.gz",
    ] {
        dir.file(name, b"x", 5);
    }
    let removed = prune(&live, 1).expect("prune");
    let names: Vec<_> = removed
        .iter()
        .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["app__s.log", "app__s_1.log.gz", "app__s_2.log"]);
    assert_eq!(dir.names(), ["app__s_10.log"]);
}

fn gunzip(path: &Path) -> Option<Vec<u8>> {
    let out = std::process::Command::new("gzip")
        .arg("-dc")
        .arg(path)
        .output()
        .ok()?;
    assert!(out.status.success(), "gzip -dc failed: {out:?}");
    Some(out.stdout)
}

fn sample_log(len: usize) -> Vec<u8> {
    let mut data = Vec::with_capacity(len + 100);
    let mut seed = 0x2545_f491_u32;
    let mut line = 0;
    while data.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        line += 1;
        let noise: String = (0..(seed % 40))
            .map(|i| (b'a' + ((seed >> (i % 24)) % 26) as u8) as char)
            .collect();
        data.extend_from_slice(
            format!(
                "2024-05-01T00:00:{:02} GET /api/v1/items/{seed} 200 {noise} line={line}\n",
                line % 60
            )
            .as_bytes(),
        );
    }
    data.truncate(len);
    data
}

#[test]
fn compress_writes_a_valid_gzip_and_removes_the_original() {
    let dir = TempDir::new();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty__s.log", Vec::new()),
        ("tiny__s.log", b"a".to_vec()),
        ("runs__s.log", vec![b'z'; 300_000]),
        ("text__s.log", sample_log(700_000)),
        (
            "binary__s.log",
            (0..200_000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
        ),
    ];
    for (name, body) in cases {
        let path = dir.file(name, &body, 100);
        let mtime = fs::metadata(&path)
            .and_then(|m| m.modified())
            .expect("mtime");
        let gz = compress(&path).expect("compress");
        assert_eq!(gz, dir.0.join(format!("{name}.gz")));
        assert!(!path.exists(), "original kept for {name}");
        assert!(!dir.0.join(format!("{name}.gz.tmp")).exists());
        assert_eq!(
            fs::metadata(&gz).and_then(|m| m.modified()).ok(),
            Some(mtime)
        );
        let packed = fs::metadata(&gz).expect("gz metadata").len();
        if name == "text__s.log" {
            assert!(packed * 3 < body.len() as u64, "poor ratio: {packed}");
        }
        match gunzip(&gz) {
            Some(plain) => assert!(plain == body, "round trip of {name} differs"),
            None => eprintln!("gzip not installed: round trip of {name} not checked"),
        }
    }
    assert!(compress(&dir.0.join("missing.log")).is_err());
    assert_eq!(dir.names().len(), 5);
}

#[test]
fn due_by_size_needs_a_non_empty_file_at_the_limit() {
    let cfg = RotateConfig {
        max_size: 100,
        ..RotateConfig::default()
    };
    assert!(!due_by_size(99, &cfg));
    assert!(due_by_size(100, &cfg));
    assert!(due_by_size(1000, &cfg));
    let zero = RotateConfig {
        max_size: 0,
        ..RotateConfig::default()
    };
    assert!(!due_by_size(0, &zero));
    assert!(due_by_size(1, &zero));
}
