//! Which instances a word names, and whether each has an inspector to open: a Node app,
//! online, with a pid. Every refusal says which instance and what to do.

use super::super::connection::connect;
use super::super::views::{fetch_list, select};
use super::super::words;
use crate::out;
use anyhow::Result;
use pm2_home::Pm2Home;
use pm2_proto::{ProcessInfo, Status};

/// The instances to inspect, and whether some were refused (already reported).
pub(super) struct Selection {
    /// Online Node instances, with their pid.
    pub ready: Vec<(ProcessInfo, u32)>,
    /// At least one instance was refused.
    pub refused: bool,
    /// Every instance of the daemon (to name the one whose inspector holds a port).
    pub everyone: Vec<ProcessInfo>,
}

/// The instances `word` names (an unknown word is an error naming it), each checked.
pub(super) fn instances(home: &Pm2Home, word: &str) -> Result<Selection> {
    let mut client = connect(home)?;
    let target = words::targets(&[word.to_string()])?.remove(0);
    let selected = select(&mut client, target)?;
    let mut selection = Selection {
        ready: Vec::new(),
        refused: false,
        everyone: fetch_list(&mut client)?,
    };
    for p in selected {
        match refusal(&p) {
            Some(why) => {
                out::error(&why);
                selection.refused = true;
            }
            None => {
                let pid = p.pid.unwrap_or_default();
                selection.ready.push((p, pid));
            }
        }
    }
    Ok(selection)
}

/// `api (id 0)`: how messages name an instance.
pub(super) fn label(p: &ProcessInfo) -> String {
    format!("{} (id {})", p.spec.name, p.pm_id)
}

/// Why this instance has no inspector to open, if it has not.
fn refusal(p: &ProcessInfo) -> Option<String> {
    if !runs_on_node(&p.spec.interpreter) {
        return Some(format!(
            "{} is not a Node app (its interpreter is {}): only Node apps have an inspector",
            label(p),
            p.spec.interpreter
        ));
    }
    if p.status != Status::Online || p.pid.is_none() {
        return Some(format!(
            "{} is {}, not online: its inspector opens in a running process (pm2 start {})",
            label(p),
            p.status.as_str(),
            p.spec.name
        ));
    }
    None
}

/// `node`, `nodejs`, `/usr/bin/node`, `node22`: the daemon's own test for a Node
/// interpreter (the one that gives an app Node's IPC channel).
fn runs_on_node(interpreter: &str) -> bool {
    std::path::Path::new(interpreter)
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("node"))
}

#[cfg(test)]
mod tests {
    use super::runs_on_node;

    #[test]
    fn node_is_known_by_its_file_name() {
        for yes in ["node", "nodejs", "/usr/bin/node", "/opt/node22/bin/node"] {
            assert!(runs_on_node(yes), "{yes}");
        }
        for no in ["bash", "python3", "none", "/usr/bin/bun", ""] {
            assert!(!runs_on_node(no), "{no}");
        }
    }
}
