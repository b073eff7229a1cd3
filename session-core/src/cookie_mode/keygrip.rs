//! [`Keygrip`]: the signatures of npm `keygrip` 1.x as `cookies` 0.9 uses them for
//! cookie-session: HMAC-SHA1 of `"<name>=<value>"`, base64url without padding; the first key
//! signs, any key verifies, in constant time.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

use crate::Secret;

/// The keys, in order.
pub(crate) struct Keygrip {
    macs: Vec<Hmac<Sha1>>,
}

impl Keygrip {
    pub(crate) fn new<'a>(secrets: impl IntoIterator<Item = &'a Secret>) -> Self {
        let macs = secrets
            .into_iter()
            .map(|secret| {
                Hmac::<Sha1>::new_from_slice(secret.bytes())
                    .expect("HMAC accepts keys of any length")
            })
            .collect();
        Self { macs }
    }

    /// The signature of `data` with the first key (keygrip's `sign`).
    pub(crate) fn sign(&self, data: &str) -> String {
        digest(&self.macs[0], data)
    }

    /// The index of the key that signed `data` as `signature` (keygrip's `index`), or `None`.
    pub(crate) fn index(&self, data: &str, signature: &str) -> Option<usize> {
        self.macs
            .iter()
            .position(|mac| bool::from(digest(mac, data).as_bytes().ct_eq(signature.as_bytes())))
    }
}

fn digest(mac: &Hmac<Sha1>, data: &str) -> String {
    let mut mac = mac.clone();
    mac.update(data.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

impl Drop for Keygrip {
    fn drop(&mut self) {
        // As the keyring does: a keyed state is as good as its key.
        for mac in &mut self.macs {
            *mac = Hmac::<Sha1>::new_from_slice(&[]).expect("HMAC accepts keys of any length");
            std::hint::black_box(&*mac);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `../shared/spec/node-stores.md` §2, computed by the real npm packages.
    const ONE: &str = "cookie-key-one-0123456789abcdef0123456";
    const TWO: &str = "cookie-key-two-0123456789abcdef0123456";

    fn keygrip(keys: &[&str]) -> Keygrip {
        let secrets: Vec<Secret> = keys.iter().map(|k| Secret::from(*k)).collect();
        Keygrip::new(&secrets)
    }

    #[test]
    fn matches_the_vectors_of_the_npm_packages() {
        let (one, two) = (keygrip(&[ONE]), keygrip(&[TWO]));
        for (name, value, by_one, by_two) in [
            (
                "session",
                "eyJjb3VudCI6Mn0=",
                "uBibDfzzRlCvy_42M53oNIpZXi8",
                "8HSIAMhrRltmsi5fYarzhx7iRUQ",
            ),
            (
                "session",
                "eyJ1c2VyIjoiYWxpY2UiLCJyZW1lbWJlciI6dHJ1ZX0=",
                "KEJl3jtXuehNPyynzyvZpTHAdzA",
                "QDGTYBxTRWUGe5EDfcEHuYE8nY4",
            ),
            (
                "app",
                "eyJuIjoiw6ninJMifQ==",
                "VDwM5w_GbLFne9LRveimkpRMrEM",
                "VW-rBViN2rXanMRrVM3Lc1dERpA",
            ),
        ] {
            let data = format!("{name}={value}");
            assert_eq!(one.sign(&data), by_one);
            assert_eq!(two.sign(&data), by_two);
        }
        // The spec's short-key vector (keys ['key1', 'key2']).
        let short = keygrip(&["key1", "key2"]);
        assert_eq!(
            short.sign("session=eyJ2aWV3cyI6MX0="),
            "DJaPtrG-tmTnVr33fOWXqWGnVlw"
        );
        assert_eq!(
            short.index("session=eyJ2aWV3cyI6MX0=", "B3c8XKb1yS2Onjlly1-h9F0MKLM"),
            Some(1)
        );
    }

    #[test]
    fn verifies_with_any_key_and_refuses_the_rest() {
        let rotated = keygrip(&[ONE, TWO]);
        let data = "session=eyJjb3VudCI6Mn0=";
        assert_eq!(rotated.index(data, "uBibDfzzRlCvy_42M53oNIpZXi8"), Some(0));
        assert_eq!(rotated.index(data, "8HSIAMhrRltmsi5fYarzhx7iRUQ"), Some(1));
        for bad in [
            "",
            "uBibDfzzRlCvy_42M53oNIpZXi9",
            "uBibDfzzRlCvy_42M53oNIpZXi8=",
            "x",
        ] {
            assert_eq!(rotated.index(data, bad), None, "{bad}");
        }
        assert_eq!(
            rotated.index("session=eyJjb3VudCI6M30=", "uBibDfzzRlCvy_42M53oNIpZXi8"),
            None
        );
    }
}
