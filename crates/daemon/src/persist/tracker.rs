//! Which apps changed since the state journal last recorded them, found without reading
//! the ones that did not: each tracked instance keeps its own copy of the instance's
//! handle, whose state channel says whether anything was published since it last looked.
//! A request that changes one app thus costs one record, whatever the number of apps.

use super::journal::Record;
use crate::instance::InstanceHandle;
use crate::registry::Registry;
use pm2_proto::{pm2json, ProcessInfo};
use serde_json::Value;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// One instance as the journal last recorded it.
struct Tracked {
    handle: InstanceHandle,
    /// [`fingerprint`] of what was recorded.
    recorded: u64,
}

/// The instances the journal knows, by pm_id.
#[derive(Default)]
pub(crate) struct Tracker {
    tracked: HashMap<u32, Tracked>,
}

impl Tracker {
    /// The records that bring the journal up to date with `registry`: a `Put` for each app
    /// added or changed in what a recovery restores, a `Remove` for each one gone.
    pub(crate) fn changes(&mut self, registry: &Registry) -> Vec<Record> {
        let mut records = Vec::new();
        registry.for_each_handle(|id, handle| {
            let fresh = !self
                .tracked
                .get(&id)
                .is_some_and(|t| t.handle.same_instance(handle));
            if fresh {
                let handle = handle.clone();
                self.tracked.insert(
                    id,
                    Tracked {
                        handle,
                        recorded: 0,
                    },
                );
            }
            let Some(tracked) = self.tracked.get_mut(&id) else {
                return;
            };
            // Marks what is read now as seen, for the next time.
            let published = tracked.handle.take_changed();
            if !(fresh || published) {
                return;
            }
            let recorded = tracked.recorded;
            let changed = tracked.handle.peek(|p| {
                let now = fingerprint(p);
                (now != recorded).then(|| (now, pm2json::dump_entry(p)))
            });
            if let Some((now, entry)) = changed {
                tracked.recorded = now;
                records.push(Record::Put { id, entry });
            }
        });
        if self.tracked.len() > registry.len() {
            let gone: Vec<u32> = self
                .tracked
                .keys()
                .copied()
                .filter(|id| registry.get(*id).is_none())
                .collect();
            for id in gone {
                self.tracked.remove(&id);
                records.push(Record::Remove(id));
            }
        }
        records
    }

    /// The whole table as `dump.pm2` entries (each with its `pm_id`), for a compaction's
    /// snapshot, with everything marked recorded as it is in those entries. Each entry and
    /// its fingerprint come from one look at the instance, its change flag taken before:
    /// a change made while the snapshot is built is journaled next time, never lost.
    pub(crate) fn record_all(&mut self, registry: &Registry) -> Vec<Value> {
        self.tracked.clear();
        let mut apps = Vec::with_capacity(registry.len());
        registry.for_each_handle(|id, handle| {
            let mut handle = handle.clone();
            handle.take_changed();
            let (recorded, mut entry) = handle.peek(|p| (fingerprint(p), pm2json::dump_entry(p)));
            if let Value::Object(map) = &mut entry {
                map.insert("pm_id".into(), id.into());
            }
            apps.push(entry);
            self.tracked.insert(id, Tracked { handle, recorded });
        });
        apps
    }
}

/// What a recovery restores of an instance, hashed: its spec, status and counters, not the
/// metrics it reports (those change every few seconds and restore nothing).
fn fingerprint(p: &ProcessInfo) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    p.unique_id.hash(&mut hasher);
    p.status.as_str().hash(&mut hasher);
    (p.restart_time, p.unstable_restarts, p.pm_uptime).hash(&mut hasher);
    (p.created_at, p.instance_index, p.increment_value).hash(&mut hasher);
    p.km_monitored.hash(&mut hasher);
    // Serialised straight into the hasher: no buffer for the environment.
    let _ = serde_json::to_writer(HashWriter(&mut hasher), &p.spec);
    hasher.finish()
}

/// An `io::Write` that feeds a hasher.
struct HashWriter<'a, H: Hasher>(&'a mut H);

impl<H: Hasher> std::io::Write for HashWriter<'_, H> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
