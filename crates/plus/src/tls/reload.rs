//! A renewed certificate without a restart of `pm2-plus`: when the files of
//! `pm2-plus:tls_cert` and `tls_key` change (certbot's renewal, a copy, an edit), new
//! connections get the new pair; connections already open keep theirs. The check runs on
//! accept, at most once every [`CHECK_EVERY`] (two `stat`s; no thread, no inotify), and
//! notes each file's identity, size and mtime. A new pair that cannot serve (a key that is
//! not the certificate's, a file half written) keeps the pair in force, and the
//! dashboard's log says why; the next change of either file is tried again.

use super::server::acceptor;
use crate::alerts::live::{stamp, Stamp};
use crate::log;
use pm2_home::plus_tls::ServerTls;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio_rustls::TlsAcceptor;

/// The files are looked at no more often than this.
pub const CHECK_EVERY: Duration = Duration::from_secs(2);

/// The acceptor in force, replaced when the files change and the new pair serves.
#[derive(Clone)]
pub struct Reloading {
    tls: ServerTls,
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    acceptor: TlsAcceptor,
    seen: [Stamp; 2],
    checked: Instant,
}

impl Reloading {
    /// The acceptor of the files as they are now; an error naming the setting and the file
    /// when they cannot serve (the dashboard then does not start).
    pub fn new(tls: &ServerTls) -> Result<Reloading, String> {
        let seen = stamps(tls);
        let inner = Inner {
            acceptor: acceptor(tls)?,
            seen,
            checked: Instant::now(),
        };
        Ok(Reloading {
            tls: tls.clone(),
            inner: Arc::new(Mutex::new(inner)),
        })
    }

    /// The acceptor for a new connection: the files' new pair when they changed (and it
    /// serves), else the one in force.
    pub fn current(&self) -> TlsAcceptor {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.checked.elapsed() >= CHECK_EVERY {
            inner.checked = Instant::now();
            let now = stamps(&self.tls);
            if now != inner.seen {
                inner.seen = now;
                if let Some(new) = self.reload() {
                    inner.acceptor = new;
                }
            }
        }
        inner.acceptor.clone()
    }

    fn reload(&self) -> Option<TlsAcceptor> {
        let (cert, key) = (self.tls.cert.path.display(), self.tls.key.path.display());
        match acceptor(&self.tls) {
            Ok(a) => {
                log::say(&format!(
                    "TLS certificate reloaded from {cert} and {key}: new connections use it"
                ));
                Some(a)
            }
            Err(e) => {
                log::error(&format!(
                    "TLS certificate not reloaded, the previous one stays in force: {e}"
                ));
                None
            }
        }
    }
}

fn stamps(tls: &ServerTls) -> [Stamp; 2] {
    [stamp(&tls.cert.path), stamp(&tls.key.path)]
}
