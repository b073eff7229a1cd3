//! Every express-session option, validated once by [`SessionConfigBuilder::build`].

use std::time::Duration;

use crate::{IdGenerator, Keyring, Secret, UserKey};

/// Longest max age, TTL or timeout accepted (100 years), so that every date stays writable.
const MAX_DURATION: Duration = crate::deadline::MAX_LIFETIME;

/// Shortest max age, TTL or timeout accepted: a whole millisecond (Node's clock; less would
/// become a zero TTL).
const MIN_DURATION: Duration = Duration::from_millis(1);

/// Shortest secret accepted without [`SessionConfigBuilder::allow_short_secrets`].
pub const MIN_SECRET_LEN: usize = 32;

/// When the cookie carries the `Secure` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Secure {
    /// Always `Secure`. On a plain-HTTP request the session is still saved but no cookie is
    /// sent, as express-session does.
    Always,
    /// Never `Secure`.
    Never,
    /// `Secure` when the request arrived over HTTPS (see
    /// [`SessionConfigBuilder::trust_proxy`] for TLS terminated by a proxy).
    #[default]
    Auto,
}

impl Secure {
    /// Whether a cookie sent in answer to a request that did (`true`) or did not arrive over
    /// HTTPS carries `Secure`: the one place where [`Secure::Auto`] is resolved.
    ///
    /// ```
    /// use session_core::Secure;
    /// assert!(Secure::Auto.resolve(true) && !Secure::Auto.resolve(false));
    /// assert!(Secure::Always.resolve(false) && !Secure::Never.resolve(true));
    /// ```
    pub fn resolve(self, request_is_https: bool) -> bool {
        match self {
            Self::Always => true,
            Self::Never => false,
            Self::Auto => request_is_https,
        }
    }

    /// The `secure` field Node keeps in the stored `cookie` object: present only when
    /// configured (`Auto` stores what it resolved to).
    pub(crate) fn stored(self, request_is_https: bool) -> Option<bool> {
        match self {
            Self::Never => None,
            Self::Always | Self::Auto => Some(self.resolve(request_is_https)),
        }
    }
}

