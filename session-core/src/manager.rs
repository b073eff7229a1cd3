//! [`SessionManager`]: a configuration and a store, shared by every request of an app.

use std::{sync::Arc, time::SystemTime};

use serde_json::{Map, Value};

use crate::{
    cookie_header,
    cookie_mode::{CookieCodec, NoStore},
    deadline,
    lock::SessionLocks,
    store::{hashed::HashedIds, observed::Observed},
    ConfigError, CookieFormat, Lifetimes, RequestSession, SessionConfig, SessionError, SessionId,
    Store,
};

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
/// let set_cookies = request.finish().await?;      // the response is ready
/// assert!(set_cookies.first().is_some_and(|c| c.starts_with("connect.sid=s%3A")));
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run()).unwrap();
/// ```
#[derive(Clone)]
pub struct SessionManager {
    inner: Arc<ManagerInner>,
}

pub(crate) struct ManagerInner {
    pub(crate) config: SessionConfig,
    /// The store as the public [`SessionManager::store`] hands it out: `observed`.
    store: Arc<dyn Store>,
    /// The store as the session layer calls it, observed.
    observed: Arc<Observed>,
    /// The turns of sessions' requests, when they are serialised.
    pub(crate) locks: Option<Arc<SessionLocks>>,
    /// In cookie mode, how sessions are read from and written into cookies; `None` with a
    /// store.
    pub(crate) cookie: Option<CookieCodec>,
    /// The turns of sessions' saves after a conflict: a save that found its session changed
    /// merges and retries in turn with this process's other such saves of the session, so
    /// that requests racing to save one session do not collide again and again (a conflict
    /// with another process is still retried, with back-off).
    pub(crate) save_locks: Arc<SessionLocks<crate::session::Waiting>>,
}

impl ManagerInner {
    /// The store as the session layer calls it: the observed calls, unboxed down to the
    /// store's own.
    pub(crate) fn observed(&self) -> &Observed {
        &self.observed
    }

    /// What a touch gives loaded records, for [`Store::load_and_touch`].
    pub(crate) fn lifetimes(&self) -> Lifetimes {
        Lifetimes::new(self.config.max_age(), self.config.browser_session_ttl)
    }

    /// The user `data` belongs to, when a user key is configured.
    pub(crate) fn owner_of(&self, data: &Map<String, Value>) -> Option<String> {
        self.config.integrity.user_key.as_ref()?.user_of(data)
    }

    /// The creation time and absolute end of a session created now: both `None` without an
    /// absolute timeout (nothing extra is stored).
    pub(crate) fn new_session_times(&self) -> (Option<SystemTime>, Option<SystemTime>) {
        let absolute = self.config.integrity.absolute_timeout;
        let created_at = absolute.map(|_| SystemTime::now());
        (created_at, deadline::absolute_end(created_at, absolute))
    }

    /// Whether `record`'s session is past its absolute end.
    pub(crate) fn is_over(&self, record: &crate::Record) -> bool {
        let ends_at =
            deadline::absolute_end(record.created_at, self.config.integrity.absolute_timeout);
        deadline::is_over(ends_at, SystemTime::now())
    }

    /// The ids of `user`'s live sessions: the store's listing, each checked by loading it.
    pub(crate) async fn sessions_of(&self, user: &str) -> Result<Vec<SessionId>, SessionError> {
        if self.cookie.is_some() {
            return Err(SessionError::NeedsStore("listing a user's sessions"));
        }
        if self.config.integrity.user_key.is_none() {
            return Err(SessionError::NoUserKey);
        }
        let mut live = Vec::new();
        for id in self.observed().sessions_of(user).await? {
            let Some(loaded) = self.observed().load(&id).await? else {
                continue;
            };
            if self.owner_of(&loaded.record.data).as_deref() == Some(user) {
                live.push(id);
            }
        }
        Ok(live)
    }

    /// Deletes every live session of `user` but `keep`; returns how many.
    pub(crate) async fn revoke(
        &self,
        user: &str,
        keep: Option<&SessionId>,
    ) -> Result<usize, SessionError> {
        let mut revoked = 0;
        for id in self.sessions_of(user).await? {
            if Some(&id) != keep {
                self.observed().delete(&id).await?;
                revoked += 1;
            }
        }
        tracing::info!(revoked, "revoked a user's sessions");
        crate::telemetry::destroyed("revoked", revoked);
        Ok(revoked)
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

    /// A manager whose sessions live in the cookie itself, with no store: cookie mode, in
    /// `format`. The same [`Session`](crate::Session) API, the same adapters; what differs is
    /// in the [crate docs](crate#cookie-mode). Fails when
    /// [`CookieFormat::Encrypted`] is given a secret shorter than
    /// [`MIN_SECRET_LEN`](crate::MIN_SECRET_LEN) bytes.
    ///
    /// ```
    /// use session_core::{CookieFormat, RequestFacts, SessionConfig, SessionManager};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let config = SessionConfig::builder().secret("a secret of at least thirty-two bytes!").build()?;
    /// let manager = SessionManager::in_cookie(CookieFormat::Encrypted, config)?;
    /// let request = manager.begin([], RequestFacts::plain_http());
    /// request.session().await?.insert("user", "ann")?;
    /// let cookie = request.finish().await?.first().expect("written").to_owned();
    /// // The next request reads the session out of the cookie alone.
    /// let pair = cookie.split(';').next().expect("name=value");
    /// let next = manager.begin([pair.as_bytes()], RequestFacts::plain_http());
    /// assert_eq!(next.session().await?.get::<String>("user")?.as_deref(), Some("ann"));
    /// # Ok(()) }
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run()).unwrap();
    /// ```
    pub fn in_cookie(format: CookieFormat, config: SessionConfig) -> Result<Self, ConfigError> {
        let codec = CookieCodec::new(format, &config)?;
        Ok(Self::build(Arc::new(NoStore), Some(codec), config))
    }

