//! Who is whose child, read from `/proc` with the least work. Stopping an app without a
//! cgroup walks its tree. Where the kernel keeps child lists
//! (`/proc/<pid>/task/<tid>/children`, `CONFIG_PROC_CHILDREN`, on in Debian's and most
//! distributions' kernels), the walk reads only the app's own processes, so a stop costs
//! the same with 1 app or 1,000. Elsewhere it needs every process's parent, from one pass
//! over `/proc/<pid>/stat` of every process on the machine; that pass is shared by the
//! stops of one batch (`pm2 kill`, `stop all`), so a batch costs one pass, not one per app.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Every process's children, by parent pid.
pub(crate) type ChildMap = HashMap<i32, Vec<i32>>;

/// How long one pass over `/proc` serves the stops that follow it: the stops of one batch
/// start within this window of each other, and a process forked since is still caught by
/// the final SIGKILL to the app's process group and by the second look after the grace
/// period.
const SNAPSHOT_SERVES: Duration = Duration::from_millis(100);

/// `root`'s descendants, parents before their children, from the kernel's child lists
/// where it keeps them, else from a (shared) snapshot of every process's parent.
pub(crate) fn tree_of(root: i32) -> Vec<i32> {
    if kernel_lists_children() {
        return walk(root, children_listed);
    }
    let snapshot = shared_snapshot();
    walk(root, |pid| snapshot.get(&pid).cloned().unwrap_or_default())
}

/// Breadth-first from `root` with `children_of`, each pid once, `root` excluded.
pub(crate) fn walk(root: i32, mut children_of: impl FnMut(i32) -> Vec<i32>) -> Vec<i32> {
    let mut order = Vec::new();
    let mut seen = std::collections::HashSet::from([root]);
    let mut next = 0;
    let mut parent = root;
    loop {
        for child in children_of(parent) {
            if seen.insert(child) {
                order.push(child);
            }
        }
        let Some(&p) = order.get(next) else {
            return order;
        };
        parent = p;
        next += 1;
    }
}

/// Whether this kernel has `/proc/<pid>/task/<tid>/children` (probed once, on this
/// thread's own entry).
fn kernel_lists_children() -> bool {
    static LISTS: OnceLock<bool> = OnceLock::new();
    *LISTS.get_or_init(|| std::fs::metadata("/proc/thread-self/children").is_ok())
}

/// `pid`'s children: those of each of its threads (a child forked by a thread is listed
/// under that thread only). A process that exited meanwhile has none.
fn children_listed(pid: i32) -> Vec<i32> {
    let mut children = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return children;
    };
    let mut text = String::new();
    for task in tasks.flatten() {
        text.clear();
        let read = std::fs::File::open(task.path().join("children"))
            .and_then(|mut f| f.read_to_string(&mut text));
        if read.is_ok() {
            children.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<i32>().ok()),
            );
        }
    }
    children
}

/// The latest snapshot when it is younger than [`SNAPSHOT_SERVES`], else a new one.
fn shared_snapshot() -> Arc<ChildMap> {
    static LATEST: Mutex<Option<(Instant, Arc<ChildMap>)>> = Mutex::new(None);
    let mut latest = LATEST.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((at, map)) = latest.as_ref() {
        if at.elapsed() < SNAPSHOT_SERVES {
            return map.clone();
        }
    }
    let at = Instant::now();
    let map = Arc::new(children_by_parent());
    *latest = Some((at, map.clone()));
    map
}

/// Every process's children, by parent pid, from one pass over `/proc`.
pub(crate) fn children_by_parent() -> ChildMap {
    let mut children: ChildMap = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return children;
    };
    let mut buf = Vec::with_capacity(512);
    let mut path = String::with_capacity(32);
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        path.clear();
        path.push_str("/proc/");
        path.push_str(name.to_str().unwrap_or_default());
        path.push_str("/stat");
        buf.clear();
        // A process that exited meanwhile has no stat: it has no children to stop either.
        let read = std::fs::File::open(&path).and_then(|f| f.take(4096).read_to_end(&mut buf));
        if let (Ok(_), Some(ppid)) = (read, parent_of(&buf)) {
            children.entry(ppid).or_default().push(pid);
        }
    }
    children
}

/// The parent pid in the text of a `/proc/<pid>/stat`: the 4th field, after the command
/// name, which is in parentheses and may itself hold spaces and parentheses (so the last
/// `)` ends it).
fn parent_of(stat: &[u8]) -> Option<i32> {
    let close = stat.iter().rposition(|b| *b == b')')?;
    let mut fields = stat
        .get(close + 1..)?
        .split(|b| *b == b' ')
        .filter(|f| !f.is_empty());
    let _state = fields.next()?;
    std::str::from_utf8(fields.next()?).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parent_follows_the_command_name_whatever_it_holds() {
        assert_eq!(parent_of(b"42 (sleep) S 7 42 42 0 -1"), Some(7));
        assert_eq!(parent_of(b"43 (a) b) (c) R 1 43 43 0"), Some(1));
        assert_eq!(parent_of(b"44 (x y) Z 0 0 0"), Some(0));
    }

    #[test]
    fn a_cut_or_garbled_stat_has_no_parent() {
        for bad in [&b""[..], b"42 (sleep", b"42 (sleep) S", b"42 (sleep) S x 1"] {
            assert_eq!(parent_of(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn a_walk_visits_each_descendant_once_parents_first() {
        let map: ChildMap = HashMap::from([
            (1, vec![2, 3]),
            (2, vec![4]),
            (4, vec![1, 5]),
            (9, vec![10]),
        ]);
        let tree = walk(1, |p| map.get(&p).cloned().unwrap_or_default());
        assert_eq!(tree, vec![2, 3, 4, 5]);
        assert!(walk(7, |p| map.get(&p).cloned().unwrap_or_default()).is_empty());
    }

    #[test]
    fn the_kernels_lists_and_the_snapshot_find_the_same_children() {
        let mut kids: Vec<std::process::Child> = (0..3)
            .map(|_| {
                std::process::Command::new("sleep")
                    .arg("30")
                    .spawn()
                    .unwrap()
            })
            .collect();
        let me = std::process::id() as i32;
        let mut want: Vec<i32> = kids.iter().map(|k| k.id() as i32).collect();
        want.sort_unstable();
        let snapshot = children_by_parent();
        let mut from_snapshot = walk(me, |p| snapshot.get(&p).cloned().unwrap_or_default());
        let mut from_lists = walk(me, children_listed);
        let mut shared = tree_of(me);
        for k in &mut kids {
            let _ = k.kill();
            let _ = k.wait();
        }
        // Other tests of this binary may have children of their own meanwhile.
        for found in [&mut from_snapshot, &mut from_lists, &mut shared] {
            found.retain(|p| want.contains(p));
            found.sort_unstable();
        }
        assert_eq!(from_snapshot, want);
        if kernel_lists_children() {
            assert_eq!(from_lists, want);
        }
        assert_eq!(shared, want);
    }

    #[test]
    fn one_snapshot_serves_the_stops_that_follow_it() {
        // A loaded machine may take longer than the window between two calls: retried.
        let shared = (0..20).any(|_| Arc::ptr_eq(&shared_snapshot(), &shared_snapshot()));
        assert!(shared, "every call made a snapshot of its own");
    }

    #[test]
    fn this_process_is_its_parents_child() {
        let me = std::process::id() as i32;
        let parent = std::os::unix::process::parent_id() as i32;
        let map = children_by_parent();
        assert!(map.get(&parent).is_some_and(|c| c.contains(&me)), "{map:?}");
    }
}