/// The `SameSite` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SameSite {
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=Lax`: sent on top-level navigations from other sites (OAuth redirects work).
    #[default]
    Lax,
    /// `SameSite=None`: sent on every cross-site request; requires [`Secure::Always`].
    None,
}

impl SameSite {
    /// The attribute value as written in `Set-Cookie`.
    pub fn as_attribute(self) -> &'static str {
        match self {
            Self::Strict => "Strict",
            Self::Lax => "Lax",
            Self::None => "None",
        }
    }

    /// The value Node stores in `cookie.sameSite`.
    pub fn as_json(self) -> &'static str {
        match self {
            Self::Strict => "strict",
            Self::Lax => "lax",
            Self::None => "none",
        }
    }

    /// What a stored `cookie.sameSite` string names, in any case; `None` for other text.
    pub(crate) fn from_json(text: &str) -> Option<Self> {
        [Self::Strict, Self::Lax, Self::None]
            .into_iter()
            .find(|same_site| same_site.as_json().eq_ignore_ascii_case(text))
    }
}

/// The `Priority` attribute (a Chrome extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// `Priority=Low`.
    Low,
    /// `Priority=Medium`.
    Medium,
    /// `Priority=High`.
    High,
}

impl Priority {
    /// The attribute value as written in `Set-Cookie`.
    pub fn as_attribute(self) -> &'static str {
        match self {
            Self::Low => "Low",
            Self::Medium => "Medium",
            Self::High => "High",
        }
    }

    /// The value Node stores in `cookie.priority`.
    pub fn as_json(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }

    /// What a stored `cookie.priority` string names, in any case; `None` for other text.
    pub(crate) fn from_json(text: &str) -> Option<Self> {
        [Self::Low, Self::Medium, Self::High]
            .into_iter()
            .find(|priority| priority.as_json().eq_ignore_ascii_case(text))
    }
}

/// What happens to the stored record when a handler calls [`Session::unset`](crate::Session::unset)
/// (express-session's `req.session = null`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unset {
    /// The record stays in the store untouched.
    #[default]
    Keep,
    /// The record is deleted at the end of the request.
    Destroy,
}

/// What a save does when another request changed the same key of the session since this one
/// loaded it. Changes to different keys are always merged: both persist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConflictPolicy {
    /// This request's value replaces the other one, as in express-session.
    #[default]
    LastWriterWins,
    /// The save fails with [`SessionError::Conflict`](crate::SessionError::Conflict) (the
    /// adapters answer `409`), and the other request's value stays: nothing that was
    /// acknowledged is lost.
    Reject,
}

/// A configuration that [`SessionConfigBuilder::build`] refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No secret was given; at least one is needed to sign cookies.
    #[error("at least one secret is required to sign session cookies")]
    NoSecret,
    /// A secret is empty.
    #[error("secret #{index} is empty")]
    EmptySecret {
        /// Position of the secret in the list.
        index: usize,
    },
    /// A secret is shorter than [`MIN_SECRET_LEN`] bytes and short secrets were not allowed.
    #[error(
        "secret #{index} has {len} bytes; use at least {MIN_SECRET_LEN}, or call \
         allow_short_secrets(true) to join an existing deployment"
    )]
    SecretTooShort {
        /// Position of the secret in the list.
        index: usize,
        /// Its length in bytes.
        len: usize,
    },
    /// The cookie name is not an RFC 7230 token.
    #[error("cookie name {0:?} is not a valid token")]
    InvalidCookieName(String),
    /// The cookie path contains a character that cannot appear in `Set-Cookie`.
    #[error("cookie path {0:?} is invalid")]
    InvalidPath(String),
    /// The cookie domain contains a character that cannot appear in `Set-Cookie`.
    #[error("cookie domain {0:?} is invalid")]
    InvalidDomain(String),
    /// `SameSite=None` was asked for without [`Secure::Always`]; browsers reject such cookies.
    #[error("SameSite=None requires Secure::Always")]
    SameSiteNoneRequiresSecure,
    /// A duration is too large to be represented as a date.
    #[error("{0} is too large")]
    DurationTooLarge(&'static str),
    /// The key of [`SessionConfigBuilder::hash_ids_at_rest`] is shorter than
    /// [`MIN_SECRET_LEN`] bytes.
    #[error("the id hash key has {0} bytes; use at least {MIN_SECRET_LEN}")]
    HashKeyTooShort(usize),
    /// A duration is shorter than one millisecond.
    #[error("{0} must be at least one millisecond")]
    DurationTooShort(&'static str),
    /// `Partitioned` was asked for without [`Secure::Always`]; browsers reject such cookies.
    #[error("Partitioned requires Secure::Always")]
    PartitionedRequiresSecure,
    /// The cookie name has a prefix whose rules the configuration breaks, so browsers would
    /// drop the cookie: `__Secure-` needs [`Secure::Always`]; `__Host-` needs
    /// [`Secure::Always`], `Path=/` and no `Domain`.
    #[error("a cookie named {name:?} needs {needs}")]
    CookiePrefix {
        /// The cookie name.
        name: String,
        /// What the prefix requires.
        needs: &'static str,
    },
}

/// The cookie attributes shared by every session of a configuration.
#[derive(Debug, Clone)]
pub(crate) struct CookiePolicy {
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) domain: Option<String>,
    pub(crate) http_only: bool,
    pub(crate) secure: Secure,
    pub(crate) same_site: Option<SameSite>,
    pub(crate) partitioned: bool,
    pub(crate) priority: Option<Priority>,
    pub(crate) max_age: Option<Duration>,
}

/// A validated session configuration. Build one with [`SessionConfig::builder`].
///
/// ```
/// use session_core::{SameSite, SessionConfig};
/// use std::time::Duration;
///
/// let config = SessionConfig::builder()
///     .secret("a secret of at least thirty-two bytes!")
///     .max_age(Some(Duration::from_secs(30 * 60)))
///     .same_site(Some(SameSite::Lax))
///     .rolling(true)
///     .build()?;
/// assert_eq!(config.cookie_name(), "connect.sid");
/// # Ok::<_, session_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub(crate) keyring: Keyring,
    /// The secrets themselves, for cookie mode's keys.
    secrets: Vec<Secret>,
    pub(crate) cookie: CookiePolicy,
    pub(crate) trust_proxy: bool,
    pub(crate) resave: bool,
    pub(crate) rolling: bool,
    pub(crate) save_uninitialized: bool,
    pub(crate) unset: Unset,
    pub(crate) id_generator: IdGenerator,
    pub(crate) browser_session_ttl: Duration,
    pub(crate) integrity: Integrity,
    /// The key of the hash that stores key records by, when ids are hashed at rest.
    pub(crate) id_hash_key: Option<Secret>,
    /// The largest session a save writes, in bytes of its stored JSON.
    pub(crate) max_session_bytes: Option<usize>,
}

