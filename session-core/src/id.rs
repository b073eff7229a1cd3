//! Session ids: 24 bytes from the operating system's RNG as 32 base64url characters
//! (express-session's `uid-safe` format), or whatever a custom generator returns.

use std::{fmt, sync::Arc};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};

use crate::SessionError;

/// Bytes of randomness in a default id (192 bits).
const ID_BYTES: usize = 24;

/// A session id. Its `Debug` and [`redacted`](Self::redacted) forms show only the first four
/// characters, so logs never carry a whole id.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(Arc<str>);

impl SessionId {
    /// The whole id, for stores. Do not log it: use [`redacted`](Self::redacted).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A printable form that shows only the first four characters.
    pub fn redacted(&self) -> impl fmt::Display + '_ {
        Redacted(self.as_str())
    }

    /// Turns bytes into an id the way `uid-safe` does: base64url without padding.
    pub fn from_random_bytes(bytes: &[u8]) -> Self {
        Self::from(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A new default id: 24 bytes from the OS RNG, 32 characters.
    pub fn random() -> Result<Self, SessionError> {
        let mut bytes = [0u8; ID_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| SessionError::IdGeneration(Box::new(e)))?;
        Ok(Self::from_random_bytes(&bytes))
    }
}

impl From<String> for SessionId {
    fn from(id: String) -> Self {
        Self(id.into())
    }
}

impl From<&str> for SessionId {
    fn from(id: &str) -> Self {
        Self(id.into())
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", self.redacted())
    }
}

struct Redacted<'a>(&'a str);

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: String = self.0.chars().take(4).collect();
        write!(f, "{shown}…")
    }
}

/// Where new session ids come from: the default OS-RNG generator or a custom function
/// (express-session's `genid`).
#[derive(Clone, Default)]
pub enum IdGenerator {
    /// 24 random bytes from the OS, base64url: 32 characters, 192 bits.
    #[default]
    Random,
    /// A custom function. It must return unguessable, URL-safe ids of at least 128 bits:
    /// [`MIN_CUSTOM_ID_LEN`] to [`MAX_CUSTOM_ID_LEN`] characters of `[A-Za-z0-9_-]` (base64url,
    /// hex, a UUID). Anything else is refused at generation time
    /// ([`SessionError::IdGeneration`]), never used.
    Custom(Arc<dyn Fn() -> String + Send + Sync>),
}

/// The shortest id a custom generator may return: 22 base64url characters carry 128 bits.
pub const MIN_CUSTOM_ID_LEN: usize = 22;

/// The longest id a custom generator may return.
pub const MAX_CUSTOM_ID_LEN: usize = 256;

/// Why a custom generator's id was refused.
#[derive(Debug, thiserror::Error)]
#[error(
    "the custom id generator returned an id of {len} characters; ids must be \
     {MIN_CUSTOM_ID_LEN} to {MAX_CUSTOM_ID_LEN} characters of [A-Za-z0-9_-]"
)]
pub struct InvalidId {
    len: usize,
}

fn check_custom(id: String) -> Result<SessionId, SessionError> {
    let url_safe = id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if url_safe && (MIN_CUSTOM_ID_LEN..=MAX_CUSTOM_ID_LEN).contains(&id.len()) {
        Ok(SessionId::from(id))
    } else {
        Err(SessionError::IdGeneration(Box::new(InvalidId {
            len: id.chars().count(),
        })))
    }
}

impl IdGenerator {
    /// Wraps a custom id function.
    pub fn custom(generate: impl Fn() -> String + Send + Sync + 'static) -> Self {
        Self::Custom(Arc::new(generate))
    }

    /// Produces a new id.
    pub fn generate(&self) -> Result<SessionId, SessionError> {
        match self {
            Self::Random => SessionId::random(),
            Self::Custom(generate) => check_custom(generate()),
        }
    }
}

impl fmt::Debug for IdGenerator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Random => f.write_str("IdGenerator::Random"),
            Self::Custom(_) => f.write_str("IdGenerator::Custom(..)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_safe_vectors() {
        let counting: Vec<u8> = (0u8..24).collect();
        assert_eq!(
            SessionId::from_random_bytes(&counting).as_str(),
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"
        );
        assert_eq!(
            SessionId::from_random_bytes(&[0xff; 24]).as_str(),
            "_".repeat(32)
        );
    }

    #[test]
    fn random_ids_have_express_shape_and_differ() {
        let a = SessionId::random().unwrap();
        let b = SessionId::random().unwrap();
        assert_eq!(a.as_str().len(), 32);
        assert!(a
            .as_str()
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(a, b);
    }

    #[test]
    fn debug_redacts_the_id() {
        let id = SessionId::from("abcdefghijklmnop");
        assert_eq!(format!("{id:?}"), "SessionId(abcd…)");
        assert_eq!(id.redacted().to_string(), "abcd…");
    }

    #[test]
    fn custom_generator_is_used() {
        let generator = IdGenerator::custom(|| "fixed-id-of-twenty-two-chars".to_owned());
        assert_eq!(
            generator.generate().unwrap().as_str(),
            "fixed-id-of-twenty-two-chars"
        );
        let uuid = IdGenerator::custom(|| "0f8fad5b-d9cb-469f-a165-70867728950e".to_owned());
        assert!(uuid.generate().is_ok());
    }

    #[test]
    fn a_custom_id_that_is_short_empty_or_not_url_safe_is_refused() {
        for bad in [
            String::new(),
            "short".to_owned(),
            "has a space and is long enough".to_owned(),
            "semi;colon-and-long-enough-too".to_owned(),
            "ünïcode-ids-are-not-url-safe-x".to_owned(),
            "x".repeat(MAX_CUSTOM_ID_LEN + 1),
        ] {
            let generator = IdGenerator::custom(move || bad.clone());
            assert!(matches!(
                generator.generate(),
                Err(SessionError::IdGeneration(_))
            ));
        }
    }
}
