//! The decoders of what a peer sends `pm2 serve`, with the invariants that must hold
//! whatever the bytes are: the URL path (never a segment that climbs out of the root or
//! names a separator), the `Range` header (only ranges inside the file), `Authorization`
//! (only the exact credentials pass) and `If-Modified-Since`. The fuzz target
//! `serve_request` in `fuzz/` and the property tests below call the same function.
//!
//! Compiled for tests and with the `fuzzing` feature only.

use crate::auth::{authorized, Credentials};
use crate::conditional::{not_modified, range, Ranged};
use crate::url_path::segments;
use base64::Engine;
use std::path::{Component, Path};
use std::time::{Duration, UNIX_EPOCH};

/// The credentials every input is checked against (a colon in the password, as RFC 7617
/// allows).
const USER: &str = "user";
const PASSWORD: &str = "pa:ss";

/// One request: up to four lines, the URL path, the `Authorization`, `Range` and
/// `If-Modified-Since` values (each must be UTF-8 to reach the decoders, as hyper's
/// `to_str` requires).
pub fn request(data: &[u8]) {
    let mut lines = data.splitn(4, |b| *b == b'\n');
    let mut next = || lines.next().and_then(|l| std::str::from_utf8(l).ok());
    let (path, auth, ranged, since) = (next(), next(), next(), next());
    if let Some(path) = path {
        check_path(path);
    }
    check_auth(auth);
    for len in [0, 1, 4096, u64::MAX] {
        check_range(ranged, len);
    }
    for mtime in [UNIX_EPOCH, UNIX_EPOCH + Duration::from_secs(1 << 40)] {
        let _ = not_modified(since, mtime);
    }
}

/// An accepted path joins under the root as plain names only.
fn check_path(raw: &str) {
    let Ok(parts) = segments(raw) else {
        return;
    };
    let root = Path::new("/srv/root");
    let mut joined = root.to_path_buf();
    for part in &parts {
        assert!(
            !part.is_empty() && part != "." && part != ".." && !part.contains(['/', '\0']),
            "segment {part:?} of {raw:?}"
        );
        joined.push(part);
    }
    let below = joined.strip_prefix(root).expect("under the root");
    assert!(
        below
            .components()
            .all(|c| matches!(c, Component::Normal(_))),
        "{raw:?} names {joined:?}"
    );
}

/// Only a header carrying exactly `user:pa:ss` passes.
fn check_auth(header: Option<&str>) {
    let expected = Credentials {
        username: Some(USER.into()),
        password: Some(PASSWORD.into()),
    };
    if !authorized(header, &expected) {
        return;
    }
    let token = header
        .and_then(|h| h.trim_start().split_once(' '))
        .map(|(_, t)| t.trim())
        .unwrap_or_default();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token)
        .unwrap_or_default();
    assert_eq!(
        decoded,
        format!("{USER}:{PASSWORD}").as_bytes(),
        "{header:?}"
    );
}

/// A part asked for lies inside the file and is not empty.
fn check_range(header: Option<&str>, len: u64) {
    if let Ranged::Part(part) = range(header, len) {
        assert!(
            part.start < part.end && part.end <= len,
            "{header:?} on {len} bytes gave {part:?}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn any_bytes_as_a_request(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            request(&data);
        }

        #[test]
        fn request_shaped_inputs(
            path in "[/a.%2eEfF\u{e9}\\\\]{0,40}",
            auth in "(Basic |basic |Bearer )?[A-Za-z0-9+/=: ]{0,30}",
            ranged in "(bytes=)?[0-9 ,-]{0,20}",
        ) {
            request(format!("{path}\n{auth}\n{ranged}\nSun, 06 Nov 1994 08:49:37 GMT").as_bytes());
        }
    }

    #[test]
    fn the_checks_see_a_passing_header_and_an_inside_range() {
        // The invariants are exercised, not skipped: these inputs reach the asserting
        // branches (a header that passes, a part of the file).
        let token = base64::engine::general_purpose::STANDARD.encode("user:pa:ss");
        let header = format!("Basic {token}");
        let expected = Credentials {
            username: Some(USER.into()),
            password: Some(PASSWORD.into()),
        };
        assert!(authorized(Some(&header), &expected));
        assert_eq!(range(Some("bytes=0-10"), 4096), Ranged::Part(0..11));
        request(format!("/a/b\n{header}\nbytes=0-10\n").as_bytes());
    }

    /// Every input a fuzz target of this crate ever failed on stays fixed.
    #[test]
    fn fuzz_regressions() {
        pm2_fuzz_regressions::replay(&[("serve_request", request as fn(&[u8]))]);
    }
}
