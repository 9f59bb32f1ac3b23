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

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(tag: &str, text: Option<&str>) -> PemSetting {
        let path = std::env::temp_dir().join(format!("pm2-plus-pem-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        if let Some(text) = text {
            std::fs::write(&path, text).unwrap();
        }
        PemSetting {
            key: "pm2-plus:tls_cert",
            path,
        }
    }

    #[test]
    fn errors_name_the_setting_the_file_and_the_fault() {
        let missing = setting("missing", None);
        let e = certificates(&missing).unwrap_err();
        assert!(
            e.starts_with("pm2-plus:tls_cert is /") && e.contains("cannot read it"),
            "{e}"
        );
        let text = setting("text", Some("hello\n"));
        let e = certificates(&text).unwrap_err();
        assert!(e.contains(&text.path.display().to_string()), "{e}");
        assert!(e.contains("not a PEM file with a CERTIFICATE block"), "{e}");
        let e = private_key(&text).unwrap_err();
        assert!(e.contains("no private key in it"), "{e}");
        let broken = setting(
            "broken",
            Some("-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n"),
        );
        assert!(certificates(&broken)
            .unwrap_err()
            .contains("not a PEM file"));
    }
}
