//! [`Session`]: the handle a request handler reads and writes.

use std::{
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, SystemTime},
};

use serde::{de::DeserializeOwned, Serialize};
use serde_json::{Map, Value};

use crate::{
    deadline, manager::ManagerInner, record::RESERVED_KEYS, Loaded, SessionError, SessionId,
    CREATED_AT_KEY,
};

mod carry;
mod state;
mod waiting;
mod write;

pub(crate) use waiting::Waiting;

pub(crate) use state::{Lifecycle, State};
pub(crate) use write::Persisted;

use state::SaveMark;

/// One request's session: a cheap, `Send + Sync + Clone` handle (clones share the same state),
/// so it can be moved into spawned tasks.
///
/// Reads and writes are synchronous; the methods that reach the store
/// ([`regenerate`](Self::regenerate), [`cycle_id`](Self::cycle_id),
/// [`destroy`](Self::destroy), [`reload`](Self::reload), [`save`](Self::save),
/// [`log_out_everywhere`](Self::log_out_everywhere)) are async.
/// Whatever is left to do is done by the adapter when the response is ready, by the rules of
/// express-session (see `ARCHITECTURE.md`).
///
/// Every write is conditional on the record this request loaded: a session that another
/// request destroyed, regenerated or revoked meanwhile is never written back, and changes
/// another request made meanwhile are merged with this one's, key by key.
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

fn duration_ms(duration: Duration) -> u64 {
    deadline::lifetime_ms(duration)
}

impl Session {
    /// A brand-new session with a fresh id.
    pub(crate) fn generate(
        manager: Arc<ManagerInner>,
        cookie_id: Option<SessionId>,
        request_secure: bool,
    ) -> Result<Self, SessionError> {
        let id = manager.config.id_generator.generate()?;
        let (created_at, ends_at) = manager.new_session_times();
        let max_age = manager.config.cookie.max_age.map(duration_ms);
        let mut state = State::new(id, cookie_id, Map::new(), max_age, (created_at, ends_at));
        state.touch();
        Ok(Self::from_state(manager, request_secure, state))
    }

    /// Cookie mode: the session its cookie carried. The cookie's id (a new one when the
    /// format keeps none), its lifetime (the configured one when the format keeps none), its
    /// creation time (now, when an absolute timeout is configured and it has none).
    pub(crate) fn from_cookie(
        manager: Arc<ManagerInner>,
        opened: crate::cookie_mode::Opened,
        request_secure: bool,
    ) -> Result<Self, SessionError> {
        let id = match opened.id {
            Some(id) => id,
            None => manager.config.id_generator.generate()?,
        };
        let absolute = manager.config.integrity.absolute_timeout;
        let stamped = absolute.is_some() && opened.created_at.is_none();
        let created_at = match opened.created_at {
            Some(created_at) => Some(created_at),
            None => absolute.map(|_| SystemTime::now()),
        };
        let max_age = opened
            .max_age
            .unwrap_or_else(|| manager.config.cookie.max_age.map(duration_ms));
        let ends_at = deadline::absolute_end(created_at, absolute);
        let mut state = State {
            saved: SaveMark::Baseline,
            stamped,
            old_key: opened.old_key,
            ..State::new(
                id.clone(),
                Some(id),
                opened.data,
                max_age,
                (created_at, ends_at),
            )
        };
        state.touch();
        Ok(Self::from_state(manager, request_secure, state))
    }

