//! The `sd_notify` messages pm2-rs reads: one datagram's `KEY=VALUE` lines, parsed
//! without side effects (unit-tested apart from the socket).

/// Bytes read of one datagram (systemd's own messages are far smaller).
pub const MAX_DATAGRAM: usize = 4096;
/// Characters of `STATUS=` kept.
pub const MAX_STATUS: usize = 256;
/// One thing a process said, of those pm2-rs acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// `READY=1`: done starting up.
    Ready,
    /// `STOPPING=1`: shutting down.
    Stopping,
    /// `STATUS=...`: a line for `describe`.
    Status(String),
    /// `WATCHDOG=1`: still alive.
    Watchdog,
    /// `WATCHDOG_USEC=n`: the watchdog interval the process asks for.
    WatchdogUsec(u64),
}

/// A notice and the pid the kernel says sent it.
#[derive(Debug)]
pub struct Note {
    /// The sender's pid (from `SCM_CREDENTIALS`).
    pub pid: u32,
    /// What it said.
    pub notice: Notice,
}
/// The notices in one datagram (`KEY=VALUE` lines), in order; the rest is ignored.
pub fn parse(datagram: &[u8]) -> Vec<Notice> {
    String::from_utf8_lossy(datagram)
        .split('\n')
        .filter_map(parse_line)
        .collect()
}

fn parse_line(line: &str) -> Option<Notice> {
    let (key, value) = line.split_once('=')?;
    let one = value == "1";
    match key {
        "READY" => one.then_some(Notice::Ready),
        "STOPPING" => one.then_some(Notice::Stopping),
        "WATCHDOG" => one.then_some(Notice::Watchdog),
        "STATUS" => Some(Notice::Status(
            value
                .chars()
                .filter(|c| !c.is_control())
                .take(MAX_STATUS)
                .collect(),
        )),
        "WATCHDOG_USEC" => value
            .parse()
            .ok()
            .filter(|v| *v > 0)
            .map(Notice::WatchdogUsec),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_known_keys_are_read_and_the_rest_ignored() {
        let got =
            parse(b"READY=1\nSTATUS=warming up\nWATCHDOG=1\nWATCHDOG_USEC=500000\nSTOPPING=1");
        assert_eq!(
            got,
            vec![
                Notice::Ready,
                Notice::Status("warming up".into()),
                Notice::Watchdog,
                Notice::WatchdogUsec(500_000),
                Notice::Stopping,
            ]
        );
        assert!(parse(b"READY=0\nREADY\nFOO=1\n=\n\n\xff\xfe").is_empty());
        assert!(parse(b"WATCHDOG_USEC=soon\nWATCHDOG_USEC=0").is_empty());
    }

    #[test]
    fn status_is_bounded_and_has_no_control_characters() {
        let long = format!("STATUS={}\u{7}x", "a".repeat(1000));
        let got = parse(long.as_bytes());
        let [Notice::Status(s)] = got.as_slice() else {
            panic!("one status expected: {got:?}");
        };
        assert_eq!(s.chars().count(), MAX_STATUS);
        assert!(!s.contains('\u{7}'));
    }
}
