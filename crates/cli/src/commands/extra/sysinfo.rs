//! `pm2 slist|sysinfos [--tree]`: the host's metrics in PM2 7's shape (`{'<Name>': {value,
//! type, unit, historic}}`), printed through Node's inspector as PM2 prints them.
//!
//! PM2 7's daemon samples them every 30 s; here the CLI reads `/proc` and `/sys` itself,
//! twice, [`WINDOW`] apart (rates need two readings), so the daemon does no work for it.
//! Linux only, as the rest of pm2-rs; a file that cannot be read leaves its keys out.

use crate::render::prettylist;
use anyhow::Result;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Time between the two readings the rates come from.
const WINDOW: Duration = Duration::from_millis(500);

/// The cumulative counters read at one instant.
struct Reading {
    at: Instant,
    /// (busy, total) jiffies of all CPUs.
    cpu: Option<(u64, u64)>,
    /// Per interface: rx bytes, tx bytes, rx errors, tx errors, rx drops, tx drops.
    net: BTreeMap<String, [u64; 6]>,
    /// Bytes read and written by the block devices.
    disk: Option<(u64, u64)>,
}

fn read_counters() -> Reading {
    Reading {
        at: Instant::now(),
        cpu: cpu_jiffies(),
        net: net_counters(),
        disk: disk_bytes(),
    }
}

fn cpu_jiffies() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let f: Vec<u64> = line
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: u64 = f.iter().take(8).sum();
    let idle = f.get(3)? + f.get(4).unwrap_or(&0);
    Some((total - idle, total))
}

fn net_counters() -> BTreeMap<String, [u64; 6]> {
    let text = std::fs::read_to_string("/proc/net/dev").unwrap_or_default();
    let mut out = BTreeMap::new();
    for line in text.lines().skip(2) {
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        let f: Vec<u64> = rest
            .split_whitespace()
            .filter_map(|v| v.parse().ok())
            .collect();
        if f.len() >= 12 {
            out.insert(
                name.trim().to_string(),
                [f[0], f[8], f[2], f[10], f[3], f[11]],
            );
        }
    }
    out
}

/// Sectors (512 bytes) read and written by real block devices (no loop, ram, dm or fd).
fn disk_bytes() -> Option<(u64, u64)> {
    let mut total = (0, 0);
    for entry in std::fs::read_dir("/sys/block").ok()?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if ["loop", "ram", "dm-", "fd"]
            .iter()
            .any(|p| name.starts_with(p))
        {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let f: Vec<u64> = stat
            .split_whitespace()
            .filter_map(|v| v.parse().ok())
            .collect();
        if f.len() > 6 {
            total.0 += f[2] * 512;
            total.1 += f[6] * 512;
        }
    }
    Some(total)
}

