//! The daemon's own crash recovery in `depends_on` order (beyond PM2): see [`start_in_layers`].

use super::action::apply_to;
use super::order::in_layers;
use crate::instance::Update;
use crate::state::Daemon;
use pm2_proto::{Action, StartRequest};

/// Starts a crashed daemon's apps again: all registered at once (so they keep their
/// order and ids), the ones that depend on another held back and then started layer by
/// layer. One whose dependency is not as asked stays stopped, said in pm2.log.
pub(crate) async fn start_in_layers(daemon: &Daemon, request: StartRequest) {
    let held: Vec<String> = request
        .apps
        .iter()
        .filter(|a| a.autostart && !a.depends_on.is_empty())
        .map(|a| a.name.clone())
        .collect();
    super::start::start_holding(daemon, request, &held).await;
    let mut ids = Vec::new();
    daemon.registry().for_each(|p| {
        if held.contains(&p.spec.name) {
            ids.push(p.pm_id);
        }
    });
    let start = |ids: Vec<u32>| async move {
        apply_to(daemon, &ids, Action::Restart, Update::default()).await
    };
    // Each app left stopped is logged by `in_layers`, a failed spawn by its instance.
    in_layers(daemon, &ids, "started", start).await;
}
