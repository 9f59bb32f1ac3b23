//! One connection to the dashboard: the queue's messages written out, the dashboard's
//! actions read in and run against the local daemon (each in its own task, its reply
//! queued back) and its `follow` noted, until the link is lost, or the agent is told to stop. Stopped after `pm2
//! unlink` removed the stored link, it says `bye`, so the dashboard forgets this host;
//! stopped with the link kept (`pm2 link stop`, `pm2 stop pm2-link`), it just closes, and
//! the dashboard shows the host offline.

use super::connector::Linked;
use super::outbox::{Inbox, Outbox};
use super::wire;
use crate::daemon::Daemon;
use crate::{actions, audit};
use pm2_home::plus::PlusFiles;
use pm2_home::plus_link::Link;
use pm2_home::Pm2Home;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::{AsyncWriteExt, BufReader};

/// The largest message the dashboard may send (an action and its parameters).
const MAX_IN: usize = 64 * 1024;
/// The dashboard pings every 5 s: this much silence means the link is dead.
const SILENCE: Duration = Duration::from_secs(20);

/// How a session ended.
pub enum Ended {
    /// The agent is stopping (SIGINT/SIGTERM): it said `bye`.
    Stopped,
    /// The connection broke: why.
    Lost(String),
}

/// What a session needs besides its connection.
pub struct Context<'a> {
    /// The local daemon.
    pub daemon: &'a Daemon,
    /// Where replies are queued.
    pub out: &'a Outbox,
    /// This host's dashboard files (its audit log records the dashboard's actions too).
    pub files: &'a PlusFiles,
    /// The dashboard's URL, for the audit log.
    pub url: &'a str,
    /// Where the link is stored.
    pub home: &'a Pm2Home,
    /// The link this agent serves.
    pub link: &'a Link,
    /// Which apps' lines the dashboard follows (its `follow` messages).
    pub follow: &'a super::follow::Follow,
}

impl Context<'_> {
    /// Whether the link this agent serves was removed or replaced (by `pm2 unlink` or a
    /// new `pm2 link`).
    fn unlinked(&self) -> bool {
        !matches!(Link::load(self.home), Ok(Some(l)) if l == *self.link)
    }
}

/// Runs the session until it ends; `stop` resolves when the agent must stop.
pub async fn run(
    io: Linked,
    inbox: &mut Inbox,
    cx: &Context<'_>,
    stop: &mut (impl std::future::Future<Output = ()> + Unpin),
) -> Ended {
    let (read, mut write) = tokio::io::split(io);
    let mut read = BufReader::new(read);
    loop {
        tokio::select! {
            next = inbox.next() => {
                let Some(bytes) = next else { return Ended::Lost("the queue closed".into()) };
                if let Err(e) = write.write_all(&bytes).await {
                    return Ended::Lost(format!("cannot write to the dashboard: {e}"));
                }
            }
            message = tokio::time::timeout(SILENCE, wire::read(&mut read, MAX_IN)) => {
                match message {
                    Err(_) => return Ended::Lost(format!("no word from the dashboard for {SILENCE:?}")),
                    Ok(Ok(Some(m))) => handle(m, cx),
                    Ok(Ok(None)) => return Ended::Lost("the dashboard closed the link".into()),
                    Ok(Err(e)) => return Ended::Lost(format!("the dashboard sent {e}")),
                }
            }
            () = &mut *stop => {
                if cx.unlinked() {
                    let _ = write.write_all(&wire::encode(&json!({"t": "bye"}))).await;
                }
                let _ = write.flush().await;
                let _ = write.shutdown().await;
                return Ended::Stopped;
            }
        }
    }
}

/// A message from the dashboard: an action runs in its own task; `follow` says which
/// apps' lines to send.
fn handle(message: Value, cx: &Context<'_>) {
    match wire::kind(&message) {
        "action" => {}
        "follow" => return cx.follow.set(&message),
        _ => return,
    }
    let daemon = cx.daemon.clone();
    let out = cx.out.clone();
    let files = cx.files.clone();
    let url = cx.url.to_string();
    tokio::spawn(async move {
        let field = |k: &str| {
            message
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let (target, action, who) = (field("target"), field("action"), field("who"));
        let params = message.get("params").cloned().unwrap_or_else(|| json!({}));
        let (done, ids) = actions::perform(&daemon, &target, &action, &params).await;
        let entry = audit::Entry {
            host: &pm2_home::plus_link::local_host_name(),
            who: format!("dashboard {url}: {who}"),
            remote: url.clone(),
            action: &action,
            target: &target,
            params,
            ids: ids.clone(),
            error: done.error(),
        };
        if files.ensure().is_ok() {
            let _ = audit::append(&files.audit_log(), &entry);
        }
        out.send(&json!({
            "t": "reply", "id": message.get("id"), "status": done.status.as_u16(),
            "body": done.body, "ids": ids,
        }))
        .await;
    });
}
