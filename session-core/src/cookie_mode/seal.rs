//! [`Sealer`]: the session sealed into the cookie with XChaCha20-Poly1305, keys derived from
//! the configured secrets, the cookie name bound in as associated data.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use chacha20poly1305::{
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
    XChaCha20Poly1305, XNonce,
};
use hkdf::Hkdf;
use sha2::Sha256;

use crate::Secret;

/// The first byte of every sealed value: the format, so that a later one can be told apart.
const FORMAT: u8 = 1;
/// XChaCha20's nonce: 24 random bytes, so random nonces never realistically repeat.
const NONCE_LEN: usize = 24;
/// Poly1305's tag.
const TAG_LEN: usize = 16;
/// What HKDF derives the cipher keys under: changing it changes every key.
const HKDF_SALT: &[u8] = b"session-core cookie sealing";
const HKDF_INFO: &[u8] = b"xchacha20poly1305 v1";

/// Seals with the first key; opens with any, saying which.
pub(crate) struct Sealer {
    ciphers: Vec<XChaCha20Poly1305>,
}

impl Sealer {
    /// One cipher per secret, in order, each key HKDF-SHA256(secret).
    pub(crate) fn new<'a>(secrets: impl IntoIterator<Item = &'a Secret>) -> Self {
        let ciphers = secrets
            .into_iter()
            .map(|secret| {
                let mut key = [0u8; 32];
                Hkdf::<Sha256>::new(Some(HKDF_SALT), secret.bytes())
                    .expand(HKDF_INFO, &mut key)
                    .expect("32 bytes is a valid HKDF-SHA256 output length");
                let cipher = XChaCha20Poly1305::new(&key.into());
                zeroize::Zeroize::zeroize(&mut key);
                cipher
            })
            .collect();
        Self { ciphers }
    }

    /// `plaintext` sealed with the first key for cookie `name`: base64url of the format byte,
    /// a fresh random nonce and the ciphertext with its tag.
    pub(crate) fn seal(&self, name: &str, plaintext: &[u8]) -> Result<String, SealError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: plaintext,
            aad: name.as_bytes(),
        };
        let sealed = self.ciphers[0]
            .encrypt(&nonce, payload)
            .map_err(|_| SealError)?;
        let mut raw = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        raw.push(FORMAT);
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&sealed);
        Ok(URL_SAFE_NO_PAD.encode(raw))
    }

    /// Opens a value sealed for cookie `name` with any key: the plaintext and the index of the
    /// key (0: the current one). `None` for anything tampered, truncated, reordered, sealed
    /// for another name or with an unknown key, or not a sealed value at all.
    pub(crate) fn open(&self, name: &str, value: &str) -> Option<(Vec<u8>, usize)> {
        let raw = URL_SAFE_NO_PAD.decode(value).ok()?;
        let (&format, rest) = raw.split_first()?;
        if format != FORMAT || rest.len() < NONCE_LEN + TAG_LEN {
            return None;
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let nonce = XNonce::from_slice(nonce);
        self.ciphers.iter().enumerate().find_map(|(index, cipher)| {
            let payload = Payload {
                msg: sealed,
                aad: name.as_bytes(),
            };
            cipher
                .decrypt(nonce, payload)
                .ok()
                .map(|plain| (plain, index))
        })
    }
}

/// The cipher refused to seal (it does so only for messages of gigabytes).
#[derive(Debug, thiserror::Error)]
#[error("the session could not be sealed")]
pub(crate) struct SealError;

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(secrets: &[&str]) -> Sealer {
        let secrets: Vec<Secret> = secrets.iter().map(|s| Secret::from(*s)).collect();
        Sealer::new(&secrets)
    }

    const KEY_A: &str = "the first sealing secret, 32 bytes!!";
    const KEY_B: &str = "the second sealing secret, 32 bytes!";

    #[test]
    fn opens_what_it_seals_with_any_key_and_says_which() {
        let old = sealer(&[KEY_B]);
        let rotated = sealer(&[KEY_A, KEY_B]);
        let sealed = old.seal("sid", b"{\"n\":1}").unwrap();
        assert_eq!(
            rotated.open("sid", &sealed),
            Some((b"{\"n\":1}".to_vec(), 1))
        );
        let resealed = rotated.seal("sid", b"{\"n\":1}").unwrap();
        assert_eq!(rotated.open("sid", &resealed).map(|(_, key)| key), Some(0));
        assert_eq!(
            old.open("sid", &resealed),
            None,
            "the old key alone cannot open it"
        );
    }

    #[test]
    fn every_seal_is_different_and_hides_the_plaintext() {
        let sealer = sealer(&[KEY_A]);
        let (a, b) = (
            sealer.seal("sid", b"secret").unwrap(),
            sealer.seal("sid", b"secret").unwrap(),
        );
        assert_ne!(a, b, "a fresh nonce each time");
        assert!(!a.contains("secret"));
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }

    #[test]
    fn anything_altered_or_moved_does_not_open() {
        let sealer = sealer(&[KEY_A]);
        let sealed = sealer.seal("sid", b"{\"user\":\"ann\"}").unwrap();
        assert_eq!(
            sealer.open("other", &sealed),
            None,
            "replayed under another name"
        );
        let mut raw = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        for at in [0, 1, NONCE_LEN + 1, raw.len() - 1] {
            raw[at] ^= 1;
            assert_eq!(
                sealer.open("sid", &URL_SAFE_NO_PAD.encode(&raw)),
                None,
                "bit {at}"
            );
            raw[at] ^= 1;
        }
        for cut in [0, 1, NONCE_LEN, raw.len() - 1] {
            assert_eq!(
                sealer.open("sid", &URL_SAFE_NO_PAD.encode(&raw[..cut])),
                None
            );
        }
        let mut swapped = raw.clone();
        swapped[1..1 + NONCE_LEN].reverse();
        assert_eq!(sealer.open("sid", &URL_SAFE_NO_PAD.encode(&swapped)), None);
        for garbage in ["", "%%%", "AAAA", &"A".repeat(5000)] {
            assert_eq!(sealer.open("sid", garbage), None);
        }
    }
}