/// `/proc/meminfo` values in bytes: total, available.
fn memory() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let get = |key: &str| {
        text.lines()
            .find_map(|l| {
                l.strip_prefix(key)?
                    .trim()
                    .strip_suffix("kB")?
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map(|kb| kb * 1024)
    };
    Some((get("MemTotal:")?, get("MemAvailable:")?))
}

/// Mounted real devices (`/dev/...`): mount point, use %, size in GB.
fn filesystems() -> Vec<(String, f64, f64)> {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    let mut out: Vec<(String, f64, f64)> = Vec::new();
    for line in mounts.lines() {
        let mut f = line.split_whitespace();
        let (Some(dev), Some(mount)) = (f.next(), f.next()) else {
            continue;
        };
        let mount = mount.replace("\\040", " ");
        if !dev.starts_with("/dev/") || out.iter().any(|(m, ..)| *m == mount) {
            continue;
        }
        let Ok(st) = nix::sys::statvfs::statvfs(mount.as_str()) else {
            continue;
        };
        let frag = st.fragment_size() as f64;
        let size = st.blocks() as f64 * frag;
        let used = (st.blocks() - st.blocks_free()) as f64 * frag;
        let avail = st.blocks_available() as f64 * frag;
        if used + avail > 0.0 {
            let pct = round(used / (used + avail) * 100.0, 2);
            out.push((mount, pct, round(size / 1024f64.powi(3), 2)));
        }
    }
    out
}

fn round(v: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (v * k).round() / k
}

fn metric(value: f64, unit: &str) -> Value {
    json!({"value": value, "type": "metric", "unit": unit, "historic": true})
}

/// The metrics, from two readings.
fn snapshot(a: &Reading, b: &Reading) -> Map<String, Value> {
    let mut m = Map::new();
    let dt = b.at.duration_since(a.at).as_secs_f64().max(1e-3);
    if let (Some((busy0, total0)), Some((busy1, total1))) = (a.cpu, b.cpu) {
        let total = total1.saturating_sub(total0).max(1) as f64;
        let pct = busy1.saturating_sub(busy0) as f64 / total * 100.0;
        m.insert("CPU Usage".into(), metric(round(pct, 1), "%"));
    }
    m.insert("CPU Temperature".into(), metric(-1.0, "°C"));
    if let Some((total, available)) = memory() {
        let used = total.saturating_sub(available);
        let pct = round(used as f64 / total.max(1) as f64 * 100.0, 1);
        m.insert("RAM Usage".into(), metric(pct, "%"));
        m.insert("RAM Total".into(), metric(total as f64, "b"));
        m.insert("RAM Available".into(), metric(available as f64, "b"));
        m.insert("RAM Active".into(), metric(used as f64, "b"));
    }
    for (name, now) in &b.net {
        let before = a.net.get(name).unwrap_or(now);
        let d = |i: usize| now[i].saturating_sub(before[i]) as f64 / dt;
        let mb = |i: usize| round(d(i) / 1024.0 / 1024.0, 3);
        m.insert(format!("net:rx_5:{name}"), metric(mb(0), "mb/s"));
        m.insert(format!("net:tx_5:{name}"), metric(mb(1), "mb/s"));
        for (i, what) in [
            (2, "rx_errors"),
            (3, "tx_errors"),
            (4, "rx_dropped"),
            (5, "tx_dropped"),
        ] {
            let per_min = (d(i) * 60.0).round();
            m.insert(format!("net:{what}_60:{name}"), metric(per_min, "/min"));
        }
    }
    if let (Some((r0, w0)), Some((r1, w1))) = (a.disk, b.disk) {
        let mb = |x: u64, y: u64| round(y.saturating_sub(x) as f64 / dt / 1024.0 / 1024.0, 3);
        m.insert("Disk Reads".into(), metric(mb(r0, r1), "mb/s"));
        m.insert("Disk Writes".into(), metric(mb(w0, w1), "mb/s"));
    }
    for (mount, pct, gb) in filesystems() {
        m.insert(format!("fs:use:{mount}"), metric(pct, "%"));
        m.insert(format!("fs:size:{mount}"), metric(gb, "gb"));
    }
    m
}

/// PM2's `treeify` rendering of the two levels.
fn tree(m: &Map<String, Value>) -> String {
    let mut out = String::new();
    let n = m.len();
    for (i, (key, v)) in m.iter().enumerate() {
        let last = i + 1 == n;
        out.push_str(&format!("{}─ {key}\n", if last { "└" } else { "├" }));
        let fields = v.as_object().cloned().unwrap_or_default();
        let k = fields.len();
        for (j, (f, val)) in fields.iter().enumerate() {
            let bar = if last { "   " } else { "│  " };
            let corner = if j + 1 == k { "└" } else { "├" };
            let val = match val {
                Value::String(s) => s.clone(),
                other => prettylist(other),
            };
            out.push_str(&format!("{bar}{corner}─ {f}: {val}\n"));
        }
    }
    out
}

/// Prints the metrics; exit 0.
pub(super) fn slist(as_tree: bool) -> Result<i32> {
    let first = read_counters();
    std::thread::sleep(WINDOW);
    let metrics = snapshot(&first, &read_counters());
    let text = if as_tree {
        tree(&metrics)
    } else {
        prettylist(&Value::Object(metrics))
    };
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(0)
}