    /// A manager over a store that is shared with other managers or code.
    pub fn with_shared_store(store: Arc<dyn Store>, config: SessionConfig) -> Self {
        Self::build(store, None, config)
    }

    fn build(store: Arc<dyn Store>, cookie: Option<CookieCodec>, config: SessionConfig) -> Self {
        let store: Arc<dyn Store> = match &config.id_hash_key {
            Some(key) => Arc::new(HashedIds::new(store, key.bytes())),
            None => store,
        };
        let observed = Arc::new(Observed::new(store));
        let locks = config
            .integrity
            .serialize
            .map(|_| Arc::new(SessionLocks::default()));
        Self {
            inner: Arc::new(ManagerInner {
                config,
                store: observed.clone(),
                observed,
                locks,
                cookie,
                save_locks: Arc::default(),
            }),
        }
    }

    /// How many saves of session `id` hold or wait for its turn.
    #[cfg(test)]
    pub(crate) fn save_turn_users(&self, id: &SessionId) -> usize {
        self.inner.save_locks.users(id)
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.inner.config
    }

    /// The store, as the session layer calls it (behind the id hashing of
    /// [`hash_ids_at_rest`](crate::SessionConfigBuilder::hash_ids_at_rest) when it is on).
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
        let name = &self.inner.config.cookie.name;
        let signature_name = self
            .inner
            .cookie
            .as_ref()
            .and_then(CookieCodec::signature_name);
        let (raw, signature) = match signature_name {
            None => (cookie_header::find(cookie_headers, name), None),
            Some(signature_name) => {
                let headers: Vec<&[u8]> = cookie_headers.into_iter().collect();
                (
                    cookie_header::find(headers.iter().copied(), name),
                    cookie_header::find(headers.iter().copied(), signature_name),
                )
            }
        };
        let secure = self
            .inner
            .config
            .request_is_secure(facts.tls, facts.forwarded_proto);
        RequestSession::new(self.inner.clone(), raw, signature, secure)
    }

    /// The ids of every live session of `user` (as the configured
    /// [`user_key`](crate::SessionConfigBuilder::user_key) finds it in each session).
    /// Fails with [`SessionError::NoUserKey`] when no user key is configured.
    ///
    /// ```
    /// use session_core::{MemoryStore, RequestFacts, SessionConfig, SessionManager};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let config = SessionConfig::builder()
    ///     .secret("a secret of at least thirty-two bytes!")
    ///     .user_key("user")
    ///     .build()?;
    /// let manager = SessionManager::new(MemoryStore::new(), config);
    /// for _ in 0..2 {
    ///     // Two logins of ann, from two browsers.
    ///     let request = manager.begin([], RequestFacts::plain_http());
    ///     request.session().await?.insert("user", "ann")?;
    ///     request.finish().await?;
    /// }
    /// assert_eq!(manager.sessions_of("ann").await?.len(), 2);
    /// assert_eq!(manager.revoke_sessions_of("ann").await?, 2); // after a password reset
    /// assert!(manager.sessions_of("ann").await?.is_empty());
    /// # Ok(()) }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run()).unwrap();
    /// ```
    pub async fn sessions_of(&self, user: &str) -> Result<Vec<SessionId>, SessionError> {
        self.inner.sessions_of(user).await
    }

    /// Ends every live session of `user`: each record is deleted, so its cookie no longer
    /// names anything and no request in flight can write it back. Returns how many sessions
    /// ended. From inside a request, [`Session::log_out_everywhere`](crate::Session::log_out_everywhere)
    /// and [`Session::log_out_other_sessions`](crate::Session::log_out_other_sessions) do
    /// the same for the request's user.
    pub async fn revoke_sessions_of(&self, user: &str) -> Result<usize, SessionError> {
        self.inner.revoke(user, None).await
    }
}

impl std::fmt::Debug for SessionManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionManager")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}