    /// A session loaded from the store under the id its cookie carried, which is not past its
    /// absolute end. A record without a creation time gets one now, when an absolute timeout
    /// is configured.
    pub(crate) fn loaded(
        manager: Arc<ManagerInner>,
        id: SessionId,
        loaded: Loaded,
        request_secure: bool,
    ) -> Self {
        let Loaded {
            record,
            version,
            touched,
            handle,
        } = loaded;
        let now = SystemTime::now();
        let absolute = manager.config.integrity.absolute_timeout;
        let stamped = absolute.is_some() && record.created_at.is_none();
        let created_at = if stamped {
            Some(now)
        } else {
            record.created_at
        };
        let ends_at = deadline::absolute_end(created_at, absolute);
        // A touch made at load counts only if it kept the session's end and its listing under
        // its user (a store touch with the owner) right.
        let touch_counts = touched
            && manager.owner_of(&record.data).is_none()
            && manager
                .lifetimes()
                .of(&record)
                .is_some_and(|lifetime| ends_at.is_none_or(|end| end >= now + lifetime));
        let saved = if manager.config.resave {
            SaveMark::None
        } else {
            SaveMark::Baseline
        };
        let max_age = record.cookie.original_max_age;
        let mut state = State {
            saved,
            expires: record.cookie.expires,
            stamped,
            version: Some(version),
            handle,
            touched_at_load: touch_counts.then_some(max_age),
            ..State::new(
                id.clone(),
                Some(id),
                record.data,
                max_age,
                (created_at, ends_at),
            )
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
    ///
    /// ```
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// let before = session.id(); // defined at once, before any save
    /// session.regenerate().await?;
    /// assert_ne!(session.id(), before);
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub fn id(&self) -> SessionId {
        self.state().id.clone()
    }

    /// Reads a value and converts it from JSON. `Ok(None)` when the key is absent.
    ///
    /// ```
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// assert_eq!(session.get::<u64>("count")?, None);
    /// session.insert("count", 3)?;
    /// assert_eq!(session.get::<u64>("count")?, Some(3));
    /// assert!(session.get::<String>("count").is_err(), "not a string");
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        let state = self.state();
        state
            .data
            .get(key)
            .map(|value| T::deserialize(value).map_err(SessionError::Value))
            .transpose()
    }

    /// Reads a raw JSON value.
    ///
    /// ```
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// session.insert("passport", serde_json::json!({"user": 7}))?;
    /// assert_eq!(session.get_value("passport").unwrap()["user"], 7);
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub fn get_value(&self, key: &str) -> Option<Value> {
        self.state().data.get(key).cloned()
    }

    /// Stores a value as JSON. Writing an equal value does not count as a change.
    ///
    /// ```
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    /// struct Cart { items: Vec<u32> }
    /// session.insert("cart", Cart { items: vec![7] })?;
    /// assert_eq!(session.get::<Cart>("cart")?, Some(Cart { items: vec![7] }));
    /// assert!(session.insert("cookie", 1).is_err(), "a reserved key");
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub fn insert<T: Serialize>(&self, key: &str, value: T) -> Result<(), SessionError> {
        let value = serde_json::to_value(value).map_err(SessionError::Value)?;
        self.insert_value(key, value)
    }

    /// Stores a raw JSON value.
    ///
    /// ```
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// session.insert_value("flash", serde_json::json!(["Saved!"]))?;
    /// assert_eq!(session.get::<Vec<String>>("flash")?, Some(vec!["Saved!".to_owned()]));
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub fn insert_value(&self, key: &str, value: Value) -> Result<(), SessionError> {
        if RESERVED_KEYS.contains(&key) || key == CREATED_AT_KEY {
            return Err(SessionError::ReservedKey(key.to_owned()));
        }
        let mut state = self.state();
        if state.data.get(key) == Some(&value) {
            return state.writable();
        }
        let data = state.data_mut()?;
        // A key already there keeps its `String` (and its place, as `insert` would).
        match data.get_mut(key) {
            Some(slot) => *slot = value,
            None => {
                data.insert(key.to_owned(), value);
            }
        }
        Ok(())
    }

    /// Removes a key and returns its value converted from JSON (`Ok(None)` when the key was
    /// absent). A value that does not convert is still removed, and the error says so.
    ///
    /// ```
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// session.insert("flash", "Saved!")?;
    /// let flash: Option<String> = session.remove("flash")?; // read once, then gone
    /// assert_eq!(flash.as_deref(), Some("Saved!"));
    /// assert_eq!(session.remove::<String>("flash")?, None);
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub fn remove<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        self.remove_value(key)?
            .map(|value| T::deserialize(value).map_err(SessionError::Value))
            .transpose()
    }

    /// Removes a key and returns its raw JSON value.
    ///
    /// ```
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// session.insert("n", 1)?;
    /// assert_eq!(session.remove_value("n")?, Some(serde_json::json!(1)));
    /// assert_eq!(session.remove_value("n")?, None);
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub fn remove_value(&self, key: &str) -> Result<Option<Value>, SessionError> {
        let mut state = self.state();
        if !state.data.contains_key(key) {
            return Ok(None);
        }
        Ok(state.data_mut()?.shift_remove(key))
    }

