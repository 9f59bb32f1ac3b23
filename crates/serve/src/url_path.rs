//! A request's URL path → the segments of a file path under the root, or a refusal.
//!
//! Each segment is percent-decoded first (so `%2e%2e` is `..` and `%2f` splits), then
//! `.` and `..` are applied. A `..` that stays inside the root is resolved as PM2 does
//! (`/a/../b.css` is `/b.css`); one that would climb above the root is refused, whatever
//! its spelling, rather than clamped at the root.

use percent_encoding::percent_decode_str;

/// Why a URL path names no file.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// It climbs out of the served directory (403).
    Outside,
    /// It is not a valid percent-encoded UTF-8 path, or holds a NUL byte (400).
    Malformed,
}

/// The file path segments `raw` (a URL path without its query) names under the root.
pub fn segments(raw: &str) -> Result<Vec<String>, Refusal> {
    let mut out: Vec<String> = Vec::new();
    for encoded in raw.split('/') {
        let decoded = percent_decode_str(encoded)
            .decode_utf8()
            .map_err(|_| Refusal::Malformed)?;
        for part in decoded.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    out.pop().ok_or(Refusal::Outside)?;
                }
                p if p.contains('\0') => return Err(Refusal::Malformed),
                p => out.push(p.to_string()),
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> Vec<String> {
        segments(raw).unwrap()
    }

    #[test]
    fn plain_and_encoded_names() {
        assert_eq!(ok("/"), Vec::<String>::new());
        assert_eq!(ok("/a/b.css"), vec!["a", "b.css"]);
        assert_eq!(ok("/a%20b/%C3%A9.txt"), vec!["a b", "é.txt"]);
        assert_eq!(ok("//a/./b/"), vec!["a", "b"]);
    }

    #[test]
    fn dot_dot_inside_the_root_resolves() {
        assert_eq!(ok("/sub/../a.css"), vec!["a.css"]);
        assert_eq!(ok("/sub/%2e%2e/a.css"), vec!["a.css"]);
        assert_eq!(ok("/sub/..%2fa.css"), vec!["a.css"]);
    }

    #[test]
    fn every_spelling_of_an_escape_is_refused() {
        for raw in [
            "/../secret",
            "/%2e%2e/secret",
            "/%2E%2E/secret",
            "/.%2e/secret",
            "/sub/..%2f..%2fsecret",
            "/sub/%2e%2e%2f%2e%2e%2fsecret",
            "/a/../../secret",
        ] {
            assert_eq!(segments(raw), Err(Refusal::Outside), "{raw}");
        }
    }

    #[test]
    fn malformed_paths_are_refused() {
        assert_eq!(segments("/%ff"), Err(Refusal::Malformed));
        assert_eq!(segments("/a%00b"), Err(Refusal::Malformed));
    }
}
