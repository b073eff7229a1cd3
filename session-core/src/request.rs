//! [`RequestSession`]: one request's lazily loaded session and its end-of-request work.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex, OnceLock,
    },
    time::SystemTime,
};

use tokio::sync::OnceCell;

use crate::{
    cookie_header, deadline,
    lock::Turn,
    manager::ManagerInner,
    rules::{self, Decision, Facts, Policy},
    session::{Lifecycle, Persisted},
    set_cookie, signing, Session, SessionError, SessionId, SetCookies, Unset,
};

mod cookie;

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
    /// The raw value of the signature cookie (cookie mode, cookie-session format).
    signature: Option<Box<[u8]>>,
    secure: bool,
    session: OnceCell<Session>,
    /// The MAC of the cookie value, when it verified against the signing secret: it is
    /// exactly what signing the same id again would give, so the response can reuse it.
    primary_mac: OnceLock<[u8; signing::MAC_LEN]>,
    finished: AtomicBool,
    /// This request's turn on its session, held from the load to the end of `finish` when
    /// requests of one session are serialised.
    turn: Mutex<Option<Turn>>,
}

impl RequestSession {
    pub(crate) fn new(
        manager: Arc<ManagerInner>,
        cookie: Option<&[u8]>,
        signature: Option<&[u8]>,
        secure: bool,
    ) -> Self {
        Self {
            inner: Arc::new(RequestInner {
                manager,
                cookie: cookie.map(Box::from),
                signature: signature.map(Box::from),
                secure,
                session: OnceCell::new(),
                primary_mac: OnceLock::new(),
                finished: AtomicBool::new(false),
                turn: Mutex::new(None),
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
        if let Some(codec) = &manager.cookie {
            return self.load_from_cookie(codec);
        }
        let cookie_id = self.verified_cookie_id();
        if let Some(id) = &cookie_id {
            self.wait_for_turn(id).await?;
            match manager
                .observed()
                .load_and_touch(id, manager.lifetimes())
                .await?
            {
                Some(loaded) if !manager.is_over(&loaded.record) => {
                    return Ok(Session::loaded(
                        manager.clone(),
                        id.clone(),
                        loaded,
                        self.inner.secure,
                    ));
                }
                Some(_) => {
                    tracing::debug!(id = %id.redacted(), "session reached its absolute timeout; starting a new one");
                    manager.observed().delete(id).await?;
                    crate::telemetry::destroyed("absolute_timeout", 1);
                }
                None => {
                    tracing::debug!(id = %id.redacted(), "session not in store; starting a new one");
                }
            }
        }
        Session::generate(manager.clone(), cookie_id, self.inner.secure)
    }

    /// Waits until no other request of session `id` is between its load and its save, when
    /// requests of one session are serialised.
    async fn wait_for_turn(&self, id: &SessionId) -> Result<(), SessionError> {
        let manager = &self.inner.manager;
        let (Some(locks), Some(wait)) = (&manager.locks, manager.config.integrity.serialize) else {
            return Ok(());
        };
        // A second load in this request, after the first one failed, already has the turn:
        // waiting for it again would wait for itself.
        if self.turn_slot().is_some() {
            return Ok(());
        }
        let turn = locks.turn(id, wait, None).await?;
        *self.turn_slot() = Some(turn);
        Ok(())
    }

    fn turn_slot(&self) -> std::sync::MutexGuard<'_, Option<Turn>> {
        self.inner
            .turn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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
        if let Some(codec) = &self.inner.manager.cookie {
            return self.open_cookie(codec)?.id;
        }
        let raw = self.inner.cookie.as_deref()?;
        let keyring = &self.inner.manager.config.keyring;
        let verified = cookie_header::with_decoded(raw, |value| {
            let (id, key_index) = keyring.verify_with_index(value)?;
            let mac = value.rsplit_once('.').map(|(_, mac)| mac.as_bytes());
            if let (0, Some(Ok(mac))) = (key_index, mac.map(<[u8; signing::MAC_LEN]>::try_from)) {
                let _ = self.inner.primary_mac.set(mac);
            }
            Some(SessionId::from(id))
        })?;
        if verified.is_none() {
            tracing::debug!("session cookie is unsigned or its signature does not verify");
        }
        verified
    }

    /// Does what the request's end calls for (save, touch, delete) and returns the
    /// `Set-Cookie` value to add to the response, if any. Call it once, after the handler.
    ///
    /// On error nothing was acknowledged: the adapter must answer with an error response
    /// rather than the handler's. A session that another request ended meanwhile (a logout,
    /// `regenerate()` or revoke) is not written back, and no cookie is sent for it.
    pub async fn finish(&self) -> Result<SetCookies, SessionError> {
        let Some(session) = self.inner.session.get() else {
            return Ok(SetCookies::none());
        };
        if self.inner.finished.swap(true, Ordering::AcqRel) {
            return Ok(SetCookies::none());
        }
        if let Some(codec) = &self.inner.manager.cookie {
            return self.finish_in_cookie(session, codec);
        }
        let outcome = self
            .finish_session(session)
            .await
            .map(|cookie| cookie.map_or_else(SetCookies::none, SetCookies::one));
        // The next request of this session may load it now that this one has saved.
        drop(self.turn_slot().take());
        outcome
    }

    async fn finish_session(&self, session: &Session) -> Result<Option<String>, SessionError> {
        let lifecycle = session.state().lifecycle;
        match lifecycle {
            Lifecycle::Destroyed => {
                Ok(self.inner.cookie.is_some().then(|| {
                    set_cookie::removal_cookie(&self.config().cookie, self.cookie_secure())
                }))
            }
            Lifecycle::Unset => {
                let (id, persisted) = {
                    let state = session.state();
                    (state.id.clone(), state.is_persisted())
                };
                if self.config().unset == Unset::Destroy && persisted {
                    self.inner.manager.observed().delete(&id).await?;
                }
                Ok(None)
            }
            Lifecycle::Ended => Ok(None),
            Lifecycle::Live => self.finish_live(session).await,
        }
    }

    /// Saves or touches as the rules decide, then builds the cookie if they ask for one and
    /// the session still exists.
    async fn finish_live(&self, session: &Session) -> Result<Option<String>, SessionError> {
        let decision = self.decide(session);
        let exists = if decision.save {
            session.persist().await? == Persisted::Written
        } else if decision.touch {
            self.touch_store(session).await?
        } else {
            true
        };
        if !exists || !decision.set_cookie {
            return Ok(None);
        }
        if self.cookie_secure() && !self.inner.secure {
            tracing::debug!("Secure cookie not sent over plain HTTP");
            return Ok(None);
        }
        Ok(Some(self.session_cookie(session)))
    }

    /// Applies the rules to the session's facts, and touches the cookie's expiry as
    /// express-session does before deciding.
    fn decide(&self, session: &Session) -> Decision {
        let config = self.config();
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
        rules::decide(facts, policy)
    }

    /// Moves the stored expiry (and the session's listing under its user), unless the load
    /// already did; deletes a session whose deadline has passed. Returns whether the record
    /// still exists.
    async fn touch_store(&self, session: &Session) -> Result<bool, SessionError> {
        let manager = &*self.inner.manager;
        let (id, expires, ends_at, owner, done) = {
            let state = session.state();
            (
                state.id.clone(),
                state.expires,
                state.ends_at,
                manager.owner_of(&state.data),
                state.touch_done_at_load(),
            )
        };
        if done {
            return Ok(true);
        }
        let now = SystemTime::now();
        let deadline =
            deadline::store_deadline(expires, manager.config.browser_session_ttl, ends_at, now);
        if deadline <= now {
            manager.observed().delete(&id).await?;
            return Ok(false);
        }
        Ok(manager
            .observed()
            .touch(&id, deadline, owner.as_deref())
            .await?)
    }

    /// The session's `Set-Cookie` value; a cookie that verified against the signing secret is
    /// reused rather than signed again.
    fn session_cookie(&self, session: &Session) -> String {
        let config = self.config();
        let (id, expires, cookie_matches) = {
            let state = session.state();
            (
                state.id.clone(),
                state.expires,
                state.cookie_id.as_ref() == Some(&state.id),
            )
        };
        let resigned;
        let kept = self
            .inner
            .primary_mac
            .get()
            .map(|mac| std::str::from_utf8(mac));
        let signed = match kept {
            Some(Ok(mac)) if cookie_matches => ["s:", id.as_str(), ".", mac],
            _ => {
                resigned = config.keyring.sign(id.as_str());
                [resigned.as_str(), "", "", ""]
            }
        };
        set_cookie::session_cookie(&config.cookie, &signed, expires, self.cookie_secure())
    }

    pub(crate) fn config(&self) -> &crate::SessionConfig {
        &self.inner.manager.config
    }

    /// Whether the cookie carries `Secure`, by the configuration and this request.
    pub(crate) fn cookie_secure(&self) -> bool {
        self.config().cookie.secure.resolve(self.inner.secure)
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
