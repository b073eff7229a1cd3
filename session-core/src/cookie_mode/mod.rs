//! Cookie mode: the whole session rides in the cookie, with no store
//! ([`SessionManager::in_cookie`](crate::SessionManager::in_cookie)). Two formats:
//!
//! - [`CookieFormat::Encrypted`] (the default choice): the session sealed with
//!   XChaCha20-Poly1305 ([`seal`]), keys derived from the configured secrets, the cookie name
//!   bound in as associated data, an expiry and the creation time inside the sealed payload
//!   ([`payload`]).
//! - [`CookieFormat::CookieSession`]: byte for byte what npm `cookie-session` 2.x writes and
//!   reads, base64 JSON in `<name>` and a keygrip signature in `<name>.sig` ([`compat`],
//!   [`keygrip`]), so an Express app using cookie-session shares sessions with this one.
//!
//! When a cookie is written is decided by [`rules`], cookie-session's rules as a pure function.

mod compat;
mod keygrip;
mod payload;
pub(crate) mod rules;
mod seal;

use std::time::SystemTime;

use serde_json::{Map, Value};

use crate::{ConfigError, SessionConfig, SessionError, SessionId, MIN_SECRET_LEN};

use self::{keygrip::Keygrip, seal::Sealer};

/// The largest `name=value` a cookie may have: browsers keep at most 4096 bytes of name and
/// value per cookie, and cookie-session's README advises staying under 4093.
pub const MAX_COOKIE_BYTES: usize = 4093;

/// How the session is written into the cookie in cookie mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CookieFormat {
    /// Sealed with XChaCha20-Poly1305: the client can neither read nor change it. Keys are
    /// derived (HKDF-SHA256) from the configured secrets, each at least
    /// [`MIN_SECRET_LEN`] bytes; the first seals, every one opens, and a cookie opened with
    /// an older key is sealed again with the first on its next write.
    #[default]
    Encrypted,
    /// npm `cookie-session` 2.x's format: `<name>=<base64 JSON>` and
    /// `<name>.sig=<keygrip HMAC-SHA1>`, signed with the first secret, verified with any, to
    /// share sessions with an Express app using cookie-session. Signed, not encrypted: the
    /// client can read the session.
    CookieSession,
}

/// A session as read from a request's cookie.
#[derive(Debug)]
pub(crate) struct Opened {
    /// The id the cookie carried (encrypted format); a new one otherwise.
    pub(crate) id: Option<SessionId>,
    pub(crate) data: Map<String, Value>,
    /// The lifetime the cookie carried (encrypted format), or `None` when the format keeps
    /// none (the configured one applies).
    pub(crate) max_age: Option<Option<u64>>,
    pub(crate) created_at: Option<SystemTime>,
    /// The cookie verified with an older secret than the first.
    pub(crate) old_key: bool,
}

/// A session to write into the cookie.
#[derive(Debug)]
pub(crate) struct Outgoing<'a> {
    pub(crate) id: &'a SessionId,
    pub(crate) data: &'a Map<String, Value>,
    pub(crate) max_age: Option<u64>,
    pub(crate) expires: Option<SystemTime>,
    pub(crate) created_at: Option<SystemTime>,
}

/// The cookies to set: `(name, value)` pairs, values ready for `Set-Cookie` as they are.
pub(crate) type Cookies = Vec<(String, String)>;

/// Reads and writes sessions in one [`CookieFormat`].
pub(crate) enum CookieCodec {
    Encrypted(Sealer),
    /// The keys, and the signature cookie's name (`<name>.sig`), made once.
    CookieSession(Keygrip, String),
}

impl CookieCodec {
    /// The codec of `format` over the configuration's secrets; the encrypted format refuses
    /// secrets shorter than [`MIN_SECRET_LEN`] even where signing allowed them.
    pub(crate) fn new(format: CookieFormat, config: &SessionConfig) -> Result<Self, ConfigError> {
        let secrets = config.secrets();
        Ok(match format {
            CookieFormat::Encrypted => {
                if let Some((index, short)) = secrets
                    .iter()
                    .enumerate()
                    .find(|(_, secret)| secret.len() < MIN_SECRET_LEN)
                {
                    return Err(ConfigError::SecretTooShort {
                        index,
                        len: short.len(),
                    });
                }
                Self::Encrypted(Sealer::new(secrets))
            }
            CookieFormat::CookieSession => {
                Self::CookieSession(Keygrip::new(secrets), format!("{}.sig", config.cookie.name))
            }
        })
    }

