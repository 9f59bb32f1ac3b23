//! After a start: a warning for each resource limit (beyond PM2: `memory_limit`,
//! `cpu_limit`, `pids_limit`) the daemon could not put in place, naming the app and the
//! key, so a limit is never a silent no-op. Asked only when a started app has limits.

use crate::client::Client;
use crate::out;
use anyhow::Result;
use pm2_proto::InstanceOutcome;
use std::collections::BTreeSet;

/// Prints the warnings of the instances in `outcomes` (one per app and key).
pub(crate) fn print(client: &mut Client, outcomes: &[InstanceOutcome]) -> Result<()> {
    let started: BTreeSet<u32> = outcomes
        .iter()
        .filter(|o| o.error.is_none())
        .map(|o| o.pm_id)
        .collect();
    let mut said = BTreeSet::new();
    for p in super::views::fetch_list(client)? {
        if !started.contains(&p.pm_id) {
            continue;
        }
        let limits = p.containment.iter().flat_map(|c| &c.limits);
        for (key, warning) in limits.filter_map(|l| Some((&l.key, l.warning.as_ref()?))) {
            if said.insert((p.spec.name.clone(), key.clone())) {
                out::warn(&format!(
                    "App [{}] {warning}; it runs without this limit",
                    p.spec.name
                ));
            }
        }
    }
    Ok(())
}