/// The default limit of a session's size: 64 KiB of stored JSON. Express apps rarely keep
/// more than a few KiB in a session; a larger one is usually a bug or an abuse.
pub const DEFAULT_MAX_SESSION_BYTES: usize = 64 * 1024;

/// The options that keep sessions trustworthy under concurrency: how saves of concurrent
/// requests combine, when a session is over however active it is, and whose it is.
#[derive(Debug, Clone)]
pub(crate) struct Integrity {
    pub(crate) conflicts: ConflictPolicy,
    pub(crate) absolute_timeout: Option<Duration>,
    /// `Some(longest wait for the session's turn)` when requests of one session run one
    /// after another.
    pub(crate) serialize: Option<Duration>,
    pub(crate) user_key: Option<UserKey>,
}

/// How long a request waits by default for its session's turn under
/// [`SessionConfigBuilder::serialize_requests`].
pub const DEFAULT_SERIALIZE_WAIT: Duration = Duration::from_secs(10);

impl SessionConfig {
    /// Starts a builder with the secure defaults: cookie `connect.sid`, `Path=/`, `HttpOnly`,
    /// `SameSite=Lax`, [`Secure::Auto`], a browser-session cookie (no `Expires`),
    /// `resave=false`, `rolling=false`, `saveUninitialized=true`, [`Unset::Keep`].
    pub fn builder() -> SessionConfigBuilder {
        SessionConfigBuilder::default()
    }

    /// The cookie name.
    pub fn cookie_name(&self) -> &str {
        &self.cookie.name
    }

    /// The keyring that signs and verifies cookies.
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// The secrets, in order (cookie mode derives its keys from them).
    pub(crate) fn secrets(&self) -> &[Secret] {
        &self.secrets
    }

    /// The default max age of new sessions; `None` is a browser-session cookie.
    pub fn max_age(&self) -> Option<Duration> {
        self.cookie.max_age
    }

    /// Whether an untouched session is written back on every request.
    pub fn resave(&self) -> bool {
        self.resave
    }

    /// Whether the cookie is re-sent on every response.
    pub fn rolling(&self) -> bool {
        self.rolling
    }

    /// Whether a new, unmodified session is saved and gets a cookie.
    pub fn save_uninitialized(&self) -> bool {
        self.save_uninitialized
    }

    /// What [`Session::unset`](crate::Session::unset) does to the stored record.
    pub fn unset(&self) -> Unset {
        self.unset
    }

    /// How long the store keeps a browser-session (no `Expires`) record after its last use.
    pub fn browser_session_ttl(&self) -> Duration {
        self.browser_session_ttl
    }