    /// Removes every key. The session itself (id, cookie) stays.
    ///
    /// ```
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// session.insert("a", 1)?;
    /// session.clear()?;
    /// assert!(session.is_empty());
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub fn clear(&self) -> Result<(), SessionError> {
        let mut state = self.state();
        if state.data.is_empty() {
            return Ok(());
        }
        state.data_mut()?.clear();
        Ok(())
    }

    /// Whether the key is present.
    ///
    /// ```
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// assert!(!session.contains_key("user"));
    /// session.insert("user", "ann")?;
    /// assert!(session.contains_key("user"));
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub fn contains_key(&self, key: &str) -> bool {
        self.state().data.contains_key(key)
    }

    /// The keys present, in the session's order.
    ///
    /// ```
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// session.insert("a", 1)?;
    /// session.insert("b", 2)?;
    /// assert_eq!(session.keys(), ["a", "b"]);
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub fn keys(&self) -> Vec<String> {
        self.state().data.keys().cloned().collect()
    }

    /// Every key and its raw JSON value, in the session's order (a copy: later writes do not
    /// change it).
    ///
    /// ```
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// session.insert("user", "ann")?;
    /// let entries = session.entries();
    /// assert_eq!(entries, [("user".to_owned(), serde_json::json!("ann"))]);
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub fn entries(&self) -> Vec<(String, Value)> {
        let state = self.state();
        state
            .data
            .iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect()
    }

    /// Where the session stands in this request: new, unchanged, changed, regenerated (a new
    /// id), or ended by this request (destroyed, unset) or by another one.
    ///
    /// ```
    /// use session_core::Status;
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// assert_eq!(session.status(), Status::New);
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub fn status(&self) -> Status {
        let state = self.state();
        match state.lifecycle {
            Lifecycle::Destroyed => Status::Destroyed,
            Lifecycle::Unset => Status::Unset,
            Lifecycle::Ended => Status::Ended,
            Lifecycle::Live if state.cookie_id.as_ref() != Some(&state.original_id) => Status::New,
            Lifecycle::Live if state.id != state.original_id => Status::Regenerated,
            Lifecycle::Live if state.is_modified() => Status::Changed,
            Lifecycle::Live => Status::Unchanged,
        }
    }

    /// Whether the session holds no data.
    ///
    /// ```
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// assert!(session.is_empty());
    /// session.insert("n", 0)?;
    /// assert!(!session.is_empty());
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub fn is_empty(&self) -> bool {
        self.state().data.is_empty()
    }

    /// Whether the session was created by this request (it did not come from a cookie).
    ///
    /// ```
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// assert!(session.is_new(), "the example's request carried no cookie");
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub fn is_new(&self) -> bool {
        let state = self.state();
        state.cookie_id.as_ref() != Some(&state.original_id)
    }

    /// The session's lifetime (`originalMaxAge`); `None` for a browser-session cookie.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// assert_eq!(session.max_age(), Some(Duration::from_secs(3600)), "the configured one");
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub fn max_age(&self) -> Option<Duration> {
        self.state().original_max_age.map(Duration::from_millis)
    }

    /// Sets this session's lifetime, for example a long one for "remember me"; `None` makes
    /// it a browser-session cookie. Like express-session's `cookie.maxAge`, this alone is not
    /// a data change: the new `Expires` is sent when the data also changes (or with `rolling`).
    /// An absolute timeout still ends the session on time. A lifetime over 100 years counts as
    /// 100 years; zero ends the session at the end of this request.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// let month = Duration::from_secs(30 * 24 * 3600);
    /// session.set_max_age(Some(month)); // "remember me"
    /// session.insert("remember", true)?; // a data change, so the new Expires is sent
    /// assert_eq!(session.max_age(), Some(month));
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub fn set_max_age(&self, max_age: Option<Duration>) {
        let mut state = self.state();
        state.original_max_age = max_age.map(duration_ms);
        state.touch();
    }

