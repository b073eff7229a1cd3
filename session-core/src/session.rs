//! [`Session`]: the handle a request handler reads and writes.

use std::{
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, SystemTime},
};

use serde::{de::DeserializeOwned, Serialize};
use serde_json::{Map, Value};

use crate::{
    manager::ManagerInner, record::RESERVED_KEYS, CookieData, Created, Loaded, Record,
    SessionError, SessionId, Store,
};

/// How many fresh ids [`Store::create`] is tried with before giving up.
const CREATE_ATTEMPTS: u32 = 8;

/// One request's session: a cheap, `Send + Sync + Clone` handle (clones share the same state),
/// so it can be moved into spawned tasks.
///
/// Reads and writes are synchronous; the methods that reach the store
/// ([`regenerate`](Self::regenerate), [`cycle_id`](Self::cycle_id),
/// [`destroy`](Self::destroy), [`reload`](Self::reload), [`save`](Self::save)) are async.
/// Whatever is left to do is done by the adapter when the response is ready, by the rules of
/// express-session (see `ARCHITECTURE.md`).
///
/// ```
/// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
/// let count: u64 = session.get("count")?.map_or(0, |n: u64| n + 1);
/// session.insert("count", count)?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Session {
    shared: Arc<Shared>,
}

struct Shared {
    manager: Arc<ManagerInner>,
    /// Whether this request arrived over HTTPS (decides `Secure` under [`crate::Secure::Auto`]).
    request_secure: bool,
    state: Mutex<State>,
}

/// The session's state for this request, with what express-session tracks through
/// `originalId`, `originalHash` and `savedHash`.
pub(crate) struct State {
    pub(crate) id: SessionId,
    /// The id the session had when it was loaded or generated.
    original_id: SessionId,
    /// The id of the verified cookie the request carried, if any.
    pub(crate) cookie_id: Option<SessionId>,
    data: Map<String, Value>,
    /// The data as loaded or generated, copied at the first write (copy-on-write), so a
    /// request that only reads never copies.
    baseline: Option<Map<String, Value>>,
    saved: SaveMark,
    pub(crate) original_max_age: Option<u64>,
    pub(crate) expires: Option<SystemTime>,
    /// A record under `id` exists in the store (loaded, or written during this request).
    persisted: bool,
    /// The store already moved the expiry when it loaded the record, for this lifetime
    /// (`originalMaxAge`): the end-of-request touch is then done unless the lifetime changed.
    touched_at_load: Option<Option<u64>>,
    pub(crate) lifecycle: Lifecycle,
}