    /// What a save does when another request changed the same key meanwhile.
    pub fn conflicts(&self) -> ConflictPolicy {
        self.integrity.conflicts
    }

    /// How long a session may last from its creation, however active; `None`: no limit.
    pub fn absolute_timeout(&self) -> Option<Duration> {
        self.integrity.absolute_timeout
    }

    /// Whether requests of one session run one after another within this process, and how
    /// long one waits at most for its turn.
    pub fn serialize_requests(&self) -> Option<Duration> {
        self.integrity.serialize
    }

    /// The largest session a save writes, in bytes of its stored JSON.
    pub fn max_session_bytes(&self) -> Option<usize> {
        self.max_session_bytes
    }

    /// Where a session's user is found, for listing and revoking a user's sessions.
    pub fn user_key(&self) -> Option<&UserKey> {
        self.integrity.user_key.as_ref()
    }

    /// Whether the request is HTTPS, from the transport and, when the proxy is trusted, the
    /// first value of `X-Forwarded-Proto` (express-session's `issecure`).
    pub(crate) fn request_is_secure(&self, tls: bool, forwarded_proto: Option<&[u8]>) -> bool {
        if tls {
            return true;
        }
        if !self.trust_proxy {
            return false;
        }
        let Some(header) = forwarded_proto else {
            return false;
        };
        let first = header.split(|&b| b == b',').next().unwrap_or_default();
        first.trim_ascii().eq_ignore_ascii_case(b"https")
    }
}

/// Builds a [`SessionConfig`]; see [`SessionConfig::builder`] for the defaults.
#[derive(Debug, Clone)]
pub struct SessionConfigBuilder {
    secrets: Vec<Secret>,
    allow_short_secrets: bool,
    cookie: CookiePolicy,
    trust_proxy: bool,
    resave: bool,
    rolling: bool,
    save_uninitialized: bool,
    unset: Unset,
    id_generator: IdGenerator,
    browser_session_ttl: Duration,
    integrity: Integrity,
    id_hash_key: Option<Secret>,
    max_session_bytes: Option<usize>,
}

impl Default for SessionConfigBuilder {
    fn default() -> Self {
        Self {
            secrets: Vec::new(),
            allow_short_secrets: false,
            cookie: CookiePolicy {
                name: "connect.sid".to_owned(),
                path: "/".to_owned(),
                domain: None,
                http_only: true,
                secure: Secure::Auto,
                same_site: Some(SameSite::Lax),
                partitioned: false,
                priority: None,
                max_age: None,
            },
            trust_proxy: false,
            resave: false,
            rolling: false,
            save_uninitialized: true,
            unset: Unset::Keep,
            id_generator: IdGenerator::Random,
            browser_session_ttl: Duration::from_secs(86_400),
            integrity: Integrity {
                conflicts: ConflictPolicy::LastWriterWins,
                absolute_timeout: None,
                serialize: None,
                user_key: None,
            },
            id_hash_key: None,
            max_session_bytes: Some(DEFAULT_MAX_SESSION_BYTES),
        }
    }
}

impl SessionConfigBuilder {
    /// Adds a secret. The first secret added signs; every one verifies.
    pub fn secret(mut self, secret: impl Into<Secret>) -> Self {
        self.secrets.push(secret.into());
        self
    }

    /// Adds several secrets in priority order (the first one overall signs).
    pub fn secrets<S: Into<Secret>>(mut self, secrets: impl IntoIterator<Item = S>) -> Self {
        self.secrets.extend(secrets.into_iter().map(Into::into));
        self
    }

    /// Accepts secrets shorter than [`MIN_SECRET_LEN`] bytes, to join an existing Express
    /// deployment whose secret is short. Off by default.
    pub fn allow_short_secrets(mut self, allow: bool) -> Self {
        self.allow_short_secrets = allow;
        self
    }

