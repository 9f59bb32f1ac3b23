//! The page, its script and style, the login page and the OpenAPI file, embedded in the
//! binary: no CDN, no file to install, nothing fetched at run time.

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

/// The public asset at `path` and its content type.
pub fn public(path: &str) -> Option<(&'static str, &'static str)> {
    match path {
        "/assets/app.js" => Some(("text/javascript; charset=utf-8", APP_JS)),
        "/assets/app.css" => Some(("text/css; charset=utf-8", APP_CSS)),
        _ => None,
    }
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
}
