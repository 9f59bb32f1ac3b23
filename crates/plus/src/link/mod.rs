//! The link agent, `pm2 __plus-link` (the app `pm2-link` that `pm2 link` starts): keeps
//! one outbound connection to a dashboard on another host and streams this host's table,
//! overview and log lines to it, and runs the actions it sends against the local daemon.
//! Like the dashboard it is an ordinary supervised app and the daemon's client over
//! `daemon.sock`, so the daemon is untouched and a crash restarts it.
//!
//! Files: `wire` (the messages, JSON lines), `connector` (the stream and the upgrade;
//! pluggable for TLS), `outbox` (the bounded queue; what is dropped and said so), `feed`
//! (the daemon's table and logs), `follow` (which apps' lines the dashboard wants),
//! `session` (one connection), `status` (what `pm2 link` reads), and here the reconnect
//! loop with backoff.

mod connector;
mod feed;
mod follow;
mod outbox;
mod session;
mod status;
pub mod wire;

use crate::daemon::Daemon;
use crate::log;
use connector::Failure;
use pm2_home::plus::PlusFiles;
use pm2_home::plus_link::{Link, AGENT_ARG};
use pm2_home::Pm2Home;
use std::ffi::OsString;
use std::time::{Duration, Instant};
use tokio::signal::unix::{signal, SignalKind};

/// The first wait before connecting again.
const BACKOFF_MIN: Duration = Duration::from_millis(250);
/// The longest wait.
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// A refused link (wrong secret, name taken) waits at least this long.
const REFUSED_MIN: Duration = Duration::from_secs(5);
/// The wait after a 429 (the dashboard's pause after a wrong secret is a second).
const LATER: Duration = Duration::from_millis(1100);
/// A connection that lived this long starts the backoff over.
const STABLE: Duration = Duration::from_secs(10);

/// Whether `argv` is `pm2 __plus-link`.
pub fn wants(argv: &[OsString]) -> bool {
    argv.get(1).is_some_and(|a| a == AGENT_ARG)
}

/// Runs the agent until it is stopped; returns its exit code (1 without a stored link).
pub fn main() -> i32 {
    let home = Pm2Home::from_env();
    let link = match Link::load(&home) {
        Ok(Some(link)) => link,
        Ok(None) => return log::fatal("no link stored: run `pm2 link <secret> <dashboard-url>`"),
        Err(e) => return log::fatal(&e),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    match runtime {
        Ok(rt) => rt.block_on(run(home, link)),
        Err(e) => log::fatal(&format!("cannot start the runtime: {e}")),
    }
}

async fn run(home: Pm2Home, link: Link) -> i32 {
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return log::fatal("cannot handle SIGINT and SIGTERM");
    };
    let mut stop = Box::pin(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    });
    let daemon = Daemon::at(home.socket());
    let (out, mut inbox) = outbox::new();
    tokio::spawn(feed::table(daemon.clone(), out.clone()));
    let follow = follow::Follow::default();
    tokio::spawn(feed::logs(daemon.clone(), out.clone(), follow.clone()));
    let status = status::Status::new(&home, &link);
    let files = PlusFiles::of(&home);
    let cx = session::Context {
        daemon: &daemon,
        out: &out,
        files: &files,
        url: &link.url,
        home: &home,
        link: &link,
        follow: &follow,
    };
    let mut backoff = BACKOFF_MIN;
    loop {
        let wait = match attempt(&link, &status, &mut inbox, &cx, &mut stop, backoff).await {
            Some(wait) => wait,
            None => return 0,
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = &mut stop => return 0,
        }
        backoff = (wait * 2).min(BACKOFF_MAX);
    }
}

/// One connection attempt and, once linked, its session; how long to wait before the
/// next (`None`: the agent was told to stop).
async fn attempt(
    link: &Link,
    status: &status::Status,
    inbox: &mut outbox::Inbox,
    cx: &session::Context<'_>,
    stop: &mut (impl std::future::Future<Output = ()> + Unpin),
    backoff: Duration,
) -> Option<Duration> {
    status.set("connecting", None);
    let connected = tokio::select! {
        c = connector::connect(link) => c,
        () = &mut *stop => return None,
    };
    Some(match connected {
        Ok(accepted) => {
            cx.follow.start(accepted.on_demand);
            let io = accepted.io;
            status.set("connected", None);
            log::say(&format!("linked to {} as {}", link.url, link.host));
            let since = Instant::now();
            match session::run(io, inbox, cx, stop).await {
                session::Ended::Stopped => return None,
                session::Ended::Lost(why) => {
                    log::error(&format!("link to {} lost: {why}", link.url));
                    status.set("unreachable", Some(&why));
                }
            }
            if since.elapsed() >= STABLE {
                BACKOFF_MIN
            } else {
                backoff
            }
        }
        Err(Failure::Refused(code, why)) => {
            log::error(&format!("{} refused the link ({code}): {why}", link.url));
            status.set("refused", Some(&why));
            backoff.max(REFUSED_MIN)
        }
        Err(Failure::Untrusted(why)) => {
            log::error(&format!(
                "{} is not trusted: {why} (a private CA: `pm2 link <secret> <url> [name] --ca <pem>`)",
                link.url
            ));
            status.set("untrusted", Some(&why));
            backoff.max(REFUSED_MIN)
        }
        Err(Failure::Later(why)) => {
            log::error(&format!("{} asks to try again: {why}", link.url));
            LATER
        }
        Err(e) => {
            log::error(&format!("cannot link to {}: {e}", link.url));
            status.set("unreachable", Some(&e.to_string()));
            backoff
        }
    })
}
