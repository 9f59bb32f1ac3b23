//! Why an inspector could not be opened, in words that say what to do: Node's own line
//! from the app's error log, the app of this daemon whose inspector holds the port.

use super::select::label;
use pm2_proto::ProcessInfo;
use std::path::Path;

/// Why an inspector could not be opened, with Node's own words when its error log has
/// them (`Starting inspector on 127.0.0.1:9229 failed: address already in use`), the app
/// of this daemon whose inspector holds that port, and what to do.
pub(super) fn open_failure(
    p: &ProcessInfo,
    e: &pm2_inspector::Error,
    everyone: &[ProcessInfo],
) -> String {
    let mut text = format!("cannot open the inspector of {}: {e}", label(p));
    if let pm2_inspector::Error::NotOpened { .. } = e {
        if let Some(line) = node_says(Path::new(&p.paths.err)) {
            text.push_str(&format!("; Node said: \"{line}\""));
            if let Some(holder) = failed_port(&line).and_then(|port| holder_of(port, p, everyone)) {
                text.push_str(&format!(
                    " (the inspector of {} holds that port)",
                    label(holder)
                ));
            }
        }
        text.push_str(&format!(
            ". Give the app an inspector port of its own: pm2 restart {} \
             --node-args=\"--inspect-port=<port>\"",
            p.spec.name
        ));
    }
    text
}

/// The port of Node's "Starting inspector on 127.0.0.1:9229 failed: ..." line.
fn failed_port(line: &str) -> Option<u16> {
    let addr = line
        .strip_prefix("Starting inspector on ")?
        .split(" failed")
        .next()?;
    addr.rsplit(':').next()?.parse().ok()
}

/// The other running instance of this daemon that listens on `port`, if one does.
fn holder_of<'a>(
    port: u16,
    p: &ProcessInfo,
    everyone: &'a [ProcessInfo],
) -> Option<&'a ProcessInfo> {
    everyone.iter().filter(|q| q.pm_id != p.pm_id).find(|q| {
        q.pid.is_some_and(|pid| {
            pm2_inspector::listeners::listening(pid)
                .is_ok_and(|ls| ls.iter().any(|l| l.addr.port() == port))
        })
    })
}

/// The last "Starting inspector on ... failed" line of the end of an error log.
fn node_says(log: &Path) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(log).ok()?;
    let len = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(LOG_TAIL)))
        .ok()?;
    let mut tail = Vec::new();
    file.take(LOG_TAIL).read_to_end(&mut tail).ok()?;
    String::from_utf8_lossy(&tail)
        .lines()
        .rev()
        .find_map(|l| Some(l[l.find("Starting inspector on")?..].trim_end().to_string()))
}

/// How much of the end of the error log is read for Node's inspector message.
const LOG_TAIL: u64 = 8192;

#[cfg(test)]
mod tests {
    use super::failed_port;

    #[test]
    fn the_port_node_could_not_take_is_read_from_its_line() {
        let line = "Starting inspector on 127.0.0.1:9229 failed: address already in use";
        assert_eq!(failed_port(line), Some(9229));
        assert_eq!(
            failed_port("Starting inspector on [::1]:4000 failed: x"),
            Some(4000)
        );
        assert_eq!(
            failed_port("Debugger listening on ws://127.0.0.1:9229/x"),
            None
        );
    }
}
