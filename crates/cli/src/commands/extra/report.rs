//! `pm2 report`: what a bug report needs, in PM2's layout (titled sections of `key : value`
//! fields inside a Markdown code block): the daemon's and the CLI's versions and users, the
//! system, the process table, the last lines of `pm2.log` and, beyond PM2, of each app's
//! out and error logs.

use super::super::connection::{connect, expect};
use super::super::views::{fetch_list, print_table_now};
use crate::out;
use anyhow::Result;
use pm2_home::Pm2Home;
use pm2_logfmt::tail_lines;
use pm2_proto::{Request, Response};
use std::path::Path;

/// Width of PM2's section rules.
const WIDTH: usize = 79;
/// Lines of pm2.log shown (PM2's count); each app log gets [`APP_LINES`].
const DAEMON_LINES: usize = 20;
const APP_LINES: usize = 10;

fn title(text: &str) -> Result<()> {
    let head = format!("--- {text} ");
    let fill = WIDTH.saturating_sub(head.chars().count());
    out::line(&format!("{head}{}", "-".repeat(fill)))?;
    Ok(())
}

fn field(key: &str, value: impl std::fmt::Display) -> Result<()> {
    out::line(&format!("{key:<20} : {value}"))?;
    Ok(())
}

fn sep() -> Result<()> {
    out::line(&"=".repeat(WIDTH))?;
    Ok(())
}

/// Prints the report; exit 0 (a daemon that does not answer is reported, not fatal).
pub(super) fn report(home: &Pm2Home) -> Result<i32> {
    let mut client = connect(home)?;
    out::line("\n\n\n```")?;
    title("PM2 report")?;
    field(
        "Date",
        chrono::Local::now().format("%a %b %d %Y %H:%M:%S GMT%z"),
    )?;
    sep()?;
    title("Daemon")?;
    match expect(&mut client, Request::Ping) {
        Ok(Response::Pong { version, pid }) => {
            field("pm2d version", version)?;
            field("pid", pid)?;
        }
        Ok(_) => field("pm2d version", "unknown")?,
        Err(e) => field("error", format!("{e:#}"))?,
    }
    sep()?;
    title("CLI")?;
    field("local pm2", pm2_proto::VERSION)?;
    let argv: Vec<String> = std::env::args().collect();
    field("argv", argv.join(","))?;
    let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME"));
    field("user", user.as_deref().unwrap_or("undefined"))?;
    field("uid", nix::unistd::geteuid())?;
    field("gid", nix::unistd::getegid())?;
    sep()?;
    system_info()?;
    sep()?;
    title("PM2 list")?;
    print_table_now(&mut client)?;
    sep()?;
    title("Daemon logs")?;
    tail(&home.daemon_log(), DAEMON_LINES, "PM2")?;
    sep()?;
    title("App logs")?;
    for p in fetch_list(&mut client)? {
        let label = format!("{}|{}", p.pm_id, p.spec.name);
        for path in [&p.paths.out, &p.paths.err] {
            tail(Path::new(path), APP_LINES, &label)?;
        }
    }
    out::line("```\n\n")?;
    out::line("Please copy/paste the above report in your issue (remove what is private).")?;
    Ok(0)
}

fn system_info() -> Result<()> {
    title("System info")?;
    field("arch", std::env::consts::ARCH)?;
    field("platform", std::env::consts::OS)?;
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo.lines().find_map(|l| {
        l.strip_prefix("model name")?
            .split_once(':')
            .map(|(_, v)| v.trim())
    });
    field("cpus", model.unwrap_or("unknown"))?;
    let count = std::thread::available_parallelism().map_or(0, |n| n.get());
    field("cpus nb", count)?;
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let kb = |key: &str| {
        meminfo.lines().find_map(|l| {
            let v = l.strip_prefix(key)?.trim().strip_suffix("kB")?;
            v.trim().parse::<u64>().ok().map(|kb| kb * 1024)
        })
    };
    field("freemem", kb("MemAvailable:").unwrap_or(0))?;
    field("totalmem", kb("MemTotal:").unwrap_or(0))?;
    field("home", std::env::var("HOME").unwrap_or_default())?;
    Ok(())
}

/// `<path> last N lines:` then each line prefixed as `pm2 logs` prefixes the daemon's.
fn tail(path: &Path, n: usize, label: &str) -> Result<()> {
    out::line(&format!("{} last {n} lines:", path.display()))?;
    for line in tail_lines(path, n).unwrap_or_default() {
        let text = String::from_utf8_lossy(&line);
        out::line(&format!("{label:<10} | {}", text.trim_end_matches('\n')))?;
    }
    Ok(())
}