    /// The cookie name (default `connect.sid`).
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie.name = name.into();
        self
    }

    /// The cookie `Path` (default `/`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.cookie.path = path.into();
        self
    }

    /// The cookie `Domain` (default none: host-only).
    pub fn domain(mut self, domain: Option<String>) -> Self {
        self.cookie.domain = domain;
        self
    }

    /// Whether the cookie is `HttpOnly` (default `true`).
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.cookie.http_only = http_only;
        self
    }

    /// When the cookie is `Secure` (default [`Secure::Auto`]).
    pub fn secure(mut self, secure: Secure) -> Self {
        self.cookie.secure = secure;
        self
    }

    /// Trust the first value of `X-Forwarded-Proto` to decide whether a request is HTTPS
    /// (express-session's `proxy: true`). Off by default: only a TLS connection counts.
    pub fn trust_proxy(mut self, trust: bool) -> Self {
        self.trust_proxy = trust;
        self
    }

    /// The `SameSite` attribute (default `Lax`; `None` omits the attribute).
    pub fn same_site(mut self, same_site: Option<SameSite>) -> Self {
        self.cookie.same_site = same_site;
        self
    }

    /// The default lifetime of new sessions; `None` (the default) makes a browser-session
    /// cookie without `Expires`.
    pub fn max_age(mut self, max_age: Option<Duration>) -> Self {
        self.cookie.max_age = max_age;
        self
    }

    /// Whether the cookie is `Partitioned` (CHIPS; default `false`).
    pub fn partitioned(mut self, partitioned: bool) -> Self {
        self.cookie.partitioned = partitioned;
        self
    }

    /// The `Priority` attribute (default none).
    pub fn priority(mut self, priority: Option<Priority>) -> Self {
        self.cookie.priority = priority;
        self
    }

    /// A custom id generator (express-session's `genid`).
    pub fn id_generator(mut self, generator: IdGenerator) -> Self {
        self.id_generator = generator;
        self
    }

    /// Write an unmodified session back on every request (default `false`).
    pub fn resave(mut self, resave: bool) -> Self {
        self.resave = resave;
        self
    }

    /// Re-send the cookie, with a fresh `Expires`, on every response (default `false`).
    pub fn rolling(mut self, rolling: bool) -> Self {
        self.rolling = rolling;
        self
    }

    /// Save new sessions (and send their cookie) even when nothing was written to them
    /// (default `true`, as express-session).
    pub fn save_uninitialized(mut self, save: bool) -> Self {
        self.save_uninitialized = save;
        self
    }

    /// What [`Session::unset`](crate::Session::unset) does to the stored record (default keep).
    pub fn unset(mut self, unset: Unset) -> Self {
        self.unset = unset;
        self
    }

    /// How long the store keeps a browser-session record after its last use (default one
    /// day, connect-redis's fallback TTL).
    pub fn browser_session_ttl(mut self, ttl: Duration) -> Self {
        self.browser_session_ttl = ttl;
        self
    }

    /// What a save does when another request changed the same key of the session since this
    /// one loaded it (default [`ConflictPolicy::LastWriterWins`]). Changes to different keys
    /// are merged either way.
    pub fn conflicts(mut self, policy: ConflictPolicy) -> Self {
        self.integrity.conflicts = policy;
        self
    }

    /// Ends every session this long after it was created, however active it is (OWASP's
    /// absolute timeout; default `None`, no limit, as express-session). The creation time is
    /// kept in the stored session as `__createdAt` (epoch milliseconds), which an Express app
    /// sharing the store keeps as it keeps any key; a session without one (made by Express, or
    /// before this was set) counts from the first time this side sees it.
    pub fn absolute_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.integrity.absolute_timeout = timeout;
        self
    }

    /// Runs the requests of one session one after another within this process, each from its
    /// load to its save (default off). For apps that need strict read-modify-write (counters,
    /// balances); a request that waits longer than [`DEFAULT_SERIALIZE_WAIT`] for its turn
    /// fails with [`SessionError::Busy`](crate::SessionError::Busy) (`503`). Requests that
    /// never ask for their session do not wait. Across processes, use
    /// [`ConflictPolicy::Reject`].
    pub fn serialize_requests(mut self, serialize: bool) -> Self {
        self.integrity.serialize = serialize.then_some(DEFAULT_SERIALIZE_WAIT);
        self
    }

    /// Like [`serialize_requests(true)`](Self::serialize_requests), with the longest wait for
    /// a session's turn.
    pub fn serialize_requests_waiting_at_most(mut self, wait: Duration) -> Self {
        self.integrity.serialize = Some(wait);
        self
    }

    /// Where a session's user is found in its data (a key like `"user"`, or a JSON pointer
    /// like `"/passport/user"`), so that the store lists each user's sessions and
    /// [`SessionManager::revoke_sessions_of`](crate::SessionManager::revoke_sessions_of) can
    /// end them all. Default: none.
    pub fn user_key(mut self, key: impl Into<String>) -> Self {
        self.integrity.user_key = Some(UserKey::path(key));
        self
    }

    /// Like [`user_key`](Self::user_key), with any [`UserKey`] (a custom function).
    pub fn user_key_with(mut self, key: UserKey) -> Self {
        self.integrity.user_key = Some(key);
        self
    }

    /// The largest session a save writes, in bytes of its stored JSON (default
    /// [`DEFAULT_MAX_SESSION_BYTES`]; `None`: no limit). A save of a larger session fails with
    /// [`SessionError::TooLarge`](crate::SessionError::TooLarge) (the adapters answer `413`)
    /// and writes nothing.
    pub fn max_session_bytes(mut self, limit: Option<usize>) -> Self {
        self.max_session_bytes = limit;
        self
    }

    /// Stores records under a keyed hash of the session id (HMAC-SHA256 with `key`, at least
    /// [`MIN_SECRET_LEN`] bytes) instead of the id itself, so that a dump of the store (a Redis
    /// `SCAN`, a database backup, a memory image) holds no id that could be replayed as a
    /// cookie. Off by default, because an Express app sharing the store looks records up by
    /// the raw id and would no longer find them. The key must stay the same for as long as
    /// sessions should last (a new key is a logout of everyone), and is separate from the
    /// signing secrets so that they can rotate. Revoking a user's sessions works as before;
    /// [`SessionManager::sessions_of`](crate::SessionManager::sessions_of) then lists the
    /// stored keys (they start with `~`), not the ids in cookies.
    pub fn hash_ids_at_rest(mut self, key: impl Into<Secret>) -> Self {
        self.id_hash_key = Some(key.into());
        self
    }

    /// Validates the options.
    pub fn build(self) -> Result<SessionConfig, ConfigError> {
        for (index, secret) in self.secrets.iter().enumerate() {
            if secret.is_empty() {
                return Err(ConfigError::EmptySecret { index });
            }
            if secret.len() < MIN_SECRET_LEN && !self.allow_short_secrets {
                return Err(ConfigError::SecretTooShort {
                    index,
                    len: secret.len(),
                });
            }
        }
        let keyring = Keyring::new(self.secrets.iter().cloned()).ok_or(ConfigError::NoSecret)?;
        if let Some(key) = &self.id_hash_key {
            if key.len() < MIN_SECRET_LEN {
                return Err(ConfigError::HashKeyTooShort(key.len()));
            }
        }
        let cookie = self.cookie;
        if cookie.name.is_empty() || !cookie.name.bytes().all(is_token_byte) {
            return Err(ConfigError::InvalidCookieName(cookie.name));
        }
        if !cookie.path.starts_with('/') || !is_attribute_value(&cookie.path) {
            return Err(ConfigError::InvalidPath(cookie.path));
        }
        if let Some(domain) = &cookie.domain {
            if domain.is_empty() || !is_attribute_value(domain) {
                return Err(ConfigError::InvalidDomain(domain.clone()));
            }
        }
        if cookie.same_site == Some(SameSite::None) && cookie.secure != Secure::Always {
            return Err(ConfigError::SameSiteNoneRequiresSecure);
        }
        check_cookie_rules(&cookie)?;
        for (what, duration) in [
            ("max_age", cookie.max_age),
            ("browser_session_ttl", Some(self.browser_session_ttl)),
            ("absolute_timeout", self.integrity.absolute_timeout),
            ("serialize_requests wait", self.integrity.serialize),
        ] {
            match duration {
                Some(d) if d > MAX_DURATION => return Err(ConfigError::DurationTooLarge(what)),
                Some(d) if d < MIN_DURATION => return Err(ConfigError::DurationTooShort(what)),
                _ => {}
            }
        }
        Ok(SessionConfig {
            keyring,
            secrets: self.secrets,
            cookie,
            trust_proxy: self.trust_proxy,
            resave: self.resave,
            rolling: self.rolling,
            save_uninitialized: self.save_uninitialized,
            unset: self.unset,
            id_generator: self.id_generator,
            browser_session_ttl: self.browser_session_ttl,
            integrity: self.integrity,
            id_hash_key: self.id_hash_key,
            max_session_bytes: self.max_session_bytes,
        })
    }
}

