//! TLS for the dashboard, on rustls with the `ring` provider: `server` builds the acceptor
//! the listener wraps each connection in when `pm2-plus:tls_cert`/`tls_key` are set
//! (`reload` swaps it when those files change),
//! `client` the connector outbound connections use (the `https://` webhooks; it is public
//! so that an agent connecting a daemon to a remote dashboard can use it too), `stream` the
//! transport both kinds of connection share (plain TCP or TLS over it), and `pem` reads
//! the PEM files with errors that name the setting and the file.

pub mod client;
mod pem;
pub mod reload;
pub mod server;
pub mod stream;

use std::sync::Arc;

/// The crypto every config here is built with: rustls' `ring` provider, passed explicitly
/// (no process-wide default to install, nothing chosen by another crate's features).
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}