    /// When the cookie expires; `None` for a browser-session cookie.
    ///
    /// ```
    /// # use std::time::{Duration, SystemTime};
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// let expires = session.expires().expect("a max age is configured");
    /// assert!(expires <= SystemTime::now() + Duration::from_secs(3600));
    /// session.set_max_age(None);
    /// assert_eq!(session.expires(), None, "a browser-session cookie");
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub fn expires(&self) -> Option<SystemTime> {
        self.state().expires
    }

    /// When the session is over however active it is (its creation plus the configured
    /// absolute timeout); `None` without an absolute timeout.
    ///
    /// ```
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// assert_eq!(session.ends_at(), None, "no absolute timeout configured");
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub fn ends_at(&self) -> Option<SystemTime> {
        self.state().ends_at
    }

    /// Resets the expiry to a full max age from now (done at the end of every request anyway).
    ///
    /// ```
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// let before = session.expires();
    /// session.touch();
    /// assert!(session.expires() >= before);
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub fn touch(&self) {
        self.state().touch();
    }

    /// Drops the session from this request, like `req.session = null`: nothing is saved and
    /// no cookie is sent; the stored record is kept or deleted per [`crate::Unset`].
    ///
    /// ```
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// session.unset();
    /// assert_eq!(session.status(), session_core::Status::Unset);
    /// assert!(session.insert("n", 1).is_err());
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub fn unset(&self) {
        self.state().lifecycle = Lifecycle::Unset;
    }

    /// Replaces the session with a new, empty one under a new id and deletes the old record.
    /// Call it at login, before writing the user, to prevent session fixation. A request of
    /// the old session still in flight can no longer write it back.
    ///
    /// ```
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// session.insert("cart", 3)?;
    /// session.regenerate().await?; // at login
    /// session.insert("user", "ann")?;
    /// assert_eq!(session.get::<u32>("cart")?, None, "a new, empty session");
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub async fn regenerate(&self) -> Result<(), SessionError> {
        self.delete_current_record().await?;
        let manager = self.manager();
        let new_id = manager.config.id_generator.generate()?;
        let default_max_age = manager.config.cookie.max_age.map(duration_ms);
        let (created_at, ends_at) = manager.new_session_times();
        self.state()
            .restart(new_id, default_max_age, created_at, ends_at);
        Ok(())
    }

    /// Moves the session to a new id, keeping its data (and its creation time), and deletes
    /// the old record.
    ///
    /// ```
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// session.insert("cart", 3)?;
    /// let before = session.id();
    /// session.cycle_id().await?; // e.g. after a privilege change
    /// assert_ne!(session.id(), before);
    /// assert_eq!(session.get::<u32>("cart")?, Some(3), "the data stays");
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub async fn cycle_id(&self) -> Result<(), SessionError> {
        self.delete_current_record().await?;
        let new_id = self.manager().config.id_generator.generate()?;
        let mut state = self.state();
        state.id = new_id;
        state.version = None;
        state.handle = None;
        Ok(())
    }

    /// Deletes the session's record now and clears its cookie in this response.
    ///
    /// ```
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// session.insert("user", "ann")?;
    /// session.destroy().await?; // at logout
    /// assert!(session.is_empty());
    /// assert_eq!(session.status(), session_core::Status::Destroyed);
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub async fn destroy(&self) -> Result<(), SessionError> {
        self.delete_current_record().await?;
        crate::telemetry::destroyed("logout", 1);
        let mut state = self.state();
        state.data.clear();
        state.baseline = None;
        state.lifecycle = Lifecycle::Destroyed;
        Ok(())
    }

    /// Re-reads the record from the store, dropping unsaved changes. In cookie mode, goes
    /// back to what the request's cookie held.
    ///
    /// ```
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// session.insert("count", 1)?;
    /// session.save().await?;
    /// session.insert("count", 2)?;
    /// session.reload().await?; // drops the unsaved change
    /// assert_eq!(session.get::<u32>("count")?, Some(1));
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub async fn reload(&self) -> Result<(), SessionError> {
        if self.manager().cookie.is_some() {
            let mut state = self.state();
            if let Some(loaded) = state.baseline.take() {
                state.data = loaded;
            }
            return Ok(());
        }
        let id = self.id();
        let loaded = self
            .manager()
            .observed()
            .load(&id)
            .await?
            .ok_or(SessionError::Missing)?;
        let absolute = self.manager().config.integrity.absolute_timeout;
        let mut state = self.state();
        if state.id != id {
            return Ok(());
        }
        let record = loaded.record;
        state.data = record.data;
        state.baseline = None;
        state.saved = SaveMark::Baseline;
        state.version = Some(loaded.version);
        state.handle = loaded.handle;
        state.original_max_age = record.cookie.original_max_age;
        state.stored_max_age = record.cookie.original_max_age;
        if record.created_at.is_some() {
            state.created_at = record.created_at;
            state.ends_at = deadline::absolute_end(state.created_at, absolute);
            state.stamped = false;
        }
        state.touch();
        Ok(())
    }

