//! The signed cookie value, byte for byte as express-session writes it:
//! `s:` + id + `.` + standard base64 of HMAC-SHA256(secret, id), without padding.

use std::sync::Arc;

use base64::{engine::general_purpose::STANDARD_NO_PAD, Engine as _};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroize;

use self::verified::Verified;

/// Length of the base64 MAC: 32 bytes of HMAC-SHA256 without the `=` pad.
pub(crate) const MAC_LEN: usize = 43;
const PREFIX: &str = "s:";

/// A secret used to sign session cookies. Its `Debug` output never shows the bytes, and its
/// bytes are overwritten with zeros when it is dropped.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl Secret {
    /// Wraps the raw bytes of a secret (a JavaScript string secret is its UTF-8 bytes).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// The number of bytes in the secret.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret has no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret(<{} bytes redacted>)", self.0.len())
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value.as_bytes())
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value.into_bytes())
    }
}

/// The secrets that sign and verify cookies: the first signs, every one verifies, so a secret
/// can be rotated by putting the new one first and keeping the old one behind it.
///
/// A value that verified is remembered (about two thousand of them, in a fixed table shared
/// by the keyring's clones), so that the same visitor's next requests compare its bytes, in
/// constant time, instead of computing the HMAC again: a hit is exactly as sound as a
/// verification, since the same bytes always verify the same way.
///
/// ```
/// use session_core::{Keyring, Secret};
/// let old = Keyring::new([Secret::from("old secret")]).expect("one secret");
/// let rotated = Keyring::new([Secret::from("new secret"), Secret::from("old secret")])
///     .expect("two secrets");
/// let cookie = old.sign("fQx3zKx4YlwQe9k1N7pPjXyZ0aBcDeFg");
/// assert_eq!(rotated.verify(&cookie), Some("fQx3zKx4YlwQe9k1N7pPjXyZ0aBcDeFg"));
/// ```
#[derive(Clone)]
pub struct Keyring {
    /// One keyed HMAC per secret, in order; index 0 signs.
    macs: Vec<Hmac<Sha256>>,
    /// The values that verified recently, and with which secret.
    verified: Arc<Verified>,
}

impl Keyring {
    /// Builds a keyring from secrets in priority order. Returns `None` when there is no secret.
    pub fn new(secrets: impl IntoIterator<Item = Secret>) -> Option<Self> {
        let macs: Vec<_> = secrets
            .into_iter()
            .map(|secret| {
                Hmac::<Sha256>::new_from_slice(&secret.0).expect("HMAC accepts keys of any length")
            })
            .collect();
        (!macs.is_empty()).then(|| Self {
            macs,
            verified: Arc::new(Verified::new()),
        })
    }

    /// Signs an id with the first secret: `s:<id>.<mac>`, not yet percent-encoded.
    pub fn sign(&self, id: &str) -> String {
        let mut out = String::with_capacity(PREFIX.len() + id.len() + 1 + MAC_LEN);
        out.push_str(PREFIX);
        out.push_str(id);
        out.push('.');
        out.push_str(&mac_base64(&self.macs[0], id));
        out
    }

    /// Verifies a decoded cookie value against every secret in constant time per secret and
    /// returns the id it carries, or `None` when it is unsigned or matches no secret.
    pub fn verify<'v>(&self, value: &'v str) -> Option<&'v str> {
        self.verify_with_index(value).map(|(id, _)| id)
    }

    /// Like [`verify`](Self::verify), also telling which secret matched (0 is the signing one).
    pub(crate) fn verify_with_index<'v>(&self, value: &'v str) -> Option<(&'v str, usize)> {
        let signed = value.strip_prefix(PREFIX)?;
        let (id, mac) = signed.rsplit_once('.')?;
        if let Some(index) = self.verified.get(value) {
            return Some((id, index));
        }
        let mac = decode_mac(mac)?;
        let index = self.macs.iter().position(|key| {
            let mut expected = key.clone();
            expected.update(id.as_bytes());
            expected.verify_slice(&mac).is_ok()
        })?;
        self.verified.insert(value, index);
        Some((id, index))
    }

    /// How many secrets the keyring holds.
    pub fn len(&self) -> usize {
        self.macs.len()
    }

    /// Always `false`: a keyring holds at least one secret.
    pub fn is_empty(&self) -> bool {
        self.macs.is_empty()
    }
}

/// The keyed HMAC states are as good as the secrets: when the keyring goes, each is replaced
/// by one keyed with nothing, behind a compiler barrier so the overwrite is not optimised away
/// (best effort: RustCrypto's `hmac` 0.12 offers no zeroization of its own).
impl Drop for Keyring {
    fn drop(&mut self) {
        for mac in &mut self.macs {
            *mac = Hmac::<Sha256>::new_from_slice(&[]).expect("HMAC accepts keys of any length");
            std::hint::black_box(&*mac);
        }
    }
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keyring(<{} secrets redacted>)", self.macs.len())
    }
}

/// The 32 bytes of a MAC as `cookie-signature` writes it: 43 characters of standard base64,
/// unpadded and canonical (the unused low bits of the last character zero), so that each MAC
/// has one accepted spelling, as when the spelled-out MACs are compared.
fn decode_mac(mac: &str) -> Option<[u8; 32]> {
    if mac.len() != MAC_LEN {
        return None;
    }
    // The decoder wants room for its 3-bytes-per-4-characters estimate (33 bytes).
    let mut bytes = [0_u8; 33];
    let len = STANDARD_NO_PAD.decode_slice(mac, &mut bytes).ok()?;
    (len == 32).then(|| {
        let mut mac = [0; 32];
        mac.copy_from_slice(&bytes[..32]);
        mac
    })
}

fn mac_base64(key: &Hmac<Sha256>, id: &str) -> String {
    let mut mac = key.clone();
    mac.update(id.as_bytes());
    STANDARD_NO_PAD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests;
mod verified;
