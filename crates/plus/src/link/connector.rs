//! The agent's outbound connection: the byte stream under the link (TCP, or TLS over it
//! for an `https://` dashboard, verified against the system's CAs and the link's `--ca`),
//! and the HTTP/1.1 upgrade of `GET /api/link` to `pm2-link/2` over it. A certificate
//! that does not verify is [`Failure::Untrusted`], told apart from a dashboard that is
//! not reachable, so `pm2 link` can name the fix.

use crate::body::Body;
use hyper::header::{AUTHORIZATION, CONNECTION, HOST, UPGRADE, USER_AGENT};
use hyper::StatusCode;
use hyper_util::rt::TokioIo;
use pm2_home::plus_link::{endpoint, Link, HOST_HEADER, PROTOCOL};
use pm2_home::plus_tls::PemSetting;
use rustls::pki_types::ServerName;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// A byte stream the link can run over (TCP, or TLS over TCP).
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// The upgraded connection.
pub type Linked = TokioIo<hyper::upgrade::Upgraded>;

/// A connection the dashboard accepted.
pub struct Accepted {
    /// The stream.
    pub io: Linked,
    /// Whether the dashboard asks for log lines (`follow`) instead of taking them all.
    pub on_demand: bool,
}

/// Connecting and the upgrade must be done by then.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why there is no connection.
#[derive(Debug)]
pub enum Failure {
    /// The dashboard answered and said no (wrong secret: 401; name taken: 409): what it
    /// said. Retried, more slowly.
    Refused(u16, String),
    /// No answer, or not a dashboard.
    Unreachable(String),
    /// The dashboard asked to try again shortly (429: another host gave a wrong secret
    /// within the last second).
    Later(String),
    /// The dashboard's certificate did not verify (or the link's CA file is unusable):
    /// why. Retried (the dashboard's certificate may be fixed).
    Untrusted(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Refused(status, why) => write!(f, "refused ({status}): {why}"),
            Failure::Unreachable(why) | Failure::Later(why) | Failure::Untrusted(why) => {
                write!(f, "{why}")
            }
        }
    }
}

/// The stream to the dashboard `link` names.
async fn open(link: &Link) -> Result<Box<dyn Io>, Failure> {
    let e = endpoint(&link.url).map_err(Failure::Unreachable)?;
    let tcp = TcpStream::connect((e.host.as_str(), e.port))
        .await
        .map_err(|err| Failure::Unreachable(format!("cannot connect to {}: {err}", e.authority)))?;
    let _ = tcp.set_nodelay(true);
    if !e.tls {
        return Ok(Box::new(tcp));
    }
    // Built at each attempt: a CA file fixed after a failure is read on the next one.
    let ca = link.ca.as_ref().map(|path| PemSetting {
        key: "the link's --ca",
        path: path.clone(),
    });
    let connector = crate::tls::client::connector(ca.as_ref()).map_err(Failure::Untrusted)?;
    let name = ServerName::try_from(e.host.clone()).map_err(|err| {
        Failure::Unreachable(format!("{} is not a TLS server name: {err}", e.host))
    })?;
    match connector.connect(name, tcp).await {
        Ok(tls) => Ok(Box::new(tls)),
        Err(err) => {
            let why = format!("TLS handshake with {} failed: {err}", e.authority);
            let verify = err
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                .is_some_and(|r| matches!(r, rustls::Error::InvalidCertificate(_)));
            Err(if verify {
                Failure::Untrusted(why)
            } else {
                Failure::Unreachable(why)
            })
        }
    }
}

/// Connects and upgrades; the link's stream once the dashboard accepted the secret.
pub async fn connect(link: &Link) -> Result<Accepted, Failure> {
    match tokio::time::timeout(CONNECT_TIMEOUT, upgrade(link)).await {
        Ok(result) => result,
        Err(_) => Err(Failure::Unreachable(format!(
            "{}: no answer within {CONNECT_TIMEOUT:?}",
            link.url
        ))),
    }
}

async fn upgrade(link: &Link) -> Result<Accepted, Failure> {
    let authority = endpoint(&link.url).map_err(Failure::Unreachable)?.authority;
    let io = open(link).await?;
    let unreachable = |e: hyper::Error| Failure::Unreachable(format!("{}: {e}", link.url));
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(unreachable)?;
    tokio::spawn(async move {
        let _ = connection.with_upgrades().await;
    });
    let request = hyper::Request::get("/api/link")
        .header(HOST, authority)
        .header(CONNECTION, "upgrade")
        .header(UPGRADE, PROTOCOL)
        .header(AUTHORIZATION, format!("Bearer {}", link.secret))
        .header(HOST_HEADER, link.host.as_str())
        .header(USER_AGENT, concat!("pm2-link/", env!("CARGO_PKG_VERSION")))
        .body(Body::empty())
        .map_err(|e| Failure::Unreachable(e.to_string()))?;
    let mut response = sender.send_request(request).await.map_err(unreachable)?;
    let status = response.status();
    if status != StatusCode::SWITCHING_PROTOCOLS {
        let body = crate::body::read_capped(response.into_body())
            .await
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        let why = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(String::from))
            .unwrap_or_else(|| text.chars().take(200).collect());
        return Err(if status == StatusCode::TOO_MANY_REQUESTS {
            Failure::Later(why)
        } else if status.is_client_error() {
            Failure::Refused(status.as_u16(), why)
        } else {
            Failure::Unreachable(format!("{}: {status} {why}", link.url))
        });
    }
    let on_demand = response
        .headers()
        .get(super::wire::LOGS_HEADER)
        .is_some_and(|v| v.as_bytes() == super::wire::ON_DEMAND.as_bytes());
    let upgraded = hyper::upgrade::on(&mut response)
        .await
        .map_err(unreachable)?;
    Ok(Accepted {
        io: TokioIo::new(upgraded),
        on_demand,
    })
}
