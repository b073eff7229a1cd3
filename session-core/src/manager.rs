//! [`SessionManager`]: a configuration and a store, shared by every request of an app.

use std::{sync::Arc, time::SystemTime};

use crate::{cookie_header, Lifetimes, RequestSession, SessionConfig, Store};

/// The session machinery of one app: a validated [`SessionConfig`] and a [`Store`].
/// Cheap to clone; every adapter layer holds one, and two adapters may share one (and so the
/// same store and configuration).
///
/// ```
/// use session_core::{MemoryStore, RequestFacts, SessionConfig, SessionManager};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let config = SessionConfig::builder().secret("a secret of at least thirty-two bytes!").build()?;
/// let manager = SessionManager::new(MemoryStore::new(), config);
///
/// // What an adapter does around each request:
/// let request = manager.begin([&b"connect.sid=garbage"[..]], RequestFacts::plain_http());
/// let session = request.session().await?;        // the handler asks for the session
/// session.insert("user", "alice")?;
/// let set_cookie = request.finish().await?;       // the response is ready
/// assert!(set_cookie.is_some_and(|c| c.starts_with("connect.sid=s%3A")));
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run()).unwrap();
/// ```
#[derive(Clone)]
pub struct SessionManager {
    inner: Arc<ManagerInner>,
}

pub(crate) struct ManagerInner {
    pub(crate) config: SessionConfig,
    pub(crate) store: Arc<dyn Store>,
}

impl ManagerInner {
    /// What a touch gives loaded records, for [`Store::load_and_touch`].
    pub(crate) fn lifetimes(&self) -> Lifetimes {
        Lifetimes::new(self.config.max_age(), self.config.browser_session_ttl)
    }

    /// When the store may forget a session whose cookie expires at `expires`: then, or after
    /// the browser-session TTL for a cookie without expiry (connect-redis's rule).
    pub(crate) fn store_deadline(
        &self,
        expires: Option<SystemTime>,
        now: SystemTime,
    ) -> SystemTime {
        expires.unwrap_or_else(|| now + self.config.browser_session_ttl)
    }
}

/// Facts about how a request arrived, which decide `Secure` under [`crate::Secure::Auto`].
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct RequestFacts<'a> {
    /// The connection itself is TLS.
    pub tls: bool,
    /// The raw `X-Forwarded-Proto` header, read only when the proxy is trusted.
    pub forwarded_proto: Option<&'a [u8]>,
}

impl<'a> RequestFacts<'a> {
    /// A request over a plain TCP connection.
    pub fn plain_http() -> Self {
        Self::default()
    }

    /// A request whose connection is (`true`) or is not TLS.
    pub fn with_tls(mut self, tls: bool) -> Self {
        self.tls = tls;
        self
    }

    /// The request's `X-Forwarded-Proto` header, if any.
    pub fn with_forwarded_proto(mut self, header: Option<&'a [u8]>) -> Self {
        self.forwarded_proto = header;
        self
    }
}

impl SessionManager {
    /// A manager over `store` with `config`.
    pub fn new(store: impl Store, config: SessionConfig) -> Self {
        Self::with_shared_store(Arc::new(store), config)
    }

    /// A manager over a store that is shared with other managers or code.
    pub fn with_shared_store(store: Arc<dyn Store>, config: SessionConfig) -> Self {
        Self {
            inner: Arc::new(ManagerInner { config, store }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.inner.config
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// Starts a request: finds the session cookie among the `Cookie` header values (the first
    /// occurrence wins) and notes whether the request is secure. Nothing is verified or loaded
    /// until [`RequestSession::session`] is called.
    pub fn begin<'h>(
        &self,
        cookie_headers: impl IntoIterator<Item = &'h [u8]>,
        facts: RequestFacts<'_>,
    ) -> RequestSession {
        let raw = cookie_header::find(cookie_headers, &self.inner.config.cookie.name);
        let secure = self
            .inner
            .config
            .request_is_secure(facts.tls, facts.forwarded_proto);
        RequestSession::new(self.inner.clone(), raw, secure)
    }
}

impl std::fmt::Debug for SessionManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionManager")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}
