//! The page, its script and style, the vendored charting library (uPlot, MIT), the login
//! page and the OpenAPI file, embedded in the binary: no CDN, no file to install, nothing
//! fetched at run time. The static assets carry an ETag (a browser revalidates and gets a
//! 304 instead of the file); uPlot's URLs hold its version, so they are cached as immutable.

use crate::body::Body;
use crate::reply;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Response, StatusCode};

/// The dashboard page.
pub const INDEX_HTML: &str = include_str!("../assets/index.html");
/// The login page (served with 401 to a browser without a session).
pub const LOGIN_HTML: &str = include_str!("../assets/login.html");
/// The page's script.
pub const APP_JS: &str = include_str!("../assets/app.js");
/// The page's style.
pub const APP_CSS: &str = include_str!("../assets/app.css");
/// The API's description.
pub const OPENAPI_JSON: &str = include_str!("../assets/openapi.json");
/// The vendored uPlot's version: in its URLs, so a new version is a new URL.
const UPLOT_VERSION: &str = "1.6.32";
/// uPlot's script (the npm package's `dist/uPlot.iife.min.js`, unchanged).
const UPLOT_JS: &str = include_str!("../assets/vendor/uplot/uPlot.iife.min.js");
/// uPlot's style (`dist/uPlot.min.css`).
const UPLOT_CSS: &str = include_str!("../assets/vendor/uplot/uPlot.min.css");
/// uPlot's MIT licence: its notice goes with every copy, so the binary serves it too.
const UPLOT_LICENSE: &str = include_str!("../assets/vendor/uplot/LICENSE");

/// A file served to anyone (the login page needs none of it, but nothing in it is secret).
pub struct Asset {
    /// Its content type.
    pub kind: &'static str,
    /// Its text.
    pub text: &'static str,
    /// Whether its URL names its version (cached for a year, never revalidated).
    pub immutable: bool,
}

/// The public asset at `path`.
pub fn public(path: &str) -> Option<Asset> {
    const JS: &str = "text/javascript; charset=utf-8";
    const CSS: &str = "text/css; charset=utf-8";
    let uplot = path
        .strip_prefix("/assets/vendor/uplot-")
        .and_then(|rest| rest.strip_prefix(UPLOT_VERSION))
        .and_then(|rest| rest.strip_prefix('/'));
    let (kind, text, immutable) = match (path, uplot) {
        ("/assets/app.js", _) => (JS, APP_JS, false),
        ("/assets/app.css", _) => (CSS, APP_CSS, false),
        (_, Some("uPlot.iife.min.js")) => (JS, UPLOT_JS, true),
        (_, Some("uPlot.min.css")) => (CSS, UPLOT_CSS, true),
        (_, Some("LICENSE")) => ("text/plain; charset=utf-8", UPLOT_LICENSE, true),
        _ => return None,
    };
    Some(Asset {
        kind,
        text,
        immutable,
    })
}

/// The answer to a GET of `asset`: the file, or 304 when the browser's copy (its
/// `If-None-Match`) is this one.
pub fn answer(asset: &Asset, request: &HeaderMap) -> Response<Body> {
    let etag = format!("\"{:016x}\"", crate::hash::fnv1a(asset.text.bytes()));
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag));
    let mut r = if fresh {
        reply::with(StatusCode::NOT_MODIFIED, asset.kind, Body::empty())
    } else {
        reply::text(StatusCode::OK, asset.kind, asset.text.to_string())
    };
    let cache = if asset.immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(tag) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, tag);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_has_no_inline_script_or_style() {
        for page in [INDEX_HTML, LOGIN_HTML] {
            assert!(!page.contains("<script>"), "inline script");
            assert!(!page.contains("style="), "inline style");
            assert!(!page.contains("http"), "no external URL");
        }
    }

    #[test]
    fn the_page_loads_the_served_uplot_of_this_version() {
        for file in ["uPlot.iife.min.js", "uPlot.min.css", "LICENSE"] {
            let path = format!("/assets/vendor/uplot-{UPLOT_VERSION}/{file}");
            assert!(INDEX_HTML.contains(&path), "index.html lacks {path}");
            let asset = public(&path).expect("served");
            assert!(asset.immutable && !asset.text.is_empty());
        }
        assert!(UPLOT_JS.starts_with(&format!(
            "/*! https://github.com/leeoniya/uPlot (v{UPLOT_VERSION}) */"
        )));
    }

    #[test]
    fn a_known_etag_gets_304_and_another_the_file() {
        let asset = public("/assets/app.js").expect("served");
        let first = answer(&asset, &HeaderMap::new());
        assert_eq!(first.status(), StatusCode::OK);
        assert_eq!(first.headers()[header::CACHE_CONTROL], "no-cache");
        let tag = first.headers()[header::ETAG].clone();
        let mut again = HeaderMap::new();
        again.insert(header::IF_NONE_MATCH, tag);
        assert_eq!(answer(&asset, &again).status(), StatusCode::NOT_MODIFIED);
        again.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"0\""));
        assert_eq!(answer(&asset, &again).status(), StatusCode::OK);
    }
}
