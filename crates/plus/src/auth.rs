//! Who is calling: a browser with a session cookie (got from the one-time login link or
//! the password), or a script with the API token. Sessions live in memory only (a
//! restarted dashboard asks for a new link); the cookie is HttpOnly and SameSite=Strict,
//! and a state-changing call from a session must also carry the session's CSRF token in
//! `X-CSRF-Token` (the page reads it from `/api/session`).

use hyper::header::{self, HeaderMap};
use pm2_home::plus::{constant_time_eq, random_token};
use std::collections::HashMap;

/// The session cookie's name.
pub const COOKIE: &str = "pm2_plus_session";
/// How long a session lasts.
const SESSION_TTL_MS: u64 = 12 * 3600 * 1000;
/// The most sessions kept (the oldest goes first).
const MAX_SESSIONS: usize = 64;

/// How a session was opened (written to the audit log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The one-time link `pm2 plus` printed.
    Link,
    /// The password.
    Password,
}

/// One logged-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    /// Sent back in `X-CSRF-Token` on every POST.
    pub csrf: String,
    /// A name for the audit log that is not the secret.
    pub label: String,
    /// How it logged in.
    pub via: Via,
    /// When it expires, ms since the epoch.
    expires_ms: u64,
}

/// The sessions, by cookie value.
#[derive(Debug, Default)]
pub struct Sessions {
    by_cookie: HashMap<String, Session>,
}

/// The caller of one request.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A browser.
    Session(Session),
    /// A script with the API token.
    Token,
}

impl Caller {
    /// Who, for the audit log.
    pub fn who(&self) -> String {
        match self {
            Caller::Session(s) => format!(
                "session {} ({})",
                s.label,
                match s.via {
                    Via::Link => "login link",
                    Via::Password => "password",
                }
            ),
            Caller::Token => "api token".into(),
        }
    }

    /// Whether a state-changing call may go ahead: a token caller always (no ambient
    /// credential a page could borrow), a session only with its CSRF token.
    pub fn may_change(&self, headers: &HeaderMap) -> bool {
        match self {
            Caller::Token => true,
            Caller::Session(s) => headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|given| constant_time_eq(given.as_bytes(), s.csrf.as_bytes())),
        }
    }
}

impl Sessions {
    /// Opens a session; returns the cookie value.
    pub fn open(&mut self, via: Via, now_ms: u64) -> std::io::Result<String> {
        self.by_cookie.retain(|_, s| s.expires_ms > now_ms);
        if self.by_cookie.len() >= MAX_SESSIONS {
            if let Some(oldest) = self
                .by_cookie
                .iter()
                .min_by_key(|(_, s)| s.expires_ms)
                .map(|(k, _)| k.clone())
            {
                self.by_cookie.remove(&oldest);
            }
        }
        let cookie = random_token()?;
        let session = Session {
            csrf: random_token()?,
            label: random_token()?[..8].to_string(),
            via,
            expires_ms: now_ms + SESSION_TTL_MS,
        };
        self.by_cookie.insert(cookie.clone(), session);
        Ok(cookie)
    }

    /// The live session of this cookie value.
    fn find(&self, cookie: &str, now_ms: u64) -> Option<Session> {
        self.by_cookie
            .get(cookie)
            .filter(|s| s.expires_ms > now_ms)
            .cloned()
    }

    /// Ends the session of this cookie value.
    pub fn close(&mut self, cookie: &str) {
        self.by_cookie.remove(cookie);
    }
}

/// The `Set-Cookie` value of a new session; `secure` (over HTTPS) keeps the browser from
/// ever sending it over plain HTTP.
pub fn set_cookie(value: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200{}",
        secure_attr(secure)
    )
}

/// The `Set-Cookie` value that ends it in the browser.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        secure_attr(secure)
    )
}

fn secure_attr(secure: bool) -> &'static str {
    if secure {
        "; Secure"
    } else {
        ""
    }
}

/// The session cookie's value in the request, if any.
pub fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

/// Who is calling, if anyone we know.
pub fn caller(
    headers: &HeaderMap,
    sessions: &Sessions,
    api_token: &str,
    now_ms: u64,
) -> Option<Caller> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if let Some(token) = bearer {
        return constant_time_eq(token.trim().as_bytes(), api_token.as_bytes())
            .then_some(Caller::Token);
    }
    let cookie = cookie_value(headers)?;
    sessions.find(&cookie, now_ms).map(Caller::Session)
}

/// Checks `password` against the argon2 hash (PHC string) `pm2 plus --set-password`
/// stored.
pub fn password_matches(hash: &str, password: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn a_session_needs_its_cookie_and_its_csrf_token_to_change_things() {
        let mut sessions = Sessions::default();
        let cookie = sessions.open(Via::Link, 0).unwrap();
        let cookie_header = format!("a=b; {COOKIE}={cookie}");
        let h = headers(&[("cookie", &cookie_header)]);
        let Some(Caller::Session(s)) = caller(&h, &sessions, "tok", 1) else {
            panic!("no session");
        };
        assert!(!Caller::Session(s.clone()).may_change(&h));
        let with_csrf = headers(&[("cookie", &cookie_header), ("x-csrf-token", &s.csrf)]);
        assert!(Caller::Session(s).may_change(&with_csrf));
        assert!(caller(&h, &sessions, "tok", SESSION_TTL_MS + 1).is_none());
        sessions.close(&cookie);
        assert!(caller(&h, &sessions, "tok", 1).is_none());
    }

    #[test]
    fn the_api_token_is_a_bearer_token() {
        let sessions = Sessions::default();
        let ok = headers(&[("authorization", "Bearer tok")]);
        assert!(matches!(
            caller(&ok, &sessions, "tok", 0),
            Some(Caller::Token)
        ));
        let bad = headers(&[("authorization", "Bearer nope")]);
        assert!(caller(&bad, &sessions, "tok", 0).is_none());
    }

    #[test]
    fn passwords_are_checked_against_their_hash() {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let hash = argon2::Argon2::default()
            .hash_password(b"s3cret-pass", &salt)
            .unwrap()
            .to_string();
        assert!(password_matches(&hash, "s3cret-pass"));
        assert!(!password_matches(&hash, "wrong"));
        assert!(!password_matches("not a hash", "s3cret-pass"));
    }
}
