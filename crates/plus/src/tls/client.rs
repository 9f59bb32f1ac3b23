//! The client side of TLS, for every outbound connection the dashboard makes (today the
//! `https://` webhooks; a `pm2 link` agent connecting a daemon to a remote dashboard can
//! use the same two calls). Servers are verified against the system's CA store, the one
//! Debian's `ca-certificates` keeps current and an administrator adds a company CA to
//! (`/etc/ssl/certs`, or `SSL_CERT_FILE`/`SSL_CERT_DIR`), through `rustls-native-certs`,
//! rather than a Mozilla list compiled into the binary (`webpki-roots`) that ages with
//! each build and ignores local CAs; plus, optionally, a private CA from a PEM file
//! (`pm2-plus:webhook_ca`: a self-hosted receiver, or a test's throwaway CA).

use super::pem;
use super::stream::Stream;
use pm2_home::plus_tls::PemSetting;
use rustls::pki_types::ServerName;
use std::sync::Arc;
use tokio::net::TcpStream;
pub use tokio_rustls::TlsConnector;

/// What the client may negotiate: HTTP/1.1, the only protocol its callers speak.
const ALPN: &[&[u8]] = &[b"http/1.1"];

/// A connector that trusts the system's CAs and `extra_ca`'s certificates. An error when
/// `extra_ca` cannot be read or holds no certificate (naming the setting and the file),
/// or when there is no CA to trust at all. Build it once and share it: reading the system
/// store parses a few hundred kilobytes.
pub fn connector(extra_ca: Option<&PemSetting>) -> Result<TlsConnector, String> {
    let mut roots = rustls::RootCertStore::empty();
    let system = rustls_native_certs::load_native_certs();
    let (_added, _unusable) = roots.add_parsable_certificates(system.certs);
    if let Some(ca) = extra_ca {
        for cert in pem::certificates(ca)? {
            roots.add(cert).map_err(|e| {
                format!(
                    "{} is {}: not a CA certificate rustls can use: {e}",
                    ca.key,
                    ca.path.display()
                )
            })?;
        }
    }
    if roots.is_empty() {
        return Err(format!(
            "no CA certificates to verify https:// servers with: none in the system store \
             ({}), and no private CA (`pm2 set {} <pem path>`)",
            system
                .errors
                .first()
                .map_or("install ca-certificates".to_string(), ToString::to_string),
            pm2_home::plus_tls::WEBHOOK_CA_KEY
        ));
    }
    let mut config = rustls::ClientConfig::builder_with_provider(super::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// Connects to `host:port`, then, when `tls` is given, shakes hands verifying that the
/// server's certificate is valid for `host` (a name or an address). Errors say which step
/// failed and why (a verification failure names the certificate problem).
pub async fn connect(host: &str, port: u16, tls: Option<&TlsConnector>) -> Result<Stream, String> {
    let tcp = TcpStream::connect((host, port))
        .await
        .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
    let Some(connector) = tls else {
        return Ok(Stream::Plain(tcp));
    };
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| format!("{host} is not a TLS server name: {e}"))?;
    let tls = connector
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS handshake with {host}:{port} failed: {e}"))?;
    Ok(Stream::Tls(Box::new(tokio_rustls::TlsStream::Client(tls))))
}
