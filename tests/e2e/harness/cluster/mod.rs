//! Helpers shared by the cluster-mode and Node IPC tests: the Node versions to run on
//! ([`on_each_node!`]), the instances of an app, and the clients ([`http`]).

use super::jlist::{pid_of, st};
use super::pm2::Pm2;
use super::require::require;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

mod http;

pub use http::*;

/// A Node binary to run the apps on.
pub struct Node {
    /// For messages: `node20` (whatever is on PATH) or `node22`.
    pub label: &'static str,
    /// `--interpreter` value; None means the `node` on PATH (no flag).
    pub path: Option<PathBuf>,
}

impl Node {
    /// The `node` on PATH.
    pub fn system() -> Node {
        Node {
            label: "node20",
            path: None,
        }
    }

    /// Node 22 from `$PM2_RS_NODE22` or `<repo>/target/node22` (installed by
    /// `scripts/install-deps.sh`); fails the test when it is not there (the build script
    /// marks the node22 variants ignored then, unless under CI).
    pub fn v22() -> Node {
        let path = std::env::var_os("PM2_RS_NODE22")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("target/node22/node_modules/node/bin/node")
            });
        require(
            path.is_file(),
            &format!(
                "Node 22 not found at {} (scripts/install-deps.sh installs it)",
                path.display()
            ),
        );
        Node {
            label: "node22",
            path: Some(path),
        }
    }

    /// `pm2 start <script> <extra> [--interpreter <node>]`.
    pub fn start_args<'a>(&'a self, script: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec!["start", script];
        args.extend_from_slice(extra);
        if let Some(path) = &self.path {
            args.push("--interpreter");
            args.push(path.to_str().expect("UTF-8 node path"));
        }
        args
    }
}

/// Prints a line even when the test harness captures output (request distributions are
/// worth seeing in a normal run).
pub fn note(line: &str) {
    let _ = writeln!(std::io::stderr(), "note: {line}");
}

/// Generates `node20::<name>` and `node22::<name>` tests calling `fn <name>(&Node)`
/// (attributes before a name go on both variants); the Node 22 variants are reported ignored when the build found no Node 22 (and fail under
/// CI, see `build.rs`).
macro_rules! on_each_node {
    ($($(#[$attr:meta])* $name:ident),* $(,)?) => {
        mod node20 {
            $(
                $(#[$attr])*
                #[test]
                fn $name() { super::$name(&$crate::harness::cluster::Node::system()) }
            )*
        }
        mod node22 {
            $(
                $(#[$attr])*
                #[test]
                #[cfg_attr(
                    no_node22,
                    ignore = "Node 22 not found in target/node22: run scripts/install-deps.sh"
                )]
                fn $name() { super::$name(&$crate::harness::cluster::Node::v22()) }
            )*
        }
    };
}
pub(crate) use on_each_node;

/// The jlist elements of app `name`, by pm_id.
pub fn instances(p: &Pm2, name: &str) -> Vec<Value> {
    let mut apps: Vec<Value> = p
        .apps()
        .into_iter()
        .filter(|a| a["name"].as_str() == Some(name))
        .collect();
    apps.sort_by_key(|a| a["pm_id"].as_u64());
    apps
}

/// Waits until app `name` has exactly `n` instances, all online, and returns them.
pub fn wait_all_online(p: &Pm2, name: &str, n: usize) -> Vec<Value> {
    let mut last = Vec::new();
    p.wait_until(T, &format!("{n} online instances of {name}"), || {
        last = instances(p, name);
        last.len() == n && last.iter().all(|a| st(a) == "online" && pid_of(a) > 0)
    });
    last
}

/// The pm2 out log of instance `pm_id` of `name`.
pub fn out_log(p: &Pm2, name: &str, pm_id: u64) -> PathBuf {
    p.log_path(&format!("{name}-out-{pm_id}.log"))
}

/// The text of `path` ("" when missing).
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Right after a `--wait-ready` start returned: the app already sent `marker` (its
/// `ready`) and is `online`, as with PM2, whose start replies only once the app is ready.
pub fn online_once_ready(p: &Pm2, pm_id: u64, events: &Path, marker: &str) {
    let app = p.app(pm_id);
    let text = read(events);
    assert!(
        text.contains(marker),
        "the start replied before the app sent {marker:?}:\n{text}"
    );
    assert_eq!(st(&app), "online", "right after the start: {app:#}");
}

/// Runs `openssl`/`curl`-like helpers: the command's stdout when it exits 0.
pub fn command_stdout(program: &str, args: &[&str], dir: &Path) -> Result<String, String> {
    let out = std::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{program} {args:?}: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
