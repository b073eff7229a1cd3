//! The test certificate: self-signed, made fresh for each run with rcgen, for every `*.test`
//! name and `localhost`. The app serves it (`TLS_CERT`, `TLS_KEY`); Chromium accepts it
//! because its public key's hash is on `--ignore-certificate-errors-spki-list` (which, unlike
//! `--ignore-certificate-errors`, trusts this one key and no other bad certificate).

use std::path::{Path, PathBuf};

use base64::Engine as _;
use rcgen::PublicKeyData as _;
use sha2::{Digest, Sha256};

use crate::Result;

/// A certificate and key on disk, and the hash Chromium is told to accept.
#[derive(Debug, Clone)]
pub(crate) struct Tls {
    /// The certificate, PEM.
    pub(crate) cert: PathBuf,
    /// Its private key, PEM (PKCS #8).
    pub(crate) key: PathBuf,
    /// Base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo.
    pub(crate) spki_sha256: String,
}

impl Tls {
    /// Makes a certificate and writes it into `dir`.
    pub(crate) fn generate(dir: &Path) -> Result<Self> {
        let names = vec!["*.test".to_owned(), "localhost".to_owned()];
        let certified =
            rcgen::generate_simple_self_signed(names).map_err(|e| format!("certificate: {e}"))?;
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let tls = Self {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
            spki_sha256: base64::engine::general_purpose::STANDARD.encode(Sha256::digest(
                certified.signing_key.subject_public_key_info(),
            )),
        };
        for (path, pem) in [
            (&tls.cert, certified.cert.pem()),
            (&tls.key, certified.signing_key.serialize_pem()),
        ] {
            std::fs::write(path, pem).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(tls)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_certificate_and_hashes_its_key() {
        let dir = std::env::temp_dir().join(format!("browser-check-tls-{}", std::process::id()));
        let tls = Tls::generate(&dir).unwrap();
        let cert = std::fs::read_to_string(&tls.cert).unwrap();
        let key = std::fs::read_to_string(&tls.key).unwrap();
        assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
        // SHA-256 in base64: 44 characters ending in one `=`.
        assert_eq!(tls.spki_sha256.len(), 44);
        assert!(tls.spki_sha256.ends_with('='));
        let _ = std::fs::remove_dir_all(dir);
    }
}
