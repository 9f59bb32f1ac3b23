//! A found file's answer: PM2's headers (content type, CORS) plus `Last-Modified`,
//! `Accept-Ranges` and `Content-Length`; 304 and 206/416 from the request's conditions;
//! the bytes streamed from the file.

use crate::body::Body;
use crate::conditional::{self, Ranged};
use crate::log;
use crate::mime;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Response, StatusCode};
use std::fs::Metadata;
use std::io::SeekFrom;
use std::path::Path;
use tokio::io::AsyncSeekExt;

/// The answer to a GET (or HEAD, without the bytes) of `path`.
pub async fn serve(
    request: &HeaderMap,
    head: bool,
    path: &Path,
    meta: &Metadata,
) -> Response<Body> {
    let len = meta.len();
    let mtime = meta.modified().ok();
    let get = |name: HeaderName| request.get(name).and_then(|v| v.to_str().ok());
    let mut response = Response::new(Body::empty());
    set_common(response.headers_mut(), path, mtime);
    if mtime.is_some_and(|m| conditional::not_modified(get(header::IF_MODIFIED_SINCE), m)) {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        return response;
    }
    let range = match conditional::range(get(header::RANGE), len) {
        Ranged::Whole => 0..len,
        Ranged::Part(range) => {
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
            let content_range = format!("bytes {}-{}/{len}", range.start, range.end - 1);
            set(
                response.headers_mut(),
                header::CONTENT_RANGE,
                &content_range,
            );
            range
        }
        Ranged::Unsatisfiable => {
            *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            set(
                response.headers_mut(),
                header::CONTENT_RANGE,
                &format!("bytes */{len}"),
            );
            set(response.headers_mut(), header::CONTENT_LENGTH, "0");
            return response;
        }
    };
    let count = range.end - range.start;
    set(
        response.headers_mut(),
        header::CONTENT_LENGTH,
        &count.to_string(),
    );
    if !head {
        match open_at(path, range.start).await {
            Ok(file) => *response.body_mut() = Body::file(file, count),
            Err(e) => return failed(path, &e),
        }
    }
    response
}

/// A whole file as the body of an answer with `status` and type `text/html` (the custom
/// 404 page); `None` if it cannot be opened.
pub async fn page(
    status: StatusCode,
    head: bool,
    path: &Path,
    meta: &Metadata,
) -> Option<Response<Body>> {
    let body = if head {
        Body::empty()
    } else {
        Body::file(open_at(path, 0).await.ok()?, meta.len())
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    set(headers, header::CONTENT_LENGTH, &meta.len().to_string());
    Some(response)
}

/// The headers every answer with a file carries.
fn set_common(headers: &mut HeaderMap, path: &Path, mtime: Option<std::time::SystemTime>) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(mime::content_type(&name)),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET"),
    );
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(mtime) = mtime {
        set(
            headers,
            header::LAST_MODIFIED,
            &httpdate::fmt_http_date(mtime),
        );
    }
}

/// Sets a header whose value this module built (always visible ASCII).
fn set(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

/// The file, positioned at `start`.
async fn open_at(path: &Path, start: u64) -> std::io::Result<tokio::fs::File> {
    let mut file = tokio::fs::File::open(path).await?;
    if start > 0 {
        file.seek(SeekFrom::Start(start)).await?;
    }
    Ok(file)
}

/// 500 for a file found a moment ago that cannot be opened now (permissions).
fn failed(path: &Path, e: &std::io::Error) -> Response<Body> {
    log::error(&format!("Error while serving {}: {e}", path.display()));
    let mut response = Response::new(Body::text(format!(
        "Sorry, check with the site admin for error: {e} ..\n"
    )));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}
