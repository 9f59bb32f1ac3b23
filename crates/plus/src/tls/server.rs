//! The dashboard's HTTPS: the acceptor built at start from `pm2-plus:tls_cert` and
//! `pm2-plus:tls_key`. A certificate or key that cannot be used (missing, not PEM, a key
//! that is not the certificate's) is an error naming both settings' files, found before
//! the dashboard listens, so `pm2 plus` can refuse to start it (and built again by
//! `reload` when the files change).

use super::pem;
use pm2_home::plus_tls::ServerTls;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// What browsers may negotiate over the TLS connection: HTTP/1.1 only, as the server speaks.
const ALPN: &[&[u8]] = &[b"http/1.1"];

/// The acceptor for `tls`; an error naming the setting and file at fault.
pub fn acceptor(tls: &ServerTls) -> Result<TlsAcceptor, String> {
    let certs = pem::certificates(&tls.cert)?;
    let key = pem::private_key(&tls.key)?;
    let mut config = rustls::ServerConfig::builder_with_provider(super::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            format!(
                "{} ({}) cannot serve {} ({}): {}",
                tls.key.key,
                tls.key.path.display(),
                tls.cert.key,
                tls.cert.path.display(),
                match e {
                    rustls::Error::InconsistentKeys(_) =>
                        "the key is not the certificate's".to_string(),
                    other => other.to_string(),
                }
            )
        })?;
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(TlsAcceptor::from(Arc::new(config)))
}
