//! Who is whose parent, read from `/proc/<pid>/stat` with the least work: only the fields
//! up to the parent pid of each process, into a reused buffer. Stopping an app walks its
//! tree, and the walk visits every process on the machine (the kernel has no child list
//! that is always there: `/proc/<pid>/task/*/children` needs `CONFIG_PROC_CHILDREN`), so
//! this is what a `stop`, `restart` or `delete` costs per process running.

use std::collections::HashMap;
use std::io::Read;

/// Every process's children, by parent pid, from one pass over `/proc`.
pub(crate) fn children_by_parent() -> HashMap<i32, Vec<i32>> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
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
    fn this_process_is_its_parents_child() {
        let me = std::process::id() as i32;
        let parent = std::os::unix::process::parent_id() as i32;
        let map = children_by_parent();
        assert!(map.get(&parent).is_some_and(|c| c.contains(&me)), "{map:?}");
    }
}