    /// The name of the signature cookie this format also reads and writes, if any.
    pub(crate) fn signature_name(&self) -> Option<&str> {
        match self {
            Self::Encrypted(_) => None,
            Self::CookieSession(_, signature_name) => Some(signature_name),
        }
    }

    /// The session in cookie `name` (with its signature cookie's value, for cookie-session),
    /// or `None` for anything that does not verify or decode, or has expired.
    pub(crate) fn open(&self, name: &str, value: &str, signature: Option<&str>) -> Option<Opened> {
        match self {
            Self::Encrypted(sealer) => {
                let (plain, key) = sealer.open(name, value)?;
                payload::decode(&plain, key > 0, SystemTime::now())
            }
            Self::CookieSession(keygrip, _) => {
                let key = keygrip.index(&format!("{name}={value}"), signature?)?;
                compat::decode(value, key > 0)
            }
        }
    }

    /// The cookies that carry `session` under `name`, each `name=value` checked against
    /// [`MAX_COOKIE_BYTES`].
    pub(crate) fn write(
        &self,
        name: &str,
        session: &Outgoing<'_>,
    ) -> Result<Cookies, SessionError> {
        let cookies = match self {
            Self::Encrypted(sealer) => {
                let plain = payload::encode(session)?;
                let sealed = sealer
                    .seal(name, plain.as_bytes())
                    .map_err(|error| SessionError::Cookie(Box::new(error)))?;
                vec![(name.to_owned(), sealed)]
            }
            Self::CookieSession(keygrip, signature_name) => {
                let value = compat::encode(session)?;
                let signature = keygrip.sign(&format!("{name}={value}"));
                vec![
                    (name.to_owned(), value),
                    (signature_name.clone(), signature),
                ]
            }
        };
        for (name, value) in &cookies {
            let size = name.len() + 1 + value.len();
            if size > MAX_COOKIE_BYTES {
                return Err(SessionError::TooLarge {
                    size,
                    limit: MAX_COOKIE_BYTES,
                });
            }
        }
        Ok(cookies)
    }

    /// The signature cookie alone, signed again with the first key, for a cookie-session
    /// cookie that verified with an older key (as `cookies` does on read).
    pub(crate) fn resign(&self, name: &str, value: &str) -> Option<(String, String)> {
        match self {
            Self::Encrypted(_) => None,
            Self::CookieSession(keygrip, signature_name) => Some((
                signature_name.clone(),
                keygrip.sign(&format!("{name}={value}")),
            )),
        }
    }
}

impl std::fmt::Debug for CookieCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Encrypted(_) => "CookieCodec::Encrypted(<keys redacted>)",
            Self::CookieSession(..) => "CookieCodec::CookieSession(<keys redacted>)",
        })
    }
}

/// The store of a cookie-mode manager: there is none. The session layer never calls it; a
/// call that got here anyway fails loudly instead of pretending.
#[derive(Debug)]
pub(crate) struct NoStore;

fn no_store() -> crate::StoreError {
    crate::StoreError::backend("cookie mode has no session store")
}

#[async_trait::async_trait]
impl crate::Store for NoStore {
    async fn load(&self, _: &SessionId) -> Result<Option<crate::Loaded>, crate::StoreError> {
        Err(no_store())
    }

    async fn create(
        &self,
        _: &SessionId,
        _: crate::Write<'_>,
    ) -> Result<crate::Created, crate::StoreError> {
        Err(no_store())
    }

    async fn save(
        &self,
        _: &SessionId,
        _: crate::Write<'_>,
        _: &crate::Version,
    ) -> Result<crate::Saved, crate::StoreError> {
        Err(no_store())
    }

    async fn touch(
        &self,
        _: &SessionId,
        _: SystemTime,
        _: Option<&str>,
    ) -> Result<bool, crate::StoreError> {
        Err(no_store())
    }

    async fn delete(&self, _: &SessionId) -> Result<(), crate::StoreError> {
        Err(no_store())
    }

    async fn sessions_of(&self, _: &str) -> Result<Vec<SessionId>, crate::StoreError> {
        Err(no_store())
    }

    fn name(&self) -> &'static str {
        "none"
    }
}
