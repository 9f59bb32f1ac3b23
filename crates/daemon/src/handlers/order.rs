//! `depends_on` in the daemon (beyond PM2): a restart or reload of several apps (`pm2
//! restart all`) and the daemon's own crash recovery go layer by layer, as the CLI's
//! `start <file>` does: an app goes once every app it depends on is as its condition asks
//! (`pm2_proto::depends`). Each layer's reply already waits until its instances are online
//! (healthy with a check), so only `completed` is waited for, bounded.

use crate::state::Daemon;
use pm2_proto::depends::{self, Verdict};
use pm2_proto::{Dependency, InstanceOutcome};
use std::future::Future;
use std::time::{Duration, Instant};

/// Longest wait for a `completed` dependency to exit (the CLI's bound too).
const COMPLETED_WITHIN: Duration = Duration::from_secs(60);
/// How often the registry is read meanwhile.
const COMPLETED_POLL: Duration = Duration::from_millis(100);

/// One app among the ids: its name, its `depends_on`, its instances.
struct App {
    name: String,
    depends_on: Vec<Dependency>,
    ids: Vec<u32>,
}

/// The apps of `ids`, in the order of their first instance.
fn apps_of(daemon: &Daemon, ids: &[u32]) -> Vec<App> {
    let registry = daemon.registry();
    let mut apps: Vec<App> = Vec::new();
    for id in ids {
        let Some(info) = registry.get(*id).map(|h| h.info()) else {
            continue;
        };
        match apps.iter_mut().find(|a| a.name == info.spec.name) {
            Some(app) => app.ids.push(*id),
            None => apps.push(App {
                name: info.spec.name.clone(),
                depends_on: info.spec.depends_on.clone(),
                ids: vec![*id],
            }),
        }
    }
    apps
}

/// Runs `run` (a restart or reload, `verb` in messages) on `ids` in layers of
/// `depends_on`; on all at once, as before, when none of their apps depends on another. An
/// app whose dependency is not as asked is left as it is, its outcome saying why.
pub(crate) async fn in_layers<F, Fut>(
    daemon: &Daemon,
    ids: &[u32],
    verb: &str,
    mut run: F,
) -> Vec<InstanceOutcome>
where
    F: FnMut(Vec<u32>) -> Fut,
    Fut: Future<Output = Vec<InstanceOutcome>>,
{
    let apps = apps_of(daemon, ids);
    if apps.iter().all(|a| a.depends_on.is_empty()) {
        return run(ids.to_vec()).await;
    }
    let mut outcomes = Vec::new();
    for layer in layers(apps) {
        let mut ready = Vec::new();
        for app in layer {
            match unmet(daemon, &app.depends_on).await {
                None => ready.extend(app.ids),
                Some(why) => {
                    tracing::warn!("App [{}] not {verb}: {why}", app.name);
                    let error = Some(format!("not {verb}: {why}"));
                    outcomes.extend(app.ids.iter().map(|&pm_id| InstanceOutcome {
                        pm_id,
                        name: app.name.clone(),
                        error: error.clone(),
                    }));
                }
            }
        }
        if !ready.is_empty() {
            outcomes.extend(run(ready).await);
        }
    }
    outcomes.sort_by_key(|o| o.pm_id);
    outcomes
}

/// The apps in layers: each after every app it depends on.
fn layers(apps: Vec<App>) -> Vec<Vec<App>> {
    depends::layers(apps, |a| (a.name.as_str(), &a.depends_on[..]))
}

/// Why one of `deps` is not as asked, waiting for `completed` ones; `None` when all are.
async fn unmet(daemon: &Daemon, deps: &[Dependency]) -> Option<String> {
    let started = Instant::now();
    loop {
        let list = daemon.registry().snapshot();
        let mut waiting = false;
        for dep in deps {
            match depends::verdict(dep, &list) {
                Verdict::Met => {}
                Verdict::Running if started.elapsed() < COMPLETED_WITHIN => waiting = true,
                Verdict::Running => {
                    let s = COMPLETED_WITHIN.as_secs();
                    return Some(format!("{} did not complete within {s} s", dep.name));
                }
                Verdict::Unmet(why) => return Some(why),
            }
        }
        if !waiting {
            return None;
        }
        tokio::time::sleep(COMPLETED_POLL).await;
    }
}
