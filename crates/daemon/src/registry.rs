//! The table of instances: ids, names, and target resolution.
//!
//! Guarded by a `std::sync::Mutex` that is never held across an `.await`: every operation
//! here is a quick lookup, and instance work happens in the instance tasks.

use crate::instance::InstanceHandle;
use pm2_proto::{AppSpec, ProcessInfo, Target};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// The registry's revision ([`revision`]).
static REVISION: AtomicU64 = AtomicU64::new(1);

/// Changes whenever an instance is added or removed or publishes a state other than its
/// custom metrics: the dashboard's per-second poll ([`pm2_proto::Request::Readings`])
/// fetches the whole summary again only when it moved. One daemon per process, so one
/// counter per process.
pub fn revision() -> u64 {
    REVISION.load(Ordering::SeqCst)
}

/// Moves the revision on; called after the change is visible (a reader that sees the new
/// revision then reads the new state).
pub fn bump_revision() {
    REVISION.fetch_add(1, Ordering::SeqCst);
}

/// All registered instances by pm_id.
#[derive(Default)]
pub struct Registry {
    next_id: u32,
    instances: BTreeMap<u32, InstanceHandle>,
}

/// A target that matched nothing, worded as PM2 words it.
#[derive(Debug, thiserror::Error)]
#[error("Process or Namespace {0} not found")]
pub struct UnknownTarget(pub String);

impl Registry {
    /// Reserves the next id (PM2 starts over at 0 once the table is empty).
    pub fn allocate_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Gives back the last `n` ids allocated by a start that was then refused.
    pub fn release_ids(&mut self, n: u32) {
        self.next_id = self.next_id.saturating_sub(n);
    }

    /// Adds a started instance.
    pub fn insert(&mut self, id: u32, handle: InstanceHandle) {
        self.instances.insert(id, handle);
        bump_revision();
    }

    /// Removes a deleted instance.
    pub fn remove(&mut self, id: u32) {
        self.instances.remove(&id);
        bump_revision();
        if self.instances.is_empty() {
            self.next_id = 0;
        }
    }

    /// How many instances there are (without reading any of them).
    pub fn len(&self) -> usize {
        self.instances.len()
    }

    /// A handle by id.
    pub fn get(&self, id: u32) -> Option<InstanceHandle> {
        self.instances.get(&id).cloned()
    }

    /// Visits every instance's current state in id order without cloning it.
    pub fn for_each(&self, mut f: impl FnMut(&ProcessInfo)) {
        for h in self.instances.values() {
            h.peek(&mut f);
        }
    }

    /// Visits every instance's handle with its id, in id order, without cloning them.
    pub fn for_each_handle(&self, mut f: impl FnMut(u32, &InstanceHandle)) {
        for (id, h) in &self.instances {
            f(*id, h);
        }
    }

    /// Every instance's handle, by id.
    pub fn handles(&self) -> Vec<InstanceHandle> {
        self.instances.values().cloned().collect()
    }

    /// Every instance's current state, by id.
    pub fn snapshot(&self) -> Vec<ProcessInfo> {
        self.instances.values().map(InstanceHandle::info).collect()
    }

    /// Whether an app with this name exists (reads states in place: starts stay cheap with
    /// many apps).
    pub fn has_name(&self, name: &str) -> bool {
        self.instances
            .values()
            .any(|h| h.peek(|p| p.spec.name == name))
    }

    /// The lowest `NODE_APP_INSTANCE` not used by another instance of `name`.
    pub fn free_instance_index(&self, name: &str, taken_now: &[u32]) -> u32 {
        let used: Vec<u32> = self
            .instances
            .values()
            .filter_map(|h| h.peek(|p| (p.spec.name == name).then_some(p.instance_index)))
            .chain(taken_now.iter().copied())
            .collect();
        (0..).find(|i| !used.contains(i)).unwrap_or(0)
    }

    /// PM2's `increment_var`: one more than the highest value among the app's instances
    /// (including `pending`, given out in this request), else the app's own value of the
    /// variable (0 when unset or not a number).
    pub fn next_increment(&self, spec: &AppSpec, var: &str, pending: Option<i64>) -> i64 {
        let highest = self
            .instances
            .values()
            .filter_map(|h| h.peek(|p| (p.spec.name == spec.name).then_some(p.increment_value)))
            .flatten()
            .chain(pending)
            .max();
        match highest {
            Some(n) => n + 1,
            None => spec
                .env
                .get(var)
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0),
        }
    }

    /// Resolves targets to ids (sorted, deduplicated). Every target must match something,
    /// otherwise nothing is returned and the first unknown one is named.
    pub fn resolve(&self, targets: &[Target]) -> Result<Vec<u32>, UnknownTarget> {
        // What targets are matched on, read in place: not the whole states (their
        // environments), so resolving costs little with many apps.
        let mut all = Vec::with_capacity(self.instances.len());
        self.for_each(|p| {
            all.push(Key {
                pm_id: p.pm_id,
                name: p.spec.name.clone(),
                namespace: p.spec.namespace.clone(),
                script: p.spec.script.clone(),
            })
        });
        let mut ids = Vec::new();
        for target in targets {
            let matched = match_target(&all, target)?;
            if matched.is_empty() {
                return Err(UnknownTarget(target.display()));
            }
            ids.extend(matched);
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }
}

/// What a target is matched against, per instance.
struct Key {
    pm_id: u32,
    name: String,
    namespace: String,
    script: String,
}

fn match_target(all: &[Key], target: &Target) -> Result<Vec<u32>, UnknownTarget> {
    let ids = |f: &dyn Fn(&Key) -> bool| -> Vec<u32> {
        all.iter().filter(|p| f(p)).map(|p| p.pm_id).collect()
    };
    Ok(match target {
        Target::All => ids(&|_| true),
        Target::Id(id) => ids(&|p| p.pm_id == *id),
        Target::Name(name) => {
            let by_name = ids(&|p| &p.name == name);
            if by_name.is_empty() {
                ids(&|p| &p.namespace == name)
            } else {
                by_name
            }
        }
        Target::Regex(re) => {
            let re = regex_lite::Regex::new(re)
                .map_err(|e| UnknownTarget(format!("/{re}/ (invalid regex: {e})")))?;
            ids(&|p| re.is_match(&p.name))
        }
        Target::Word { word, path } => match_word(all, word, path),
    })
}

/// PM2's `_operate` on a word: the apps named so or running that script (both, PM2's
/// `getProcessIdByName`), else the namespace, else, for a number, the id; so an app named
/// `123` wins over the id 123.
fn match_word(all: &[Key], word: &str, path: &str) -> Vec<u32> {
    let ids = |f: &dyn Fn(&Key) -> bool| -> Vec<u32> {
        all.iter().filter(|p| f(p)).map(|p| p.pm_id).collect()
    };
    let by_name = ids(&|p| p.name == word || p.script == path);
    if !by_name.is_empty() {
        return by_name;
    }
    let by_namespace = ids(&|p| p.namespace == word);
    if !by_namespace.is_empty() {
        return by_namespace;
    }
    match word.parse::<u32>() {
        Ok(id) => ids(&|p| p.pm_id == id),
        Err(_) => Vec::new(),
    }
}
