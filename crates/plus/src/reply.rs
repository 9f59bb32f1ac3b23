//! Building responses, each with the dashboard's security headers: a strict
//! Content-Security-Policy (only this origin's own scripts and styles, no inline code, no
//! framing), no MIME sniffing, no referrer (a login link must not leak), and no caching
//! (`assets` replaces it for the static assets).

use crate::body::Body;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};

/// The policy every page is served with.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                   connect-src 'self'; img-src 'self' data:; base-uri 'none'; \
                   form-action 'self'; frame-ancestors 'none'";

/// A response with `status`, `content_type` and `body`, and the security headers.
pub fn with(status: StatusCode, content_type: &'static str, body: Body) -> Response<Body> {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A JSON answer.
pub fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    with(status, "application/json", Body::full(value.to_string()))
}

/// A JSON error: `{"error": message}`.
pub fn error(status: StatusCode, message: &str) -> Response<Body> {
    json(status, &serde_json::json!({ "error": message }))
}

/// A plain text answer.
pub fn text(status: StatusCode, content_type: &'static str, text: String) -> Response<Body> {
    with(status, content_type, Body::full(text))
}

/// A redirect after a form or a login link (303: the browser then GETs `location`).
pub fn see_other(location: &'static str) -> Response<Body> {
    let mut r = with(StatusCode::SEE_OTHER, "text/plain", Body::empty());
    r.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(location));
    r
}