/// What the store is known to hold for this session (express-session's `savedHash`).
enum SaveMark {
    /// Nothing known.
    None,
    /// The data as loaded (set on load when `resave` is off).
    Baseline,
    /// The data as written by the last save.
    Snapshot(Map<String, Value>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lifecycle {
    Live,
    /// [`Session::destroy`] ran: the record is gone and the cookie is cleared.
    Destroyed,
    /// [`Session::unset`] ran: the session is dropped at the end of the request.
    Unset,
}

impl State {
    fn data_changed(&self) -> bool {
        self.baseline
            .as_ref()
            .is_some_and(|baseline| *baseline != self.data)
    }

    /// express-session's `isModified`.
    pub(crate) fn is_modified(&self) -> bool {
        self.id != self.original_id || self.data_changed()
    }

    /// express-session's `isSaved`.
    pub(crate) fn is_saved(&self) -> bool {
        self.id == self.original_id
            && match &self.saved {
                SaveMark::None => false,
                SaveMark::Baseline => !self.data_changed(),
                SaveMark::Snapshot(snapshot) => *snapshot == self.data,
            }
    }

    pub(crate) fn has_save_mark(&self) -> bool {
        !matches!(self.saved, SaveMark::None)
    }

    pub(crate) fn is_persisted(&self) -> bool {
        self.persisted
    }

    /// Whether the touch the rules ask for at the end was already done by the load: same
    /// id, same lifetime.
    pub(crate) fn touch_done_at_load(&self) -> bool {
        self.id == self.original_id && self.touched_at_load == Some(self.original_max_age)
    }

    fn data_mut(&mut self) -> Result<&mut Map<String, Value>, SessionError> {
        if self.lifecycle != Lifecycle::Live {
            return Err(SessionError::Destroyed);
        }
        if self.baseline.is_none() {
            self.baseline = Some(self.data.clone());
        }
        Ok(&mut self.data)
    }

    /// express-session's `touch()`: the cookie expires `originalMaxAge` from now.
    pub(crate) fn touch(&mut self) {
        self.expires = self
            .original_max_age
            .map(|ms| SystemTime::now() + Duration::from_millis(ms));
    }

    /// Starts a new, empty session under a new id, keeping `original_id` and `cookie_id` so
    /// the rules see the id change.
    fn restart(&mut self, id: SessionId, default_max_age: Option<Duration>) {
        self.id = id;
        self.data = Map::new();
        self.baseline = None;
        self.saved = SaveMark::None;
        self.persisted = false;
        self.lifecycle = Lifecycle::Live;
        self.original_max_age = default_max_age.map(duration_ms);
        self.touch();
    }
}

fn duration_ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl Session {
    /// A brand-new session with a fresh id.
    pub(crate) fn generate(
        manager: Arc<ManagerInner>,
        cookie_id: Option<SessionId>,
        request_secure: bool,
    ) -> Result<Self, SessionError> {
        let id = manager.config.id_generator.generate()?;
        let mut state = State {
            original_id: id.clone(),
            id,
            cookie_id,
            data: Map::new(),
            baseline: None,
            saved: SaveMark::None,
            original_max_age: manager.config.cookie.max_age.map(duration_ms),
            expires: None,
            persisted: false,
            touched_at_load: None,
            lifecycle: Lifecycle::Live,
        };
        state.touch();
        Ok(Self::from_state(manager, request_secure, state))
    }

    /// A session loaded from the store under the id its cookie carried.
    pub(crate) fn loaded(
        manager: Arc<ManagerInner>,
        id: SessionId,
        loaded: Loaded,
        request_secure: bool,
    ) -> Self {
        let Loaded { record, touched } = loaded;
        let saved = if manager.config.resave {
            SaveMark::None
        } else {
            SaveMark::Baseline
        };
        let mut state = State {
            original_id: id.clone(),
            cookie_id: Some(id.clone()),
            id,
            data: record.data,
            baseline: None,
            saved,
            original_max_age: record.cookie.original_max_age,
            expires: record.cookie.expires,
            persisted: true,
            touched_at_load: touched.then_some(record.cookie.original_max_age),
            lifecycle: Lifecycle::Live,
        };
        // The store just vouched for the session, so a stale `expires` (a connect-redis touch
        // does not rewrite it) must not end it.
        state.touch();
        Self::from_state(manager, request_secure, state)
    }

    fn from_state(manager: Arc<ManagerInner>, request_secure: bool, state: State) -> Self {
        Self {
            shared: Arc::new(Shared {
                manager,
                request_secure,
                state: Mutex::new(state),
            }),
        }
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held cannot leave the state half-written: every update
        // is a plain field assignment. So a poisoned lock is still usable.
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn manager(&self) -> &ManagerInner {
        &self.shared.manager
    }

    pub(crate) fn request_secure(&self) -> bool {
        self.shared.request_secure
    }

    /// The session id. Defined from the start, before anything is saved; it changes only
    /// through [`regenerate`](Self::regenerate) and [`cycle_id`](Self::cycle_id).
    pub fn id(&self) -> SessionId {
        self.state().id.clone()
    }

    /// Reads a value and converts it from JSON. `Ok(None)` when the key is absent.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        let state = self.state();
        state
            .data
            .get(key)
            .map(|value| T::deserialize(value).map_err(SessionError::Value))
            .transpose()
    }

    /// Reads a raw JSON value.
    pub fn get_value(&self, key: &str) -> Option<Value> {
        self.state().data.get(key).cloned()
    }

    /// Stores a value as JSON. Writing an equal value does not count as a change.
    pub fn insert<T: Serialize>(&self, key: &str, value: T) -> Result<(), SessionError> {
        let value = serde_json::to_value(value).map_err(SessionError::Value)?;
        self.insert_value(key, value)
    }

    /// Stores a raw JSON value.
    pub fn insert_value(&self, key: &str, value: Value) -> Result<(), SessionError> {
        if RESERVED_KEYS.contains(&key) {
            return Err(SessionError::ReservedKey(key.to_owned()));
        }
        let mut state = self.state();
        if state.data.get(key) == Some(&value) {
            return if state.lifecycle == Lifecycle::Live {
                Ok(())
            } else {
                Err(SessionError::Destroyed)
            };
        }
        state.data_mut()?.insert(key.to_owned(), value);
        Ok(())
    }

    /// Removes a key and returns its value.
    pub fn remove(&self, key: &str) -> Result<Option<Value>, SessionError> {
        let mut state = self.state();
        if !state.data.contains_key(key) {
            return Ok(None);
        }
        Ok(state.data_mut()?.shift_remove(key))
    }

    /// Removes every key. The session itself (id, cookie) stays.
    pub fn clear(&self) -> Result<(), SessionError> {
        let mut state = self.state();
        if state.data.is_empty() {
            return Ok(());
        }
        state.data_mut()?.clear();
        Ok(())
    }

    /// Whether the key is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.state().data.contains_key(key)
    }

    /// The keys present.
    pub fn keys(&self) -> Vec<String> {
        self.state().data.keys().cloned().collect()
    }

    /// Whether the session holds no data.
    pub fn is_empty(&self) -> bool {
        self.state().data.is_empty()
    }

    /// Whether the session was created by this request (it did not come from a cookie).
    pub fn is_new(&self) -> bool {
        let state = self.state();
        state.cookie_id.as_ref() != Some(&state.original_id)
    }

    /// The session's lifetime (`originalMaxAge`); `None` for a browser-session cookie.
    pub fn max_age(&self) -> Option<Duration> {
        self.state().original_max_age.map(Duration::from_millis)
    }

    /// Sets this session's lifetime, for example a long one for "remember me"; `None` makes
    /// it a browser-session cookie. Like express-session's `cookie.maxAge`, this alone is not
    /// a data change: the new `Expires` is sent when the data also changes (or with `rolling`).
    pub fn set_max_age(&self, max_age: Option<Duration>) {
        let mut state = self.state();
        state.original_max_age = max_age.map(duration_ms);
        state.touch();
    }

    /// When the cookie expires; `None` for a browser-session cookie.
    pub fn expires(&self) -> Option<SystemTime> {
        self.state().expires
    }

    /// Resets the expiry to a full max age from now (done at the end of every request anyway).
    pub fn touch(&self) {
        self.state().touch();
    }

    /// Drops the session from this request, like `req.session = null`: nothing is saved and
    /// no cookie is sent; the stored record is kept or deleted per [`crate::Unset`].
    pub fn unset(&self) {
        self.state().lifecycle = Lifecycle::Unset;
    }

    /// Replaces the session with a new, empty one under a new id and deletes the old record.
    /// Call it at login, before writing the user, to prevent session fixation.
    pub async fn regenerate(&self) -> Result<(), SessionError> {
        self.delete_current_record().await?;
        let new_id = self.manager().config.id_generator.generate()?;
        let default_max_age = self.manager().config.cookie.max_age;
        self.state().restart(new_id, default_max_age);
        Ok(())
    }

    /// Moves the session to a new id, keeping its data, and deletes the old record.
    pub async fn cycle_id(&self) -> Result<(), SessionError> {
        self.delete_current_record().await?;
        let new_id = self.manager().config.id_generator.generate()?;
        let mut state = self.state();
        state.id = new_id;
        state.persisted = false;
        Ok(())
    }

    /// Deletes the session's record now and clears its cookie in this response.
    pub async fn destroy(&self) -> Result<(), SessionError> {
        self.delete_current_record().await?;
        let mut state = self.state();
        state.data.clear();
        state.baseline = None;
        state.lifecycle = Lifecycle::Destroyed;
        Ok(())
    }

    /// Re-reads the record from the store, dropping unsaved changes.
    pub async fn reload(&self) -> Result<(), SessionError> {
        let id = self.id();
        let record = self
            .manager()
            .store
            .load(&id)
            .await?
            .ok_or(SessionError::Missing)?;
        let mut state = self.state();
        if state.id != id {
            return Ok(());
        }
        state.data = record.data;
        state.baseline = None;
        state.saved = SaveMark::Baseline;
        state.persisted = true;
        state.original_max_age = record.cookie.original_max_age;
        state.touch();
        Ok(())
    }

    /// Writes the session to the store now, before the response (for example before a
    /// redirect). The end of the request then writes again only if the data changes again.
    pub async fn save(&self) -> Result<(), SessionError> {
        if self.state().lifecycle != Lifecycle::Live {
            return Err(SessionError::Destroyed);
        }
        self.persist().await
    }

    async fn delete_current_record(&self) -> Result<(), SessionError> {
        let (id, persisted) = {
            let state = self.state();
            (state.id.clone(), state.persisted)
        };
        if persisted {
            self.manager().store.delete(&id).await?;
            self.state().persisted = false;
        }
        Ok(())
    }

    /// Writes the record: `create` for a session the store does not hold yet (retrying with a
    /// fresh id on a collision), `save` otherwise, `delete` when it has already expired.
    pub(crate) async fn persist(&self) -> Result<(), SessionError> {
        let manager = self.manager();
        let store: &dyn Store = &*manager.store;
        for _ in 0..CREATE_ATTEMPTS {
            let (id, record, persisted) = {
                let state = self.state();
                (state.id.clone(), self.record(&state), state.persisted)
            };
            let now = SystemTime::now();
            let deadline = record
                .cookie
                .expires
                .unwrap_or(now + manager.config.browser_session_ttl);
            if deadline <= now {
                if persisted {
                    store.delete(&id).await?;
                }
                self.mark_saved(&id, record.data, false);
                return Ok(());
            }
            if persisted {
                store.save(&id, &record, deadline).await?;
            } else if store.create(&id, &record, deadline).await? == Created::IdTaken {
                tracing::warn!(id = %id.redacted(), "session id already taken; trying another");
                let fresh = manager.config.id_generator.generate()?;
                let mut state = self.state();
                if state.id == id {
                    state.id = fresh;
                }
                continue;
            }
            self.mark_saved(&id, record.data, true);
            return Ok(());
        }
        Err(SessionError::IdCollision(CREATE_ATTEMPTS))
    }

    fn mark_saved(&self, id: &SessionId, data: Map<String, Value>, persisted: bool) {
        let mut state = self.state();
        if state.id == *id {
            state.saved = SaveMark::Snapshot(data);
            state.persisted = persisted;
        }
    }

    /// The record as it should be stored now: the data and Node's `cookie` object.
    fn record(&self, state: &State) -> Record {
        let policy = &self.manager().config.cookie;
        let secure = match policy.secure {
            crate::Secure::Always => Some(true),
            crate::Secure::Never => None,
            crate::Secure::Auto => Some(self.request_secure()),
        };
        let mut record = Record::new(state.data.clone());
        record.cookie = CookieData {
            original_max_age: state.original_max_age,
            expires: state.expires,
            secure,
            http_only: policy.http_only,
            domain: policy.domain.clone(),
            path: policy.path.clone(),
            same_site: policy.same_site,
            priority: policy.priority,
            partitioned: policy.partitioned,
        };
        record
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state();
        f.debug_struct("Session")
            .field("id", &state.id)
            .field("keys", &state.data.len())
            .field("lifecycle", &state.lifecycle)
            .finish()
    }
}
