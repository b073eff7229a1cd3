//! [`RequestSession`]: one request's lazily loaded session and its end-of-request work.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, OnceLock,
    },
    time::SystemTime,
};

use tokio::sync::OnceCell;

use crate::{
    cookie_header,
    manager::ManagerInner,
    rules::{self, Facts, Policy},
    session::Lifecycle,
    set_cookie, Secure, Session, SessionError, SessionId, Unset,
};

/// The session side of one request, created by [`SessionManager::begin`](crate::SessionManager::begin).
///
/// Adapters keep it in the request (it is a cheap `Clone`), hand [`session`](Self::session)
/// to handlers, and call [`finish`](Self::finish) once the handler's response is ready.
/// A request whose handler never asks for the session costs no store I/O at all.
#[derive(Clone)]
pub struct RequestSession {
    inner: Arc<RequestInner>,
}

struct RequestInner {
    manager: Arc<ManagerInner>,
    /// The raw value of the session cookie, when the request carried one.
    cookie: Option<Box<[u8]>>,
    secure: bool,
    session: OnceCell<Session>,
    /// The decoded cookie value, when it verified against the signing secret: it is exactly
    /// what signing the same id again would give, so the response can reuse it.
    primary_signed: OnceLock<Box<str>>,
    finished: AtomicBool,
}

impl RequestSession {
    pub(crate) fn new(manager: Arc<ManagerInner>, cookie: Option<&[u8]>, secure: bool) -> Self {
        Self {
            inner: Arc::new(RequestInner {
                manager,
                cookie: cookie.map(Box::from),
                secure,
                session: OnceCell::new(),
                primary_signed: OnceLock::new(),
                finished: AtomicBool::new(false),
            }),
        }
    }

    /// The request's session, loaded on the first call: the session its signed cookie names
    /// when the store has it, otherwise a new session with a new id (a client-chosen id is
    /// never adopted). A store failure is an error, never a silent new session.
    pub async fn session(&self) -> Result<Session, SessionError> {
        self.inner
            .session
            .get_or_try_init(|| self.load())
            .await
            .cloned()
    }

    /// The session if a handler already asked for it.
    pub fn loaded(&self) -> Option<&Session> {
        self.inner.session.get()
    }

    /// Whether the request arrived over HTTPS (as the configuration judges it).
    pub fn is_secure(&self) -> bool {
        self.inner.secure
    }

    async fn load(&self) -> Result<Session, SessionError> {
        let manager = &self.inner.manager;
        let cookie_id = self.verified_cookie_id();
        if let Some(id) = &cookie_id {
            if let Some(loaded) = manager
                .store
                .load_and_touch(id, manager.lifetimes())
                .await?
            {
                return Ok(Session::loaded(
                    manager.clone(),
                    id.clone(),
                    loaded,
                    self.inner.secure,
                ));
            }
            tracing::debug!(id = %id.redacted(), "session not in store; starting a new one");
        }
        Session::generate(manager.clone(), cookie_id, self.inner.secure)
    }

    /// The session id the request's cookie names, when the cookie decodes and its signature
    /// verifies with one of the secrets; `None` otherwise. The store is not asked, so the
    /// session may no longer exist. Useful to key other per-session state (a WebSocket
    /// upgrade, a rate limiter) without loading the session.
    ///
    /// ```
    /// use session_core::{MemoryStore, RequestFacts, SessionConfig, SessionManager};
    ///
    /// let config = SessionConfig::builder().secret("a secret of at least thirty-two bytes!").build()?;
    /// let manager = SessionManager::new(MemoryStore::new(), config);
    /// let tampered = manager.begin([&b"connect.sid=s%3Aabc.forged"[..]], RequestFacts::plain_http());
    /// assert_eq!(tampered.verified_cookie_id(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verified_cookie_id(&self) -> Option<SessionId> {
        let raw = self.inner.cookie.as_deref()?;
        let value = cookie_header::decode_value(raw)?;
        let Some((id, key_index)) = self.inner.manager.config.keyring.verify_with_index(&value)
        else {
            tracing::debug!("session cookie is unsigned or its signature does not verify");
            return None;
        };
        let id = SessionId::from(id);
        if key_index == 0 {
            let _ = self.inner.primary_signed.set(value.into_boxed_str());
        }
        Some(id)
    }

    /// Does what the request's end calls for (save, touch, delete) and returns the
    /// `Set-Cookie` value to add to the response, if any. Call it once, after the handler.
    ///
    /// On error nothing was acknowledged: the adapter must answer with an error response
    /// rather than the handler's.
    pub async fn finish(&self) -> Result<Option<String>, SessionError> {
        let Some(session) = self.inner.session.get() else {
            return Ok(None);
        };
        if self.inner.finished.swap(true, Ordering::AcqRel) {
            return Ok(None);
        }
        let manager = &*self.inner.manager;
        let config = &manager.config;
        let cookie_secure = match config.cookie.secure {
            Secure::Always => true,
            Secure::Never => false,
            Secure::Auto => self.inner.secure,
        };
        let (lifecycle, id) = {
            let state = session.state();
            (state.lifecycle, state.id.clone())
        };
        match lifecycle {
            Lifecycle::Destroyed => {
                let clear = self.inner.cookie.is_some();
                Ok(clear.then(|| set_cookie::removal_cookie(&config.cookie, cookie_secure)))
            }
            Lifecycle::Unset => {
                let persisted = session.state().is_persisted();
                if config.unset == Unset::Destroy && persisted {
                    manager.store.delete(&id).await?;
                }
                Ok(None)
            }
            Lifecycle::Live => {
                let (decision, expires, touched_at_load) = {
                    let mut state = session.state();
                    let facts = Facts {
                        cookie_matches: state.cookie_id.as_ref() == Some(&state.id),
                        modified: state.is_modified(),
                        saved: state.is_saved(),
                        save_mark: state.has_save_mark(),
                        has_expiry: state.expires.is_some(),
                    };
                    let policy = Policy {
                        rolling: config.rolling,
                        save_uninitialized: config.save_uninitialized,
                    };
                    state.touch();
                    (
                        rules::decide(facts, policy),
                        state.expires,
                        state.touch_done_at_load(),
                    )
                };
                if decision.save {
                    session.persist().await?;
                } else if decision.touch && !touched_at_load {
                    let now = SystemTime::now();
                    let deadline = manager.store_deadline(expires, now);
                    if deadline > now {
                        manager.store.touch(&id, deadline).await?;
                    } else {
                        manager.store.delete(&id).await?;
                    }
                }
                if !decision.set_cookie {
                    return Ok(None);
                }
                if cookie_secure && !self.inner.secure {
                    tracing::debug!("Secure cookie not sent over plain HTTP");
                    return Ok(None);
                }
                let (id, cookie_matches) = {
                    let state = session.state();
                    (
                        state.id.clone(),
                        state.cookie_id.as_ref() == Some(&state.id),
                    )
                };
                let resigned;
                let signed = match self.inner.primary_signed.get() {
                    Some(value) if cookie_matches => value,
                    _ => {
                        resigned = config.keyring.sign(id.as_str());
                        resigned.as_str()
                    }
                };
                Ok(Some(set_cookie::session_cookie(
                    &config.cookie,
                    signed,
                    expires,
                    cookie_secure,
                )))
            }
        }
    }
}

impl std::fmt::Debug for RequestSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestSession")
            .field("has_cookie", &self.inner.cookie.is_some())
            .field("secure", &self.inner.secure)
            .field("session", &self.inner.session.get())
            .finish()
    }
}

#[cfg(test)]
mod tests;
