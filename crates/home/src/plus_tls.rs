//! The dashboard's TLS settings: the certificate and key it serves HTTPS with (`pm2 set
//! pm2-plus:tls_cert|tls_key <pem path>`) and a private CA its webhooks trust on top of the
//! system's roots (`pm2-plus:webhook_ca <pem path>`). Read by `pm2 plus` (to refuse a half
//! setting before starting anything) and by the dashboard. Only the paths live here: the
//! PEM parsing and rustls are the dashboard's (`pm2-plus`), so neither the CLI nor the
//! daemon links a TLS library.

use crate::layout::Pm2Home;
use crate::module_conf;
use std::path::PathBuf;

/// The certificate chain (PEM) the dashboard serves.
pub const CERT_KEY: &str = "pm2-plus:tls_cert";
/// Its private key (PEM: PKCS#8, PKCS#1 or SEC1).
pub const KEY_KEY: &str = "pm2-plus:tls_key";
/// A CA (PEM, one or more certificates) webhook receivers may be signed by.
pub const WEBHOOK_CA_KEY: &str = "pm2-plus:webhook_ca";

/// A PEM file named by a setting: the setting's name travels with it, for the errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemSetting {
    /// `pm2-plus:<key>`.
    pub key: &'static str,
    /// The file (absolute).
    pub path: PathBuf,
}

/// The certificate and key the dashboard serves HTTPS with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTls {
    /// `pm2-plus:tls_cert`.
    pub cert: PemSetting,
    /// `pm2-plus:tls_key`.
    pub key: PemSetting,
}

/// Every TLS setting, as set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// Both of `tls_cert` and `tls_key`, or none: HTTPS only when both are set.
    pub server: Option<ServerTls>,
    /// `webhook_ca`, when set.
    pub webhook_ca: Option<PemSetting>,
}

impl TlsSettings {
    /// Reads the three keys from `module_conf.json`; an error naming the key when a path is
    /// not absolute, or when only one of the certificate and its key is set.
    pub fn from_conf(home: &Pm2Home) -> Result<TlsSettings, String> {
        let conf = module_conf::load(home).map_err(|e| e.to_string())?;
        let read = |key: &'static str| -> Result<Option<PemSetting>, String> {
            let Some(value) = module_conf::get(&conf, key) else {
                return Ok(None);
            };
            let raw = match value {
                serde_json::Value::String(s) => s.trim().to_string(),
                other => other.to_string(),
            };
            if raw.is_empty() {
                return Ok(None);
            }
            let path = PathBuf::from(&raw);
            if !path.is_absolute() {
                return Err(format!(
                    "{key} is {raw:?}, not an absolute path (the dashboard runs in PM2_HOME): \
                     set it with `pm2 set {key} /full/path/to/file.pem`"
                ));
            }
            Ok(Some(PemSetting { key, path }))
        };
        let server = match (read(CERT_KEY)?, read(KEY_KEY)?) {
            (Some(cert), Some(key)) => Some(ServerTls { cert, key }),
            (None, None) => None,
            (Some(_), None) => return Err(half(KEY_KEY, CERT_KEY)),
            (None, Some(_)) => return Err(half(CERT_KEY, KEY_KEY)),
        };
        Ok(TlsSettings {
            server,
            webhook_ca: read(WEBHOOK_CA_KEY)?,
        })
    }
}

fn half(missing: &str, set: &str) -> String {
    format!(
        "{set} is set but {missing} is not: HTTPS needs both (`pm2 set {missing} <pem path>`, \
         or `pm2 unset {set}` for plain HTTP)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn home_with(tag: &str, conf: &str) -> Pm2Home {
        let dir = std::env::temp_dir().join(format!("pm2-plus-tls-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let home = Pm2Home::at(dir);
        std::fs::write(home.module_conf(), conf).unwrap();
        home
    }

    #[test]
    fn both_or_neither_and_absolute() {
        let none = TlsSettings::from_conf(&home_with("none", "{}")).unwrap();
        assert_eq!(none, TlsSettings::default());
        let both = home_with(
            "both",
            r#"{"pm2-plus":{"tls_cert":"/c.pem","tls_key":"/k.pem","webhook_ca":"/ca.pem"}}"#,
        );
        let s = TlsSettings::from_conf(&both).unwrap();
        let server = s.server.unwrap();
        assert_eq!(server.cert.path, PathBuf::from("/c.pem"));
        assert_eq!(server.key.key, KEY_KEY);
        assert_eq!(s.webhook_ca.unwrap().path, PathBuf::from("/ca.pem"));
        let half = home_with("half", r#"{"pm2-plus":{"tls_cert":"/c.pem"}}"#);
        let e = TlsSettings::from_conf(&half).unwrap_err();
        assert!(e.contains("pm2-plus:tls_key is not"), "{e}");
        let rel = home_with("rel", r#"{"pm2-plus":{"webhook_ca":"ca.pem"}}"#);
        let e = TlsSettings::from_conf(&rel).unwrap_err();
        assert!(
            e.contains("pm2-plus:webhook_ca") && e.contains("absolute"),
            "{e}"
        );
    }
}
