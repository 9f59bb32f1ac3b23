//! The server overview: the host's name, cores, memory, load, uptime, addresses, and the
//! Node and pm2-rs versions, read from `/proc` and `getifaddrs` at each request (cheap,
//! and never stale).

use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The overview as JSON.
pub fn overview(node_version: Option<&str>, daemon: Value) -> Value {
    let (total, available) = memory();
    json!({
        "hostname": read("/proc/sys/kernel/hostname"),
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "memory": {"total": total, "available": available},
        "load": load(),
        "uptime_s": read("/proc/uptime")
            .and_then(|u| u.split_whitespace().next().and_then(|s| s.parse::<f64>().ok())),
        "addresses": addresses(),
        "versions": {
            "node": node_version,
            "pm2_rs": pm2_proto::VERSION,
        },
        "daemon": daemon,
    })
}

/// `node --version` (e.g. `v20.11.0`), or None without Node; run once at start.
pub fn node_version() -> Option<String> {
    let out = std::process::Command::new("node")
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// This machine's name (`/proc/sys/kernel/hostname`; `localhost` without it).
pub fn host_name() -> String {
    read("/proc/sys/kernel/hostname").unwrap_or_else(|| "localhost".into())
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// `MemTotal` and `MemAvailable` in bytes.
fn memory() -> (Option<u64>, Option<u64>) {
    let Some(info) = read("/proc/meminfo") else {
        return (None, None);
    };
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map(|kb| kb * 1024)
    };
    (field("MemTotal:"), field("MemAvailable:"))
}

/// The 1, 5 and 15 minute load averages.
fn load() -> Vec<f64> {
    read("/proc/loadavg")
        .map(|l| {
            l.split_whitespace()
                .take(3)
                .filter_map(|v| v.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Each interface's IPv4 and IPv6 addresses (`{"interface", "address"}`).
fn addresses() -> Vec<Value> {
    let Ok(ifaddrs) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    let mut seen = BTreeSet::new();
    for ifa in ifaddrs {
        let Some(addr) = ifa.address else { continue };
        let ip = if let Some(v4) = addr.as_sockaddr_in() {
            v4.ip().to_string()
        } else if let Some(v6) = addr.as_sockaddr_in6() {
            v6.ip().to_string()
        } else {
            continue;
        };
        seen.insert((ifa.interface_name, ip));
    }
    seen.into_iter()
        .map(|(interface, address)| json!({"interface": interface, "address": address}))
        .collect()
}
