//! The webhook client: one JSON POST over HTTP/1 to an `http://` or `https://` URL, one
//! connection per request (TLS through `crate::tls::client`), the whole exchange, the
//! handshake included, under a deadline (a receiver that never answers costs one task for
//! that long, nothing else). hyper's own client connection, no pool: alerts are rare.

use crate::body::Body;
use crate::tls::client::{self, TlsConnector};
use hyper::header::{CONTENT_TYPE, HOST, USER_AGENT};
use hyper_util::rt::TokioIo;
use std::time::Duration;

/// Where an `http[s]://host[:port]/path` URL points.
#[derive(Debug, PartialEq, Eq)]
pub struct Target {
    /// `https://`.
    pub tls: bool,
    /// Host name or address (brackets kept off an IPv6 one).
    pub host: String,
    /// Port (80, or 443 for https, when absent).
    pub port: u16,
    /// Path and query (`/` when absent).
    pub path: String,
    /// The `Host` header.
    pub authority: String,
}

/// Parses a URL `pm2_home::plus_alerts` accepted.
pub fn target(url: &str) -> Result<Target, String> {
    let (tls, rest) = match (url.strip_prefix("http://"), url.strip_prefix("https://")) {
        (Some(rest), _) => (false, rest),
        (_, Some(rest)) => (true, rest),
        _ => return Err(format!("{url}: only http:// and https:// are supported")),
    };
    let default_port = if tls { 443 } else { 80 };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !authority.ends_with(']') => match p.parse::<u16>() {
            Ok(port) => (h, port),
            Err(_) => return Err(format!("{url}: bad port {p:?}")),
        },
        _ => (authority, default_port),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("{url}: no host"));
    }
    Ok(Target {
        tls,
        host: host.to_string(),
        port,
        path: path.to_string(),
        authority: authority.to_string(),
    })
}

/// The URL as logs may show it: scheme and host, the path (which often holds the
/// webhook's secret, as Slack's does) elided.
pub fn shown(url: &str) -> String {
    match target(url) {
        Ok(t) if t.path == "/" => format!("{}://{}/", scheme(&t), t.authority),
        Ok(t) => format!("{}://{}/…", scheme(&t), t.authority),
        Err(_) => "(a bad URL)".to_string(),
    }
}

fn scheme(t: &Target) -> &'static str {
    if t.tls {
        "https"
    } else {
        "http"
    }
}

/// POSTs `body` (JSON) to `url`; the status, or why there is none, within `deadline`.
/// `tls` verifies `https://` receivers (one without it is an error).
pub async fn post(
    url: &str,
    body: String,
    deadline: Duration,
    tls: Option<&TlsConnector>,
) -> Result<u16, String> {
    let t = target(url)?;
    let tls = match (t.tls, tls) {
        (false, _) => None,
        (true, Some(connector)) => Some(connector),
        (true, None) => return Err("https:// without a TLS connector".to_string()),
    };
    match tokio::time::timeout(deadline, exchange(&t, body, tls)).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {} ms", deadline.as_millis())),
    }
}

async fn exchange(t: &Target, body: String, tls: Option<&TlsConnector>) -> Result<u16, String> {
    let stream = client::connect(&t.host, t.port, tls).await?;
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
        let t = target("https://hooks.example/services/T/B/secret").unwrap();
        assert_eq!((t.tls, t.port), (true, 443));
        assert!(target("ftp://x/").is_err());
        assert!(target("http://h:port/").is_err());
        assert_eq!(
            shown("https://hooks.example/services/T/B/secret"),
            "https://hooks.example/…"
        );
        assert_eq!(shown("http://127.0.0.1:9"), "http://127.0.0.1:9/");
    }
}
