//! One request → one answer: basic auth, the URL path, the file (with `/` as the
//! homepage and PM2's SPA fallbacks), then the custom `404.html` when nothing is there.

use crate::auth;
use crate::body::Body;
use crate::files;
use crate::log;
use crate::lookup::{self, Found};
use crate::settings::Settings;
use crate::url_path::{self, Refusal};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use std::path::PathBuf;

/// Answers one request.
pub async fn handle<B>(settings: &Settings, request: Request<B>) -> Response<Body> {
    if let Some(expected) = &settings.basic_auth {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if !auth::authorized(given, expected) {
            return unauthorized();
        }
    }
    let segments = match url_path::segments(request.uri().path()) {
        Ok(s) => s,
        Err(Refusal::Outside) => return text(StatusCode::FORBIDDEN, "403 Forbidden"),
        Err(Refusal::Malformed) => return text(StatusCode::BAD_REQUEST, "400 Bad Request"),
    };
    let head = request.method() == Method::HEAD;
    let tries = candidates(settings, segments);
    match find_first(settings.root.clone(), tries.clone()).await {
        Found::File(path, meta) => files::serve(request.headers(), head, &path, &meta).await,
        Found::Outside => text(StatusCode::FORBIDDEN, "403 Forbidden"),
        Found::Missing => {
            log::error(&format!(
                "Error while serving {}: no such file",
                settings.root.join(tries[0].join("/")).display()
            ));
            not_found(settings, head).await
        }
        Found::Failed(e) => {
            log::error(&format!(
                "Error while serving {}: {e}",
                request.uri().path()
            ));
            let msg = format!("Sorry, check with the site admin for error: {e} ..\n");
            text(StatusCode::INTERNAL_SERVER_ERROR, &msg)
        }
    }
}

/// The paths to try in turn: the one asked for (`/` is the homepage); with `--spa`, the
/// file of the same basename at the root, then the homepage (PM2's order).
fn candidates(settings: &Settings, segments: Vec<String>) -> Vec<Vec<String>> {
    if segments.is_empty() {
        return vec![settings.homepage.clone()];
    }
    let mut tries = vec![segments];
    if settings.spa {
        let basename = tries[0].last().cloned().into_iter().collect();
        tries.push(basename);
        tries.push(settings.homepage.clone());
        tries.dedup();
    }
    tries
}

/// The first candidate that exists (or the first that is refused or fails), looked up off
/// the async thread.
async fn find_first(root: PathBuf, tries: Vec<Vec<String>>) -> Found {
    let found = tokio::task::spawn_blocking(move || {
        for segments in &tries {
            match lookup::find(&root, segments) {
                Found::Missing => continue,
                other => return other,
            }
        }
        Found::Missing
    })
    .await;
    found.unwrap_or_else(|e| Found::Failed(std::io::Error::other(e)))
}

/// 404 with the root's `404.html` if it has one, else PM2's text.
async fn not_found(settings: &Settings, head: bool) -> Response<Body> {
    let page = find_first(settings.root.clone(), vec![vec!["404.html".into()]]).await;
    if let Found::File(path, meta) = page {
        if let Some(response) = files::page(StatusCode::NOT_FOUND, head, &path, &meta).await {
            return response;
        }
    }
    text(StatusCode::NOT_FOUND, "404 Not Found")
}

/// 401 asking for Basic credentials, with PM2's realm.
fn unauthorized() -> Response<Body> {
    let mut response = text(StatusCode::UNAUTHORIZED, "401 Unauthorized");
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"Authentication service\""),
    );
    response
}

/// A short `text/html` answer (PM2's type for its error pages).
pub fn text(status: StatusCode, body: &str) -> Response<Body> {
    let mut response = Response::new(Body::text(body.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    response
}
