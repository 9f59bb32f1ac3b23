//! Reading the PEM files the TLS settings name. Every error says which setting and which
//! file, and what is wrong with it (missing, unreadable, no PEM block of the kind needed).

use pm2_home::plus_tls::PemSetting;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The file's bytes, or an error naming the setting.
fn read(setting: &PemSetting) -> Result<Vec<u8>, String> {
    std::fs::read(&setting.path).map_err(|e| {
        format!(
            "{} is {}: cannot read it: {e}",
            setting.key,
            setting.path.display()
        )
    })
}

/// Every certificate in the file (at least one).
pub fn certificates(setting: &PemSetting) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = read(setting)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| not_pem(setting, "CERTIFICATE", &e.to_string()))?;
    if certs.is_empty() {
        return Err(not_pem(setting, "CERTIFICATE", "no certificate in it"));
    }
    Ok(certs)
}

/// The first private key in the file.
pub fn private_key(setting: &PemSetting) -> Result<PrivateKeyDer<'static>, String> {
    let bytes = read(setting)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| {
        let why = match e {
            rustls::pki_types::pem::Error::NoItemsFound => "no private key in it".to_string(),
            other => other.to_string(),
        };
        not_pem(setting, "PRIVATE KEY", &why)
    })
}

fn not_pem(setting: &PemSetting, block: &str, why: &str) -> String {
    format!(
        "{} is {}: not a PEM file with a {block} block ({why})",
        setting.key,
        setting.path.display()
    )
}