/// What browsers require before they keep a cookie: `Partitioned` and the `__Secure-` and
/// `__Host-` name prefixes need `Secure` on every response (RFC 6265bis §4.1.3, CHIPS).
fn check_cookie_rules(cookie: &CookiePolicy) -> Result<(), ConfigError> {
    let always_secure = cookie.secure == Secure::Always;
    if cookie.partitioned && !always_secure {
        return Err(ConfigError::PartitionedRequiresSecure);
    }
    let prefix_rule = |name: &str| {
        let lower = name.to_ascii_lowercase();
        if lower.starts_with("__host-") {
            let host_only = cookie.path == "/" && cookie.domain.is_none();
            (!(always_secure && host_only)).then_some("Secure::Always, Path=/ and no Domain")
        } else if lower.starts_with("__secure-") {
            (!always_secure).then_some("Secure::Always")
        } else {
            None
        }
    };
    match prefix_rule(&cookie.name) {
        Some(needs) => Err(ConfigError::CookiePrefix {
            name: cookie.name.clone(),
            needs,
        }),
        None => Ok(()),
    }
}

/// RFC 7230 `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Printable ASCII without `;`, as `cookie.serialize` requires of `Path` and `Domain`.
fn is_attribute_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b';')
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn defaults_are_secure() {
        let config = SessionConfig::builder().secret(LONG).build().unwrap();
        assert_eq!(config.cookie.name, "connect.sid");
        assert_eq!(config.cookie.path, "/");
        assert!(config.cookie.http_only);
        assert_eq!(config.cookie.secure, Secure::Auto);
        assert_eq!(config.cookie.same_site, Some(SameSite::Lax));
        assert!(!config.resave && !config.rolling && config.save_uninitialized);
    }

    #[test]
    fn refuses_bad_configurations_with_typed_errors() {
        let base = || SessionConfig::builder().secret(LONG);
        assert_eq!(
            SessionConfig::builder().build().unwrap_err(),
            ConfigError::NoSecret
        );
        assert_eq!(
            SessionConfig::builder()
                .secret("short")
                .build()
                .unwrap_err(),
            ConfigError::SecretTooShort { index: 0, len: 5 }
        );
        assert_eq!(
            base().secret("").build().unwrap_err(),
            ConfigError::EmptySecret { index: 1 }
        );
        assert!(matches!(
            base().cookie_name("bad name").build(),
            Err(ConfigError::InvalidCookieName(_))
        ));
        assert!(matches!(
            base().path("/a;b").build(),
            Err(ConfigError::InvalidPath(_))
        ));
        assert!(matches!(
            base().path("relative").build(),
            Err(ConfigError::InvalidPath(_))
        ));
        assert!(matches!(
            base().domain(Some("a\nb".into())).build(),
            Err(ConfigError::InvalidDomain(_))
        ));
        assert_eq!(
            base().same_site(Some(SameSite::None)).build().unwrap_err(),
            ConfigError::SameSiteNoneRequiresSecure
        );
        assert!(base()
            .same_site(Some(SameSite::None))
            .secure(Secure::Always)
            .build()
            .is_ok());
        assert_eq!(
            base().max_age(Some(Duration::MAX)).build().unwrap_err(),
            ConfigError::DurationTooLarge("max_age")
        );
        assert_eq!(
            base()
                .absolute_timeout(Some(Duration::ZERO))
                .build()
                .unwrap_err(),
            ConfigError::DurationTooShort("absolute_timeout")
        );
        assert_eq!(
            base()
                .max_age(Some(Duration::from_micros(500)))
                .build()
                .unwrap_err(),
            ConfigError::DurationTooShort("max_age")
        );
        assert_eq!(
            base()
                .browser_session_ttl(Duration::ZERO)
                .build()
                .unwrap_err(),
            ConfigError::DurationTooShort("browser_session_ttl")
        );
        assert_eq!(
            base()
                .max_age(Some(Duration::from_secs(1 << 38)))
                .build()
                .unwrap_err(),
            ConfigError::DurationTooLarge("max_age"),
            "a date past the year 9999"
        );
        assert_eq!(
            base()
                .serialize_requests_waiting_at_most(Duration::MAX)
                .build()
                .unwrap_err(),
            ConfigError::DurationTooLarge("serialize_requests wait")
        );
    }

    #[test]
    fn cookies_that_browsers_would_drop_are_refused() {
        let base = || SessionConfig::builder().secret(LONG);
        assert_eq!(
            base().partitioned(true).build().unwrap_err(),
            ConfigError::PartitionedRequiresSecure
        );
        assert!(base()
            .partitioned(true)
            .secure(Secure::Always)
            .build()
            .is_ok());
        for (name, configure) in [
            ("__Secure-sid", base().secure(Secure::Auto)),
            ("__Host-sid", base().secure(Secure::Auto)),
            ("__Host-sid", base().secure(Secure::Always).path("/app")),
            (
                "__host-sid",
                base()
                    .secure(Secure::Always)
                    .domain(Some("example.com".into())),
            ),
        ] {
            assert!(
                matches!(
                    configure.cookie_name(name).build(),
                    Err(ConfigError::CookiePrefix { .. })
                ),
                "{name}"
            );
        }
        for name in ["__Secure-sid", "__Host-sid"] {
            assert!(base()
                .cookie_name(name)
                .secure(Secure::Always)
                .build()
                .is_ok());
        }
    }

    #[test]
    fn short_secrets_need_an_explicit_opt_in() {
        let config = SessionConfig::builder()
            .secret("keyboard cat")
            .allow_short_secrets(true)
            .build();
        assert!(config.is_ok());
    }

    #[test]
    fn secure_detection_follows_issecure() {
        let trusting = SessionConfig::builder()
            .secret(LONG)
            .trust_proxy(true)
            .build()
            .unwrap();
        let plain = SessionConfig::builder().secret(LONG).build().unwrap();
        assert!(plain.request_is_secure(true, None));
        assert!(!plain.request_is_secure(false, Some(b"https")));
        assert!(trusting.request_is_secure(false, Some(b"https")));
        assert!(trusting.request_is_secure(false, Some(b" HTTPS , http")));
        assert!(!trusting.request_is_secure(false, Some(b"http, https")));
        assert!(!trusting.request_is_secure(false, None));
    }
}
