//! Logging in: the one-time link `pm2 plus` prints (`GET /login?token=`), or the password
//! (`POST /login`, at most one failed attempt a second); both end in a session cookie and
//! a redirect to `/`, so no secret stays in the address bar.

use crate::assets;
use crate::auth::{self, Via};
use crate::body::Body;
use crate::reply;
use crate::state::State;
use bytes::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A failed password attempt blocks the next ones for this long.
const FAILURE_PAUSE: Duration = Duration::from_secs(1);

/// The login page, with 401.
pub fn page() -> Response<Body> {
    reply::text(
        StatusCode::UNAUTHORIZED,
        "text/html; charset=utf-8",
        assets::LOGIN_HTML.to_string(),
    )
}

/// `GET /login?token=...`.
pub fn link(state: &State, query: &str) -> Response<Body> {
    let token = query_param(query, "token").unwrap_or_default();
    if token.is_empty()
        || !state
            .settings
            .files
            .consume_login_token(&token, pm2_home::now_ms())
    {
        return page();
    }
    session(state, Via::Link)
}

/// `POST /login` with the form field `password`.
pub async fn password(state: Arc<State>, form: Bytes) -> Response<Body> {
    let recent_failure = state
        .last_failed_login
        .lock()
        .ok()
        .and_then(|l| *l)
        .is_some_and(|at| at.elapsed() < FAILURE_PAUSE);
    if recent_failure {
        return reply::error(
            StatusCode::TOO_MANY_REQUESTS,
            "too many attempts: wait a second",
        );
    }
    let given = query_param(&String::from_utf8_lossy(&form), "password").unwrap_or_default();
    let hash = pm2_home::plus::read_trimmed(&state.settings.files.password());
    // Argon2 takes tens of milliseconds of CPU: off the connection's thread.
    let ok = match hash {
        None => false,
        Some(hash) => tokio::task::spawn_blocking(move || auth::password_matches(&hash, &given))
            .await
            .unwrap_or(false),
    };
    if !ok {
        if let Ok(mut last) = state.last_failed_login.lock() {
            *last = Some(Instant::now());
        }
        return page();
    }
    session(&state, Via::Password)
}

/// Opens a session and sends its cookie with a redirect to the page.
fn session(state: &State, via: Via) -> Response<Body> {
    let cookie = match state.sessions.lock() {
        Ok(mut s) => s.open(via, pm2_home::now_ms()),
        Err(_) => return reply::error(StatusCode::INTERNAL_SERVER_ERROR, "sessions unavailable"),
    };
    let Ok(cookie) = cookie else {
        return reply::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "no randomness for a session",
        );
    };
    with_cookie(
        reply::see_other("/"),
        &auth::set_cookie(&cookie, state.settings.acceptor.is_some()),
    )
}

/// `POST /logout`.
pub fn logout(state: &State, headers: &hyper::HeaderMap) -> Response<Body> {
    if let (Some(cookie), Ok(mut s)) = (auth::cookie_value(headers), state.sessions.lock()) {
        s.close(&cookie);
    }
    with_cookie(
        reply::see_other("/"),
        &auth::clear_cookie(state.settings.acceptor.is_some()),
    )
}

fn with_cookie(mut r: Response<Body>, cookie: &str) -> Response<Body> {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// The value of `name` in a query string or a form body (`+` is a space, `%XX` decoded).
pub fn query_param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| {
            let v = v.replace('+', " ");
            percent_encoding::percent_decode_str(&v)
                .decode_utf8_lossy()
                .into_owned()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_decoded() {
        assert_eq!(
            query_param("a=1&password=p%40ss+word", "password").as_deref(),
            Some("p@ss word")
        );
        assert_eq!(query_param("token", "token").as_deref(), Some(""));
        assert_eq!(query_param("x=1", "token"), None);
    }
}
