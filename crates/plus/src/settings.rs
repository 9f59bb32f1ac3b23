//! What the dashboard needs at start: its `PM2_HOME`, where to listen (`pm2 set
//! pm2-plus:host|port`), the refusal to listen beyond this machine without a password, and
//! its TLS settings (`pm2-plus:tls_cert|tls_key|webhook_ca`), the certificate and key
//! loaded and checked here, before it listens.

use crate::tls;
use pm2_home::plus::{Bind, PlusFiles};
use pm2_home::plus_tls::TlsSettings;
use pm2_home::Pm2Home;

/// Everything read once at start.
#[derive(Clone)]
pub struct Settings {
    /// The daemon's home (its socket, the dashboard's files).
    pub home: Pm2Home,
    /// Where to listen.
    pub bind: Bind,
    /// The dashboard's files in the home.
    pub files: PlusFiles,
    /// The TLS settings as set.
    pub tls: TlsSettings,
    /// HTTPS only, with this acceptor, when a certificate and key are set (replaced when
    /// their files change: a renewal needs no restart).
    pub acceptor: Option<tls::reload::Reloading>,
}

impl Settings {
    /// Reads the settings; an error when the port is not one, the address is public and
    /// no password was set, or the certificate or key cannot serve (naming the setting and
    /// its file).
    pub fn load(home: Pm2Home) -> Result<Settings, String> {
        let bind = Bind::from_conf(&home)?;
        let files = PlusFiles::of(&home);
        if let Some(why) = bind.refusal(&files) {
            return Err(why);
        }
        let tls = TlsSettings::from_conf(&home)?;
        let acceptor = tls
            .server
            .as_ref()
            .map(tls::reload::Reloading::new)
            .transpose()?;
        Ok(Settings {
            home,
            bind,
            files,
            tls,
            acceptor,
        })
    }

    /// The URL the dashboard serves: `https://` with TLS.
    pub fn url(&self) -> String {
        self.bind.url(self.acceptor.is_some())
    }
}