    /// Writes the session to the store now, before the response (for example before a
    /// redirect). The end of the request then writes again only if the data changes again.
    ///
    /// Fails with [`SessionError::Ended`] when another request ended the session meanwhile
    /// (nothing is written), and with [`SessionError::Conflict`] when another request changed
    /// a key this one changed too and [`ConflictPolicy::Reject`](crate::ConflictPolicy::Reject)
    /// is configured. In cookie mode there is nothing to write before the response: the
    /// session goes out in its cookie.
    ///
    /// ```
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// session.insert("user", "ann")?;
    /// session.save().await?; // before a redirect, say
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub async fn save(&self) -> Result<(), SessionError> {
        self.state().writable()?;
        if self.manager().cookie.is_some() {
            return Ok(());
        }
        match self.persist().await? {
            Persisted::Written => Ok(()),
            Persisted::Ended => Err(SessionError::Ended),
        }
    }

    /// Ends every session of this session's user, this one included ("log out everywhere"):
    /// each is deleted from the store, so no request in flight can write it back, and this
    /// response clears the cookie. Returns how many sessions ended. The user is found with
    /// the configured [`user_key`](crate::SessionConfigBuilder::user_key); a session without
    /// a user only ends itself.
    ///
    /// ```
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// session.insert("user", "ann")?; // the configured user key is "user"
    /// assert_eq!(session.log_out_everywhere().await?, 1, "only this session of ann's");
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub async fn log_out_everywhere(&self) -> Result<usize, SessionError> {
        let others = self.revoke_others().await?;
        self.destroy().await?;
        Ok(others + 1)
    }

    /// Ends every other session of this session's user and keeps this one (after a password
    /// change). Returns how many sessions ended.
    ///
    /// ```
    /// # async fn handler(session: session_core::Session) -> Result<(), session_core::SessionError> {
    /// session.insert("user", "ann")?;
    /// assert_eq!(session.log_out_other_sessions().await?, 0, "ann has no other session");
    /// assert!(!session.is_empty(), "this one stays");
    /// # Ok(()) }
    /// # session_core::doc_session(handler);
    /// ```
    pub async fn log_out_other_sessions(&self) -> Result<usize, SessionError> {
        self.revoke_others().await
    }

    async fn revoke_others(&self) -> Result<usize, SessionError> {
        let manager = self.manager();
        if manager.config.integrity.user_key.is_none() {
            return Err(SessionError::NoUserKey);
        }
        let (user, id) = {
            let state = self.state();
            (manager.owner_of(&state.data), state.id.clone())
        };
        match user {
            Some(user) => manager.revoke(&user, Some(&id)).await,
            None => Ok(0),
        }
    }

    async fn delete_current_record(&self) -> Result<(), SessionError> {
        let (id, persisted) = {
            let state = self.state();
            (state.id.clone(), state.is_persisted())
        };
        if persisted {
            self.manager().observed().delete(&id).await?;
            let mut state = self.state();
            state.version = None;
            state.handle = None;
        }
        Ok(())
    }
}

/// Where a session stands in its request ([`Session::status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// Created by this request: the request carried no cookie for a live session.
    New,
    /// Loaded, and not changed so far.
    Unchanged,
    /// Loaded, and its data changed.
    Changed,
    /// Loaded, then moved to a new id ([`Session::regenerate`], [`Session::cycle_id`]).
    Regenerated,
    /// [`Session::destroy`] ran.
    Destroyed,
    /// [`Session::unset`] ran.
    Unset,
    /// Another request ended it (a logout, a login, a revoke) while this one ran.
    Ended,
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
