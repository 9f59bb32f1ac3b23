//! The webhook client: one JSON POST over HTTP/1 to an `http://` URL, one connection per
//! request, the whole exchange under a deadline (a receiver that never answers costs one
//! task for that long, nothing else). hyper's own client connection, no pool: alerts are
//! rare.

use crate::body::Body;
use hyper::header::{CONTENT_TYPE, HOST, USER_AGENT};
use hyper_util::rt::TokioIo;
use std::time::Duration;
use tokio::net::TcpStream;

/// Where an `http://host[:port]/path` URL points.
#[derive(Debug, PartialEq, Eq)]
pub struct Target {
    /// Host name or address (brackets kept off an IPv6 one).
    pub host: String,
    /// Port (80 when absent).
    pub port: u16,
    /// Path and query (`/` when absent).
    pub path: String,
    /// The `Host` header.
    pub authority: String,
}

/// Parses a URL `pm2_home::plus_alerts` accepted.
pub fn target(url: &str) -> Result<Target, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// is supported"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !authority.ends_with(']') => match p.parse::<u16>() {
            Ok(port) => (h, port),
            Err(_) => return Err(format!("{url}: bad port {p:?}")),
        },
        _ => (authority, 80),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("{url}: no host"));
    }
    Ok(Target {
        host: host.to_string(),
        port,
        path: path.to_string(),
        authority: authority.to_string(),
    })
}

/// POSTs `body` (JSON) to `url`; the status, or why there is none, within `deadline`.
pub async fn post(url: &str, body: String, deadline: Duration) -> Result<u16, String> {
    let t = target(url)?;
    match tokio::time::timeout(deadline, exchange(&t, body)).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {} ms", deadline.as_millis())),
    }
}

async fn exchange(t: &Target, body: String) -> Result<u16, String> {
    let stream = TcpStream::connect((t.host.as_str(), t.port))
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", t.authority))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let request = hyper::Request::post(t.path.as_str())
        .header(HOST, t.authority.as_str())
        .header(CONTENT_TYPE, "application/json")
        .header(USER_AGENT, concat!("pm2-plus/", env!("CARGO_PKG_VERSION")))
        .body(Body::full(body))
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    Ok(response.status().as_u16())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_host_port_and_path() {
        let t = target("http://127.0.0.1:8080/hooks/a?x=1").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("127.0.0.1", 8080, "/hooks/a?x=1")
        );
        let t = target("http://example.org").unwrap();
        assert_eq!(
            (t.port, t.path.as_str(), t.authority.as_str()),
            (80, "/", "example.org")
        );
        let t = target("http://[::1]:9/x").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 9));
        assert_eq!(target("http://[::1]/").unwrap().port, 80);
        assert!(target("https://x/").is_err());
        assert!(target("http://h:port/").is_err());
    }
}
