//! HTTP Basic authentication (`--basic-auth-username` / `--basic-auth-password`).

use base64::Engine;

/// The expected credentials; a side that is unset never matches (as in PM2, where an
/// unset username or password locks every request out).
#[derive(Debug, Clone)]
pub struct Credentials {
    /// `PM2_SERVE_BASIC_AUTH_USERNAME`.
    pub username: Option<String>,
    /// `PM2_SERVE_BASIC_AUTH_PASSWORD`.
    pub password: Option<String>,
}

/// Whether an `Authorization` header value carries these credentials.
///
/// The user-id ends at the first colon (RFC 7617), so a password may contain colons.
pub fn authorized(header: Option<&str>, expected: &Credentials) -> bool {
    let (Some(user), Some(password)) = (&expected.username, &expected.password) else {
        return false;
    };
    let Some(encoded) = header.and_then(basic_token) else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let Some((u, p)) = decoded
        .iter()
        .position(|b| *b == b':')
        .map(|i| decoded.split_at(i))
    else {
        return false;
    };
    // Both compared whole, so the time taken does not tell which one was wrong.
    let user_ok = same(u, user.as_bytes());
    let password_ok = same(&p[1..], password.as_bytes());
    user_ok & password_ok
}

/// The token after the `Basic` scheme (case-insensitive, as RFC 7235 says).
fn basic_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("basic").then_some(token)
}

/// Byte equality whose time depends only on the lengths.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials {
            username: Some("user".into()),
            password: Some("pa:ss".into()),
        }
    }

    fn header(plain: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(plain)
        )
    }

    #[test]
    fn the_right_pair_passes_and_anything_else_fails() {
        assert!(authorized(Some(&header("user:pa:ss")), &creds()));
        assert!(authorized(
            Some(&header("user:pa:ss").replace("Basic", "basic")),
            &creds()
        ));
        assert!(!authorized(Some(&header("user:pa")), &creds()));
        assert!(!authorized(Some(&header("usr:pa:ss")), &creds()));
        assert!(!authorized(Some(&header("userpass")), &creds()));
        assert!(!authorized(Some("Basic !!!"), &creds()));
        assert!(!authorized(Some("Bearer abc"), &creds()));
        assert!(!authorized(None, &creds()));
    }

    #[test]
    fn unset_credentials_lock_everyone_out() {
        let c = Credentials {
            username: Some("user".into()),
            password: None,
        };
        assert!(!authorized(Some(&header("user:")), &c));
    }
}
