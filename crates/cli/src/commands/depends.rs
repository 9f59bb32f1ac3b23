//! `depends_on` (beyond PM2) for `start|restart|reload <file>` and `resurrect`: the apps go
//! to the daemon in layers, each app once what it depends on is as its condition asks (`started`, `online`,
//! `healthy`, `completed`); an app whose dependency is not is left out, with the reason,
//! and so are the apps that depend on it. A start reply already waits until the instances
//! are online (healthy with a check), so only `completed` is waited for here, bounded.

use super::connection::expect;
use super::views::fetch_list;
use crate::client::Client;
use crate::out;
use anyhow::{bail, Result};
use pm2_proto::depends::{self, verdict, Verdict};
use pm2_proto::{AppSpec, ApplyMode, ApplyRequest, Dependency, InstanceOutcome, Request, Response};
use std::time::{Duration, Instant};

/// Longest wait for a `completed` dependency to exit.
const COMPLETED_WITHIN: Duration = Duration::from_secs(60);
/// How often the daemon's list is read meanwhile.
const COMPLETED_POLL: Duration = Duration::from_millis(100);

/// Applies `apps` (in start order) layer by layer; the outcomes, and how many apps were
/// left out for a dependency.
pub(crate) fn apply_in_order(
    client: &mut Client,
    apps: Vec<AppSpec>,
    mode: ApplyMode,
) -> Result<(Vec<InstanceOutcome>, usize)> {
    in_order(client, apps, |client, ready| {
        let request = Request::Apply(ApplyRequest {
            apps: ready,
            running: mode,
        });
        let Response::Outcomes { outcomes } = expect(client, request)? else {
            bail!("unexpected reply to an ecosystem action");
        };
        Ok(outcomes)
    })
}

/// Sends `apps` with `send`, layer by layer, each app once its dependencies are as asked.
pub(crate) fn in_order(
    client: &mut Client,
    apps: Vec<AppSpec>,
    mut send: impl FnMut(&mut Client, Vec<AppSpec>) -> Result<Vec<InstanceOutcome>>,
) -> Result<(Vec<InstanceOutcome>, usize)> {
    let mut outcomes = Vec::new();
    let mut left_out = 0;
    for layer in layers(apps) {
        let mut ready = Vec::new();
        for app in layer {
            match unmet_dependency(client, &app.depends_on)? {
                None => ready.push(app),
                Some(why) => {
                    out::error(&format!("App [{}] not started: {why}", app.name));
                    left_out += 1;
                }
            }
        }
        if !ready.is_empty() {
            outcomes.extend(send(client, ready)?);
        }
    }
    Ok((outcomes, left_out))
}

/// The apps grouped so that each comes in a layer after all it depends on
/// ([`depends::depths`]).
fn layers(apps: Vec<AppSpec>) -> Vec<Vec<AppSpec>> {
    depends::layers(apps, |a| (a.name.as_str(), &a.depends_on[..]))
}

/// Why one of `deps` is not as asked, waiting for `completed` ones; `None` when all are.
fn unmet_dependency(client: &mut Client, deps: &[Dependency]) -> Result<Option<String>> {
    let started = Instant::now();
    loop {
        let list = fetch_list(client)?;
        let mut waiting = false;
        for dep in deps {
            match verdict(dep, &list) {
                Verdict::Met => {}
                Verdict::Running if started.elapsed() < COMPLETED_WITHIN => waiting = true,
                Verdict::Running => {
                    let s = COMPLETED_WITHIN.as_secs();
                    return Ok(Some(format!("{} did not complete within {s} s", dep.name)));
                }
                Verdict::Unmet(why) => return Ok(Some(why)),
            }
        }
        if !waiting {
            return Ok(None);
        }
        std::thread::sleep(COMPLETED_POLL);
    }
}
